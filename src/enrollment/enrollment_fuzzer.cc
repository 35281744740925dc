// libFuzzer target for the enrollment JSON inside a packet
// (enrollment::EnrollmentFromJson) and the application checks central runs
// on it. Never crashes; whatever parses must serialise to JSON that parses
// back to the same serialisation.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/region.h"
#include "enrollment/enrollment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto enrollment = enrollment::EnrollmentFromJson(text);
  if (!enrollment.ok()) return 0;
  (void)enrollment::ValidateApplication(*enrollment, RegionRegistry::Default(),
                                        std::chrono::year(2026) / std::chrono::November / 24);
  const std::string json = enrollment::EnrollmentToJson(*enrollment);
  auto again = enrollment::EnrollmentFromJson(json);
  if (!again.ok() || enrollment::EnrollmentToJson(*again) != json) std::abort();
  return 0;
}
