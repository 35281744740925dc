// The token's layers, decoded one by one so the verifier can name the one
// that failed. Internal to src/suket.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "suket/cbor_util.h"
#include "suket/suket.h"

namespace ektp::suket::internal {

struct TokenFailure {
  Reason reason;
  std::string message;
};

// Prefix, Base45, zlib, COSE_Sign1 and its protected header; the signature
// and the claims are left for the caller.
std::variant<DecodedToken, TokenFailure> DecodeLayers(std::string_view token_text);

// The Sig_structure of RFC 9052 §4.4 that the station signs.
Bytes SigStructure(std::span<const uint8_t> protected_header, std::span<const uint8_t> payload);

// The claims of a token whose signature verified; kInvalidArgument naming
// the claim that is missing or of the wrong type.
StatusOr<SuketData> DecodeClaims(std::span<const uint8_t> payload);

// A station certificate's fields, its signature not yet checked.
struct UncheckedCertificate {
  StationCertificate certificate;
  SignedObject object;
};
StatusOr<UncheckedCertificate> DecodeCertificateUnchecked(std::span<const uint8_t> encoded);
// kUnauthenticated "station certificate of <id>: not signed by central (...)".
Status CheckCertificateSignature(const UncheckedCertificate& unchecked, std::span<const Bytes> central_keys);

int64_t UnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(int64_t seconds);

}  // namespace ektp::suket::internal
