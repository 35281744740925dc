// `ektp central pipeline ...` and `ektp central adjudication ...`: the
// processing pipeline's queues and the adjudicator's desk, on central's
// database (src/pipeline).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"
#include "pipeline/adjudication.h"
#include "pipeline/shards.h"
#include "service/log.h"

namespace ektp::cli {
namespace {

StatusOr<std::unique_ptr<store::Connection>> OpenCentral(const central::CentralOptions& options) {
  return store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
}

}  // namespace

int CentralPipelineStatus(const Args& args) {
  CLI::App app("Show the pipeline's work queues: jobs per stage and status, and dead jobs with their reasons",
               "central pipeline status");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  std::string retry_stage;
  bool json = false;
  app.add_option("--retry-dead", retry_stage, "put the dead jobs of this stage (demographics, dedupe) back in the queue");
  app.add_flag("--json", json, "print {queues, dead} (and retried) as JSON");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  SystemRandom random;
  pipeline::WorkQueue queue(SystemClock::Instance(), random);
  nlohmann::json out = {{"queues", nlohmann::json::array()}, {"dead", nlohmann::json::array()}};
  if (!retry_stage.empty()) {
    auto retried = queue.RetryDead(**db, retry_stage);
    if (!retried.ok()) return Fail(retried.status());
    out["retried"] = *retried;
    if (!json) std::cout << *retried << " dead " << retry_stage << " job(s) queued again\n";
  }
  auto counts = queue.Counts(**db);
  if (!counts.ok()) return Fail(counts.status());
  auto dead = queue.Dead(**db, 50);
  if (!dead.ok()) return Fail(dead.status());
  for (const pipeline::StageCounts& c : *counts) {
    out["queues"].push_back({{"stage", c.stage}, {"status", pipeline::JobStatusName(c.status)}, {"jobs", c.jobs}});
    if (!json) std::cout << c.stage << "\t" << pipeline::JobStatusName(c.status) << "\t" << c.jobs << "\n";
  }
  for (const pipeline::DeadJob& d : *dead) {
    out["dead"].push_back({{"stage", d.job.stage},
                           {"record_id", d.job.record_id},
                           {"attempts", d.job.attempts},
                           {"updated_at", d.updated_at},
                           {"error", d.last_error}});
    if (!json) {
      std::cout << "dead: " << d.job.stage << " record " << d.job.record_id << " after " << d.job.attempts
                << " attempt(s) at " << d.updated_at << ": " << d.last_error << "\n";
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int CentralMatcher(const Args& args) {
  CLI::App app("Run a matcher shard: hold 1/n of the gallery and search every record waiting for de-duplication "
               "against it (central serve --matcher-shards n merges the answers)",
               "central matcher");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  std::string shard_text;
  int idle_ms = 200;
  app.add_option("--shard", shard_text, "this shard, k/n (e.g. 2/3)")->required();
  app.add_option("--idle-ms", idle_ms, "pause when nothing waits")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto shard = pipeline::ParseShardSpec(shard_text);
  if (!shard.ok()) return Fail(shard.status());
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto biometrics_key = central::LoadBiometricsKey(options.data_dir);
  if (!biometrics_key.ok()) return Fail(biometrics_key.status());
  pipeline::ShardMatcher matcher(SystemClock::Instance(), *biometrics_key, *shard, pipeline::DedupeOptions{}.identify);
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) {
      auto searched = matcher.RunOnce(**db, 64);
      if (!searched.ok()) {
        service::LogWarn("matcher.search_failed", {{"shard", shard_text}, {"error", searched.status().ToString()}});
      }
      if (!searched.ok() || *searched == 0) std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
    }
  });
  std::cout << "matcher shard " << shard_text << " running" << std::endl;
  WaitForStopSignal();
  stop = true;
  worker.join();
  return kExitOk;
}

int CentralAdjudicationList(const Args& args) {
  CLI::App app("List open adjudication cases, oldest first", "central adjudication list");
  central::CentralOptions options;
  bool json = false;
  AddDatabaseOptions(app, options);
  app.add_flag("--json", json, "print a JSON array of {record_id, registration_number, created_at, suspicion, suspicion_facts}");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto cases = pipeline::OpenCases(**db, 1000);
  if (!cases.ok()) return Fail(cases.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const pipeline::OpenCase& c : *cases) {
      out.push_back({{"record_id", c.record_id},
                     {"registration_number", c.registration_number},
                     {"created_at", c.created_at},
                     {"suspicion", c.suspicion},
                     {"suspicion_facts", c.suspicion_facts}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const pipeline::OpenCase& c : *cases) {
    std::cout << c.record_id << "\t" << c.registration_number << "\t" << c.created_at << "\t" << c.suspicion << "\n";
  }
  std::cout << cases->size() << " open case(s)\n";
  return kExitOk;
}

int CentralAdjudicationShow(const Args& args) {
  CLI::App app("Show both sides of a case: demographics, per-finger scores and (with --photos) face photos",
               "central adjudication show");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  int64_t record_id = 0;
  std::string photos;
  app.add_option("record", record_id, "the record's id (from `central adjudication list`)")->required();
  app.add_option("--photos", photos, "write each side's face photo into this directory as <registration>.jpg");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto detail = pipeline::CaseDetail(**db, record_id);
  if (!detail.ok()) return Fail(detail.status());
  if (!photos.empty()) {
    auto biometrics_key = central::LoadBiometricsKey(options.data_dir);
    if (!biometrics_key.ok()) return Fail(biometrics_key.status());
    std::filesystem::create_directories(photos);
    std::vector<nlohmann::json> sides = {(*detail)["record"]};
    for (const auto& candidate : (*detail)["candidates"]) {
      if (candidate.contains("record")) sides.push_back(candidate["record"]);
    }
    for (nlohmann::json& side : sides) {
      auto photo = pipeline::FacePhoto(**db, *biometrics_key, side["record_id"].get<int64_t>());
      if (!photo.ok()) return Fail(photo.status());
      std::string path = (std::filesystem::path(photos) / (side["registration_number"].get<std::string>() + ".jpg"));
      std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(photo->data()), photo->size());
      std::cerr << "photo: " << path << "\n";
    }
  }
  std::cout << detail->dump(2) << "\n";
  return kExitOk;
}

int CentralAdjudicationDecide(const Args& args) {
  CLI::App app("Decide a case: different_people, same_person_reject or same_person_update",
               "central adjudication decide");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  pipeline::AdjudicationDecision decision;
  std::string verdict;
  app.add_option("record", decision.record_id, "the record's id")->required();
  app.add_option("--verdict", verdict, "different_people | same_person_reject | same_person_update")->required();
  app.add_option("--candidate", decision.candidate_nik, "the candidate's NIK (for the same-person verdicts)");
  app.add_option("--adjudicator", decision.adjudicator, "who decides")->required();
  app.add_option("--note", decision.note, "why")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto parsed = pipeline::ParseVerdict(verdict);
  if (!parsed.ok()) return Fail(parsed.status());
  decision.verdict = *parsed;
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto keys = central::LoadCentralKeys(options.data_dir);
  if (!keys.ok()) return Fail(keys.status());
  SystemRandom random;
  pipeline::Pipeline pipeline(SystemClock::Instance(), random, RegionRegistry::Default(), keys->signing, keys->biometrics, {},
                              "cli:adjudication");
  if (Status decided = pipeline::Decide(**db, pipeline.context(), decision); !decided.ok()) return Fail(decided);
  auto detail = pipeline::CaseDetail(**db, decision.record_id);
  if (!detail.ok()) return Fail(detail.status());
  const nlohmann::json& record = (*detail)["record"];
  std::cout << "record " << decision.record_id << " (" << record["registration_number"].get<std::string>()
            << "): " << record["state"].get<std::string>();
  if (!record["holder_nik"].get<std::string>().empty()) std::cout << ", NIK " << record["holder_nik"].get<std::string>();
  std::cout << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
