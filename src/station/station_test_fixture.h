// The fixture of the station tests that run central and a station together
// in one process over loopback HTTPS: a central (pipeline off unless a test
// restarts it with one), a registered and approved station with the `enroll`
// and `print` capabilities, its Station and a SyncClient. Shared by
// station_test and print_offline_test.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "central/server.h"
#include "central/station_registry.h"
#include "core/status_matchers.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "net/http_client.h"
#include "station/server.h"
#include "station/station.h"
#include "station/sync_client.h"
#include "store/testing.h"

namespace ektp::station {

// Logs `user` in on the operator API; the session's authorization header.
// The multipart parts the console sends to POST /api/v1/enrollments for
// `request`: `application` as given, then the face, the signature and the
// first captured finger's template.
inline std::vector<net::MultipartPart> EnrollmentParts(const EnrollmentRequest& request,
                                                       const nlohmann::json& application) {
  auto as_string = [](const crypto::Bytes& b) { return std::string(b.begin(), b.end()); };
  return {
      {"application", "", "application/json", application.dump()},
      {"face", "face.jpg", "image/jpeg", as_string(request.biometrics.face_jpeg)},
      {"signature", "ttd.jpg", "image/jpeg", as_string(request.biometrics.signature_image)},
      {"finger_2", "f2.iso", "application/octet-stream", as_string(request.biometrics.fingers[0].template_bytes)},
  };
}

inline net::HttpHeaders LoginOverApi(net::HttpClient& client, const std::string& user, const std::string& password) {
  auto answer =
      client.Post("/api/v1/login", nlohmann::json{{"username", user}, {"password", password}}.dump(), "application/json");
  EXPECT_TRUE(answer.ok() && answer->status == 200);
  if (!answer.ok() || answer->status != 200) return {};
  return net::HttpHeaders{{"authorization", "Bearer " + nlohmann::json::parse(answer->body)["token"].get<std::string>()}};
}

class StationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::MakeTempDir("ektp-station-test-");
    central_options_.data_dir = dir_ + "/central";
    // Most tests check sync and ingest and send one fingerprint sample; the
    // pipeline test starts a central that runs it.
    central_options_.run_pipeline = false;
    ASSERT_OK(central::InitCentral(central_options_, {"central.example"}));
    auto central = central::CentralServer::Create(central_options_, clock_);
    ASSERT_TRUE(central.ok()) << central.status().ToString();
    central_ = std::move(*central);
    ASSERT_OK(central_->Start());

    auto db = store::Open(central::CentralDbUrl(central_options_), store::Schema::kCentral);
    ASSERT_TRUE(db.ok());
    central_db_ = std::move(*db);
    central::StationRegistry registry(*central_db_, clock_);
    auto token = registry.CreateToken({"35.21.01", central::StationKind::kKecamatanOffice, {"enroll", "print"}, std::chrono::hours(24)},
                                      "admin");
    ASSERT_TRUE(token.ok());

    InitOptions init{dir_ + "/station", central_->base_url(), *token, "", "admin", "admin-pass-1"};
    auto identity = InitStation(init, clock_);
    ASSERT_TRUE(identity.ok()) << identity.status().ToString();
    identity_ = *identity;
    ASSERT_OK(registry.Approve(identity_.station_id, "admin"));

    auto station_db = store::Open(StationDbUrl(init.data_dir), store::Schema::kStation);
    ASSERT_TRUE(station_db.ok());
    station_db_ = std::move(*station_db);
    auto key = crypto::SigningKey::Load(init.data_dir + "/station.key");
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<crypto::SigningKey>(*key);
    station_ = std::make_unique<Station>(*station_db_, clock_, *key_, identity_);
    ASSERT_OK(station_->AddOperator({"ani", "Ani Rahayu", Role::kOperator}, "kata-sandi-1", crypto::PasswordStrength::kFast));
    SyncOptions sync;
    std::ifstream in(init.data_dir + "/central-cert.pem");
    sync.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
    sync_ = std::make_unique<SyncClient>(*station_, clock_, random_, *key_, sync);
  }

  void TearDown() override {
    sync_.reset();  // close its keep-alive connection so the server stops at once
    if (central_) central_->Stop();
    std::filesystem::remove_all(dir_);
  }

  EnrollmentRequest Request() {
    EnrollmentRequest request;
    request.resident = SyntheticResident(RegionRegistry::Default(), "35.21", random_, clock_.TodayWib());
    request.biometrics = enrollment::testing::SampleBiometrics(3, 4000, random_);
    return request;
  }

  // The supervisor "wati", added once, logged in: a session to approve
  // finger exceptions with (Enroll ends it).
  std::string SupervisorSession() {
    Status added = station_->AddOperator({"wati", "Wati Lestari", Role::kSupervisor}, "kata-sandi-9",
                                         crypto::PasswordStrength::kFast);
    EXPECT_TRUE(added.ok() || added.code() == StatusCode::kAlreadyExists) << added.ToString();
    auto token = station_->Login("wati", "kata-sandi-9", "127.0.0.1");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }
  // A photo of a hand, as the exception photo: a 480 x 360 colour JPEG.
  static crypto::Bytes HandPhoto() { return enrollment::testing::SolidJpeg(480, 360, 3, 90); }
  // `request`'s finger exceptions with the hand's photo and wati's approval.
  void ApproveExceptions(EnrollmentRequest& request) {
    request.biometrics.exception_photo = HandPhoto();
    request.exception_approval_session = SupervisorSession();
  }
  // The multipart parts that carry the hand's photo and the approval of `session`.
  static std::vector<net::MultipartPart> ExceptionParts(const std::string& session) {
    const crypto::Bytes photo = HandPhoto();
    return {{"exception_photo", "tangan.jpg", "image/jpeg", std::string(photo.begin(), photo.end())},
            {"exception_approval", "", "application/json", nlohmann::json{{"session", session}}.dump()}};
  }

  // The station's operator API on this test's station, without sync.
  StatusOr<std::unique_ptr<StationServer>> StartOperatorServer(EnrollmentPolicy enrollment = {}) {
    StationOptions options;
    options.data_dir = dir_ + "/station";
    options.run_sync = false;
    options.enrollment = std::move(enrollment);
    ASSIGN_OR_RETURN(auto server, StationServer::Create(options, clock_));
    RETURN_IF_ERROR(server->Start());
    return server;
  }

  // Stops central and starts it again on a new port, running its pipeline
  // or not; station_ and sync_ then talk to the new one.
  void RestartCentral(bool run_pipeline) {
    sync_.reset();
    central_->Stop();
    central_options_.run_pipeline = run_pipeline;
    central_options_.pipeline.idle_poll = std::chrono::milliseconds(20);
    auto central = central::CentralServer::Create(central_options_, clock_);
    ASSERT_OK(central.status());
    central_ = std::move(*central);
    ASSERT_OK(central_->Start());
    identity_.central_urls = {central_->base_url()};
    UsePolicy({});
  }

  // station_ and sync_ afresh over the same database, key and identity,
  // with `policy` (the station's enrollment policy).
  void UsePolicy(const EnrollmentPolicy& policy) {
    sync_.reset();
    station_ = std::make_unique<Station>(*station_db_, clock_, *key_, identity_, LoginPolicy{}, PickupPolicy{}, policy);
    SyncOptions sync;
    std::ifstream in(dir_ + "/station/central-cert.pem");
    sync.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
    sync_ = std::make_unique<SyncClient>(*station_, clock_, random_, *key_, sync);
  }

  // The station's box key (station-box.key).
  std::unique_ptr<crypto::SealingKey> LoadBoxKey() {
    auto box_key = crypto::SealingKey::Load(dir_ + "/station/station-box.key");
    EXPECT_OK(box_key.status());
    return box_key.ok() ? std::make_unique<crypto::SealingKey>(std::move(*box_key)) : nullptr;
  }

  // The single number `sql` selects, from central's or the station's database; -1 on error.
  static int64_t CountIn(store::Connection& db, const std::string& sql) {
    auto rows = db.Query(sql);
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }
  int64_t CentralCount(const std::string& sql) { return CountIn(*central_db_, sql); }
  int64_t StationCount(const std::string& sql) { return CountIn(*station_db_, sql); }

  FakeClock clock_{std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year(2026), std::chrono::month(11),
                                                                    std::chrono::day(24)}) +
                   std::chrono::hours(2)};
  SeededRandom random_{5};
  std::string dir_;
  central::CentralOptions central_options_;
  std::unique_ptr<central::CentralServer> central_;
  std::unique_ptr<store::Connection> central_db_;
  Identity identity_;
  std::unique_ptr<store::Connection> station_db_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<Station> station_;
  std::unique_ptr<SyncClient> sync_;
  Operator ani_{"ani", "Ani Rahayu", Role::kOperator};
};

}  // namespace ektp::station
