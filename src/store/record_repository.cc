#include "store/record_repository.h"

#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "store/audit_log.h"

namespace ektp::store {
namespace {

constexpr std::string_view kRecordColumns =
    "id, registration_number, application_kind, nik, state, resident_json, created_at, updated_at, holder_nik, "
    "previous_nik, station_id, failure_reason";

Value Optional(const std::string& text) { return text.empty() ? Value() : Value(text); }

// A state name as stored; kDataLoss "<what> has unknown state '<name>'" when it is not one.
StatusOr<RecordState> StoredState(const std::string& name, std::string_view what) {
  auto state = RecordStateFromName(name);
  if (!state) return DataLoss(std::string(what) + " has unknown state '" + name + "'");
  return *state;
}

StatusOr<Record> ToRecord(const Row& row) {
  Record record;
  record.id = row.Int(0);
  record.registration_number = row.Text(1);
  ASSIGN_OR_RETURN(record.application_kind, ParseApplicationKind(row.Text(2)));
  record.nik = row.Text(3);
  ASSIGN_OR_RETURN(record.state, StoredState(row.Text(4), "record " + std::to_string(record.id)));
  record.resident_json = row.Text(5);
  record.created_at = row.Text(6);
  record.updated_at = row.Text(7);
  record.holder_nik = row.Text(8);
  record.previous_nik = row.Text(9);
  record.station_id = row.Text(10);
  record.failure_reason = row.Text(11);
  return record;
}

AuditEntry TransitionAudit(int64_t id, std::optional<RecordState> from, RecordState to, std::string_view actor,
                                 std::string_view note) {
  nlohmann::json detail = {{"from", from ? nlohmann::json(RecordStateName(*from)) : nlohmann::json(nullptr)},
                           {"to", RecordStateName(to)},
                           {"note", note}};
  return {std::string(actor), "record.transition", "record:" + std::to_string(id), detail.dump()};
}

constexpr std::string_view kInsertRecord =
    "INSERT INTO records (registration_number, application_kind, nik, state, resident_json, created_at, "
    "updated_at, holder_nik, previous_nik, station_id, failure_reason) VALUES ";
constexpr size_t kInsertRecordColumns = 11;

void AppendRecordValues(const Record& record, RecordState state, const std::string& now, std::vector<Value>& values) {
  values.insert(values.end(), {record.registration_number, ApplicationKindName(record.application_kind),
                               Optional(record.nik), RecordStateName(state), record.resident_json, now, now,
                               Optional(record.holder_nik), Optional(record.previous_nik), Optional(record.station_id),
                               Optional(record.failure_reason)});
}

// A moment as the tables store it: text to the second, and milliseconds.
struct Stamp {
  std::string text;
  int64_t ms = 0;
};
Stamp StampOf(TimePoint t) { return {FormatTimestamp(t), UnixMillis(t)}; }

constexpr std::string_view kInsertEvent =
    "INSERT INTO record_events (record_id, from_state, to_state, actor, note, at, at_ms) VALUES ";
constexpr size_t kInsertEventColumns = 7;

void AppendEvent(int64_t id, std::optional<RecordState> from, RecordState to, std::string_view actor,
                 std::string_view note, const Stamp& now, std::vector<Value>& events,
                 std::vector<AuditEntry>& audit) {
  events.insert(events.end(), {id, from ? Value(RecordStateName(*from)) : Value(), RecordStateName(to), actor, note,
                               now.text, now.ms});
  audit.push_back(TransitionAudit(id, from, to, actor, note));
}

}  // namespace

std::string SqlStateList(std::initializer_list<RecordState> states) {
  std::string list = "(";
  for (RecordState state : states) {
    list += (list.size() > 1 ? ", '" : "'") + std::string(RecordStateName(state)) + "'";
  }
  return list + ")";
}

StatusOr<int64_t> RecordRepository::Create(const Record& record, std::string_view actor) {
  int64_t id = 0;
  const Stamp now = StampOf(clock_.Now());
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    std::vector<Value> values;
    AppendRecordValues(record, RecordState::kReceived, now.text, values);
    std::vector<Row> ids;
    RETURN_IF_ERROR(InsertRows(db_, kInsertRecord, kInsertRecordColumns, values, " RETURNING id", &ids));
    id = ids.at(0).Int(0);
    std::vector<Value> events;
    std::vector<AuditEntry> audit;
    AppendEvent(id, std::nullopt, RecordState::kReceived, actor, "created", now, events, audit);
    RETURN_IF_ERROR(InsertRows(db_, kInsertEvent, kInsertEventColumns, events));
    return AuditLog(db_, clock_).Append(audit);
  }));
  return id;
}

StatusOr<std::vector<int64_t>> RecordRepository::CreateDecided(std::span<const DecidedRecord> records) {
  std::vector<int64_t> ids;
  if (records.empty()) return ids;
  const Stamp now = StampOf(clock_.Now());
  std::vector<Value> values;
  for (const DecidedRecord& decided : records) {
    RETURN_IF_ERROR(CheckTransition(RecordState::kReceived, decided.record.state));
    AppendRecordValues(decided.record, decided.record.state, now.text, values);
  }
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ids.clear();
    std::vector<Row> returned;
    RETURN_IF_ERROR(InsertRows(db_, kInsertRecord, kInsertRecordColumns, values, " RETURNING id, registration_number",
                               &returned));
    // RETURNING rows of a multi-row INSERT are not promised in VALUES order: match them by registration number.
    std::unordered_map<std::string, int64_t> id_of;
    for (const Row& row : returned) id_of.emplace(row.Text(1), row.Int(0));
    std::vector<Value> events;
    std::vector<AuditEntry> audit;
    for (const DecidedRecord& decided : records) {
      auto it = id_of.find(decided.record.registration_number);
      if (it == id_of.end()) return Internal("record " + decided.record.registration_number + " was not created");
      ids.push_back(it->second);
      AppendEvent(it->second, std::nullopt, RecordState::kReceived, decided.created_by, "created", now, events, audit);
      AppendEvent(it->second, RecordState::kReceived, decided.record.state, decided.decided_by, decided.note, now,
                  events, audit);
    }
    RETURN_IF_ERROR(InsertRows(db_, kInsertEvent, kInsertEventColumns, events));
    return AuditLog(db_, clock_).Append(audit);
  }));
  return ids;
}

StatusOr<Record> RecordRepository::Get(int64_t id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kRecordColumns) + " FROM records WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("record " + std::to_string(id) + " does not exist");
  return ToRecord(rows[0]);
}

StatusOr<Record> RecordRepository::FindByRegistration(std::string_view registration_number) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kRecordColumns) +
                                            " FROM records WHERE registration_number = ?",
                                        {registration_number}));
  if (rows.empty()) return NotFound("no record with registration number " + std::string(registration_number));
  return ToRecord(rows[0]);
}

StatusOr<Record> RecordRepository::FindByNik(std::string_view nik) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kRecordColumns) + " FROM records WHERE nik = ?", {nik}));
  if (rows.empty()) return NotFound("no record with NIK " + std::string(nik));
  return ToRecord(rows[0]);
}

StatusOr<std::vector<Record>> RecordRepository::FindByHolderNik(std::string_view nik, RecordState state) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kRecordColumns) +
                                            " FROM records WHERE holder_nik = ? AND state = ? ORDER BY id",
                                        {nik, RecordStateName(state)}));
  std::vector<Record> records;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(Record record, ToRecord(row));
    records.push_back(std::move(record));
  }
  return records;
}

Status RecordRepository::Transition(int64_t id, RecordState from, RecordState to, std::string_view actor,
                                    std::string_view note) {
  RETURN_IF_ERROR(CheckTransition(from, to));
  const Stamp now = StampOf(clock_.Now());
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto updated, db_.Query("UPDATE records SET state = ?, updated_at = ? WHERE id = ? AND state = ? "
                                             "RETURNING id",
                                             {RecordStateName(to), now.text, id, RecordStateName(from)}));
    if (updated.empty()) {
      ASSIGN_OR_RETURN(Record current, Get(id));
      return FailedPrecondition("record " + std::to_string(id) + " is " + std::string(RecordStateName(current.state)) +
                                ", not " + std::string(RecordStateName(from)));
    }
    std::vector<Value> events;
    std::vector<AuditEntry> audit;
    AppendEvent(id, from, to, actor, note, now, events, audit);
    RETURN_IF_ERROR(InsertRows(db_, kInsertEvent, kInsertEventColumns, events));
    return AuditLog(db_, clock_).Append(audit);
  });
}

Status RecordRepository::SetFailureReason(int64_t id, std::string_view reason) {
  ASSIGN_OR_RETURN(auto updated, db_.Query("UPDATE records SET failure_reason = ?, updated_at = ? WHERE id = ? "
                                           "RETURNING id",
                                           {Optional(std::string(reason)), FormatTimestamp(clock_.Now()), id}));
  if (updated.empty()) return NotFound("record " + std::to_string(id) + " does not exist");
  return Status::Ok();
}

StatusOr<std::vector<RecordEvent>> RecordRepository::Events(int64_t id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT id, record_id, from_state, to_state, actor, note, at, at_ms "
                                        "FROM record_events WHERE record_id = ? ORDER BY id",
                                        {id}));
  std::vector<RecordEvent> events;
  for (const Row& row : rows) {
    RecordEvent event;
    event.id = row.Int(0);
    event.record_id = row.Int(1);
    if (!row.IsNull(2)) event.from = RecordStateFromName(row.Text(2));
    ASSIGN_OR_RETURN(event.to, StoredState(row.Text(3), "event " + std::to_string(event.id)));
    event.actor = row.Text(4);
    event.note = row.Text(5);
    event.at = row.Text(6);
    if (!row.IsNull(7)) event.at_ms = row.Int(7);
    events.push_back(std::move(event));
  }
  return events;
}

StatusOr<std::string> RecordRepository::AssignNik(int64_t id, std::string_view kecamatan_code,
                                                  std::chrono::year_month_day birth_date, Sex sex) {
  std::string prefix = NikPrefix(kecamatan_code, birth_date, sex);
  std::string nik;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(Record record, Get(id));
    if (!record.nik.empty()) {
      return FailedPrecondition("record " + std::to_string(id) + " already has NIK " + record.nik);
    }
    while (true) {
      // The upsert locks the counter row until commit, so allocators of one
      // prefix take turns; NIKs set by SetNik are skipped by the check below.
      ASSIGN_OR_RETURN(auto rows, db_.Query("INSERT INTO nik_counters (prefix, last_sequence) VALUES (?, 1) "
                                            "ON CONFLICT (prefix) DO UPDATE SET last_sequence = "
                                            "nik_counters.last_sequence + 1 RETURNING last_sequence",
                                            {prefix}));
      int64_t sequence = rows.at(0).Int(0);
      if (sequence > 9999) {
        return ResourceExhausted("all 9999 NIK sequences for " + prefix + " are taken");
      }
      nik = FormatNik(kecamatan_code, birth_date, sex, static_cast<int>(sequence));
      ASSIGN_OR_RETURN(auto holders, db_.Query("SELECT id FROM records WHERE nik = ?", {nik}));
      if (holders.empty()) break;
    }
    return db_.Exec("UPDATE records SET nik = ?, holder_nik = ?, updated_at = ? WHERE id = ?",
                    {nik, nik, FormatTimestamp(clock_.Now()), id});
  }));
  return nik;
}

StatusOr<std::string> RecordRepository::PeekNextNik(std::string_view kecamatan_code,
                                                    std::chrono::year_month_day birth_date, Sex sex) {
  std::string prefix = NikPrefix(kecamatan_code, birth_date, sex);
  ASSIGN_OR_RETURN(auto counter, db_.Query("SELECT last_sequence FROM nik_counters WHERE prefix = ?", {prefix}));
  int64_t handed_out = counter.empty() ? 0 : counter[0].Int(0);
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT nik FROM records WHERE nik LIKE ?", {prefix + "%"}));
  std::set<std::string> taken;
  for (const Row& row : rows) taken.insert(row.Text(0));
  return NextFreeNik(kecamatan_code, birth_date, sex, [&](int sequence) {
    return sequence <= handed_out || taken.count(FormatNik(kecamatan_code, birth_date, sex, sequence)) > 0;
  });
}

Status RecordRepository::SetNik(int64_t id, std::string_view nik) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto holders, db_.Query("SELECT id FROM records WHERE nik = ?", {nik}));
    if (!holders.empty() && holders[0].Int(0) != id) {
      return AlreadyExists("NIK " + std::string(nik) + " belongs to record " + std::to_string(holders[0].Int(0)));
    }
    ASSIGN_OR_RETURN(auto updated, db_.Query("UPDATE records SET nik = ?, updated_at = ? WHERE id = ? RETURNING id",
                                             {nik, FormatTimestamp(clock_.Now()), id}));
    if (updated.empty()) return NotFound("record " + std::to_string(id) + " does not exist");
    return Status::Ok();
  });
}

Status RecordRepository::SetHolderNik(int64_t id, std::string_view nik) {
  ASSIGN_OR_RETURN(auto updated, db_.Query("UPDATE records SET holder_nik = ?, updated_at = ? WHERE id = ? RETURNING id",
                                           {nik, FormatTimestamp(clock_.Now()), id}));
  if (updated.empty()) return NotFound("record " + std::to_string(id) + " does not exist");
  return Status::Ok();
}

StatusOr<std::vector<std::pair<RecordState, int64_t>>> RecordRepository::CountByState() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT state, COUNT(*) FROM records GROUP BY state ORDER BY state"));
  std::vector<std::pair<RecordState, int64_t>> counts;
  for (const Row& row : rows) {
    auto state = RecordStateFromName(row.Text(0));
    if (!state) return DataLoss("unknown record state '" + row.Text(0) + "'");
    counts.emplace_back(*state, row.Int(1));
  }
  return counts;
}

}  // namespace ektp::store
