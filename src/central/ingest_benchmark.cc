// Central ingest rate: signed enrollment packets of about 30 KB (sealed face
// photo, signature image and two fingerprint templates) stored through
// Ingest::Upload in station-sized batches, on SQLite or PostgreSQL. Prints one
// JSON object. Not a test: nothing is asserted about the figures.
//
//   build/dev/src/central/ingest_benchmark --backend sqlite
//   eval "$(scripts/throwaway_postgres.sh start $d)"   # sets EKTP_TEST_PG
//   build/dev/src/central/ingest_benchmark --backend postgres
//
// Flags: --backend sqlite|postgres  --packets N (per station, default 2000)
//        --batch N (default 64, the station's default)  --stations N (default 1;
//        each uploads from its own thread and connection, as central's server
//        threads do)  --face-bytes N (default 15000)
// Packets are made and signed before the clock starts; the timed part is
// Upload() only: verify, unseal, validate, store, feed. CPU is reported for
// this process and, on a local PostgreSQL, for the server's processes, so the
// cost per packet can be read apart from what else runs on the machine.
#include <sys/resource.h>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "central/ingest.h"
#include "core/process_stats.h"
#include "central/station_registry.h"
#include "enrollment/testing.h"
#include "store/testing.h"

namespace ektp::central {
namespace {

struct Options {
  std::string backend = "sqlite";
  int packets = 2000;
  int batch = 64;
  int stations = 1;
  size_t face_bytes = 15000;
};

// User + system CPU seconds of process `pid` and of its children that are
// still running (PostgreSQL's server processes), from /proc.
double ProcCpuSeconds(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t ParentPid(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  int64_t parent = 0;
  fields >> state >> parent;
  return parent;
}

// CPU seconds of a PostgreSQL cluster on this machine: the postmaster and
// every server process it runs (backends, WAL writer, checkpointer, ...).
double ClusterCpuSeconds(int64_t postmaster) {
  double total = ProcCpuSeconds(postmaster);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    int64_t pid = std::stoll(name);
    if (ParentPid(pid) == postmaster) total += ProcCpuSeconds(pid);
  }
  return total;
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "ingest_benchmark: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Run(const Options& options) {
  auto db = store::testing::TestDatabase::Create(options.backend);
  if (!db.ok()) return Fail("database", db.status());
  const Clock& clock = SystemClock::Instance();
  CentralKeys keys{crypto::SigningKey::Generate(), crypto::SealingKey::Generate(), crypto::DataKey::Generate()};
  SeededRandom random(42);
  StationRegistry registry((*db)->connection(), clock);

  struct Lane {
    std::string station_id;
    std::vector<sync::Packet> packets;
    std::unique_ptr<store::Connection> connection;
    Status status;
    int64_t accepted = 0;
  };
  std::vector<Lane> lanes(options.stations);
  size_t envelope_bytes = 0, signature_bytes = 0;
  for (Lane& lane : lanes) {
    crypto::SigningKey key = crypto::SigningKey::Generate();
    auto token = registry.CreateToken({"35.21.01", StationKind::kKecamatanOffice, {"enroll"}, std::chrono::hours(1)},
                                      "bench");
    if (!token.ok()) return Fail("token", token.status());
    auto station = registry.Register(*token, key.public_key());
    if (!station.ok()) return Fail("register", station.status());
    if (Status s = registry.Approve(station->id, "bench"); !s.ok()) return Fail("approve", s);
    lane.station_id = station->id;
    for (int seq = 1; seq <= options.packets; ++seq) {
      auto enrollment = enrollment::testing::SampleEnrollment(lane.station_id, seq, keys.sealing.public_key(), random,
                                                              clock.TodayWib(), options.face_bytes);
      sync::Envelope envelope{sync::kEnvelopeVersion, lane.station_id, seq, sync::PacketKind::kEnrollment,
                              FormatTimestamp(clock.Now()), enrollment::EnrollmentToJson(enrollment)};
      lane.packets.push_back(sync::SignEnvelope(envelope, key));
      envelope_bytes += lane.packets.back().envelope_text.size();
      signature_bytes += lane.packets.back().signature.size();
    }
    auto connection = (*db)->Connect();
    if (!connection.ok()) return Fail("connect", connection.status());
    lane.connection = std::move(*connection);
  }

  auto upload_all = [&](Lane& lane) {
    Ingest ingest(*lane.connection, clock, keys, RegionRegistry::Default());
    for (size_t start = 0; start < lane.packets.size(); start += options.batch) {
      size_t end = std::min(lane.packets.size(), start + static_cast<size_t>(options.batch));
      std::vector<sync::Packet> batch(lane.packets.begin() + start, lane.packets.begin() + end);
      auto response = ingest.Upload(lane.station_id, batch);
      if (!response.ok()) {
        lane.status = response.status();
        return;
      }
      for (const auto& result : response->results) lane.accepted += result.verdict == sync::Verdict::kAccepted;
    }
  };

  // On PostgreSQL on this machine, count the server's CPU too.
  int64_t postmaster = 0;
  if (options.backend == "postgres") {
    auto backend = lanes[0].connection->Query("SELECT pg_backend_pid()");
    if (backend.ok()) postmaster = ParentPid((*backend)[0].Int(0));
  }
  double server_cpu_before = postmaster > 0 ? ClusterCpuSeconds(postmaster) : 0;
  double cpu_before = ProcessCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  if (lanes.size() == 1) {
    upload_all(lanes[0]);
  } else {
    std::vector<std::thread> threads;
    for (Lane& lane : lanes) threads.emplace_back([&, lane_ptr = &lane] { upload_all(*lane_ptr); });
    for (auto& thread : threads) thread.join();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = ProcessCpuSeconds() - cpu_before;
  double server_cpu = postmaster > 0 ? ClusterCpuSeconds(postmaster) - server_cpu_before : 0;

  int64_t accepted = 0;
  for (const Lane& lane : lanes) {
    if (!lane.status.ok()) return Fail("upload", lane.status);
    accepted += lane.accepted;
  }
  auto validated = (*db)->connection().Query("SELECT COUNT(*) FROM records WHERE state = 'validated'");
  if (!validated.ok()) return Fail("count", validated.status());
  int64_t total = static_cast<int64_t>(options.packets) * options.stations;
  nlohmann::json out = {
      {"benchmark", "central_ingest"},
      {"backend", options.backend},
      {"stations", options.stations},
      {"packets", total},
      {"batch", options.batch},
      {"envelope_bytes_mean", envelope_bytes / total},
      {"packet_bytes_mean", (envelope_bytes + signature_bytes) / total},
      {"accepted", accepted},
      {"validated_records", (*validated)[0].Int(0)},
      {"seconds", seconds},
      {"packets_per_sec", total / seconds},
      {"mib_per_sec", envelope_bytes / seconds / (1024.0 * 1024.0)},
      {"ingest_cpu_seconds", cpu},
      {"postgres_cpu_seconds", server_cpu},
      {"cpu_ms_per_packet", 1000.0 * (cpu + server_cpu) / total},
      {"load_average_1m", LoadAverage1Min()},
      {"hardware_threads", std::thread::hardware_concurrency()},
  };
  std::printf("%s\n", out.dump(2).c_str());
  return accepted == total ? 0 : 1;
}

}  // namespace
}  // namespace ektp::central

int main(int argc, char** argv) {
  ektp::central::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) {
      std::fprintf(stderr, "ingest_benchmark: %s needs a value\n", flag.c_str());
      return 2;
    }
    ++i;
    if (flag == "--backend") options.backend = value;
    else if (flag == "--packets") options.packets = std::atoi(value);
    else if (flag == "--batch") options.batch = std::atoi(value);
    else if (flag == "--stations") options.stations = std::atoi(value);
    else if (flag == "--face-bytes") options.face_bytes = std::strtoul(value, nullptr, 10);
    else {
      std::fprintf(stderr, "ingest_benchmark: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.packets < 1 || options.batch < 1 || options.stations < 1) {
    std::fprintf(stderr, "ingest_benchmark: --packets, --batch and --stations must be at least 1\n");
    return 2;
  }
  return ektp::central::Run(options);
}
