#include <cups/cups.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "card/card.h"
#include "card/output.h"
#include "card/render.h"
#include "card/testing.h"
#include "core/nik.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "enrollment/image.h"
#include "enrollment/testing.h"

namespace ektp::card {
namespace {

using ::ektp::card::testing::SampleCard;
using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

crypto::SigningKey CentralKey(uint8_t seed_byte = 7) {
  std::vector<uint8_t> seed(32, seed_byte);
  return crypto::SigningKey::FromSeed(seed);
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
  EXPECT_EQ(opened->card.data.resident.nik, card.data.resident.nik);
  EXPECT_EQ(opened->card.data.fingers, card.data.fingers);
  EXPECT_EQ(opened->card.face_jpeg, card.face_jpeg);
  EXPECT_EQ(opened->card.signature_image, card.signature_image);
  EXPECT_TRUE(opened->card.card_serial.empty());
  EXPECT_EQ(opened->chip, to_print.chip);

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
  EXPECT_EQ(ektp::testing::ReadFileBytes(dir / "35.21-0000042" / "chip.bin"), chip);
  EXPECT_EQ(ektp::testing::ReadFileBytes(dir / "35.21-0000042" / "front.png"), rendered->front_png);
  EXPECT_EQ(ektp::testing::ReadFileBytes(dir / "35.21-0000042" / "card.pdf"), rendered->pdf);

  // A resend after a crash between Send and the caller's commit leaves the first output as it was.
  RenderedCard other = *rendered;
  other.front_png.resize(10);
  ASSERT_OK(spool->Send("35.21-0000042", other, chip));
  EXPECT_EQ(ektp::testing::ReadFileBytes(dir / "35.21-0000042" / "front.png"), rendered->front_png);

  EXPECT_THAT(spool->Send("../escape", *rendered, chip),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'../escape' is not a card id")));
  {
    std::ofstream blocker(dir / "not-a-folder");  // a file where the spool folder should be: fails even as root
  }
  auto blocked = SpoolOutput(dir / "not-a-folder" / "spool");
  EXPECT_THAT(blocked->Send("a", *rendered, chip), StatusIs(StatusCode::kUnavailable, HasSubstr("spool: cannot create")));
  std::filesystem::remove_all(dir);
}

// The throwaway cupsd of scripts/throwaway_cups.sh, from EKTP_TEST_CUPS ("server=... printer=... pdf_dir=...
// stopped=... rejecting=..."). Without it these tests fail rather than skip: run them through scripts/test.sh.
std::map<std::string, std::string> TestCups() {
  std::map<std::string, std::string> config;
  const char* env = std::getenv("EKTP_TEST_CUPS");
  if (env == nullptr) {
    ADD_FAILURE() << "EKTP_TEST_CUPS is not set: run the tests through scripts/test.sh, which starts a throwaway "
                     "cupsd (or eval \"$(scripts/throwaway_cups.sh start DIR)\")";
    return config;
  }
  std::istringstream words(env);
  for (std::string word; words >> word;) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) config[word.substr(0, eq)] = word.substr(eq + 1);
  }
  for (const char* key : {"server", "printer", "pdf_dir", "stopped", "rejecting"}) {
    EXPECT_TRUE(config.contains(key)) << "EKTP_TEST_CUPS has no " << key << "=: " << env;
  }
  return config;
}

// Jobs named `title` in `printer`'s history on `server` ("host:port"), read with libcups directly.
int JobsNamed(const std::string& server, const std::string& printer, const std::string& title) {
  const size_t colon = server.rfind(':');
  http_t* http = httpConnect2(server.substr(0, colon).c_str(), std::stoi(server.substr(colon + 1)), nullptr, AF_UNSPEC,
                              HTTP_ENCRYPTION_IF_REQUESTED, 1, 5000, nullptr);
  if (http == nullptr) return -1;
  cups_job_t* jobs = nullptr;
  const int count = cupsGetJobs2(http, &jobs, printer.c_str(), 0, CUPS_WHICHJOBS_ALL);
  int named = 0;
  for (int i = 0; i < count; ++i) named += jobs[i].title != nullptr && title == jobs[i].title ? 1 : 0;
  cupsFreeJobs(count, jobs);
  httpClose(http);
  return count < 0 ? -1 : named;
}

TEST(CupsOutputTest, AJobSentToTheVirtualPrinterAppearsAsAPdf) {
  auto cups_env = TestCups();
  ASSERT_TRUE(cups_env.contains("pdf_dir"));
  auto output = OpenCardOutput("cups:" + cups_env["printer"] + "@" + cups_env["server"]);
  ASSERT_OK(output.status());
  EXPECT_EQ((*output)->Describe(), "CUPS printer " + cups_env["printer"] + " on " + cups_env["server"]);
  auto rendered = RenderCard(SampleCard(), RegionRegistry::Default());
  ASSERT_OK(rendered.status());
  const std::string card_id = "35.21-" + crypto::RandomToken(6);  // one cupsd serves every run of this test

  auto before = (*output)->WasSent(card_id);
  ASSERT_OK(before.status());
  EXPECT_FALSE(*before);
  ASSERT_OK((*output)->Send(card_id, *rendered, SignedBlob(SampleCard())));
  auto after = (*output)->WasSent(card_id);
  ASSERT_OK(after.status());
  EXPECT_TRUE(*after);

  // cups-pdf names its output after the job: the card id.
  const auto pdf_path = std::filesystem::path(cups_env["pdf_dir"]) / (card_id + ".pdf");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string pdf;
  while (std::chrono::steady_clock::now() < deadline) {
    // cups-pdf writes the file in place: wait until it ends with the PDF trailer.
    pdf = ReadText(pdf_path);
    if (pdf.find("%%EOF") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_THAT(pdf, HasSubstr("%%EOF")) << pdf_path << " did not appear within 20 s";
  EXPECT_TRUE(pdf.starts_with("%PDF-"));
  EXPECT_THAT(pdf, HasSubstr("/Count 2"));  // front and back

  // A resend (a station resuming after a crash) adds no second job.
  ASSERT_OK((*output)->Send(card_id, *rendered, {}));
  EXPECT_EQ(JobsNamed(cups_env["server"], cups_env["printer"], card_id), 1);
}

TEST(CupsOutputTest, UnknownStoppedOrRejectingPrintersAndAnUnreachableServerAreRefusedByName) {
  auto cups_env = TestCups();
  ASSERT_TRUE(cups_env.contains("server"));
  auto rendered = RenderCard(SampleCard(), RegionRegistry::Default());
  ASSERT_OK(rendered.status());
  const std::string& server = cups_env["server"];

  auto unknown = CupsOutput("ektp-no-such-printer", server);
  ASSERT_OK(unknown.status());
  EXPECT_THAT((*unknown)->Send("35.21-1", *rendered, {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("has no printer ektp-no-such-printer")));

  auto stopped = CupsOutput(cups_env["stopped"], server);
  ASSERT_OK(stopped.status());
  EXPECT_THAT((*stopped)->Send("35.21-2", *rendered, {}),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("CUPS printer " + cups_env["stopped"] + " on " + server +
                                 " is stopped: paused for the ektp tests")));
  auto stopped_sent = (*stopped)->WasSent("35.21-2");
  ASSERT_OK(stopped_sent.status());
  EXPECT_FALSE(*stopped_sent);

  auto rejecting = CupsOutput(cups_env["rejecting"], server);
  ASSERT_OK(rejecting.status());
  EXPECT_THAT((*rejecting)->Send("35.21-3", *rendered, {}),
              StatusIs(StatusCode::kUnavailable, HasSubstr(cups_env["rejecting"] + " on " + server +
                                                           " is not accepting jobs: closed for the ektp tests")));

  // A loopback port nobody listens on: bound, then closed.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(probe);
  const std::string closed = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto down = CupsOutput(cups_env["printer"], closed);
  ASSERT_OK(down.status());
  EXPECT_THAT((*down)->Send("35.21-4", *rendered, {}),
              StatusIs(StatusCode::kUnavailable, HasSubstr("the CUPS server " + closed + " for printer " +
                                                           cups_env["printer"] + " cannot be reached")));
  EXPECT_THAT((*down)->WasSent("35.21-4"), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot be reached")));

  auto printer = CupsOutput(cups_env["printer"], server);
  ASSERT_OK(printer.status());
  EXPECT_THAT((*printer)->Send("../escape", *rendered, {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'../escape' is not a card id")));
  EXPECT_THAT(CupsOutput("two words", server),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a CUPS printer name")));
  EXPECT_THAT(OpenCardOutput("cups:ektp-pdf@localhost:six31"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("has no valid port")));
  EXPECT_THAT(OpenCardOutput("cups:ektp-pdf@"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("names no server")));
  auto spool = OpenCardOutput("/var/lib/ektp/spool");
  ASSERT_OK(spool.status());
  EXPECT_EQ((*spool)->Describe(), "spool /var/lib/ektp/spool");
}

}  // namespace
}  // namespace ektp::card
