// `ektp suket verify` (check a Suket offline against central's trust bundle
// and revocation list) and `ektp suket example` (issue a synthetic Suket with
// example keys, to see the page and try the verifier).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/nik.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "suket/suket.h"

extern "C" const char ektp_demo_face_jpg[], ektp_demo_face_jpg_end[];

namespace ektp::cli {
namespace {

StatusOr<crypto::Bytes> ReadAll(const std::string& path) {
  if (path == "-") return crypto::Bytes(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  return crypto::Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Status WriteAll(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return Internal("cannot write " + path.string());
  return Status::Ok();
}

// "2026-12-01T03:00:00Z" (UTC only).
StatusOr<TimePoint> ParseUtc(const std::string& text) {
  int year, month, day, hour, minute, second;
  char zone = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour, &minute, &second, &zone) != 7 ||
      zone != 'Z' || text.size() != 20) {
    return InvalidArgument("--now: " + text + " is not a UTC time like 2026-12-01T03:00:00Z");
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return InvalidArgument("--now: " + text + " is not a time");
  return TimePoint(std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                   std::chrono::seconds(second));
}

// --now, or the system clock's time in whole seconds.
StatusOr<TimePoint> NowOr(const std::string& now_text) {
  if (now_text.empty()) return TimePoint(std::chrono::floor<std::chrono::seconds>(SystemClock::Instance().Now()));
  return ParseUtc(now_text);
}

// Example keys: 'C' (central) or 'S' (station), then the seed, little-endian.
crypto::SigningKey ExampleKey(char role, uint64_t seed) {
  crypto::Bytes key_seed(32, 0);
  key_seed[0] = static_cast<uint8_t>(role);
  for (size_t i = 0; i < 8; ++i) key_seed[1 + i] = static_cast<uint8_t>(seed >> (8 * i));
  return crypto::SigningKey::FromSeed(key_seed);
}

nlohmann::json SuketJson(const suket::SuketData& d) {
  return {{"serial", d.serial},
          {"nik", d.nik},
          {"registration_number", d.registration_number},
          {"name", d.name},
          {"place_of_birth", d.place_of_birth},
          {"birth_date", FormatDate(d.birth_date)},
          {"sex", d.sex == Sex::kMale ? "L" : "P"},
          {"address", d.address},
          {"regency_code", d.regency_code},
          {"station_id", d.station_id},
          {"issued_at", FormatTimestamp(d.issued_at)},
          {"valid_until", FormatTimestamp(d.valid_until)},
          {"photo_sha256", crypto::HexEncode(d.photo_sha256)}};
}

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

}  // namespace

int SuketVerify(const Args& args) {
  CLI::App app("Check a Suket offline: valid, expired, revoked, or why it is not genuine (exit 0 only when valid)",
               "suket verify");
  std::string input, trust_path, revocations_path, now_text, central_key_base64;
  bool json = false;
  app.add_option("input", input, "a Suket PDF, a PNG or JPEG of it, a file holding the token, or - for standard input")
      ->required();
  app.add_option("--trust", trust_path, "central's trust bundle (signed)")->required();
  app.add_option("--revocations", revocations_path, "central's latest revocation list (signed)")->required();
  app.add_option("--now", now_text, "check as of this UTC time, e.g. 2026-12-01T03:00:00Z (default: now)");
  app.add_option("--central-key", central_key_base64,
                 "central's signing public key, base64: the trust bundle must be signed by it");
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;

  auto now = NowOr(now_text);
  if (!now.ok()) return Fail(now.status());
  std::optional<crypto::Bytes> pinned;
  if (!central_key_base64.empty()) {
    auto key = crypto::Base64Decode(central_key_base64);
    if (!key.ok() || key->size() != crypto::kSignPublicKeySize) {
      return Fail(InvalidArgument("--central-key: not a base64 Ed25519 public key (32 bytes)"));
    }
    pinned = std::move(*key);
  }
  auto bundle_bytes = ReadAll(trust_path);
  if (!bundle_bytes.ok()) return Fail(bundle_bytes.status());
  auto bundle = pinned ? suket::DecodeTrustBundle(*bundle_bytes, std::span<const uint8_t>(*pinned))
                       : suket::DecodeTrustBundle(*bundle_bytes);
  if (!bundle.ok()) return Fail(bundle.status().WithContext(trust_path));
  auto list_bytes = ReadAll(revocations_path);
  if (!list_bytes.ok()) return Fail(list_bytes.status());
  auto revocations = suket::DecodeRevocationList(*list_bytes, *bundle);
  if (!revocations.ok()) return Fail(revocations.status().WithContext(revocations_path));
  StatusOr<std::string> token = std::string();
  if (input == "-") {
    auto content = ReadAll(input);
    if (!content.ok()) return Fail(content.status());
    token = suket::ReadToken(*content);
  } else {
    token = suket::ReadTokenFromFile(input);
  }
  if (!token.ok()) return Fail(token.status());

  const suket::VerifyResult result = suket::Verify(*token, *bundle, *revocations, *now);
  const bool valid = result.outcome == suket::Outcome::kValid;
  if (json) {
    nlohmann::json out = {{"outcome", suket::OutcomeName(result.outcome)},
                          {"reason", suket::ReasonName(result.reason)},
                          {"message", result.message},
                          {"pesan", result.pesan},
                          {"trust_bundle_sequence", bundle->sequence},
                          {"revocation_list_sequence", revocations->sequence},
                          {"checked_at", FormatTimestamp(*now)}};
    if (result.data) out["suket"] = SuketJson(*result.data);
    std::cout << out.dump(2) << "\n";
    return valid ? kExitOk : kExitFailure;
  }
  std::cout << Upper(suket::OutcomeName(result.outcome));
  if (!valid) std::cout << " (" << suket::ReasonName(result.reason) << ")";
  std::cout << ": " << result.message << "\n" << "pesan: " << result.pesan << "\n";
  if (result.data) {
    const suket::SuketData& d = *result.data;
    std::cout << "serial           " << d.serial << "\n"
              << "NIK              " << (d.nik.empty() ? "(belum diterbitkan)" : d.nik) << "\n"
              << "registration     " << d.registration_number << "\n"
              << "name             " << d.name << "\n"
              << "born             " << d.place_of_birth << ", " << FormatDate(d.birth_date) << "\n"
              << "address          " << d.address << "\n"
              << "issued           " << FormatTimestamp(d.issued_at) << " by station " << d.station_id
              << " (regency " << d.regency_code << ")\n"
              << "valid until      " << FormatTimestamp(d.valid_until) << "\n"
              << "photo SHA-256    " << crypto::HexEncode(d.photo_sha256) << "\n";
  }
  std::cout << "checked at " << FormatTimestamp(*now) << " against trust bundle " << bundle->sequence
            << " and revocation list " << revocations->sequence << "\n";
  return valid ? kExitOk : kExitFailure;
}

int SuketExample(const Args& args) {
  CLI::App app("Issue a synthetic resident's Suket with example keys: suket.pdf, suket.png, token.txt, "
               "trust-bundle.cbor and revocations.cbor",
               "suket example");
  std::string out_dir, now_text;
  std::string regency = "35.21";
  uint64_t seed = 1;
  app.add_option("--out", out_dir, "folder to write into (created if missing)")->required();
  app.add_option("--now", now_text, "issue as of this UTC time, e.g. 2026-12-01T03:00:00Z (default: now)");
  app.add_option("--regency", regency, "the issuing office's regency")->capture_default_str();
  app.add_option("--seed", seed, "seed of the synthetic resident and of the example keys")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;

  const RegionRegistry& regions = RegionRegistry::Default();
  const Region* region = regions.Find(regency);
  if (region == nullptr || region->level != RegionLevel::kRegency) {
    return Fail(InvalidArgument("--regency: " + regency + " is not a regency code (e.g. 35.21)"));
  }
  auto now = NowOr(now_text);
  if (!now.ok()) return Fail(now.status());
  SeededRandom random(seed);
  const auto today = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*now + std::chrono::hours(7)));
  const Resident resident = SyntheticResident(regions, regency, random, today);
  const std::string kecamatan = resident.address.village_code.substr(0, 8);
  const crypto::SigningKey central_key = ExampleKey('C', seed);
  const crypto::SigningKey station_key = ExampleKey('S', seed);

  suket::SuketData data;
  data.serial = "SKT-CONTOH-" + std::to_string(seed);
  data.registration_number = kecamatan + "-CONTOH-" + std::to_string(seed);
  data.nik = FormatNik(kecamatan, resident.birth_date, resident.sex, 1 + static_cast<int>(seed % 9999));
  data.name = resident.name;
  data.place_of_birth = resident.place_of_birth;
  data.birth_date = resident.birth_date;
  data.sex = resident.sex;
  data.address = suket::AddressLine(resident.address, regions);
  data.regency_code = regency;
  data.station_id = "CONTOH-" + regency;
  data.issued_at = *now;
  data.valid_until = suket::DefaultValidUntil(*now);
  const crypto::Bytes face(ektp_demo_face_jpg, ektp_demo_face_jpg_end);
  data.photo_sha256 = crypto::Sha256(face);

  auto token = suket::IssueToken(data, station_key);
  if (!token.ok()) return Fail(token.status());
  auto rendered = suket::RenderSuket(data, *token, face, regions);
  if (!rendered.ok()) return Fail(rendered.status());
  const suket::StationToCertify stations[] = {{data.station_id, station_key.public_key(), regency}};
  auto bundle = suket::BuildTrustBundle(central_key, stations, 1, *now - std::chrono::hours(24),
                                        std::chrono::hours(24 * 365));
  if (!bundle.ok()) return Fail(bundle.status());
  auto revocations = suket::EncodeRevocationList({1, *now, {}, {}}, central_key);
  if (!revocations.ok()) return Fail(revocations.status());

  const std::filesystem::path dir(out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Fail(Internal("cannot create " + out_dir + ": " + error.message()));
  const std::string token_line = *token + "\n";
  for (const auto& [name, bytes] :
       {std::pair{"suket.pdf", std::span<const uint8_t>(rendered->pdf)}, {"suket.png", rendered->png},
        {"token.txt", crypto::AsBytes(token_line)}, {"trust-bundle.cbor", *bundle},
        {"revocations.cbor", *revocations}}) {
    if (Status written = WriteAll(dir / name, bytes); !written.ok()) return Fail(written);
  }
  std::cout << "wrote suket.pdf, suket.png (" << suket::kPngDpi << " dpi), token.txt (" << token->size()
            << " characters), trust-bundle.cbor and revocations.cbor to " << out_dir << "\n"
            << "signed with example keys, not central's; check it with:\n"
            << "  ektp suket verify " << (dir / "suket.pdf").string() << " --trust "
            << (dir / "trust-bundle.cbor").string() << " --revocations " << (dir / "revocations.cbor").string()
            << " --central-key " << crypto::Base64Encode(central_key.public_key()) << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
