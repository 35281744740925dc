// Sync drain: a station with N queued enrollments (about 30 KB each, sealed
// photo included) drains its outbox to central over a rate-limited link (the
// faultnet proxy's token bucket), compared with the link's theoretical
// minimum: the packets' bytes divided by the bandwidth. Central and the
// station run in this process over loopback TLS, as in production; central
// stores in SQLite. Prints one JSON object. Not a test: nothing is asserted.
//
//   build/dev/benchmarks/drain_benchmark --enrollments 1000 --rate-kib 1024
//
// Flags: --enrollments N (default 1000)  --rate-kib N (link bandwidth in KiB/s
//        each way, default 1024 = 8 Mbit/s)  --face-bytes N (default 15000)
//        --batch N, --in-flight N (default: the sync client's defaults)
//        --verbose (logs every request and batch to stderr)
// The timed part is one SyncClient::SyncOnce(). drain_seconds runs until the
// last packet is acked at the station (every batch up, every verdict
// applied); sync_pass_seconds also covers pulling and applying the down feed
// (one validation result per enrollment), which uses the other direction.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "central/server.h"
#include "central/station_registry.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "faultnet/fault_proxy.h"
#include "service/log.h"
#include "station/server.h"
#include "store/testing.h"

namespace ektp::station {
namespace {

struct Options {
  int enrollments = 1000;
  uint64_t rate_kib = 1024;
  size_t face_bytes = 15000;
  int batch = 0;
  int in_flight = 0;
  bool verbose = false;  // log every request and batch (to stderr)
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "drain_benchmark: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Run(const Options& options) {
  if (!options.verbose) service::SetLogLevel(service::LogLevel::kWarn);
  std::string dir = store::testing::MakeTempDir("ektp-drain-benchmark-");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  const Clock& clock = SystemClock::Instance();
  SeededRandom random(7);

  central::CentralOptions central_options;
  central_options.data_dir = dir + "/central";
  if (Status s = central::InitCentral(central_options, {}); !s.ok()) return Fail("init central", s);
  auto central = central::CentralServer::Create(central_options, clock);
  if (!central.ok()) return Fail("central", central.status());
  if (Status s = (*central)->Start(); !s.ok()) return Fail("start central", s);

  auto central_db = store::Open(central::CentralDbUrl(central_options), store::Schema::kCentral);
  if (!central_db.ok()) return Fail("central db", central_db.status());
  central::StationRegistry registry(**central_db, clock);
  auto token = registry.CreateToken(
      {"35.21.01", central::StationKind::kKecamatanOffice, {"enroll"}, std::chrono::hours(1)}, "bench");
  if (!token.ok()) return Fail("token", token.status());
  InitOptions init{dir + "/station", (*central)->base_url(), *token, "", "admin", "admin-pass-1"};
  auto identity = InitStation(init, clock);
  if (!identity.ok()) return Fail("init station", identity.status());
  if (Status s = registry.Approve(identity->station_id, "bench"); !s.ok()) return Fail("approve", s);

  auto station_db = store::Open(StationDbUrl(init.data_dir), store::Schema::kStation);
  if (!station_db.ok()) return Fail("station db", station_db.status());
  auto key = crypto::SigningKey::Load(init.data_dir + "/station.key");
  if (!key.ok()) return Fail("station key", key.status());

  // Queue the enrollments while the station is offline.
  Station offline(**station_db, clock, *key, *identity);
  Operator ani{"ani", "Ani Rahayu", Role::kOperator};
  if (Status s = offline.AddOperator(ani, "kata-sandi-1", crypto::PasswordStrength::kFast); !s.ok()) {
    return Fail("operator", s);
  }
  auto enroll_start = std::chrono::steady_clock::now();
  for (int i = 0; i < options.enrollments; ++i) {
    EnrollmentRequest request;
    request.resident = SyntheticResident(RegionRegistry::Default(), "35.21", random, clock.TodayWib());
    request.biometrics = enrollment::testing::SampleBiometrics(i, options.face_bytes, random);
    auto receipt = offline.Enroll(ani, request);
    if (!receipt.ok()) return Fail("enroll", receipt.status());
  }
  double enroll_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - enroll_start).count();
  auto sizes = (*station_db)->Query(
      "SELECT COUNT(*), SUM(LENGTH(CAST(envelope AS BLOB))), SUM(LENGTH(signature)) FROM outbox WHERE state = "
      "'pending'");
  if (!sizes.ok()) return Fail("outbox size", sizes.status());
  int64_t queued = (*sizes)[0].Int(0);
  int64_t packet_bytes = (*sizes)[0].Int(1) + (*sizes)[0].Int(2);

  // The link: a rate-limited proxy in front of central.
  faultnet::FaultProxyOptions proxy_options;
  proxy_options.target_port = static_cast<uint16_t>((*central)->port());
  proxy_options.plan.rate_bytes_per_sec = options.rate_kib * 1024;
  faultnet::FaultProxy proxy(proxy_options);
  if (Status s = proxy.Start(); !s.ok()) return Fail("proxy", s);
  Identity linked = *identity;
  linked.central_urls = {"https://127.0.0.1:" + std::to_string(proxy.port())};
  Station station(**station_db, clock, *key, linked);
  SyncOptions sync_options;
  std::ifstream cert(init.data_dir + "/central-cert.pem");
  sync_options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
  if (options.batch > 0) sync_options.batch_packets = options.batch;
  if (options.in_flight > 0) sync_options.max_in_flight = options.in_flight;
  int batch_packets = sync_options.batch_packets;
  SeededRandom jitter(9);
  auto sync = std::make_unique<SyncClient>(station, clock, jitter, *key, sync_options);

  // A watcher on its own connection notes when the last packet is acked;
  // SyncOnce then goes on to pull the feed, which is timed separately.
  auto watch_db = store::Open(StationDbUrl(init.data_dir), store::Schema::kStation);
  if (!watch_db.ok()) return Fail("watch db", watch_db.status());
  std::atomic<double> drain_seconds{0};
  auto start = std::chrono::steady_clock::now();
  std::jthread watcher([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      auto rows = (*watch_db)->Query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'");
      if (rows.ok() && (*rows)[0].Int(0) == 0) {
        drain_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Status synced = sync->SyncOnce();
  double pass_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  watcher.request_stop();
  watcher.join();
  double seconds = drain_seconds.load() > 0 ? drain_seconds.load() : pass_seconds;
  sync.reset();
  if (!synced.ok()) return Fail("sync", synced);
  faultnet::Stats stats = proxy.stats();
  proxy.Stop();
  (*central)->Stop();

  auto acked = station.CountOutbox(station::OutboxState::kAcked);
  if (!acked.ok()) return Fail("count", acked.status());
  auto stored = (*central_db)->Query("SELECT COUNT(*) FROM inbox");
  if (!stored.ok()) return Fail("central count", stored.status());

  double rate = static_cast<double>(options.rate_kib) * 1024;
  double minimum = packet_bytes / rate;
  nlohmann::json out = {
      {"benchmark", "sync_drain"},
      {"enrollments", queued},
      {"batch_packets", batch_packets},
      {"link_bytes_per_sec", static_cast<int64_t>(rate)},
      {"packet_bytes", packet_bytes},
      {"packet_bytes_mean", packet_bytes / std::max<int64_t>(queued, 1)},
      {"wire_bytes_up", stats.bytes_client_to_server},
      {"wire_bytes_down", stats.bytes_server_to_client},
      {"connections", stats.connections},
      {"drain_seconds", seconds},
      {"sync_pass_seconds", pass_seconds},
      {"theoretical_min_seconds", minimum},
      {"percent_of_link_capacity", 100.0 * minimum / seconds},
      {"max_in_flight", sync_options.max_in_flight},
      {"wire_percent_of_link_capacity", 100.0 * stats.bytes_client_to_server / rate / seconds},
      {"acked_at_station", *acked},
      {"stored_at_central", (*stored)[0].Int(0)},
      {"enroll_seconds", enroll_seconds},
  };
  std::printf("%s\n", out.dump(2).c_str());
  return *acked == queued && (*stored)[0].Int(0) == queued ? 0 : 1;
}

}  // namespace
}  // namespace ektp::station

int main(int argc, char** argv) {
  ektp::station::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--verbose") {
      options.verbose = true;
      continue;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) {
      std::fprintf(stderr, "drain_benchmark: %s needs a value\n", flag.c_str());
      return 2;
    }
    ++i;
    if (flag == "--enrollments") options.enrollments = std::atoi(value);
    else if (flag == "--rate-kib") options.rate_kib = std::strtoull(value, nullptr, 10);
    else if (flag == "--face-bytes") options.face_bytes = std::strtoul(value, nullptr, 10);
    else if (flag == "--batch") options.batch = std::atoi(value);
    else if (flag == "--in-flight") options.in_flight = std::atoi(value);
    else {
      std::fprintf(stderr, "drain_benchmark: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.enrollments < 1 || options.rate_kib < 1) {
    std::fprintf(stderr, "drain_benchmark: --enrollments and --rate-kib must be at least 1\n");
    return 2;
  }
  return ektp::station::Run(options);
}
