#include "printing/print_queue.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "core/application.h"
#include "core/lifecycle.h"
#include "core/region.h"
#include "core/resident.h"
#include "core/resident_json.h"
#include "crypto/crypto.h"
#include "store/record_repository.h"
#include "store/audit_log.h"

namespace ektp::printing {
namespace {

struct BuiltIn {
  std::string_view code;
  std::string_view label;
};
constexpr BuiltIn kBuiltInReasons[] = {
    {kTravelAbroad, "perjalanan ke luar negeri"},
    {kStudyAbroad, "studi ke luar negeri"},
    {kSeafarer, "pelaut (awak kapal)"},
    {kDisasterVictim, "korban bencana"},
};

constexpr std::string_view kUrgentColumns =
    "u.id, u.record_id, r.registration_number, u.reason, u.evidence, u.requested_by, u.requested_at, u.status, "
    "u.decided_by, u.decided_at, u.decision_note";

StatusOr<UrgentStatus> ParseUrgentStatus(std::string_view name) {
  for (UrgentStatus status : {UrgentStatus::kPending, UrgentStatus::kApproved, UrgentStatus::kRejected}) {
    if (UrgentStatusName(status) == name) return status;
  }
  return DataLoss("unknown urgent request status '" + std::string(name) + "'");
}

StatusOr<UrgentRequest> ToUrgentRequest(const store::Row& row) {
  UrgentRequest request;
  request.id = row.Int(0);
  request.record_id = row.Int(1);
  request.registration_number = row.Text(2);
  request.reason = row.Text(3);
  request.evidence = row.Text(4);
  request.requested_by = row.Text(5);
  request.requested_at = row.Text(6);
  ASSIGN_OR_RETURN(request.status, ParseUrgentStatus(row.Text(7)));
  request.decided_by = row.Text(8);
  request.decided_at = row.Text(9);
  request.decision_note = row.Text(10);
  return request;
}

Status CheckRegencyCode(std::string_view code) {
  auto level = LevelOfCode(code);
  if (!level.ok() || *level != RegionLevel::kRegency) {
    return InvalidArgument("'" + std::string(code) + "' is not a regency code like 35.21");
  }
  return Status::Ok();
}

bool ValidReasonCode(std::string_view code) {
  if (code.empty() || code.size() > 40) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The queued, still print_ready records of one regency with their tiers:
// tier_urgent 0 for an approved urgent case, tier_policy 0 when the policy
// prioritises the record. Parameters: now (Suket validity), regency.
std::string KeyedQueueSql(const QueuePolicy& policy) {
  const std::string first17 = policy.first_card_at_17 ? "q.first_card_at_17 = 1" : "1 = 0";
  const std::string suket = policy.suket_holders ? "s.record_id IS NOT NULL" : "1 = 0";
  return "SELECT q.record_id, r.registration_number, q.ready_at, q.first_card_at_17, "
         "CASE WHEN s.record_id IS NULL THEN 0 ELSE 1 END AS suket, u.reason, u.decided_by, u.decided_at, "
         "CASE WHEN u.id IS NULL THEN 1 ELSE 0 END AS tier_urgent, "
         "CASE WHEN (" + first17 + ") OR (" + suket + ") THEN 0 ELSE 1 END AS tier_policy "
         "FROM print_queue q "
         "JOIN records r ON r.id = q.record_id AND r.state IN " + store::SqlStateList({RecordState::kPrintReady}) + " "
         "LEFT JOIN print_urgent_requests u ON u.record_id = q.record_id AND u.status = 'approved' "
         "LEFT JOIN suket_holders s ON s.record_id = q.record_id AND s.revoked_at IS NULL AND s.valid_until > ? "
         "WHERE q.regency_code = ?";
}

constexpr std::string_view kQueueOrder = "tier_urgent, tier_policy, ready_at, record_id";

std::string Explain(const std::vector<PlaceReason>& reasons, const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const PlaceReason& reason : reasons) {
    if (!out.empty()) out += "; lalu ";
    if (reason.code == "urgent") {
      auto label = labels.find(reason.detail);
      out += "mendesak: " + (label == labels.end() ? reason.detail : label->second) + ", disetujui oleh " +
             reason.by + " pada " + reason.at;
    } else if (reason.code == "first_card_at_17") {
      out += "kartu pertama usia 17 tahun (prioritas kebijakan)";
    } else if (reason.code == "suket_holder") {
      out += "pemegang Suket (prioritas kebijakan)";
    } else {
      out += "menunggu sejak " + reason.at;
    }
  }
  return out;
}

}  // namespace

std::string_view UrgentStatusName(UrgentStatus status) {
  switch (status) {
    case UrgentStatus::kPending: return "pending";
    case UrgentStatus::kApproved: return "approved";
    case UrgentStatus::kRejected: return "rejected";
  }
  return "?";
}

StatusOr<std::string> RegencyOfResidentJson(std::string_view resident_json) {
  auto json = nlohmann::json::parse(resident_json, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("address") || !json["address"].is_object() ||
      !json["address"].value("village_code", nlohmann::json()).is_string()) {
    return DataLoss("resident_json has no address.village_code");
  }
  const std::string village = json["address"]["village_code"].get<std::string>();
  auto level = LevelOfCode(village);
  if (!level.ok() || *level != RegionLevel::kVillage) {
    return DataLoss("address.village_code '" + village + "' is not a village code");
  }
  return std::string(ParentCode(ParentCode(village)));
}

Status PrintQueue::Enqueue(int64_t record_id, std::string_view actor) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT state, application_kind, resident_json FROM records WHERE id = ?",
                                          {record_id}));
    if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " does not exist");
    if (rows[0].Text(0) != RecordStateName(RecordState::kPrintReady)) {
      return FailedPrecondition("record " + std::to_string(record_id) + " is " + rows[0].Text(0) +
                                ", not print_ready");
    }
    ASSIGN_OR_RETURN(ApplicationKind kind, ParseApplicationKind(rows[0].Text(1)));
    const std::string resident_json = rows[0].Text(2);
    ASSIGN_OR_RETURN(std::string regency, RegencyOfResidentJson(resident_json));
    bool first_card_at_17 = false;
    if (kind == ApplicationKind::kFirstCard) {
      auto json = nlohmann::json::parse(resident_json, nullptr, false);
      auto born = ParseIsoDate("birth_date", json.value("birth_date", ""));
      if (!born.ok()) return DataLoss("record " + std::to_string(record_id) + ": " + born.status().message());
      first_card_at_17 = AgeOn(*born, clock_.TodayWib()) == 17;
    }
    return db_.Exec("INSERT INTO print_queue (record_id, regency_code, ready_at, first_card_at_17, enqueued_by) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_id) DO NOTHING",
                    {record_id, regency, FormatTimestamp(clock_.Now()), first_card_at_17 ? 1 : 0, actor});
  });
}

StatusOr<std::vector<QueueEntry>> PrintQueue::List(std::string_view regency_code, int limit, int offset) {
  RETURN_IF_ERROR(CheckRegencyCode(regency_code));
  if (limit < 1 || offset < 0) return InvalidArgument("limit must be >= 1 and offset >= 0");
  std::vector<QueueEntry> entries;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    entries.clear();
    ASSIGN_OR_RETURN(QueuePolicy policy, Policy(regency_code));
    ASSIGN_OR_RETURN(auto reasons, UrgentReasons());
    std::map<std::string, std::string> labels;
    for (const UrgentReason& reason : reasons) labels[reason.code] = reason.label;
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT * FROM (" + KeyedQueueSql(policy) + ") k ORDER BY " +
                                              std::string(kQueueOrder) + " LIMIT ? OFFSET ?",
                                          {FormatTimestamp(clock_.Now()), regency_code, limit, offset}));
    for (const store::Row& row : rows) {
      QueueEntry entry;
      entry.position = offset + static_cast<int64_t>(entries.size()) + 1;
      entry.record_id = row.Int(0);
      entry.registration_number = row.Text(1);
      entry.ready_at = row.Text(2);
      if (row.Int(8) == 0) entry.reasons.push_back({"urgent", row.Text(5), row.Text(6), row.Text(7)});
      if (row.Int(9) == 0) {
        if (policy.first_card_at_17 && row.Int(3) == 1) entry.reasons.push_back({"first_card_at_17", "", "", ""});
        if (policy.suket_holders && row.Int(4) == 1) entry.reasons.push_back({"suket_holder", "", "", ""});
      }
      entry.reasons.push_back({"waiting", entry.ready_at, "", entry.ready_at});
      entry.explanation = Explain(entry.reasons, labels);
      entries.push_back(std::move(entry));
    }
    return Status::Ok();
  }));
  return entries;
}

StatusOr<QueuePosition> PrintQueue::PositionIn(std::string_view regency_code, int64_t record_id) {
  QueuePosition result;
  result.regency_code = std::string(regency_code);
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(QueuePolicy policy, Policy(regency_code));
    // The first row is fetched too, so the total is known when the record is absent.
    ASSIGN_OR_RETURN(auto rows,
                     db_.Query("SELECT record_id, pos, total FROM (SELECT record_id, ROW_NUMBER() OVER (ORDER BY " +
                                   std::string(kQueueOrder) + ") AS pos, COUNT(*) OVER () AS total FROM (" +
                                   KeyedQueueSql(policy) + ") k) o WHERE record_id = ? OR pos = 1",
                               {FormatTimestamp(clock_.Now()), regency_code, record_id}));
    result.position = 0;
    result.queued = rows.empty() ? 0 : rows[0].Int(2);
    for (const store::Row& row : rows) {
      if (row.Int(0) == record_id) result.position = row.Int(1);
    }
    return Status::Ok();
  }));
  return result;
}

StatusOr<QueuePosition> PrintQueue::Position(int64_t record_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT regency_code FROM print_queue WHERE record_id = ?", {record_id}));
  if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " was never queued for printing");
  ASSIGN_OR_RETURN(QueuePosition position, PositionIn(rows[0].Text(0), record_id));
  if (position.position == 0) {
    return NotFound("record " + std::to_string(record_id) + " is no longer waiting to be printed");
  }
  return position;
}

StatusOr<double> PrintQueue::PrintRatePerDay(std::string_view regency_code, std::chrono::hours window) {
  if (window.count() <= 0) return InvalidArgument("the print rate window must be positive");
  const std::string since = FormatTimestamp(clock_.Now() - window);
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT COUNT(*) FROM record_events e JOIN print_queue q "
                                        "ON q.record_id = e.record_id WHERE q.regency_code = ? "
                                        "AND e.to_state IN " + store::SqlStateList({RecordState::kPrinted}) + " AND e.at >= ?",
                                        {regency_code, since}));
  return static_cast<double>(rows.at(0).Int(0)) * 24.0 / static_cast<double>(window.count());
}

StatusOr<int64_t> PrintQueue::RequestUrgent(int64_t record_id, std::string_view reason, std::string_view evidence,
                                            std::string_view requested_by) {
  if (requested_by.empty()) return InvalidArgument("the requester must be named");
  if (evidence.empty()) return InvalidArgument("evidence must describe the document seen (e.g. ticket, visa, letter)");
  if (evidence.size() > 1000) return InvalidArgument("evidence is longer than 1000 characters");
  int64_t id = 0;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto reasons, UrgentReasons());
    if (std::none_of(reasons.begin(), reasons.end(), [&](const UrgentReason& r) { return r.code == reason; })) {
      return InvalidArgument("unknown urgent reason '" + std::string(reason) + "'");
    }
    ASSIGN_OR_RETURN(auto records, db_.Query("SELECT state FROM records WHERE id = ?", {record_id}));
    if (records.empty()) return NotFound("record " + std::to_string(record_id) + " does not exist");
    const std::string state = records[0].Text(0);
    for (RecordState done : {RecordState::kPrinted, RecordState::kDispatched, RecordState::kActivated,
                             RecordState::kReplaced, RecordState::kRevoked, RecordState::kRejectedDuplicate,
                             RecordState::kFailedValidation}) {
      if (state == RecordStateName(done)) {
        return FailedPrecondition("record " + std::to_string(record_id) + " is " + state +
                                  "; urgency applies only to records still to be printed");
      }
    }
    ASSIGN_OR_RETURN(auto open, db_.Query("SELECT id, status FROM print_urgent_requests WHERE record_id = ? AND "
                                          "status IN ('pending', 'approved')",
                                          {record_id}));
    if (!open.empty()) {
      return AlreadyExists("record " + std::to_string(record_id) + " already has urgent request " +
                           std::to_string(open[0].Int(0)) + " (" + open[0].Text(1) + ")");
    }
    const std::string now = FormatTimestamp(clock_.Now());
    ASSIGN_OR_RETURN(auto inserted,
                     db_.Query("INSERT INTO print_urgent_requests (record_id, reason, evidence, requested_by, "
                               "requested_at, status) VALUES (?, ?, ?, ?, ?, 'pending') RETURNING id",
                               {record_id, reason, evidence, requested_by, now}));
    id = inserted.at(0).Int(0);
    // The evidence may carry document numbers: the chain keeps its hash, the table the text.
    nlohmann::json detail = {{"request", id},
                             {"reason", reason},
                             {"evidence_sha256", crypto::Sha256Hex(evidence)}};
    return store::AuditLog(db_, clock_).Append(
        {std::string(requested_by), "print.urgent_request", "record:" + std::to_string(record_id), detail.dump()});
  }));
  return id;
}

Status PrintQueue::ApproveUrgent(int64_t request_id, std::string_view approver) {
  return DecideUrgent(request_id, approver, UrgentStatus::kApproved, "");
}

Status PrintQueue::RejectUrgent(int64_t request_id, std::string_view approver, std::string_view note) {
  return DecideUrgent(request_id, approver, UrgentStatus::kRejected, note);
}

Status PrintQueue::DecideUrgent(int64_t request_id, std::string_view approver, UrgentStatus decision,
                                std::string_view note) {
  if (approver.empty()) return InvalidArgument("the supervisor deciding must be named");
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(UrgentRequest request, GetUrgent(request_id));
    if (request.status != UrgentStatus::kPending) {
      return FailedPrecondition("urgent request " + std::to_string(request_id) + " is already " +
                                std::string(UrgentStatusName(request.status)) + " by " + request.decided_by);
    }
    if (request.requested_by == approver) {
      return PermissionDenied("urgent request " + std::to_string(request_id) + " was made by " + request.requested_by +
                              "; another supervisor must decide it");
    }
    const std::string now = FormatTimestamp(clock_.Now());
    ASSIGN_OR_RETURN(auto updated,
                     db_.Query("UPDATE print_urgent_requests SET status = ?, decided_by = ?, decided_at = ?, "
                               "decision_note = ? WHERE id = ? AND status = 'pending' RETURNING id",
                               {UrgentStatusName(decision), approver, now, note, request_id}));
    if (updated.empty()) return Aborted("urgent request " + std::to_string(request_id) + " changed concurrently");
    nlohmann::json detail = {{"request", request_id}, {"reason", request.reason}, {"note", note}};
    return store::AuditLog(db_, clock_).Append(
        {std::string(approver),
         decision == UrgentStatus::kApproved ? "print.urgent_approve" : "print.urgent_reject",
         "record:" + std::to_string(request.record_id), detail.dump()});
  });
}

StatusOr<UrgentRequest> PrintQueue::GetUrgent(int64_t request_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kUrgentColumns) +
                                            " FROM print_urgent_requests u JOIN records r ON r.id = u.record_id "
                                            "WHERE u.id = ?",
                                        {request_id}));
  if (rows.empty()) return NotFound("urgent request " + std::to_string(request_id) + " does not exist");
  return ToUrgentRequest(rows[0]);
}

StatusOr<std::vector<UrgentRequest>> PrintQueue::ListUrgent(std::optional<UrgentStatus> status, int limit) {
  std::string sql = "SELECT " + std::string(kUrgentColumns) +
                    " FROM print_urgent_requests u JOIN records r ON r.id = u.record_id";
  std::vector<store::Value> params;
  if (status) {
    sql += " WHERE u.status = ?";
    params.emplace_back(UrgentStatusName(*status));
  }
  sql += " ORDER BY u.id LIMIT ?";
  params.emplace_back(int64_t{limit});
  ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
  std::vector<UrgentRequest> out;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(UrgentRequest request, ToUrgentRequest(row));
    out.push_back(std::move(request));
  }
  return out;
}

StatusOr<std::vector<UrgentReason>> PrintQueue::UrgentReasons() {
  std::vector<UrgentReason> out;
  for (const BuiltIn& reason : kBuiltInReasons) {
    out.push_back({std::string(reason.code), std::string(reason.label), true});
  }
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT code, label FROM print_urgent_reasons ORDER BY code"));
  for (const store::Row& row : rows) out.push_back({row.Text(0), row.Text(1), false});
  return out;
}

Status PrintQueue::AddUrgentReason(std::string_view code, std::string_view label, std::string_view actor) {
  if (!ValidReasonCode(code)) {
    return InvalidArgument("reason code '" + std::string(code) + "' must be 1-40 of a-z, 0-9 and _");
  }
  if (label.empty()) return InvalidArgument("the reason needs a label in Bahasa Indonesia");
  if (actor.empty()) return InvalidArgument("who adds the reason must be named");
  for (const BuiltIn& reason : kBuiltInReasons) {
    if (reason.code == code) return AlreadyExists("urgent reason '" + std::string(code) + "' is built in");
  }
  return db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec("INSERT INTO print_urgent_reasons (code, label, added_by, added_at) VALUES (?, ?, ?, ?)",
                             {code, label, actor, FormatTimestamp(clock_.Now())})
                        .WithContext("urgent reason '" + std::string(code) + "'"));
    return store::AuditLog(db_, clock_).Append({std::string(actor), "print.urgent_reason_add",
                                                "urgent_reason:" + std::string(code),
                                                nlohmann::json{{"label", label}}.dump()});
  });
}

StatusOr<QueuePolicy> PrintQueue::Policy(std::string_view regency_code) {
  // One query for both rows; the regency's own row sorts before "*".
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT regency_code, first_card_at_17, suket_holders FROM print_policies "
                                        "WHERE regency_code = ? OR regency_code = ? "
                                        "ORDER BY CASE WHEN regency_code = ? THEN 1 ELSE 0 END",
                                        {regency_code, kNationalPolicy, kNationalPolicy}));
  QueuePolicy policy;
  if (!rows.empty()) {
    policy.first_card_at_17 = rows[0].Int(1) != 0;
    policy.suket_holders = rows[0].Int(2) != 0;
  }
  return policy;
}

Status PrintQueue::SetPolicy(std::string_view regency_code, const QueuePolicy& policy, std::string_view actor) {
  if (regency_code != kNationalPolicy) RETURN_IF_ERROR(CheckRegencyCode(regency_code));
  if (actor.empty()) return InvalidArgument("who sets the policy must be named");
  return db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec(
        "INSERT INTO print_policies (regency_code, first_card_at_17, suket_holders, updated_by, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (regency_code) DO UPDATE SET first_card_at_17 = excluded.first_card_at_17, "
        "suket_holders = excluded.suket_holders, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        {regency_code, policy.first_card_at_17 ? 1 : 0, policy.suket_holders ? 1 : 0, actor,
         FormatTimestamp(clock_.Now())}));
    nlohmann::json detail = {{"first_card_at_17", policy.first_card_at_17}, {"suket_holders", policy.suket_holders}};
    return store::AuditLog(db_, clock_).Append(
        {std::string(actor), "print.policy_set", "regency:" + std::string(regency_code), detail.dump()});
  });
}

}  // namespace ektp::printing
