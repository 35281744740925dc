// Writes the seed corpus of every libFuzzer target into DIR/<target>/:
// valid inputs made with the serialisers ektp itself uses (a signed
// enrollment packet and its upload body, the opened biometrics, a gallery
// subject, signed request headers, feed items, a configuration file), so the
// fuzzers start from what the parsers really see, plus the ISO/ANSI sample
// templates and one FVC2002 template per database from ../shared/data
// (core/testing.h). scripts/fuzz.sh runs it and refuses to fuzz a target
// whose seed folder is empty.
//
//   fuzz_seed_corpus DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bio/abis.h"
#include "bio/matcher.h"
#include "bio/template.h"
#include "card/card.h"
#include "core/testing.h"
#include "crypto/crypto.h"
#include "enrollment/testing.h"
#include "sync/packet.h"
#include "sync/request_auth.h"

namespace ektp {
namespace {

std::filesystem::path g_dir;
int g_written = 0;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  std::filesystem::create_directories(g_dir / target);
  std::ofstream(g_dir / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ++g_written;
}

void Write(const std::string& target, const std::string& name, std::span<const uint8_t> bytes) {
  Write(target, name, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

int Run(const char* dir) {
  g_dir = dir;
  SeededRandom random(1);
  const auto today = std::chrono::year(2026) / std::chrono::November / 24;
  const crypto::SealingKey central = crypto::SealingKey::Generate();
  const crypto::SigningKey station = crypto::SigningKey::FromSeed(crypto::Bytes(32, 2));
  for (int db = 1; db <= 4; ++db) {
    const std::vector<uint8_t> fvc = enrollment::testing::FvcTemplate(db, 101, 1);
    if (fvc.empty()) {
      std::fprintf(stderr, "fuzz_seed_corpus: FVC2002 DB%d_B/101_1.iso not found under %s\n", db,
                   testing::FvcDir().c_str());
      return 1;
    }
    Write("template_fuzzer", "fvc_DB" + std::to_string(db) + "_B_101_1.iso", fvc);
  }
  for (const auto& vector : std::filesystem::directory_iterator(testing::SharedDataDir() / "iso19794-vectors")) {
    if (vector.path().extension() == ".dat") {
      Write("template_fuzzer", vector.path().filename().string(), testing::ReadFileBytes(vector.path()));
    }
  }

  nlohmann::json upload = {{"packets", nlohmann::json::array()}};
  for (int sequence = 1; sequence <= 2; ++sequence) {
    enrollment::Enrollment e =
        enrollment::testing::SampleEnrollment("ST-352101-01", sequence, central.public_key(), random, today, 64);
    const std::string json = enrollment::EnrollmentToJson(e);
    Write("enrollment_fuzzer", "enrollment-" + std::to_string(sequence) + ".json", json);
    sync::Envelope envelope{sync::kEnvelopeVersion, "ST-352101-01", sequence, sync::PacketKind::kEnrollment,
                            "2026-11-24T02:00:00Z", json};
    sync::Packet packet = sync::SignEnvelope(envelope, station);
    Write("envelope_fuzzer", "envelope-" + std::to_string(sequence) + ".json", packet.envelope_text);
    upload["packets"].push_back(sync::PacketToJson(packet));
  }
  Write("envelope_fuzzer", "envelope-empty-body.json",
        sync::SignEnvelope({sync::kEnvelopeVersion, "ST-352101-01", 3, sync::PacketKind::kEnrollment,
                            "2026-11-24T02:00:00Z", "{}"},
                           station)
            .envelope_text);
  Write("upload_body_fuzzer", "upload-2.json", upload.dump());
  Write("upload_body_fuzzer", "upload-empty.json", std::string_view(R"({"packets": []})"));

  for (int subject = 0; subject < 2; ++subject) {
    enrollment::Biometrics biometrics = enrollment::testing::SampleBiometrics(subject, 64, random);
    card::Card chip_card;
    chip_card.data.resident =
        enrollment::testing::SampleEnrollment("ST-352101-01", subject + 1, central.public_key(), random, today, 64).resident;
    chip_card.data.resident.nik = "3521015708990001";
    chip_card.data.valid_until = std::string(card::kValidForLife);
    chip_card.data.issuing_regency = "35.21";
    chip_card.data.issued_on = today;
    chip_card.data.registration_number = "ST-352101-01-000001";
    chip_card.face_jpeg = biometrics.face_jpeg;
    for (const enrollment::FingerCapture& finger : biometrics.fingers) {
      chip_card.data.fingers.push_back({finger.position, finger.template_bytes});
    }
    auto chip = card::EncodeChip(chip_card, station);
    if (!chip.ok()) return 1;
    Write("chip_fuzzer", "chip-" + std::to_string(subject) + ".bin", *chip);
    Write("biometrics_fuzzer", "biometrics-" + std::to_string(subject) + ".json",
          enrollment::SerializeBiometrics(biometrics));
    bio::SubjectRecord gallery{"3521015708990001", {}};
    for (const enrollment::FingerCapture& finger : biometrics.fingers) {
      auto record = bio::DecodeTemplate(finger.template_bytes);
      if (!record.ok() || record->views.empty()) return 1;
      auto features = bio::FingerFeatures::FromView(record->views[0], record->format);
      if (!features.ok()) return 1;
      gallery.fingers.push_back({finger.position, std::move(*features)});
    }
    Write("gallery_blob_fuzzer", "subject-" + std::to_string(subject) + ".bin", bio::EncodeSubject(gallery));
  }

  const TimePoint now = std::chrono::sys_days(today) + std::chrono::hours(3);
  sync::RequestSignature signed_request = sync::SignRequest(station, "ST-352101-01", "POST", "/api/v1/sync/up", "{}", now);
  Write("request_timestamp_fuzzer", "signed.txt",
        signed_request.timestamp + "\n" + signed_request.signature_base64 + "\n{}");
  Write("request_timestamp_fuzzer", "skewed.txt", "2026-11-26T03:00:00Z\nAAAA\n");
  Write("request_timestamp_fuzzer", "offset.txt", "2026-11-24T10:00:00+07:00\n\n");

  Write("feed_item_fuzzer", "validation_result.txt",
        std::string_view("validation_result\n{\"registration_number\":\"ST-352101-01-000001\",\"state\":\"validated\","
                         "\"reason\":\"\"}"));
  Write("feed_item_fuzzer", "record_status.txt",
        std::string_view("record_status\n{\"registration_number\":\"ST-352101-01-000001\",\"state\":\"print_ready\","
                         "\"reason\":\"\",\"nik\":\"3521015708990001\"}"));
  Write("feed_item_fuzzer", "unknown_kind.txt", std::string_view("suket_revoked\n{}"));
  Write("feed_item_fuzzer", "print_job.txt",
        std::string_view("print_job\n{\"job_id\":3,\"registration_number\":\"ST-352101-01-000001\",\"urgent\":false,"
                         "\"reserved_at\":\"2026-11-24T02:00:00Z\",\"sealed_card\":\"AAECAw==\"}"));
  Write("feed_item_fuzzer", "print_job_withdrawn.txt",
        std::string_view("print_job_withdrawn\n{\"job_id\":3,\"registration_number\":\"ST-352101-01-000001\","
                         "\"reason\":\"revoked\"}"));

  Write("config_fuzzer", "station.toml",
        std::string_view("# station\n[central]\nurls = [\"https://10.0.0.5:8443\", \"https://10.0.9.5:8443\"]\n"
                         "timeout_ms = 5000\n\n[server]\nport = 8080\nbind = \"127.0.0.1\"\n"));
  Write("config_fuzzer", "types.toml",
        std::string_view("a = 1.5\nb = true\nc = 2026-11-24T03:00:00Z\n[a.b]\nc = [[1], [\"x\"]]\n'quoted key' = \"\"\"\n"
                         "multi\nline\"\"\"\n"));

  std::printf("fuzz_seed_corpus: %d seed files in %s\n", g_written, dir);
  return 0;
}

}  // namespace
}  // namespace ektp

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus DIR\n");
    return 2;
  }
  return ektp::Run(argv[1]);
}
