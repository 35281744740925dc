#include "printing/testing.h"

#include <nlohmann/json.hpp>

#include "core/resident_json.h"

namespace ektp::printing::testing {

StatusOr<int64_t> CreateUniqueRecord(store::RecordRepository& records, const std::string& registration,
                                     ApplicationKind kind, std::chrono::year_month_day born,
                                     const std::string& village) {
  Resident resident;
  resident.name = "WARGA " + registration;
  resident.place_of_birth = "NGAWI";
  resident.birth_date = born;
  resident.address = {"JL. RAYA NO. 1", 1, 2, village};
  resident.occupation = "PELAJAR/MAHASISWA";
  store::Record record;
  record.registration_number = registration;
  record.application_kind = kind;
  record.resident_json = ResidentToJson(resident).dump();
  ASSIGN_OR_RETURN(int64_t id, records.Create(record, "central.ingest"));
  RETURN_IF_ERROR(records.Transition(id, RecordState::kReceived, RecordState::kValidated, "central.ingest", ""));
  RETURN_IF_ERROR(records.Transition(id, RecordState::kValidated, RecordState::kDedupePending, "central.ingest", ""));
  RETURN_IF_ERROR(records.Transition(id, RecordState::kDedupePending, RecordState::kUnique, "central.dedupe", ""));
  return id;
}

Status MakePrintReady(store::Connection& db, store::RecordRepository& records, PrintQueue& queue, int64_t id) {
  return db.Transact([&]() -> Status {
    RETURN_IF_ERROR(records.Transition(id, RecordState::kUnique, RecordState::kPrintReady, "central.pipeline", ""));
    return queue.Enqueue(id, "central.pipeline");
  });
}

}  // namespace ektp::printing::testing
