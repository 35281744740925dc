// Operators accountable by fingerprint (issue 19, item 3): fingerprint login
// against the operator's own enrolled templates, the refusal of an operator
// enrolling themselves, and central refusing a revoked operator's later
// packets at sync, with a real central over loopback HTTPS.
#include "station/station_test_fixture.h"

#include <nlohmann/json.hpp>

#include "central/operator_revocations.h"
#include "core/resident_json.h"
#include "net/http_client.h"
#include "service/metrics.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using enrollment::testing::FvcTemplate;

// Ani's own fingers are FVC2002 finger 106 (DB1 as her right index, DB2 as
// her left index); the applicants of Request() are finger 104
// (enrollment::testing::SampleBiometrics(3)).
constexpr int kAnisFinger = 106;

class OperatorFingerprintTest : public StationTest {
 protected:
  void SetUp() override {
    StationTest::SetUp();
    box_key_ = LoadBoxKey();
    ASSERT_NE(box_key_, nullptr);
    ASSERT_OK(station_->AddOperator(budi_, "kata-sandi-3", crypto::PasswordStrength::kFast));
    ASSERT_OK(station_->AddOperator(sari_, "kata-sandi-4", crypto::PasswordStrength::kFast));
    EnrollmentPolicy policy;
    policy.operator_fingerprints_key = box_key_.get();
    UsePolicy(policy);
  }

  // Enrolls Ani's right and left index fingers (impression 2 of each).
  void EnrollAnisFingers() {
    ASSERT_OK(station_->EnrollOperatorFingerprints(
        "ani", {{2, FvcTemplate(1, kAnisFinger, 2)}, {7, FvcTemplate(2, kAnisFinger, 2)}}, *box_key_, "admin"));
  }

  // POST /api/v1/login with a finger; the answer's status and JSON body.
  std::pair<int, nlohmann::json> FingerLogin(net::HttpClient& client, const std::string& user, int position,
                                             const crypto::Bytes& template_bytes) {
    nlohmann::json body = {{"username", user},
                           {"fingerprint", {{"position", position}, {"template", crypto::Base64Encode(template_bytes)}}}};
    auto answer = client.Post("/api/v1/login", body.dump(), "application/json");
    EXPECT_TRUE(answer.ok());
    if (!answer.ok()) return {0, {}};
    return {answer->status, nlohmann::json::parse(answer->body, nullptr, false)};
  }

  static double LoginFailures() {
    return service::MetricsRegistry::Default()
        .GetCounter("ektp_login_failures_total", "Logins refused for a wrong username, password or fingerprint")
        .value();
  }


  std::unique_ptr<crypto::SealingKey> box_key_;
  Operator budi_{"budi", "Budi Santoso", Role::kSupervisor};
  Operator sari_{"sari", "Sari Wulandari", Role::kPrintOfficer};
};

TEST_F(OperatorFingerprintTest, EnrollingOperatorFingerprintsRefusesBadInputByName) {
  EXPECT_THAT(station_->EnrollOperatorFingerprints("ani", {}, *box_key_, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "give 1 to 10 fingers"));
  EXPECT_THAT(station_->EnrollOperatorFingerprints("ani", {{11, FvcTemplate(1, kAnisFinger, 2)}}, *box_key_, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "finger position 11 is not 1 to 10"));
  EXPECT_THAT(station_->EnrollOperatorFingerprints(
                  "ani", {{2, FvcTemplate(1, kAnisFinger, 2)}, {2, FvcTemplate(1, kAnisFinger, 3)}}, *box_key_, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "finger 2 (telunjuk kanan) is given twice"));
  EXPECT_THAT(station_->EnrollOperatorFingerprints("ani", {{2, {1, 2, 3}}}, *box_key_, "admin"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the operator's finger 2: ")));
  EXPECT_THAT(station_->EnrollOperatorFingerprints("nobody", {{2, FvcTemplate(1, kAnisFinger, 2)}}, *box_key_, "admin"),
              StatusIs(StatusCode::kNotFound, "no enabled operator account nobody at this station"));
  // Print officers and admins log in with the password only.
  EXPECT_THAT(station_->EnrollOperatorFingerprints("sari", {{2, FvcTemplate(1, 107, 2)}}, *box_key_, "admin"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("role print_officer logs in with the password only")));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM operator_fingerprints"), 0);

  EnrollAnisFingers();
  EXPECT_EQ(*station_->OperatorFingerPositions("ani"), (std::vector<int>{2, 7}));
  EXPECT_TRUE(station_->OperatorFingerPositions("budi")->empty());
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE action = 'operator_fingerprints_enrolled' AND "
                         "operator = 'admin' AND subject = 'ani fingers 2,7'"),
            1);
  // Stored sealed: the templates' bytes are nowhere in the row.
  auto row = station_db_->Query("SELECT sealed_templates FROM operator_fingerprints WHERE username = 'ani'");
  ASSERT_OK(row.status());
  const crypto::Bytes stored = (*row)[0].Bytes(0);
  const crypto::Bytes plain = FvcTemplate(1, kAnisFinger, 2);
  EXPECT_EQ(std::search(stored.begin(), stored.end(), plain.begin(), plain.end()), stored.end());
}

TEST_F(OperatorFingerprintTest, FingerprintLoginTakesTheRightFingerAndRefusesAWrongOneByName) {
  EnrollAnisFingers();
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  const double failures_before = LoginFailures();

  // The right index finger, another impression than the enrolled one: a session.
  auto [status, body] = FingerLogin(**client, "ani", 2, FvcTemplate(1, kAnisFinger, 4));
  ASSERT_EQ(status, 200) << body.dump();
  auto session = (*client)->Get("/api/v1/session",
                                {{"authorization", "Bearer " + body["token"].get<std::string>()}});
  ASSERT_OK(session.status());
  EXPECT_EQ(session->status, 200);
  EXPECT_THAT(session->body, HasSubstr("\"ani\""));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'ani' AND action = 'login' AND "
                         "subject LIKE '% by fingerprint'"),
            1);
  const int64_t sessions = StationCount("SELECT COUNT(*) FROM sessions");

  // Someone else's finger at an enrolled position: refused, naming the finger.
  std::tie(status, body) = FingerLogin(**client, "ani", 2, FvcTemplate(1, 104, 4));
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"], "UNAUTHENTICATED: the fingerprint does not match the enrolled finger 2 (telunjuk kanan); "
                           "present it again, or log in with the password");
  EXPECT_THAT(body["pesan"].get<std::string>(), HasSubstr("Sidik jari tidak cocok dengan telunjuk kanan yang terdaftar"));
  // A finger that is not enrolled: refused, naming it and the enrolled ones.
  std::tie(status, body) = FingerLogin(**client, "ani", 3, FvcTemplate(1, kAnisFinger, 4));
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"], "UNAUTHENTICATED: finger 3 (jari tengah kanan) is not enrolled for this account (enrolled: "
                           "finger 2 (telunjuk kanan), finger 7 (telunjuk kiri)); present an enrolled finger");
  EXPECT_THAT(body["pesan"].get<std::string>(),
              HasSubstr("Jari yang ditempelkan (jari tengah kanan) tidak terdaftar untuk akun Anda. Gunakan jari "
                        "yang terdaftar: telunjuk kanan, telunjuk kiri."));
  // Both counted as failed logins, audited, and no session opened.
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM sessions"), sessions);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'ani' AND action = 'login_failed' AND "
                         "subject LIKE '% by fingerprint; %'"),
            2);
  EXPECT_EQ(StationCount("SELECT failures FROM login_throttle WHERE scope = 'account' AND subject = 'ani'"), 2);
  EXPECT_EQ(LoginFailures(), failures_before + 2);

  // Bad input is refused by name before it is counted; nothing changes.
  std::tie(status, body) = FingerLogin(**client, "ani", 2, {0x46, 0x4d, 0x52, 0x00, 1, 2});
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("INVALID_ARGUMENT: presented finger 2: "));
  std::tie(status, body) = FingerLogin(**client, "ani", 0, FvcTemplate(1, kAnisFinger, 4));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"], "INVALID_ARGUMENT: fingerprint.position 0 is not 1 to 10");
  auto malformed = (*client)->Post("/api/v1/login", R"({"username":"ani","fingerprint":{"position":2}})",
                                   "application/json");
  ASSERT_OK(malformed.status());
  EXPECT_EQ(malformed->status, 400);
  EXPECT_THAT(malformed->body, HasSubstr("\\\"fingerprint\\\": {\\\"position\\\": <1-10>"));
  EXPECT_EQ(StationCount("SELECT failures FROM login_throttle WHERE scope = 'account' AND subject = 'ani'"), 2);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'"), 2);
  (*server)->Stop();
}

TEST_F(OperatorFingerprintTest, AnOperatorWithoutEnrolledFingerprintsCannotLogInByFinger) {
  EnrollAnisFingers();
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  const std::string refusal =
      "UNAUTHENTICATED: no fingerprint is enrolled for this username at this station; log in with the password, or "
      "ask the admin to enroll yours (`ektp station operator fingerprints`)";
  // Budi (a supervisor) has none: even Ani's finger does not open his account.
  auto [status, body] = FingerLogin(**client, "budi", 2, FvcTemplate(1, kAnisFinger, 4));
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"], refusal);
  EXPECT_THAT(body["pesan"].get<std::string>(), HasSubstr("Sidik jari Anda belum didaftarkan di stasiun ini"));
  // An unknown username gets the same answer, so it does not tell which accounts exist.
  std::tie(status, body) = FingerLogin(**client, "nobody", 2, FvcTemplate(1, kAnisFinger, 4));
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"], refusal);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM sessions"), 0);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'"), 2);
  // The password still works for him.
  LoginOverApi(**client, "budi", "kata-sandi-3");
  (*server)->Stop();
}

TEST_F(OperatorFingerprintTest, AnOperatorEnrollingThemselvesIsRefusedAndFlagged) {
  EnrollAnisFingers();
  // The applicant's right and left index fingers are Ani's own (impression 1, as captured at the counter).
  EnrollmentRequest herself = Request();
  herself.biometrics.fingers = {{2, FvcTemplate(1, kAnisFinger, 1), enrollment::FingerException::kNone},
                                {7, FvcTemplate(2, kAnisFinger, 1), enrollment::FingerException::kNone}};
  auto& counter = service::MetricsRegistry::Default().GetCounter(
      "ektp_station_self_enrollments_refused_total",
      "Enrollments refused because the applicant's fingerprints matched the operator's own");
  const double refused_before = counter.value();
  EXPECT_THAT(station_->Enroll(ani_, herself),
              StatusIs(StatusCode::kPermissionDenied,
                       "self-enrollment refused: the applicant's fingerprints (fingers 2,7) match operator ani's own "
                       "enrolled fingerprints; an operator may not enroll themselves. Nothing was stored; the attempt "
                       "is audited. Another operator must record this application"));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM outbox"), 0);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'ani' AND action = 'self_enrollment_refused' "
                         "AND subject = 'fingers 2,7'"),
            1);
  EXPECT_EQ(counter.value(), refused_before + 1);

  // Another applicant is enrolled by Ani as usual; Ani herself by Budi.
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_->Enroll(budi_, herself).status());
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 2);

  // Over the API the counter reads why in Bahasa Indonesia (403).
  auto server = StartOperatorServer();  // it opens the fingerprints with its own station-box.key
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  net::HttpHeaders auth = LoginOverApi(**client, "ani", "kata-sandi-1");
  auth.emplace("idempotency-key", "counter-1-application-0003");
  auto as_string = [](const crypto::Bytes& b) { return std::string(b.begin(), b.end()); };
  std::vector<net::MultipartPart> parts = {
      {"application", "", "application/json",
       nlohmann::json{{"kind", "first_card"}, {"resident", ResidentToJson(herself.resident)}}.dump()},
      {"face", "face.jpg", "image/jpeg", as_string(herself.biometrics.face_jpeg)},
      {"signature", "ttd.jpg", "image/jpeg", as_string(herself.biometrics.signature_image)},
      {"finger_2", "f2.iso", "application/octet-stream", as_string(FvcTemplate(1, kAnisFinger, 3))},
  };
  auto refused = (*client)->PostMultipart("/api/v1/enrollments", parts, auth);
  ASSERT_OK(refused.status());
  EXPECT_EQ(refused->status, 403);
  auto answer = nlohmann::json::parse(refused->body);
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("PERMISSION_DENIED: self-enrollment refused: "));
  EXPECT_EQ(answer["pesan"], std::string(kSelfEnrollmentPesan));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 2);
  (*server)->Stop();
}

TEST_F(OperatorFingerprintTest, ARevokedOperatorsLaterPacketsAreRefusedAtCentralWithTheReasonShownAtTheStation) {
  const std::string before = station_->Enroll(ani_, Request())->registration_number;
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 1);

  clock_.Advance(std::chrono::minutes(10));
  ASSERT_OK(central::RevokeOperator(*central_db_, clock_, identity_.station_id, "ani",
                                    "left the office; account misused", "admin"));
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM audit_log WHERE action = 'operator.revoked' AND actor = 'admin'"), 1);
  EXPECT_THAT(central::RevokeOperator(*central_db_, clock_, identity_.station_id, "ani", "again", "admin"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("was revoked already at 2026-11-24T02:10:00")));

  // The station still lets her work offline; central judges at sync.
  clock_.Advance(std::chrono::minutes(5));
  const std::string after = station_->Enroll(ani_, Request())->registration_number;
  const std::string by_budi = station_->Enroll(budi_, Request())->registration_number;
  ASSERT_OK(sync_->SyncOnce());

  auto parked = station_->GetEnrollmentStatus(after);
  ASSERT_OK(parked.status());
  EXPECT_EQ(parked->stage, EnrollmentStage::kParked);
  EXPECT_THAT(parked->reason, HasSubstr("PERMISSION_DENIED: packet 2: operator ani of station " + identity_.station_id +
                                        " was revoked at central at 2026-11-24T02:10:00"));
  EXPECT_THAT(parked->reason, HasSubstr("(left the office; account misused) and performed this work at "
                                        "2026-11-24T02:15:00"));
  EXPECT_THAT(parked->reason, HasSubstr("Have another operator record it again in their own account"));
  // The parked list the operator sees names it too.
  auto outbox = station_->Outbox(OutboxState::kParked, 10);
  ASSERT_OK(outbox.status());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].reference, after);
  EXPECT_THAT((*outbox)[0].last_error, HasSubstr("was revoked at central"));
  // Her earlier work and the others' later work are kept.
  EXPECT_NE(station_->GetEnrollmentStatus(before)->stage, EnrollmentStage::kParked);
  EXPECT_NE(station_->GetEnrollmentStatus(by_budi)->stage, EnrollmentStage::kParked);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE registration_number = '" + after + "'"), 0);
}

}  // namespace
}  // namespace ektp::station
