#include "central/ingest.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "central/enrollment_oversight.h"
#include "central/hand_over.h"
#include "central/print_feed.h"
#include "central/sukets.h"
#include "core/lifecycle.h"
#include "core/resident_json.h"
#include "enrollment/enrollment.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/feed_queue.h"
#include "pipeline/work_queue.h"
#include "store/audit_log.h"
#include "printing/print_jobs.h"
#include "store/record_repository.h"
#include "sync/station_events.h"

namespace ektp::central {
namespace {

sync::PacketResult Rejected(int64_t sequence, const Status& status) {
  return {sequence, sync::Verdict::kRejected, status.ToString(), ""};
}

// Errors that are central's fault, not the packet's: the whole batch fails and
// the station retries it later.
bool IsCentralFault(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kAborted ||
         status.code() == StatusCode::kInternal;
}

// Runs fn(0) .. fn(n - 1) on up to 4 threads (this one included). The CPU
// work of a batch is independent per packet, and a single station draining
// its outbox would otherwise use one core while the others idle.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  size_t workers = std::min<size_t>({4, std::max(1u, std::thread::hardware_concurrency()), (n + 7) / 8});
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;  // the first exception, rethrown on this thread as if run here
  auto work = [&] {
    try {
      for (size_t i = next++; i < n; i = next++) fn(i);
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (size_t w = 1; w < workers; ++w) helpers.emplace_back(work);
    work();
  }
  if (error) std::rethrow_exception(error);
}

// Runs `fn`, turning an exception it throws into a Status: one packet that
// trips an unexpected error gets its own verdict and never fails its batch.
Status Guarded(const std::function<void()>& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Internal(std::string("processing the packet failed: ") + e.what());
  } catch (...) {
    return Internal("processing the packet failed with an unknown error");
  }
}

}  // namespace

// One packet after the CPU work.
struct Ingest::Checked {
  int64_t sequence = 0;
  Status refused;  // not OK: refused before storage (authenticity, format)
  sync::Envelope envelope;
  std::string hash;
  // Filled by Decode() for packets not stored yet.
  bool decoded = false;
  Status content;  // not OK: the packet is refused for its content
  enrollment::Enrollment enrollment;
  std::string resident_json;
  RecordState outcome = RecordState::kFailedValidation;
  std::string reason;      // why validation failed; "" when validated
  crypto::Bytes biometrics;  // opened, when validated
  // The fingers declared an exception: the opened biometrics', or the body's
  // when they do not open (enrollment_oversight.h, ReportedExceptions).
  std::vector<enrollment::ExceptedFinger> excepted;
  sync::FeedItem feed;       // the signed verdict for the station's feed
  std::variant<std::monostate, sync::BlanksReceivedBody, sync::CardPrintedBody, sync::BlankSpoiledBody,
               sync::CardMisprintedBody, sync::CardsDispatchedBody, sync::FingerprintCheckedBody,
               sync::PickupOverrideBody, sync::CardActivatedBody, sync::SuketIssuedBody,
               sync::CardReturnedBody>
      event;
};

// Central's handler of each up-packet kind (sync/packet.h): `decode` runs on
// the CPU pool before any transaction, `write` inside the batch's.
struct Ingest::KindHandler {
  sync::PacketKind kind;
  void (Ingest::*decode)(const RegisteredStation&, Checked&);
  Status (Ingest::*write)(const RegisteredStation&, std::span<const Checked* const>);
};

const Ingest::KindHandler Ingest::kKindHandlers[] = {
    {sync::PacketKind::kEnrollment, &Ingest::DecodeEnrollment, &Ingest::WriteEnrollments},
    {sync::PacketKind::kBlanksReceived, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kCardPrinted, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kBlankSpoiled, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kCardMisprinted, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kCardsDispatched, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kFingerprintChecked, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kPickupOverride, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kCardActivated, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kSuketIssued, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
    {sync::PacketKind::kCardReturned, &Ingest::DecodeStationEvent, &Ingest::WriteStationEvents},
};

StatusOr<sync::UploadResponse> Ingest::Upload(std::string_view station_id, const std::vector<sync::Packet>& packets) {
  ASSIGN_OR_RETURN(RegisteredStation station, stations_.Get(station_id));
  if (station.status != StationStatus::kApproved) {
    return PermissionDenied("station " + station.id + " is " + std::string(StationStatusName(station.status)) +
                            "; only approved stations may upload" + RevocationNote(station));
  }
  return Store(station, packets, "");
}

StatusOr<sync::UploadResponse> Ingest::CarryOver(std::string_view replaced_id, std::string_view carrier_id,
                                                 const std::vector<sync::Packet>& packets) {
  ASSIGN_OR_RETURN(RegisteredStation replaced, stations_.Get(replaced_id));
  ASSIGN_OR_RETURN(RegisteredStation carrier, stations_.Get(carrier_id));
  if (carrier.status != StationStatus::kApproved) {
    return PermissionDenied("station " + carrier.id + " is " + std::string(StationStatusName(carrier.status)) +
                            "; only an approved replacement may carry over a station's work");
  }
  auto replacement = stations_.ReplacementOf(replaced.id);
  if (!replacement.ok() || *replacement != carrier.id) {
    return PermissionDenied("station " + carrier.id + " is not the registered replacement of station " + replaced.id +
                            "; run `ektp central station replace " + replaced.id + " --by " + carrier.id + "` first");
  }
  if (replaced.status != StationStatus::kRevoked) {  // Replace() links revoked stations only; this guards the invariant
    return FailedPrecondition("station " + replaced.id + " is not revoked; it uploads its own packets");
  }
  return Store(replaced, packets, carrier.id);
}

StatusOr<sync::UploadResponse> Ingest::Store(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                             std::string_view carried_by) {
  std::vector<Checked> checked(packets.size());
  ParallelFor(packets.size(), [&](size_t i) {
    Status failed = Guarded([&] { checked[i] = Check(station, packets[i]); });
    if (!failed.ok()) checked[i].refused = failed;
  });
  if (!carried_by.empty()) {
    for (Checked& c : checked) {
      if (c.refused.ok()) c.refused = CapturedBeforeRevocation(station, c.envelope);
    }
  }
  // Decode only what is not stored yet: a resent batch costs a lookup, not a re-validation.
  ASSIGN_OR_RETURN(Stored stored, StoredHashes(station.id, checked));
  ParallelFor(checked.size(), [&](size_t i) {
    if (checked[i].refused.ok() && !stored.contains(checked[i].sequence)) Decode(station, checked[i]);
  });
  auto batched = StoreBatch(station, packets, checked, carried_by);
  // The database refused some packet's rows: store one packet per transaction
  // so that only that packet is refused.
  if (!batched.ok() && !IsCentralFault(batched.status())) batched = StoreEach(station, packets, checked, carried_by);
  if (!batched.ok()) return batched;
  if (batched->results.size() != packets.size()) return Internal("a verdict is missing for a packet of the batch");
  for (size_t i = 0; i < packets.size(); ++i) {
    batched->results[i].content_sha256 = checked[i].hash.empty() ? packets[i].ContentHash() : checked[i].hash;
  }
  return batched;
}

Ingest::Checked Ingest::Check(const RegisteredStation& station, const sync::Packet& packet) {
  Checked c;
  auto envelope = sync::VerifyPacket(packet, station.public_key);
  if (!envelope.ok()) {
    auto claimed = sync::ParseEnvelope(packet.envelope_text);  // only to name the sequence in the verdict
    c.sequence = claimed.ok() ? claimed->sequence : 0;
    c.refused = envelope.status();
    return c;
  }
  c.sequence = envelope->sequence;
  if (envelope->station_id != station.id) {
    c.refused = Unauthenticated("packet names station " + envelope->station_id + " but was sent by " + station.id);
    return c;
  }
  c.envelope = std::move(*envelope);
  c.hash = packet.ContentHash();
  return c;
}

void Ingest::Decode(const RegisteredStation& station, Checked& c) {
  if (c.decoded) return;
  c.decoded = true;
  for (const KindHandler& handler : kKindHandlers) {
    if (handler.kind != c.envelope.kind) continue;
    Status failed = Guarded([&] { (this->*handler.decode)(station, c); });
    if (!failed.ok()) c.content = failed;
    return;
  }
  c.content = Unimplemented("central has no handler for packet kind '" +
                            std::string(sync::PacketKindName(c.envelope.kind)) + "'");
}

void Ingest::DecodeEnrollment(const RegisteredStation& station, Checked& c) {
  auto enrollment = enrollment::EnrollmentFromJson(c.envelope.body);
  if (!enrollment.ok()) {
    c.content = enrollment.status();
    return;
  }
  c.enrollment = std::move(*enrollment);
  const enrollment::Enrollment& e = c.enrollment;
  if (e.station_id != station.id) {
    c.content = InvalidArgument("enrollment names station " + e.station_id + " but came from " + station.id);
    return;
  }
  if (!e.registration_number.starts_with(station.id + "-")) {
    c.content = InvalidArgument("registration number " + e.registration_number + " does not belong to station " +
                                station.id);
    return;
  }
  if (e.review && e.review->reviewer == e.operator_name) {
    c.content = InvalidArgument("enrollment " + e.registration_number + " was approved by its own operator " +
                                e.operator_name + "; review needs a second person");
    return;
  }
  c.resident_json = ResidentToJson(e.resident).dump();

  // The declared finger exceptions must be the sealed ones, with their photo
  // (enrollment.h, CheckExceptionDeclaration): a packet that hides or alters
  // them is refused whole.
  auto opened = keys_.sealing.Open(e.sealed_biometrics);
  StatusOr<enrollment::Biometrics> biometrics =
      opened.ok() ? enrollment::ParseBiometrics(*opened)
                  : StatusOr<enrollment::Biometrics>(
                        InvalidArgument("biometrics cannot be opened by central: " + opened.status().message()));
  if (Status declared = enrollment::CheckExceptionDeclaration(e, biometrics.ok() ? &*biometrics : nullptr);
      !declared.ok()) {
    c.content = declared;
    return;
  }
  if (biometrics.ok()) {
    c.excepted = enrollment::ExceptedFingers(*biometrics);
  } else if (e.exception_approval) {
    c.excepted = e.exception_approval->fingers;
  }

  // Everything below is a property of the application, not of the packet: a
  // failure is recorded on the record and reported to the station.
  Status valid = enrollment::ValidateApplication(e, regions_, clock_.TodayWib());
  if (valid.ok()) {
    valid = biometrics.ok() ? enrollment::ValidateBiometrics(*biometrics) : biometrics.status();
    if (valid.ok()) c.biometrics = std::move(*opened);
  }
  c.outcome = valid.ok() ? RecordState::kValidated : RecordState::kFailedValidation;
  c.reason = valid.message();
  c.feed = sync::SignFeedItem(
      {sync::FeedKind::kValidationResult, sync::RecordStatusBody{e.registration_number, c.outcome, c.reason, ""}},
      keys_.signing);
}

StatusOr<Ingest::Stored> Ingest::StoredHashes(std::string_view station_id, std::span<const Checked> checked) {
  Stored stored;
  int64_t low = 0, high = 0;
  size_t count = 0;
  for (const Checked& c : checked) {
    if (!c.refused.ok()) continue;
    low = count == 0 ? c.sequence : std::min(low, c.sequence);
    high = count == 0 ? c.sequence : std::max(high, c.sequence);
    ++count;
  }
  if (count == 0) return stored;
  if (high - low < static_cast<int64_t>(4 * count + 64)) {  // the usual case: one range read
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sequence, content_sha256 FROM inbox WHERE station_id = ? AND "
                                          "sequence >= ? AND sequence <= ?",
                                          {station_id, low, high}));
    for (const store::Row& row : rows) stored.emplace(row.Int(0), row.Text(1));
    return stored;
  }
  for (const Checked& c : checked) {
    if (!c.refused.ok()) continue;
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT content_sha256 FROM inbox WHERE station_id = ? AND sequence = ?",
                                          {station_id, c.sequence}));
    if (!rows.empty()) stored.emplace(c.sequence, rows[0].Text(0));
  }
  return stored;
}

namespace {

// Who performed the decoded packet's work, and when (central/operator_revocations.h).
std::vector<PacketActor> Actors(const sync::Envelope& envelope, const enrollment::Enrollment& enrollment,
                                const auto& event) {
  std::vector<PacketActor> actors;
  if (envelope.kind == sync::PacketKind::kEnrollment) {
    actors.emplace_back(enrollment.operator_name, enrollment.captured_at);
    if (enrollment.review) actors.emplace_back(enrollment.review->reviewer, enrollment.review->decided_at);
    if (enrollment.exception_approval) {
      actors.emplace_back(enrollment.exception_approval->approver, enrollment.exception_approval->approved_at);
    }
    return actors;
  }
  std::visit(
      [&](const auto& body) {
        if constexpr (requires { body.by; }) actors.emplace_back(body.by, envelope.created_at);
      },
      event);
  return actors;
}

}  // namespace

sync::PacketResult Ingest::Judge(const RegisteredStation& station, Checked& c, Stored& stored,
                                 const std::vector<RevokedOperator>& revoked) {
  if (!c.refused.ok()) return Rejected(c.sequence, c.refused);
  if (auto it = stored.find(c.sequence); it != stored.end()) {
    if (it->second == c.hash) return {c.sequence, sync::Verdict::kDuplicate, "", ""};
    return Rejected(c.sequence, AlreadyExists("sequence " + std::to_string(c.sequence) +
                                              " was already used for other content (sha256 " +
                                              it->second.substr(0, 12) + "...)"));
  }
  Decode(station, c);  // a no-op unless the sequence was stored and is gone, which cannot happen
  if (!c.content.ok()) return Rejected(c.sequence, c.content);
  if (!revoked.empty()) {
    Status allowed = CheckActorsNotRevoked(revoked, station.id, c.sequence, Actors(c.envelope, c.enrollment, c.event));
    if (!allowed.ok()) return Rejected(c.sequence, allowed);
  }
  stored.emplace(c.sequence, c.hash);
  return {c.sequence, sync::Verdict::kAccepted, "", ""};
}

Status Ingest::Write(const RegisteredStation& station, const std::vector<const sync::Packet*>& packets,
                     const std::vector<const Checked*>& checked, std::string_view carried_by) {
  if (packets.empty()) return Status::Ok();
  const std::string now = FormatTimestamp(clock_.Now());
  std::vector<store::Value> inbox;
  for (size_t i = 0; i < packets.size(); ++i) {
    const Checked& c = *checked[i];
    inbox.insert(inbox.end(), {station.id, c.sequence, c.hash, sync::PacketKindName(c.envelope.kind),
                               packets[i]->envelope_text, packets[i]->signature, now});
  }
  RETURN_IF_ERROR(store::InsertRows(db_,
                                    "INSERT INTO inbox (station_id, sequence, content_sha256, kind, envelope, "
                                    "signature, received_at) VALUES ",
                                    7, inbox));
  if (!carried_by.empty()) RETURN_IF_ERROR(RecordCarriedOver(station, checked, carried_by, now));
  for (const KindHandler& handler : kKindHandlers) {
    std::vector<const Checked*> of_kind;
    for (const Checked* c : checked) {
      if (c->envelope.kind == handler.kind) of_kind.push_back(c);
    }
    if (!of_kind.empty()) RETURN_IF_ERROR((this->*handler.write)(station, of_kind));
  }
  return Status::Ok();
}

Status Ingest::WriteEnrollments(const RegisteredStation& station, std::span<const Checked* const> checked) {
  std::vector<store::DecidedRecord> records;
  for (const Checked* c : checked) {
    store::DecidedRecord& decided = records.emplace_back();
    decided.record.registration_number = c->enrollment.registration_number;
    decided.record.application_kind = c->enrollment.kind;
    decided.record.previous_nik = c->enrollment.previous_nik;
    decided.record.station_id = station.id;
    decided.record.state = c->outcome;
    decided.record.resident_json = c->resident_json;
    decided.record.failure_reason = c->reason;
    decided.created_by = "station:" + station.id + "/op:" + c->enrollment.operator_name;
    decided.decided_by = "central:ingest";
    decided.note = c->reason;
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, store::RecordRepository(db_, clock_).CreateDecided(records));
  std::vector<const enrollment::Enrollment*> enrollments;
  for (const Checked* c : checked) enrollments.push_back(&c->enrollment);
  RETURN_IF_ERROR(RecordEnrollmentOversight(db_, clock_, station.id, enrollments));
  std::vector<ReportedExceptions> exceptions;
  for (const Checked* c : checked) exceptions.push_back({&c->enrollment, c->excepted});
  RETURN_IF_ERROR(RecordFingerExceptions(db_, clock_, station.id, exceptions));
  std::vector<store::Value> biometrics;
  std::vector<int64_t> validated;
  std::vector<pipeline::QueuedFeedItem> feed;
  for (size_t i = 0; i < checked.size(); ++i) {
    const Checked& c = *checked[i];
    if (c.outcome == RecordState::kValidated) {
      ASSIGN_OR_RETURN(crypto::Bytes encrypted, pipeline::EncryptRecordBiometrics(keys_.biometrics, ids[i], c.biometrics));
      biometrics.insert(biometrics.end(), {ids[i], store::Blob(std::move(encrypted))});
      validated.push_back(ids[i]);
    }
    feed.push_back({station.id, c.feed});
  }
  RETURN_IF_ERROR(store::InsertRows(db_, "INSERT INTO record_biometrics (record_id, biometrics) VALUES ", 2, biometrics));
  // The capture quality the station recorded per finger (body version 3; none before).
  std::vector<store::Value> qualities;
  const std::string received_at = FormatTimestamp(clock_.Now());
  for (const Checked* c : checked) {
    for (const enrollment::FingerQuality& q : c->enrollment.finger_quality) {
      qualities.insert(qualities.end(), {c->enrollment.registration_number, int64_t{q.position}, int64_t{q.score}, received_at});
    }
  }
  RETURN_IF_ERROR(store::InsertRows(
      db_, "INSERT INTO enrollment_finger_quality (registration_number, position, score, received_at) VALUES ", 4,
      qualities));
  RETURN_IF_ERROR(pipeline::EnqueueJobs(db_, clock_, pipeline::kDemographicsStage, validated));
  return pipeline::QueueFeedItems(db_, clock_, feed);
}

StatusOr<sync::UploadResponse> Ingest::StoreBatch(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                                  std::vector<Checked>& checked, std::string_view carried_by) {
  sync::UploadResponse response;
  Status status = db_.Transact([&]() -> Status {
    response = {};
    ASSIGN_OR_RETURN(Stored stored, StoredHashes(station.id, checked));
    ASSIGN_OR_RETURN(std::vector<RevokedOperator> revoked, RevokedOperators(db_, station.id));
    std::vector<const sync::Packet*> accepted_packets;
    std::vector<const Checked*> accepted;
    for (size_t i = 0; i < packets.size(); ++i) {
      response.results.push_back(Judge(station, checked[i], stored, revoked));
      if (response.results.back().verdict == sync::Verdict::kAccepted) {
        accepted_packets.push_back(&packets[i]);
        accepted.push_back(&checked[i]);
      }
    }
    RETURN_IF_ERROR(Write(station, accepted_packets, accepted, carried_by));
    RETURN_IF_ERROR(AdvanceCursor(station.id));
    ASSIGN_OR_RETURN(response.cursor, Cursor(station.id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return response;
}

StatusOr<sync::UploadResponse> Ingest::StoreEach(const RegisteredStation& station, const std::vector<sync::Packet>& packets,
                                                 std::vector<Checked>& checked, std::string_view carried_by) {
  sync::UploadResponse response;
  for (size_t i = 0; i < packets.size(); ++i) {
    sync::PacketResult result;
    Status status = db_.Transact([&]() -> Status {
      ASSIGN_OR_RETURN(Stored stored, StoredHashes(station.id, std::span<const Checked>(&checked[i], 1)));
      ASSIGN_OR_RETURN(std::vector<RevokedOperator> revoked, RevokedOperators(db_, station.id));
      result = Judge(station, checked[i], stored, revoked);
      if (result.verdict != sync::Verdict::kAccepted) return Status::Ok();
      return Write(station, {&packets[i]}, {&checked[i]}, carried_by);
    });
    if (IsCentralFault(status)) return status;
    if (!status.ok()) result = Rejected(checked[i].sequence, status);
    response.results.push_back(std::move(result));
  }
  RETURN_IF_ERROR(AdvanceCursor(station.id));
  ASSIGN_OR_RETURN(response.cursor, Cursor(station.id));
  return response;
}

Status Ingest::CapturedBeforeRevocation(const RegisteredStation& station, const sync::Envelope& envelope) {
  auto created = ParseTimestamp(envelope.created_at);
  auto revoked = ParseTimestamp(station.revoked_at);
  if (!created.ok() || !revoked.ok() || *created >= *revoked) {
    return PermissionDenied("packet " + std::to_string(envelope.sequence) + " of station " + station.id +
                            " was created at " + envelope.created_at + ", not before the station was revoked at " +
                            station.revoked_at + "; only work captured before the revocation is carried over");
  }
  return Status::Ok();
}

Status Ingest::RecordCarriedOver(const RegisteredStation& station, const std::vector<const Checked*>& checked,
                                 std::string_view carried_by, const std::string& now) {
  if (checked.empty()) return Status::Ok();
  std::vector<store::Value> rows;
  nlohmann::json sequences = nlohmann::json::array();
  for (const Checked* c : checked) {
    rows.insert(rows.end(), {station.id, c->sequence, c->hash, carried_by, now});
    sequences.push_back(c->sequence);
  }
  RETURN_IF_ERROR(store::InsertRows(
      db_, "INSERT INTO carried_over (station_id, sequence, content_sha256, carried_by, carried_at) VALUES ", 5, rows));
  nlohmann::json detail = {{"carried_by", carried_by}, {"sequences", std::move(sequences)}};
  return store::AuditLog(db_, clock_).Append(
      {"station:" + std::string(carried_by), "station.carried_over", "station:" + station.id, detail.dump()});
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

void Ingest::DecodeStationEvent(const RegisteredStation& station, Checked& c) {
  auto decode = [&](auto parsed) {
    if (parsed.ok()) {
      c.event = std::move(*parsed);
    } else {
      c.content = parsed.status().WithContext(std::string(sync::PacketKindName(c.envelope.kind)));
    }
  };
  switch (c.envelope.kind) {
    case sync::PacketKind::kBlanksReceived: return decode(sync::BlanksReceivedFromJson(c.envelope.body));
    case sync::PacketKind::kCardPrinted: return decode(sync::CardPrintedFromJson(c.envelope.body));
    case sync::PacketKind::kBlankSpoiled: return decode(sync::BlankSpoiledFromJson(c.envelope.body));
    case sync::PacketKind::kCardMisprinted: return decode(sync::CardMisprintedFromJson(c.envelope.body));
    case sync::PacketKind::kCardsDispatched: return decode(sync::CardsDispatchedFromJson(c.envelope.body));
    case sync::PacketKind::kFingerprintChecked: return decode(sync::FingerprintCheckedFromJson(c.envelope.body));
    case sync::PacketKind::kPickupOverride: return decode(sync::PickupOverrideFromJson(c.envelope.body));
    case sync::PacketKind::kCardActivated: return decode(sync::CardActivatedFromJson(c.envelope.body));
    case sync::PacketKind::kSuketIssued: return decode(sync::SuketIssuedFromJson(c.envelope.body));
    case sync::PacketKind::kCardReturned: return decode(sync::CardReturnedFromJson(c.envelope.body));
    case sync::PacketKind::kEnrollment: break;
  }
  c.content = Internal("no station event decoder for packet kind " + std::string(sync::PacketKindName(c.envelope.kind)));
}

namespace {

// The print job a station's packet names, checked to be that station's job for that registration number.
StatusOr<printing::PrintJob> StationsJob(printing::PrintJobs& jobs, const RegisteredStation& station,
                                         std::string_view packet_kind, int64_t job_id,
                                         const std::string& registration_number) {
  ASSIGN_OR_RETURN(printing::PrintJob job, jobs.Get(job_id));
  if (job.station_id != station.id || job.registration_number != registration_number) {
    return FailedPrecondition(std::string(packet_kind) + ": print job " + std::to_string(job_id) + " is not " +
                              registration_number + "'s job at station " + station.id);
  }
  return job;
}

}  // namespace

Status Ingest::WriteStationEvents(const RegisteredStation& station, std::span<const Checked* const> checked) {
  blanks::BlankLedger ledger(db_, clock_);
  printing::PrintJobs jobs(db_, clock_);
  std::vector<pipeline::QueuedFeedItem> statuses;
  // The record's new state, to the station that enrolled it.
  auto queue_record_status = [&](int64_t record_id) -> Status {
    ASSIGN_OR_RETURN(store::Record record, store::RecordRepository(db_, clock_).Get(record_id));
    if (record.station_id.empty()) return Status::Ok();
    sync::RecordStatusBody body{record.registration_number, record.state, "", record.holder_nik};
    statuses.push_back(
        {record.station_id, sync::SignFeedItem({sync::FeedKind::kRecordStatus, std::move(body)}, keys_.signing)});
    return Status::Ok();
  };
  for (const Checked* c : checked) {
    const auto& event = c->event;
    if (const auto* received = std::get_if<sync::BlanksReceivedBody>(&event)) {
      RETURN_IF_ERROR(
          ledger.Receive(station.id, received->event_id, {received->first_serial, received->last_serial}).status());
    } else if (const auto* printed = std::get_if<sync::CardPrintedBody>(&event)) {
      ASSIGN_OR_RETURN(printing::PrintJob job,
                       StationsJob(jobs, station, "card_printed", printed->job_id, printed->registration_number));
      // The ledger first: it takes its lock before the audit head (blanks/ledger.h).
      RETURN_IF_ERROR(ledger.Consume(station.id, printed->event_id, printed->serial, job.record_id).status());
      ASSIGN_OR_RETURN(job, jobs.MarkPrinted(printed->job_id, station.id, printed->serial, printed->printed_at));
      if (job.state == printing::PrintJobState::kPrinted) RETURN_IF_ERROR(queue_record_status(job.record_id));
    } else if (const auto* misprinted = std::get_if<sync::CardMisprintedBody>(&event)) {
      ASSIGN_OR_RETURN(printing::PrintJob job, StationsJob(jobs, station, "card_misprinted", misprinted->job_id,
                                                           misprinted->registration_number));
      RETURN_IF_ERROR(
          ledger.Misprint(station.id, misprinted->event_id, misprinted->serial, job.record_id, misprinted->note)
              .status());
      ASSIGN_OR_RETURN(job, jobs.MarkMisprinted(misprinted->job_id, station.id, misprinted->serial));
      if (job.state == printing::PrintJobState::kReserved) RETURN_IF_ERROR(queue_record_status(job.record_id));
    } else if (const auto* manifest = std::get_if<sync::CardsDispatchedBody>(&event)) {
      RETURN_IF_ERROR(DispatchCards(db_, clock_, keys_, station, *manifest, statuses));
    } else if (const auto* check = std::get_if<sync::FingerprintCheckedBody>(&event)) {
      RETURN_IF_ERROR(RecordFingerprintCheck(db_, clock_, station, *check));
    } else if (const auto* override_body = std::get_if<sync::PickupOverrideBody>(&event)) {
      RETURN_IF_ERROR(RecordPickupOverride(db_, clock_, station, *override_body));
    } else if (const auto* activation = std::get_if<sync::CardActivatedBody>(&event)) {
      RETURN_IF_ERROR(ActivateCard(db_, clock_, keys_, station, *activation, statuses));
    } else if (const auto* suket = std::get_if<sync::SuketIssuedBody>(&event)) {
      RETURN_IF_ERROR(RecordSuketIssued(db_, clock_, station, *suket));
    } else if (const auto* returned = std::get_if<sync::CardReturnedBody>(&event)) {
      RETURN_IF_ERROR(ReturnUncollectedCard(db_, clock_, keys_, station, *returned, statuses));
    } else if (const auto* spoiled = std::get_if<sync::BlankSpoiledBody>(&event)) {
      ASSIGN_OR_RETURN(blanks::SpoilReason reason, blanks::ParseSpoilReason(spoiled->reason));
      int64_t record_id = 0;
      if (spoiled->job_id != 0) {
        ASSIGN_OR_RETURN(printing::PrintJob job, jobs.Get(spoiled->job_id));
        record_id = job.record_id;
      }
      RETURN_IF_ERROR(
          ledger.Spoil(station.id, spoiled->event_id, spoiled->serial, reason, spoiled->note, record_id).status());
    } else {
      return Internal("a station event packet reached its writer undecoded");
    }
  }
  return pipeline::QueueFeedItems(db_, clock_, statuses);
}

}  // namespace ektp::central
