// What `ektp suket verify` reads comes from a stranger: a QR code, a trust
// bundle or a revocation list. The first byte picks the parser; decoding
// and verifying any bytes must return a result, never crash.
//   0: a token (Verify against a bundle holding the example station's key)
//   1: a trust bundle
//   2: a revocation list
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "suket/suket.h"

namespace {

using namespace ektp;

// The example key of `role` for seed 1, as `ektp suket example` derives it.
crypto::SigningKey ExampleKey(char role) {
  crypto::Bytes seed(32, 0);
  seed[0] = static_cast<uint8_t>(role);
  seed[1] = 1;
  return crypto::SigningKey::FromSeed(seed);
}

// The keys and station of `ektp suket example --seed 1`, so its files
// (testdata/suket_token_fuzzer/) are seeds that reach every check.
const suket::TrustBundle& Bundle() {
  static const suket::TrustBundle bundle = [] {
    const crypto::SigningKey central = ExampleKey('C');
    const crypto::SigningKey station = ExampleKey('S');
    const TimePoint from{std::chrono::seconds(0)};
    suket::TrustBundle built;
    built.central_keys.push_back(central.public_key());
    built.station_certificates.push_back(*suket::CertifyStation(
        {"CONTOH-35.21", station.public_key(), "35.21", from, from + std::chrono::years(100)}, central));
    return built;
  }();
  return bundle;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0]) {
    case 0: {
      const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
      const suket::VerifyResult result =
          suket::Verify(text, Bundle(), suket::RevocationList{}, TimePoint{std::chrono::seconds(1'800'000'000)});
      if (result.outcome != suket::OutcomeOf(result.reason)) __builtin_trap();
      if (result.outcome != suket::Outcome::kNotGenuine && !result.data.has_value()) __builtin_trap();
      (void)suket::DecodeToken(text);
      break;
    }
    case 1:
      (void)suket::DecodeTrustBundle(rest);
      break;
    case 2:
      (void)suket::DecodeRevocationList(rest, Bundle());
      break;
    default:
      break;
  }
  return 0;
}
