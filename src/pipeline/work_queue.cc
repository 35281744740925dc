#include "pipeline/work_queue.h"

#include <algorithm>

namespace ektp::pipeline {

int64_t WorkQueue::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Status EnqueueJobs(store::Connection& db, const Clock& clock, std::string_view stage,
                   std::span<const int64_t> record_ids) {
  if (record_ids.empty()) return Status::Ok();
  std::string now = FormatTimestamp(clock.Now());
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch()).count();
  // Multi-row inserts of at most 200 rows keep statements small on both backends.
  constexpr size_t kRowsPerStatement = 200;
  return db.Transact([&]() -> Status {
    for (size_t start = 0; start < record_ids.size(); start += kRowsPerStatement) {
      size_t end = std::min(record_ids.size(), start + kRowsPerStatement);
      std::string sql =
          "INSERT INTO pipeline_jobs (stage, record_id, status, attempts, run_after_ms, created_at, updated_at) VALUES ";
      std::vector<store::Value> params;
      for (size_t i = start; i < end; ++i) {
        sql += i == start ? "(?, ?, 'ready', 0, ?, ?, ?)" : ", (?, ?, 'ready', 0, ?, ?, ?)";
        params.insert(params.end(), {stage, record_ids[i], now_ms, now, now});
      }
      sql += " ON CONFLICT (stage, record_id) DO NOTHING";
      RETURN_IF_ERROR(db.Exec(sql, params));
    }
    return Status::Ok();
  });
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
                     db.Query("UPDATE pipeline_jobs SET status = 'leased', lease_owner = ?, lease_until_ms = ?, "
                              "attempts = attempts + 1, updated_at = ? WHERE id IN (SELECT id FROM pipeline_jobs "
                              "WHERE stage = ? AND ((status = 'ready' AND run_after_ms <= ?) OR "
                              "(status = 'leased' AND lease_until_ms < ?))" + also + " ORDER BY id LIMIT ?" +
                                  lock + ") RETURNING id, record_id, attempts",
                              {owner, now_ms + lease.count(), FormatTimestamp(clock_.Now()), stage, now_ms, now_ms,
                               limit}));
    for (const store::Row& row : rows) {
      jobs.push_back({row.Int(0), std::string(stage), row.Int(1), static_cast<int>(row.Int(2))});
    }
    return Status::Ok();
  }));
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  return jobs;
}

Status WorkQueue::Complete(store::Connection& db, const Job& job, std::string_view owner) {
  ASSIGN_OR_RETURN(auto rows, db.Query("UPDATE pipeline_jobs SET status = 'done', lease_owner = NULL, "
                                       "lease_until_ms = NULL, last_error = NULL, updated_at = ? "
                                       "WHERE id = ? AND status = 'leased' AND lease_owner = ? RETURNING id",
                                       {FormatTimestamp(clock_.Now()), job.id, owner}));
  if (rows.empty()) {
    return FailedPrecondition("job " + std::to_string(job.id) + " (" + job.stage + ", record " + std::to_string(job.record_id) +
                   ") is no longer leased to " + std::string(owner));
  }
  return Status::Ok();
}

Status WorkQueue::Fail(store::Connection& db, const Job& job, std::string_view owner, std::string_view error) {
  std::string now = FormatTimestamp(clock_.Now());
  if (job.attempts >= policy_.max_attempts) {
    return db.Exec("UPDATE pipeline_jobs SET status = 'dead', lease_owner = NULL, lease_until_ms = NULL, "
                   "last_error = ?, updated_at = ? WHERE id = ? AND status = 'leased' AND lease_owner = ?",
                   {error, now, job.id, owner});
  }
  // Full jitter: uniform in [0, min(max, first * 2^(attempts-1))].
  int64_t ceiling = policy_.first_backoff.count();
  for (int i = 1; i < job.attempts && ceiling < policy_.max_backoff.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, policy_.max_backoff.count());
  int64_t delay = static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(ceiling) + 1));
  return db.Exec("UPDATE pipeline_jobs SET status = 'ready', run_after_ms = ?, lease_owner = NULL, "
                 "lease_until_ms = NULL, last_error = ?, updated_at = ? "
                 "WHERE id = ? AND status = 'leased' AND lease_owner = ?",
                 {NowMs() + delay, error, now, job.id, owner});
}

StatusOr<int64_t> WorkQueue::RetryDead(store::Connection& db, std::string_view stage) {
  ASSIGN_OR_RETURN(auto rows, db.Query("UPDATE pipeline_jobs SET status = 'ready', attempts = 0, run_after_ms = ?, "
                                       "updated_at = ? WHERE stage = ? AND status = 'dead' RETURNING id",
                                       {NowMs(), FormatTimestamp(clock_.Now()), stage}));
  return static_cast<int64_t>(rows.size());
}

StatusOr<std::vector<StageCounts>> WorkQueue::Counts(store::Connection& db) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT stage, status, COUNT(*) FROM pipeline_jobs GROUP BY stage, status "
                                       "ORDER BY stage, status"));
  std::vector<StageCounts> counts;
  for (const store::Row& row : rows) counts.push_back({row.Text(0), row.Text(1), row.Int(2)});
  return counts;
}

StatusOr<std::vector<DeadJob>> WorkQueue::Dead(store::Connection& db, int limit) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT id, stage, record_id, attempts, last_error, updated_at "
                                       "FROM pipeline_jobs WHERE status = 'dead' ORDER BY id LIMIT ?",
                                       {limit}));
  std::vector<DeadJob> dead;
  for (const store::Row& row : rows) {
    dead.push_back({{row.Int(0), row.Text(1), row.Int(2), static_cast<int>(row.Int(3))}, row.Text(4), row.Text(5)});
  }
  return dead;
}

}  // namespace ektp::pipeline
