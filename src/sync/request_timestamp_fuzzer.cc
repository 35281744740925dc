// libFuzzer target for a signed request's headers (sync::VerifyRequest),
// which central reads before the signature is known to hold: the timestamp
// is parsed first, then the base64 signature. The input is split at the
// first two newlines into X-Ektp-Timestamp, X-Ektp-Signature and the body.
// Never crashes, and the only request that verifies is the one genuinely
// signed with the station's key (the seed corpus holds it, signed at `now`
// over "{}"): nothing the fuzzer derives from it passes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/request_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  static const crypto::SigningKey station = crypto::SigningKey::FromSeed(crypto::Bytes(32, 2));
  static const TimePoint now = std::chrono::sys_days(std::chrono::year(2026) / 11 / 24) + std::chrono::hours(3);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto next = [&text] {
    size_t end = text.find('\n');
    std::string_view field = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return std::string(field);
  };
  sync::RequestSignature signature{"ST-352101-01", next(), next()};
  Status verified = sync::VerifyRequest(signature, station.public_key(), "POST", "/api/v1/sync/up", text, now);
  static const sync::RequestSignature genuine =
      sync::SignRequest(station, "ST-352101-01", "POST", "/api/v1/sync/up", "{}", now);
  if (verified.ok() && (signature.timestamp != genuine.timestamp || signature.signature_base64 != genuine.signature_base64 ||
                        text != "{}")) {
    std::abort();
  }
  return 0;
}
