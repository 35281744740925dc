#include "station/station.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/region.h"
#include "core/resident_json.h"

namespace ektp::station {
namespace {

// enrollments.status of an enrollment central has not reported on; its
// reports store the record state's name (feed_applier.cc).
constexpr std::string_view kStoredQueued = "queued";

constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::kOperator, "operator"},
    {Role::kSupervisor, "supervisor"},
    {Role::kPrintOfficer, "print_officer"},
    {Role::kAdmin, "admin"},
};

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}


std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Status CheckIdempotencyKey(std::string_view key) {
  const bool allowed = key.size() >= 16 && key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
  if (!allowed) return InvalidArgument("Idempotency-Key must be 16-128 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'");
  return Status::Ok();
}

// SHA-256 of the request as parsed, so that a retry matches whatever the
// order of its multipart parts or the spacing of its JSON.
std::string RequestSha256(const EnrollmentRequest& request) {
  nlohmann::json normalised = {
      {"kind", ApplicationKindName(request.kind)},
      {"previous_nik", request.previous_nik},
      {"resident", ResidentToJson(request.resident)},
      {"biometrics_sha256", crypto::Sha256Hex(enrollment::SerializeBiometrics(request.biometrics))},
  };
  return crypto::Sha256Hex(normalised.dump());
}

}  // namespace

std::string_view OutboxStateName(OutboxState state) {
  switch (state) {
    case OutboxState::kPending: return "pending";
    case OutboxState::kAcked: return "acked";
    case OutboxState::kParked: return "parked";
    case OutboxState::kAwaitingReview: return "awaiting_review";
  }
  return "?";
}

StatusOr<OutboxState> ParseOutboxState(std::string_view name) {
  for (OutboxState state : kAllOutboxStates) {
    if (OutboxStateName(state) == name) return state;
  }
  return InvalidArgument("outbox state '" + std::string(name) + "' is not pending, acked, parked or awaiting_review");
}

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "?";
}

StatusOr<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoles) {
    if (n == name) return r;
  }
  return InvalidArgument("role '" + std::string(name) + "' is not one of operator, supervisor, print_officer, admin");
}

Station::Station(store::Connection& db, const Clock& clock, const crypto::SigningKey& key, Identity identity,
                 LoginPolicy login_policy, PickupPolicy pickup_policy, EnrollmentPolicy enrollment_policy)
    : db_(db),
      clock_(clock),
      key_(key),
      identity_(std::move(identity)),
      login_policy_(std::move(login_policy)),
      accounts_(db, clock, login_policy_,
                [this](std::string_view actor, std::string_view action, std::string_view detail) {
                  return Audit(actor, action, detail);
                }),
      pickup_policy_(pickup_policy),
      enrollment_policy_(std::move(enrollment_policy)) {}

Status Station::SaveIdentity(store::Connection& db, const Identity& identity, const Clock& clock) {
  return db.Exec(
      "INSERT INTO identity (singleton, station_id, kecamatan_code, kind, capabilities, central_urls, "
      "central_signing_key, central_sealing_key, registered_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
      {identity.station_id, identity.kecamatan_code, identity.kind, Join(identity.capabilities),
       Join(identity.central_urls), identity.central_signing_key, identity.central_sealing_key,
       FormatTimestamp(clock.Now())});
}

StatusOr<Identity> Station::LoadIdentity(store::Connection& db) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT station_id, kecamatan_code, kind, capabilities, central_urls, "
                                       "central_signing_key, central_sealing_key FROM identity"));
  if (rows.empty()) return FailedPrecondition("this station is not registered yet; run `ektp station init`");
  Identity identity;
  identity.station_id = rows[0].Text(0);
  identity.kecamatan_code = rows[0].Text(1);
  identity.kind = rows[0].Text(2);
  identity.capabilities = Split(rows[0].Text(3));
  identity.central_urls = Split(rows[0].Text(4));
  identity.central_signing_key = rows[0].Bytes(5);
  identity.central_sealing_key = rows[0].Bytes(6);
  return identity;
}

Status Station::AddOperator(const Operator& op, std::string_view password, crypto::PasswordStrength strength) {
  return accounts_.Add({op.username, op.full_name, std::string(RoleName(op.role))}, password, strength);
}

StatusOr<std::string> Station::Login(std::string_view username, std::string_view password,
                                     std::string_view address) {
  return accounts_.Login(username, password, address);
}

StatusOr<LoginAttempt> Station::BeginLogin(std::string_view username, std::string_view address) {
  return accounts_.BeginLogin(username, address);
}

void Station::PrepareLogin() const { accounts_.PrepareLogin(); }

bool Station::CheckPassword(const LoginAttempt& attempt, std::string_view password) const {
  return accounts_.CheckPassword(attempt, password);
}

StatusOr<std::string> Station::FinishLogin(const LoginAttempt& attempt, bool password_ok) {
  return accounts_.FinishLogin(attempt, password_ok);
}

Status Station::Logout(std::string_view session_token) { return accounts_.Logout(session_token); }

StatusOr<Operator> Station::Authenticate(std::string_view session_token) {
  ASSIGN_OR_RETURN(accounts::Account account, accounts_.Authenticate(session_token));
  ASSIGN_OR_RETURN(Role role, ParseRole(account.role));
  return Operator{account.username, account.full_name, role};
}

StatusOr<Receipt> Station::Enroll(const Operator& op, const EnrollmentRequest& request,
                                  std::string_view idempotency_key, EnrollRefusal* refusal) {
  if (op.role == Role::kPrintOfficer) return PermissionDenied("a print officer may not record enrollments");
  if (std::find(identity_.capabilities.begin(), identity_.capabilities.end(), "enroll") == identity_.capabilities.end()) {
    return PermissionDenied("station " + identity_.station_id + " is not configured to enroll");
  }
  std::string request_sha256;
  if (!idempotency_key.empty()) {
    RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key));
    request_sha256 = RequestSha256(request);
    // Before validation: a retry is answered as the first request was, even
    // when a rule that depends on the date would now judge it differently.
    ASSIGN_OR_RETURN(auto seen, db_.Query("SELECT request_sha256, registration_number FROM enrollment_keys "
                                          "WHERE idempotency_key = ?",
                                          {idempotency_key}));
    if (!seen.empty()) {
      if (seen[0].Text(0) != request_sha256) {
        return FailedPrecondition("Idempotency-Key " + std::string(idempotency_key) +
                                  " was already used for a different application; use a new key for each application");
      }
      ASSIGN_OR_RETURN(Receipt receipt, GetReceipt(seen[0].Text(1)));
      receipt.replayed = true;
      return receipt;
    }
  }
  ASSIGN_OR_RETURN(std::optional<UnsyncedLimitRefusal> limit, CheckUnsyncedLimits());
  if (limit) return FailedPrecondition(limit->error);
  const bool review = enrollment_policy_.review_required;
  if (review && enrollment_policy_.review_copy_key.size() != crypto::kBoxPublicKeySize) {
    return FailedPrecondition("review is required but station " + identity_.station_id +
                              " has no box key (station-box.key) to keep the reviewer's copy");
  }
  if (request.location) RETURN_IF_ERROR(enrollment::ValidateLocation(*request.location));
  enrollment::Enrollment e;
  e.location = request.location;
  e.station_id = identity_.station_id;
  e.operator_name = op.username;
  e.captured_at = FormatTimestamp(clock_.Now());
  e.kind = request.kind;
  e.previous_nik = request.previous_nik;
  e.resident = request.resident;
  RETURN_IF_ERROR(enrollment::ValidateApplication(e, RegionRegistry::Default(), clock_.TodayWib()));
  RETURN_IF_ERROR(CheckFingerExceptions(request, refusal));
  RETURN_IF_ERROR(enrollment::ValidateBiometrics(request.biometrics));
  if (auto quality = enrollment::CheckCaptureQuality(request.biometrics, enrollment_policy_.min_capture_quality)) {
    return InvalidArgument(quality->error);
  }
  RETURN_IF_ERROR(CheckNotSelfEnrollment(op, request.biometrics));
  ASSIGN_OR_RETURN(e.exception_approval, ApproveFingerExceptions(op, request, refusal));
  e.finger_quality = enrollment::AssessFingerQuality(request.biometrics);
  e.sealed_biometrics = crypto::Seal(identity_.central_sealing_key, enrollment::SerializeBiometrics(request.biometrics));

  Receipt receipt;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto next, db_.Query("SELECT COALESCE(MAX(local_sequence), 0) + 1 FROM enrollments"));
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), "%06lld", static_cast<long long>(next[0].Int(0)));
    e.registration_number = identity_.station_id + "-" + suffix;
    RETURN_IF_ERROR(db_.Exec("INSERT INTO enrollments (local_sequence, registration_number, operator, application_kind, "
                             "resident_json, status, created_at, updated_at, location_json) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             {next[0].Int(0), e.registration_number, op.username, ApplicationKindName(e.kind),
                              ResidentToJson(e.resident).dump(), kStoredQueued, e.captured_at, e.captured_at,
                              e.location ? store::Value(enrollment::LocationToJson(*e.location).dump()) : store::Value()}));
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kEnrollment, e.registration_number, enrollment::EnrollmentToJson(e),
                                e.captured_at, review ? OutboxState::kAwaitingReview : OutboxState::kPending));
    if (review) {
      // What the reviewer looks at: everything but the templates, sealed to this station's box key.
      enrollment::Biometrics copy = request.biometrics;
      for (enrollment::FingerCapture& finger : copy.fingers) finger.template_bytes.clear();
      RETURN_IF_ERROR(db_.Exec("INSERT INTO enrollment_reviews (registration_number, review_copy, state, created_at) "
                               "VALUES (?, ?, 'awaiting', ?)",
                               {e.registration_number,
                                store::Blob(crypto::Seal(enrollment_policy_.review_copy_key,
                                                         enrollment::SerializeBiometrics(copy))),
                                e.captured_at}));
    }
    if (!idempotency_key.empty()) {
      RETURN_IF_ERROR(db_.Exec("DELETE FROM enrollment_keys WHERE created_at < ?",
                               {FormatTimestamp(clock_.Now() - kIdempotencyRetention)}));
      RETURN_IF_ERROR(db_.Exec("INSERT INTO enrollment_keys (idempotency_key, request_sha256, registration_number, "
                               "created_at) VALUES (?, ?, ?, ?)",
                               {idempotency_key, request_sha256, e.registration_number, e.captured_at}));
    }
    RETURN_IF_ERROR(Audit(op.username, "enroll", e.registration_number));
    if (e.exception_approval) {
      // The approving session served this approval alone.
      RETURN_IF_ERROR(accounts_.Logout(request.exception_approval_session));
      RETURN_IF_ERROR(Audit(e.exception_approval->approver, "finger_exception_approve",
                            e.registration_number + " fingers " +
                                enrollment::ExceptedFingersText(e.exception_approval->fingers) + " operator " +
                                op.username));
    }
    receipt = Receipt{e.registration_number, identity_.station_id, op.username, e.resident.name,
                      std::string(ApplicationKindName(e.kind)), e.captured_at};
    return Status::Ok();
  }));
  return receipt;
}

StatusOr<Receipt> Station::GetReceipt(std::string_view registration_number) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT registration_number, operator, resident_json, application_kind, "
                                        "created_at FROM enrollments WHERE registration_number = ?",
                                        {registration_number}));
  if (rows.empty()) return NotFound("no enrollment " + std::string(registration_number) + " at this station");
  auto resident = nlohmann::json::parse(rows[0].Text(2), nullptr, false);
  return Receipt{rows[0].Text(0), identity_.station_id, rows[0].Text(1), resident.value("name", ""), rows[0].Text(3),
                 rows[0].Text(4)};
}

StatusOr<EnrollmentStatus> Station::GetEnrollmentStatus(std::string_view registration_number) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT e.status, COALESCE(e.status_reason, ''), o.state, "
                                        "COALESCE(o.last_error, ''), COALESCE(e.nik, '') FROM enrollments e "
                                        "LEFT JOIN outbox o "
                                        "ON o.reference = e.registration_number WHERE e.registration_number = ?",
                                        {registration_number}));
  if (rows.empty()) return NotFound("no enrollment " + std::string(registration_number) + " at this station");
  EnrollmentStatus status;
  status.registration_number = std::string(registration_number);
  status.reason = rows[0].Text(1);
  status.nik = rows[0].Text(4);
  const std::string stored = rows[0].Text(0);
  if (rows[0].Text(2) == OutboxStateName(OutboxState::kAwaitingReview)) {
    status.stage = EnrollmentStage::kAwaitingReview;
  } else if (rows[0].Text(2) == OutboxStateName(OutboxState::kParked)) {
    status.stage = EnrollmentStage::kParked;
    status.reason = rows[0].Text(3);
  } else if (stored == kStoredQueued) {
    status.stage =
        rows[0].Text(2) == OutboxStateName(OutboxState::kAcked) ? EnrollmentStage::kSent : EnrollmentStage::kQueued;
  } else if (auto state = RecordStateFromName(stored)) {
    status.stage = EnrollmentStage::kAtCentral;
    status.record_state = *state;
  } else {
    return DataLoss("enrollment " + std::string(registration_number) + " has unknown status '" + stored + "'");
  }
  return status;
}

std::string_view EnrollmentStatusName(const EnrollmentStatus& status) {
  switch (status.stage) {
    case EnrollmentStage::kAwaitingReview: return OutboxStateName(OutboxState::kAwaitingReview);
    case EnrollmentStage::kQueued: return kStoredQueued;
    case EnrollmentStage::kSent: return "sent";
    case EnrollmentStage::kParked: return "parked";
    case EnrollmentStage::kAtCentral: return RecordStateName(status.record_state);
  }
  return "?";
}

StatusOr<std::vector<std::pair<int64_t, sync::Packet>>> Station::PendingPackets(int limit, size_t max_bytes) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sequence, envelope, signature FROM outbox WHERE state = ? "
                                        "ORDER BY sequence LIMIT ?",
                                        {OutboxStateName(OutboxState::kPending), limit}));
  std::vector<std::pair<int64_t, sync::Packet>> packets;
  size_t bytes = 0;
  for (const store::Row& row : rows) {
    sync::Packet packet{row.Text(1), row.Bytes(2)};
    if (!packets.empty() && bytes + packet.envelope_text.size() > max_bytes) break;
    bytes += packet.envelope_text.size();
    packets.emplace_back(row.Int(0), std::move(packet));
  }
  return packets;
}

Status Station::Settle(int64_t sequence, OutboxState to, std::string_view error) {
  return db_.Exec("UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error), settled_at = ?, "
                  "attempts = attempts + 1 WHERE sequence = ? AND state = ?",
                  {OutboxStateName(to), error.empty() ? store::Value() : store::Value(error),
                   FormatTimestamp(clock_.Now()), sequence, OutboxStateName(OutboxState::kPending)});
}

Status Station::ApplyVerdicts(const sync::UploadResponse& response) {
  return db_.Transact([&]() -> Status {
    for (const sync::PacketResult& result : response.results) {
      if (result.verdict == sync::Verdict::kRejected) {
        RETURN_IF_ERROR(Settle(result.sequence, OutboxState::kParked, result.error));
      } else {
        RETURN_IF_ERROR(Settle(result.sequence, OutboxState::kAcked, ""));
      }
    }
    return Status::Ok();
  });
}

Status Station::Park(int64_t sequence, std::string_view reason) {
  return Settle(sequence, OutboxState::kParked, reason);
}

Status Station::NoteAttemptFailed(const std::vector<int64_t>& sequences, std::string_view error) {
  return db_.Transact([&]() -> Status {
    for (int64_t sequence : sequences) {
      RETURN_IF_ERROR(db_.Exec("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE sequence = ? AND "
                               "state = ?",
                               {error, sequence, OutboxStateName(OutboxState::kPending)}));
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<OutboxEntry>> Station::Outbox(std::optional<OutboxState> state, int limit) {
  const std::string filter = state ? std::string(OutboxStateName(*state)) : "";
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sequence, kind, reference, state, attempts, COALESCE(last_error, ''), "
                                        "created_at FROM outbox WHERE ? = '' OR state = ? ORDER BY sequence DESC LIMIT ?",
                                        {filter, filter, limit}));
  std::vector<OutboxEntry> entries;
  for (const store::Row& row : rows) {
    auto stored = ParseOutboxState(row.Text(3));
    if (!stored.ok()) return DataLoss("outbox entry " + std::to_string(row.Int(0)) + ": " + stored.status().message());
    entries.push_back({row.Int(0), row.Text(1), row.Text(2), *stored, static_cast<int>(row.Int(4)), row.Text(5),
                       row.Text(6)});
  }
  return entries;
}

StatusOr<int64_t> Station::CountOutbox(OutboxState state) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT COUNT(*) FROM outbox WHERE state = ?", {OutboxStateName(state)}));
  return rows[0].Int(0);
}

namespace {
StatusOr<std::optional<TimePoint>> FirstTimestamp(const std::vector<store::Row>& rows) {
  if (rows.empty()) return std::optional<TimePoint>();
  ASSIGN_OR_RETURN(TimePoint at, ParseTimestamp(rows[0].Text(0)));
  return std::optional<TimePoint>(at);
}
}  // namespace

StatusOr<std::optional<TimePoint>> Station::OldestPendingAt() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT created_at FROM outbox WHERE state = ? ORDER BY sequence LIMIT 1",
                                        {OutboxStateName(OutboxState::kPending)}));
  return FirstTimestamp(rows);
}

Status Station::RecordSyncSuccess(TimePoint at) {
  return db_.Exec("INSERT INTO sync_state (singleton, last_success_at) VALUES (1, ?) "
                  "ON CONFLICT (singleton) DO UPDATE SET last_success_at = excluded.last_success_at",
                  {FormatTimestamp(at)});
}

StatusOr<std::optional<TimePoint>> Station::LastSyncSuccess() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT last_success_at FROM sync_state WHERE singleton = 1"));
  return FirstTimestamp(rows);
}

Status Station::QueuePacket(sync::PacketKind kind, std::string_view reference, std::string body,
                            const std::string& at, OutboxState state) {
  ASSIGN_OR_RETURN(auto seq, db_.Query("SELECT COALESCE(MAX(sequence), 0) + 1 FROM outbox"));
  sync::Envelope envelope{sync::kEnvelopeVersion, identity_.station_id, seq[0].Int(0), kind, at, std::move(body)};
  sync::Packet packet = sync::SignEnvelope(envelope, key_);
  return db_.Exec("INSERT INTO outbox (sequence, kind, reference, envelope, signature, state, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  {envelope.sequence, sync::PacketKindName(kind), reference, packet.envelope_text, packet.signature,
                   OutboxStateName(state), at});
}

Status Station::Audit(std::string_view op, std::string_view action, std::string_view subject) {
  return db_.Exec("INSERT INTO audit (operator, action, subject, at) VALUES (?, ?, ?, ?)",
                  {op, action, subject, FormatTimestamp(clock_.Now())});
}

}  // namespace ektp::station
