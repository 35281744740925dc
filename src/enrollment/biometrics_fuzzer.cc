// libFuzzer target for the opened biometrics (enrollment::ParseBiometrics):
// the bytes central gets out of a sealed box are only as good as the
// station that sealed them. Never crashes; whatever parses must serialise to
// bytes that parse back to the same serialisation, and validation answers.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "enrollment/enrollment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  auto biometrics = enrollment::ParseBiometrics(std::span<const uint8_t>(data, size));
  if (!biometrics.ok()) return 0;
  (void)enrollment::ValidateBiometrics(*biometrics);
  const auto serialized = enrollment::SerializeBiometrics(*biometrics);
  auto again = enrollment::ParseBiometrics(serialized);
  if (!again.ok() || enrollment::SerializeBiometrics(*again) != serialized) std::abort();
  return 0;
}
