#include "central/ingest.h"

#include <nlohmann/json.hpp>

#include "core/resident_json.h"
#include "enrollment/enrollment.h"
#include "store/record_repository.h"

namespace ektp::central {
namespace {

sync::PacketResult Rejected(int64_t sequence, const Status& status) {
  return {sequence, sync::Verdict::kRejected, status.ToString()};
}

}  // namespace

StatusOr<sync::UploadResponse> Ingest::Upload(std::string_view station_id, const std::vector<sync::Packet>& packets) {
  ASSIGN_OR_RETURN(Station station, stations_.Get(station_id));
  if (station.status != StationStatus::kApproved) {
    return PermissionDenied("station " + station.id + " is " + std::string(StationStatusName(station.status)) +
                            "; only approved stations may upload");
  }
  sync::UploadResponse response;
  for (const sync::Packet& packet : packets) {
    ASSIGN_OR_RETURN(sync::PacketResult result, Store(station, packet));
    response.results.push_back(std::move(result));
  }
  RETURN_IF_ERROR(AdvanceCursor(station.id));
  ASSIGN_OR_RETURN(response.cursor, Cursor(station.id));
  return response;
}

StatusOr<sync::PacketResult> Ingest::Store(const Station& station, const sync::Packet& packet) {
  auto claimed = sync::ParseEnvelope(packet.envelope_text);
  int64_t sequence = claimed.ok() ? claimed->sequence : 0;
  auto envelope = sync::VerifyPacket(packet, station.public_key);
  if (!envelope.ok()) return Rejected(sequence, envelope.status());
  if (envelope->station_id != station.id) {
    return Rejected(sequence, Unauthenticated("packet names station " + envelope->station_id + " but was sent by " +
                                              station.id));
  }
  std::string hash = packet.ContentHash();
  sync::PacketResult result{sequence, sync::Verdict::kAccepted, ""};
  Status stored = db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto existing, db_.Query("SELECT content_sha256 FROM inbox WHERE station_id = ? AND sequence = ?",
                                              {station.id, sequence}));
    if (!existing.empty()) {
      if (existing[0].Text(0) == hash) {
        result.verdict = sync::Verdict::kDuplicate;
        return Status::Ok();
      }
      return AlreadyExists("sequence " + std::to_string(sequence) + " was already used for other content (sha256 " +
                           existing[0].Text(0).substr(0, 12) + "...)");
    }
    RETURN_IF_ERROR(db_.Exec("INSERT INTO inbox (station_id, sequence, content_sha256, kind, envelope, signature, "
                             "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             {station.id, sequence, hash, sync::PacketKindName(envelope->kind), packet.envelope_text,
                              packet.signature, FormatTimestamp(clock_.Now())}));
    switch (envelope->kind) {
      case sync::PacketKind::kEnrollment: return StoreEnrollment(station, *envelope);
    }
    return Internal("unhandled packet kind");
  });
  if (stored.code() == StatusCode::kUnavailable || stored.code() == StatusCode::kAborted ||
      stored.code() == StatusCode::kInternal) {
    return stored;  // our fault, not the packet's: the whole batch fails and the station retries
  }
  if (!stored.ok()) return Rejected(sequence, stored);
  return result;
}

Status Ingest::StoreEnrollment(const Station& station, const sync::Envelope& envelope) {
  ASSIGN_OR_RETURN(enrollment::Enrollment enrollment, enrollment::EnrollmentFromJson(envelope.body));
  if (enrollment.station_id != station.id) {
    return InvalidArgument("enrollment names station " + enrollment.station_id + " but came from " + station.id);
  }
  if (!enrollment.registration_number.starts_with(station.id + "-")) {
    return InvalidArgument("registration number " + enrollment.registration_number + " does not belong to station " +
                           station.id);
  }
  store::RecordRepository records(db_, clock_);
  store::Record record;
  record.registration_number = enrollment.registration_number;
  record.application_kind = enrollment.kind;
  record.resident_json = ResidentToJson(enrollment.resident).dump();
  ASSIGN_OR_RETURN(int64_t id, records.Create(record, "station:" + station.id + "/op:" + enrollment.operator_name));
  RETURN_IF_ERROR(db_.Exec("UPDATE records SET station_id = ? WHERE id = ?", {station.id, id}));

  // Everything below is a property of the application, not of the packet: a
  // failure is recorded on the record and reported to the station.
  Status valid = enrollment::ValidateApplication(enrollment, regions_, clock_.TodayWib());
  if (valid.ok()) {
    auto opened = keys_.sealing.Open(enrollment.sealed_biometrics);
    if (!opened.ok()) {
      valid = InvalidArgument("biometrics cannot be opened by central: " + opened.status().message());
    } else {
      auto biometrics = enrollment::ParseBiometrics(*opened);
      valid = biometrics.ok() ? enrollment::ValidateBiometrics(*biometrics) : biometrics.status();
      if (valid.ok()) {
        RETURN_IF_ERROR(db_.Exec("INSERT INTO record_biometrics (record_id, biometrics) VALUES (?, ?)", {id, *opened}));
      }
    }
  }
  RecordState outcome = valid.ok() ? RecordState::kValidated : RecordState::kFailedValidation;
  RETURN_IF_ERROR(records.Transition(id, RecordState::kReceived, outcome, "central:ingest", valid.message()));
  if (!valid.ok()) RETURN_IF_ERROR(db_.Exec("UPDATE records SET failure_reason = ? WHERE id = ?", {valid.message(), id}));
  nlohmann::json body = {{"registration_number", enrollment.registration_number},
                         {"state", RecordStateName(outcome)},
                         {"reason", valid.message()}};
  return AppendFeed(station.id, "validation_result", body.dump());
}

Status Ingest::AppendFeed(std::string_view station_id, std::string_view kind, const std::string& body) {
  return db_.Exec("INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES (?, ?, ?, ?, ?)",
                  {station_id, kind, body, keys_.signing.Sign(body), FormatTimestamp(clock_.Now())});
}

Status Ingest::AdvanceCursor(std::string_view station_id) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t cursor, Cursor(station_id));
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sequence FROM inbox WHERE station_id = ? AND sequence > ? "
                                          "ORDER BY sequence",
                                          {station_id, cursor}));
    int64_t next = cursor;
    for (const store::Row& row : rows) {
      if (row.Int(0) != next + 1) break;
      next = row.Int(0);
    }
    if (next == cursor) return Status::Ok();
    return db_.Exec("UPDATE stations SET cursor = ? WHERE id = ?", {next, station_id});
  });
}

StatusOr<int64_t> Ingest::Cursor(std::string_view station_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT cursor FROM stations WHERE id = ?", {station_id}));
  if (rows.empty()) return NotFound("station " + std::string(station_id) + " is not registered");
  return rows[0].Int(0);
}

StatusOr<std::vector<FeedItem>> Ingest::Feed(std::string_view station_id, int64_t after, int limit) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT id, kind, body, signature FROM feed WHERE station_id = ? AND id > ? "
                                        "ORDER BY id LIMIT ?",
                                        {station_id, after, limit}));
  std::vector<FeedItem> items;
  for (const store::Row& row : rows) items.push_back({row.Int(0), row.Text(1), row.Text(2), row.Bytes(3)});
  return items;
}

}  // namespace ektp::central
