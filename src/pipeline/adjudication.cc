#include "pipeline/adjudication.h"

#include "enrollment/enrollment.h"
#include "pipeline/biometrics_at_rest.h"
#include "service/log.h"
#include "store/audit_log.h"

namespace ektp::pipeline {
namespace {

constexpr std::pair<Verdict, std::string_view> kVerdictNames[] = {
    {Verdict::kDifferentPeople, "different_people"},
    {Verdict::kSamePersonReject, "same_person_reject"},
    {Verdict::kSamePersonUpdate, "same_person_update"},
};

// The first row `sql` (with one parameter, the record's id) returns;
// kNotFound "record <id> <missing>" when it returns none.
StatusOr<store::Row> RowOfRecord(store::Connection& db, std::string_view sql, int64_t record_id,
                                 std::string_view missing) {
  ASSIGN_OR_RETURN(auto rows, db.Query(sql, {record_id}));
  if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " " + std::string(missing));
  return std::move(rows[0]);
}

constexpr std::string_view kNoCase = "has no adjudication case";

StatusOr<nlohmann::json> DescribeRecord(store::Connection& db, int64_t record_id) {
  ASSIGN_OR_RETURN(const store::Row row,
                   RowOfRecord(db,
                               "SELECT registration_number, application_kind, state, nik, holder_nik, previous_nik, "
                               "station_id, resident_json, created_at FROM records WHERE id = ?",
                               record_id, "does not exist"));
  auto resident = nlohmann::json::parse(row.Text(7), nullptr, false);
  return nlohmann::json{{"record_id", record_id},        {"registration_number", row.Text(0)},
                        {"application_kind", row.Text(1)}, {"state", row.Text(2)},
                        {"nik", row.Text(3)},             {"holder_nik", row.Text(4)},
                        {"previous_nik", row.Text(5)},    {"station_id", row.Text(6)},
                        {"resident", resident},           {"received_at", row.Text(8)}};
}

// A case's stored suspicion_facts, which the pipeline wrote as a JSON object.
StatusOr<nlohmann::json> SuspicionFacts(int64_t record_id, const std::string& stored) {
  auto facts = nlohmann::json::parse(stored, nullptr, false);
  if (!facts.is_object()) {
    return DataLoss("the suspicion facts of the adjudication of record " + std::to_string(record_id) +
                    " are not a JSON object");
  }
  return facts;
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  for (const auto& [v, name] : kVerdictNames) {
    if (v == verdict) return name;
  }
  return "unknown";
}

StatusOr<Verdict> ParseVerdict(std::string_view name) {
  for (const auto& [v, n] : kVerdictNames) {
    if (n == name) return v;
  }
  return InvalidArgument("unknown decision '" + std::string(name) +
                         "'; use different_people, same_person_reject or same_person_update");
}

StatusOr<std::vector<OpenCase>> OpenCases(store::Connection& db, int limit) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT a.record_id, r.registration_number, a.suspicion, a.suspicion_facts, "
                                       "a.created_at FROM adjudications a JOIN records r ON r.id = a.record_id "
                                       "WHERE a.status = 'open' ORDER BY a.record_id LIMIT ?",
                                       {limit}));
  std::vector<OpenCase> cases;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(nlohmann::json facts, SuspicionFacts(row.Int(0), row.Text(3)));
    cases.push_back({row.Int(0), row.Text(1), row.Text(2), std::move(facts), row.Text(4)});
  }
  return cases;
}

StatusOr<nlohmann::json> CaseDetail(store::Connection& db, int64_t record_id) {
  ASSIGN_OR_RETURN(const store::Row row,
                   RowOfRecord(db,
                               "SELECT suspicion, candidates, status, decision, candidate_nik, decided_by, decided_at, "
                               "decision_note, created_at, suspicion_facts FROM adjudications WHERE record_id = ?",
                               record_id, kNoCase));
  ASSIGN_OR_RETURN(nlohmann::json facts, SuspicionFacts(record_id, row.Text(9)));
  nlohmann::json detail = {{"suspicion", row.Text(0)},
                           {"suspicion_facts", std::move(facts)},
                           {"status", row.Text(2)},
                           {"opened_at", row.Text(8)}};
  ASSIGN_OR_RETURN(detail["record"], DescribeRecord(db, record_id));
  auto candidates = nlohmann::json::parse(row.Text(1), nullptr, false);
  if (!candidates.is_array()) return DataLoss("adjudication of record " + std::to_string(record_id) + " is malformed");
  for (nlohmann::json& candidate : candidates) {
    if (!candidate.contains("record_id")) continue;
    ASSIGN_OR_RETURN(candidate["record"], DescribeRecord(db, candidate["record_id"].get<int64_t>()));
  }
  detail["candidates"] = std::move(candidates);
  if (row.Text(2) == "decided") {
    detail["decision"] = {{"verdict", row.Text(3)}, {"candidate_nik", row.Text(4)}, {"by", row.Text(5)},
                          {"at", row.Text(6)},      {"note", row.Text(7)}};
  }
  return detail;
}

StatusOr<std::vector<uint8_t>> FacePhoto(store::Connection& db, const crypto::DataKey& biometrics_key,
                                         int64_t record_id) {
  ASSIGN_OR_RETURN(enrollment::Biometrics biometrics, LoadRecordBiometrics(db, biometrics_key, record_id));
  return biometrics.face_jpeg;
}

Status Decide(store::Connection& db, const StageContext& context, const AdjudicationDecision& decision) {
  if (decision.adjudicator.empty()) return InvalidArgument("the adjudicator's name is required");
  if (decision.note.empty()) return InvalidArgument("a note saying why is required");
  const std::string who = "adjudicator:" + decision.adjudicator;
  std::string registration_number;
  std::optional<RecordState> outcome;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    // Accepting puts fingers in the gallery: take turns with the dedupe stage.
    RETURN_IF_ERROR(db.Exec("UPDATE pipeline_locks SET name = name WHERE name = 'dedupe'"));
    ASSIGN_OR_RETURN(const store::Row row,
                     RowOfRecord(db, "SELECT status, candidates FROM adjudications WHERE record_id = ?",
                                 decision.record_id, kNoCase));
    if (row.Text(0) != "open") {
      return FailedPrecondition("the case of record " + std::to_string(decision.record_id) + " is already decided");
    }
    auto candidates = nlohmann::json::parse(row.Text(1), nullptr, false);
    bool known = false;
    for (const nlohmann::json& candidate : candidates) known |= candidate.value("nik", "") == decision.candidate_nik;
    if (decision.verdict != Verdict::kDifferentPeople && !known) {
      return InvalidArgument("candidate NIK '" + decision.candidate_nik + "' is not one of this case's candidates");
    }
    store::RecordRepository records(db, context.clock);
    ASSIGN_OR_RETURN(store::Record record, records.Get(decision.record_id));
    const std::string note = std::string(VerdictName(decision.verdict)) + ": " + decision.note;
    switch (decision.verdict) {
      case Verdict::kDifferentPeople: {
        bool claims_candidate = false;  // a replacement whose own card's fingers did not match
        for (const nlohmann::json& candidate : candidates) {
          claims_candidate |= !record.previous_nik.empty() && candidate.value("nik", "") == record.previous_nik;
        }
        if (claims_candidate) {
          // The applicant is not the holder of the NIK they claimed.
          RETURN_IF_ERROR(records.Transition(record.id, RecordState::kAdjudication, RecordState::kRejectedDuplicate,
                                             who, note));
          RETURN_IF_ERROR(records.SetFailureReason(record.id, "not the holder of NIK " + record.previous_nik));
          break;
        }
        ASSIGN_OR_RETURN(std::string nik, AcceptRecord(db, context, record, RecordState::kAdjudication,
                                                       record.previous_nik, who, note));
        break;
      }
      case Verdict::kSamePersonUpdate: {
        ASSIGN_OR_RETURN(std::string nik, AcceptRecord(db, context, record, RecordState::kAdjudication,
                                                       decision.candidate_nik, who, note));
        break;
      }
      case Verdict::kSamePersonReject:
        RETURN_IF_ERROR(records.Transition(record.id, RecordState::kAdjudication, RecordState::kRejectedDuplicate,
                                           who, note));
        RETURN_IF_ERROR(records.SetFailureReason(record.id, "same person as NIK " + decision.candidate_nik));
        break;
    }
    std::string now = FormatTimestamp(context.clock.Now());
    RETURN_IF_ERROR(db.Exec("UPDATE adjudications SET status = 'decided', decision = ?, candidate_nik = ?, "
                            "decided_by = ?, decided_at = ?, decision_note = ? WHERE record_id = ?",
                            {VerdictName(decision.verdict), decision.candidate_nik, decision.adjudicator, now,
                             decision.note, record.id}));
    nlohmann::json detail = {{"verdict", VerdictName(decision.verdict)},
                             {"candidate_nik", decision.candidate_nik},
                             {"note", decision.note}};
    RETURN_IF_ERROR(store::AuditLog(db, context.clock)
                        .Append({who, "adjudication.decide", "record:" + std::to_string(record.id), detail.dump()}));
    ASSIGN_OR_RETURN(store::Record decided, records.Get(record.id));
    registration_number = decided.registration_number;
    outcome = decided.state;
    return NotifyStation(db, context, record.id);
  }));
  // By record id and registration number only: never the candidate's NIK.
  service::LogInfo("pipeline.adjudicated", {{"record", decision.record_id},
                                            {"registration_number", registration_number},
                                            {"verdict", VerdictName(decision.verdict)},
                                            {"outcome", RecordStateName(*outcome)},
                                            {"adjudicator", decision.adjudicator}});
  if (outcome == RecordState::kPrintReady) {
    service::LogInfo("pipeline.nik_assigned", {{"record", decision.record_id},
                                               {"registration_number", registration_number}});
  }
  return Status::Ok();
}

}  // namespace ektp::pipeline
