// The Suket (surat keterangan): the temporary certificate a resident carries
// while the e-KTP is pending, with a QR code that anyone can verify offline.
//
// The QR holds a token in the model of the EU Digital COVID Certificate:
//   "KTP1:" + Base45(zlib(COSE_Sign1(EdDSA, CBOR claims)))
// signed by the issuing station's Ed25519 key. Central certifies each
// station's key (StationCertificate) and publishes the certificates and its
// own keys in a signed TrustBundle, and the revoked Sukets and stations in a
// signed RevocationList. Verify() needs only the token, the bundle, the list
// and the time. Byte-by-byte format: docs/suket-format.md.
//
// Times are whole seconds since the Unix epoch on the wire; finer parts of a
// TimePoint are dropped when encoding.
//
// Thread-safety: every function is reentrant; no shared state.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/region.h"
#include "core/resident.h"
#include "core/status.h"
#include "crypto/crypto.h"

namespace ektp::suket {

using crypto::Bytes;

// Policy: a Suket is valid for this many calendar months after its issue.
inline constexpr int kDefaultValidityMonths = 6;
// The text every token starts with; its digit is the format version.
inline constexpr std::string_view kTokenPrefix = "KTP1:";
// A key id: the first 8 bytes of SHA-256 over an Ed25519 public key.
inline constexpr size_t kKeyIdSize = 8;

using KeyId = std::array<uint8_t, kKeyIdSize>;
KeyId KeyIdOf(std::span<const uint8_t> public_key);

// What a Suket states. Everything except the photo travels in the token;
// the photo is printed, and the token carries its SHA-256.
struct SuketData {
  std::string serial;               // unique, e.g. "SKT-35.21.01-000042"
  std::string nik;                  // "" while the applicant has none yet
  std::string registration_number;  // always present
  std::string name;
  std::string place_of_birth;
  std::chrono::year_month_day birth_date{};
  Sex sex = Sex::kMale;
  std::string address;              // one printable line
  std::string regency_code;         // the issuing office's regency, "35.21"
  std::string station_id;           // the issuing station
  TimePoint issued_at{};
  TimePoint valid_until{};          // DefaultValidUntil(issued_at) unless policy says otherwise
  std::array<uint8_t, 32> photo_sha256{};
};

// A resident's address as the Suket prints it:
// "JL. MERDEKA 10, RT 002/RW 005, Karangjati, Sine" (village and kecamatan
// names from `regions`; the village code when it is unknown).
std::string AddressLine(const Address& address, const RegionRegistry& regions);

// `issued_at` plus kDefaultValidityMonths calendar months (WIB), at the same
// time of day; a day past the end of the month becomes the month's last day.
TimePoint DefaultValidUntil(TimePoint issued_at);

// Signs `data` with the issuing station's key and returns the QR text.
// kInvalidArgument naming the field when a required field is empty, a text
// is too long (over 200 bytes), or valid_until is not after issued_at.
StatusOr<std::string> IssueToken(const SuketData& data, const crypto::SigningKey& station_key);

// A token taken apart without checking its signature (for the verifier and
// for tooling).
struct DecodedToken {
  Bytes protected_header;  // the serialized protected header (signed)
  KeyId key_id{};
  Bytes payload;           // the serialized claims (signed)
  Bytes signature;
  Bytes compressed;        // zlib bytes, for size reports
};
// kInvalidArgument naming the stage that failed ("token: not Base45: ...").
StatusOr<DecodedToken> DecodeToken(std::string_view token_text);
// Base45 (RFC 9285), exposed for tests and tools.
std::string Base45Encode(std::span<const uint8_t> data);
StatusOr<Bytes> Base45Decode(std::string_view text);

// A station's signing key certified by central.
struct StationCertificate {
  std::string station_id;
  Bytes public_key;  // Ed25519, 32 bytes
  std::string regency_code;
  TimePoint valid_from{};
  TimePoint valid_until{};
};
// A certificate as central signed it: the fields, and what is needed to
// check central's signature again.
struct SignedStationCertificate {
  StationCertificate certificate;
  Bytes encoded;  // the whole signed object, as it travels in a trust bundle
};
// Signs `certificate` with central's key. kInvalidArgument when a field is
// empty, the key is not 32 bytes or the validity is empty.
StatusOr<Bytes> CertifyStation(const StationCertificate& certificate, const crypto::SigningKey& central_key);
// Decodes a signed certificate and checks it was signed by one of
// `central_keys`: kUnauthenticated "station certificate of <id>: not signed
// by central" otherwise; kInvalidArgument when it does not decode.
StatusOr<SignedStationCertificate> VerifyStationCertificate(std::span<const uint8_t> encoded,
                                                            std::span<const Bytes> central_keys);

// Central's public keys and the station certificates, signed by central.
struct TrustBundle {
  uint64_t sequence = 0;  // grows with each bundle central publishes
  TimePoint issued_at{};
  std::vector<Bytes> central_keys;         // Ed25519 public keys; the signer's is one of them
  std::vector<Bytes> station_certificates; // each as CertifyStation made it
};
// REQUIRES: central_key's public key is in bundle.central_keys (else kInvalidArgument).
StatusOr<Bytes> EncodeTrustBundle(const TrustBundle& bundle, const crypto::SigningKey& central_key);
// Checks the bundle's signature against its own central keys, and, when
// `pinned_central_key` is given, that the signer is that key:
// kUnauthenticated "trust bundle: signature does not verify" or "trust
// bundle: signed by key <id>, not the pinned central key <id>";
// kInvalidArgument when it does not decode. Certificates inside are checked
// one by one by Verify (a bad one fails only the Sukets of its station).
StatusOr<TrustBundle> DecodeTrustBundle(std::span<const uint8_t> encoded,
                                        std::optional<std::span<const uint8_t>> pinned_central_key = std::nullopt);

struct StationRevocation {
  std::string station_id;
  TimePoint revoked_from{};  // Sukets it issued at or after this time do not verify
};
struct RevocationList {
  uint64_t sequence = 0;
  TimePoint issued_at{};
  std::vector<std::string> revoked_serials;
  std::vector<StationRevocation> revoked_stations;
};
StatusOr<Bytes> EncodeRevocationList(const RevocationList& list, const crypto::SigningKey& central_key);
// kUnauthenticated "revocation list: signature does not verify with any
// central key of the trust bundle"; kInvalidArgument when it does not decode.
StatusOr<RevocationList> DecodeRevocationList(std::span<const uint8_t> encoded, const TrustBundle& bundle);

// Central publishing: certifies every station (valid from `now` for
// `certificate_validity`) and signs the bundle with central's key, whose
// public key is the bundle's only central key.
struct StationToCertify {
  std::string station_id;
  Bytes public_key;
  std::string regency_code;
};
StatusOr<Bytes> BuildTrustBundle(const crypto::SigningKey& central_key, std::span<const StationToCertify> stations,
                                 uint64_t sequence, TimePoint now, std::chrono::seconds certificate_validity);

// What a verifier concludes, and why.
enum class Outcome { kValid, kExpired, kRevoked, kNotGenuine };
enum class Reason {
  kNone,                       // valid
  kExpired,                    // now is at or past valid_until
  kSuketRevoked,               // its serial is on the revocation list
  kStationRevoked,             // issued at or after its station's revocation time
  kWrongPrefix,                // not "KTP1:"
  kNotBase45,
  kNotZlib,
  kNotCoseSign1,
  kBadProtectedHeader,         // not a map with alg and an 8-byte kid
  kUnsupportedAlgorithm,       // alg is not EdDSA (-8)
  kUnknownKeyId,               // no station certificate in the trust bundle has this key
  kCertificateNotFromCentral,  // the station's certificate is not signed by central
  kBadSignature,               // the token was altered or signed by another key
  kBadClaims,                  // signed, but the claims are not a Suket's
  kStationMismatch,            // the claims name another station than the certificate
  kCertificateNotValidAtIssue, // issued outside the certificate's validity
  kIssuedInFuture,             // issued after `now` (beyond 5 minutes of clock skew)
};
Outcome OutcomeOf(Reason reason);
std::string_view OutcomeName(Outcome outcome);  // "valid", "expired", "revoked", "not genuine"
std::string_view ReasonName(Reason reason);     // "bad_signature"

struct VerifyResult {
  Outcome outcome = Outcome::kNotGenuine;
  Reason reason = Reason::kNone;
  std::string message;  // precise English, for logs and the API
  std::string pesan;    // Bahasa Indonesia, for the person checking
  // The Suket's data once its signature verified (also when expired or revoked).
  std::optional<SuketData> data;
};

// Checks a token against central's trust bundle and latest revocation list
// at `now`, in the order of docs/suket-format.md ("Verification").
VerifyResult Verify(std::string_view token_text, const TrustBundle& bundle, const RevocationList& revocations,
                    TimePoint now);

// The printed Suket: an A5 page.
struct RenderedSuket {
  Bytes pdf;  // one A5 page, vector
  Bytes png;  // the same page at kPngDpi
};
inline constexpr int kPngDpi = 200;
// kInvalidArgument when the regency is not in `regions`, the photo does not
// decode or does not match data.photo_sha256, or the token does not fit a QR code.
StatusOr<RenderedSuket> RenderSuket(const SuketData& data, std::string_view token, std::span<const uint8_t> face_jpeg,
                                    const RegionRegistry& regions);

// The Suket token in a file: a PDF (first page rasterised with `pdftoppm`,
// then read by `zbarimg`), a PNG or JPEG image (`zbarimg`), or a text file
// holding the token (at most 64 KiB). Returns the first QR text that starts with kTokenPrefix,
// else the first QR text found (Verify then names why it is not a Suket).
// kNotFound when an image holds no QR code; kFailedPrecondition when a tool
// is missing (packages poppler-utils, zbar-tools).
StatusOr<std::string> ReadTokenFromFile(const std::string& path);
// The same for bytes already read (standard input).
StatusOr<std::string> ReadToken(std::span<const uint8_t> content);

}  // namespace ektp::suket
