// Benchmarks behind `ektp bio bench` and `ektp bio scale` (figures go to
// docs/biometrics.md with the command that produced them). They print
// measurements; nothing here asserts a speed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "bio/abis.h"
#include "core/process_stats.h"
#include "core/status.h"

namespace ektp::bio {

struct BenchOptions {
  std::string fvc_dir;            // folder with DBn_B subfolders of templates
  double seconds = 2.0;           // per throughput measurement
  std::vector<size_t> gallery_sizes = {1000, 10000, 100000};
  int threads = 0;                // 0 = hardware concurrency
  uint64_t seed = 1;
};

// Throughput of full 1:1 scoring (single thread and all threads) over the FVC
// templates, 1:N latency over synthetic galleries of each size (no
// pre-filter, then with it), peak memory.
StatusOr<nlohmann::json> RunBench(const BenchOptions& options);

struct ScaleOptions {
  size_t subjects = 10000;
  uint64_t seed = 1;
  size_t searches = 200;          // mated searches (a second impression of an enrolled subject)
  size_t non_mated = 1000;        // searches by never-enrolled subjects; >= 1000 to resolve FPIR 0.1 %
  std::string cache;              // gallery cache file ("" = none)
  int threads = 0;
  double prefilter_keep = 0.02;   // 1 = no pre-filter
  // Called after each gallery batch and each search with what is being done
  // ("gallery", "searches"), how much of it is done and its total. Default: none.
  std::function<void(std::string_view what, uint64_t done, uint64_t total)> progress;
};

// 1:N de-duplication on a synthetic gallery of `subjects` subjects with two
// fingers (right and left index), each searched with two fingers: latency,
// FNIR at FPIR 0.1 %, pre-filter penetration and lost hits, CPU seconds per
// search (all threads), memory; "cohort_fit_seconds" is the time to score
// every finger against the cohort after the gallery is in (InMemoryAbis::
// FitPendingCohortEvidence, all threads), so loading takes that plus
// "gallery_load_seconds".
StatusOr<nlohmann::json> RunScale(const ScaleOptions& options);

// The scale benchmark's gallery: subjects 0..subjects-1 of
// SynthGenerator(seed, SynthParams::Calibrated()), impression 1 of fingers 2
// and 7, ids "S<i>", passed to `sink` with their index, in order. Read from
// `options.cache` when it holds this gallery, else generated with
// `options.threads` threads and written there ("" = no cache). Peak memory
// is the sink's plus one batch of 8,192 subjects. Sets info's
// "gallery_source" ("cache" or "generated") and "gallery_load_seconds" or
// "gallery_generate_seconds". kDataLoss naming the subject for a truncated
// or undecodable cache.
Status ForEachScaleSubject(const ScaleOptions& options, const std::function<Status(size_t index, SubjectRecord)>& sink,
                           nlohmann::json& info);

// Hardware threads and the 1-minute load average (how shared the machine was).
nlohmann::json MachineJson();


}  // namespace ektp::bio
