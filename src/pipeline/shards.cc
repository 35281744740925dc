#include "pipeline/shards.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>

#include <nlohmann/json.hpp>

#include "bio/matcher.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/stages.h"

namespace ektp::pipeline {
namespace {

// A probe's fingers, each prepared once for comparisons with many subjects.
struct PreparedFinger {
  int position = 0;
  bio::PreparedProbe prepared;
};

std::vector<PreparedFinger> Prepare(const bio::SubjectRecord& probe) {
  std::vector<PreparedFinger> fingers;
  for (const bio::FingerSample& p : probe.fingers) fingers.push_back({p.position, bio::PreparedProbe(p.features)});
  return fingers;
}

// Fused score of `subject` for the probe as bio::InMemoryAbis computes it:
// the sum of the calibrated scores of the finger positions both have.
bio::Candidate Compare(bio::Matcher& matcher, const std::vector<PreparedFinger>& probe,
                       const bio::SubjectRecord& subject) {
  bio::Candidate candidate{subject.id, 0, 0};
  for (const PreparedFinger& p : probe) {
    for (const bio::FingerSample& s : subject.fingers) {
      if (s.position != p.position) continue;
      candidate.score += matcher.Score(p.prepared, s.features);
      ++candidate.fingers_compared;
    }
  }
  return candidate;
}

void Rank(std::vector<bio::Candidate>& candidates, size_t limit) {
  std::sort(candidates.begin(), candidates.end(), [](const bio::Candidate& a, const bio::Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.subject_id < b.subject_id;
  });
  if (candidates.size() > limit) candidates.resize(limit);
}

}  // namespace

StatusOr<ShardSpec> ParseShardSpec(std::string_view text) {
  size_t slash = text.find('/');
  ShardSpec spec;
  auto parse = [](std::string_view part, int& out) {
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), out);
    return error == std::errc() && end == part.data() + part.size();
  };
  if (slash == std::string_view::npos || !parse(text.substr(0, slash), spec.index) ||
      !parse(text.substr(slash + 1), spec.count)) {
    return InvalidArgument("shard '" + std::string(text) + "' is not k/n, e.g. 2/3");
  }
  if (spec.count < 1 || spec.count > 64) return InvalidArgument("shard count must be 1..64");
  if (spec.index < 1 || spec.index > spec.count) {
    return InvalidArgument("shard " + std::to_string(spec.index) + " is outside 1.." + std::to_string(spec.count));
  }
  return spec;
}

int ShardOf(std::string_view subject_id, int count) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bit
  for (unsigned char c : subject_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(count)) + 1;
}

std::string ShardsAnsweredCondition(int shard_count) {
  std::string n = std::to_string(shard_count);
  return "(SELECT COUNT(*) FROM shard_searches s WHERE s.record_id = pipeline_jobs.record_id AND s.shard_count = " +
         n + ") = " + n;
}

ShardMatcher::ShardMatcher(const Clock& clock, const crypto::DataKey& biometrics_key, ShardSpec shard,
                           bio::IdentifyOptions options, int64_t refresh_after)
    : clock_(clock),
      biometrics_key_(biometrics_key),
      shard_(shard),
      options_(options),
      refresh_after_(refresh_after),
      gallery_(biometrics_key, [shard](std::string_view id) { return ShardOf(id, shard.count) == shard.index; }) {}

StatusOr<int> ShardMatcher::RunOnce(store::Connection& db, int limit) {
  RETURN_IF_ERROR(gallery_.CatchUp(db));
  const int64_t position = gallery_.position();
  const int64_t subjects = static_cast<int64_t>(gallery_.engine().Count());
  ASSIGN_OR_RETURN(auto waiting,
                   db.Query("SELECT j.record_id FROM (SELECT id, record_id FROM pipeline_jobs WHERE stage = ? AND "
                            "status IN (?, ?) ORDER BY id LIMIT ?) j LEFT JOIN shard_searches s ON s.record_id = "
                            "j.record_id AND s.shard_count = ? AND s.shard = ? WHERE s.record_id IS NULL OR "
                            "s.gallery_position < ? ORDER BY j.id",
                            {kDedupeStage, JobStatusName(JobStatus::kReady), JobStatusName(JobStatus::kLeased), limit,
                             shard_.count, shard_.index, position - refresh_after_}));
  for (const store::Row& row : waiting) {
    const int64_t record_id = row.Int(0);
    ASSIGN_OR_RETURN(bio::SubjectRecord probe, LoadSubject(db, biometrics_key_, record_id, ""));
    nlohmann::json candidates = nlohmann::json::array();
    if (!probe.fingers.empty()) {
      ASSIGN_OR_RETURN(bio::IdentifyResult result, gallery_.engine().Identify(probe, options_));
      for (const bio::Candidate& c : result.candidates) {
        candidates.push_back({{"id", c.subject_id}, {"score", c.score}, {"fingers", c.fingers_compared}});
      }
    }
    RETURN_IF_ERROR(db.Exec("INSERT INTO shard_searches (record_id, shard, shard_count, candidates, gallery_position, "
                            "gallery_subjects, searched_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                            "(record_id, shard_count, shard) DO UPDATE SET candidates = excluded.candidates, "
                            "gallery_position = excluded.gallery_position, gallery_subjects = "
                            "excluded.gallery_subjects, searched_at = excluded.searched_at "
                            "WHERE shard_searches.gallery_position < excluded.gallery_position",
                            {record_id, shard_.index, shard_.count, candidates.dump(), position, subjects,
                             FormatTimestamp(clock_.Now())}));
  }
  return static_cast<int>(waiting.size());
}

StatusOr<const bio::SubjectRecord*> DecodedLog::Get(const crypto::DataKey& key, int64_t seq, const std::string& id,
                                                     const store::Blob& bytes) {
  auto found = by_seq_.find(seq);
  if (found != by_seq_.end()) return &found->second;
  ASSIGN_OR_RETURN(bio::SubjectRecord subject, DecryptGallerySubject(key, id, bytes));
  auto [entry, inserted] = by_seq_.emplace(seq, std::move(subject));
  while (by_seq_.size() > std::max<size_t>(capacity_, 1)) {  // the oldest, but never the one just decoded
    by_seq_.erase(by_seq_.begin() == entry ? std::next(by_seq_.begin()) : by_seq_.begin());
  }
  return &entry->second;
}

StatusOr<GallerySearch> CompleteSearch(store::Connection& db, const crypto::DataKey& biometrics_key,
                                       const bio::SubjectRecord& probe,
                                       const std::map<int, PartialSearch>& parts, int shard_count,
                                       const bio::IdentifyOptions& options, DecodedLog* decoded) {
  std::map<std::string, bio::Candidate> by_id;
  int64_t oldest = INT64_MAX;
  size_t searched_subjects = 0;
  for (const auto& [shard, part] : parts) {
    oldest = std::min(oldest, part.position);
    searched_subjects += part.gallery_subjects;
    for (const bio::Candidate& c : part.candidates) by_id[c.subject_id] = c;
  }
  // One read of the log: every entry after the oldest position searched
  // (with its subject), and the earlier entries of the subjects those put
  // (whether each existed, for the gallery's size).
  ASSIGN_OR_RETURN(auto log, db.Query("SELECT seq, subject_id, subject, CASE WHEN subject IS NULL THEN 0 ELSE 1 END "
                                      "FROM gallery_log WHERE seq > ? UNION ALL SELECT seq, subject_id, NULL, "
                                      "CASE WHEN subject IS NULL THEN 0 ELSE 1 END FROM gallery_log WHERE seq <= ? "
                                      "AND subject_id IN (SELECT subject_id FROM gallery_log WHERE seq > ?) ORDER BY 1",
                                      {oldest, oldest, oldest}));
  struct Entry {
    bool known = false;                  // it was in the gallery at its shard's position
    bool later = false;                  // the log put or erased it after that position
    int64_t seq = 0;                     // the entry of its latest version, if `later`
    std::optional<store::Blob> subject;  // that version; nullopt: erased
  };
  std::map<std::string, Entry> entries;
  for (const store::Row& row : log) {
    std::string id = row.Text(1);
    auto part = parts.find(ShardOf(id, shard_count));
    if (part == parts.end()) continue;
    Entry& entry = entries[id];
    if (row.Int(0) <= part->second.position) {
      entry.known = row.Int(3) != 0;
    } else {
      entry.later = true;
      entry.seq = row.Int(0);
      entry.subject = row.IsNull(2) ? std::nullopt : std::optional<store::Blob>(row.Bytes(2));
    }
  }
  // The gallery's size now: what the searches held, plus subjects the log
  // added since (a put of a known id replaces it; an erase removes it).
  int64_t gallery_subjects = static_cast<int64_t>(searched_subjects);
  bio::Matcher matcher;
  const std::vector<PreparedFinger> prepared = Prepare(probe);
  DecodedLog this_call(0);
  for (const auto& [id, entry] : entries) {
    if (!entry.later) continue;
    gallery_subjects += (entry.subject ? 1 : 0) - (entry.known ? 1 : 0);
    by_id.erase(id);
    if (!entry.subject || probe.fingers.empty()) continue;
    ASSIGN_OR_RETURN(const bio::SubjectRecord* subject,
                     (decoded ? *decoded : this_call).Get(biometrics_key, entry.seq, id, *entry.subject));
    bio::Candidate candidate = Compare(matcher, prepared, *subject);
    if (candidate.fingers_compared > 0 && candidate.score >= options.min_score) by_id[id] = candidate;
  }
  GallerySearch search;
  for (auto& [id, candidate] : by_id) search.candidates.push_back(std::move(candidate));
  Rank(search.candidates, options.max_candidates);
  search.gallery_subjects = static_cast<size_t>(std::max<int64_t>(gallery_subjects, 0));
  return search;
}

StatusOr<GallerySearch> MergeShardSearches(store::Connection& db, const crypto::DataKey& biometrics_key,
                                           int64_t record_id, const bio::SubjectRecord& probe,
                                           int shard_count, const bio::IdentifyOptions& options,
                                           DecodedLog* decoded) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT shard, candidates, gallery_position, gallery_subjects FROM shard_searches "
                                       "WHERE record_id = ? AND shard_count = ?",
                                       {record_id, shard_count}));
  if (static_cast<int>(rows.size()) != shard_count) {
    return Unavailable("record " + std::to_string(record_id) + ": " + std::to_string(rows.size()) + " of " +
                       std::to_string(shard_count) + " matcher shards have searched it");
  }
  std::map<int, PartialSearch> parts;
  for (const store::Row& row : rows) {
    PartialSearch& part = parts[static_cast<int>(row.Int(0))];
    part.position = row.Int(2);
    part.gallery_subjects = static_cast<size_t>(row.Int(3));
    auto list = nlohmann::json::parse(row.Text(1), nullptr, false);
    if (!list.is_array()) return DataLoss("shard search of record " + std::to_string(record_id) + " is malformed");
    for (const auto& c : list) part.candidates.push_back({c.value("id", ""), c.value("score", 0.0f), c.value("fingers", 0)});
  }
  return CompleteSearch(db, biometrics_key, probe, parts, shard_count, options, decoded);
}

}  // namespace ektp::pipeline
