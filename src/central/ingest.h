// Central ingest: receives batches of signed packets from stations, verifies
// and stores them exactly once, decodes enrollments into records, and queues
// each validation result on the station's down feed.
//
// Per packet: a packet performed by an operator central revoked at that
// station, at or after the revocation, is refused with the revocation's
// reason (central/operator_revocations.h). Otherwise the raw packet goes to
// the inbox keyed by (station, sequence) with its content hash, and the
// decoded record is stored as `received`, then moved to `validated` or
// `failed_validation` with an operator-readable reason (both lifecycle
// events are recorded). A validated record's opened
// biometrics are stored encrypted with keys.biometrics, bound to the record's
// id (pipeline/biometrics_at_rest.h); the sealed copy stays in the inbox. A packet that is not authentic
// or not well formed is refused and changes nothing. Resending a stored
// packet is a duplicate and changes nothing; reusing a sequence for other
// content is refused. Whatever one packet holds, it gets its own verdict: an
// unexpected error while checking or decoding it (an exception from a
// library) refuses that packet alone, never its batch.
//
// Performance (docs/benchmarks.md): the CPU work (signature, parsing,
// unsealing, validation, signing the feed item) runs before any transaction,
// and a whole batch is stored in one transaction. Verdicts stay per packet:
// a packet refused for its content writes nothing. If the database itself
// refuses one packet's rows (a constraint), the batch is rolled back and
// stored again one transaction per packet, so that packet alone is refused.
//
// Thread-safety: as the Connection it uses. Upload() runs the CPU work of a
// batch on up to 4 short-lived threads of its own; the clock, keys and region
// registry it reads are safe to share.
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "central/operator_revocations.h"
#include "central/station_registry.h"
#include "core/clock.h"
#include "core/region.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "sync/feed.h"
#include "sync/feed_items.h"
#include "sync/packet.h"

namespace ektp::central {

struct CentralKeys {
  crypto::SigningKey signing;  // signs feed items, print jobs, Suket
  crypto::SealingKey sealing;  // opens biometrics sealed at stations
  crypto::DataKey biometrics;  // encrypts the opened biometrics central stores (pipeline/biometrics_at_rest.h)
};

using FeedItem = sync::FeedItem;

class Ingest {
 public:
  // All references must outlive the Ingest.
  Ingest(store::Connection& db, const Clock& clock, const CentralKeys& keys, const RegionRegistry& regions)
      : db_(db), clock_(clock), keys_(keys), regions_(regions), stations_(db, clock) {}

  // Stores a batch from `station_id`. kNotFound for an unknown station,
  // kPermissionDenied for one that is pending or revoked (nothing is stored);
  // otherwise a verdict per packet: results[i] judges packets[i] and names its
  // content hash. The response is not signed (the HTTP route signs it).
  StatusOr<sync::UploadResponse> Upload(std::string_view station_id, const std::vector<sync::Packet>& packets);

  // A stolen or broken station's work, carried over by its replacement
  // (docs/security.md, "A stolen or broken station"): packets of the revoked
  // station `replaced_id`, read from its backup and vouched for by
  // `carrier_id`, which must be approved and its registered replacement
  // (StationRegistry::Replace), else kPermissionDenied and nothing is stored.
  // Each packet must still verify with the replaced station's own key and be
  // created before its revocation (else that packet is refused, naming both
  // times); it is then judged and stored exactly as if the replaced station
  // had uploaded it (its inbox and cursor, its records naming it and its
  // operator), so carrying over again, or a packet central already had, is a
  // duplicate. Each accepted packet gets a provenance row in `carried_over`
  // (carrier, time) and each batch an audit entry "station.carried_over".
  StatusOr<sync::UploadResponse> CarryOver(std::string_view replaced_id, std::string_view carrier_id,
                                           const std::vector<sync::Packet>& packets);

  // Every sequence <= the cursor from this station is stored.
  StatusOr<int64_t> Cursor(std::string_view station_id);

  // Feed items for the station with id > after, oldest first.
  StatusOr<std::vector<FeedItem>> Feed(std::string_view station_id, int64_t after, int limit);

 private:
  struct Checked;
  struct KindHandler;
  static const KindHandler kKindHandlers[];
  using Stored = std::unordered_map<int64_t, std::string>;  // sequence -> content hash

  // CPU only, no database: authenticity, then the content of packets not yet stored.
  Checked Check(const RegisteredStation& station, const sync::Packet& packet);
  // Decodes once through the packet kind's handler; an exception becomes the
  // packet's own refusal (kInternal).
  void Decode(const RegisteredStation& station, Checked& checked);
  // What the inbox holds for these sequences.
  StatusOr<Stored> StoredHashes(std::string_view station_id, std::span<const Checked> checked);
  // The verdict on one checked packet given what is stored (including this
  // batch's accepted packets, which it adds to `stored`) and the station's
  // revoked operators (a new packet by one of them, performed at or after
  // the revocation, is refused; central/operator_revocations.h). Writes nothing.
  sync::PacketResult Judge(const RegisteredStation& station, Checked& checked, Stored& stored,
                           const std::vector<RevokedOperator>& revoked);
  // Stores accepted packets: each in the inbox, then what each kind's handler
  // writes, in multi-row statements; with `carried_by` not empty, also their
  // provenance (RecordCarriedOver). REQUIRES: inside a transaction. A
  // database error is returned as is.
  Status Write(const RegisteredStation& station, const std::vector<const sync::Packet*>& packets,
               const std::vector<const Checked*>& checked, std::string_view carried_by);
  // Upload and CarryOver once the station may send: checks, judges and stores
  // the batch of `station`, carried over by `carried_by` when not empty.
  StatusOr<sync::UploadResponse> Store(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                       std::string_view carried_by);
  // OK when `envelope` was created before `station` was revoked; else kPermissionDenied naming both times.
  static Status CapturedBeforeRevocation(const RegisteredStation& station, const sync::Envelope& envelope);
  Status RecordCarriedOver(const RegisteredStation& station, const std::vector<const Checked*>& checked,
                           std::string_view carried_by, const std::string& now);

  // The enrollment kind: decode and validate (CPU only), then store the
  // records with both lifecycle events, their biometrics, pipeline jobs and
  // feed items.
  void DecodeEnrollment(const RegisteredStation& station, Checked& checked);
  Status WriteEnrollments(const RegisteredStation& station, std::span<const Checked* const> checked);
  // A print station's events (sync/station_events.h), through the blank
  // ledger and the print jobs, one by one in the batch's transaction.
  void DecodeStationEvent(const RegisteredStation& station, Checked& checked);
  Status WriteStationEvents(const RegisteredStation& station, std::span<const Checked* const> checked);
  StatusOr<sync::UploadResponse> StoreBatch(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                            std::vector<Checked>& checked, std::string_view carried_by);
  StatusOr<sync::UploadResponse> StoreEach(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                           std::vector<Checked>& checked, std::string_view carried_by);
  Status AdvanceCursor(std::string_view station_id);

  store::Connection& db_;
  const Clock& clock_;
  const CentralKeys& keys_;
  const RegionRegistry& regions_;
  StationRegistry stations_;
};

}  // namespace ektp::central
