// libFuzzer target for the gallery blob (bio::DecodeSubject): a subject as
// the gallery log and the gallery file store keep it. Never crashes;
// whatever decodes must re-encode to bytes that decode to the same encoding.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bio/abis.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp::bio;
  auto subject = DecodeSubject(std::span<const uint8_t>(data, size));
  if (!subject.ok()) return 0;
  const std::vector<uint8_t> encoded = EncodeSubject(*subject);
  auto again = DecodeSubject(encoded);
  if (!again.ok() || EncodeSubject(*again) != encoded) std::abort();
  return 0;
}
