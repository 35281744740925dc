// Operators revoked at central, per station (docs/security.md, "Operators
// accountable by fingerprint"). An operator's account lives on the station,
// but central decides whose work it accepts: once an admin revokes
// (station, username), ingest refuses every packet that operator performed at
// or after the revocation time (by the station's signed capture time, as for
// a revoked station's carry-over), naming the revocation and what the
// station should do; packets captured before it are judged as before. The
// permission is checked when a packet reaches central, whatever the station
// allowed at capture.
//
// Thread-safety: as the Connection used (one thread at a time).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/db.h"

namespace ektp::central {

struct RevokedOperator {
  std::string station_id;
  std::string username;
  std::string reason;
  std::string revoked_by;
  std::string revoked_at;  // ISO 8601 UTC, central's clock
};

// Revokes `username` at `station_id`, audited as operator.revoked by `admin`.
// kNotFound for an unknown station; kInvalidArgument for a username that is
// not a station username (accounts::ValidateAccount's rule) or a reason that
// is empty or over 500 bytes; kAlreadyExists when revoked already (the first
// revocation stands). Nothing changes on error.
Status RevokeOperator(store::Connection& db, const Clock& clock, std::string_view station_id,
                      std::string_view username, std::string_view reason, std::string_view admin);

// The revocations of one station (every station when `station_id` is
// empty), by station then username.
StatusOr<std::vector<RevokedOperator>> RevokedOperators(store::Connection& db, std::string_view station_id);

// Who performed a packet's work and when, by the station's clock: the
// enrollment's operator at capture and its reviewer at the decision; a
// station event's `by` at the packet's creation.
using PacketActor = std::pair<std::string, std::string>;  // (username, ISO 8601 UTC time)

// kPermissionDenied naming the operator, the revocation and what the station
// should do when one of `actors` is revoked in `revoked` (one station's) at
// or before the actor's time; OK otherwise. An unparsable time counts as
// after the revocation.
Status CheckActorsNotRevoked(const std::vector<RevokedOperator>& revoked, std::string_view station_id,
                             int64_t sequence, const std::vector<PacketActor>& actors);

}  // namespace ektp::central
