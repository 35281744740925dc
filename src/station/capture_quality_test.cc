// The capture-quality gate at the station (issue 17, item 6): a captured
// finger below the station's minimum is refused naming the finger, in
// English for the API and Bahasa Indonesia for the operator, unless it is
// declared an exception; each finger's quality travels in the packet and is
// stored at central.
#include "station/station_test_fixture.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "bio/quality.h"
#include "bio/template.h"
#include "core/resident_json.h"
#include "net/http_client.h"
#include "sync/packet.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

// An ISO 19794-2:2005 template of `n` minutiae evenly on a circle of
// `radius_mm` millimetres at 500 dpi (197 px/cm), minutia quality not reported.
crypto::Bytes CircleTemplate(int n, double radius_mm) {
  bio::TemplateRecord record;
  record.width = record.height = 600;
  record.resolution_x = record.resolution_y = 197;
  bio::FingerView view;
  view.position = 2;
  view.width = view.height = 600;
  view.resolution_x = view.resolution_y = 197;
  for (int i = 0; i < n; ++i) {
    const double a = i * 2 * 3.14159265358979 / n;
    view.minutiae.push_back({bio::kMinutiaEnding, static_cast<uint16_t>(std::lround(300 + radius_mm * 19.7 * std::cos(a))),
                             static_cast<uint16_t>(std::lround(300 + radius_mm * 19.7 * std::sin(a))),
                             static_cast<uint8_t>(i * 11), 0});
  }
  record.views.push_back(std::move(view));
  auto bytes = bio::EncodeTemplate(record);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : crypto::Bytes{};
}

// 12 minutiae within 2 mm: 0.3 (count) x ~0.12 (hull 12.4 mm^2 of 100) -> 3.
const crypto::Bytes& PoorTemplate() {
  static const crypto::Bytes bytes = CircleTemplate(12, 2);
  return bytes;
}
// 40 minutiae over a 7 mm circle: every share full -> 100.
const crypto::Bytes& GoodTemplate() {
  static const crypto::Bytes bytes = CircleTemplate(40, 7);
  return bytes;
}

std::string AsString(const crypto::Bytes& b) { return std::string(b.begin(), b.end()); }

// An enrollment policy with only the capture-quality gate set.
EnrollmentPolicy QualityPolicy(int min_capture_quality) {
  EnrollmentPolicy policy;
  policy.min_capture_quality = min_capture_quality;
  return policy;
}

class CaptureQualityTest : public StationTest {
 protected:
  // A request whose right index (2) is `right_index` and left index (7) good.
  EnrollmentRequest RequestWith(const crypto::Bytes& right_index) {
    EnrollmentRequest request = Request();
    request.biometrics.fingers = {{2, right_index, enrollment::FingerException::kNone},
                                  {7, GoodTemplate(), enrollment::FingerException::kNone}};
    return request;
  }

};

TEST_F(CaptureQualityTest, TheSampleTemplatesScoreAsDesigned) {
  auto assess = [](const crypto::Bytes& bytes) {
    auto record = bio::DecodeTemplate(bytes);
    EXPECT_TRUE(record.ok());
    return bio::AssessCaptureQuality(record->views[0], record->format);
  };
  EXPECT_EQ(assess(PoorTemplate()).whole_score(), 3);
  EXPECT_EQ(assess(PoorTemplate()).weakest, bio::QualityFactor::kArea);
  EXPECT_EQ(assess(GoodTemplate()).whole_score(), 100);
}

TEST_F(CaptureQualityTest, AFingerBelowTheMinimumIsRefusedNamingItAndNothingIsStored) {
  UsePolicy(QualityPolicy(40));
  EXPECT_THAT(station_->Enroll(ani_, RequestWith(PoorTemplate())),
              StatusIs(StatusCode::kInvalidArgument,
                       "finger_2 (telunjuk kanan): capture quality 3 is below this station's minimum 40 (the minutiae "
                       "cover 12 mm^2 of the 100 a full capture has); capture the finger again, or record an exception "
                       "for it"));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM outbox"), 0);

  // Captured again, well: accepted.
  EXPECT_OK(station_->Enroll(ani_, RequestWith(GoodTemplate())).status());
  // No gate at 0 (the in-process default).
  UsePolicy({});
  EXPECT_OK(station_->Enroll(ani_, RequestWith(PoorTemplate())).status());
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 2);
}

TEST_F(CaptureQualityTest, AFingerDeclaredAnExceptionIsNotGated) {
  UsePolicy(QualityPolicy(40));
  EnrollmentRequest request = RequestWith(PoorTemplate());
  request.biometrics.fingers[0] = {2, {}, enrollment::FingerException::kUnusable};
  ApproveExceptions(request);
  auto receipt = station_->Enroll(ani_, request);
  ASSERT_OK(receipt.status());
  // Only the captured finger's quality is recorded.
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  ASSERT_EQ(pending->size(), 1u);
  auto envelope = sync::ParseEnvelope(pending->front().second.envelope_text);
  ASSERT_OK(envelope.status());
  auto e = enrollment::EnrollmentFromJson(envelope->body);
  ASSERT_OK(e.status());
  EXPECT_EQ(e->finger_quality, (std::vector<enrollment::FingerQuality>{{7, 100}}));
}

TEST_F(CaptureQualityTest, EachFingersQualityTravelsInThePacketAndIsStoredAtCentral) {
  UsePolicy(QualityPolicy(1));
  EnrollmentRequest request = Request();  // two FVC2002 prints
  const std::vector<enrollment::FingerQuality> expected = enrollment::AssessFingerQuality(request.biometrics);
  ASSERT_EQ(expected.size(), 2u);
  auto receipt = station_->Enroll(ani_, request);
  ASSERT_OK(receipt.status());
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  auto envelope = nlohmann::json::parse(pending->front().second.envelope_text);
  EXPECT_EQ(envelope["kind_v"], 4);
  auto body = nlohmann::json::parse(envelope["body"].get<std::string>());
  ASSERT_EQ(body["finger_quality"].size(), 2u);
  EXPECT_EQ(body["finger_quality"][0]["position"], 2);
  EXPECT_EQ(body["finger_quality"][0]["score"], expected[0].score);

  ASSERT_OK(sync_->SyncOnce());
  auto rows = central_db_->Query("SELECT registration_number, position, score FROM enrollment_finger_quality "
                                 "ORDER BY position");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*rows)[i].Text(0), receipt->registration_number);
    EXPECT_EQ((*rows)[i].Int(1), expected[i].position);
    EXPECT_EQ((*rows)[i].Int(2), expected[i].score);
  }
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'validated'"), 1);
}

TEST_F(CaptureQualityTest, TheOperatorApiRefusesWithTheFingerAndTheReasonInBahasaIndonesia) {
  auto server = StartOperatorServer(QualityPolicy(40));
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  net::HttpHeaders auth = LoginOverApi(**client, "ani", "kata-sandi-1");
  EnrollmentRequest request = Request();
  const std::string application =
      nlohmann::json{{"kind", "first_card"}, {"resident", ResidentToJson(request.resident)}}.dump();

  // Enrollment.
  net::HttpHeaders enroll_auth = auth;
  enroll_auth.emplace("idempotency-key", "van-7-application-0001");
  std::vector<net::MultipartPart> parts = {
      {"application", "", "application/json", application},
      {"face", "face.jpg", "image/jpeg", AsString(request.biometrics.face_jpeg)},
      {"signature", "ttd.png", "image/png", AsString(request.biometrics.signature_image)},
      {"finger_2", "f2.iso", "application/octet-stream", AsString(PoorTemplate())},
      {"finger_7", "f7.iso", "application/octet-stream", AsString(GoodTemplate())},
  };
  auto refused = (*client)->PostMultipart("/api/v1/enrollments", parts, enroll_auth);
  ASSERT_OK(refused.status());
  EXPECT_EQ(refused->status, 400);
  auto body = nlohmann::json::parse(refused->body);
  EXPECT_EQ(body["field"], "finger_2");
  EXPECT_THAT(body["error"].get<std::string>(),
              HasSubstr("finger_2 (telunjuk kanan): capture quality 3 is below this station's minimum 40"));
  EXPECT_EQ(body["pesan"],
            "Kualitas sidik jari telunjuk kanan rendah (skor 3 < 40): letakkan jari lebih rata dan tekan hingga ujung "
            "jari menutup pemindai, lalu rekam ulang. Bila jari tidak dapat direkam dengan baik, catat pengecualian "
            "untuk jari ini.");
  EXPECT_EQ(body["quality"]["score"], 3);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);

  // The same finger declared an exception (no template): accepted.
  parts[0].content = nlohmann::json{{"kind", "first_card"},
                                    {"resident", ResidentToJson(request.resident)},
                                    {"finger_exceptions", {{"2", "unusable"}}}}
                         .dump();
  parts.erase(parts.begin() + 3);
  for (net::MultipartPart& part : ExceptionParts(SupervisorSession())) parts.push_back(std::move(part));
  enroll_auth.erase("idempotency-key");
  enroll_auth.emplace("idempotency-key", "van-7-application-0002");
  auto accepted = (*client)->PostMultipart("/api/v1/enrollments", parts, enroll_auth);
  ASSERT_OK(accepted.status());
  EXPECT_EQ(accepted->status, 201) << accepted->body;

  // The live check, before the form is sent.
  auto check = [&](nlohmann::json body) {
    body["kind"] = "first_card";
    body["resident"] = ResidentToJson(request.resident);
    auto answer = (*client)->Post("/api/v1/enrollments/check", body.dump(), "application/json", auth);
    EXPECT_TRUE(answer.ok());
    return std::pair{answer.ok() ? answer->status : 0, answer.ok() ? nlohmann::json::parse(answer->body) : nlohmann::json()};
  };
  auto [status, answer] = check({{"fingers", {{"2", crypto::Base64Encode(PoorTemplate())},
                                              {"7", crypto::Base64Encode(GoodTemplate())}}}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(answer["field"], "finger_2");
  EXPECT_THAT(answer["pesan"].get<std::string>(), HasSubstr("Kualitas sidik jari telunjuk kanan rendah (skor 3 < 40)"));
  EXPECT_EQ(answer["finger_quality"], nlohmann::json::parse(R"([{"position":2,"score":3},{"position":7,"score":100}])"));
  std::tie(status, answer) = check({{"fingers", {{"7", crypto::Base64Encode(GoodTemplate())}}}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(answer["valid"], true);
  EXPECT_EQ(answer["min_quality"], 40);
  EXPECT_EQ(answer["finger_quality"], nlohmann::json::parse(R"([{"position":7,"score":100}])"));
  std::tie(status, answer) = check({{"finger_exceptions", {{"2", "unusable"}}},
                                    {"fingers", {{"2", crypto::Base64Encode(PoorTemplate())}}}});
  EXPECT_EQ(status, 200) << answer.dump();
  EXPECT_EQ(answer["finger_quality"], nlohmann::json::array());
  // Fingers alone, as the console checks each finger when it is captured.
  auto alone = (*client)->Post("/api/v1/enrollments/check",
                               nlohmann::json{{"fingers", {{"2", crypto::Base64Encode(PoorTemplate())}}}}.dump(),
                               "application/json", auth);
  ASSERT_OK(alone.status());
  EXPECT_EQ(alone->status, 400);
  EXPECT_EQ(nlohmann::json::parse(alone->body)["field"], "finger_2");
  alone = (*client)->Post("/api/v1/enrollments/check",
                          nlohmann::json{{"fingers", {{"7", crypto::Base64Encode(GoodTemplate())}}}}.dump(),
                          "application/json", auth);
  ASSERT_OK(alone.status());
  EXPECT_EQ(alone->status, 200) << alone->body;
  EXPECT_EQ(nlohmann::json::parse(alone->body)["finger_quality"][0]["score"], 100);
  std::tie(status, answer) = check({{"fingers", {{"2", "bm90IGEgdGVtcGxhdGU="}}}});
  EXPECT_EQ(status, 400);
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("finger 2 (telunjuk kanan): template is unreadable"));
  std::tie(status, answer) = check({{"fingers", {{"11", crypto::Base64Encode(GoodTemplate())}}}});
  EXPECT_EQ(status, 400);
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("fingers.11: finger position must be 1 to 10"));
  (*server)->Stop();
}

}  // namespace
}  // namespace ektp::station
