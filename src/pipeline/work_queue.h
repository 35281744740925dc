// Durable work queues for central's pipeline stages, stored in the database
// (table pipeline_jobs) so that any number of central processes can share
// them.
//
// A job is one record waiting for one stage. Its life:
//   ready --Claim--> leased --Complete--> done
//                          \--Fail--> ready again after a backoff, or dead
// A lease is short and its holder renews it while it lives (Renew, from the
// pipeline's heartbeat). A lease that runs out (its holder crashed or lost
// the database) makes the job claimable again, so handlers must be
// idempotent: they check the record's state first; and completion is fenced
// by the lease holder.
// Claim uses FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent workers
// never block on, or take, each other's jobs; SQLite serialises writers.
//
// Thread-safety: as the Connection passed to each call.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "store/db.h"

namespace ektp::pipeline {

// The stages, in order (docs/pipeline.md).
inline constexpr std::string_view kDemographicsStage = "demographics";
inline constexpr std::string_view kDedupeStage = "dedupe";

struct Job {
  int64_t id = 0;
  std::string stage;
  int64_t record_id = 0;
  int attempts = 0;  // claims so far, this one included
};

struct RetryPolicy {
  int max_attempts = 8;  // the next failure after this many claims is dead
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{5 * 60 * 1000};
};

// A job's status: ready (waiting, maybe until run_after), leased (a worker
// holds it until its lease ends), done, or dead (failed max_attempts times).
enum class JobStatus { kReady, kLeased, kDone, kDead };
std::string_view JobStatusName(JobStatus status);  // "ready", "leased", "done", "dead"

struct StageCounts {
  std::string stage;
  JobStatus status = JobStatus::kReady;
  int64_t jobs = 0;
};

struct DeadJob {
  Job job;
  std::string last_error;
  std::string updated_at;
};

// Adds a ready job of `stage` for each record; a record already queued for
// the stage is left as it is. Joins the caller's transaction if one is open
// (central's ingest queues each validated record in the batch's transaction).
Status EnqueueJobs(store::Connection& db, const Clock& clock, std::string_view stage,
                   std::span<const int64_t> record_ids);

class WorkQueue {
 public:
  // `clock` and `random` (the backoff jitter) must outlive the queue.
  WorkQueue(const Clock& clock, Random& random, RetryPolicy policy = {})
      : clock_(clock), random_(random), policy_(policy) {}

  // Leases up to `limit` claimable jobs of `stage`, oldest first, to `owner`
  // for `lease`. Commits its own transaction.
  // `ready_when`, if not empty, is an SQL condition a job must also meet
  // (it may refer to pipeline_jobs.record_id).
  StatusOr<std::vector<Job>> Claim(store::Connection& db, std::string_view stage, std::string_view owner,
                                   int limit, std::chrono::milliseconds lease, std::string_view ready_when = "");

  // Extends the leases `owner` holds on the jobs `ids` to now + `lease`;
  // returns how many. A lease that ran out but was not taken by another
  // worker is still `owner`'s and is extended too. Jobs of `owner` not in
  // `ids` (a batch its worker abandoned) are left to run out.
  StatusOr<int64_t> Renew(store::Connection& db, std::string_view owner, const std::vector<int64_t>& ids,
                          std::chrono::milliseconds lease);

  // Marks a leased job done. REQUIRES: inside the transaction that made the
  // handler's changes, so both commit or neither does. kFailedPrecondition if `owner`
  // no longer holds the lease (it ran out and another worker took the job).
  Status Complete(store::Connection& db, const Job& job, std::string_view owner);

  // Records a failed attempt: the job is ready again after an exponential
  // backoff with full jitter, or dead with `error` once it has been claimed
  // max_attempts times. No-op if `owner` no longer holds the lease.
  Status Fail(store::Connection& db, const Job& job, std::string_view owner, std::string_view error);

  // Puts dead jobs of `stage` back in the queue (after the cause is fixed).
  // Returns how many.
  StatusOr<int64_t> RetryDead(store::Connection& db, std::string_view stage);

  StatusOr<std::vector<StageCounts>> Counts(store::Connection& db);
  StatusOr<std::vector<DeadJob>> Dead(store::Connection& db, int limit);

 private:
  int64_t NowMs() const;

  const Clock& clock_;
  Random& random_;
  RetryPolicy policy_;
};

}  // namespace ektp::pipeline
