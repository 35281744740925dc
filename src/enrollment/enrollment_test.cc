#include "enrollment/enrollment.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/status_matchers.h"

namespace ektp::enrollment {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

Bytes ReadShared(const std::string& relative) {
  std::ifstream in(std::string(std::getenv("EKTP_SOURCE_DIR")) + "/../shared/data/" + relative, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Bytes TinyJpeg() { return Bytes{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xFF, 0xD9}; }

Biometrics Sample() {
  Biometrics b;
  b.face_jpeg = TinyJpeg();
  b.signature_image = TinyJpeg();
  b.fingers.push_back({1, ReadShared("fvc2002/DB1_B/101_1.iso"), FingerException::kNone});
  b.fingers.push_back({6, ReadShared("fvc2002/DB1_B/102_1.iso"), FingerException::kNone});
  b.fingers.push_back({2, {}, FingerException::kBandaged});
  return b;
}

TEST(EnrollmentTest, SampleBiometricsAreValidAndRoundTrip) {
  Biometrics b = Sample();
  ASSERT_FALSE(b.fingers[0].template_bytes.empty()) << "shared data missing";
  ASSERT_OK(ValidateBiometrics(b));
  auto parsed = ParseBiometrics(SerializeBiometrics(b));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->face_jpeg, b.face_jpeg);
  ASSERT_EQ(parsed->fingers.size(), 3u);
  EXPECT_EQ(parsed->fingers[0].template_bytes, b.fingers[0].template_bytes);
  EXPECT_EQ(parsed->fingers[2].exception, FingerException::kBandaged);
}

TEST(EnrollmentTest, TruncatedTemplateNamesTheFinger) {
  Biometrics b = Sample();
  b.fingers[1].template_bytes.resize(40);
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument,
                                              HasSubstr("finger 6 (jempol kiri): template is unreadable")));
}

TEST(EnrollmentTest, BadBiometricsAreRefusedWithTheReason) {
  Biometrics b = Sample();
  b.face_jpeg = Bytes{0x89, 'P', 'N', 'G'};
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument, "face photo is not a complete JPEG image"));
  b = Sample();
  b.fingers[2].position = 1;
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument, HasSubstr("finger 1 (jempol kanan) is given twice")));
  b = Sample();
  b.fingers[2].template_bytes = b.fingers[0].template_bytes;
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument, HasSubstr("both a template and the exception bandaged")));
  b = Sample();
  b.fingers.erase(b.fingers.begin(), b.fingers.begin() + 2);
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no fingerprint template")));
  auto parse = [](std::string_view json) { return ParseBiometrics(Bytes(json.begin(), json.end())); };
  EXPECT_THAT(parse("{}"), StatusIs(StatusCode::kInvalidArgument, "biometrics.face_jpeg is missing"));
  EXPECT_THAT(parse("[]"), StatusIs(StatusCode::kInvalidArgument, "biometrics is not a JSON object"));
  EXPECT_THAT(parse(R"({"face_jpeg":"!","signature_image":"","fingers":[]})"),
              StatusIs(StatusCode::kInvalidArgument, "biometrics.face_jpeg is not valid base64"));
  EXPECT_THAT(parse(R"({"face_jpeg":"","signature_image":"","fingers":[{"position":4294967298}]})"),
              StatusIs(StatusCode::kInvalidArgument, "finger position 4294967298 is not in 1-10"));
  EXPECT_THAT(parse(R"({"face_jpeg":"","signature_image":"","fingers":[{"position":2,"exception":7}]})"),
              StatusIs(StatusCode::kInvalidArgument, "biometrics.fingers[0].exception has the wrong type"));
}

Enrollment FirstCard() {
  Enrollment e;
  e.registration_number = "ST-1-000001";
  e.station_id = "ST-1";
  e.operator_name = "ani";
  e.captured_at = "2026-11-24T03:00:00Z";
  e.kind = ApplicationKind::kFirstCard;
  e.resident.name = "RIZKI PRATAMA";
  e.resident.place_of_birth = "NGAWI";
  e.resident.birth_date = year_month_day{year(2009), month(1), day(2)};
  e.resident.address = Address{"JL. MERDEKA 1", 1, 2, "35.21.01.2001"};
  e.resident.occupation = "PELAJAR/MAHASISWA";
  e.sealed_biometrics = Bytes{1, 2, 3};
  return e;
}

TEST(EnrollmentTest, ApplicationRules) {
  Enrollment e = FirstCard();
  EXPECT_OK(ValidateApplication(e, RegionRegistry::Default(), kToday));
  e.resident.birth_date = year_month_day{year(2010), month(1), day(2)};
  EXPECT_THAT(ValidateApplication(e, RegionRegistry::Default(), kToday),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("from age 17")));
  e = FirstCard();
  e.kind = ApplicationKind::kLost;
  EXPECT_THAT(ValidateApplication(e, RegionRegistry::Default(), kToday),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("previous_nik: a lost application needs")));
  e.previous_nik = "3521990201090001";
  EXPECT_THAT(ValidateApplication(e, RegionRegistry::Default(), kToday),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("previous_nik: kecamatan 35.21.99 does not exist")));
  e.previous_nik = "3521010201090001";
  EXPECT_OK(ValidateApplication(e, RegionRegistry::Default(), kToday));
}

TEST(EnrollmentTest, JsonRoundTrip) {
  Enrollment e = FirstCard();
  auto back = EnrollmentFromJson(EnrollmentToJson(e));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->registration_number, e.registration_number);
  EXPECT_EQ(back->sealed_biometrics, e.sealed_biometrics);
  EXPECT_EQ(back->resident.name, "RIZKI PRATAMA");
  EXPECT_THAT(EnrollmentFromJson("[]"), StatusIs(StatusCode::kInvalidArgument, "enrollment is not a JSON object"));
}

}  // namespace
}  // namespace ektp::enrollment
