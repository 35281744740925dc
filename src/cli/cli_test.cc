// Runs the real `ektp` binary and checks output and exit codes.
#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "cli/command.h"
#include "core/clock.h"
#include "core/testing.h"
#include "store/db.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::ektp::testing::CommandRun;

// `ektp args`, its stderr merged into `out`.
CommandRun Ektp(const std::string& args) {
  return ::ektp::testing::RunCommand(std::string(EKTP_BINARY) + " " + args + " 2>&1");
}

// `args` with `input` and a newline on its standard input.
CommandRun EktpWithInput(const std::string& input, const std::string& args) {
  char path[] = "/tmp/ektp-cli-input-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  const std::string line = input + "\n";
  EXPECT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  close(fd);
  CommandRun run = Ektp(args + " <" + path);
  std::filesystem::remove(path);
  return run;
}

// A serving `ektp` in the background, stopped with SIGTERM when destroyed.
class Served {
 public:
  // Starts `ektp args` with stdout and stderr into `log`, and waits up to 20 s
  // for its "listening on <url>" line.
  Served(const std::string& args, const std::string& log) : log_(log) {
    pid_ = ::ektp::testing::StartCommand(std::string(EKTP_BINARY) + " " + args, log);
    for (int i = 0; i < 200 && url_.empty(); ++i) {
      std::ifstream in(log);
      std::string line;
      while (std::getline(in, line)) {
        size_t at = line.find(" listening on ");
        if (at != std::string::npos && url_.empty()) url_ = line.substr(at + 14);
      }
      if (url_.empty()) usleep(100'000);
    }
  }
  ~Served() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  const std::string& url() const { return url_; }
  std::string output() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::string url_;
};

TEST(CliTest, NikParseJsonDecodesSineNgawi) {
  CommandRun run = Ektp("nik parse 3521015708990001 --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["nik"], "3521015708990001");
  EXPECT_EQ(json["province_code"], "35");
  EXPECT_EQ(json["regency_code"], "35.21");
  EXPECT_EQ(json["kecamatan_code"], "35.21.01");
  EXPECT_EQ(json["kecamatan_name"], "Sine");
  EXPECT_EQ(json["regency_name"], "Kabupaten Ngawi");
  EXPECT_EQ(json["birth_date"], "1999-08-17");
  EXPECT_EQ(json["sex"], "female");
  EXPECT_EQ(json["sequence"], 1);
}

TEST(CliTest, InvalidNikExitsOneNamingThePart) {
  CommandRun run = Ektp("nik parse 3521995708990001 --json");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("kecamatan 35.21.99 does not exist"));
  run = Ektp("nik parse 3521013208990001");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("day 32 is not a date"));
}

TEST(CliTest, UsageErrorsExitTwo) {
  CommandRun run = Ektp("nik parse");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.out, HasSubstr("nik is required"));
  EXPECT_EQ(Ektp("nik parse 3521015708990001 --bogus").exit_code, 2);
}

TEST(CliTest, UnknownCommandSuggestsTheClosest) {
  CommandRun run = Ektp("regoin show 35.21");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.out, HasSubstr("did you mean 'region show'?"));
  run = Ektp("nik prase 3521015708990001");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.out, HasSubstr("did you mean 'nik parse'?"));
}

TEST(CliTest, HelpAndVersion) {
  CommandRun run = Ektp("help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("nik parse"));
  EXPECT_THAT(run.out, HasSubstr("region search"));
  run = Ektp("help nik parse");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--json"));
  run = Ektp("--version");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("ektp 0."));
  EXPECT_EQ(Ektp("help nosuch").exit_code, 2);
}

TEST(CliTest, RemovableMediaCommandsAreListedAndRefuseAFolderThatIsNoExport) {
  CommandRun run = Ektp("help");
  for (const char* command : {"station export", "central import", "station import-receipt", "central export-feed",
                              "station import-feed"}) {
    EXPECT_THAT(run.out, HasSubstr(command));
  }
  char dir_template[] = "/tmp/ektp-cli-media-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ASSERT_EQ(Ektp("central init --dir " + dir + "/central").exit_code, 0);
  run = Ektp("central import --dir " + dir + "/central " + dir + "/usb");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("export manifest " + dir + "/usb/manifest.json is missing"));
  run = Ektp("central export-feed --dir " + dir + "/central --station ST-352101-01 --after 0 --to " + dir + "/usb");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("ST-352101-01"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/usb"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, ReviewAndHomeAreaCommandsAreListedAndRefuseBadInput) {
  CommandRun run = Ektp("help");
  for (const char* command : {"station review list", "station review approve", "station review reject",
                              "central station home"}) {
    EXPECT_THAT(run.out, HasSubstr(command));
  }
  char dir_template[] = "/tmp/ektp-cli-review-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ASSERT_EQ(Ektp("central init --dir " + dir + "/central").exit_code, 0);
  run = Ektp("central station home ST-352101-01 --dir " + dir + "/central --lat -7.4 --lon 111.4 --radius-km 25");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("station ST-352101-01 is not registered"));
  run = Ektp("central station home ST-352101-01 --dir " + dir + "/central --lat -97 --lon 111.4 --radius-km 25");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("home lat must be -90 to 90 degrees"));
  run = Ektp("station review reject ST-352101-01-000001 --dir " + dir + "/station --username sari");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--reason"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, OperatorCommandsRevokeAtCentralAndRefuseBadFingersByName) {
  CommandRun run = Ektp("help");
  for (const char* command : {"station operator fingerprints", "central operator revoke", "central operator list"}) {
    EXPECT_THAT(run.out, HasSubstr(command));
  }
  char dir_template[] = "/tmp/ektp-cli-operator-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ASSERT_EQ(Ektp("central init --dir " + dir + "/central").exit_code, 0);
  run = Ektp("central operator revoke ST-352101-01 ani --dir " + dir + "/central --reason 'left the office'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("station ST-352101-01 is not registered"));
  {  // A registered station, as `central token create` and `station init` would leave it.
    ektp::central::CentralOptions options;
    options.data_dir = dir + "/central";
    auto db = ektp::store::Open(ektp::central::CentralDbUrl(options), ektp::store::Schema::kCentral);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ektp::central::StationRegistry registry(**db, ektp::SystemClock::Instance());
    auto token = registry.CreateToken(
        {"35.21.01", ektp::central::StationKind::kKecamatanOffice, {"enroll"}, std::chrono::hours(1)}, "admin");
    ASSERT_TRUE(token.ok());
    ASSERT_TRUE(registry.Register(*token, ektp::crypto::SigningKey::Generate().public_key()).ok());
  }
  run = Ektp("central operator list --dir " + dir + "/central");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "no operator is revoked\n");
  run = Ektp("central operator revoke ST-352101-01 ani --dir " + dir + "/central --reason 'left the office' --admin rudi");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "operator ani of ST-352101-01 revoked; packets they perform from now on are refused at sync "
                        "with the reason\n");
  run = Ektp("central operator revoke ST-352101-01 ani --dir " + dir + "/central --reason again");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("operator ani of station ST-352101-01 was revoked already at "));
  run = Ektp("central operator list --json --dir " + dir + "/central");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto listed = nlohmann::json::parse(run.out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["username"], "ani");
  EXPECT_EQ(listed[0]["reason"], "left the office");
  EXPECT_EQ(listed[0]["revoked_by"], "rudi");

  run = Ektp("station operator fingerprints ani --dir " + dir + "/station --finger 11=x.iso");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("--finger 11=x.iso: give POSITION=FILE with POSITION 1 to 10"));
  run = Ektp("station operator fingerprints ani --dir " + dir + "/station --finger 2=" + dir + "/missing.iso");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("cannot open " + dir + "/missing.iso"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, RegionShowAndSearch) {
  CommandRun run = Ektp("region show 35.21");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("Kabupaten Ngawi (regency)"));
  EXPECT_THAT(run.out, HasSubstr("in 35 Jawa Timur"));
  EXPECT_THAT(run.out, HasSubstr("population"));
  run = Ektp("region search ngawi");
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("35.21"));
  EXPECT_EQ(Ektp("region show 35.99").exit_code, 1);
  EXPECT_THAT(Ektp("region show 35.99").out, HasSubstr("region 35.99 does not exist"));
}

TEST(CliTest, CardExampleWritesACardWhoseChipShowVerifies) {
  char dir_template[] = "/tmp/ektp-cli-card-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  CommandRun run = Ektp("card example --seed 3 --out " + dir);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  for (const char* file : {"/front.png", "/back.png", "/card.pdf", "/chip.bin"}) {
    EXPECT_GT(std::filesystem::file_size(dir + file), 500u) << file;
  }
  const std::string marker = "--central-key ";
  const size_t at = run.out.find(marker);
  ASSERT_NE(at, std::string::npos) << run.out;
  const std::string key = run.out.substr(at + marker.size(), 44);

  run = Ektp("card show " + dir + "/chip.bin --json --central-key " + key);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  nlohmann::json shown = nlohmann::json::parse(run.out);
  EXPECT_EQ(shown["signature_verified"], true);
  EXPECT_EQ(shown["registration_number"].get<std::string>().substr(8), "-CONTOH-3");
  EXPECT_EQ(shown["resident"]["nik"].get<std::string>().size(), 16u);
  EXPECT_EQ(shown["fingers"].size(), 2u);

  run = Ektp("card show " + dir + "/chip.bin --photo " + dir + "/front.png --central-key " + key);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("the photo is not the one this chip was written for"));
  run = Ektp("card show " + dir + "/chip.bin --central-key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("central's signature does not verify"));
  run = Ektp("card show " + dir + "/chip.bin");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("NOT CHECKED"));
  std::filesystem::remove_all(dir);
}

// The folder `ektp suket example --seed N` wrote, and its verify flags.
struct SuketExample {
  std::string dir;
  std::string central_key;
  std::string Flags() const { return " --trust " + dir + "/trust-bundle.cbor --revocations " + dir + "/revocations.cbor"; }
};

SuketExample WriteSuketExample(int seed) {
  char dir_template[] = "/tmp/ektp-cli-suket-XXXXXX";
  EXPECT_NE(mkdtemp(dir_template), nullptr);
  SuketExample example{dir_template, ""};
  CommandRun run = Ektp("suket example --now 2026-12-01T03:00:00Z --seed " + std::to_string(seed) + " --out " +
                           example.dir);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  const std::string marker = "--central-key ";
  const size_t at = run.out.find(marker);
  EXPECT_NE(at, std::string::npos) << run.out;
  if (at != std::string::npos) example.central_key = run.out.substr(at + marker.size(), 44);
  return example;
}

TEST(CliTest, SuketExampleVerifiesFromItsPdfPngTokenAndStandardInput) {
  const SuketExample example = WriteSuketExample(2);
  for (const char* file : {"/suket.pdf", "/suket.png", "/token.txt"}) {
    CommandRun run = Ektp("suket verify " + example.dir + file + example.Flags() + " --central-key " +
                             example.central_key + " --now 2026-12-01T04:00:00Z");
    EXPECT_EQ(run.exit_code, 0) << file << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr("VALID: Suket SKT-CONTOH-2 is valid until 2027-06-01T03:00:00Z")) << file;
    EXPECT_THAT(run.out, HasSubstr("pesan: Suket ASLI dan masih berlaku.")) << file;
    EXPECT_THAT(run.out, HasSubstr("registration     ")) << file;
  }
  CommandRun run = Ektp("suket verify - --json --now 2026-12-01T04:00:00Z" + example.Flags() + " <" + example.dir +
                           "/token.txt");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  nlohmann::json verdict = nlohmann::json::parse(run.out);
  EXPECT_EQ(verdict["outcome"], "valid");
  EXPECT_EQ(verdict["reason"], "valid");
  EXPECT_EQ(verdict["suket"]["serial"], "SKT-CONTOH-2");
  EXPECT_EQ(verdict["suket"]["station_id"], "CONTOH-35.21");
  EXPECT_EQ(verdict["trust_bundle_sequence"], 1);
  std::filesystem::remove_all(example.dir);
}

TEST(CliTest, SuketVerifyNamesWhyASuketIsNotValidAndExitsOne) {
  const SuketExample example = WriteSuketExample(3);
  CommandRun run = Ektp("suket verify " + example.dir + "/suket.pdf --now 2099-01-01T00:00:00Z" + example.Flags());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("EXPIRED (expired): Suket SKT-CONTOH-3 expired at"));

  std::ifstream in(example.dir + "/token.txt");
  std::string token;
  std::getline(in, token);
  token[40] = token[40] == 'A' ? 'B' : 'A';
  std::ofstream(example.dir + "/altered.txt") << token << "\n";
  run = Ektp("suket verify " + example.dir + "/altered.txt" + example.Flags());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("NOT GENUINE (not_zlib)"));
  EXPECT_THAT(run.out, HasSubstr("pesan: Kode QR ini bukan Suket KTP-el (isinya rusak)."));

  run = EktpWithInput("https://example.com/", "suket verify -" + example.Flags());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("NOT GENUINE (wrong_prefix): token: does not start with KTP1:"));

  // Another example's trust bundle knows neither the central key nor the station.
  const SuketExample other = WriteSuketExample(4);
  run = Ektp("suket verify " + example.dir + "/suket.png --trust " + other.dir + "/trust-bundle.cbor --revocations " +
             other.dir + "/revocations.cbor");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("NOT GENUINE (unknown_key_id)"));
  run = Ektp("suket verify " + example.dir + "/suket.png --trust " + example.dir + "/trust-bundle.cbor --revocations " +
             other.dir + "/revocations.cbor");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("revocation list: signature does not verify with any central key"));
  run = Ektp("suket verify " + example.dir + "/suket.png" + example.Flags() + " --central-key " + other.central_key);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("not the pinned central key"));
  run = Ektp("suket verify " + example.dir + "/suket.png" + example.Flags() + " --now yesterday");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("--now: yesterday is not a UTC time like 2026-12-01T03:00:00Z"));
  std::filesystem::remove_all(example.dir);
  std::filesystem::remove_all(other.dir);
}

TEST(CliTest, NikNextOnAnEmptyRegister) {
  CommandRun run = Ektp("nik next --kecamatan 35.21.01 --birth-date 1999-08-17 --sex female");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "3521015708990001\n");
  run = Ektp("nik next --kecamatan 35.21.99 --birth-date 1999-08-17 --sex female");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("kecamatan 35.21.99 does not exist"));
}

TEST(CliTest, CentralBlanksMovesReconcilesAndRefusesNamingTheSerial) {
  const std::string dir = ::testing::TempDir() + "/cli_blanks_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = " --dir " + dir + " --db sqlite:" + dir + "/central.db";
  CommandRun run = Ektp("central blanks stock-in" + db + " --first 1 --last 1000 --by gudang --reference DO-1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "1000 blangko 0000000001-0000001000 masuk stok nasional\n");
  run = Ektp("central blanks ship" + db + " --regency 35.12 --first 1 --last 300 --by gudang");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "300 blangko 0000000001-0000000300 dikirim ke kabupaten/kota 35.12\n");

  run = Ektp("central blanks ship" + db + " --regency 35.21 --first 250 --last 350 --by gudang");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("cannot ship 0000000250-0000000350 to regency 35.21: serial 0000000250 is in "
                                    "the stock of regency 35.12, not in national stock"));
  run = Ektp("central blanks stock-in" + db + " --first 900 --last 1100 --by gudang");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("overlap range 0000000001-0000001000"));
  EXPECT_EQ(Ektp("central blanks ship" + db + " --regency 35.12 --first 5 --last 4 --by gudang").exit_code, 1);
  run = Ektp("central blanks ship" + db + " --regency 35.12 --first 12x --last 20 --by gudang");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("a blank serial is 1-10 digits, not '12x'"));
  EXPECT_EQ(Ektp("central blanks ship" + db + " --regency 35.12 --first 1 --by gudang").exit_code, 2);

  run = Ektp("central blanks where" + db + " --serial 0000000042");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("0000000042: in the stock of regency 35.12"));
  run = Ektp("central blanks reconcile" + db + " --regency 35.12 --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["shipped"], 300);
  EXPECT_EQ(json["shipments"], 1);
  EXPECT_EQ(json["on_hand"]["in_store"], 300);
  EXPECT_TRUE(json["discrepancies"].empty());
  run = Ektp("central blanks reconcile" + db + " --regency 35.12");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("Rekonsiliasi blangko 35.12 Kabupaten Situbondo"));
  EXPECT_THAT(run.out, HasSubstr("Selisih: tidak ada"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, DemoRunsTheDayThenRefusesToReuseItsDirectory) {
  char dir_template[] = "/tmp/ektp-cli-demo-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string demo = "demo --exit-when-done --central-port 0 --station-port 0 --dir " + std::string(dir_template);
  CommandRun run = Ektp(demo + " --residents 8");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("ST-352101-01  office (disdukcapil_office, enroll,print,pickup,suket), kecamatan 35.21.01"));
  EXPECT_THAT(run.out, HasSubstr("ST-352104-01  van (mobile_van, enroll,pickup,suket), kecamatan 35.21.04"));
  // The pipeline gives every record its NIK except the planted duplicate; the others end the day collected.
  EXPECT_THAT(run.out,
              HasSubstr("end of the day: 8 enrolled, 8 at central (lost: 0), 7 printed, 7 handed over, 1 in adjudication"));
  EXPECT_THAT(run.out, HasSubstr("ektp central adjudication list --dir"));
  // A second run would mix two days' blanks and residents: refused, nothing started.
  run = Ektp(demo + " --residents 8 --seed 2");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("holds an earlier demo day; remove it"));

  const std::string central = std::string(dir_template) + "/central";
  run = Ektp("central pipeline status --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("dedupe\tdone\t8\n"));
  EXPECT_THAT(run.out, HasSubstr("demographics\tdone\t8\n"));

  // The adjudicator's desk: the planted duplicate waits; decide it.
  run = Ektp("central adjudication list --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("1 open case(s)"));
  EXPECT_THAT(run.out, HasSubstr("duplicate suspect: fingerprints match 1 resident(s) on record"));
  const std::string record = run.out.substr(0, run.out.find('\t'));
  run = Ektp("central adjudication show " + record + " --photos " + dir_template + "/photos --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("\"fused_score\""));
  EXPECT_THAT(run.out, HasSubstr("\"position\": 2"));
  EXPECT_THAT(run.out, HasSubstr("ST-352102-01-000001.jpg"));
  EXPECT_TRUE(std::filesystem::exists(std::string(dir_template) + "/photos/ST-352102-01-000001.jpg"));
  const std::string decide = "central adjudication decide " + record + " --adjudicator siti --dir " + central;
  run = Ektp(decide + " --verdict same_person --note x");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("unknown decision 'same_person'"));
  run = Ektp(decide + " --verdict different_people --note 'twins; birth certificates seen'");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr(": print_ready, NIK 3521"));
  run = Ektp(decide + " --verdict different_people --note again");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("is already decided"));

  run = Ektp("central integrity report --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("operators:\n  ST-352101-01 operator  failed checks 0/2 (0 %)"));
  run = Ektp("central integrity report --dir " + central + " --alpha 2");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.out, HasSubstr("--alpha"));

  run = Ektp("central audit verify --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("audit log intact:"));
  // A signed checkpoint kept off central catches a tail cut with the head rewritten.
  const std::string checkpoints = std::string(dir_template) + "/checkpoints.json";
  run = Ektp("central audit checkpoint --dir " + central + " --out " + checkpoints);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr(", written to " + checkpoints));
  run = Ektp("central audit verify --dir " + central + " --checkpoint " + checkpoints);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("agrees with 1 signed checkpoint(s)"));
  ASSERT_EQ(std::system(("sqlite3 " + central + "/central.db \"DELETE FROM audit_log WHERE seq = (SELECT seq FROM "
                         "audit_head); UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit_log WHERE "
                         "seq = audit_head.seq - 1)\"")
                            .c_str()),
            0);
  run = Ektp("central audit verify --dir " + central);
  EXPECT_EQ(run.exit_code, 0) << run.out;  // the chain alone cannot tell
  run = Ektp("central audit verify --dir " + central + " --checkpoint " + checkpoints);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("(entries deleted from the end?)"));
  EXPECT_THAT(run.out, HasSubstr("but the checkpoint signed at"));
  // A checkpoint edited in its file (its time moved) no longer carries central's signature.
  ASSERT_EQ(std::system(("sed -i 's/\"at\": \"2/\"at\": \"1/' " + checkpoints).c_str()), 0);
  run = Ektp("central audit verify --dir " + central + " --checkpoint " + checkpoints);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("is not signed by central's key"));
  // Editing history behind central's back is caught.
  ASSERT_EQ(std::system(("sqlite3 " + central + "/central.db \"UPDATE audit_log SET actor = 'mallory' WHERE seq = 1\"")
                            .c_str()),
            0);
  run = Ektp("central audit verify --dir " + central);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("audit log broken at entry 1: entry 1 does not match its hash"));

  // Data at rest: everything central, the stations and the adjudicator's
  // photos wrote is for ektp's user only (files 0600, directories 0700), and
  // central's database holds the biometrics encrypted only.
  // (SQLite removes -wal and -shm when the last connection closes; their
  // mode is SqliteFilesTest's.)
  for (const char* file : {"/central/central.db", "/central/biometrics.key", "/central/signing.key",
                           "/photos/ST-352102-01-000001.jpg"}) {
    EXPECT_TRUE(std::filesystem::exists(std::string(dir_template) + file)) << file;
  }
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_template)) {
    struct stat info {};
    ASSERT_EQ(lstat(entry.path().c_str(), &info), 0);
    if (S_ISDIR(info.st_mode)) {
      EXPECT_EQ(info.st_mode & 0777, 0700u) << entry.path();
    } else if (S_ISREG(info.st_mode)) {
      EXPECT_EQ(info.st_mode & 0777, 0600u) << entry.path();
      ++files;
    }
  }
  EXPECT_GE(files, 10);
  CommandRun clear = ::ektp::testing::RunCommand("sqlite3 " + central +
                                                 "/central.db \"SELECT COUNT(*), SUM(substr(biometrics, 1, 4) = "
                                                 "CAST('ekd1' AS BLOB)) FROM record_biometrics\"");
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  EXPECT_EQ(clear.out, "8|8\n") << "every stored record's biometrics are encrypted";
  std::filesystem::remove_all(dir_template);
}

TEST(CliTest, DemoRefusesAnUnknownRegency) {
  CommandRun run = Ektp("demo --regency 35.99 --dir /nonexistent");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("regency 35.99 does not exist"));
}

std::string FvcDir() { return ::ektp::testing::FvcDir().string(); }

// Issue 4's "done when": `ektp bio eval <fvc> --scores s.csv` prints the
// figures and writes every pair.
TEST(CliTest, BioEvalPrintsTheFiguresAndWritesEveryPair) {
  char dir_template[] = "/tmp/ektp-cli-bio-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string csv = std::string(dir_template) + "/s.csv";
  CommandRun run = Ektp("bio eval " + FvcDir() + " --scores " + csv);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  for (const char* line : {"DB1_B    EER ", "DB4_B    EER ", "pooled   EER ", "(1120 genuine, 11520 impostor pairs)",
                           "calibration: score >= 30 accepts "}) {
    EXPECT_THAT(run.out, HasSubstr(line));
  }
  std::ifstream scores(csv);
  std::string header, row;
  std::getline(scores, header);
  EXPECT_EQ(header, "probe,candidate,score");
  size_t rows = 0;
  while (std::getline(scores, row)) ++rows;
  EXPECT_EQ(rows, 4u * (80 * 79 / 2));  // every pair of each database's 80 templates
  std::filesystem::remove_all(dir_template);
}

// `--cross-validate` prints four folds and the pooled out-of-fold figures,
// and refuses a single database (nothing to hold out).
TEST(CliTest, BioEvalCrossValidatesLeavingOneDatabaseOut) {
  CommandRun run = Ektp("bio eval " + FvcDir() + " --cross-validate --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto cv = nlohmann::json::parse(run.out)["cross_validation"];
  ASSERT_EQ(cv["folds"].size(), 4u);
  EXPECT_EQ(cv["folds"][3]["held_out"], "DB4_B");
  EXPECT_EQ(cv["folds"][3]["training_impostor_pairs"], 8640);
  ASSERT_EQ(cv["pooled"]["thresholds"].size(), 3u);
  for (const auto& t : cv["pooled"]["thresholds"]) {
    EXPECT_LE(t["observed_fmr"].get<double>(), t["nominal_fmr"].get<double>());
  }
  EXPECT_EQ(cv["pooled"]["thresholds"][2]["supported_by_counts"], false);
  // 11,520 pooled impostor pairs tell 0.1 % (none accepted bounds it at
  // 0.026 %) but not 0.01 %.
  EXPECT_EQ(cv["pooled"]["thresholds"][1]["enough_impostor_pairs"], true);
  EXPECT_EQ(cv["pooled"]["thresholds"][2]["enough_impostor_pairs"], false);
  EXPECT_NEAR(cv["pooled"]["thresholds"][1]["observed_fmr_upper_95"].get<double>(), 2.6e-4, 1e-6);
  EXPECT_LE(cv["pooled"]["fmr10000"].get<double>(), 0.155);
  run = Ektp("bio eval " + FvcDir() + " --cross-validate");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("held out DB3_B: EER 6.06%"));
  EXPECT_THAT(run.out, HasSubstr("pooled out of fold: EER 3.43% FMR100 4.64% FMR1000 10.27% FMR10000 14.82%"));
  EXPECT_THAT(run.out, HasSubstr("accepts 0 of 2880 impostor pairs (0.0000%, within nominal; 95% upper bound "
                                    "0.1040%, too few impostor pairs to tell)"));
  run = Ektp("bio eval " + FvcDir() + "/DB1_B --cross-validate");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("at least 2 databases"));
}

// Issue 17 item 6: the error-versus-reject curve at 0, 5 and 10 % removed,
// in-sample and out of fold, each labelled, with the figures
// docs/biometrics.md gives.
TEST(CliTest, BioEvalPrintsTheErrorVersusRejectCurve) {
  CommandRun run = Ektp("bio eval " + FvcDir() + " --reject-worst 5,10 --cross-validate");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("error versus reject, IN-SAMPLE"));
  EXPECT_THAT(run.out, HasSubstr("error versus reject, OUT OF FOLD"));
  EXPECT_THAT(run.out, HasSubstr("  worst 5.00% EER 2.67%"));
  EXPECT_THAT(run.out, HasSubstr("removed 16 of 320 templates\n"));
  EXPECT_THAT(run.out, HasSubstr("  worst 10.00% EER 2.37%"));
  run = Ektp("bio eval " + FvcDir() + " --reject-worst 5,10 --cross-validate --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  ASSERT_EQ(json["reject_in_sample"].size(), 3u);
  ASSERT_EQ(json["reject_out_of_fold"].size(), 3u);
  const std::vector<double> fractions = {0, 0.05, 0.1};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(json["reject_in_sample"][i]["reject"].get<double>(), fractions[i]);
    EXPECT_DOUBLE_EQ(json["reject_out_of_fold"][i]["reject"].get<double>(), fractions[i]);
  }
  EXPECT_EQ(json["reject_out_of_fold"][0]["templates_removed"], 0);
  EXPECT_EQ(json["reject_out_of_fold"][1]["folds"].size(), 4u);
  // Removing the worst captures lowers the out-of-fold EER at each step.
  EXPECT_LT(json["reject_out_of_fold"][1]["eer"].get<double>(), json["reject_out_of_fold"][0]["eer"].get<double>());
  EXPECT_LT(json["reject_out_of_fold"][2]["eer"].get<double>(), json["reject_out_of_fold"][1]["eer"].get<double>());
  run = Ektp("bio eval " + FvcDir() + " --reject-worst 100");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("outside [0, 100)"));
}

TEST(CliTest, BioEvalRefusesAMissingFolderAndABadShare) {
  CommandRun run = Ektp("bio eval /nonexistent/fvc");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("/nonexistent/fvc"));
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("outside (0, 1]"));
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1 --prefilter-fingers 5");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("finger count 5 is outside 1..4"));
}

TEST(CliTest, BioEvalPrefilterReportsEachDatabaseAndTwoFingers) {
  CommandRun run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("pre-filter keeping 10.00% of 40 1-finger subjects: lost 1.07% (3 of 280 "
                                    "searches; DB1_B 0 of 70; DB2_B 1 of 70; DB3_B 2 of 70; DB4_B 0 of 70)\n"
                                    "  the full matcher ranking the whole gallery instead: lost 0.36% (1 of 280)\n"));
  EXPECT_THAT(run.out, HasSubstr("pre-filter keeping 10.00% of 20 2-finger subjects: lost 0.00% (0 of 140 "
                                    "searches; DB1_B 0 of 70; DB3_B 0 of 70)"));
  EXPECT_THAT(run.out, Not(HasSubstr("OUT OF FOLD")));
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0.05 --cross-validate");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("pre-filter OUT OF FOLD (each group's length cells and cohort from the other "
                                    "databases) keeping 5.00% of 40 1-finger subjects: lost 0.36% (1 of 280 searches; "
                                    "DB1_B 0 of 70; DB2_B 0 of 70; DB3_B 1 of 70; DB4_B 0 of 70)"));
  EXPECT_THAT(run.out, HasSubstr("pre-filter OUT OF FOLD (each group's length cells and cohort from the other "
                                    "databases) keeping 5.00% of 20 2-finger subjects: lost 0.00% (0 of 140 searches; "
                                    "DB1_B 0 of 70; DB3_B 0 of 70)"));
}

// `--prefilter-index signature` measures the plain edge signature with the
// same protocol, in-sample and out of fold, and prints its cost; an unknown
// scorer is refused.
TEST(CliTest, BioEvalPrefilterIndexSignature) {
  CommandRun run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1 --prefilter-index signature --cross-validate");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("pre-filter (signature) keeping 10.00% of 40 1-finger subjects: lost 5.71% (16 of "
                                 "280 searches; DB1_B 6 of 70; DB2_B 0 of 70; DB3_B 6 of 70; DB4_B 4 of 70)"));
  EXPECT_THAT(run.out, HasSubstr("pre-filter (signature) OUT OF FOLD (each group's length cells and cohort from the "
                                 "other databases) keeping 10.00% of 40 1-finger subjects: lost 4.64% (13 of 280 "
                                 "searches; DB1_B 4 of 70; DB2_B 0 of 70; DB3_B 5 of 70; DB4_B 4 of 70)"));
  EXPECT_THAT(run.out, HasSubstr("pre-filter (signature) OUT OF FOLD (each group's length cells and cohort from the "
                                 "other databases) keeping 10.00% of 20 2-finger subjects: lost 0.00% (0 of 140 "
                                 "searches; DB1_B 0 of 70; DB3_B 0 of 70)"));
  EXPECT_THAT(run.out, HasSubstr("us per gallery finger scored, 514 bytes per gallery finger (mean)"));
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1 --prefilter-fingers 1 --prefilter-index signature --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["prefilter"][0]["scorer"], "signature");
  EXPECT_EQ(json["prefilter"][0]["lost"], 16);
  EXPECT_EQ(json["prefilter"][0]["bytes_per_finger"].get<double>(), 514.0);
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1 --prefilter-fingers 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(nlohmann::json::parse(run.out)["prefilter"][0]["scorer"], "engine");
  EXPECT_EQ(nlohmann::json::parse(run.out)["prefilter"][0]["matcher_lost"], 1);
  EXPECT_FALSE(nlohmann::json::parse(run.out)["prefilter"][0].contains("bytes_per_finger"));
  run = Ektp("bio eval " + FvcDir() + " --prefilter 0.1 --prefilter-index bags");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("bags"));
}

// The shipped binary has no default data path: a path that only exists in
// a developer checkout would be a trap on a server.
// `bio synth --fvc` writes FVC2002's layout with the parameters given, and
// refuses unknown or malformed ones.
TEST(CliTest, BioSynthWritesTheFvcLayoutWithTheGivenParameters) {
  char dir_template[] = "/tmp/ektp-cli-synth-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = std::string(dir_template) + "/DB1_B";
  CommandRun run = Ektp("bio synth --fvc --subjects 3 --impressions 2 --out " + dir + " --param distortion_px=0");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["files"], 6);
  EXPECT_EQ(json["params"]["distortion_px"], 0);
  EXPECT_EQ(json["params"]["missing_rate"].get<double>(), ::ektp::bio::SynthParams::Calibrated().missing_rate);
  for (const char* name : {"101_1.iso", "101_2.iso", "103_2.iso"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + name)) << name;
  }
  run = Ektp("bio eval " + std::string(dir_template));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("(3 genuine, 12 impostor pairs)"));
  run = Ektp("bio synth --out " + dir + " --param no_such=1");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("unknown synthetic-model parameter 'no_such'"));
  run = Ektp("bio synth --out " + dir + " --param missing_rate=lots");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("--param wants name=number, got 'missing_rate=lots'"));
  std::filesystem::remove_all(dir_template);
}

// `bio synth-calibrate` compares with the fitted databases and each held-out
// one, and writes the histograms and their plot.
TEST(CliTest, BioSynthCalibrateComparesWithFittedAndHeldOutDatabases) {
  char dir_template[] = "/tmp/ektp-cli-synthcal-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string tsv = std::string(dir_template) + "/h.tsv";
  const std::string svg = std::string(dir_template) + "/plot.svg";
  CommandRun run = Ektp("bio synth-calibrate --fvc " + FvcDir() +
                        " --fit DB1_B,DB3_B,DB4_B --fingers 6 --impressions 3 --histogram " + tsv + " --plot " + svg);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["fit"]["comparison"]["fvc"]["genuine"], 840);
  EXPECT_EQ(json["fit"]["comparison"]["synthetic"]["genuine"], 6 * 3);
  ASSERT_EQ(json["held_out"].size(), 1u);
  EXPECT_EQ(json["held_out"][0]["database"], "DB2_B");
  EXPECT_EQ(json["held_out"][0]["comparison"]["fvc"]["impostor"], 2880);
  std::ifstream h(tsv);
  std::string line;
  size_t lines = 0;
  while (std::getline(h, line)) ++lines;
  EXPECT_EQ(lines, 1u + 51);
  std::ifstream plot(svg);
  const std::string drawn((std::istreambuf_iterator<char>(plot)), {});
  EXPECT_THAT(drawn, HasSubstr("</svg>"));
  size_t lines_drawn = 0;
  for (size_t at = drawn.find("<polyline"); at != std::string::npos; at = drawn.find("<polyline", at + 1)) ++lines_drawn;
  EXPECT_GE(lines_drawn, 6u);  // genuine and impostor: fitted, held out, synthetic
  // PLplot writes text as character references: "DB2_B (held out)" in the legend.
  EXPECT_THAT(drawn, HasSubstr("&#x44;&#x42;&#x32;&#x5f;&#x42;&#x20;&#x28;&#x68;&#x65;&#x6c;&#x64;"));
  run = Ektp("bio synth-calibrate --fvc " + FvcDir() + " --fit DB1_B,DB3_B,DB4_B --fingers 4 --impressions 2 --plot " +
             std::string(dir_template) + "/no-such-folder/plot.svg");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("cannot create"));
  run = Ektp("bio synth-calibrate --fvc " + FvcDir() + " --fit DB9_B");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("--fit: no database DB9_B in"));
  std::filesystem::remove_all(dir_template);
}

TEST(CliTest, BioBenchRequiresTheTemplateFolder) {
  CommandRun run = Ektp("bio bench --json --seconds 0.2 --gallery-sizes 300");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.out, HasSubstr("--fvc is required"));
}

// `ektp bio bench --json` prints the per-core rate, the 1:N latencies and
// the peak memory (a short run: the figures themselves are the benchmark's).
TEST(CliTest, BioBenchPrintsJson) {
  CommandRun run = Ektp("bio bench --json --seconds 0.2 --gallery-sizes 300 --fvc " + FvcDir());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_GT(json["comparisons"]["per_second_per_core"].get<double>(), 0);
  EXPECT_EQ(json["comparisons"]["templates"], 320);
  ASSERT_EQ(json["identify"].size(), 2u);  // without and with the pre-filter
  for (const auto& search : json["identify"]) {
    EXPECT_EQ(search["gallery_subjects"], 300);
    EXPECT_EQ(search["rank1_hits"], search["searches"]);
  }
  EXPECT_GT(json["peak_rss_bytes"].get<double>(), 0);
}

// A temporary directory holding `name` with `text`; returns the file's path.
std::string WriteTempFile(const std::string& name, const std::string& text) {
  char dir_template[] = "/tmp/ektp-cli-config-XXXXXX";
  EXPECT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CliTest, ServeRefusesAnUnknownKeyNamingFileLineAndTheClosestKey) {
  std::string path = WriteTempFile("central.toml", "[central]\ndata_dir = \"/tmp/x\"\n\n[listen]\ntreads = 4\n");
  CommandRun run = Ektp("central serve --print-config --config " + path);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr(path + ": unknown key 'listen.treads' (line 5); did you mean "
                                           "'listen.threads'?"));
  path = WriteTempFile("station.toml", "[station]\ndata_dir = \"/tmp/x\"\n[sync]\nidle_ms = \"2s\"\n");
  run = Ektp("station serve --print-config --config " + path);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr(path + ": key 'sync.idle_ms' must be an integer, not a string (line 4, column 11)"));
}

TEST(CliTest, PrintConfigShowsFlagsOverFileOverDefaults) {
  std::string path = WriteTempFile("central.toml",
                                   "[central]\ndata_dir = \"/srv/file\"\ndb = \"postgresql://ektp:rahasia@db/ektp\"\n"
                                   "[listen]\nport = 9443\nthreads = 3\n[pipeline]\ndisabled = true\n");
  CommandRun run = Ektp("central serve --config " + path + " --print-config --dir /srv/flag --threads 5");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[central]\ndata_dir = \"/srv/flag\"\ndb = \"<set>\"  # secret: not printed\n"));
  EXPECT_THAT(run.out, Not(HasSubstr("rahasia")));
  // port from the file, threads from the flag, address the default.
  EXPECT_THAT(run.out, HasSubstr("[listen]\naddress = \"127.0.0.1\"\nport = 9443\nplain_http = false\nthreads = 5\n"));
  EXPECT_THAT(run.out, HasSubstr("[pipeline]\ndisabled = true\n"));

  // The station's defaults are SyncOptions'.
  run = Ektp("station serve --dir /srv/station --print-config");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[sync]\nbatch_packets = 64\nidle_ms = 2000\nbackoff_ms = 500\n"
                                    "max_backoff_ms = 60000\ntimeout_ms = 30000\n"));
  // Checks across keys still apply.
  run = Ektp("station serve --dir /srv/station --sync-backoff-ms 900 --sync-max-backoff-ms 800 --print-config");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("--sync-max-backoff-ms >= --sync-backoff-ms"));
}

TEST(CliTest, LogLevelIsAFlagAndAKeyAndAnUnknownLevelIsRefused) {
  std::string path = WriteTempFile("station.toml", "[station]\ndata_dir = \"/srv/s\"\n[log]\nlevel = \"warn\"\n");
  CommandRun run = Ektp("station serve --config " + path + " --print-config");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[log]\nlevel = \"warn\"\n"));
  run = Ektp("central serve --dir /srv/c --print-config");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[log]\nlevel = \"info\"\n"));  // the default
  for (std::string verb : {"central serve --dir /srv/c", "station serve --dir /srv/s"}) {
    run = Ektp(verb + " --log-level verbose --print-config");
    EXPECT_EQ(run.exit_code, 1) << verb;
    EXPECT_THAT(run.out, HasSubstr("--log-level (log.level) must be debug, info, warn or error, not 'verbose'"));
  }
}

TEST(CliTest, PrintConfigRoundTripsThroughConfig) {
  for (std::string command :
       {"central serve --dir '/srv/a b' --served-host a.example --served-host 'b\"c' --pipeline-rate 2.5 --no-pipeline",
        "station serve --dir /srv/s --central https://a:1 --central https://b:2 --sync-idle-ms 10 --seed 7 "
        "--insecure-plain-http"}) {
    CommandRun first = Ektp(command + " --print-config");
    ASSERT_EQ(first.exit_code, 0) << first.out;
    std::string path = WriteTempFile("printed.toml", first.out);
    std::string verb = command.substr(0, command.find(" --"));
    CommandRun second = Ektp(verb + " --config " + path + " --print-config");
    ASSERT_EQ(second.exit_code, 0) << second.out;
    EXPECT_EQ(second.out, first.out);
  }
}

// docs/operations.md's key references are what the schemas print.
TEST(CliTest, ConfigReferenceInDocsMatchesTheSchemas) {
  std::ifstream doc(::ektp::testing::SourceDir() / "docs" / "operations.md");
  ASSERT_TRUE(doc.good());
  std::string text((std::istreambuf_iterator<char>(doc)), {});
  for (std::string command : {"central serve", "station serve"}) {
    const std::string begin = "<!-- generated by `ektp " + command + " --print-config-reference`";
    size_t start = text.find(begin);
    ASSERT_NE(start, std::string::npos) << "docs/operations.md lacks the line starting " << begin;
    start = text.find('\n', start) + 1;
    size_t end = text.find("<!-- end of generated reference -->", start);
    ASSERT_NE(end, std::string::npos);
    CommandRun run = Ektp(command + " --print-config-reference");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_EQ(text.substr(start, end - start), run.out + "\n")  // a blank line ends the table
        << "docs/operations.md's reference of `ektp " << command
        << "` differs from its schema: run scripts/config_reference.sh";
  }
}

// Issue 13's "done when": `ektp central blanks plan --supply 100000` divides the
// supply across all 514 regencies of the national data under both policies.
TEST(CliTest, BlanksPlanDividesTheSupplyAcrossAll514Regencies) {
  const std::string data = ::ektp::testing::SharedDataDir().string();
  CommandRun run = Ektp("central blanks plan --supply 100000 --format json --data " + data);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto json = nlohmann::json::parse(run.out);
  ASSERT_EQ(json["plans"].size(), 2u);
  EXPECT_EQ(json["plans"][0]["policy"], "proportional");
  EXPECT_EQ(json["plans"][1]["policy"], "min-max-wait");
  for (const auto& plan : json["plans"]) {
    ASSERT_EQ(plan["regencies"].size(), 514u);
    int64_t total = 0;
    for (const auto& regency : plan["regencies"]) {
      EXPECT_GE(regency["allocation"].get<int64_t>(), 20) << regency["code"];
      total += regency["allocation"].get<int64_t>();
    }
    EXPECT_EQ(total, 100000);
    EXPECT_EQ(plan["summary"]["supply"], 100000);
    EXPECT_EQ(plan["summary"]["floor_applied"], 20);
    EXPECT_EQ(plan["regencies"][0]["code"], "11.01");
  }
  EXPECT_LE(json["plans"][1]["summary"]["max_wait_days"].get<double>(),
            json["plans"][0]["summary"]["max_wait_days"].get<double>());

  // The default table prints both plans from the built-in copy of the same data.
  run = Ektp("central blanks plan --supply 100000");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("kebijakan proportional: tunggu terlama"));
  EXPECT_THAT(run.out, HasSubstr("kebijakan min-max-wait: tunggu terlama"));
  EXPECT_THAT(run.out, HasSubstr("35.21   Kabupaten Ngawi"));

  run = Ektp("central blanks plan --supply 100000 --policy min-max-wait --format csv --floor 50");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::istringstream lines(run.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "policy,code,name,backlog,on_hand,need,allocation,wait_days,backlog_left");
  int rows = 0;
  while (std::getline(lines, line)) {
    EXPECT_THAT(line, ::testing::StartsWith("min-max-wait,")) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 514);
}

TEST(CliTest, BlanksNeedListsEveryRegencyAndItsShortage) {
  CommandRun run = Ektp("central blanks need --format csv --on-hand 35.21=6000 --on-hand 35.02=10");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 515);
  // population 907,002: 41.4 a day, 3 months' backlog 3,779, need 3,779 + 1,242 over 30 days.
  EXPECT_THAT(run.out, HasSubstr("\n35.21,Kabupaten Ngawi,3779,41.416,6000,5021,0,0\n"));
  EXPECT_THAT(run.out, HasSubstr("\n35.02,Kabupaten Ponorogo,"));

  run = Ektp("central blanks need --short --format json --on-hand 35.21=6000");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["regencies_short"], 513);
  EXPECT_EQ(json["regencies"].size(), 513u);
}

TEST(CliTest, BlanksCommandsRefuseBadInputNamingIt) {
  const struct {
    std::string args;
    int exit_code;
    std::string message;
  } cases[] = {
      {"plan --supply -5", 1, "supply must not be negative, got -5"},
      {"plan --supply 10 --policy fastest", 2, "fastest"},
      {"need --on-hand 35.99=4", 1, "'35.99', which is not a regency"},
      {"need --on-hand 35.21", 1, "must be CODE=N"},
      {"need --dir /nonexistent/central", 1, "no central database in /nonexistent/central"},
      {"need --data /nonexistent/data", 1, "cannot read /nonexistent/data/regions/regions.csv"},
  };
  for (const auto& c : cases) {
    CommandRun run = Ektp("central blanks " + c.args);
    EXPECT_EQ(run.exit_code, c.exit_code) << c.args << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr(c.message)) << c.args;
  }
}

// Issue 18's setup traps, followed as a new user would: each error names the next step.
TEST(CliTest, ErrorsNameTheNextStep) {
  char dir[] = "/tmp/ektp-cli-next-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {"nik parse 3521015708990001 --jsno", 2, "did you mean '--json' (not '--jsno')?"},
      {"central serve --dir /tmp/x --prot 8443 --print-config", 2, "did you mean '--port' (not '--prot')?"},
      {"station outbox --dir /nonexistent/station --state bogus", 1,
       "outbox state 'bogus' is not pending, acked, parked or awaiting_review"},
      {"status --central https://127.0.0.1:9 --nik 3521015708990001 --receipt R1", 1,
       "needs central's certificate to pin: pass --central-cert FILE"},
      {"central serve --port 0 --dir " + std::string(dir), 1,
       "signing.key does not exist; run `ektp central init --dir " + std::string(dir)},
  };
  for (const Case& c : cases) {
    CommandRun run = Ektp(c.args);
    EXPECT_EQ(run.exit_code, c.exit_code) << c.args << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr(c.message)) << c.args;
  }
  CommandRun far = Ektp("nik parse 3521015708990001 --completely-different");
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_THAT(far.out, Not(HasSubstr("did you mean")));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, ServeDefaultsToTheDocumentedPorts) {
  CommandRun run = Ektp("central serve --dir /srv/c --print-config");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[listen]\naddress = \"127.0.0.1\"\nport = 8443\n"));
  run = Ektp("station serve --dir /srv/s --print-config");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("[listen]\naddress = \"127.0.0.1\"\nport = 8080\n"));
}

TEST(CliTest, ListingCommandsPrintJson) {
  char dir_template[] = "/tmp/ektp-cli-json-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string central = std::string(dir_template) + "/central";
  CommandRun run = Ektp("central init --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  run = Ektp("central token create --dir " + central + " --kecamatan 35.21.01");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  run = Ektp("central audit verify --json --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto audit = nlohmann::json::parse(run.out);
  EXPECT_EQ(audit["intact"], true);
  EXPECT_EQ(audit["entries"], 0);  // nothing audited yet: the chain's head is the zero hash
  EXPECT_EQ(audit["head_hash"], std::string(64, '0'));
  EXPECT_EQ(audit["checkpoints"], 0);

  run = Ektp("central pipeline status --json --retry-dead dedupe --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto pipeline = nlohmann::json::parse(run.out);
  EXPECT_EQ(pipeline["retried"], 0);
  EXPECT_TRUE(pipeline["queues"].is_array());
  EXPECT_EQ(pipeline["dead"], nlohmann::json::array());

  run = Ektp("central adjudication list --json --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json::array());

  run = Ektp("central station list --json --dir " + central);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json::array());
  std::filesystem::remove_all(dir_template);
}

// The completion the package ships (packaging/bash_completion.sh): every
// command of the table, nothing else; valid bash; it completes words and flags.
TEST(CliTest, BashCompletionListsEveryCommandAndCompletes) {
  char dir_template[] = "/tmp/ektp-cli-completion-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string script = std::string(dir_template) + "/ektp.bash";
  const std::string generate =
      std::string(EKTP_BASH_COMPLETION_SCRIPT) + " " + EKTP_BINARY + " " + script + " 2>&1";
  ASSERT_EQ(std::system(generate.c_str()), 0);
  ASSERT_EQ(std::system(("bash -n " + script).c_str()), 0);

  auto bash = [&](const std::string& code) {
    return ::ektp::testing::RunCommand("bash -c 'source " + script + "; " + code + "' 2>&1");
  };
  CommandRun listed = bash("printf \"%s\\n\" \"$_ektp_commands\"");
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  std::set<std::string> completed;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) completed.insert(line);
  }
  std::set<std::string> table;
  for (const ektp::cli::Command& command : ektp::cli::Commands()) table.insert(std::string(command.name));
  EXPECT_EQ(completed, table);

  CommandRun words = bash("COMP_WORDS=(ektp central station r); COMP_CWORD=3; _ektp; echo \"${COMPREPLY[*]}\"");
  EXPECT_EQ(words.out, "replace revoke\n");
  CommandRun flags =
      bash("COMP_WORDS=(ektp station carry-over --dir x --f); COMP_CWORD=5; _ektp; echo \"${COMPREPLY[*]}\"");
  EXPECT_EQ(flags.out, "--from\n");
  std::filesystem::remove_all(dir_template);
}

TEST(CliTest, SetupRefusesASecondCentralValidatesBeforeRegisteringAndShowsTheFingerprint) {
  char dir_template[] = "/tmp/ektp-cli-setup-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  CommandRun run = Ektp("central init --dir " + dir + "/central");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::string marker = "(give it to station installers): ";
  ASSERT_NE(run.out.find(marker), std::string::npos) << run.out;
  std::string fingerprint = run.out.substr(run.out.find(marker) + marker.size());
  fingerprint = fingerprint.substr(0, fingerprint.find('\n'));

  Served central("central serve --port 0 --no-pipeline --dir " + dir + "/central", dir + "/central.log");
  ASSERT_NE(central.url(), "") << central.output();
  EXPECT_THAT(central.output(), HasSubstr("note: bound to the loopback address 127.0.0.1 only; for stations on other "
                                          "machines, add --bind 0.0.0.0"));
  run = Ektp("central serve --port 0 --no-pipeline --dir " + dir + "/central");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("another `ektp central serve` is already using " + dir + "/central (process "));

  run = Ektp("central token create --dir " + dir + "/central --kecamatan 35.21.01");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::string token = run.out.substr(0, run.out.find('\n'));
  const std::string init = "station init --dir " + dir + "/station --central " + central.url() + " --token " + token +
                           " --admin-user admin";
  run = EktpWithInput("short", init);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("password must have at least 8 characters; nothing was registered"));
  run = EktpWithInput("long-enough-1", init);  // the same token still works
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("registered as ST-352101-01"));
  EXPECT_THAT(run.out, HasSubstr("WARNING: central's certificate was trusted without --fingerprint. It has the "
                                    "SHA-256 fingerprint\n  " + fingerprint + "\n"));
  run = Ektp("station outbox --json --dir " + dir + "/station");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto outbox = nlohmann::json::parse(run.out);
  EXPECT_EQ(outbox["counts"], nlohmann::json({{"pending", 0}, {"acked", 0}, {"parked", 0}, {"awaiting_review", 0}}));
  EXPECT_EQ(outbox["entries"], nlohmann::json::array());
  run = Ektp("central station list --json --dir " + dir + "/central");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto stations = nlohmann::json::parse(run.out);
  ASSERT_EQ(stations.size(), 1u);
  EXPECT_EQ(stations[0]["id"], "ST-352101-01");
  EXPECT_EQ(stations[0]["status"], "pending");
  EXPECT_EQ(stations[0]["kecamatan_code"], "35.21.01");
  run = EktpWithInput("long-enough-1", init);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("To add an operator there run `ektp station operator add --dir " + dir + "/station"));

  // With the fingerprint the admin gave, no warning.
  run = Ektp("central token create --dir " + dir + "/central --kecamatan 35.21.02");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  run = Ektp("station init --dir " + dir + "/van --central " + central.url() + " --token " +
             run.out.substr(0, run.out.find('\n')) + " --fingerprint " + fingerprint);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("WARNING")));

  // `station carry-over --from` takes an outbox mirror (a folder with a
  // manifest and no station.db) as well as a restored station's folder.
  std::filesystem::create_directories(dir + "/mirror/packets");
  std::ofstream(dir + "/mirror/manifest.json")
      << R"({"v": 1, "station": "ST-352101-01", "created_at": "2026-12-06T03:00:00Z", "sealed_to": "AAAA",)"
      << R"( "packets": [{"seq": 1, "kind": "enrollment", "sha256": "00", "packet_sha256": "00"}], "signature": "AAAA"})";
  run = Ektp("station carry-over --dir " + dir + "/van --from " + dir + "/mirror --to " + dir + "/carry-over");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("the packets in " + dir + "/mirror are sealed to another central than station "
                                    "ST-352102-01's; nothing was written"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/carry-over"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, CentralBackupRestoresWithTheAdminsKeyOnly) {
  char dir_template[] = "/tmp/ektp-cli-backup-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ASSERT_EQ(Ektp("central init --dir " + dir + "/central").exit_code, 0);
  ASSERT_EQ(Ektp("central token create --dir " + dir + "/central --kecamatan 35.21.01").exit_code, 0);
  CommandRun run = Ektp("backup-key create --out " + dir + "/admin.key");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  run = Ektp("central backup --dir " + dir + "/central --to " + dir + "/usb --key " + dir + "/admin.key");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("is not a backup public key"));
  run = Ektp("central backup --dir " + dir + "/central --to " + dir + "/usb --key " + dir + "/admin.key.pub");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("backup written to " + dir + "/usb/central-"));
  run = Ektp("central restore --from " + dir + "/usb --key " + dir + "/admin.key --dir " + dir + "/central");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("already holds central.db"));
  run = Ektp("central restore --from " + dir + "/usb --key " + dir + "/admin.key --dir " + dir + "/restored");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr(" central.db signing.key sealing.key biometrics.key tls-cert.pem tls-key.pem\n"));
  run = Ektp("central backup --dir " + dir + "/nothing --to " + dir + "/usb --key " + dir + "/admin.key.pub");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("back up its database with pg_dump"));
  std::filesystem::remove_all(dir);
}

}  // namespace
