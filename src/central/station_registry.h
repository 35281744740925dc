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
};

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
