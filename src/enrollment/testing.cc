#include "enrollment/testing.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/synthetic_resident.h"

namespace ektp::enrollment::testing {
namespace {

std::filesystem::path SharedData() {
  std::vector<std::filesystem::path> roots;
  if (const char* source = std::getenv("EKTP_SOURCE_DIR")) roots.emplace_back(source);
  roots.push_back(std::filesystem::current_path());
  for (auto root : roots) {
    for (int up = 0; up < 4; ++up, root = root.parent_path()) {
      if (std::filesystem::exists(root / "shared/data/fvc2002")) return root / "shared/data";
      if (std::filesystem::exists(root / "../shared/data/fvc2002")) return root / "../shared/data";
    }
  }
  return {};
}

}  // namespace

std::string RegistrationNumber(const std::string& station_id, int64_t local_sequence) {
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%06lld", static_cast<long long>(local_sequence));
  return station_id + "-" + suffix;
}

Bytes FvcTemplate(int db, int finger, int impression) {
  auto path = SharedData() / ("fvc2002/DB" + std::to_string(db) + "_B/" + std::to_string(finger) + "_" +
                              std::to_string(impression) + ".iso");
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Bytes FakeJpeg(size_t size, Random& random) {
  Bytes out = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00};
  while (out.size() + 2 < size) out.push_back(static_cast<uint8_t>(random.Uniform(0xFF)));
  out.push_back(0xFF);
  out.push_back(0xD9);
  return out;
}

Biometrics SampleBiometrics(int subject, size_t face_bytes, Random& random) {
  Biometrics b;
  b.face_jpeg = FakeJpeg(face_bytes, random);
  b.signature_image = FakeJpeg(1024, random);
  b.fingers.push_back({2, FvcTemplate(1, 101 + subject % 10, 1), FingerException::kNone});
  b.fingers.push_back({7, FvcTemplate(2, 101 + subject % 10, 1), FingerException::kNone});
  return b;
}

Enrollment SampleEnrollment(const std::string& station_id, int64_t local_sequence,
                            std::span<const uint8_t> central_sealing_key, Random& random,
                            std::chrono::year_month_day today, size_t face_bytes) {
  Enrollment e;
  e.registration_number = RegistrationNumber(station_id, local_sequence);
  e.station_id = station_id;
  e.operator_name = "ani";
  e.captured_at = "2026-11-24T02:00:00Z";
  e.kind = ApplicationKind::kFirstCard;
  e.resident = SyntheticResident(RegionRegistry::Default(), "35.21", random, today);
  e.sealed_biometrics =
      crypto::Seal(central_sealing_key, SerializeBiometrics(SampleBiometrics(static_cast<int>(local_sequence), face_bytes, random)));
  return e;
}

}  // namespace ektp::enrollment::testing
