// libFuzzer target for the multipart/form-data parser, which sees enrollment
// bodies before anything checks them: any input must parse or yield a Status,
// never crash. The first line of the input is the Content-Type value, the
// rest the body.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto boundary = ektp::net::MultipartBoundary(input.substr(0, newline));
  if (!boundary.ok()) return 0;
  std::string_view body = input.substr(newline + 1);
  auto parts = ektp::net::ParseMultipart(body, *boundary);
  if (!parts.ok()) return 0;
  size_t content_bytes = 0;
  for (const auto& part : *parts) {
    if (part.name.empty()) std::abort();  // every accepted part is named
    content_bytes += part.content.size();
  }
  if (content_bytes > body.size()) std::abort();
  return 0;
}
