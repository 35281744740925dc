// Central's side of the Suket (suket/suket.h, docs/suket-format.md): the
// Sukets stations report issuing, their revocation, and the two documents
// anyone needs to verify a Suket offline, each signed by central:
//   - the trust bundle: central's key and a certificate of every approved
//     (or since revoked) station's signing key, valid from its registration;
//   - the revocation list: revoked Sukets, and revoked stations with the
//     time from which their Sukets stop verifying.
// Each is re-signed with the next sequence number only when its content
// changes, and sent down every station's feed (a suket_trust item) when the
// station has not had the newest.
//
// Thread-safety: functions over the caller's connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "central/ingest.h"
#include "central/station_registry.h"
#include "pipeline/feed_queue.h"
#include "sync/station_events.h"

namespace ektp::central {

// How long a station certificate is valid after the station registered.
inline constexpr std::chrono::hours kStationCertificateValidity{20 * 365 * 24};

// Stores a Suket a station reports issuing, and revokes the one it renews
// (`replaces`), in the caller's transaction. Applied once per serial.
// kFailedPrecondition when the record was not enrolled at that station.
Status RecordSuketIssued(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                         const sync::SuketIssuedBody& suket);

// Revokes every Suket of `registration_number`, and of `nik` when not
// empty, that is not revoked yet. Returns how many.
StatusOr<int> RevokeSukets(store::Connection& db, const Clock& clock, std::string_view registration_number,
                           std::string_view nik, std::string_view reason);

struct SuketPublication {
  int64_t sequence = 0;
  crypto::Bytes body;  // as suket::EncodeTrustBundle / EncodeRevocationList signed it
};
StatusOr<SuketPublication> CurrentTrustBundle(store::Connection& db, const Clock& clock, const crypto::SigningKey& central);
StatusOr<SuketPublication> CurrentRevocationList(store::Connection& db, const Clock& clock,
                                                 const crypto::SigningKey& central);

// Queues a suket_trust item for `station_id` when the newest bundle or list
// has a sequence the station has not been sent. Returns whether it queued one.
StatusOr<bool> QueueSuketTrust(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                               std::string_view station_id);

}  // namespace ektp::central
