#include "pipeline/pipeline.h"

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

// Observes the time from the record's validation to its outcome, from their
// events' millisecond times; nothing for events older than those (schema 12).
Status ObserveLatency(store::Connection& db, int64_t record_id) {
  const std::string states = store::SqlStateList(
      {RecordState::kValidated, RecordState::kFailedValidation, RecordState::kPrintReady, RecordState::kAdjudication});
  ASSIGN_OR_RETURN(auto events, db.Query("SELECT to_state, at_ms FROM record_events WHERE record_id = ? AND to_state "
                                         "IN " + states + " ORDER BY id",
                                         {record_id}));
  if (events.size() < 2 || events.front().IsNull(1) || events.back().IsNull(1)) return Status::Ok();
  std::optional<RecordState> outcome = RecordStateFromName(events.back().Text(0));
  if (events.front().Text(0) != RecordStateName(RecordState::kValidated) || !outcome || !IsOutcome(*outcome)) {
    return Status::Ok();
  }
  static const std::vector<double> kBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5,   5,
                                               10,   30,    60,   300, 900,  3600, 14400, 86400};
  service::MetricsRegistry::Default()
      .GetHistogram("ektp_pipeline_latency_seconds",
                    "Time from a record's validation at ingest to the pipeline's outcome, by outcome", kBuckets,
                    {{"outcome", std::string(RecordStateName(*outcome))}})
      .Observe(static_cast<double>(events.back().Int(1) - events.front().Int(1)) / 1000.0);
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
  service::LogInfo("pipeline.start", {{"owner", owner_},
                                  {"gallery_subjects", gallery_.engine().Count()},
                                  {"matcher_shards", options_.dedupe.matcher_shards}});
  for (const StageHandler& s : kStages) {
    workers_.emplace_back([this, &pool, s] { Worker(pool, s.stage, s.handler); });
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

StatusOr<int> Pipeline::RunBatch(store::Connection& db, std::string_view stage, Handler handler) {
  const int shards = options_.dedupe.matcher_shards;
  const std::string ready_when = stage == kDedupeStage && shards > 0 ? ShardsAnsweredCondition(shards) : "";
  ASSIGN_OR_RETURN(std::vector<Job> jobs, queue_.Claim(db, stage, owner_, options_.batch, options_.lease, ready_when));
  for (const Job& job : jobs) {
    Throttle();
    // The in-process gallery is searched before the decision's transaction
    // (stages.h, SearchOwnGallery).
    StatusOr<OwnSearch> searched = OwnSearch{};
    const bool search_first = stage == kDedupeStage && shards == 0;
    if (search_first) searched = SearchOwnGallery(db, context_, job.record_id);
    std::optional<RecordState> before;
    Status status = !searched.ok() ? searched.status() : db.Transact([&]() -> Status {
      ASSIGN_OR_RETURN(before, StateOf(db, job.record_id));
      RETURN_IF_ERROR(search_first ? RunDedupe(db, context_, job.record_id, &*searched)
                                   : handler(db, context_, job.record_id));
      return queue_.Complete(db, job, owner_);
    });
    if (status.ok()) {
      // A job that decided (not one that found its record decided already).
      if (!IsOutcome(*before)) {
        Status observed = ObserveLatency(db, job.record_id);
        if (!observed.ok()) {
          service::LogWarn("pipeline.latency_unknown", {{"record", job.record_id}, {"error", observed.ToString()}});
        }
      }
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

void Pipeline::Worker(store::ConnectionPool& pool, std::string_view stage, Handler handler) {
  while (true) {
    StatusOr<int> handled = [&]() -> StatusOr<int> {
      ASSIGN_OR_RETURN(auto db, pool.Acquire());
      return RunBatch(*db, stage, handler);
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
      return queue_.Renew(*db, owner_, options_.lease).status();
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
      ASSIGN_OR_RETURN(int handled, RunBatch(db, s.stage, s.handler));
      round += handled;
    }
    if (round == 0) return total;
    total += round;
  }
}

}  // namespace ektp::pipeline
