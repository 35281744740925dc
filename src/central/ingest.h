// Central ingest: receives batches of signed packets from stations, verifies
// and stores them exactly once, decodes enrollments into records, and queues
// each validation result on the station's down feed.
//
// Per packet, in one transaction: the raw packet goes to the inbox keyed by
// (station, sequence) with its content hash, and the decoded record is stored
// as `received`, then moved to `validated` or `failed_validation` with an
// operator-readable reason. A packet that is not authentic or not well formed
// is refused and changes nothing. Resending a stored packet is a duplicate
// and changes nothing; reusing a sequence for other content is refused.
//
// Thread-safety: as the Connection it uses.
#pragma once

#include <string>
#include <vector>

#include "central/station_registry.h"
#include "core/clock.h"
#include "core/region.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "sync/packet.h"

namespace ektp::central {

struct CentralKeys {
  crypto::SigningKey signing;  // signs feed items, print jobs, Suket
  crypto::SealingKey sealing;  // opens biometrics sealed at stations
};

struct FeedItem {
  int64_t id = 0;  // the station's cursor for the down feed
  std::string kind;
  std::string body;  // JSON text
  crypto::Bytes signature;  // central's signature of body
};

class Ingest {
 public:
  // All references must outlive the Ingest.
  Ingest(store::Connection& db, const Clock& clock, const CentralKeys& keys, const RegionRegistry& regions)
      : db_(db), clock_(clock), keys_(keys), regions_(regions), stations_(db, clock) {}

  // Stores a batch from `station_id`. kNotFound for an unknown station,
  // kPermissionDenied for one that is pending or revoked (nothing is stored);
  // otherwise a verdict per packet.
  StatusOr<sync::UploadResponse> Upload(std::string_view station_id, const std::vector<sync::Packet>& packets);

  // Every sequence <= the cursor from this station is stored.
  StatusOr<int64_t> Cursor(std::string_view station_id);

  // Feed items for the station with id > after, oldest first.
  StatusOr<std::vector<FeedItem>> Feed(std::string_view station_id, int64_t after, int limit);

 private:
  StatusOr<sync::PacketResult> Store(const Station& station, const sync::Packet& packet);
  Status StoreEnrollment(const Station& station, const sync::Envelope& envelope);
  Status AppendFeed(std::string_view station_id, std::string_view kind, const std::string& body);
  Status AdvanceCursor(std::string_view station_id);

  store::Connection& db_;
  const Clock& clock_;
  const CentralKeys& keys_;
  const RegionRegistry& regions_;
  StationRegistry stations_;
};

}  // namespace ektp::central
