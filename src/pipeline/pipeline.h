// Central's processing pipeline: background workers that take validated
// records through the stages (stages.h) using the database work queues
// (work_queue.h). Any number of central processes may run one against the
// same database; they share the queues and the gallery log.
//
// Throttling: each stage claims at most `batch` jobs at a time and the whole
// pipeline processes at most `max_records_per_second`, so a burst (a hundred
// stations uploading a day's work at once) waits in the queue instead of
// starving the sync API of the database.
//
// Leases: a worker leases its batch for `lease` and a heartbeat thread
// renews the leases of the batches its workers hold each `heartbeat`, so a
// batch may take as long as it needs, and the jobs of a process that dies
// (kill -9, a lost machine), or of a batch its worker gave up on (the
// database went away mid-batch), are claimable again `lease` after their
// last renewal at the latest.
//
// Workers: one thread for the demographics stage and `dedupe_workers` for
// the dedupe stage. Dedupe workers search side by side and decide one at a
// time (docs/pipeline.md, "What runs concurrently").
//
// Thread-safety: Start/Stop from one thread; RunUntilIdle must not run while
// the workers do.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/shards.h"
#include "pipeline/stages.h"
#include "store/pool.h"

namespace ektp::pipeline {

struct PipelineOptions {
  int batch = 16;
  std::chrono::milliseconds lease{5000};
  std::chrono::milliseconds heartbeat{1000};  // REQUIRES: well below `lease`
  std::chrono::milliseconds idle_poll{250};
  double max_records_per_second = 0;  // 0: no limit
  // Dedupe worker threads, each with its own connection and batch: their
  // searches run in parallel, their decisions take turns (stages.h).
  int dedupe_workers = 2;
  RetryPolicy retry;
  DedupeOptions dedupe;
};

class Pipeline {
 public:
  // `owner` names this process in job leases ("central@host:pid"). The
  // references must outlive the pipeline. `biometrics_key` decrypts the
  // stored biometrics and gallery (biometrics_at_rest.h).
  Pipeline(const Clock& clock, Random& random, const RegionRegistry& regions, const crypto::SigningKey& signing,
           const crypto::DataKey& biometrics_key, PipelineOptions options, std::string owner);
  ~Pipeline();

  // Starts the worker threads and the lease heartbeat, each with its own
  // connection.
  Status Start(store::ConnectionPool& pool);
  // Stops the workers after their current batch, then the heartbeat (which
  // keeps renewing the batch's leases until then).
  void Stop();

  // Processes every claimable job of every stage on `db` until none is
  // left; returns how many jobs were handled. No heartbeat renews its
  // leases: a batch that outlasts `lease` may be taken over by another
  // process, whose completion then wins (the fence refuses this one's).
  StatusOr<int> RunUntilIdle(store::Connection& db);

  const StageContext& context() const { return context_; }
  WorkQueue& queue() { return queue_; }

 private:
  using Handler = Status (*)(store::Connection&, const StageContext&, int64_t);
  // Claims and handles one batch of `stage`; returns how many jobs it handled.
  StatusOr<int> RunBatch(store::Connection& db, const StageContext& context, std::string_view stage,
                         Handler handler);
  void Worker(store::ConnectionPool& pool, const StageContext& context, std::string_view stage, Handler handler);
  void Heartbeat(store::ConnectionPool& pool);
  void Throttle();
  // Sets ektp_central_gallery_subjects to the in-process gallery's size.
  void CountGallery();
  bool WaitFor(std::chrono::milliseconds delay);  // false once stopping

  const Clock& clock_;
  PipelineOptions options_;
  std::string owner_;
  WorkQueue queue_;
  GalleryMirror gallery_;
  DecodedLog decoded_log_;  // RunUntilIdle's
  StageContext context_;
  // Each dedupe worker's decoded log and the context that names it.
  std::vector<std::unique_ptr<DecodedLog>> worker_logs_;
  std::vector<StageContext> worker_contexts_;

  // The jobs of the batches the workers are working on: the only leases the
  // heartbeat renews.
  std::mutex held_mu_;
  std::set<int64_t> held_jobs_;

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;            // the workers
  bool heartbeat_stopping_ = false;  // the heartbeat, once the workers have stopped
  std::chrono::steady_clock::time_point next_slot_{};  // throttle: earliest start of the next job
  std::vector<std::thread> workers_;
  std::thread heartbeat_;
};

}  // namespace ektp::pipeline
