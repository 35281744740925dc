// Supervisor review before upload, and the limits on unsynced work
// (station.h, EnrollmentPolicy; docs/operations.md, "Supervisor review" and
// "Limits on unsynced work").
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "station/station.h"

namespace ektp::station {
namespace {

constexpr size_t kMaxRejectReasonBytes = 500;

// How to sync, for both refusals of the limits.
constexpr std::string_view kHowToSync =
    "sync first: connect the station to the network and the outbox uploads by itself, or run `ektp station export "
    "--dir <data dir> --to <USB folder>`, have central run `ektp central import` on it and apply the receipt with "
    "`ektp station import-receipt`";
constexpr std::string_view kHowToSyncPesan =
    "Kirim dulu ke pusat: sambungkan stasiun ke jaringan agar terkirim otomatis, atau ekspor ke diska USB dengan "
    "`ektp station export --dir <folder data> --to <folder USB>`, bawa ke pusat untuk `ektp central import`, lalu "
    "terapkan tanda terimanya di sini dengan `ektp station import-receipt`.";

}  // namespace

StatusOr<std::optional<UnsyncedLimitRefusal>> Station::CheckUnsyncedLimits() {
  const EnrollmentPolicy& policy = enrollment_policy_;
  if (policy.max_unsynced_enrollments <= 0 && policy.max_unsynced_age_hours <= 0) return std::optional<UnsyncedLimitRefusal>();
  const std::string awaiting(OutboxStateName(OutboxState::kAwaitingReview));
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT COUNT(*), COALESCE(MIN(created_at), ''), "
                                        "COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0) FROM outbox "
                                        "WHERE kind = ? AND state IN (?, ?)",
                                        {awaiting, sync::PacketKindName(sync::PacketKind::kEnrollment),
                                         OutboxStateName(OutboxState::kPending), awaiting}));
  const int64_t unsynced = rows[0].Int(0), awaiting_review = rows[0].Int(2);
  const std::string oldest = rows[0].Text(1);
  std::string error, pesan;
  if (policy.max_unsynced_enrollments > 0 && unsynced >= policy.max_unsynced_enrollments) {
    error = "this station holds " + std::to_string(unsynced) + " enrollments not yet synced to central (the limit is " +
            std::to_string(policy.max_unsynced_enrollments) + ")";
    pesan = "Perekaman baru ditolak: stasiun ini menyimpan " + std::to_string(unsynced) +
            " perekaman yang belum terkirim ke pusat (batas " + std::to_string(policy.max_unsynced_enrollments) + ").";
  } else if (policy.max_unsynced_age_hours > 0 && !oldest.empty() &&
             oldest < FormatTimestamp(clock_.Now() - std::chrono::hours(policy.max_unsynced_age_hours))) {
    error = "the oldest enrollment not yet synced to central was captured at " + oldest + ", more than " +
            std::to_string(policy.max_unsynced_age_hours) + " hours ago (the limit)";
    pesan = "Perekaman baru ditolak: perekaman tertua yang belum terkirim ke pusat direkam pada " + oldest +
            ", lebih dari " + std::to_string(policy.max_unsynced_age_hours) + " jam yang lalu (batas).";
  } else {
    return std::optional<UnsyncedLimitRefusal>();
  }
  error = "enrollment refused: " + error + "; " + std::string(kHowToSync);
  pesan += " " + std::string(kHowToSyncPesan);
  if (awaiting_review > 0) {
    error += "; " + std::to_string(awaiting_review) +
             " of them wait for a supervisor's review first (`ektp station review list`)";
    pesan += " " + std::to_string(awaiting_review) +
             " di antaranya masih menunggu tinjauan penyelia; minta penyelia memeriksanya lebih dulu.";
  }
  return std::optional<UnsyncedLimitRefusal>(UnsyncedLimitRefusal{std::move(error), std::move(pesan)});
}

StatusOr<std::vector<AwaitingReview>> Station::AwaitingReviews(const crypto::SealingKey& box_key) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT r.registration_number, o.envelope, r.review_copy FROM enrollment_reviews r "
                                        "JOIN outbox o ON o.reference = r.registration_number AND o.kind = ? "
                                        "WHERE o.state = ? ORDER BY o.sequence",
                                        {sync::PacketKindName(sync::PacketKind::kEnrollment),
                                         OutboxStateName(OutboxState::kAwaitingReview)}));
  std::vector<AwaitingReview> out;
  for (const store::Row& row : rows) {
    auto damaged = [&](const Status& status) {
      return DataLoss("enrollment " + row.Text(0) + " awaiting review cannot be read: " + status.message());
    };
    auto envelope = sync::ParseEnvelope(row.Text(1));
    if (!envelope.ok()) return damaged(envelope.status());
    auto enrollment = enrollment::EnrollmentFromJson(envelope->body);
    if (!enrollment.ok()) return damaged(enrollment.status());
    auto opened = box_key.Open(row.Bytes(2));
    if (!opened.ok()) return damaged(opened.status());
    auto copy = enrollment::ParseBiometrics(*opened);
    if (!copy.ok()) return damaged(copy.status());
    out.push_back({std::move(*enrollment), std::move(*copy)});
  }
  return out;
}

StatusOr<int64_t> Station::ReviewableSequence(const Operator& supervisor, std::string_view registration_number,
                                              std::string_view decision) {
  if (supervisor.role != Role::kSupervisor) {
    return PermissionDenied("account " + supervisor.username + " is " + std::string(RoleName(supervisor.role)) +
                            ", not a supervisor; only a supervisor may " + std::string(decision) + " enrollments");
  }
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT o.sequence, o.state, e.operator, COALESCE(r.reviewer, ''), "
                                        "COALESCE(r.state, ''), COALESCE(r.decided_at, '') FROM enrollments e "
                                        "JOIN outbox o ON o.reference = e.registration_number AND o.kind = ? "
                                        "LEFT JOIN enrollment_reviews r ON r.registration_number = e.registration_number "
                                        "WHERE e.registration_number = ?",
                                        {sync::PacketKindName(sync::PacketKind::kEnrollment), registration_number}));
  if (rows.empty()) return NotFound("no enrollment " + QuoteInput(registration_number) + " at this station");
  const std::string reg(registration_number);
  if (rows[0].Text(1) != OutboxStateName(OutboxState::kAwaitingReview)) {
    if (!rows[0].Text(3).empty()) {
      return FailedPrecondition("enrollment " + reg + " was already " + rows[0].Text(4) + " by " + rows[0].Text(3) +
                                " at " + rows[0].Text(5));
    }
    return FailedPrecondition("enrollment " + reg + " is not awaiting review (it is " + rows[0].Text(1) + ")");
  }
  if (decision == "approve" && rows[0].Text(2) == supervisor.username) {
    return PermissionDenied("supervisor " + supervisor.username + " recorded enrollment " + reg +
                            " and may not approve it; another supervisor must review it (four eyes)");
  }
  return rows[0].Int(0);
}

Status Station::ApproveEnrollment(const Operator& supervisor, std::string_view registration_number) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t sequence, ReviewableSequence(supervisor, registration_number, "approve"));
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT envelope FROM outbox WHERE sequence = ?", {sequence}));
    ASSIGN_OR_RETURN(sync::Envelope envelope, sync::ParseEnvelope(rows[0].Text(0)));
    ASSIGN_OR_RETURN(enrollment::Enrollment e, enrollment::EnrollmentFromJson(envelope.body));
    const std::string now = FormatTimestamp(clock_.Now());
    e.review = enrollment::ReviewApproval{supervisor.username, now};
    envelope.body = enrollment::EnrollmentToJson(e);
    // Signed again with the decision in it; the first signature never left the station.
    sync::Packet packet = sync::SignEnvelope(envelope, key_);
    RETURN_IF_ERROR(db_.Exec("UPDATE outbox SET envelope = ?, signature = ?, state = ? WHERE sequence = ? AND state = ?",
                             {packet.envelope_text, packet.signature, OutboxStateName(OutboxState::kPending), sequence,
                              OutboxStateName(OutboxState::kAwaitingReview)}));
    RETURN_IF_ERROR(db_.Exec("UPDATE enrollment_reviews SET state = 'approved', reviewer = ?, decided_at = ?, "
                             "review_copy = NULL WHERE registration_number = ?",
                             {supervisor.username, now, registration_number}));
    return Audit(supervisor.username, "review_approve", registration_number);
  });
}

Status Station::RejectEnrollment(const Operator& supervisor, std::string_view registration_number,
                                 std::string_view reason) {
  const std::string trimmed(Trim(reason));
  if (trimmed.empty()) {
    return InvalidArgument("a rejection needs a reason the operator can act on (e.g. \"photo is blurred; enroll again\")");
  }
  if (trimmed.size() > kMaxRejectReasonBytes) {
    return InvalidArgument("the rejection reason is " + std::to_string(trimmed.size()) + " bytes; the limit is " +
                           std::to_string(kMaxRejectReasonBytes));
  }
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t sequence, ReviewableSequence(supervisor, registration_number, "reject"));
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE outbox SET state = ?, last_error = ?, settled_at = ? WHERE sequence = ? AND state = ?",
                             {OutboxStateName(OutboxState::kParked),
                              "rejected at review by " + supervisor.username + ": " + trimmed, now, sequence,
                              OutboxStateName(OutboxState::kAwaitingReview)}));
    RETURN_IF_ERROR(db_.Exec("UPDATE enrollment_reviews SET state = 'rejected', reviewer = ?, decided_at = ?, "
                             "reason = ?, review_copy = NULL WHERE registration_number = ?",
                             {supervisor.username, now, trimmed, registration_number}));
    return Audit(supervisor.username, "review_reject", std::string(registration_number) + ": " + trimmed);
  });
}

}  // namespace ektp::station
