// `ektp card show` (decode and check a chip blob) and `ektp card example`
// (render a synthetic resident's card, to look at the layout and the format).
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "bio/template.h"
#include "card/card.h"
#include "card/render.h"
#include "central/server.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/nik.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"

extern "C" const char ektp_demo_face_jpg[], ektp_demo_face_jpg_end[];
extern "C" const char ektp_demo_signature_png[], ektp_demo_signature_png_end[];

namespace ektp::cli {
namespace {

StatusOr<crypto::Bytes> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  return crypto::Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Status WriteFile(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return Internal("cannot write " + path.string());
  return Status::Ok();
}

nlohmann::json ChipJson(const card::ChipContents& chip) {
  nlohmann::json fingers = nlohmann::json::array();
  for (const card::ChipFinger& finger : chip.data.fingers) {
    fingers.push_back({{"position", finger.position}, {"template_bytes", finger.template_bytes.size()},
                       {"template_sha256", crypto::Sha256Hex(finger.template_bytes)}});
  }
  return {{"resident", ResidentToJson(chip.data.resident)},
          {"valid_until", chip.data.valid_until},
          {"issuing_regency", chip.data.issuing_regency},
          {"issued_on", FormatDate(chip.data.issued_on)},
          {"registration_number", chip.data.registration_number},
          {"photo_sha256", crypto::HexEncode(chip.photo_sha256)},
          {"fingers", fingers},
          {"signature_verified", chip.signature_verified}};
}

StatusOr<crypto::Bytes> CentralPublicKey(const std::string& key_base64, const std::string& central_dir) {
  if (!key_base64.empty()) {
    auto key = crypto::Base64Decode(key_base64);
    if (!key.ok() || key->size() != crypto::kSignPublicKeySize) {
      return InvalidArgument("--central-key: not a base64 Ed25519 public key (32 bytes)");
    }
    return *key;
  }
  ASSIGN_OR_RETURN(central::CentralKeys keys, central::LoadCentralKeys(central_dir));
  return keys.signing.public_key();
}

std::string FingerTemplate(const bio::SynthGenerator& synth, uint64_t subject, int finger) {
  auto bytes = bio::EncodeTemplate(
      bio::SynthGenerator::ToRecord(synth.Impression(synth.Master(subject, finger), subject, finger, 1), finger));
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

}  // namespace

int CardShow(const Args& args) {
  CLI::App app("Decode an e-KTP chip blob and check central's signature (and the photo, with --photo)", "card show");
  std::string blob_path, key_base64, central_dir, photo_path;
  bool json = false;
  app.add_option("blob", blob_path, "the chip blob file")->required();
  auto* key_option = app.add_option("--central-key", key_base64, "central's signing public key, base64");
  app.add_option("--central", central_dir, "central's data folder (reads its signing key)")->excludes(key_option);
  app.add_option("--photo", photo_path, "a face photo (JPEG) to check against the chip's photo hash");
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;

  auto blob = ReadFile(blob_path);
  if (!blob.ok()) return Fail(blob.status());
  StatusOr<card::ChipContents> chip = InvalidArgument("no key");
  if (key_base64.empty() && central_dir.empty()) {
    chip = card::DecodeChipUnverified(*blob);
  } else {
    auto key = CentralPublicKey(key_base64, central_dir);
    if (!key.ok()) return Fail(key.status());
    chip = card::VerifyChip(*blob, *key);
  }
  if (!chip.ok()) return Fail(chip.status());
  if (!photo_path.empty()) {
    auto photo = ReadFile(photo_path);
    if (!photo.ok()) return Fail(photo.status());
    if (Status matches = card::CheckPhoto(*chip, *photo); !matches.ok()) return Fail(matches);
  }

  nlohmann::json out = ChipJson(*chip);
  if (!photo_path.empty()) out["photo_checked"] = true;
  if (json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  const Resident& r = chip->data.resident;
  std::cout << "NIK              " << r.nik << "\n"
            << "name             " << r.name << "\n"
            << "born             " << r.place_of_birth << ", " << FormatDate(r.birth_date) << "\n"
            << "village          " << r.address.village_code << "\n"
            << "valid until      " << chip->data.valid_until << "\n"
            << "issued           " << FormatDate(chip->data.issued_on) << " by regency " << chip->data.issuing_regency
            << "\n"
            << "registration     " << chip->data.registration_number << "\n"
            << "fingers          ";
  for (const card::ChipFinger& finger : chip->data.fingers) std::cout << finger.position << " ";
  std::cout << "\nphoto SHA-256    " << crypto::HexEncode(chip->photo_sha256)
            << (photo_path.empty() ? "" : " (matches --photo)") << "\n"
            << "signature        "
            << (chip->signature_verified ? "verified with central's key"
                                         : "NOT CHECKED: give --central-key or --central to check it")
            << "\n";
  return kExitOk;
}

int CardExample(const Args& args) {
  CLI::App app("Render a synthetic resident's card: front.png, back.png, card.pdf and chip.bin", "card example");
  std::string out_dir;
  std::string regency = "35.21";
  uint64_t seed = 1;
  app.add_option("--out", out_dir, "folder to write into (created if missing)")->required();
  app.add_option("--regency", regency, "the resident's regency")->capture_default_str();
  app.add_option("--seed", seed, "seed of the synthetic resident and of the example signing key")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;

  const RegionRegistry& regions = RegionRegistry::Default();
  const Region* region = regions.Find(regency);
  if (region == nullptr || region->level != RegionLevel::kRegency) {
    return Fail(InvalidArgument("--regency: " + regency + " is not a regency code (e.g. 35.21)"));
  }
  SeededRandom random(seed);
  const auto today = SystemClock::Instance().TodayWib();
  card::Card card;
  card.data.resident = SyntheticResident(regions, regency, random, today);
  Resident& r = card.data.resident;
  const std::string kecamatan = r.address.village_code.substr(0, 8);
  r.nik = FormatNik(kecamatan, r.birth_date, r.sex, 1 + static_cast<int>(seed % 9999));
  card.data.valid_until = std::string(card::kValidForLife);
  card.data.issuing_regency = regency;
  card.data.issued_on = today;
  card.card_serial = "CONTOH-" + std::to_string(seed);
  card.data.registration_number = kecamatan + "-CONTOH-" + std::to_string(seed);
  bio::SynthGenerator synth(seed);
  for (int finger : {2, 7}) {
    std::string bytes = FingerTemplate(synth, seed, finger);
    card.data.fingers.push_back({finger, crypto::Bytes(bytes.begin(), bytes.end())});
  }
  card.face_jpeg.assign(ektp_demo_face_jpg, ektp_demo_face_jpg_end);
  card.signature_image.assign(ektp_demo_signature_png, ektp_demo_signature_png_end);

  std::vector<uint8_t> key_seed(32, 0);
  for (size_t i = 0; i < 8; ++i) key_seed[i] = static_cast<uint8_t>(seed >> (8 * i));
  const crypto::SigningKey example_key = crypto::SigningKey::FromSeed(key_seed);
  auto rendered = card::RenderCard(card, regions);
  if (!rendered.ok()) return Fail(rendered.status());
  auto blob = card::EncodeChip(card, example_key);
  if (!blob.ok()) return Fail(blob.status());

  const std::filesystem::path dir(out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Fail(Internal("cannot create " + out_dir + ": " + error.message()));
  for (const auto& [name, bytes] : {std::pair{"front.png", &rendered->front_png}, {"back.png", &rendered->back_png},
                                    {"card.pdf", &rendered->pdf}, {"chip.bin", &*blob}}) {
    if (Status written = WriteFile(dir / name, *bytes); !written.ok()) return Fail(written);
  }
  const std::string key_base64 = crypto::Base64Encode(example_key.public_key());
  std::cout << "wrote front.png, back.png (" << card::CardWidthPx() << " x " << card::CardHeightPx()
            << " px, 300 dpi), card.pdf and chip.bin to " << out_dir << "\n"
            << "the chip is signed with an example key, not central's; check it with:\n"
            << "  ektp card show " << (dir / "chip.bin").string() << " --central-key " << key_base64 << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
