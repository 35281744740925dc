// Reconnect storm: N validated records arrive at central at once (stations
// reconnecting after an outage deliver their backlog) on a national gallery
// of G synthetic subjects, on PostgreSQL. Central's pipeline runs as its own
// process, and with --shards n so do n matcher shards (`ektp central
// matcher`'s loop), all on this machine: this program starts them as child
// processes of itself. Prints one JSON object: records/s, time to drain,
// CPU per record of each process and together, peak memory of each process.
// Not a test: nothing is asserted.
//
//   d=$(mktemp -d); eval "$(scripts/throwaway_postgres.sh start $d)"   # sets EKTP_TEST_PG
//   B=build/dev/benchmarks/storm_benchmark
//   $B --gallery 100000 --records 10000 --shards 0       # and --shards 3
//   $B --gallery 100000 --records 6000 --shards 0        # Ngawi: a week offline
//   $B --gallery 1000000 --records 100000 --shards 3     # the large case
//
// Flags: --gallery G (default 100000)  --records N (default 10000)
//        --shards n (default 0: central searches its own copy of the gallery)
//        --duplicates SHARE (planted duplicates of gallery subjects, default
//        0.02)  --dedupe-workers W (central's, default PipelineOptions')
//        --seed S (default 1)  --cache-dir DIR (default /tmp)  --poll-ms T
//        (default 20)  --db URL (a fresh central database instead of a new
//        one in EKTP_TEST_PG's cluster)
//
// Setup (not timed): the G subjects of bio's scale gallery
// (pipeline/synthetic_load.h; `ektp bio scale --cache` writes the cache
// the first time) are appended to gallery_log, encrypted as central stores
// them, and the N records are stored as ingest leaves them (validated,
// queued). Then the processes start and load the gallery from the log; each
// reports its CPU time once loaded. The clock starts when all have loaded
// and are told to go, and stops when every record is decided (print_ready,
// adjudication, failed_validation) or its job is dead. A process's drain CPU
// is its CPU at the end (getrusage of the child) minus its CPU once loaded;
// its peak memory is the child's ru_maxrss (loading included). PostgreSQL's
// own CPU and memory are not counted.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/benchmarks.h"
#include "core/process_stats.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/pipeline.h"
#include "pipeline/shards.h"
#include "pipeline/synthetic_load.h"
#include "service/log.h"
#include "store/pool.h"
#include "store/testing.h"

namespace ektp::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string role;  // "" (the benchmark), "central" or "shard" (its children)
  size_t gallery = 100000;
  int records = 10000;
  int shards = 0;
  int shard = 0;  // this child's, 1..shards
  double duplicates = 0.02;
  int dedupe_workers = PipelineOptions{}.dedupe_workers;
  uint64_t seed = 1;
  std::string cache_dir = "/tmp";
  int poll_ms = 20;
  std::string db_url;
  std::string key_file;
};

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "storm_benchmark: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

// A child's protocol on stdin/stdout: it prints "ready CPU_SECONDS" once
// its gallery is loaded, starts on the line "go", stops on "stop" (or EOF).
void Ready() {
  std::printf("ready %.6f\n", ProcessCpuSeconds());
  std::fflush(stdout);
}
bool WaitForGo() {
  std::string line;
  return static_cast<bool>(std::getline(std::cin, line)) && line == "go";
}

int RunCentral(const Options& o) {
  auto key = crypto::DataKey::Load(o.key_file);
  if (!key.ok()) return Fail("biometrics key", key.status());
  const crypto::SigningKey signing = crypto::SigningKey::Generate();
  SeededRandom random(o.seed);
  PipelineOptions options;
  options.dedupe.matcher_shards = o.shards;
  options.dedupe_workers = o.dedupe_workers;
  Pipeline pipeline(SystemClock::Instance(), random, RegionRegistry::Default(), signing, *key, options,
                    "central@storm-benchmark");
  auto pool = store::ConnectionPool::Create(o.db_url, store::Schema::kCentral);
  if (!pool.ok()) return Fail("database", pool.status());
  if (o.shards == 0) {
    auto db = (*pool)->Acquire();
    if (!db.ok()) return Fail("database", db.status());
    if (Status s = pipeline.context().gallery.CatchUp(**db); !s.ok()) return Fail("loading the gallery", s);
  }
  Ready();
  if (!WaitForGo()) return 0;
  if (Status s = pipeline.Start(**pool); !s.ok()) return Fail("pipeline", s);
  std::string line;
  while (std::getline(std::cin, line) && line != "stop") {
  }
  pipeline.Stop();
  return 0;
}

int RunShard(const Options& o) {
  auto key = crypto::DataKey::Load(o.key_file);
  if (!key.ok()) return Fail("biometrics key", key.status());
  auto db = store::Open(o.db_url, store::Schema::kCentral);
  if (!db.ok()) return Fail("database", db.status());
  ShardMatcher matcher(SystemClock::Instance(), *key, ShardSpec{o.shard, o.shards}, DedupeOptions{}.identify);
  if (auto loaded = matcher.RunOnce(**db, 0); !loaded.ok()) return Fail("loading the gallery", loaded.status());
  Ready();
  if (!WaitForGo()) return 0;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::string line;
    while (std::getline(std::cin, line) && line != "stop") {
    }
    stop = true;
  });
  while (!stop) {  // as `ektp central matcher`: 64 at a time, 200 ms pause when idle
    auto searched = matcher.RunOnce(**db, 64);
    if (!searched.ok()) std::fprintf(stderr, "shard %d: %s\n", o.shard, searched.status().ToString().c_str());
    if (!searched.ok() || *searched == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  reader.join();
  return 0;
}

struct Child {
  std::string name;
  pid_t pid = -1;
  FILE* in = nullptr;   // its stdin
  FILE* out = nullptr;  // its stdout
  double ready_cpu = 0;
};

StatusOr<Child> Spawn(const std::string& name, std::vector<std::string> args) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) return Internal("pipe: " + std::string(std::strerror(errno)));
  std::vector<char*> argv;
  static const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  args.insert(args.begin(), self);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Internal("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  Child child{name, pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")};
  return child;
}

Status Send(Child& child, const char* line) {
  if (std::fprintf(child.in, "%s\n", line) < 0 || std::fflush(child.in) != 0) {
    return Unavailable(child.name + " does not read its orders");
  }
  return Status::Ok();
}

// Appends the gallery's subjects to gallery_log as decisions would (no
// record behind them), 1000 per transaction.
Status FillGalleryLog(store::Connection& db, const crypto::DataKey& key, const Options& o, nlohmann::json& info) {
  std::vector<bio::SubjectRecord> chunk;
  auto flush = [&]() -> Status {
    Status s = db.Transact([&]() -> Status {
      for (const bio::SubjectRecord& subject : chunk) {
        ASSIGN_OR_RETURN(crypto::Bytes stored, EncryptGallerySubject(key, subject));
        RETURN_IF_ERROR(db.Exec("INSERT INTO gallery_log (subject_id, record_id, subject, at) VALUES (?, ?, ?, ?)",
                                {subject.id, nullptr, store::Blob(std::move(stored)), "2026-11-24T00:00:00Z"}));
      }
      return Status::Ok();
    });
    chunk.clear();
    return s;
  };
  RETURN_IF_ERROR(synthetic::ForEachGallerySubject(
      o.cache_dir, o.gallery, o.seed,
      [&](bio::SubjectRecord subject) -> Status {
        chunk.push_back(std::move(subject));
        return chunk.size() == 1000 ? flush() : Status::Ok();
      },
      info));
  return flush();
}

StatusOr<nlohmann::json> RunBenchmark(Options o) {
  const Clock& clock = SystemClock::Instance();
  SeededRandom random(o.seed);
  std::unique_ptr<store::testing::TestDatabase> test_db;
  if (o.db_url.empty()) {
    ASSIGN_OR_RETURN(test_db, store::testing::TestDatabase::Create("postgres"));
    o.db_url = test_db->url();
  }
  ASSIGN_OR_RETURN(auto db, store::Open(o.db_url, store::Schema::kCentral));
  const std::string dir = store::testing::MakeTempDir("ektp-storm-benchmark-");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  o.key_file = dir + "/biometrics.key";
  const crypto::DataKey key = crypto::DataKey::Generate();
  RETURN_IF_ERROR(key.Save(o.key_file));

  nlohmann::json out = {{"benchmark", "reconnect_storm"},
                        {"backend", "postgres"},
                        {"gallery_subjects", o.gallery},
                        {"records", o.records},
                        {"matcher_shards", o.shards},
                        {"dedupe_workers", o.dedupe_workers}};
  nlohmann::json gallery_info = {{"source", "bio scale synthetic gallery, appended to gallery_log encrypted"}};
  auto t0 = SteadyClock::now();
  RETURN_IF_ERROR(FillGalleryLog(*db, key, o, gallery_info));
  gallery_info["gallery_log_seconds"] = Seconds(t0);
  out["gallery"] = gallery_info;
  t0 = SteadyClock::now();
  ASSIGN_OR_RETURN(synthetic::Backlog backlog,
                   synthetic::CreateBacklog(*db, clock, random, key,
                                            {.records = o.records, .duplicates = o.duplicates, .seed = o.seed,
                                             .gallery = o.gallery}));
  out["records_setup_seconds"] = Seconds(t0);

  std::vector<std::string> common = {"--db", o.db_url, "--key-file", o.key_file, "--shards", std::to_string(o.shards),
                                     "--seed", std::to_string(o.seed)};
  std::vector<Child> children;
  auto spawn = [&](const std::string& name, std::vector<std::string> args) -> Status {
    args.insert(args.end(), common.begin(), common.end());
    ASSIGN_OR_RETURN(Child child, Spawn(name, std::move(args)));
    children.push_back(child);
    return Status::Ok();
  };
  RETURN_IF_ERROR(spawn("central", {"--role", "central", "--dedupe-workers", std::to_string(o.dedupe_workers)}));
  for (int k = 1; k <= o.shards; ++k) {
    RETURN_IF_ERROR(spawn("shard " + std::to_string(k) + "/" + std::to_string(o.shards),
                          {"--role", "shard", "--shard", std::to_string(k)}));
  }
  auto kill_all = [&] {
    for (Child& child : children) kill(child.pid, SIGKILL);
    for (Child& child : children) waitpid(child.pid, nullptr, 0);
  };
  t0 = SteadyClock::now();
  for (Child& child : children) {
    char line[128];
    if (std::fgets(line, sizeof(line), child.out) == nullptr || std::sscanf(line, "ready %lf", &child.ready_cpu) != 1) {
      kill_all();
      return Unavailable(child.name + " did not load the gallery (see its errors above)");
    }
  }
  out["processes_loaded_seconds"] = Seconds(t0);

  // The timed part.
  const int64_t total = static_cast<int64_t>(backlog.ids.size());
  const auto start = SteadyClock::now();
  for (Child& child : children) RETURN_IF_ERROR(Send(child, "go"));
  int64_t decided = 0, dead = 0;
  double first_decision = -1;
  nlohmann::json progress = nlohmann::json::object();  // share decided -> seconds
  const double marks[] = {0.25, 0.5, 0.75, 1.0};
  size_t next_mark = 0;
  while (decided + dead < total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    auto rows = db->Query("SELECT (SELECT COUNT(*) FROM records WHERE state IN ('print_ready', 'adjudication', "
                          "'failed_validation', 'rejected_duplicate')), (SELECT COUNT(*) FROM pipeline_jobs WHERE "
                          "status = 'dead')");
    if (!rows.ok()) {
      kill_all();
      return rows.status();
    }
    decided = (*rows)[0].Int(0);
    dead = (*rows)[0].Int(1);
    const double now = Seconds(start);
    if (decided > 0 && first_decision < 0) first_decision = now;
    while (next_mark < std::size(marks) && decided + dead >= static_cast<int64_t>(marks[next_mark] * total)) {
      progress[std::to_string(static_cast<int>(marks[next_mark] * 100)) + "%"] = now;
      ++next_mark;
    }
    if (now > 24 * 3600) {
      kill_all();
      return Unavailable("records still undecided after a day");
    }
  }
  const double seconds = Seconds(start);

  nlohmann::json processes = nlohmann::json::array();
  double drain_cpu = 0;
  for (Child& child : children) {
    (void)Send(child, "stop");
    std::fclose(child.in);
  }
  for (Child& child : children) {
    int status = 0;
    struct rusage usage {};
    wait4(child.pid, &status, 0, &usage);
    std::fclose(child.out);
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    drain_cpu += cpu - child.ready_cpu;
    processes.push_back({{"process", child.name},
                         {"exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1},
                         {"load_cpu_seconds", child.ready_cpu},
                         {"drain_cpu_seconds", cpu - child.ready_cpu},
                         {"drain_cpu_ms_per_record", 1000 * (cpu - child.ready_cpu) / static_cast<double>(total)},
                         {"peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024}});
  }

  int64_t print_ready = 0, adjudication = 0, planted_found = 0, other = 0;
  ASSIGN_OR_RETURN(auto states, db->Query("SELECT id, state FROM records WHERE id BETWEEN ? AND ?",
                                          {backlog.ids.front(), backlog.ids.back()}));
  for (const store::Row& row : states) {
    const std::string state = row.Text(1);
    if (state == "print_ready") ++print_ready;
    else if (state == "adjudication") {
      ++adjudication;
      planted_found += backlog.planted.count(row.Int(0));
    } else ++other;
  }
  out.update({{"planted_duplicates", backlog.planted.size()},
              {"planted_in_adjudication", planted_found},
              {"unplanted_in_adjudication", adjudication - planted_found},
              {"print_ready", print_ready},
              {"other_states", other},
              {"dead_jobs", dead},
              {"drain_seconds", seconds},
              {"first_decision_seconds", first_decision},
              {"drained_by_seconds", progress},
              {"records_per_second", static_cast<double>(total) / seconds},
              {"drain_cpu_ms_per_record", 1000 * drain_cpu / static_cast<double>(total)},
              {"processes", processes},
              {"benchmark_process_peak_rss_bytes", PeakRssBytes()},
              {"machine", bio::MachineJson()}});
  return out;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "storm_benchmark: %s\n", message.c_str());
  return 2;
}

}  // namespace
}  // namespace ektp::pipeline

int main(int argc, char** argv) {
  using namespace ektp::pipeline;
  ektp::service::SetLogLevel(ektp::service::LogLevel::kWarn);  // the children's per-record lines would flood stderr
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--role") o.role = value;
    else if (flag == "--gallery") o.gallery = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--records") o.records = std::atoi(value.c_str());
    else if (flag == "--shards") o.shards = std::atoi(value.c_str());
    else if (flag == "--shard") o.shard = std::atoi(value.c_str());
    else if (flag == "--duplicates") o.duplicates = std::atof(value.c_str());
    else if (flag == "--dedupe-workers") o.dedupe_workers = std::atoi(value.c_str());
    else if (flag == "--seed") o.seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--cache-dir") o.cache_dir = value;
    else if (flag == "--poll-ms") o.poll_ms = std::atoi(value.c_str());
    else if (flag == "--db") o.db_url = value;
    else if (flag == "--key-file") o.key_file = value;
    else return Usage("unknown flag " + flag);
  }
  if (o.role == "central") return RunCentral(o);
  if (o.role == "shard") return RunShard(o);
  if (!o.role.empty()) return Usage("--role is central or shard");
  if (o.records < 1 || o.gallery < 1 || o.duplicates < 0 || o.duplicates > 1 || o.poll_ms < 1) {
    return Usage("--records and --gallery must be at least 1, --duplicates within 0..1, --poll-ms at least 1");
  }
  if (o.shards < 0 || o.shards > 64 || o.dedupe_workers < 1) {
    return Usage("--shards must be within 0..64, --dedupe-workers at least 1");
  }
  signal(SIGPIPE, SIG_IGN);
  auto result = RunBenchmark(o);
  if (!result.ok()) return Fail("run", result.status());
  std::printf("%s\n", result->dump(2).c_str());
  return 0;
}
