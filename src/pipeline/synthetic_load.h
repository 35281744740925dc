// Synthetic load for central's pipeline benchmarks (pipeline_benchmark,
// benchmarks/storm_benchmark): a national gallery of bio's scale benchmark
// subjects and a backlog of validated first-card records, some of them
// planted duplicates. Not used by central itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/abis.h"
#include "bio/synth.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "enrollment/enrollment.h"
#include "store/db.h"

namespace ektp::pipeline::synthetic {

inline constexpr int kFingers[2] = {2, 7};  // right and left index, as bio's scale benchmark

// Gallery subject i as a NIK-shaped id: province 99 (none has it), a
// kecamatan, a birth date DDMMYY and a sequence; distinct for every i below
// 3 * 10^11. It never equals a NIK the pipeline assigns (those carry a real
// kecamatan code).
std::string GalleryNik(size_t i);

// Calls `sink` with subjects 0..n-1 of bio's scale gallery for `seed`, ids
// GalleryNik (bio::ForEachScaleSubject, with the cache
// CACHE_DIR/pipeline-gallery-N-seedS.bin). Sets info's "cache" and what
// ForEachScaleSubject sets.
Status ForEachGallerySubject(const std::string& cache_dir, size_t n, uint64_t seed,
                             const std::function<Status(bio::SubjectRecord)>& sink, nlohmann::json& info);

// Two fingers of impression `impression` of synthetic subject `subject`, as
// a station sends them (ISO 19794-2 templates), with small stand-in images.
StatusOr<enrollment::Biometrics> Fingers(const bio::SynthGenerator& synth, uint64_t subject, int impression);

struct BacklogOptions {
  int records = 1000;
  double duplicates = 0.02;  // share of planted duplicates
  uint64_t seed = 1;
  size_t gallery = 0;  // subjects of the gallery the planted duplicates copy (0: none)
  int first_registration = 1;  // registration numbers ST-352101-01-B<first>...
};

struct Backlog {
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> planted;
};

// `records` first-card applications of synthetic residents of Ngawi (35.21)
// as central's ingest leaves them (validated, biometrics encrypted with
// `biometrics_key`, queued for demographics), committed 100 at a time. The
// planted duplicates are spread evenly: impression 2 of gallery subjects
// spread over the gallery, or with no gallery each a copy of the record
// before it, so the two arrive together. The others are subjects from 2^40
// up, never in a gallery.
StatusOr<Backlog> CreateBacklog(store::Connection& db, const Clock& clock, Random& random,
                                const crypto::DataKey& biometrics_key, const BacklogOptions& options);

}  // namespace ektp::pipeline::synthetic
