// The resident-record register: records, their lifecycle events and NIK
// allocation, over either backend (db.h).
//
// The one writer of the `records` and `record_events` tables: every creation,
// state change, reason and NIK goes through it, so each change is a legal
// transition with its event and audit entry (scripts/check_record_writes.sh
// fails CI when other SQL writes those tables).
//
// Every method runs in a transaction (joining the caller's if one is open),
// so each call is atomic. Thread-safety: as the Connection it wraps.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/application.h"
#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/nik.h"
#include "store/audit_log.h"
#include "store/db.h"

namespace ektp::store {

struct Record {
  int64_t id = 0;
  std::string registration_number;  // station id + local sequence, unique nationally
  ApplicationKind application_kind = ApplicationKind::kFirstCard;
  std::string nik;                   // the NIK this record was issued (first cards); empty until assigned
  std::string holder_nik;            // the NIK the card carries (also replacements keeping theirs); empty until known
  std::string previous_nik;          // the applicant's existing NIK, for every kind but a first card
  std::string station_id;            // the station that enrolled it; empty for records made by hand
  RecordState state = RecordState::kReceived;
  std::string resident_json;         // ResidentToJson()
  std::string failure_reason;        // why the record stopped (shown to its station); empty when it goes on
  std::string created_at;
  std::string updated_at;
};

struct RecordEvent {
  int64_t id = 0;
  int64_t record_id = 0;
  std::optional<RecordState> from;  // nullopt for creation
  RecordState to;
  std::string actor;  // operator or process that caused it
  std::string note;
  std::string at;  // to the second, "2026-11-24T10:00:00Z"
  // Milliseconds since the Unix epoch; empty for an event written before
  // central schema 12 (then `at` is all there is).
  std::optional<int64_t> at_ms;
};

// A record that a bulk writer (central's ingest) creates already in the state
// its first check decided: the result is exactly as if Create() had made it
// `received` as `created_by` and Transition() had moved it on to
// `record.state` as `decided_by` with `note`: both events and audit entries.
struct DecidedRecord {
  Record record;  // id, created_at and updated_at are ignored
  std::string created_by;
  std::string decided_by;
  std::string note;
};

// "('unique', 'print_ready')": the states' names as an SQL list for `IN`,
// so that no SQL spells a state name itself.
std::string SqlStateList(std::initializer_list<RecordState> states);

class RecordRepository {
 public:
  // `connection` and `clock` must outlive the repository.
  RecordRepository(Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Inserts a record in state `received` with its creation event.
  // kAlreadyExists if the registration number is taken.
  StatusOr<int64_t> Create(const Record& record, std::string_view actor);

  // Creates many records at once, each in its decided state (see
  // DecidedRecord), with multi-row statements: the bulk path of central's
  // ingest. Returns their ids in order. kFailedPrecondition if some state is
  // not one legal step from `received`; kAlreadyExists if a registration
  // number is taken (nothing is written then, as the caller's transaction
  // rolls back).
  StatusOr<std::vector<int64_t>> CreateDecided(std::span<const DecidedRecord> records);

  StatusOr<Record> Get(int64_t id);
  StatusOr<Record> FindByRegistration(std::string_view registration_number);
  StatusOr<Record> FindByNik(std::string_view nik);
  // The records in `state` whose card carries `nik`, oldest first.
  StatusOr<std::vector<Record>> FindByHolderNik(std::string_view nik, RecordState state);

  // Moves a record from `from` to `to` and records the event. kFailedPrecondition
  // if the transition is illegal or the record is no longer in `from`
  // (someone else moved it first).
  Status Transition(int64_t id, RecordState from, RecordState to, std::string_view actor, std::string_view note);

  StatusOr<std::vector<RecordEvent>> Events(int64_t id);

  // Sets why the record stopped ("" clears it when it goes on).
  Status SetFailureReason(int64_t id, std::string_view reason);

  // Assigns the next free NIK for the kecamatan, birth date and sex to a record
  // that has none, as both its nik and holder_nik. Race-free across connections and processes.
  // kFailedPrecondition if the record already has a NIK.
  StatusOr<std::string> AssignNik(int64_t id, std::string_view kecamatan_code,
                                  std::chrono::year_month_day birth_date, Sex sex);

  // The NIK AssignNik would give now, without reserving it.
  StatusOr<std::string> PeekNextNik(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex);

  // Sets a known NIK (replacements keep theirs). kAlreadyExists if another record holds it.
  Status SetNik(int64_t id, std::string_view nik);

  // Sets the NIK the record's card carries (AssignNik sets it too).
  Status SetHolderNik(int64_t id, std::string_view nik);

  // Number of records in each state (states with none are omitted).
  StatusOr<std::vector<std::pair<RecordState, int64_t>>> CountByState();

 private:
  Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::store
