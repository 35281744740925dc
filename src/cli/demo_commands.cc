// `ektp demo`: central and one kecamatan station on this machine, a station
// registered and approved the way an admin would, and synthetic residents of
// a real regency enrolled through the station's operator API and synced to
// central. Everything lives in one directory, so a second run reuses it.
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
#include "net/log.h"
#include "net/tls.h"
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
  std::string kecamatan = "35.21.01";  // Sine, Ngawi
  int residents = 20;
  uint64_t seed = 1;
  int central_port = 8443;
  int station_port = 8080;
  bool once = false;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Registers the demo station with central unless it already was, and
// approves it as the admin would after checking the request.
Status RegisterStation(const DemoOptions& demo, const central::CentralOptions& central_options,
                       const std::string& central_url, const std::string& station_dir) {
  if (std::filesystem::exists(station_dir + "/station.key")) return Status::Ok();
  ASSIGN_OR_RETURN(auto db, store::Open(central::CentralDbUrl(central_options), store::Schema::kCentral));
  central::StationRegistry registry(*db, SystemClock::Instance());
  central::TokenRequest request;
  request.district_code = demo.kecamatan;
  request.kind = central::StationKind::kKecamatanOffice;
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

  ASSIGN_OR_RETURN(auto station_db, store::Open(station::StationDbUrl(station_dir), store::Schema::kStation));
  ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::SigningKey::Load(station_dir + "/station.key"));
  station::Station station(*station_db, SystemClock::Instance(), key, identity);
  return station.AddOperator({kOperator, "Operator Demo", station::Role::kOperator}, kOperatorPassword);
}

std::string FingerTemplate(const bio::SynthGenerator& synth, uint64_t subject, int finger) {
  bio::MasterFinger master = synth.Master(subject, finger);
  auto bytes = bio::EncodeTemplate(bio::SynthGenerator::ToRecord(synth.Impression(master, subject, finger, 0), finger));
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

StatusOr<nlohmann::json> CheckedJson(const StatusOr<net::HttpResponse>& response, int expected_status) {
  RETURN_IF_ERROR(response.status());
  if (response->status != expected_status) {
    return Internal("station answered HTTP " + std::to_string(response->status) + ": " + response->body);
  }
  return nlohmann::json::parse(response->body, nullptr, false);
}

// Enrolls `demo.residents` synthetic residents through the operator API, as
// the counter application does, and returns their registration numbers.
StatusOr<std::vector<std::string>> EnrollResidents(const DemoOptions& demo, net::HttpClient& station,
                                                   const net::HttpHeaders& auth) {
  const RegionRegistry& regions = RegionRegistry::Default();
  SeededRandom random(demo.seed);
  bio::SynthGenerator synth(demo.seed);
  const std::string regency = std::string(ParentCode(demo.kecamatan));
  std::vector<std::string> registrations;
  for (int i = 0; i < demo.residents; ++i) {
    Resident resident = SyntheticResident(regions, regency, random, SystemClock::Instance().TodayWib());
    nlohmann::json application = {{"kind", "first_card"}, {"resident", ResidentToJson(resident)}};
    std::vector<net::MultipartPart> parts = {
        {"application", "", "application/json", application.dump()},
        {"face", "face.jpg", "image/jpeg", std::string(ektp_demo_face_jpg, ektp_demo_face_jpg_end)},
        {"signature", "ttd.png", "image/png", std::string(ektp_demo_signature_png, ektp_demo_signature_png_end)},
    };
    for (int finger : kDemoFingers) {
      parts.push_back({"finger_" + std::to_string(finger), "finger.iso", "application/octet-stream",
                       FingerTemplate(synth, static_cast<uint64_t>(i), finger)});
    }
    ASSIGN_OR_RETURN(nlohmann::json receipt, CheckedJson(station.PostMultipart("/api/v1/enrollments", parts, auth), 201));
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

void PrintCentralCounts(const central::CentralOptions& options) {
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return;
  store::RecordRepository records(**db, SystemClock::Instance());
  auto counts = records.CountByState();
  if (!counts.ok()) return;
  std::cout << "central records by state:";
  for (const auto& [state, count] : *counts) std::cout << "  " << RecordStateName(state) << "=" << count;
  std::cout << "\n";
}

int RunDemo(const DemoOptions& demo) {
  std::filesystem::create_directories(demo.dir);
  const std::string log_path = demo.dir + "/ektp.log";
  if (Status status = net::LogToFile(log_path); !status.ok()) return Fail(status);
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
  const std::string station_dir = demo.dir + "/station";
  if (Status status = RegisterStation(demo, central_options, central_url, station_dir); !status.ok()) {
    return Fail(status);
  }

  station::StationOptions station_options;
  station_options.data_dir = station_dir;
  station_options.port = demo.station_port;
  station_options.central_urls = {central_url};
  station_options.sync.idle_interval = std::chrono::milliseconds(200);
  auto station = station::StationServer::Create(station_options, SystemClock::Instance());
  if (!station.ok()) return Fail(station.status());
  if (Status status = (*station)->Start(); !status.ok()) {
    return Fail(status.WithContext("station on port " + std::to_string(demo.station_port) +
                                   " (choose another with --station-port, 0 for any free one)"));
  }

  auto client = net::HttpClient::Create((*station)->base_url(), {});
  if (!client.ok()) return Fail(client.status());
  auto login = CheckedJson((*client)->Post("/api/v1/login",
                                           nlohmann::json{{"username", kOperator}, {"password", kOperatorPassword}}.dump(),
                                           "application/json"),
                           200);
  if (!login.ok()) return Fail(login.status());
  net::HttpHeaders auth = {{"authorization", "Bearer " + login->value("token", "")}};

  auto registrations = EnrollResidents(demo, **client, auth);
  if (!registrations.ok()) return Fail(registrations.status());
  auto synced = WaitForSync(**client, auth, std::chrono::seconds(120));
  if (!synced.ok()) return Fail(synced.status());

  std::cout << "ektp demo in " << demo.dir << " (logs: " << log_path << ")\n"
            << "central:  " << central_url << "  (data in " << central_options.data_dir << ")\n"
            << "station:  " << (*station)->base_url() << "  " << synced->value("station_id", "") << ", kecamatan "
            << demo.kecamatan << "\n"
            << "logins:   " << kOperator << " / " << kOperatorPassword << " (operator), " << kAdmin << " / "
            << kAdminPassword << " (admin)\n"
            << "enrolled: " << registrations->size() << " residents now, acknowledged by central: "
            << synced->value("acked", 0) << "\n";
  if (!registrations->empty()) {
    std::cout << "receipt:  " << (*station)->base_url() << "/api/v1/enrollments/" << registrations->back()
              << "/receipt\n";
  }
  PrintCentralCounts(central_options);
  if (!demo.once) {
    std::cout << "running; Ctrl-C stops both servers" << std::endl;
    WaitForStopSignal();
  }
  (*station)->Stop();
  (*central)->Stop();
  return kExitOk;
}

}  // namespace

int Demo(const Args& args) {
  CLI::App app("Run central and one station on this machine, enroll synthetic residents and sync them", "demo");
  DemoOptions demo;
  app.add_option("--dir", demo.dir, "where central and the station keep their data (reused if present)")
      ->capture_default_str();
  app.add_option("--kecamatan", demo.kecamatan, "the station's kecamatan")->capture_default_str();
  app.add_option("--residents", demo.residents, "synthetic residents to enroll")->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--seed", demo.seed, "seed for the synthetic residents and fingerprints")->capture_default_str();
  app.add_option("--central-port", demo.central_port, "central's HTTPS port (0 picks a free one)")->capture_default_str();
  app.add_option("--station-port", demo.station_port, "the station's port (0 picks a free one)")->capture_default_str();
  app.add_flag("--once", demo.once, "stop after enrolling and syncing instead of serving until Ctrl-C");
  if (auto exit = Parse(app, args)) return *exit;
  const Region* kecamatan = RegionRegistry::Default().Find(demo.kecamatan);
  if (kecamatan == nullptr || kecamatan->level != RegionLevel::kDistrict) {
    return Fail(InvalidArgument("kecamatan " + demo.kecamatan + " does not exist"));
  }
  return RunDemo(demo);
}

}  // namespace ektp::cli
