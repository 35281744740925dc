// libFuzzer target for the template decoders: any input must either decode
// or yield a Status, never crash; whatever decodes must re-encode, and the
// re-encoded bytes must decode to the same record.
#include <cstdint>
#include <cstdlib>

#include "bio/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp::bio;
  std::span<const uint8_t> bytes(data, size);
  for (TemplateFormat f : {TemplateFormat::kIso19794_2_2005, TemplateFormat::kIso19794_2_2011,
                           TemplateFormat::kAnsi378_2004, TemplateFormat::kAnsi378_2009,
                           TemplateFormat::kAnsi378_2009Am1}) {
    auto record = DecodeTemplate(bytes, f);
    if (!record.ok()) continue;
    auto encoded = EncodeTemplate(*record);
    if (!encoded.ok()) continue;  // e.g. ISO 2011 with > 255 quality records cannot happen; tolerated
    auto again = DecodeTemplate(*encoded, f);
    if (!again.ok() || !(*again == *record)) std::abort();
  }
  (void)DecodeTemplate(bytes);
  return 0;
}
