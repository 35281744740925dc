#include "pipeline/pipeline.h"

#include "pipeline/shards.h"
#include "service/log.h"

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

}  // namespace

Pipeline::Pipeline(const Clock& clock, Random& random, const RegionRegistry& regions,
                   const crypto::SigningKey& signing, const crypto::DataKey& biometrics_key, PipelineOptions options,
                   std::string owner)
    : clock_(clock),
      options_(options),
      owner_(std::move(owner)),
      queue_(clock, random, options.retry),
      gallery_(biometrics_key),
      context_{clock, regions, signing, biometrics_key, queue_, gallery_, options.dedupe} {}

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
  workers_.emplace_back([this, &pool] { Heartbeat(pool); });
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
    Status status = !searched.ok() ? searched.status() : db.Transact([&]() -> Status {
      RETURN_IF_ERROR(search_first ? RunDedupe(db, context_, job.record_id, &*searched)
                                   : handler(db, context_, job.record_id));
      return queue_.Complete(db, job, owner_);
    });
    if (status.ok()) continue;
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
  while (WaitFor(options_.heartbeat)) {
    Status renewed = [&]() -> Status {
      ASSIGN_OR_RETURN(auto db, pool.Acquire());
      return queue_.Renew(*db, owner_, options_.lease).status();
    }();
    if (!renewed.ok()) service::LogWarn("pipeline.heartbeat_failed", {{"owner", owner_}, {"error", renewed.ToString()}});
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
