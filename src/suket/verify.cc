// Verify(): the token's layers, its station's certificate, the signature,
// the claims, then revocation and expiry (docs/suket-format.md, "Verification").
#include <algorithm>

#include "suket/suket.h"
#include "suket/token.h"

namespace ektp::suket {
namespace {

// A Suket stamped this far after `now` is still accepted (clocks drift).
constexpr std::chrono::minutes kClockSkew{5};

struct ReasonText {
  Reason reason;
  Outcome outcome;
  std::string_view name;
  std::string_view pesan;
};

constexpr ReasonText kReasons[] = {
    {Reason::kNone, Outcome::kValid, "valid", "Suket ASLI dan masih berlaku."},
    {Reason::kExpired, Outcome::kExpired, "expired", "Suket asli, tetapi masa berlakunya sudah habis."},
    {Reason::kSuketRevoked, Outcome::kRevoked, "suket_revoked",
     "Suket asli, tetapi sudah DICABUT (misalnya karena KTP-el sudah diaktifkan)."},
    {Reason::kStationRevoked, Outcome::kRevoked, "station_revoked",
     "Suket dicabut: diterbitkan oleh tempat perekaman yang sudah dicabut izinnya."},
    {Reason::kWrongPrefix, Outcome::kNotGenuine, "wrong_prefix", "Kode QR ini bukan Suket KTP-el."},
    {Reason::kNotBase45, Outcome::kNotGenuine, "not_base45", "Kode QR ini bukan Suket KTP-el (isinya rusak)."},
    {Reason::kNotZlib, Outcome::kNotGenuine, "not_zlib", "Kode QR ini bukan Suket KTP-el (isinya rusak)."},
    {Reason::kNotCoseSign1, Outcome::kNotGenuine, "not_cose_sign1",
     "Kode QR ini bukan Suket KTP-el (tidak bertanda tangan)."},
    {Reason::kBadProtectedHeader, Outcome::kNotGenuine, "bad_protected_header",
     "Suket TIDAK ASLI: kepala tanda tangannya rusak."},
    {Reason::kUnsupportedAlgorithm, Outcome::kNotGenuine, "unsupported_algorithm",
     "Suket TIDAK ASLI: jenis tanda tangannya tidak dikenal."},
    {Reason::kUnknownKeyId, Outcome::kNotGenuine, "unknown_key_id",
     "Suket TIDAK ASLI: ditandatangani oleh kunci yang tidak terdaftar. Perbarui daftar kepercayaan lalu periksa lagi."},
    {Reason::kCertificateNotFromCentral, Outcome::kNotGenuine, "certificate_not_from_central",
     "Suket TIDAK ASLI: sertifikat tempat penerbitnya tidak ditandatangani pusat."},
    {Reason::kBadSignature, Outcome::kNotGenuine, "bad_signature",
     "Suket TIDAK ASLI: tanda tangannya tidak cocok (isinya telah diubah)."},
    {Reason::kBadClaims, Outcome::kNotGenuine, "bad_claims", "Suket TIDAK ASLI: isi datanya tidak lengkap atau rusak."},
    {Reason::kStationMismatch, Outcome::kNotGenuine, "station_mismatch",
     "Suket TIDAK ASLI: tempat penerbit tidak sesuai dengan sertifikat kuncinya."},
    {Reason::kCertificateNotValidAtIssue, Outcome::kNotGenuine, "certificate_not_valid_at_issue",
     "Suket TIDAK ASLI: diterbitkan di luar masa berlaku sertifikat tempat penerbitnya."},
    {Reason::kIssuedInFuture, Outcome::kNotGenuine, "issued_in_future",
     "Suket TIDAK ASLI: tanggal terbitnya di masa depan. Periksa jam perangkat ini."},
};

const ReasonText& TextOf(Reason reason) {
  return *std::find_if(std::begin(kReasons), std::end(kReasons),
                       [reason](const ReasonText& text) { return text.reason == reason; });
}

VerifyResult Conclude(Reason reason, std::string message, std::optional<SuketData> data = std::nullopt) {
  const ReasonText& text = TextOf(reason);
  return VerifyResult{text.outcome, reason, std::move(message), std::string(text.pesan), std::move(data)};
}

}  // namespace

Outcome OutcomeOf(Reason reason) { return TextOf(reason).outcome; }

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kValid: return "valid";
    case Outcome::kExpired: return "expired";
    case Outcome::kRevoked: return "revoked";
    case Outcome::kNotGenuine: return "not genuine";
  }
  return "not genuine";
}

std::string_view ReasonName(Reason reason) { return TextOf(reason).name; }

VerifyResult Verify(std::string_view token_text, const TrustBundle& bundle, const RevocationList& revocations,
                    TimePoint now) {
  auto layers = internal::DecodeLayers(token_text);
  if (auto* failure = std::get_if<internal::TokenFailure>(&layers)) return Conclude(failure->reason, failure->message);
  const DecodedToken& token = std::get<DecodedToken>(layers);
  const std::string kid = crypto::HexEncode(token.key_id);

  std::optional<internal::UncheckedCertificate> station;
  for (const Bytes& encoded : bundle.station_certificates) {
    auto unchecked = internal::DecodeCertificateUnchecked(encoded);
    if (unchecked.ok() && KeyIdOf(unchecked->certificate.public_key) == token.key_id) {
      station = std::move(*unchecked);
      break;
    }
  }
  if (!station.has_value()) {
    return Conclude(Reason::kUnknownKeyId, "no station certificate in the trust bundle (sequence " +
                                               std::to_string(bundle.sequence) + ") has key id " + kid);
  }
  const StationCertificate& certificate = station->certificate;
  if (Status from_central = internal::CheckCertificateSignature(*station, bundle.central_keys); !from_central.ok()) {
    return Conclude(Reason::kCertificateNotFromCentral, from_central.message());
  }
  if (!crypto::Verify(certificate.public_key, internal::SigStructure(token.protected_header, token.payload),
                      token.signature)
           .ok()) {
    return Conclude(Reason::kBadSignature,
                    "the signature does not verify with station " + certificate.station_id + "'s key " + kid);
  }
  auto data = internal::DecodeClaims(token.payload);
  if (!data.ok()) return Conclude(Reason::kBadClaims, "signed claims: " + data.status().message());
  const std::string serial = data->serial;
  if (data->station_id != certificate.station_id) {
    return Conclude(Reason::kStationMismatch, "the claims name station " + data->station_id +
                                                  " but key " + kid + " is certified for " + certificate.station_id);
  }
  if (data->issued_at < certificate.valid_from || data->issued_at >= certificate.valid_until) {
    return Conclude(Reason::kCertificateNotValidAtIssue,
                    "issued at " + FormatTimestamp(data->issued_at) + ", outside the validity of station " +
                        certificate.station_id + "'s certificate (" + FormatTimestamp(certificate.valid_from) +
                        " to " + FormatTimestamp(certificate.valid_until) + ")");
  }
  if (data->issued_at > now + kClockSkew) {
    return Conclude(Reason::kIssuedInFuture, "issued at " + FormatTimestamp(data->issued_at) + ", after now (" +
                                                 FormatTimestamp(now) + ")");
  }
  if (std::find(revocations.revoked_serials.begin(), revocations.revoked_serials.end(), serial) !=
      revocations.revoked_serials.end()) {
    return Conclude(Reason::kSuketRevoked,
                    "Suket " + serial + " is revoked (revocation list " + std::to_string(revocations.sequence) + ")",
                    std::move(*data));
  }
  for (const StationRevocation& revoked : revocations.revoked_stations) {
    if (revoked.station_id == certificate.station_id && data->issued_at >= revoked.revoked_from) {
      return Conclude(Reason::kStationRevoked,
                      "station " + revoked.station_id + " is revoked from " + FormatTimestamp(revoked.revoked_from) +
                          " and issued Suket " + serial + " at " + FormatTimestamp(data->issued_at),
                      std::move(*data));
    }
  }
  if (now >= data->valid_until) {
    return Conclude(Reason::kExpired, "Suket " + serial + " expired at " + FormatTimestamp(data->valid_until),
                    std::move(*data));
  }
  return Conclude(Reason::kNone,
                  "Suket " + serial + " is valid until " + FormatTimestamp(data->valid_until) + ", issued by station " +
                      certificate.station_id,
                  std::move(*data));
}

}  // namespace ektp::suket
