// `ektp demo`: central and stations for the first kecamatans of a real
// regency on this machine, each registered and approved the way an admin
// would, and synthetic residents of the regency enrolled through each
// station's operator API and synced to central. Everything lives in one
// directory, so a second run reuses it.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "bio/template.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "cli/commands.h"
#include "core/region.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "net/http_client.h"
#include "net/tls.h"
#include "service/log.h"
#include "station/server.h"
#include "store/record_repository.h"

extern "C" const char ektp_demo_face_jpg[], ektp_demo_face_jpg_end[];
extern "C" const char ektp_demo_signature_png[], ektp_demo_signature_png_end[];

namespace ektp::cli {
namespace {

constexpr const char* kOperator = "operator";
constexpr const char* kOperatorPassword = "demo-operator";
constexpr const char* kAdmin = "admin";
constexpr const char* kAdminPassword = "demo-admin";
// Fingers captured for each synthetic resident: right thumb and right index.
constexpr int kDemoFingers[] = {1, 2};

struct DemoOptions {
  std::string dir = "ektp-demo";
  std::string regency = "35.21";  // Ngawi, Jawa Timur
  int stations = 2;
  int residents = 20;  // per station
  int duplicates = 1;  // the last station's last residents carry the fingers of the first station's first ones
  uint64_t seed = 1;
  int central_port = 8443;
  int station_port = 8080;  // the first station's; the others follow
  bool once = false;
};

// One demo station: the i-th kecamatan of the regency, kinds taking turns.
struct DemoStation {
  std::string kecamatan;
  central::StationKind kind;
  std::string dir;
  int port;
};

std::vector<DemoStation> PlanStations(const DemoOptions& demo) {
  constexpr central::StationKind kKinds[] = {central::StationKind::kKecamatanOffice, central::StationKind::kMobileVan,
                                             central::StationKind::kDisdukcapilOffice};
  std::vector<const Region*> kecamatans = RegionRegistry::Default().Children(demo.regency);
  std::vector<DemoStation> plan;
  for (size_t i = 0; i < kecamatans.size() && plan.size() < static_cast<size_t>(demo.stations); ++i) {
    plan.push_back({kecamatans[i]->code, kKinds[i % std::size(kKinds)], demo.dir + "/station-" + kecamatans[i]->code,
                    demo.station_port == 0 ? 0 : demo.station_port + static_cast<int>(i)});
  }
  return plan;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Registers the demo station with central unless it already was, and
// approves it as the admin would after checking the request.
Status RegisterStation(const DemoStation& planned, const central::CentralOptions& central_options,
                       const std::string& central_url) {
  const std::string& station_dir = planned.dir;
  if (std::filesystem::exists(station_dir + "/station.key")) return Status::Ok();
  ASSIGN_OR_RETURN(auto db, store::Open(central::CentralDbUrl(central_options), store::Schema::kCentral));
  central::StationRegistry registry(*db, SystemClock::Instance());
  central::TokenRequest request;
  request.district_code = planned.kecamatan;
  request.kind = planned.kind;
  request.capabilities = {"enroll", "print", "pickup", "suket"};
  request.valid_for = std::chrono::hours(1);
  ASSIGN_OR_RETURN(std::string token, registry.CreateToken(request, "demo"));

  station::InitOptions init;
  init.data_dir = station_dir;
  init.central_url = central_url;
  init.token = token;
  ASSIGN_OR_RETURN(init.central_fingerprint, net::CertificateSha256(ReadFile(central_options.data_dir + "/tls-cert.pem")));
  init.admin_username = kAdmin;
  init.admin_password = kAdminPassword;
  ASSIGN_OR_RETURN(station::Identity identity, station::InitStation(init, SystemClock::Instance()));
  RETURN_IF_ERROR(registry.Approve(identity.station_id, "demo"));

  ASSIGN_OR_RETURN(station::StationFiles files, station::OpenStationFiles(station_dir));
  station::Station station(*files.db, SystemClock::Instance(), files.key, files.identity);
  return station.AddOperator({kOperator, "Operator Demo", station::Role::kOperator}, kOperatorPassword);
}

std::string FingerTemplate(const bio::SynthGenerator& synth, uint64_t subject, int finger, int impression) {
  bio::MasterFinger master = synth.Master(subject, finger);
  auto bytes =
      bio::EncodeTemplate(bio::SynthGenerator::ToRecord(synth.Impression(master, subject, finger, impression), finger));
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

StatusOr<nlohmann::json> CheckedJson(const StatusOr<net::HttpResponse>& response, int expected_status) {
  RETURN_IF_ERROR(response.status());
  if (response->status != expected_status) {
    return Internal("station answered HTTP " + std::to_string(response->status) + ": " + response->body);
  }
  return nlohmann::json::parse(response->body, nullptr, false);
}

// Synthetic fingerprint subjects of a station: its own range, after those
// enrolled in earlier runs (`earlier`).
uint64_t DemoSubject(size_t station_index, int64_t earlier, int i) {
  return station_index * 1'000'000 + static_cast<uint64_t>(earlier) + static_cast<uint64_t>(i);
}

// Enrolls `demo.residents` synthetic residents at station number
// `station_index` through its operator API, as the counter application does,
// and returns their registration numbers. `earlier` residents were enrolled
// there by earlier runs. On the last station the last `demo.duplicates`
// residents are planted duplicates: another name, but another impression of
// the fingers of one of the first station's residents of this run.
StatusOr<std::vector<std::string>> EnrollResidents(const DemoOptions& demo, size_t station_index, int64_t earlier,
                                                   int64_t first_station_earlier, net::HttpClient& station,
                                                   const net::HttpHeaders& auth) {
  const RegionRegistry& regions = RegionRegistry::Default();
  SeededRandom random(demo.seed * 1000 + station_index);
  bio::SynthGenerator synth(demo.seed);
  std::vector<std::string> registrations;
  const bool last_station = station_index + 1 == static_cast<size_t>(demo.stations);
  const int planted = std::min(demo.duplicates, demo.residents);
  for (int i = 0; i < demo.residents; ++i) {
    uint64_t subject = DemoSubject(station_index, earlier, i);
    int impression = 0;
    if (last_station && i >= demo.residents - planted) {
      subject = DemoSubject(0, first_station_earlier, i - (demo.residents - planted));
      impression = 1;
    }
    Resident resident = SyntheticResident(regions, demo.regency, random, SystemClock::Instance().TodayWib());
    nlohmann::json application = {{"kind", "first_card"}, {"resident", ResidentToJson(resident)}};
    std::vector<net::MultipartPart> parts = {
        {"application", "", "application/json", application.dump()},
        {"face", "face.jpg", "image/jpeg", std::string(ektp_demo_face_jpg, ektp_demo_face_jpg_end)},
        {"signature", "ttd.png", "image/png", std::string(ektp_demo_signature_png, ektp_demo_signature_png_end)},
    };
    for (int finger : kDemoFingers) {
      parts.push_back({"finger_" + std::to_string(finger), "finger.iso", "application/octet-stream",
                       FingerTemplate(synth, subject, finger, impression)});
    }
    net::HttpHeaders headers = auth;
    headers.emplace("idempotency-key", crypto::RandomToken(16));  // one per application (docs/openapi.yaml)
    ASSIGN_OR_RETURN(nlohmann::json receipt,
                     CheckedJson(station.PostMultipart("/api/v1/enrollments", parts, headers), 201));
    registrations.push_back(receipt.value("registration_number", ""));
  }
  return registrations;
}

// Waits until the station's outbox is empty (everything acknowledged by
// central) or `timeout` passes.
StatusOr<nlohmann::json> WaitForSync(net::HttpClient& station, const net::HttpHeaders& auth,
                                     std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(nlohmann::json status, CheckedJson(station.Get("/api/v1/sync/status", auth), 200));
    if (status.value("pending", -1) == 0) return status;
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable("outbox still has " + std::to_string(status.value("pending", -1)) +
                              " entries after " + std::to_string(timeout.count()) + " s; last sync error: " +
                              status.value("last_error", ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// Waits until central's pipeline has taken every record past de-duplication,
// then prints how many records are in each state.
Status PrintCentralCounts(const central::CentralOptions& options, std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(auto db, store::Open(central::CentralDbUrl(options), store::Schema::kCentral));
  store::RecordRepository records(*db, SystemClock::Instance());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::pair<RecordState, int64_t>> counts;
  while (true) {
    ASSIGN_OR_RETURN(counts, records.CountByState());
    bool settled = true;
    for (const auto& [state, count] : counts) {
      settled &= state != RecordState::kValidated && state != RecordState::kDedupePending;
    }
    if (settled) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable("central's pipeline did not finish within " + std::to_string(timeout.count()) +
                         " s; see `ektp central pipeline status --dir " + options.data_dir + "`");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::cout << "central records by state:";
  int64_t adjudication = 0;
  for (const auto& [state, count] : counts) {
    std::cout << "  " << RecordStateName(state) << "=" << count;
    if (state == RecordState::kAdjudication) adjudication = count;
  }
  std::cout << "\n";
  if (adjudication > 0) {
    std::cout << "suspected duplicates waiting for a person: ektp central adjudication list --dir "
              << options.data_dir << "\n";
  }
  return Status::Ok();
}

int RunDemo(const DemoOptions& demo) {
  std::filesystem::create_directories(demo.dir);
  const std::string log_path = demo.dir + "/ektp.log";
  if (Status status = service::LogToFile(log_path); !status.ok()) return Fail(status);
  central::CentralOptions central_options;
  central_options.data_dir = demo.dir + "/central";
  central_options.port = demo.central_port;
  if (Status status = central::InitCentral(central_options, {"localhost", "127.0.0.1"}); !status.ok()) {
    return Fail(status);
  }
  auto central = central::CentralServer::Create(central_options, SystemClock::Instance());
  if (!central.ok()) return Fail(central.status());
  if (Status status = (*central)->Start(); !status.ok()) {
    return Fail(status.WithContext("central on port " + std::to_string(demo.central_port) +
                                   " (choose another with --central-port, 0 for any free one)"));
  }
  const std::string central_url = (*central)->base_url();
  std::cout << "ektp demo in " << demo.dir << " (logs: " << log_path << ")\n"
            << "central:  " << central_url << "  (data in " << central_options.data_dir << ")\n"
            << "logins at every station: " << kOperator << " / " << kOperatorPassword << " (operator), " << kAdmin
            << " / " << kAdminPassword << " (admin)\n";

  std::vector<std::unique_ptr<station::StationServer>> stations;
  const std::vector<DemoStation> plan = PlanStations(demo);
  int64_t first_station_earlier = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const DemoStation& planned = plan[i];
    if (Status status = RegisterStation(planned, central_options, central_url); !status.ok()) return Fail(status);
    station::StationOptions station_options;
    station_options.data_dir = planned.dir;
    station_options.port = planned.port;
    station_options.central_urls = {central_url};
    station_options.sync.idle_interval = std::chrono::milliseconds(200);
    auto station = station::StationServer::Create(station_options, SystemClock::Instance());
    if (!station.ok()) return Fail(station.status());
    if (Status status = (*station)->Start(); !status.ok()) {
      return Fail(status.WithContext("station on port " + std::to_string(planned.port) +
                                     " (choose another with --station-port, 0 for any free ones)"));
    }
    auto client = net::HttpClient::Create((*station)->base_url(), {});
    if (!client.ok()) return Fail(client.status());
    auto login = CheckedJson(
        (*client)->Post("/api/v1/login", nlohmann::json{{"username", kOperator}, {"password", kOperatorPassword}}.dump(),
                        "application/json"),
        200);
    if (!login.ok()) return Fail(login.status());
    net::HttpHeaders auth = {{"authorization", "Bearer " + login->value("token", "")}};
    auto before = WaitForSync(**client, auth, std::chrono::seconds(120));
    if (!before.ok()) return Fail(before.status());
    const int64_t earlier = before->value("acked", int64_t{0});
    if (i == 0) first_station_earlier = earlier;
    auto registrations = EnrollResidents(demo, i, earlier, first_station_earlier, **client, auth);
    if (!registrations.ok()) return Fail(registrations.status());
    auto synced = WaitForSync(**client, auth, std::chrono::seconds(120));
    if (!synced.ok()) return Fail(synced.status());

    const Region* kecamatan = RegionRegistry::Default().Find(planned.kecamatan);
    std::cout << "station:  " << (*station)->base_url() << "  " << synced->value("station_id", "") << ", "
              << central::StationKindName(planned.kind) << ", kecamatan " << planned.kecamatan << " "
              << kecamatan->name << "\n"
              << "          enrolled " << registrations->size() << " residents now, acknowledged by central: "
              << synced->value("acked", 0) << "\n";
    if (!registrations->empty()) {
      std::cout << "          receipt: " << (*station)->base_url() << "/api/v1/enrollments/" << registrations->back()
                << "/receipt\n";
    }
    stations.push_back(std::move(*station));
  }
  if (Status status = PrintCentralCounts(central_options, std::chrono::seconds(120)); !status.ok()) return Fail(status);
  if (!demo.once) {
    std::cout << "running; Ctrl-C stops every server" << std::endl;
    WaitForStopSignal();
  }
  for (auto& station : stations) station->Stop();
  (*central)->Stop();
  return kExitOk;
}

}  // namespace

int Demo(const Args& args) {
  CLI::App app("Run central and stations on this machine, enroll synthetic residents and sync them", "demo");
  DemoOptions demo;
  app.add_option("--dir", demo.dir, "where central and the stations keep their data (reused if present)")
      ->capture_default_str();
  app.add_option("--regency", demo.regency, "regency whose residents are enrolled, one station per kecamatan")
      ->capture_default_str();
  app.add_option("--stations", demo.stations, "stations to run")->capture_default_str()->check(CLI::Range(1, 20));
  app.add_option("--residents", demo.residents, "synthetic residents to enroll at each station")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--duplicates", demo.duplicates,
                 "planted duplicates (the last station re-enrolls the first station's first residents under other "
                 "names) that central sends to adjudication")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", demo.seed, "seed for the synthetic residents and fingerprints")->capture_default_str();
  app.add_option("--central-port", demo.central_port, "central's HTTPS port (0 picks a free one)")->capture_default_str();
  app.add_option("--station-port", demo.station_port, "the first station's port, the others follow (0 picks free ones)")->capture_default_str();
  app.add_flag("--once", demo.once, "stop after enrolling and syncing instead of serving until Ctrl-C");
  if (auto exit = Parse(app, args)) return *exit;
  const Region* regency = RegionRegistry::Default().Find(demo.regency);
  if (regency == nullptr || regency->level != RegionLevel::kRegency) {
    return Fail(InvalidArgument("regency " + demo.regency + " does not exist"));
  }
  return RunDemo(demo);
}

}  // namespace ektp::cli
