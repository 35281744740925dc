// Station-authenticated HTTP requests. A station signs
//   "<METHOD>\n<TARGET>\n<TIMESTAMP>\n<hex SHA-256 of body>"
// with its Ed25519 key, where TARGET is the whole request target, path and
// query, in the canonical form RequestTarget() builds, and sends the headers
//   X-Ektp-Station: <station id>
//   X-Ektp-Timestamp: <ISO 8601 UTC>
//   X-Ektp-Signature: <base64 signature>
// The station sends exactly the target it signed; central rebuilds it from
// the decoded path and query parameters, so a query parameter added, removed
// or changed on the way breaks the signature. Central accepts a timestamp
// within kMaxClockSkew of its own clock, so an offline station whose clock
// drifted a little can still sync, and a captured request cannot be replayed
// days later. docs/sync-format.md describes the headers.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "core/clock.h"
#include "crypto/crypto.h"

namespace ektp::sync {

inline constexpr std::chrono::hours kMaxClockSkew{24};

using QueryParams = std::multimap<std::string, std::string>;

// "<path>" or "<path>?k=v&k=v": parameters in key order (values of one key in
// the order given), every byte outside A-Z a-z 0-9 - . _ ~ percent-encoded
// as %XX (upper-case hex). `path` is used as is.
std::string RequestTarget(std::string_view path, const QueryParams& query);

struct RequestSignature {
  std::string station_id;
  std::string timestamp;
  std::string signature_base64;
};

// `target` is RequestTarget(path, query).
RequestSignature SignRequest(const crypto::SigningKey& key, std::string_view station_id, std::string_view method,
                             std::string_view target, std::string_view body, TimePoint now);

// kUnauthenticated with the reason if the signature or timestamp is wrong;
// a signature that does not verify names the method and target checked.
Status VerifyRequest(const RequestSignature& signature, std::span<const uint8_t> station_public_key,
                     std::string_view method, std::string_view target, std::string_view body, TimePoint now);

}  // namespace ektp::sync
