// Central pipeline throughput: validated records taken through the whole
// pipeline (demographics -> dedupe against a synthetic national gallery ->
// NIK assignment -> print_ready, planted duplicates -> adjudication) by
// Pipeline's worker threads, on SQLite or PostgreSQL. Prints one JSON object
// per gallery size. Not a test: nothing is asserted about the figures
// (docs/benchmarks.md, "Pipeline").
//
//   build/dev/src/pipeline/pipeline_benchmark --backend sqlite --gallery 10000,100000 --records 2000
//   eval "$(scripts/throwaway_postgres.sh start $d durable)"   # sets EKTP_TEST_PG
//   build/dev/src/pipeline/pipeline_benchmark --backend postgres --gallery 10000
//   build/dev/src/pipeline/pipeline_benchmark --backend postgres --gallery 0 --records 620 --shards 3
//
// Flags: --backend sqlite|postgres (a fresh database per gallery; PostgreSQL
//        in the cluster named by EKTP_TEST_PG)
//        --db URL (use this database instead; it must be fresh, and only one
//        --gallery is then allowed)
//        --gallery N[,N...] (repeatable; default 10000)  --records M (default 1000)
//        --duplicates SHARE (planted duplicates, default 0.02)  --seed S (default 1)
//        --cache-dir DIR (default /tmp)  --poll-ms T (default 5)
//        --shards N (default 0: the pipeline searches its own copy of the
//        gallery; N: N matcher shards run as threads of this process, each
//        with its own connection and `ektp central matcher`'s loop, and the
//        dedupe stage merges their answers; REQUIRES --gallery 0)
//
// --gallery 0 is a backlog arriving at an empty gallery (issue 20's
// reconnect storm): every planted duplicate is a copy of the record before
// it, so the two arrive together.
// The gallery: N subjects of bio's scale benchmark (SynthGenerator(seed),
// impression 1 of fingers 2 and 7), read from the gallery cache that
// `ektp bio scale --cache` writes (DIR/pipeline-gallery-N-seedS.bin; if it is
// missing, bio::RunScale is run once to write it). They are loaded STRAIGHT
// INTO the pipeline's in-memory engine (GalleryMirror::engine), not through
// the pipeline and not into gallery_log: pushing 1M records through the
// pipeline first would take hours. Their ids are NIK-shaped strings with
// province code 99, which no region has, so they can never equal a NIK the
// pipeline assigns (those carry the resident's real kecamatan code).
//
// The measured records: M first-card applications of synthetic residents of
// Ngawi (35.21), stored as central's ingest leaves them (validated,
// biometrics, queued for demographics), with two fingers from the same
// generator: impression 2 of a gallery subject for the planted duplicates,
// otherwise subjects from 2^40 up, never in any gallery. They are created
// before the clock starts. The clock runs from Pipeline::Start until every
// record is decided (print_ready, adjudication, failed_validation or a dead
// job), watched by a thread that counts decided records every --poll-ms.
// Dedupe decisions take turns (a row lock; the searches before them run side
// by side), so the gaps between consecutive decisions are the per-record
// time of the dedupe stage as a whole; they are reported
// as `decision_interval_ms` (resolution: the poll interval; several
// decisions within one poll share its time evenly).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/benchmarks.h"
#include "bio/synth.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "enrollment/enrollment.h"
#include "core/process_stats.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/pipeline.h"
#include "pipeline/shards.h"
#include "pipeline/synthetic_load.h"
#include "store/pool.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string backend = "sqlite";
  std::string db_url;
  std::vector<size_t> galleries;
  int records = 1000;
  double duplicates = 0.02;
  uint64_t seed = 1;
  std::string cache_dir = "/tmp";
  int poll_ms = 5;
  int shards = 0;
};

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

StatusOr<nlohmann::json> RunOne(const Options& o, size_t gallery) {
  const Clock& clock = SystemClock::Instance();
  SeededRandom random(o.seed);
  const crypto::SigningKey signing = crypto::SigningKey::Generate();
  const crypto::DataKey biometrics_key = crypto::DataKey::Generate();

  std::unique_ptr<store::testing::TestDatabase> test_db;
  std::string url = o.db_url;
  if (url.empty()) {
    ASSIGN_OR_RETURN(test_db, store::testing::TestDatabase::Create(o.backend));
    url = test_db->url();
  }
  ASSIGN_OR_RETURN(auto pool, store::ConnectionPool::Create(url, store::Schema::kCentral));
  ASSIGN_OR_RETURN(auto db, store::Open(url, store::Schema::kCentral));

  nlohmann::json out = {{"benchmark", "central_pipeline"}, {"backend", o.backend}, {"gallery_subjects", gallery}};
  auto t_setup = SteadyClock::now();
  ASSIGN_OR_RETURN(synthetic::Backlog records,
                   synthetic::CreateBacklog(*db, clock, random, biometrics_key,
                                            {.records = o.records, .duplicates = o.duplicates, .seed = o.seed,
                                             .gallery = gallery}));
  out["records_setup_seconds"] = Seconds(t_setup);

  PipelineOptions options;  // central serve's defaults
  options.dedupe.matcher_shards = o.shards;
  Pipeline pipeline(clock, random, RegionRegistry::Default(), signing, biometrics_key, options, "pipeline_benchmark");
  nlohmann::json gallery_info = {
      {"source", "bio scale synthetic gallery, loaded straight into the pipeline's in-memory engine "
                 "(not through the pipeline, not in gallery_log); ids NIK-shaped with province 99"}};
  bio::Abis& engine = pipeline.context().gallery.engine();
  if (gallery > 0) {
    RETURN_IF_ERROR(synthetic::ForEachGallerySubject(
        o.cache_dir, gallery, o.seed, [&](bio::SubjectRecord subject) { return engine.Insert(subject); },
        gallery_info));
  }
  if (auto* in_memory = dynamic_cast<bio::InMemoryAbis*>(&engine)) gallery_info["engine_bytes"] = in_memory->MemoryBytes();
  out["gallery"] = gallery_info;
  out["machine_before"] = bio::MachineJson();

  // The measured part: workers from Start until every record is decided.
  const int64_t total = static_cast<int64_t>(records.ids.size());
  std::vector<double> decided_at;  // seconds since start, one per decision
  decided_at.reserve(total);
  const double cpu_before = ProcessCpuSeconds();
  const auto start = SteadyClock::now();
  RETURN_IF_ERROR(pipeline.Start(*pool));
  std::atomic<bool> stop_shards{false};
  std::vector<std::thread> shards;
  for (int k = 1; k <= o.shards; ++k) {
    ASSIGN_OR_RETURN(std::shared_ptr<store::Connection> shard_db, store::Open(url, store::Schema::kCentral));
    shards.emplace_back([&, k, shard_db] {
      ShardMatcher matcher(clock, biometrics_key, ShardSpec{k, o.shards}, options.dedupe.identify);
      while (!stop_shards) {  // as `ektp central matcher`: 64 at a time, 200 ms pause when idle
        auto searched = matcher.RunOnce(*shard_db, 64);
        if (!searched.ok()) std::fprintf(stderr, "shard %d: %s\n", k, searched.status().ToString().c_str());
        if (!searched.ok() || *searched == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  auto stop_all = [&] {
    stop_shards = true;
    for (std::thread& shard : shards) shard.join();
    shards.clear();
    pipeline.Stop();
  };
  int64_t decided = 0, dead = 0;
  double last_poll = 0;
  while (decided + dead < total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    ASSIGN_OR_RETURN(auto rows, db->Query("SELECT (SELECT COUNT(*) FROM records WHERE state IN ('print_ready', "
                                          "'adjudication', 'failed_validation', 'rejected_duplicate')), "
                                          "(SELECT COUNT(*) FROM pipeline_jobs WHERE status = 'dead')"));
    const double now = Seconds(start);
    const int64_t now_decided = rows[0].Int(0);
    dead = rows[0].Int(1);
    for (int64_t k = decided; k < now_decided; ++k) {
      decided_at.push_back(last_poll + (now - last_poll) * static_cast<double>(k - decided + 1) /
                                           static_cast<double>(now_decided - decided));
    }
    decided = now_decided;
    last_poll = now;
    if (Seconds(start) > 6 * 3600) {
      stop_all();
      return Unavailable("records still undecided after 6 hours");
    }
  }
  const double seconds = Seconds(start);
  const double cpu = ProcessCpuSeconds() - cpu_before;
  stop_all();

  std::vector<double> intervals_ms;
  for (size_t k = 1; k < decided_at.size(); ++k) intervals_ms.push_back(1000 * (decided_at[k] - decided_at[k - 1]));
  double interval_sum = 0;
  for (double v : intervals_ms) interval_sum += v;

  int64_t print_ready = 0, adjudication = 0, planted_found = 0, failed = 0, other = 0;
  ASSIGN_OR_RETURN(auto states, db->Query("SELECT id, state FROM records WHERE id BETWEEN ? AND ?",
                                          {records.ids.front(), records.ids.back()}));
  for (const store::Row& row : states) {
    const std::string state = row.Text(1);
    if (state == "print_ready") ++print_ready;
    else if (state == "adjudication") {
      ++adjudication;
      planted_found += records.planted.count(row.Int(0));
    } else if (state == "failed_validation") ++failed;
    else ++other;
  }
  const bio::IdentifyOptions& identify = options.dedupe.identify;
  out.update({
      {"records", total},
      {"planted_duplicates", records.planted.size()},
      {"found_duplicates", adjudication},
      {"planted_in_adjudication", planted_found},
      {"unplanted_in_adjudication", adjudication - planted_found},
      {"print_ready", print_ready},
      {"failed_validation", failed},
      {"undecided_or_other", other},
      {"dead_jobs", dead},
      {"seconds", seconds},
      {"records_per_second", static_cast<double>(total) / seconds},
      {"first_decision_seconds", decided_at.empty() ? 0.0 : decided_at.front()},
      {"decision_interval_ms",
       {{"mean", intervals_ms.empty() ? 0.0 : interval_sum / static_cast<double>(intervals_ms.size())},
        {"p50", Percentile(intervals_ms, 0.5)},
        {"p95", Percentile(intervals_ms, 0.95)},
        {"max", Percentile(intervals_ms, 1.0)},
        {"poll_ms", o.poll_ms}}},
      {"process_cpu_seconds", cpu},
      {"process_cpu_ms_per_record", 1000 * cpu / static_cast<double>(total)},
      {"peak_rss_bytes", PeakRssBytes()},
      {"machine_after", bio::MachineJson()},
      {"identify",
       {{"max_candidates", identify.max_candidates},
        {"min_score", identify.min_score},
        {"prefilter_keep", identify.prefilter_keep},
        {"min_prefilter_subjects", identify.min_prefilter_subjects},
        {"threads", identify.threads}}},
      {"max_false_positives_per_search", options.dedupe.max_false_positives_per_search},
      {"pipeline", {{"batch", options.batch}, {"idle_poll_ms", options.idle_poll.count()}, {"demographics_workers", 1}, {"dedupe_workers", options.dedupe_workers}}},
      {"matcher_shards", o.shards},
      {"shard_refresh_after", ShardMatcher::kDefaultRefreshAfter},
  });
  return out;
}

int Usage(const char* message) {
  std::fprintf(stderr, "pipeline_benchmark: %s\n", message);
  return 2;
}

}  // namespace
}  // namespace ektp::pipeline

int main(int argc, char** argv) {
  using ektp::pipeline::Usage;
  ektp::pipeline::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage((flag + " needs a value").c_str());
    std::string value = argv[++i];
    if (flag == "--backend") options.backend = value;
    else if (flag == "--db") options.db_url = value;
    else if (flag == "--gallery") {
      for (size_t pos = 0; pos <= value.size();) {
        size_t comma = std::min(value.find(',', pos), value.size());
        options.galleries.push_back(std::strtoull(value.substr(pos, comma - pos).c_str(), nullptr, 10));
        pos = comma + 1;
      }
    } else if (flag == "--records") options.records = std::atoi(value.c_str());
    else if (flag == "--duplicates") options.duplicates = std::atof(value.c_str());
    else if (flag == "--seed") options.seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--cache-dir") options.cache_dir = value;
    else if (flag == "--poll-ms") options.poll_ms = std::atoi(value.c_str());
    else if (flag == "--shards") options.shards = std::atoi(value.c_str());
    else return Usage(("unknown flag " + flag).c_str());
  }
  if (options.galleries.empty()) options.galleries = {10000};
  if (options.backend != "sqlite" && options.backend != "postgres") return Usage("--backend is sqlite or postgres");
  if (options.records < 1 || options.duplicates < 0 || options.duplicates > 1 || options.poll_ms < 1) {
    return Usage("--records must be at least 1, --duplicates within 0..1, --poll-ms at least 1");
  }
  if (options.shards < 0 || options.shards > 64) return Usage("--shards must be within 0..64");
  for (size_t n : options.galleries) {
    if (options.shards > 0 && n != 0) return Usage("--shards takes --gallery 0 (shards load the gallery log)");
  }
  if (!options.db_url.empty() && options.galleries.size() > 1) return Usage("--db takes one --gallery");
  int failures = 0;
  for (size_t n : options.galleries) {
    auto result = ektp::pipeline::RunOne(options, n);
    if (!result.ok()) {
      std::fprintf(stderr, "pipeline_benchmark: gallery %zu: %s\n", n, result.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s\n", result->dump(2).c_str());
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
