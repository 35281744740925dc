// Finger exceptions that cannot be faked quietly (issue 19, item 4): a finger
// declared missing or unusable needs the hand's photo and another person's
// approval, a supervisor logged in as themselves; both travel in the packet
// and the audit, and central counts exception rates per operator and
// station. A real central over loopback HTTPS.
#include "station/station_test_fixture.h"

#include <nlohmann/json.hpp>

#include "central/hand_over.h"
#include "core/resident_json.h"
#include "net/http_client.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

class FingerExceptionsTest : public StationTest {
 protected:
  void SetUp() override {
    StationTest::SetUp();
    ASSERT_OK(station_->AddOperator({"budi", "Budi Santoso", Role::kOperator}, "kata-sandi-3",
                                    crypto::PasswordStrength::kFast));
  }

  // A request whose finger 10 (kelingking kiri) is declared amputated.
  EnrollmentRequest WithException() {
    EnrollmentRequest request = Request();
    request.biometrics.fingers.push_back({10, {}, enrollment::FingerException::kAmputated});
    return request;
  }

  std::string Session(const std::string& user, const std::string& password) {
    auto token = station_->Login(user, password, "127.0.0.1");
    EXPECT_OK(token.status());
    return token.ok() ? *token : "";
  }

  // Enroll is refused with `code` and `message`, naming `field` for the
  // operator in Bahasa Indonesia (`pesan` holding `kata`), and nothing is stored.
  void ExpectRefused(const Operator& op, const EnrollmentRequest& request, StatusCode code, const std::string& message,
                     const std::string& field, const std::string& kata) {
    EnrollRefusal refusal;
    EXPECT_THAT(station_->Enroll(op, request, "", &refusal), StatusIs(code, HasSubstr(message)));
    EXPECT_EQ(refusal.field, field);
    EXPECT_THAT(refusal.pesan, HasSubstr(kata));
    EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);
    EXPECT_EQ(StationCount("SELECT COUNT(*) FROM outbox"), 0);
    EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE action = 'finger_exception_approve'"), 0);
  }
};

TEST_F(FingerExceptionsTest, EachBadExceptionIsRefusedNamingItAndNothingIsStored) {
  // Without the hand's photo.
  EnrollmentRequest request = WithException();
  request.exception_approval_session = SupervisorSession();
  ExpectRefused(ani_, request, StatusCode::kInvalidArgument,
                "exception_photo is missing: the finger exceptions 10:amputated need a photo of the hand",
                "exception_photo", "Foto tangan untuk pengecualian sidik jari (kelingking kiri (diamputasi)) belum ada");
  // A photo that is not an image.
  request.biometrics.exception_photo = {'b', 'u', 'k', 'a', 'n', ' ', 'f', 'o', 't', 'o'};
  ExpectRefused(ani_, request, StatusCode::kInvalidArgument, "exception photo: is neither a PNG nor a JPEG image",
                "exception_photo", "Foto tangan untuk pengecualian sidik jari tidak dapat dipakai");
  // A truncated JPEG.
  request.biometrics.exception_photo = HandPhoto();
  request.biometrics.exception_photo.resize(request.biometrics.exception_photo.size() / 2);
  ExpectRefused(ani_, request, StatusCode::kInvalidArgument, "exception photo: ", "exception_photo", "Ambil ulang fotonya");
  // Without an approval.
  request.biometrics.exception_photo = HandPhoto();
  request.exception_approval_session.clear();
  ExpectRefused(ani_, request, StatusCode::kInvalidArgument,
                "exception_approval is missing: the finger exceptions 10:amputated need a supervisor's approval",
                "exception_approval", "harus disetujui penyelia");
  // Approved by an account that is not a supervisor.
  request.exception_approval_session = Session("budi", "kata-sandi-3");
  ExpectRefused(ani_, request, StatusCode::kPermissionDenied,
                "exception_approval: account budi is operator, not a supervisor; only a supervisor may approve finger "
                "exceptions",
                "exception_approval", "akun budi bukan penyelia");
  // The operator approving their own exception, and a supervisor enrolling who approves their own.
  request.exception_approval_session = Session("ani", "kata-sandi-1");
  ExpectRefused(ani_, request, StatusCode::kPermissionDenied,
                "exception_approval: account ani records this enrollment and may not approve its own finger exceptions",
                "exception_approval", "tidak boleh menyetujui pengecualian sidik jarinya sendiri");
  request.exception_approval_session = SupervisorSession();
  const Operator wati{"wati", "Wati Lestari", Role::kSupervisor};
  ExpectRefused(wati, request, StatusCode::kPermissionDenied,
                "account wati records this enrollment and may not approve its own", "exception_approval",
                "akun wati yang merekam");
  // A session that is not logged in.
  request.exception_approval_session = "bukan-sesi";
  ExpectRefused(ani_, request, StatusCode::kPermissionDenied, "exception_approval: the approving session is not logged in",
                "exception_approval", "Persetujuan penyelia tidak berlaku");
  // A photo or an approval with no exception.
  EnrollmentRequest plain = Request();
  plain.biometrics.exception_photo = HandPhoto();
  ExpectRefused(ani_, plain, StatusCode::kInvalidArgument, "exception_photo: given, but no finger is declared an exception",
                "exception_photo", "Foto tangan hanya diperlukan");
  plain.biometrics.exception_photo.clear();
  plain.exception_approval_session = SupervisorSession();
  ExpectRefused(ani_, plain, StatusCode::kInvalidArgument,
                "exception_approval: given, but no finger is declared an exception", "exception_approval",
                "Persetujuan penyelia hanya diperlukan");
}

// The happy path end to end: approved at the station (audited, the
// supervisor's session ended), carried in the signed packet, synced, counted
// and audited at central, and in the integrity report's exception rates.
TEST_F(FingerExceptionsTest, AnApprovedExceptionTravelsToCentralAndIsCounted) {
  EnrollmentRequest request = WithException();
  ApproveExceptions(request);
  const std::string session = request.exception_approval_session;
  auto receipt = station_->Enroll(ani_, request);
  ASSERT_OK(receipt.status());
  const std::string reg = receipt->registration_number;
  ASSERT_OK(station_->Enroll(ani_, Request()).status());  // one without an exception

  // The approval served once: the supervisor's session is over.
  EXPECT_THAT(station_->Authenticate(session), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'wati' AND action = 'finger_exception_approve' "
                         "AND subject = '" + reg + " fingers 10:amputated operator ani'"),
            1);
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  ASSERT_EQ(pending->size(), 2u);
  auto envelope = nlohmann::json::parse(pending->front().second.envelope_text);
  EXPECT_EQ(envelope["kind_v"], 4);
  auto body = nlohmann::json::parse(envelope["body"].get<std::string>());
  EXPECT_EQ(body["finger_exceptions"]["fingers"], nlohmann::json::parse(R"([{"position": 10, "exception": "amputated"}])"));
  EXPECT_EQ(body["finger_exceptions"]["approver"], "wati");
  EXPECT_EQ(body["finger_exceptions"]["approved_at"], FormatTimestamp(clock_.Now()));

  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'validated'"), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM enrollment_exception_counts WHERE registration_number = '" + reg +
                         "' AND fingers = 1 AND approver = 'wati' AND operator = 'ani'"),
            1);
  auto audit = central_db_->Query("SELECT actor, detail FROM audit_log WHERE action = 'enrollment.finger_exception' "
                                  "AND subject = ?",
                                  {"enrollment:" + reg});
  ASSERT_OK(audit.status());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].Text(0), "station:" + identity_.station_id + "/op:wati");
  EXPECT_THAT((*audit)[0].Text(1), HasSubstr(R"("operator":"ani")"));

  auto report = central::ComputeIntegrityReport(*central_db_);
  ASSERT_OK(report.status());
  ASSERT_EQ(report->stations.size(), 1u);
  EXPECT_EQ(report->stations[0].station_id, identity_.station_id);
  EXPECT_EQ(report->stations[0].exceptions.events, 1);
  EXPECT_EQ(report->stations[0].exceptions.out_of, 2);
  EXPECT_EQ(report->stations[0].unapproved_exceptions, 0);
  ASSERT_EQ(report->operators.size(), 1u);
  EXPECT_EQ(report->operators[0].operator_name, "ani");
  EXPECT_DOUBLE_EQ(report->operators[0].exceptions.rate, 0.5);
}

// The counter's API: the photo and the approving session are parts of the
// multipart enrollment; a refusal answers `error` in English, `pesan` in
// Bahasa Indonesia and `field` the part at fault.
TEST_F(FingerExceptionsTest, TheOperatorApiNamesThePartAtFault) {
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  net::HttpHeaders auth = LoginOverApi(**client, "ani", "kata-sandi-1");
  EnrollmentRequest request = Request();
  const nlohmann::json application = {{"kind", "first_card"},
                                      {"resident", ResidentToJson(request.resident)},
                                      {"finger_exceptions", {{"10", "amputated"}}}};
  int key = 0;
  auto post = [&](std::vector<net::MultipartPart> extra) {
    std::vector<net::MultipartPart> parts = EnrollmentParts(request, application);
    for (net::MultipartPart& part : extra) parts.push_back(std::move(part));
    net::HttpHeaders headers = auth;
    headers.emplace("idempotency-key", "counter-9-application-" + std::to_string(1000 + ++key));
    auto answer = (*client)->PostMultipart("/api/v1/enrollments", parts, headers);
    EXPECT_OK(answer.status());
    return std::pair{answer.ok() ? answer->status : 0,
                     answer.ok() ? nlohmann::json::parse(answer->body, nullptr, false) : nlohmann::json()};
  };
  auto [status, answer] = post({});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(answer["field"], "exception_photo");
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("exception_photo is missing"));
  EXPECT_THAT(answer["pesan"].get<std::string>(), HasSubstr("Foto tangan untuk pengecualian sidik jari"));

  const std::string budi = nlohmann::json::parse(
      (*client)->Post("/api/v1/login", R"({"username":"budi","password":"kata-sandi-3"})", "application/json")->body)["token"];
  std::tie(status, answer) = post(ExceptionParts(budi));
  EXPECT_EQ(status, 403);
  EXPECT_EQ(answer["field"], "exception_approval");
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("account budi is operator, not a supervisor"));
  EXPECT_THAT(answer["pesan"].get<std::string>(), HasSubstr("bukan penyelia"));

  std::vector<net::MultipartPart> bad_photo = ExceptionParts(SupervisorSession());
  bad_photo[0].content = "GIF89a";
  std::tie(status, answer) = post(bad_photo);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(answer["field"], "exception_photo");
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("exception photo: is neither a PNG nor a JPEG image"));

  std::vector<net::MultipartPart> malformed = ExceptionParts("x");
  malformed[1].content = R"({"username": "wati", "password": "kata-sandi-9"})";
  std::tie(status, answer) = post(malformed);
  EXPECT_EQ(status, 400);
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("part 'exception_approval' must be {\"session\""));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);

  std::tie(status, answer) = post(ExceptionParts(SupervisorSession()));
  EXPECT_EQ(status, 201) << answer.dump();
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'wati' AND action = 'finger_exception_approve'"), 1);
  (*server)->Stop();
}

}  // namespace
}  // namespace ektp::station
