#include "central/console_api.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "central/enrollment_oversight.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "net/http_client.h"
#include "store/audit_log.h"
#include "store/testing.h"

namespace ektp::central {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPassword[] = "kata-sandi-pusat";

// Central's real server on loopback (SQLite in a temp folder), with one
// account per console role.
class CentralConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::MakeTempDir("ektp-central-console");
    options_.data_dir = dir_;
    options_.plain_http = true;
    options_.run_pipeline = false;
    options_.login.strength = crypto::PasswordStrength::kFast;
    ASSERT_OK(InitCentral(options_, {}));
    {
      auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
      ASSERT_OK(db.status());
      accounts::Accounts accounts(**db, clock_, options_.login,
                                  [](std::string_view, std::string_view, std::string_view) { return Status::Ok(); });
      for (const char* role : {"admin", "adjudicator", "supervisor"}) {
        ASSERT_OK(accounts.Add({std::string("akun.") + role, "AKUN", role}, kPassword, crypto::PasswordStrength::kFast));
      }
    }
    auto server = CentralServer::Create(options_, clock_);
    ASSERT_OK(server.status());
    server_ = std::move(*server);
    ASSERT_OK(server_->Start());
    auto client = net::HttpClient::Create(server_->base_url(), {});
    ASSERT_OK(client.status());
    client_ = std::move(*client);
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  net::HttpResponse Post(const std::string& path, const nlohmann::json& body, const std::string& token = "") {
    net::HttpHeaders headers;
    if (!token.empty()) headers.emplace("authorization", "Bearer " + token);
    auto response = client_->Post(path, body.dump(), "application/json", headers);
    EXPECT_OK(response.status());
    return response.ok() ? *response : net::HttpResponse{};
  }
  net::HttpResponse Get(const std::string& path, const std::string& token) {
    auto response = client_->Get(path, {{"authorization", "Bearer " + token}});
    EXPECT_OK(response.status());
    return response.ok() ? *response : net::HttpResponse{};
  }
  std::string Login(const std::string& username) {
    net::HttpResponse response = Post("/api/v1/console/login", {{"username", username}, {"password", kPassword}});
    EXPECT_EQ(response.status, 200) << response.body;
    return nlohmann::json::parse(response.body).value("token", "");
  }
  int64_t AuditCount(const std::string& action) {
    auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
    auto rows = (*db)->Query("SELECT COUNT(*) FROM audit_log WHERE action = ?", {action});
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  FakeClock clock_{std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year(2026), std::chrono::December,
                                                                     std::chrono::day(6)})};
  std::string dir_;
  CentralOptions options_;
  std::unique_ptr<CentralServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(CentralConsoleTest, AWrongPasswordIsRefusedInBahasaIndonesiaAndAudited) {
  net::HttpResponse refused =
      Post("/api/v1/console/login", {{"username", "akun.admin"}, {"password", "bukan-sandinya"}});
  EXPECT_EQ(refused.status, 401);
  auto body = nlohmann::json::parse(refused.body);
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("wrong username or password"));
  EXPECT_THAT(body["pesan"].get<std::string>(), HasSubstr("kata sandi salah"));
  EXPECT_EQ(AuditCount("console.login_failed"), 1);
  EXPECT_EQ(AuditCount("console.login"), 0);
}

TEST_F(CentralConsoleTest, ALoginOpensASessionThatNamesTheAccountAndItsRole) {
  const std::string token = Login("akun.adjudicator");
  net::HttpResponse session = Get("/api/v1/console/session", token);
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(nlohmann::json::parse(session.body)["role"], "adjudicator");
  EXPECT_EQ(AuditCount("console.login"), 1);

  EXPECT_EQ(Post("/api/v1/console/logout", nlohmann::json::object(), token).status, 200);
  EXPECT_EQ(Get("/api/v1/console/session", token).status, 401);
  EXPECT_EQ(AuditCount("console.logout"), 1);
}

TEST_F(CentralConsoleTest, ASupervisorSeesTheDashboardButMayNotAdjudicate) {
  const std::string token = Login("akun.supervisor");
  net::HttpResponse dashboard = Get("/api/v1/console/dashboard?region=35.21", token);
  ASSERT_EQ(dashboard.status, 200) << dashboard.body;
  auto body = nlohmann::json::parse(dashboard.body);
  EXPECT_EQ(body["region"]["chain"].size(), 2u);
  EXPECT_TRUE(body["by_state"].empty());
  EXPECT_TRUE(body["children"].empty());
  EXPECT_EQ(Get("/api/v1/console/adjudications", token).status, 403);
  EXPECT_EQ(Post("/api/v1/console/adjudications/1/decide",
                 {{"verdict", "different_people"}, {"candidate_nik", ""}, {"note", "x"}}, token)
                .status,
            403);
  EXPECT_EQ(Get("/api/v1/console/adjudications", Login("akun.adjudicator")).status, 200);
}

TEST_F(CentralConsoleTest, BadInputIsRefusedByName) {
  const std::string token = Login("akun.admin");
  net::HttpResponse village = Get("/api/v1/console/dashboard?region=35.21.01.2001", token);
  EXPECT_EQ(village.status, 400);
  EXPECT_THAT(village.body, HasSubstr("not a known province, regency or kecamatan"));
  EXPECT_EQ(Get("/api/v1/console/adjudications/abc", token).status, 400);
  EXPECT_EQ(Get("/api/v1/console/adjudications/42", token).status, 404);
  EXPECT_EQ(Get("/api/v1/console/session", "not-a-token").status, 401);
}

TEST_F(CentralConsoleTest, AnAdminCreatesATokenThenApprovesAndRevokesTheStationItRegistered) {
  const std::string admin = Login("akun.admin");
  const nlohmann::json request = {{"kecamatan_code", "35.21.01"}, {"kind", "mobile_van"},
                                  {"capabilities", {"enroll", "suket"}}, {"valid_hours", 24}};
  EXPECT_EQ(Post("/api/v1/console/tokens", request, Login("akun.supervisor")).status, 403);
  net::HttpResponse created = Post("/api/v1/console/tokens", request, admin);
  ASSERT_EQ(created.status, 200) << created.body;
  const auto token = nlohmann::json::parse(created.body);
  EXPECT_EQ(token["expires_at"], "2026-12-07T00:00:00Z");
  EXPECT_EQ(nlohmann::json::parse(Get("/api/v1/console/stations", admin).body)["certificate_sha256"], "");  // plain HTTP

  std::string station_id;
  {
    auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
    ASSERT_OK(db.status());
    auto registered = StationRegistry(**db, clock_).Register(token["token"].get<std::string>(),
                                                             crypto::SigningKey::Generate().public_key());
    ASSERT_OK(registered.status());
    EXPECT_EQ(registered->kind, StationKind::kMobileVan);
    EXPECT_THAT(registered->capabilities, ::testing::ElementsAre("enroll", "suket"));
    station_id = registered->id;
  }

  // A supervisor sees the stations but may not decide.
  const std::string supervisor = Login("akun.supervisor");
  net::HttpResponse listed = Get("/api/v1/console/stations", supervisor);
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto station = nlohmann::json::parse(listed.body)["stations"].at(0);
  EXPECT_EQ(station["id"], station_id);
  EXPECT_EQ(station["status"], "pending");
  EXPECT_EQ(station["kecamatan_name"], "Sine");
  EXPECT_EQ(station["regency_name"], "Kabupaten Ngawi");
  EXPECT_EQ(Post("/api/v1/console/stations/" + station_id + "/approve", nlohmann::json::object(), supervisor).status,
            403);

  net::HttpResponse approved = Post("/api/v1/console/stations/" + station_id + "/approve", nlohmann::json::object(), admin);
  EXPECT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Post("/api/v1/console/stations/" + station_id + "/approve", nlohmann::json::object(), admin).status, 409);
  net::HttpResponse no_reason = Post("/api/v1/console/stations/" + station_id + "/revoke", {{"reason", ""}}, admin);
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_THAT(no_reason.body, HasSubstr("non-empty string"));
  EXPECT_EQ(Post("/api/v1/console/stations/" + station_id + "/revoke", {{"reason", "laptop dicuri"}}, admin).status, 200);
  EXPECT_EQ(nlohmann::json::parse(Get("/api/v1/console/stations", admin).body)["stations"][0]["status"], "revoked");

  auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
  auto actors = (*db)->Query("SELECT action, actor FROM audit_log WHERE action IN ('station.approved', 'station.revoked') "
                             "ORDER BY seq");
  ASSERT_OK(actors.status());
  ASSERT_EQ(actors->size(), 2u);
  EXPECT_EQ((*actors)[0].Text(1), "console:akun.admin");
  EXPECT_EQ((*actors)[1].Text(0), "station.revoked");
}

TEST_F(CentralConsoleTest, ATokenForAnUnknownKecamatanOrCapabilityIsRefusedByName) {
  const std::string admin = Login("akun.admin");
  net::HttpResponse kecamatan = Post("/api/v1/console/tokens",
                                     {{"kecamatan_code", "35.21.99"}, {"kind", "mobile_van"}, {"capabilities", {"enroll"}}},
                                     admin);
  EXPECT_EQ(kecamatan.status, 400);
  EXPECT_THAT(kecamatan.body, HasSubstr("kecamatan 35.21.99 does not exist"));
  net::HttpResponse capability = Post(
      "/api/v1/console/tokens", {{"kecamatan_code", "35.21.01"}, {"kind", "mobile_van"}, {"capabilities", {"fly"}}}, admin);
  EXPECT_EQ(capability.status, 400);
  EXPECT_THAT(capability.body, HasSubstr("fly"));
  EXPECT_EQ(Post("/api/v1/console/tokens", {{"kecamatan_code", "35.21.01"}}, admin).status, 400);
  auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
  auto tokens = (*db)->Query("SELECT COUNT(*) FROM registration_tokens");
  ASSERT_OK(tokens.status());
  EXPECT_EQ((*tokens)[0].Int(0), 0);
}

TEST_F(CentralConsoleTest, AnAdminStocksShipsAndHandsOverBlanksAndTheRegencyReconciles) {
  const std::string admin = Login("akun.admin");
  const std::string supervisor = Login("akun.supervisor");
  std::string station_id;
  {
    auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
    ASSERT_OK(db.status());
    StationRegistry registry(**db, clock_);
    TokenRequest request;
    request.kecamatan_code = "35.21.01";
    request.kind = StationKind::kDisdukcapilOffice;
    request.capabilities = {"enroll", "print"};
    auto token = registry.CreateToken(request, "admin");
    ASSERT_OK(token.status());
    auto registered = registry.Register(*token, crypto::SigningKey::Generate().public_key(),
                                        crypto::SealingKey::Generate().public_key());
    ASSERT_OK(registered.status());
    station_id = registered->id;
    ASSERT_OK(registry.Approve(station_id, "admin"));
  }

  // A supervisor reads but may not move blanks.
  EXPECT_EQ(Post("/api/v1/console/blanks/stock-in", {{"first", "1"}, {"last", "1000"}}, supervisor).status, 403);
  ASSERT_EQ(Post("/api/v1/console/blanks/stock-in", {{"first", "1"}, {"last", "1000"}, {"reference", "BA-1"}}, admin)
                .status,
            200);
  net::HttpResponse shipped = Post("/api/v1/console/blanks/shipments",
                                   {{"regency_code", "35.21"}, {"first", "1"}, {"last", "600"}}, admin);
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(nlohmann::json::parse(shipped.body)["range"], "0000000001-0000000600");
  ASSERT_EQ(Post("/api/v1/console/blanks/handovers", {{"station_id", station_id}, {"first", "1"}, {"last", "250"}}, admin)
                .status,
            200);

  net::HttpResponse overview = Get("/api/v1/console/blanks", supervisor);
  ASSERT_EQ(overview.status, 200) << overview.body;
  const auto body = nlohmann::json::parse(overview.body);
  EXPECT_EQ(body["national_stock"], 400);
  ASSERT_EQ(body["regencies"].size(), 1u);
  EXPECT_EQ(body["regencies"][0]["code"], "35.21");
  EXPECT_EQ(body["regencies"][0]["in_store"], 350);
  EXPECT_EQ(body["regencies"][0]["in_transit"], 250);
  ASSERT_EQ(body["print_stations"].size(), 1u);
  EXPECT_EQ(body["print_stations"][0]["regency_code"], "35.21");

  net::HttpResponse reconciliation = Get("/api/v1/console/blanks/regencies/35.21", supervisor);
  ASSERT_EQ(reconciliation.status, 200) << reconciliation.body;
  const auto regency = nlohmann::json::parse(reconciliation.body);
  EXPECT_EQ(regency["shipped"], 600);
  EXPECT_EQ(regency["handed_over"], 250);
  ASSERT_EQ(regency["discrepancies"].size(), 1u);
  EXPECT_EQ(regency["discrepancies"][0]["code"], "awaiting_receipt");

  // The plan divides a supply under the asked policy; supply is required.
  net::HttpResponse plan = Get("/api/v1/console/blanks/plan?supply=5000&policy=proportional&floor=0", admin);
  ASSERT_EQ(plan.status, 200) << plan.body;
  const auto planned = nlohmann::json::parse(plan.body);
  EXPECT_EQ(planned["policy"], "proportional");
  EXPECT_EQ(planned["summary"]["supply"], 5000);
  EXPECT_EQ(Get("/api/v1/console/blanks/plan", admin).status, 400);
  net::HttpResponse bad_policy = Get("/api/v1/console/blanks/plan?supply=10&policy=lottery", admin);
  EXPECT_EQ(bad_policy.status, 400);
  EXPECT_THAT(bad_policy.body, HasSubstr("lottery"));

  // Shipping serials national stock no longer holds is refused with what to check, and changes nothing.
  net::HttpResponse twice = Post("/api/v1/console/blanks/shipments",
                                 {{"regency_code", "35.12"}, {"first", "500"}, {"last", "700"}}, admin);
  EXPECT_EQ(twice.status, 409);
  const auto refusal = nlohmann::json::parse(twice.body);
  EXPECT_THAT(refusal["error"].get<std::string>(), HasSubstr("0000000500"));
  EXPECT_THAT(refusal["pesan"].get<std::string>(), HasSubstr("tidak ada di stok nasional"));
  net::HttpResponse bad_serial = Post("/api/v1/console/blanks/stock-in", {{"first", "12a"}, {"last", "20"}}, admin);
  EXPECT_EQ(bad_serial.status, 400);
  EXPECT_THAT(nlohmann::json::parse(bad_serial.body)["pesan"].get<std::string>(), HasSubstr("1-10 digit"));
  EXPECT_EQ(nlohmann::json::parse(Get("/api/v1/console/blanks", admin).body)["national_stock"], 400);
  EXPECT_EQ(AuditCount("blanks.ship"), 1);
}

TEST_F(CentralConsoleTest, TheDashboardFlagsEnrollmentsFarFromTheirStationOnlyInItsRegion) {
  {
    auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
    ASSERT_OK(db.status());
    StationRegistry registry(**db, clock_);
    auto token = registry.CreateToken({"35.21.01", StationKind::kMobileVan, {"enroll"}, std::chrono::hours(24)}, "admin");
    ASSERT_OK(token.status());
    auto van = registry.Register(*token, crypto::SigningKey::Generate().public_key());
    ASSERT_OK(van.status());
    ASSERT_OK(SetHomeArea(**db, clock_, van->id, {-7.404, 111.446, 25}, "admin"));
    enrollment::Enrollment near, far;
    near.registration_number = van->id + "-000001";
    near.location = enrollment::Location{-7.41, 111.45, 10};
    far.registration_number = van->id + "-000002";
    far.location = enrollment::Location{-6.2, 106.8, 10};  // Jakarta, about 530 km away
    near.operator_name = far.operator_name = "ani";
    const std::vector<const enrollment::Enrollment*> both = {&near, &far};
    ASSERT_OK((*db)->Transact([&] { return RecordEnrollmentOversight(**db, clock_, van->id, both); }));
  }
  const std::string supervisor = Login("akun.supervisor");
  net::HttpResponse ngawi = Get("/api/v1/console/dashboard?region=35.21", supervisor);
  ASSERT_EQ(ngawi.status, 200) << ngawi.body;
  const auto body = nlohmann::json::parse(ngawi.body);
  ASSERT_EQ(body["integrity"]["far_enrollments"].size(), 1u);
  EXPECT_EQ(body["integrity"]["far_enrollments"][0]["far"], 1);
  EXPECT_EQ(body["integrity"]["far_enrollments"][0]["located"], 2);
  EXPECT_TRUE(body["integrity"]["outliers"].empty());
  EXPECT_TRUE(body["throughput"].is_array());
  // Another regency's dashboard does not show Ngawi's flag.
  net::HttpResponse situbondo = Get("/api/v1/console/dashboard?region=35.12", supervisor);
  ASSERT_EQ(situbondo.status, 200) << situbondo.body;
  EXPECT_TRUE(nlohmann::json::parse(situbondo.body)["integrity"]["far_enrollments"].empty());
}

// Finger exceptions (enrollment_exception_counts): an operator whose share
// stands out is flagged with kind "exceptions", and a station whose
// exceptions came unapproved is named, in its region's dashboard only.
TEST_F(CentralConsoleTest, TheDashboardFlagsFingerExceptionOutliersAndUnapprovedOnes) {
  std::string station;
  {
    auto db = store::Open(CentralDbUrl(options_), store::Schema::kCentral);
    ASSERT_OK(db.status());
    StationRegistry registry(**db, clock_);
    auto token = registry.CreateToken({"35.21.01", StationKind::kMobileVan, {"enroll"}, std::chrono::hours(24)}, "admin");
    ASSERT_OK(token.status());
    auto van = registry.Register(*token, crypto::SigningKey::Generate().public_key());
    ASSERT_OK(van.status());
    station = van->id;
    for (const auto& [op, excepted] : {std::pair{"ani", 1}, {"budi", 1}, {"citra", 14}}) {
      for (int i = 0; i < 40; ++i) {
        ASSERT_OK((*db)->Exec("INSERT INTO enrollment_exception_counts (registration_number, station_id, operator, "
                              "fingers, approver, received_at) VALUES (?, ?, ?, ?, ?, 't')",
                              {station + "-" + op + std::to_string(i), station, op, int64_t{i < excepted ? 2 : 0},
                               i < excepted && i > 0 ? store::Value("sari") : store::Value()}));
      }
    }
  }
  const std::string supervisor = Login("akun.supervisor");
  net::HttpResponse ngawi = Get("/api/v1/console/dashboard?region=35.21", supervisor);
  ASSERT_EQ(ngawi.status, 200) << ngawi.body;
  const auto integrity = nlohmann::json::parse(ngawi.body)["integrity"];
  ASSERT_EQ(integrity["outliers"].size(), 1u) << integrity.dump();
  EXPECT_EQ(integrity["outliers"][0]["kind"], "exceptions");
  EXPECT_EQ(integrity["outliers"][0]["operator"], "citra");
  EXPECT_EQ(integrity["outliers"][0]["events"], 14);
  EXPECT_EQ(integrity["outliers"][0]["out_of"], 40);
  EXPECT_EQ(integrity["unapproved_exceptions"], nlohmann::json::parse(R"([{"station": ")" + station +
                                                                      R"(", "enrollments": 3}])"));
  net::HttpResponse situbondo = Get("/api/v1/console/dashboard?region=35.12", supervisor);
  ASSERT_EQ(situbondo.status, 200) << situbondo.body;
  const auto elsewhere = nlohmann::json::parse(situbondo.body)["integrity"];
  EXPECT_TRUE(elsewhere["outliers"].empty());
  EXPECT_TRUE(elsewhere["unapproved_exceptions"].empty());
}

TEST(ConsoleRoleTest, OnlyTheThreeRolesAreAccepted) {
  EXPECT_OK(CheckConsoleRole("adjudicator"));
  EXPECT_THAT(CheckConsoleRole("operator"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("admin, adjudicator, supervisor")));
}

}  // namespace
}  // namespace ektp::central
