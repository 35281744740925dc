// Station-authenticated HTTP requests. A station signs
//   "<METHOD>\n<PATH>\n<TIMESTAMP>\n<hex SHA-256 of body>"
// with its Ed25519 key and sends the headers
//   X-Ektp-Station: <station id>
//   X-Ektp-Timestamp: <ISO 8601 UTC>
//   X-Ektp-Signature: <base64 signature>
// Central accepts a timestamp within kMaxClockSkew of its own clock, so an
// offline station whose clock drifted a little can still sync, and a
// captured request cannot be replayed days later.
#pragma once

#include <chrono>
#include <string>

#include "core/clock.h"
#include "crypto/crypto.h"

namespace ektp::sync {

inline constexpr std::chrono::hours kMaxClockSkew{24};

struct RequestSignature {
  std::string station_id;
  std::string timestamp;
  std::string signature_base64;
};

RequestSignature SignRequest(const crypto::SigningKey& key, std::string_view station_id, std::string_view method,
                             std::string_view path, std::string_view body, TimePoint now);

// kUnauthenticated with the reason if the signature or timestamp is wrong.
Status VerifyRequest(const RequestSignature& signature, std::span<const uint8_t> station_public_key,
                     std::string_view method, std::string_view path, std::string_view body, TimePoint now);

}  // namespace ektp::sync
