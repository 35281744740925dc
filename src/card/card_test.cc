#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "card/card.h"
#include "card/output.h"
#include "card/render.h"
#include "core/nik.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "enrollment/image.h"
#include "enrollment/testing.h"

namespace ektp::card {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

crypto::SigningKey CentralKey(uint8_t seed_byte = 7) {
  std::vector<uint8_t> seed(32, seed_byte);
  return crypto::SigningKey::FromSeed(seed);
}

Card SampleCard() {
  Card card;
  Resident& r = card.data.resident;
  r.name = "SITI RAHAYU";
  r.place_of_birth = "Ngawi";
  r.birth_date = year(1990) / month(8) / day(17);
  r.sex = Sex::kFemale;
  r.blood_type = BloodType::kO;
  r.address = {"JL. RAYA NGAWI NO. 12", 3, 5, "35.21.01.2001"};
  r.nik = FormatNik("35.21.01", r.birth_date, r.sex, 1);
  r.religion = Religion::kIslam;
  r.marital_status = MaritalStatus::kKawin;
  r.occupation = "WIRASWASTA";
  card.data.valid_until = std::string(kValidForLife);
  card.data.issuing_regency = "35.21";
  card.data.issued_on = year(2026) / month(12) / day(5);
  card.card_serial = "35.21-0000042";
  card.data.registration_number = "35.21.01-A-000007";
  card.data.fingers = {{2, enrollment::testing::FvcTemplate(1, 101, 1)}, {7, enrollment::testing::FvcTemplate(1, 102, 1)}};
  card.face_jpeg = testing::ReadFileBytes(testing::SourceDir() / "data/demo/face.jpg");
  card.signature_image = testing::ReadFileBytes(testing::SourceDir() / "data/demo/signature.png");
  return card;
}

Bytes SignedBlob(const Card& card, const crypto::SigningKey& key = CentralKey()) {
  auto blob = EncodeChip(card, key);
  EXPECT_OK(blob.status());
  return blob.ok() ? *blob : Bytes{};
}

TEST(ChipTest, DecodesToWhatWasEncodedAndVerifies) {
  const Card card = SampleCard();
  ASSERT_FALSE(card.face_jpeg.empty());
  ASSERT_FALSE(card.data.fingers[0].template_bytes.empty());
  auto verified = VerifyChip(SignedBlob(card), CentralKey().public_key());
  ASSERT_OK(verified.status());
  const ChipContents& chip = *verified;
  EXPECT_TRUE(chip.signature_verified);
  const Resident& r = chip.data.resident;
  EXPECT_EQ(r.nik, card.data.resident.nik);
  EXPECT_EQ(r.name, "SITI RAHAYU");
  EXPECT_EQ(r.place_of_birth, "Ngawi");
  EXPECT_EQ(r.birth_date, card.data.resident.birth_date);
  EXPECT_EQ(r.sex, Sex::kFemale);
  EXPECT_EQ(r.blood_type, BloodType::kO);
  EXPECT_EQ(r.address.street, "JL. RAYA NGAWI NO. 12");
  EXPECT_EQ(r.address.rt, 3);
  EXPECT_EQ(r.address.rw, 5);
  EXPECT_EQ(r.address.village_code, "35.21.01.2001");
  EXPECT_EQ(r.religion, Religion::kIslam);
  EXPECT_EQ(r.marital_status, MaritalStatus::kKawin);
  EXPECT_EQ(r.occupation, "WIRASWASTA");
  EXPECT_EQ(r.citizenship, Citizenship::kWni);
  EXPECT_EQ(chip.data.valid_until, "SEUMUR HIDUP");
  EXPECT_EQ(chip.data.issuing_regency, "35.21");
  EXPECT_EQ(chip.data.issued_on, card.data.issued_on);
  EXPECT_EQ(chip.data.registration_number, "35.21.01-A-000007");
  EXPECT_EQ(chip.data.fingers, card.data.fingers);
  EXPECT_EQ(chip.photo_sha256, crypto::Sha256(card.face_jpeg));
  EXPECT_OK(CheckPhoto(chip, card.face_jpeg));
  EXPECT_THAT(CheckPhoto(chip, card.signature_image),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not the one this chip was written for")));
}

TEST(ChipTest, AnAlteredByteOrAnotherKeyDoesNotVerify) {
  const Bytes blob = SignedBlob(SampleCard());
  EXPECT_THAT(VerifyChip(blob, CentralKey(8).public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("signature does not verify")));
  for (size_t offset : {size_t{0}, size_t{9}, size_t{20}, blob.size() / 2, blob.size() - 1}) {
    Bytes altered = blob;
    altered[offset] ^= 0x01;
    EXPECT_THAT(VerifyChip(altered, CentralKey().public_key()),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("signature does not verify")))
        << "byte " << offset;
  }
  EXPECT_THAT(VerifyChip(Bytes(blob.begin(), blob.begin() + 40), CentralKey().public_key()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("too short")));
}

// Re-signs a blob whose bytes were changed, so the structure checks are what refuses it.
Bytes Resigned(Bytes blob, const crypto::SigningKey& key = CentralKey()) {
  blob.resize(blob.size() - crypto::kSignatureSize);
  Bytes signature = key.Sign(blob);
  blob.insert(blob.end(), signature.begin(), signature.end());
  return blob;
}

TEST(ChipTest, MalformedBlobsAreRefusedNamingTheByteAndField) {
  const Bytes blob = SignedBlob(SampleCard());
  const auto key = CentralKey().public_key();

  Bytes version = blob;
  version[8] = 2;
  EXPECT_THAT(VerifyChip(Resigned(version), key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at byte 8: format version 2 is not supported")));

  Bytes magic = blob;
  magic[0] = 'X';
  EXPECT_THAT(DecodeChipUnverified(magic), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no \"EKTPCHIP\" header")));

  Bytes trailing = blob;
  trailing.insert(trailing.end() - crypto::kSignatureSize, uint8_t{0});
  EXPECT_THAT(VerifyChip(Resigned(trailing), key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at byte 9: fields length")));

  // The first field (nik, tag 1) starts at byte 13: renumber it to an unknown tag, then to a later one.
  Bytes unknown = blob;
  unknown[13] = 0x7F;
  EXPECT_THAT(VerifyChip(Resigned(unknown), key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at byte 13: unknown field tag 127")));
  Bytes reordered = blob;
  reordered[13] = 0x02;
  EXPECT_THAT(VerifyChip(Resigned(reordered), key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("name: out of order or repeated")));

  Bytes overlong = blob;
  overlong[14] = 0xFF;  // nik's length, high byte
  EXPECT_THAT(VerifyChip(Resigned(overlong), key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("nik: value runs past the fields")));

  Bytes bad_nik = blob;
  bad_nik[16] = 'x';  // the nik's first digit
  EXPECT_THAT(VerifyChip(Resigned(bad_nik), key), StatusIs(StatusCode::kInvalidArgument, HasSubstr("nik: not 16 digits")));
}

TEST(ChipTest, EncodingRefusesWhatTheFormatCannotHold) {
  const auto key = CentralKey();
  Card no_nik = SampleCard();
  no_nik.data.resident.nik.clear();
  EXPECT_THAT(EncodeChip(no_nik, key), StatusIs(StatusCode::kInvalidArgument, HasSubstr("nik: a card needs")));

  Card three = SampleCard();
  three.data.fingers.push_back({1, three.data.fingers[0].template_bytes});
  EXPECT_THAT(EncodeChip(three, key), StatusIs(StatusCode::kInvalidArgument, HasSubstr("3 given; a chip holds 1 or 2")));

  Card twice = SampleCard();
  twice.data.fingers[1].position = 2;
  EXPECT_THAT(EncodeChip(twice, key), StatusIs(StatusCode::kInvalidArgument, HasSubstr("position 2 given twice")));

  Card huge = SampleCard();
  huge.data.resident.occupation.assign(70000, 'A');
  EXPECT_THAT(EncodeChip(huge, key),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("occupation: 70000 bytes; a chip field holds at most")));
}

TEST(ChipTest, ChoosesTheIndexFingersThenTheirNeighbours) {
  const Bytes t{1, 2, 3};
  auto positions = [](const StatusOr<std::vector<ChipFinger>>& chosen) {
    std::vector<int> out;
    if (chosen.ok()) {
      for (const ChipFinger& f : *chosen) out.push_back(f.position);
    }
    return out;
  };
  std::vector<ChipFinger> all;
  for (int p = 1; p <= 10; ++p) all.push_back({p, t});
  EXPECT_EQ(positions(ChooseChipFingers(all)), (std::vector<int>{2, 7}));
  EXPECT_EQ(positions(ChooseChipFingers({{1, t}, {2, {}}, {6, t}, {8, t}})), (std::vector<int>{1, 6}));
  EXPECT_EQ(positions(ChooseChipFingers({{3, t}, {4, t}, {5, t}})), (std::vector<int>{3, 4}));
  EXPECT_EQ(positions(ChooseChipFingers({{9, t}})), (std::vector<int>{9}));
  EXPECT_THAT(ChooseChipFingers({{2, {}}}), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no finger")));
}

TEST(CardToPrintTest, OpensToTheCardWhenChipAndPhotoCheckOut) {
  const Card card = SampleCard();
  const CardToPrint to_print{SignedBlob(card), card.face_jpeg, card.signature_image};
  const Bytes bytes = EncodeCardToPrint(to_print);
  auto opened = OpenCardToPrint(bytes, CentralKey().public_key());
  ASSERT_OK(opened.status());
  EXPECT_EQ(opened->data.resident.nik, card.data.resident.nik);
  EXPECT_EQ(opened->data.fingers, card.data.fingers);
  EXPECT_EQ(opened->face_jpeg, card.face_jpeg);
  EXPECT_EQ(opened->signature_image, card.signature_image);
  EXPECT_TRUE(opened->card_serial.empty());

  EXPECT_THAT(OpenCardToPrint(bytes, CentralKey(8).public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("signature does not verify")));
  const CardToPrint swapped{to_print.chip, card.signature_image, card.face_jpeg};
  EXPECT_THAT(OpenCardToPrint(EncodeCardToPrint(swapped), CentralKey().public_key()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not the one this chip was written for")));
  EXPECT_THAT(OpenCardToPrint(Bytes(bytes.begin(), bytes.end() - 1), CentralKey().public_key()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the signature image runs past the end")));
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_THAT(OpenCardToPrint(longer, CentralKey().public_key()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bytes after the signature image")));
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The text tesseract reads off a PNG.
std::string Ocr(const Bytes& png) {
  const auto dir = std::filesystem::temp_directory_path() / ("ektp-card-ocr-" + crypto::RandomToken(6));
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "front.png", std::ios::binary);
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  const std::string command = "tesseract '" + (dir / "front.png").string() + "' '" + (dir / "text").string() +
                              "' >'" + (dir / "log").string() + "' 2>&1";
  const int rc = std::system(command.c_str());
  std::string text = ReadText(dir / "text.txt");
  EXPECT_EQ(rc, 0) << ReadText(dir / "log");
  std::filesystem::remove_all(dir);
  return text;
}

TEST(RenderTest, FrontAndBackAreCr80At300DpiAndThePdfHasTwoPages) {
  auto rendered = RenderCard(SampleCard(), RegionRegistry::Default());
  ASSERT_OK(rendered.status());
  for (const Bytes* png : {&rendered->front_png, &rendered->back_png}) {
    auto size = enrollment::DecodePng(*png);
    ASSERT_OK(size.status());
    EXPECT_EQ(size->width, 1011);
    EXPECT_EQ(size->height, 638);
  }
  const std::string pdf(rendered->pdf.begin(), rendered->pdf.end());
  EXPECT_TRUE(pdf.starts_with("%PDF-"));
  EXPECT_THAT(pdf, HasSubstr("/Count 2"));
  // 85.60 x 53.98 mm in points.
  EXPECT_THAT(pdf, HasSubstr("/MediaBox [ 0 0 242.645669 153.014173 ]"));
}

TEST(RenderTest, TheFrontReadsBackByOcrWithTheNikAndName) {
  const Card card = SampleCard();
  auto rendered = RenderCard(card, RegionRegistry::Default());
  ASSERT_OK(rendered.status());
  const std::string text = Ocr(rendered->front_png);
  EXPECT_THAT(text, HasSubstr(card.data.resident.nik));
  EXPECT_THAT(text, HasSubstr("SITI RAHAYU"));
  EXPECT_THAT(text, HasSubstr("PROVINSI JAWA TIMUR"));
  EXPECT_THAT(text, HasSubstr("KABUPATEN NGAWI"));
}

TEST(RenderTest, UnknownPlacesAndUnreadableImagesAreRefusedByName) {
  Card village = SampleCard();
  village.data.resident.address.village_code = "35.21.01.9999";
  EXPECT_THAT(RenderCard(village, RegionRegistry::Default()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("village 35.21.01.9999 does not exist")));
  Card regency = SampleCard();
  regency.data.issuing_regency = "35";
  EXPECT_THAT(RenderCard(regency, RegionRegistry::Default()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("issuing_regency: 35 is not a regency")));
  Card photo = SampleCard();
  photo.face_jpeg.resize(photo.face_jpeg.size() / 2);
  EXPECT_THAT(RenderCard(photo, RegionRegistry::Default()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("face photo: not a readable JPEG image")));
}

TEST(SpoolOutputTest, ACardAppearsWholeOnceAndASecondSendIsANoOp) {
  const auto dir = std::filesystem::temp_directory_path() / ("ektp-spool-" + crypto::RandomToken(6));
  std::filesystem::create_directories(dir);
  auto spool = SpoolOutput(dir);
  auto rendered = RenderCard(SampleCard(), RegionRegistry::Default());
  ASSERT_OK(rendered.status());
  const Bytes chip = SignedBlob(SampleCard());
  ASSERT_OK(spool->Send("35.21-0000042", *rendered, chip));
  auto sent = spool->WasSent("35.21-0000042");
  ASSERT_OK(sent.status());
  EXPECT_TRUE(*sent);
  EXPECT_EQ(testing::ReadFileBytes(dir / "35.21-0000042" / "chip.bin"), chip);
  EXPECT_EQ(testing::ReadFileBytes(dir / "35.21-0000042" / "front.png"), rendered->front_png);
  EXPECT_EQ(testing::ReadFileBytes(dir / "35.21-0000042" / "card.pdf"), rendered->pdf);

  // A resend after a crash between Send and the caller's commit leaves the first output as it was.
  RenderedCard other = *rendered;
  other.front_png.resize(10);
  ASSERT_OK(spool->Send("35.21-0000042", other, chip));
  EXPECT_EQ(testing::ReadFileBytes(dir / "35.21-0000042" / "front.png"), rendered->front_png);

  EXPECT_THAT(spool->Send("../escape", *rendered, chip),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'../escape' is not a card id")));
  {
    std::ofstream blocker(dir / "not-a-folder");  // a file where the spool folder should be: fails even as root
  }
  auto blocked = SpoolOutput(dir / "not-a-folder" / "spool");
  EXPECT_THAT(blocked->Send("a", *rendered, chip), StatusIs(StatusCode::kUnavailable, HasSubstr("spool: cannot create")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ektp::card
