#include "enrollment/enrollment.h"

#include <cstdlib>
#include <functional>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "bio/template.h"
#include "core/refusal_pesan.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "enrollment/image.h"
#include "enrollment/testing.h"

namespace ektp::enrollment {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

Bytes ReadShared(const std::string& relative) {
  return ::ektp::testing::ReadFileBytes(::ektp::testing::SharedDataDir() / relative);
}

Bytes ReadDemo(const std::string& name) {
  return ::ektp::testing::ReadFileBytes(::ektp::testing::SourceDir() / "data" / "demo" / name);
}

Biometrics Sample() {
  Biometrics b;
  SeededRandom random(5);
  b.face_jpeg = testing::SampleFaceJpeg(4000, random);
  b.signature_image = testing::SampleSignaturePng(random);
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
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument, "face photo: not a JPEG image"));
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

// Each refusal of a resident's photo, signature and fingers has its sentence
// for the operator in the catalogue (core/refusal_pesan.h), so the console
// never shows the English.
TEST(EnrollmentTest, EachBiometricRefusalIsInTheOperatorsCatalogue) {
  std::vector<std::pair<std::function<void(Biometrics&)>, std::string>> cases = {
      {[](Biometrics& b) { b.face_jpeg.clear(); }, "Foto wajah belum diambil"},
      {[](Biometrics& b) { b.face_jpeg = Bytes(2 * 1024 * 1024, 0xFF); }, "Foto wajah lebih besar dari 1 MiB"},
      {[](Biometrics& b) { b.face_jpeg = Bytes{0x89, 'P', 'N', 'G'}; }, "Foto wajah bukan gambar JPEG"},
      {[](Biometrics& b) { b.face_jpeg = testing::SolidJpeg(240, 320, 1, 90); }, "Foto wajah harus berwarna"},
      {[](Biometrics& b) { b.face_jpeg = testing::SolidJpeg(120, 160, 3, 90); },
       "Foto wajah berukuran 120 x 160 piksel, minimal 240 x 320 piksel"},
      {[](Biometrics& b) { b.face_jpeg = testing::SolidJpeg(480, 400, 3, 90); }, "Foto wajah berukuran 480 x 400 piksel; harus tegak"},
      {[](Biometrics& b) { b.signature_image.clear(); }, "Tanda tangan belum diambil"},
      {[](Biometrics& b) { b.signature_image = Bytes{'G', 'I', 'F', '8'}; }, "Gambar tanda tangan bukan berkas PNG atau JPEG"},
      {[](Biometrics& b) { b.signature_image = testing::SolidJpeg(100, 300, 1, 200); },
       "Gambar tanda tangan berukuran 100 x 300 piksel"},
      {[](Biometrics& b) { b.fingers[2].position = 1; }, "Jari 1 (jempol kanan) terkirim dua kali"},
      {[](Biometrics& b) { b.fingers[2].position = 11; }, "Posisi jari 11 tidak dikenal"},
      {[](Biometrics& b) { b.fingers[2].template_bytes = b.fingers[0].template_bytes; },
       "Jari 2 (telunjuk kanan) punya sidik jari dan pengecualian sekaligus"},
      {[](Biometrics& b) { b.fingers[2].exception = FingerException::kNone; }, "Sidik jari 2 (telunjuk kanan) belum direkam"},
      {[](Biometrics& b) { b.fingers[1].template_bytes.resize(40); }, "Sidik jari 6 (jempol kiri) tidak terbaca"},
      {[](Biometrics& b) { b.fingers.erase(b.fingers.begin(), b.fingers.begin() + 2); }, "Belum ada sidik jari"},
  };
  for (const auto& [spoil, pesan] : cases) {
    Biometrics b = Sample();
    spoil(b);
    const Status refused = ValidateBiometrics(b);
    ASSERT_EQ(refused.code(), StatusCode::kInvalidArgument) << pesan;
    EXPECT_THAT(RefusalPesan(refused.message()), ::testing::Optional(::testing::StartsWith(pesan))) << refused.message();
  }
}

// Issue 11, item 7: the images are decoded, not recognised by their markers.
TEST(EnrollmentTest, DemoAndSampleImagesPassTheImageRules) {
  Bytes face = ReadDemo("face.jpg"), signature = ReadDemo("signature.png");
  ASSERT_FALSE(face.empty());
  ASSERT_FALSE(signature.empty());
  EXPECT_OK(CheckFacePhoto(face));
  EXPECT_OK(CheckSignatureImage(signature));
  auto size = DecodeJpeg(face);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(size->width, 240);
  EXPECT_EQ(size->height, 320);
  SeededRandom random(9);
  Bytes padded = testing::SampleFaceJpeg(24 * 1024, random);
  EXPECT_EQ(padded.size(), 24u * 1024);
  EXPECT_OK(CheckFacePhoto(padded));
  EXPECT_OK(CheckSignatureImage(testing::SolidJpeg(300, 100, 1, 200)));
}

TEST(EnrollmentTest, ImagesThatDoNotDecodeOrBreakTheRulesAreRefused) {
  std::string text = "\xFF\xD8this is not an image\xFF\xD9";
  EXPECT_THAT(CheckFacePhoto(Bytes(text.begin(), text.end())),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("face photo: not a readable JPEG image (")));
  Bytes face = ReadDemo("face.jpg");
  Bytes truncated(face.begin(), face.begin() + face.size() / 2);
  EXPECT_THAT(CheckFacePhoto(truncated),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("face photo: not a readable JPEG image (")));
  EXPECT_THAT(CheckFacePhoto(testing::SolidJpeg(480, 400, 3, 90)),
              StatusIs(StatusCode::kInvalidArgument,
                       "face photo: is 480 x 400 px; it must be portrait with height 1.2 to 1.5 times the width "
                       "(e.g. 480 x 640)"));
  EXPECT_THAT(CheckFacePhoto(testing::SolidJpeg(120, 160, 3, 90)),
              StatusIs(StatusCode::kInvalidArgument, "face photo: is 120 x 160 px; it must be at least 240 x 320 px"));
  EXPECT_THAT(CheckFacePhoto(testing::SolidJpeg(240, 320, 1, 90)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("face photo: must be in colour")));
  EXPECT_OK(CheckFacePhoto(testing::SolidJpeg(480, 640, 3, 90)));

  Bytes signature = ReadDemo("signature.png");
  Bytes corrupt = signature;
  corrupt[corrupt.size() / 2] ^= 0x55;  // inside the image data: its CRC no longer matches
  EXPECT_THAT(CheckSignatureImage(corrupt),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("signature image: not a readable PNG image (")));
  EXPECT_THAT(CheckSignatureImage(Bytes{'G', 'I', 'F', '8', '9', 'a', 0, 0, 0}),
              StatusIs(StatusCode::kInvalidArgument, "signature image: is neither PNG nor JPEG"));
  EXPECT_THAT(CheckSignatureImage(testing::SolidJpeg(100, 300, 1, 200)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("signature image: is 100 x 300 px; it must be")));
}

Bytes TemplateWith(size_t views, size_t minutiae, uint16_t x = 10) {
  bio::TemplateRecord record;
  record.format = bio::TemplateFormat::kIso19794_2_2005;
  record.width = 300;
  record.height = 400;
  record.resolution_x = record.resolution_y = 197;
  for (size_t view_idx = 0; view_idx < views; ++view_idx) {
    bio::FingerView view;
    view.position = 2;
    view.view = static_cast<uint8_t>(view_idx % 16);
    view.width = 300;
    view.height = 400;
    view.resolution_x = view.resolution_y = 197;
    for (size_t i = 0; i < minutiae; ++i) {
      view.minutiae.push_back({bio::kMinutiaEnding, x, static_cast<uint16_t>(i % 400), 0, 60});
    }
    record.views.push_back(view);
  }
  return *bio::EncodeTemplate(record);
}

TEST(EnrollmentTest, TemplatesAreCappedAtStationAndCentralAlike) {
  Biometrics b = Sample();
  b.fingers[0].template_bytes = TemplateWith(255, 255);
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument,
                                              "finger 1 (jempol kanan): template: has 255 views; at most 4 are accepted"));
  b.fingers[0].template_bytes = TemplateWith(1, 129);
  EXPECT_THAT(ValidateBiometrics(b),
              StatusIs(StatusCode::kInvalidArgument,
                       "finger 1 (jempol kanan): template: view 1 has 129 minutiae; at most 128 are accepted"));
  b.fingers[0].template_bytes = TemplateWith(1, 20, 300);
  EXPECT_THAT(ValidateBiometrics(b),
              StatusIs(StatusCode::kInvalidArgument, "finger 1 (jempol kanan): template: view 1 minutia 1 at (300, 0) "
                                                     "lies outside its 300 x 400 px image"));
  b.fingers[0].template_bytes = TemplateWith(4, 128, 299);
  EXPECT_OK(ValidateBiometrics(b));
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

// Body version 3: each captured finger's quality round-trips; a body
// without it (versions 1 and 2) decodes with none; a malformed entry is
// refused naming it.
TEST(EnrollmentTest, FingerQualityTravelsInTheBody) {
  Enrollment e = FirstCard();
  auto old = EnrollmentFromJson(EnrollmentToJson(e));
  ASSERT_OK(old.status());
  EXPECT_TRUE(old->finger_quality.empty());
  EXPECT_EQ(EnrollmentToJson(e).find("finger_quality"), std::string::npos);
  e.finger_quality = {{1, 47}, {6, 100}};
  auto back = EnrollmentFromJson(EnrollmentToJson(e));
  ASSERT_OK(back.status());
  EXPECT_EQ(back->finger_quality, e.finger_quality);
  auto with = [&](const std::string& quality) {
    auto json = nlohmann::json::parse(EnrollmentToJson(FirstCard()));
    json["finger_quality"] = nlohmann::json::parse(quality);
    return EnrollmentFromJson(json.dump());
  };
  EXPECT_THAT(with(R"({"1": 40})"), StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_quality must be an array"));
  EXPECT_THAT(with(R"([{"position": 11, "score": 40}])"),
              StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_quality[0].position must be an integer 1 to 10"));
  EXPECT_THAT(with(R"([{"position": 2, "score": 101}])"),
              StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_quality[0].score must be an integer 0 to 100"));
  EXPECT_THAT(with(R"([{"position": 2, "score": 40}, {"position": 2, "score": 41}])"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("enrollment.finger_quality[1]: finger 2 is given twice")));
}

// The exception photo rides in the sealed biometrics (absent before): it
// must decode as PNG or JPEG, show enough of the hand, and come only with an
// exception.
TEST(EnrollmentTest, TheExceptionPhotoRoundTripsAndMustDecode) {
  Biometrics b = Sample();  // finger 2 bandaged
  const Bytes without_photo = SerializeBiometrics(b);
  EXPECT_EQ(std::string(without_photo.begin(), without_photo.end()).find("exception_photo"), std::string::npos);
  b.exception_photo = testing::SolidJpeg(640, 480, 3, 120);
  ASSERT_OK(ValidateBiometrics(b));
  auto parsed = ParseBiometrics(SerializeBiometrics(b));
  ASSERT_OK(parsed.status());
  EXPECT_EQ(parsed->exception_photo, b.exception_photo);

  b.exception_photo = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument,
                                              "exception photo: is neither a PNG nor a JPEG image"));
  b.exception_photo = testing::SolidJpeg(640, 120, 3, 120);
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument,
                                              HasSubstr("exception photo: is 640 x 120 px; its shorter side must be "
                                                        "at least 200 px")));
  b = Sample();
  b.fingers.pop_back();  // no exception left
  b.exception_photo = testing::SolidJpeg(640, 480, 3, 120);
  EXPECT_THAT(ValidateBiometrics(b), StatusIs(StatusCode::kInvalidArgument,
                                              HasSubstr("exception photo: given, but no finger is declared an exception")));
}

// Body version 4: the declared exceptions and their approval round-trip; a
// body without them (versions 1-3) decodes with none; malformed ones are
// refused naming the field.
TEST(EnrollmentTest, FingerExceptionsAndTheirApprovalTravelInTheBody) {
  Enrollment e = FirstCard();
  EXPECT_EQ(EnrollmentToJson(e).find("finger_exceptions"), std::string::npos);
  auto old = EnrollmentFromJson(EnrollmentToJson(e));
  ASSERT_OK(old.status());
  EXPECT_FALSE(old->exception_approval);
  e.exception_approval = ExceptionApproval{{{2, FingerException::kBandaged}, {7, FingerException::kAmputated}}, "sari",
                                           "2026-11-24T03:00:00Z"};
  auto back = EnrollmentFromJson(EnrollmentToJson(e));
  ASSERT_OK(back.status());
  ASSERT_TRUE(back->exception_approval);
  EXPECT_EQ(back->exception_approval->fingers, e.exception_approval->fingers);
  EXPECT_EQ(back->exception_approval->approver, "sari");
  EXPECT_EQ(back->exception_approval->approved_at, "2026-11-24T03:00:00Z");
  auto with = [&](const std::string& exceptions) {
    auto json = nlohmann::json::parse(EnrollmentToJson(FirstCard()));
    json["finger_exceptions"] = nlohmann::json::parse(exceptions);
    return EnrollmentFromJson(json.dump());
  };
  EXPECT_THAT(with(R"({"fingers": [], "approver": "sari", "approved_at": "x"})"),
              StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_exceptions.fingers must be an array of 1 to 10 fingers"));
  EXPECT_THAT(with(R"({"fingers": [{"position": 2, "exception": "bandaged"}], "approved_at": "x"})"),
              StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_exceptions.approver must be a non-empty string"));
  EXPECT_THAT(with(R"({"fingers": [{"position": 2, "exception": "none"}], "approver": "sari", "approved_at": "x"})"),
              StatusIs(StatusCode::kInvalidArgument, "enrollment.finger_exceptions.fingers[0].exception may not be none"));
  EXPECT_THAT(with(R"({"fingers": [{"position": 12, "exception": "bandaged"}], "approver": "sari", "approved_at": "x"})"),
              StatusIs(StatusCode::kInvalidArgument,
                       "enrollment.finger_exceptions.fingers[0].position must be an integer 1 to 10"));
  EXPECT_THAT(with(R"({"fingers": [{"position": 2, "exception": "bandaged"}], "approver": "sari", "approved_at": "x", "by": 1})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("enrollment.finger_exceptions.by is not a known field")));
}

// Central's cross-check of the declaration against the opened biometrics.
TEST(EnrollmentTest, TheDeclaredExceptionsMustBeTheSealedOnesWithTheirPhoto) {
  Enrollment e = FirstCard();
  e.operator_name = "ani";
  Biometrics b = Sample();  // finger 2 bandaged, no photo
  ASSERT_OK(CheckExceptionDeclaration(e, &b));  // a body of versions 1-3: counted unapproved at central
  e.exception_approval = ExceptionApproval{{{2, FingerException::kBandaged}}, "sari", "2026-11-24T03:00:00Z"};
  EXPECT_THAT(CheckExceptionDeclaration(e, &b),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("declares the finger exceptions 2:bandaged without the "
                                                               "exception photo of the hand")));
  b.exception_photo = testing::SolidJpeg(640, 480, 3, 120);
  ASSERT_OK(CheckExceptionDeclaration(e, &b));
  e.exception_approval->fingers = {{2, FingerException::kUnusable}};
  EXPECT_THAT(CheckExceptionDeclaration(e, &b),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("declares the finger exceptions 2:unusable but its "
                                                               "sealed biometrics hold 2:bandaged")));
  e.exception_approval->fingers = {{2, FingerException::kBandaged}};
  e.exception_approval->approver = "ani";
  EXPECT_THAT(CheckExceptionDeclaration(e, &b),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("approved by its own operator ani")));
  e.exception_approval->approver = "sari";
  b.exception_photo = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
  EXPECT_THAT(CheckExceptionDeclaration(e, &b), StatusIs(StatusCode::kInvalidArgument, HasSubstr("exception photo")));
}

// Only captured fingers are scored, in the order given; the gate names the
// lowest-numbered finger below the minimum and says what to do, in both
// languages; 0 turns it off.
TEST(EnrollmentTest, CaptureQualityScoresCapturedFingersAndGatesBelowTheMinimum) {
  const Biometrics b = Sample();  // 1: DB1 101_1 (33 minutiae over 86 mm^2), 6: DB1 102_1, 2: bandaged
  const std::vector<FingerQuality> quality = AssessFingerQuality(b);
  ASSERT_EQ(quality.size(), 2u);
  EXPECT_EQ(quality[0].position, 1);
  EXPECT_EQ(quality[1].position, 6);
  EXPECT_GT(quality[0].score, 40);
  EXPECT_LT(quality[0].score, quality[1].score);
  EXPECT_FALSE(CheckCaptureQuality(b, 0));
  EXPECT_FALSE(CheckCaptureQuality(b, quality[0].score));  // at the minimum passes
  auto refusal = CheckCaptureQuality(b, quality[0].score + 1);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->position, 1);
  EXPECT_EQ(refusal->field, "finger_1");
  EXPECT_EQ(refusal->score, quality[0].score);
  EXPECT_THAT(refusal->error, HasSubstr("finger_1 (jempol kanan): capture quality " + std::to_string(quality[0].score) +
                                        " is below this station's minimum " + std::to_string(quality[0].score + 1)));
  EXPECT_THAT(refusal->pesan, HasSubstr("Kualitas sidik jari jempol kanan rendah (skor " +
                                        std::to_string(quality[0].score) + " < " + std::to_string(quality[0].score + 1) + ")"));
  EXPECT_THAT(refusal->pesan, HasSubstr("lalu rekam ulang"));
}

}  // namespace
}  // namespace ektp::enrollment
