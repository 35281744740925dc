#include "pipeline/pipeline.h"

#include <algorithm>

#include "pipeline/shards.h"
#include "service/log.h"
#include "service/metrics.h"

namespace ektp::pipeline {
namespace {

struct StageHandler {
  std::string_view stage;
  Status (*handler)(store::Connection&, const StageContext&, int64_t);
};
constexpr StageHandler kStages[] = {
    {kDemographicsStage, RunDemographics},
    {kDedupeStage, [](store::Connection& db, const StageContext& context, int64_t id) { return RunDedupe(db, context, id); }},
};

// The pipeline's outcomes for a validated record.
bool IsOutcome(RecordState state) {
  return state == RecordState::kFailedValidation || state == RecordState::kPrintReady ||
         state == RecordState::kAdjudication;
}

StatusOr<RecordState> StateOf(store::Connection& db, int64_t record_id) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT state FROM records WHERE id = ?", {record_id}));
  if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " does not exist");
  std::optional<RecordState> state = RecordStateFromName(rows[0].Text(0));
  if (!state) return DataLoss("record " + std::to_string(record_id) + " has unknown state '" + rows[0].Text(0) + "'");
  return *state;
}

// After a job of `stage` moved a record on (committed, at `decided_ms`), if
// that was the pipeline's outcome for it:
// observes the time from the record's validation to its outcome, from their
// events' millisecond times (nothing for events older than those, schema 12),
// and for the dedupe stage from validation to `decided_ms` in milliseconds;
// logs the outcome by record id and registration number only.
Status ReportOutcome(store::Connection& db, std::string_view stage, int64_t record_id, int64_t decided_ms) {
  ASSIGN_OR_RETURN(auto records, db.Query("SELECT registration_number, state FROM records WHERE id = ?",
                                          {record_id}));
  if (records.empty()) return NotFound("record " + std::to_string(record_id) + " does not exist");
  const std::optional<RecordState> state = RecordStateFromName(records[0].Text(1));
  if (!state || !IsOutcome(*state)) return Status::Ok();  // the job moved it on to the next stage
  const std::string states = store::SqlStateList(
      {RecordState::kValidated, RecordState::kFailedValidation, RecordState::kPrintReady, RecordState::kAdjudication});
  ASSIGN_OR_RETURN(auto events, db.Query("SELECT to_state, at_ms FROM record_events WHERE record_id = ? AND to_state "
                                         "IN " + states + " ORDER BY id",
                                         {record_id}));
  service::LogFields fields = {{"record", record_id},
                               {"registration_number", records[0].Text(0)},
                               {"stage", stage},
                               {"outcome", records[0].Text(1)}};
  const bool timed = events.size() >= 2 && !events.front().IsNull(1) && !events.back().IsNull(1) &&
                     events.front().Text(0) == RecordStateName(RecordState::kValidated);
  std::optional<RecordState> outcome = timed ? RecordStateFromName(events.back().Text(0)) : std::nullopt;
  if (outcome && IsOutcome(*outcome)) {
    static const std::vector<double> kBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5,   5,
                                                 10,   30,    60,   300, 900,  3600, 14400, 86400};
    service::MetricsRegistry::Default()
        .GetHistogram("ektp_pipeline_latency_seconds",
                      "Time from a record's validation at ingest to the pipeline's outcome, by outcome", kBuckets,
                      {{"outcome", std::string(RecordStateName(*outcome))}})
        .Observe(static_cast<double>(events.back().Int(1) - events.front().Int(1)) / 1000.0);
    if (stage == kDedupeStage) {
      static const std::vector<double> kMillisecondBuckets = {10,     25,     50,     100,     250,     500,
                                                              1000,   2500,   5000,   10000,   30000,   60000,
                                                              300000, 900000, 3600000, 14400000, 86400000};
      const int64_t latency_ms = decided_ms - events.front().Int(1);
      service::MetricsRegistry::Default()
          .GetHistogram("ektp_pipeline_dedupe_latency_milliseconds",
                        "Time from a record's validation at ingest to the dedupe stage's decision, in milliseconds, "
                        "by outcome",
                        kMillisecondBuckets, {{"outcome", std::string(RecordStateName(*outcome))}})
          .Observe(static_cast<double>(latency_ms));
      fields.emplace_back("latency_ms", latency_ms);
    }
  }
  service::LogInfo("pipeline.decided", fields);
  if (state == RecordState::kPrintReady) {
    service::LogInfo("pipeline.nik_assigned", {{"record", record_id}, {"registration_number", records[0].Text(0)}});
  }
  return Status::Ok();
}

}  // namespace

Pipeline::Pipeline(const Clock& clock, Random& random, const RegionRegistry& regions,
                   const crypto::SigningKey& signing, const crypto::DataKey& biometrics_key, PipelineOptions options,
                   std::string owner)
    : clock_(clock),
      options_(options),
      owner_(std::move(owner)),
      queue_(clock, random, options.retry),
      gallery_(biometrics_key),
      context_{clock, regions, signing, biometrics_key, queue_, gallery_, options.dedupe, &decoded_log_} {}

Pipeline::~Pipeline() { Stop(); }

Status Pipeline::Start(store::ConnectionPool& pool) {
  if (options_.dedupe.matcher_shards == 0) {
    ASSIGN_OR_RETURN(auto db, pool.Acquire());
    RETURN_IF_ERROR(gallery_.CatchUp(*db));
  }
  if (options_.dedupe.matcher_shards == 0) CountGallery();
  service::LogInfo("pipeline.start", {{"owner", owner_},
                                  {"gallery_subjects", gallery_.engine().Count()},
                                  {"matcher_shards", options_.dedupe.matcher_shards}});
  const int dedupe_workers = std::max(1, options_.dedupe_workers);
  worker_logs_.clear();
  worker_contexts_.clear();
  worker_contexts_.reserve(dedupe_workers);  // the workers hold references into it
  for (int k = 0; k < dedupe_workers; ++k) {
    worker_logs_.push_back(std::make_unique<DecodedLog>());
    worker_contexts_.push_back(context_);
    worker_contexts_.back().decoded_log = worker_logs_.back().get();
  }
  for (const StageHandler& s : kStages) {
    if (s.stage != kDedupeStage) {
      workers_.emplace_back([this, &pool, s] { Worker(pool, context_, s.stage, s.handler); });
      continue;
    }
    for (const StageContext& context : worker_contexts_) {
      workers_.emplace_back([this, &pool, s, &context] { Worker(pool, context, s.stage, s.handler); });
    }
  }
  heartbeat_ = std::thread([this, &pool] { Heartbeat(pool); });
  return Status::Ok();
}

void Pipeline::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  {
    std::lock_guard lock(mu_);
    heartbeat_stopping_ = true;
  }
  stop_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void Pipeline::CountGallery() {
  service::MetricsRegistry::Default()
      .GetGauge("ektp_central_gallery_subjects", "Residents in this process's in-memory fingerprint gallery")
      .Set(static_cast<double>(gallery_.engine().Count()));
}

bool Pipeline::WaitFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, delay, [this] { return stopping_; });
}

void Pipeline::Throttle() {
  if (options_.max_records_per_second <= 0) return;
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options_.max_records_per_second));
  std::chrono::steady_clock::time_point start;
  {
    std::lock_guard lock(mu_);
    start = std::max(next_slot_, std::chrono::steady_clock::now());
    next_slot_ = start + interval;
  }
  std::this_thread::sleep_until(start);
}

StatusOr<int> Pipeline::RunBatch(store::Connection& db, const StageContext& context, std::string_view stage,
                                  Handler handler) {
  const int shards = options_.dedupe.matcher_shards;
  const std::string ready_when = stage == kDedupeStage && shards > 0 ? ShardsAnsweredCondition(shards) : "";
  ASSIGN_OR_RETURN(std::vector<Job> jobs, queue_.Claim(db, stage, owner_, options_.batch, options_.lease, ready_when));
  // Held while this batch runs, on every way out: a batch abandoned on an
  // error stops being renewed, so its jobs are claimed again after the lease.
  struct Held {
    Pipeline& pipeline;
    const std::vector<Job>& jobs;
    Held(Pipeline& p, const std::vector<Job>& j) : pipeline(p), jobs(j) {
      std::lock_guard lock(pipeline.held_mu_);
      for (const Job& job : jobs) pipeline.held_jobs_.insert(job.id);
    }
    ~Held() {
      std::lock_guard lock(pipeline.held_mu_);
      for (const Job& job : jobs) pipeline.held_jobs_.erase(job.id);
    }
  } held(*this, jobs);
  for (const Job& job : jobs) {
    Throttle();
    // The in-process gallery is searched before the decision's transaction
    // (stages.h, SearchOwnGallery).
    StatusOr<OwnSearch> searched = OwnSearch{};
    const bool search_first = stage == kDedupeStage && shards == 0;
    if (search_first) searched = SearchOwnGallery(db, context, job.record_id);
    std::optional<RecordState> before;
    Status status = !searched.ok() ? searched.status() : db.Transact([&]() -> Status {
      ASSIGN_OR_RETURN(before, StateOf(db, job.record_id));
      RETURN_IF_ERROR(search_first ? RunDedupe(db, context, job.record_id, &*searched)
                                   : handler(db, context, job.record_id));
      return queue_.Complete(db, job, owner_);
    });
    if (status.ok()) {
      // A job that decided (not one that found its record decided already).
      if (!IsOutcome(*before)) {
        Status reported = ReportOutcome(db, stage, job.record_id, UnixMillis(clock_.Now()));
        if (!reported.ok()) {
          service::LogWarn("pipeline.outcome_unreported", {{"record", job.record_id}, {"error", reported.ToString()}});
        }
      }
      if (search_first) CountGallery();
      continue;
    }
    service::LogWarn("pipeline.job_failed", {{"stage", stage},
                                         {"job", job.id},
                                         {"record", job.record_id},
                                         {"attempt", job.attempts},
                                         {"error", status.ToString()}});
    RETURN_IF_ERROR(queue_.Fail(db, job, owner_, status.ToString()));
  }
  return static_cast<int>(jobs.size());
}

void Pipeline::Worker(store::ConnectionPool& pool, const StageContext& context, std::string_view stage,
                      Handler handler) {
  while (true) {
    StatusOr<int> handled = [&]() -> StatusOr<int> {
      ASSIGN_OR_RETURN(auto db, pool.Acquire());
      return RunBatch(*db, context, stage, handler);
    }();
    if (!handled.ok()) {
      service::LogWarn("pipeline.batch_failed", {{"stage", stage}, {"error", handled.status().ToString()}});
    }
    bool busy = handled.ok() && *handled > 0;
    if (!WaitFor(busy ? std::chrono::milliseconds(0) : options_.idle_poll)) return;
  }
}

void Pipeline::Heartbeat(store::ConnectionPool& pool) {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stop_cv_.wait_for(lock, options_.heartbeat, [this] { return heartbeat_stopping_; })) return;
    }
    Status renewed = [&]() -> Status {
      ASSIGN_OR_RETURN(auto db, pool.Acquire());
      std::vector<int64_t> held;
      {
        std::lock_guard lock(held_mu_);
        held.assign(held_jobs_.begin(), held_jobs_.end());
      }
      if (held.empty()) return Status::Ok();
      return queue_.Renew(*db, owner_, held, options_.lease).status();
    }();
    if (!renewed.ok()) {
      service::LogWarn("pipeline.heartbeat_failed", {{"owner", owner_}, {"error", renewed.ToString()}});
    }
  }
}

StatusOr<int> Pipeline::RunUntilIdle(store::Connection& db) {
  int total = 0;
  while (true) {
    int round = 0;
    for (const StageHandler& s : kStages) {
      ASSIGN_OR_RETURN(int handled, RunBatch(db, context_, s.stage, s.handler));
      round += handled;
    }
    if (round == 0) return total;
    total += round;
  }
}

}  // namespace ektp::pipeline
