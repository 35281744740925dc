// Rolling restart (issue 5, "Upgrades without downtime"): two centrals serve
// one PostgreSQL database from the same data directory on different ports;
// two stations know both URLs (in opposite orders) while operators enroll
// without pause. Central A is stopped with SIGTERM and replaced by a copy of
// the ektp binary in another directory (the "new version") on the same port,
// then B the same way. Stations see nothing but failed requests they retry
// on the other central; every receipted enrollment arrives exactly once.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "harness.h"
#include "store/db.h"
#include "store/testing.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;

// Operators at one station enrolling on `threads` counters until Stop().
class Load {
 public:
  Load(const std::string& station_url, const std::string& session, Enroller& enroller, int threads) {
    for (int thread_idx = 0; thread_idx < threads; ++thread_idx) {
      threads_.emplace_back([this, station_url, session, &enroller] {
        auto client = Enroller::Client(station_url);
        if (!client.ok()) {
          Fail(client.status().ToString());
          return;
        }
        while (!stop_) {
          auto registration = enroller.Enroll(**client, session);
          if (!registration.ok()) {
            Fail(registration.status().ToString());
            continue;
          }
          std::lock_guard lock(mu_);
          receipts_.insert(*registration);
        }
      });
    }
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  size_t receipts() {
    std::lock_guard lock(mu_);
    return receipts_.size();
  }
  // REQUIRES: stopped.
  const std::set<std::string>& registrations() const { return receipts_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  void Fail(const std::string& error) {
    std::lock_guard lock(mu_);
    failures_.push_back(error);
  }

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> receipts_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// How many lines of a process's JSON log carry event `event`.
int CountEvents(const std::string& log_path, const std::string& event) {
  std::ifstream in(log_path);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"event\":\"" + event + "\"") != std::string::npos) ++count;
  }
  return count;
}

// GET /readyz on a central, pinning its certificate: the status and body.
StatusOr<std::pair<int, std::string>> Readyz(const std::string& central_url, const std::string& cert_pem) {
  net::HttpClientOptions options;
  options.pinned_cert_pem = cert_pem;
  options.keep_alive = false;
  ASSIGN_OR_RETURN(auto client, net::HttpClient::Create(central_url, options));
  ASSIGN_OR_RETURN(auto response, client->Get("/readyz"));
  return std::make_pair(response.status, response.body);
}

struct StationUnderTest {
  std::string name;
  std::string id;
  std::unique_ptr<Process> process;
  std::string session;
  std::unique_ptr<net::HttpClient> client;

  // The central URL the station's sync client used last.
  StatusOr<std::string> SyncUrl() {
    ASSIGN_OR_RETURN(auto response, client->Get("/api/v1/sync/status", {{"authorization", "Bearer " + session}}));
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status != 200 || !json.is_object() || !json["central_url"].is_string()) {
      return Internal("sync status answered " + std::to_string(response.status) + ": " + response.body);
    }
    return json["central_url"].get<std::string>();
  }
};

TEST(FaultRollingRestart, TwoCentralsReplacedInTurnUnderLoadLoseAndDuplicateNothing) {
  // Declared first, so the database outlives every process using it. Without
  // EKTP_TEST_PG this fails (it never skips): run through scripts/test.sh.
  auto database = store::testing::TestDatabase::Create("postgres");
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  Cluster cluster("rolling-restart", (*database)->url());
  ASSERT_OK(cluster.InitCentral());
  const std::string cert_pem = ReadFile(cluster.central_dir() + "/tls-cert.pem");
  ASSERT_FALSE(cert_pem.empty());

  // The "new version": the same binary, copied to a directory of its own.
  const std::string new_binary = cluster.dir() + "/new-version/ektp";
  std::filesystem::create_directories(cluster.dir() + "/new-version");
  std::filesystem::copy_file(EktpBinary(), new_binary);
  std::filesystem::permissions(new_binary, std::filesystem::perms::owner_all);

  cluster.set_central_pipeline(true);
  auto central_a = cluster.StartCentral(0, "central-a");
  ASSERT_TRUE(central_a.ok()) << central_a.status().ToString();
  auto central_b = cluster.StartCentral(0, "central-b");
  ASSERT_TRUE(central_b.ok()) << central_b.status().ToString();
  const std::string url_a = (*central_a)->url(), url_b = (*central_b)->url();
  const int port_a = (*central_a)->port(), port_b = (*central_b)->port();
  ASSERT_NE(url_a, url_b);

  // station-1 prefers A, station-2 prefers B: both centrals carry load.
  Enroller enroller(Seed());
  std::vector<StationUnderTest> stations(2);
  const std::vector<std::vector<std::string>> url_lists = {{url_a, url_b}, {url_b, url_a}};
  for (size_t station_idx = 0; station_idx < stations.size(); ++station_idx) {
    StationUnderTest& station = stations[station_idx];
    station.name = "station-" + std::to_string(station_idx + 1);
    const std::vector<std::string>& urls = url_lists[station_idx];
    auto id = cluster.AddStation(station.name, urls[0]);  // registers through its preferred central
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    station.id = *id;
    auto process = cluster.StartStation(station.name, urls[0], Seed() + station_idx, {"--central", urls[1]});
    ASSERT_TRUE(process.ok()) << process.status().ToString();
    station.process = std::move(*process);
    auto counter = enroller.OpenCounter(station.process->url());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    station.session = counter->session;
    station.client = std::move(counter->client);
  }

  std::vector<std::unique_ptr<Load>> load;
  for (StationUnderTest& station : stations) {
    load.push_back(std::make_unique<Load>(station.process->url(), station.session, enroller, 2));
  }
  auto receipts = [&] {
    size_t total = 0;
    for (auto& l : load) total += l->receipts();
    return total;
  };
  // Packets central has acknowledged, over all stations. (CheckStation
  // compares several queries, so it is for quiet moments only.)
  auto acked = [&]() -> StatusOr<int64_t> {
    int64_t total = 0;
    for (StationUnderTest& station : stations) {
      ASSIGN_OR_RETURN(auto db, store::OpenSqlite(cluster.station_dir(station.name) + "/station.db"));
      ASSIGN_OR_RETURN(auto rows, db->Query("SELECT COUNT(*) FROM outbox WHERE state = 'acked'"));
      total += rows[0].Int(0);
    }
    return total;
  };
  // Waits until `more` further enrollments have receipts and `more` further
  // ones are acknowledged by central: the load flows end to end.
  auto wait_for_progress = [&](size_t more) -> Status {
    size_t receipts_goal = receipts() + more;
    ASSIGN_OR_RETURN(int64_t acked_now, acked());
    int64_t acked_goal = acked_now + static_cast<int64_t>(more);
    return WaitFor(
        [&]() -> Status {
          ASSIGN_OR_RETURN(int64_t acked_then, acked());
          if (receipts() >= receipts_goal && acked_then >= acked_goal) return Status::Ok();
          return Unavailable(std::to_string(receipts()) + " receipts (want " + std::to_string(receipts_goal) + "), " +
                             std::to_string(acked_then) + " acked (want " + std::to_string(acked_goal) + ")");
        },
        seconds(60 * TimeoutScale()));
  };
  ASSERT_OK(wait_for_progress(40)) << LogTail(cluster.log("station-1")) << LogTail(cluster.log("station-2"));

  // Replaces `old` (serving on `port`) with the new version; `other_url` is
  // the central that carries everything meanwhile.
  auto replace = [&](std::unique_ptr<Process>& old, int port, const std::string& log_name,
                     const std::string& other_url) {
    SCOPED_TRACE("replacing " + log_name);
    // Graceful stop: SIGTERM, and the process exits by itself with status 0.
    int status = old->Terminate(seconds(30 * TimeoutScale()));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "exit status " << status << "\n" << LogTail(cluster.log(log_name));
    EXPECT_EQ(CountEvents(cluster.log(log_name), "http.server_draining"), 1) << LogTail(cluster.log(log_name));
    EXPECT_EQ(CountEvents(cluster.log(log_name), "http.server_stopped"), 1) << LogTail(cluster.log(log_name));

    // While it is gone, every station fails over to the other central, and
    // enrollments keep arriving there.
    for (StationUnderTest& station : stations) {
      ASSERT_OK(WaitFor(
          [&]() -> Status {
            ASSIGN_OR_RETURN(std::string url, station.SyncUrl());
            return url == other_url ? Status::Ok() : Unavailable(station.name + " still syncs with " + url);
          },
          seconds(30 * TimeoutScale())))
          << LogTail(cluster.log(station.name));
    }
    ASSERT_OK(wait_for_progress(20)) << LogTail(cluster.log("station-1")) << LogTail(cluster.log("station-2"));

    auto replacement = cluster.StartCentral(port, log_name + "-new", new_binary);
    ASSERT_TRUE(replacement.ok()) << "the new version could not take port " << port << ": "
                                  << replacement.status().ToString();
    EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string((*replacement)->pid()) + "/exe"),
              std::filesystem::canonical(new_binary));
    EXPECT_EQ((*replacement)->port(), port);
    ASSERT_OK(WaitFor(
        [&]() -> Status {
          ASSIGN_OR_RETURN(auto ready, Readyz((*replacement)->url(), cert_pem));
          if (ready.first != 200) return Unavailable(ready.second);
          return Status::Ok();
        },
        seconds(30 * TimeoutScale())));
    old = std::move(*replacement);
  };

  replace(*central_a, port_a, "central-a", url_b);
  if (HasFatalFailure()) return;
  // Every station now syncs with B (sticky until B fails), which goes next.
  replace(*central_b, port_b, "central-b", url_a);
  if (HasFatalFailure()) return;
  // The stations came back to the new A and the load still flows.
  ASSERT_OK(wait_for_progress(20)) << LogTail(cluster.log("station-1")) << LogTail(cluster.log("station-2"));
  EXPECT_GT(CountEvents(cluster.log("central-a-new"), "central.batch_ingested"), 0);
  for (auto& l : load) l->Stop();

  // Everything receipted drains; nothing is parked.
  ASSERT_OK(WaitFor(
      [&]() -> Status {
        for (StationUnderTest& station : stations) {
          ASSIGN_OR_RETURN(StationState state, CheckStation(cluster.station_dir(station.name)));
          if (state.pending != 0) return Unavailable(station.name + ": " + std::to_string(state.pending) + " pending");
        }
        return Status::Ok();
      },
      seconds(120 * TimeoutScale())))
      << LogTail(cluster.log("station-1")) << LogTail(cluster.log("station-2"));

  size_t total = 0;
  for (size_t station_idx = 0; station_idx < stations.size(); ++station_idx) {
    StationUnderTest& station = stations[station_idx];
    SCOPED_TRACE(station.name);
    const Load& station_load = *load[station_idx];
    // The operator API never failed an enrollment, central up or down.
    EXPECT_THAT(station_load.failures(), ::testing::IsEmpty());
    const std::set<std::string>& receipted = station_load.registrations();
    total += receipted.size();
    auto state = CheckStation(cluster.station_dir(station.name));
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->registrations, receipted);
    EXPECT_EQ(state->acked, static_cast<int64_t>(receipted.size()));
    EXPECT_EQ(state->parked, 0);
    EXPECT_EQ(state->pending, 0);
    auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), station.id, cluster.central_db());
    ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
    EXPECT_EQ(*arrived, receipted);
  }
  auto central_state = ReadCentralState(cluster.central_dir(), cluster.central_db());
  ASSERT_TRUE(central_state.ok()) << central_state.status().ToString();
  EXPECT_EQ(central_state->records, static_cast<int64_t>(total));
  EXPECT_EQ(central_state->inbox, static_cast<int64_t>(total));
  EXPECT_EQ(central_state->biometrics, static_cast<int64_t>(total));
  auto db = (*database)->Connect();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto validation_results = (*db)->Query("SELECT COUNT(*), COUNT(DISTINCT body) FROM feed WHERE kind = 'validation_result'");
  ASSERT_TRUE(validation_results.ok()) << validation_results.status().ToString();
  EXPECT_EQ((*validation_results)[0].Int(0), static_cast<int64_t>(total));  // one per record, none twice
  EXPECT_EQ((*validation_results)[0].Int(1), static_cast<int64_t>(total));
  std::printf("rolling restart: %zu enrollments during two central replacements\n", total);

  // Both centrals ran the pipeline through the restarts; every job finishes
  // once. Enroller sends one fingerprint sample, so the first record is
  // print_ready and every other one waits in adjudication as its duplicate.
  const int64_t jobs_expected = 2 * static_cast<int64_t>(total);  // demographics + dedupe
  Status pipeline_done = WaitFor(
      [&]() -> Status {
        auto jobs = (*db)->Query("SELECT COUNT(*), SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) FROM pipeline_jobs");
        if (!jobs.ok()) return jobs.status();
        if ((*jobs)[0].Int(0) == jobs_expected && (*jobs)[0].Int(1) == jobs_expected) return Status::Ok();
        return Unavailable(std::to_string((*jobs)[0].Int(1)) + " of " + std::to_string(jobs_expected) +
                           " pipeline jobs done");
      },
      seconds(120 * TimeoutScale()));
  EXPECT_TRUE(pipeline_done.ok()) << pipeline_done.ToString();
  auto states = (*db)->Query("SELECT state, COUNT(*) FROM records GROUP BY state ORDER BY state");
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  std::vector<std::pair<std::string, int64_t>> by_state;
  for (const store::Row& row : *states) by_state.emplace_back(row.Text(0), row.Int(1));
  EXPECT_EQ(by_state, (std::vector<std::pair<std::string, int64_t>>{{"adjudication", static_cast<int64_t>(total) - 1},
                                                                    {"print_ready", 1}}));

  // The audit chain written by four processes in turn is intact.
  CliResult audit = RunEktp(cluster.WithDb({"central", "audit", "verify", "--dir", cluster.central_dir()}),
                            cluster.log("central-cli"));
  EXPECT_EQ(audit.exit_code, 0) << audit.out << LogTail(cluster.log("central-cli"));
  EXPECT_THAT(audit.out, HasSubstr("audit log intact: "));

  for (StationUnderTest& station : stations) station.process->Terminate();
  for (auto* central : {&*central_a, &*central_b}) {
    int status = (*central)->Terminate(seconds(30 * TimeoutScale()));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << status;
  }
}

}  // namespace
}  // namespace ektp::fault
