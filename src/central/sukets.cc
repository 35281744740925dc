#include "central/sukets.h"

#include <algorithm>
#include <functional>

#include "store/record_repository.h"
#include "suket/suket.h"

namespace ektp::central {
namespace {

constexpr const char* kTrustBundle = "trust_bundle";
constexpr const char* kRevocationList = "revocation_list";

// The stored publication of `kind` when its content hash is `content`; else
// signs a new one with the next sequence through `sign` and stores it.
StatusOr<SuketPublication> Publish(store::Connection& db, const Clock& clock, const char* kind,
                                   const std::string& content,
                                   const std::function<StatusOr<crypto::Bytes>(int64_t sequence)>& sign) {
  SuketPublication publication;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db.Query("SELECT sequence, content_sha256, body FROM suket_publications WHERE kind = ?",
                                         {kind}));
    if (!rows.empty() && rows[0].Text(1) == content) {
      publication = {rows[0].Int(0), rows[0].Bytes(2)};
      return Status::Ok();
    }
    publication.sequence = rows.empty() ? 1 : rows[0].Int(0) + 1;
    ASSIGN_OR_RETURN(publication.body, sign(publication.sequence));
    return db.Exec("INSERT INTO suket_publications (kind, sequence, content_sha256, body, published_at) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind) DO UPDATE SET sequence = excluded.sequence, "
                   "content_sha256 = excluded.content_sha256, body = excluded.body, published_at = excluded.published_at",
                   {kind, publication.sequence, content, publication.body, FormatTimestamp(clock.Now())});
  }));
  return publication;
}

// The stations whose Sukets can verify: approved ones and revoked ones (whose
// earlier Sukets still verify; the revocation list stops the later ones).
StatusOr<std::vector<RegisteredStation>> CertifiedStations(store::Connection& db, const Clock& clock) {
  ASSIGN_OR_RETURN(auto stations, StationRegistry(db, clock).List());
  std::erase_if(stations, [](const RegisteredStation& s) { return s.status == StationStatus::kPending; });
  return stations;
}

}  // namespace

Status RecordSuketIssued(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                         const sync::SuketIssuedBody& suket) {
  const std::string context = "suket_issued " + suket.serial + " from station " + station.id;
  auto record = store::RecordRepository(db, clock).FindByRegistration(suket.registration_number);
  if (!record.ok()) return FailedPrecondition(context + ": " + std::string(record.status().message()));
  if (record->station_id != station.id) {
    return FailedPrecondition(context + ": " + suket.registration_number + " was enrolled at station " +
                              record->station_id + ", not " + station.id);
  }
  ASSIGN_OR_RETURN(auto stored, db.Query("INSERT INTO sukets (serial, registration_number, nik, station_id, issued_at, "
                                         "valid_until, replaces, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                                         "ON CONFLICT (serial) DO NOTHING RETURNING serial",
                                         {suket.serial, suket.registration_number,
                                          suket.nik.empty() ? store::Value() : store::Value(suket.nik), station.id,
                                          suket.issued_at, suket.valid_until,
                                          suket.replaces.empty() ? store::Value() : store::Value(suket.replaces),
                                          FormatTimestamp(clock.Now())}));
  if (stored.empty()) return Status::Ok();
  // Packets of one batch are written kind by kind, so the card's activation
  // may have been applied before this Suket arrived: it is revoked at once.
  if (record->state == RecordState::kActivated || record->state == RecordState::kReplaced ||
      record->state == RecordState::kRevoked) {
    RETURN_IF_ERROR(db.Exec("UPDATE sukets SET revoked_at = ?, revoked_reason = ? WHERE serial = ?",
                            {FormatTimestamp(clock.Now()), "the card was activated", suket.serial}));
  }
  if (suket.replaces.empty()) return Status::Ok();
  return db.Exec("UPDATE sukets SET revoked_at = ?, revoked_reason = ? WHERE serial = ? AND revoked_at IS NULL "
                 "AND registration_number = ?",
                 {FormatTimestamp(clock.Now()), "renewed as " + suket.serial, suket.replaces, suket.registration_number});
}

StatusOr<int> RevokeSukets(store::Connection& db, const Clock& clock, std::string_view registration_number,
                           std::string_view nik, std::string_view reason) {
  ASSIGN_OR_RETURN(auto revoked,
                   db.Query("UPDATE sukets SET revoked_at = ?, revoked_reason = ? WHERE revoked_at IS NULL AND "
                            "(registration_number = ? OR (? <> '' AND nik = ?)) RETURNING serial",
                            {FormatTimestamp(clock.Now()), reason, registration_number, nik, nik}));
  return static_cast<int>(revoked.size());
}

StatusOr<SuketPublication> CurrentTrustBundle(store::Connection& db, const Clock& clock, const crypto::SigningKey& central) {
  ASSIGN_OR_RETURN(auto stations, CertifiedStations(db, clock));
  // What the certificates say, so that they are signed only when it changes.
  std::string content = crypto::HexEncode(central.public_key());
  for (const RegisteredStation& station : stations) {
    content += "\n" + station.id + " " + crypto::HexEncode(station.public_key) + " " + station.kecamatan_code + " " +
               station.registered_at;
  }
  return Publish(db, clock, kTrustBundle, crypto::Sha256Hex(content), [&](int64_t sequence) -> StatusOr<crypto::Bytes> {
    std::vector<crypto::Bytes> certificates;
    for (const RegisteredStation& station : stations) {
      ASSIGN_OR_RETURN(TimePoint registered, ParseTimestamp(station.registered_at));
      suket::StationCertificate certificate{station.id, station.public_key, std::string(ParentCode(station.kecamatan_code)),
                                            registered, registered + kStationCertificateValidity};
      ASSIGN_OR_RETURN(crypto::Bytes signed_certificate, suket::CertifyStation(certificate, central));
      certificates.push_back(std::move(signed_certificate));
    }
    return suket::EncodeTrustBundle(
        {static_cast<uint64_t>(sequence), clock.Now(), {central.public_key()}, std::move(certificates)}, central);
  });
}

StatusOr<SuketPublication> CurrentRevocationList(store::Connection& db, const Clock& clock,
                                                 const crypto::SigningKey& central) {
  suket::RevocationList list;
  std::string content;
  // An expired Suket fails verification without the list.
  ASSIGN_OR_RETURN(auto serials, db.Query("SELECT serial FROM sukets WHERE revoked_at IS NOT NULL AND valid_until > ? "
                                          "ORDER BY serial",
                                          {FormatTimestamp(clock.Now())}));
  for (const store::Row& row : serials) {
    list.revoked_serials.push_back(row.Text(0));
    content += row.Text(0) + "\n";
  }
  ASSIGN_OR_RETURN(auto stations, db.Query("SELECT id, revoked_at FROM stations WHERE revoked_at IS NOT NULL ORDER BY id"));
  for (const store::Row& row : stations) {
    ASSIGN_OR_RETURN(TimePoint from, ParseTimestamp(row.Text(1)));
    list.revoked_stations.push_back({row.Text(0), from});
    content += row.Text(0) + " " + row.Text(1) + "\n";
  }
  return Publish(db, clock, kRevocationList, crypto::Sha256Hex(content), [&](int64_t sequence) {
    list.sequence = static_cast<uint64_t>(sequence);
    list.issued_at = clock.Now();
    return suket::EncodeRevocationList(list, central);
  });
}

StatusOr<bool> QueueSuketTrust(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                               std::string_view station_id) {
  ASSIGN_OR_RETURN(SuketPublication bundle, CurrentTrustBundle(db, clock, keys.signing));
  ASSIGN_OR_RETURN(SuketPublication list, CurrentRevocationList(db, clock, keys.signing));
  bool queued = false;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto sent, db.Query("SELECT bundle_sequence, list_sequence FROM suket_trust_sent WHERE station_id = ?",
                                         {station_id}));
    if (!sent.empty() && sent[0].Int(0) >= bundle.sequence && sent[0].Int(1) >= list.sequence) return Status::Ok();
    const pipeline::QueuedFeedItem item{
        std::string(station_id),
        sync::SignFeedItem({sync::FeedKind::kSuketTrust, sync::SuketTrustBody{bundle.body, list.body}}, keys.signing)};
    RETURN_IF_ERROR(pipeline::QueueFeedItems(db, clock, {&item, 1}));
    queued = true;
    return db.Exec("INSERT INTO suket_trust_sent (station_id, bundle_sequence, list_sequence) VALUES (?, ?, ?) "
                   "ON CONFLICT (station_id) DO UPDATE SET bundle_sequence = excluded.bundle_sequence, "
                   "list_sequence = excluded.list_sequence",
                   {station_id, bundle.sequence, list.sequence});
  }));
  return queued;
}

}  // namespace ektp::central
