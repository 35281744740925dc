// Matcher shards: `ektp central matcher --shard k/n` processes that each hold
// 1/n of the gallery (the subjects whose NIK hashes to k) and search every
// record waiting for de-duplication against their part. They are coordinated
// only through the database: each writes its ranked candidates to
// shard_searches with the gallery log position it had searched; the dedupe
// stage (stages.h) claims a record once all n shards have answered and
// merges their lists, comparing the probe directly with what the log gained
// since. A shard searches only the records next in line, and again those
// whose search has fallen more than `refresh_after` log entries behind, so
// that during a backlog's drain each decision compares a bounded number of
// entries, not everything decided since the backlog arrived.
//
// The merge sees exactly what one engine holding the whole gallery would:
// subjects put in the log after a shard's position are compared with the
// probe directly (the decisions that happened meanwhile), and the fused
// scores are the same function of the same templates. So with the
// pre-filter passing everything (galleries up to
// IdentifyOptions::min_prefilter_subjects per shard) the decisions are
// identical to a single engine's; above that each shard's pre-filter keeps
// its own top share, which differs from the global top share
// (docs/pipeline.md).
//
// Thread-safety: a ShardMatcher is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bio/abis.h"
#include "core/clock.h"
#include "pipeline/gallery.h"
#include "store/db.h"

namespace ektp::pipeline {

struct ShardSpec {
  int index = 1;  // 1..count
  int count = 1;
};

// "2/3" -> {2, 3}. kInvalidArgument names what is wrong.
StatusOr<ShardSpec> ParseShardSpec(std::string_view text);

// The shard (1..count) that holds `subject_id`: a stable hash, the same on
// every machine and run.
int ShardOf(std::string_view subject_id, int count);

class ShardMatcher {
 public:
  // `clock` and `biometrics_key` (central's, biometrics_at_rest.h) must outlive the matcher.
  ShardMatcher(const Clock& clock, const crypto::DataKey& biometrics_key, ShardSpec shard,
               bio::IdentifyOptions options, int64_t refresh_after = kDefaultRefreshAfter);

  // A stored search more than this many gallery log entries old is searched
  // again once its record is among the next to be decided.
  static constexpr int64_t kDefaultRefreshAfter = 64;

  // Brings this shard's part of the gallery up to date, then searches the
  // records among the first `limit` waiting for de-duplication (oldest job
  // first, as the dedupe stage takes them) that it has not searched yet or
  // whose stored search is more than `refresh_after` entries behind the log,
  // and stores the results (replacing older ones). Returns how many it
  // searched. Records further back wait for their turn: searching a whole
  // backlog early, then again as decisions pile up, would be quadratic.
  StatusOr<int> RunOnce(store::Connection& db, int limit);

  size_t subjects() { return gallery_.engine().Count(); }

 private:
  const Clock& clock_;
  const crypto::DataKey& biometrics_key_;
  ShardSpec shard_;
  bio::IdentifyOptions options_;
  int64_t refresh_after_;
  GalleryMirror gallery_;
};

struct GallerySearch {
  std::vector<bio::Candidate> candidates;  // best first, at most options.max_candidates
  size_t gallery_subjects = 0;             // subjects in the whole gallery now
};

// A search of part of the gallery as it stood at log position `position`.
struct PartialSearch {
  int64_t position = 0;
  std::vector<bio::Candidate> candidates;
  size_t gallery_subjects = 0;  // subjects the searching engine held
};

// Gallery log entries decrypted and decoded, kept for the merges that follow:
// consecutive decisions compare their records with mostly the same recent
// entries. Holds the `capacity` most recent entries asked for.
// Thread-safety: used by one thread at a time.
class DecodedLog {
 public:
  explicit DecodedLog(size_t capacity = 1024) : capacity_(capacity) {}

  // The subject that log entry `seq` put under `id` (`bytes`, encrypted with
  // `key`), decoded the first time it is asked for.
  StatusOr<const bio::SubjectRecord*> Get(const crypto::DataKey& key, int64_t seq, const std::string& id,
                                          const store::Blob& bytes);

 private:
  size_t capacity_;
  std::map<int64_t, bio::SubjectRecord> by_seq_;
};

// Completes searches made at known log positions (shard -> search, shards
// 1..shard_count) with the subjects put in the log after their shard
// searched, compared with `probe` directly. Reads the log once, in one query:
// the entries after the oldest position, and the earlier entries of the
// subjects they put (for the gallery's size). `decoded`, if given, keeps the
// decoded entries for later calls.
StatusOr<GallerySearch> CompleteSearch(store::Connection& db, const crypto::DataKey& biometrics_key,
                                       const bio::SubjectRecord& probe,
                                       const std::map<int, PartialSearch>& parts, int shard_count,
                                       const bio::IdentifyOptions& options, DecodedLog* decoded = nullptr);

// The merged search of `record_id`'s `probe` from `shard_count` shards
// (CompleteSearch of their stored answers). kUnavailable if a shard has not
// answered yet.
StatusOr<GallerySearch> MergeShardSearches(store::Connection& db, const crypto::DataKey& biometrics_key,
                                           int64_t record_id, const bio::SubjectRecord& probe,
                                           int shard_count, const bio::IdentifyOptions& options,
                                           DecodedLog* decoded = nullptr);

// The claim condition (work_queue.h) that holds a dedupe job back until all
// `shard_count` shards have searched its record.
std::string ShardsAnsweredCondition(int shard_count);

}  // namespace ektp::pipeline
