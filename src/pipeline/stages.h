// The stage handlers of central's pipeline (docs/pipeline.md):
//
//   validated --demographics--> dedupe_pending --dedupe--> unique -> print_ready
//           \-> failed_validation             \-> duplicate_suspect -> adjudication
//
// Demographics: a first card carries no NIK yet; every other kind must name
// an existing NIK (one whose card is or is being issued) with no other
// application for it in progress; a move-in must change the kecamatan and a
// data change must change some field.
//
// Dedupe: the record's fingers are searched against the national gallery
// (GalleryMirror, through bio::Abis, or matcher shards: shards.h). A candidate whose fused score is too
// unlikely for an impostor (DedupeOptions) is a suspected duplicate; a
// replacement must match its own previous record and no one else. A unique
// record gets its NIK (a new one for a first card, race-free; its previous
// one otherwise), joins the gallery and becomes print_ready. Suspects go to
// adjudication with their per-finger scores.
//
// Every transition is an audited record event, and a signed `record_status`
// item goes down the originating station's feed.
//
// Handlers are idempotent: a record no longer in the stage's state is left
// alone. REQUIRES: each runs inside the caller's transaction, so its changes
// and the job's completion commit together. Dedupe decisions are serialised
// across threads and processes by a row lock (pipeline_locks 'dedupe') taken
// first; the search itself may run before, in parallel with other searches
// and decisions (SearchOwnGallery, or matcher shards), and is completed under
// the lock with what the gallery log gained since the position it searched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bio/abis.h"
#include "bio/fusion.h"
#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/region.h"
#include "crypto/crypto.h"
#include "pipeline/gallery.h"
#include "pipeline/shards.h"
#include "pipeline/work_queue.h"
#include "store/db.h"
#include "store/record_repository.h"

namespace ektp::pipeline {

struct DedupeOptions {
  // A candidate is a suspect when the chance that any impostor in the whole
  // gallery scores at least as high is at most this (the false positive
  // identification rate the pipeline aims for).
  double max_false_positives_per_search = 0.001;
  // Central fully matches the best 20 % of the gallery after the pre-filter:
  // the lowest share at which no two-finger FVC2002 mate was lost, in-sample
  // or out of fold (10 %: 3 and 1 of 140), at about twice 10 %'s CPU
  // (docs/biometrics.md, "Pre-filter", has the figures and the arithmetic).
  bio::IdentifyOptions identify{.prefilter_keep = 0.2};
  // 0: search this process's own copy of the gallery. n > 0: the gallery is
  // split over n matcher shard processes (shards.h) and the stage merges
  // their answers.
  int matcher_shards = 0;
};

// The lowest fused score (to 0.01) of `fingers` fingers that the dedupe stage
// calls a hit in a gallery of `gallery` subjects: bio::ConservativeThreshold,
// 1 - (1 - p)^gallery <= max_false_positives_per_search for p the finger
// count's bio::ConservativeImpostorProbability (per comparison, about target / N).
float DedupeThreshold(double max_false_positives_per_search, double gallery, int fingers);

struct StageContext {
  const Clock& clock;
  const RegionRegistry& regions;
  const crypto::SigningKey& signing;  // signs the feed items to stations
  const crypto::DataKey& biometrics_key;  // stored biometrics (biometrics_at_rest.h)
  WorkQueue& queue;
  GalleryMirror& gallery;
  DedupeOptions dedupe;
  // Gallery log entries the dedupe stage has decoded (shards.h); nullptr: none
  // kept. Used by one thread at a time.
  DecodedLog* decoded_log = nullptr;
};

Status RunDemographics(store::Connection& db, const StageContext& context, int64_t record_id);

// Searches this process's copy of the gallery for the record's fingers. Runs
// outside any transaction, before RunDedupe: a search of a large gallery
// takes long, and on SQLite a write transaction would hold every other
// writer (ingest) back meanwhile. Any number of threads may search at once
// (GalleryMirror::SearchAtPosition); the result names the log position it
// saw, which is at most kMaxSearchLag rows behind the log as it stood when
// the search began (the mirror does not wait for other threads' searches to
// apply fewer), and RunDedupe compares the probe with the rows after it.
inline constexpr int64_t kMaxSearchLag = 64;
struct OwnSearch {
  bio::SubjectRecord probe;  // the record's fingers
  PartialSearch search;
};
StatusOr<OwnSearch> SearchOwnGallery(store::Connection& db, const StageContext& context, int64_t record_id);

// `searched`: SearchOwnGallery's result for this record (in-process gallery
// only); the decision completes it with what the gallery log gained since.
// Without it the search runs here.
Status RunDedupe(store::Connection& db, const StageContext& context, int64_t record_id,
                 const OwnSearch* searched = nullptr);

// The fingers of a record's stored biometrics (decrypted with `key`) as a
// gallery subject with id `subject_id`. Fingers with an exception are left out.
StatusOr<bio::SubjectRecord> LoadSubject(store::Connection& db, const crypto::DataKey& key, int64_t record_id,
                                         std::string subject_id);

// Moves `record` (in `from`: dedupe_pending or adjudication) to unique, gives
// it its card's NIK (`holder_nik`, or a new one if empty), puts its fingers in
// the gallery under that NIK, makes it print_ready and queues it for printing
// in its regency (printing/print_queue.h). Returns the NIK.
StatusOr<std::string> AcceptRecord(store::Connection& db, const StageContext& context, const store::Record& record,
                                   RecordState from, std::string holder_nik, std::string_view actor,
                                   std::string_view note);

// Queues a signed `record_status` item for the record's station (nothing
// for a record without one).
Status NotifyStation(store::Connection& db, const StageContext& context, int64_t record_id);

}  // namespace ektp::pipeline
