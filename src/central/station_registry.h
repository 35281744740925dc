// Central's register of stations: one-time registration tokens, station keys,
// approval and revocation.
//
// A station may upload only while `approved`. Tokens are stored as SHA-256
// hashes, expire, and work once.
//
// Thread-safety: as the Connection it uses (one thread at a time).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/db.h"

namespace ektp::central {

enum class StationKind { kKecamatanOffice, kDisdukcapilOffice, kMobileVan };
std::string_view StationKindName(StationKind kind);  // "kecamatan_office", "disdukcapil_office", "mobile_van"
StatusOr<StationKind> ParseStationKind(std::string_view name);

enum class StationStatus { kPending, kApproved, kRevoked };
std::string_view StationStatusName(StationStatus status);

// Capabilities, as a set of names: enroll, print, pickup, suket.
StatusOr<std::vector<std::string>> ParseCapabilities(std::string_view comma_separated);

struct TokenRequest {
  std::string kecamatan_code;  // the kecamatan the station serves
  StationKind kind = StationKind::kKecamatanOffice;
  std::vector<std::string> capabilities;
  std::chrono::hours valid_for{72};
};

// Central's record of one registered station (a row of `stations`); the station's own service is
// station::Station.
struct RegisteredStation {
  std::string id;  // "ST-352101-01"
  std::string kecamatan_code;
  StationKind kind = StationKind::kKecamatanOffice;
  std::vector<std::string> capabilities;
  crypto::Bytes public_key;      // Ed25519: verifies the station's packets and requests
  crypto::Bytes box_public_key;  // X25519: print jobs are sealed to it; empty for a station registered without one
  StationStatus status = StationStatus::kPending;
  std::string registered_at;
  std::string revoked_at;      // ISO 8601 UTC, seconds; "" unless revoked
  std::string revoked_reason;  // as the admin gave it; "" unless revoked
};

// " (revoked at <time>: <reason>)" for a revoked station, to end the message
// that refuses it; "" otherwise.
std::string RevocationNote(const RegisteredStation& station);

class StationRegistry {
 public:
  StationRegistry(store::Connection& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Returns the token to hand to the station's installer (shown once).
  StatusOr<std::string> CreateToken(const TokenRequest& request, std::string_view admin);

  // Uses the token once and records the station as pending approval, with
  // its keys, which stay pinned: nothing changes them later.
  // kUnauthenticated for an unknown, used or expired token;
  // kInvalidArgument for a key of the wrong size, or a station with the
  // `print` capability that sends no X25519 key (nothing is used up then).
  StatusOr<RegisteredStation> Register(std::string_view token, std::span<const uint8_t> station_public_key,
                                       std::span<const uint8_t> station_box_public_key = {});

  Status Approve(std::string_view station_id, std::string_view admin);
  Status Revoke(std::string_view station_id, std::string_view admin, std::string_view reason);

  // Records `replacement_id` as the replacement of the revoked station
  // `replaced_id` (a stolen or broken one) and audits it: from then on the
  // replacement may carry over the replaced station's packets captured before
  // its revocation (Ingest::CarryOver). kFailedPrecondition unless
  // `replaced_id` is revoked, `replacement_id` is not, and both serve the same
  // kecamatan as the same kind; kAlreadyExists when either already has a
  // replacement link.
  Status Replace(std::string_view replaced_id, std::string_view replacement_id, std::string_view admin);
  // The station that replaces `replaced_id`; kNotFound when none does.
  StatusOr<std::string> ReplacementOf(std::string_view replaced_id);

  StatusOr<RegisteredStation> Get(std::string_view station_id);
  StatusOr<std::vector<RegisteredStation>> List();

 private:
  // Changes the status and audits it (with `reason` when not empty).
  Status SetStatus(std::string_view station_id, StationStatus from, StationStatus to, std::string_view admin,
                   std::string_view reason = "");
  store::Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::central
