#include "pipeline/work_queue.h"

#include <algorithm>

namespace ektp::pipeline {
namespace {

constexpr JobStatus kAllJobStatuses[] = {JobStatus::kReady, JobStatus::kLeased, JobStatus::kDone, JobStatus::kDead};

std::string Name(JobStatus status) { return std::string(JobStatusName(status)); }

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kReady: return "ready";
    case JobStatus::kLeased: return "leased";
    case JobStatus::kDone: return "done";
    case JobStatus::kDead: return "dead";
  }
  return "?";
}

int64_t WorkQueue::NowMs() const { return UnixMillis(clock_.Now()); }

Status EnqueueJobs(store::Connection& db, const Clock& clock, std::string_view stage,
                   std::span<const int64_t> record_ids) {
  if (record_ids.empty()) return Status::Ok();
  const TimePoint now = clock.Now();
  const std::string now_text = FormatTimestamp(now);
  const int64_t now_ms = UnixMillis(now);
  std::vector<store::Value> rows;
  for (int64_t record_id : record_ids) {
    rows.insert(rows.end(), {stage, record_id, Name(JobStatus::kReady), 0, now_ms, now_text, now_text, now_ms, now_ms});
  }
  return store::InsertRows(db,
                           "INSERT INTO pipeline_jobs (stage, record_id, status, attempts, run_after_ms, created_at, "
                           "updated_at, created_ms, updated_ms) VALUES ",
                           9, rows, " ON CONFLICT (stage, record_id) DO NOTHING");
}

StatusOr<std::vector<Job>> WorkQueue::Claim(store::Connection& db, std::string_view stage, std::string_view owner,
                                            int limit, std::chrono::milliseconds lease, std::string_view ready_when) {
  int64_t now_ms = NowMs();
  std::string lock = db.dialect() == store::Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  std::string also = ready_when.empty() ? "" : " AND " + std::string(ready_when);
  std::vector<Job> jobs;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    jobs.clear();
    ASSIGN_OR_RETURN(auto rows,
                     db.Query("UPDATE pipeline_jobs SET status = ?, lease_owner = ?, lease_until_ms = ?, "
                              "attempts = attempts + 1, updated_at = ?, updated_ms = ? WHERE id IN "
                              "(SELECT id FROM pipeline_jobs WHERE stage = ? AND ((status = ? AND "
                              "run_after_ms <= ?) OR (status = ? AND lease_until_ms < ?))" + also + " ORDER BY id LIMIT ?" +
                                  lock + ") RETURNING id, record_id, attempts",
                              {Name(JobStatus::kLeased), owner, now_ms + lease.count(), FormatTimestamp(clock_.Now()),
                               now_ms, stage, Name(JobStatus::kReady), now_ms, Name(JobStatus::kLeased), now_ms,
                               limit}));
    for (const store::Row& row : rows) {
      jobs.push_back({row.Int(0), std::string(stage), row.Int(1), static_cast<int>(row.Int(2))});
    }
    return Status::Ok();
  }));
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  return jobs;
}

StatusOr<int64_t> WorkQueue::Renew(store::Connection& db, std::string_view owner, const std::vector<int64_t>& ids,
                                   std::chrono::milliseconds lease) {
  if (ids.empty()) return int64_t{0};
  std::string sql = "UPDATE pipeline_jobs SET lease_until_ms = ? WHERE status = ? AND lease_owner = ? AND id IN (?";
  for (size_t i = 1; i < ids.size(); ++i) sql += ", ?";
  sql += ") RETURNING id";
  std::vector<store::Value> params = {NowMs() + lease.count(), Name(JobStatus::kLeased), std::string(owner)};
  for (int64_t id : ids) params.emplace_back(id);
  ASSIGN_OR_RETURN(auto rows, db.Query(sql, params));
  return static_cast<int64_t>(rows.size());
}

Status WorkQueue::Complete(store::Connection& db, const Job& job, std::string_view owner) {
  ASSIGN_OR_RETURN(auto rows, db.Query("UPDATE pipeline_jobs SET status = ?, lease_owner = NULL, "
                                       "lease_until_ms = NULL, last_error = NULL, updated_at = ?, updated_ms = ? "
                                       "WHERE id = ? AND status = ? AND lease_owner = ? RETURNING id",
                                       {Name(JobStatus::kDone), FormatTimestamp(clock_.Now()), NowMs(), job.id,
                                        Name(JobStatus::kLeased), owner}));
  if (rows.empty()) {
    return FailedPrecondition("job " + std::to_string(job.id) + " (" + job.stage + ", record " + std::to_string(job.record_id) +
                   ") is no longer leased to " + std::string(owner));
  }
  return Status::Ok();
}

Status WorkQueue::Fail(store::Connection& db, const Job& job, std::string_view owner, std::string_view error) {
  std::string now = FormatTimestamp(clock_.Now());
  if (job.attempts >= policy_.max_attempts) {
    return db.Exec("UPDATE pipeline_jobs SET status = ?, lease_owner = NULL, lease_until_ms = NULL, "
                   "last_error = ?, updated_at = ?, updated_ms = ? WHERE id = ? AND status = ? AND lease_owner = ?",
                   {Name(JobStatus::kDead), error, now, NowMs(), job.id, Name(JobStatus::kLeased), owner});
  }
  // Full jitter: uniform in [0, min(max, first * 2^(attempts-1))].
  int64_t ceiling = policy_.first_backoff.count();
  for (int i = 1; i < job.attempts && ceiling < policy_.max_backoff.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, policy_.max_backoff.count());
  int64_t delay = static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(ceiling) + 1));
  return db.Exec("UPDATE pipeline_jobs SET status = ?, run_after_ms = ?, lease_owner = NULL, "
                 "lease_until_ms = NULL, last_error = ?, updated_at = ?, updated_ms = ? "
                 "WHERE id = ? AND status = ? AND lease_owner = ?",
                 {Name(JobStatus::kReady), NowMs() + delay, error, now, NowMs(), job.id, Name(JobStatus::kLeased),
                  owner});
}

StatusOr<int64_t> WorkQueue::RetryDead(store::Connection& db, std::string_view stage) {
  ASSIGN_OR_RETURN(auto rows, db.Query("UPDATE pipeline_jobs SET status = ?, attempts = 0, run_after_ms = ?, "
                                       "updated_at = ?, updated_ms = ? WHERE stage = ? AND status = ? RETURNING id",
                                       {Name(JobStatus::kReady), NowMs(), FormatTimestamp(clock_.Now()), NowMs(), stage,
                                        Name(JobStatus::kDead)}));
  return static_cast<int64_t>(rows.size());
}

StatusOr<std::vector<StageCounts>> WorkQueue::Counts(store::Connection& db) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT stage, status, COUNT(*) FROM pipeline_jobs GROUP BY stage, status "
                                       "ORDER BY stage, status"));
  std::vector<StageCounts> counts;
  for (const store::Row& row : rows) {
    auto status = std::find_if(std::begin(kAllJobStatuses), std::end(kAllJobStatuses),
                               [&](JobStatus s) { return JobStatusName(s) == row.Text(1); });
    if (status == std::end(kAllJobStatuses)) return DataLoss("pipeline job status '" + row.Text(1) + "' is not known");
    counts.push_back({row.Text(0), *status, row.Int(2)});
  }
  return counts;
}

StatusOr<std::vector<DeadJob>> WorkQueue::Dead(store::Connection& db, int limit) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT id, stage, record_id, attempts, last_error, updated_at "
                                       "FROM pipeline_jobs WHERE status = ? ORDER BY id LIMIT ?",
                                       {Name(JobStatus::kDead), limit}));
  std::vector<DeadJob> dead;
  for (const store::Row& row : rows) {
    dead.push_back({{row.Int(0), row.Text(1), row.Int(2), static_cast<int>(row.Int(3))}, row.Text(4), row.Text(5)});
  }
  return dead;
}

}  // namespace ektp::pipeline
