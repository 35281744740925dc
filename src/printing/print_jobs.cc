#include "printing/print_jobs.h"

#include <nlohmann/json.hpp>

#include "printing/print_queue.h"
#include "store/audit_log.h"
#include "store/record_repository.h"

namespace ektp::printing {
namespace {

constexpr const char* kJobColumns =
    "j.id, j.record_id, r.registration_number, j.station_id, j.state, j.urgent, j.reserved_at, "
    "COALESCE(j.printed_at, ''), COALESCE(j.serial, 0), COALESCE(j.withdrawn_reason, ''), j.printed_after_withdrawal";
constexpr const char* kJobFrom = " FROM print_jobs j JOIN records r ON r.id = j.record_id";

// Queue entries read per page while looking for records without a job.
constexpr int kQueuePage = 200;

StatusOr<PrintJobState> ParseState(const std::string& name) {
  for (PrintJobState state : {PrintJobState::kReserved, PrintJobState::kPrinted, PrintJobState::kWithdrawn}) {
    if (PrintJobStateName(state) == name) return state;
  }
  return DataLoss("print_jobs: unknown state '" + name + "'");
}

StatusOr<PrintJob> ToJob(const store::Row& row) {
  PrintJob job;
  job.id = row.Int(0);
  job.record_id = row.Int(1);
  job.registration_number = row.Text(2);
  job.station_id = row.Text(3);
  ASSIGN_OR_RETURN(job.state, ParseState(row.Text(4)));
  job.urgent = row.Int(5) != 0;
  job.reserved_at = row.Text(6);
  job.printed_at = row.Text(7);
  job.serial = row.Int(8);
  job.withdrawn_reason = row.Text(9);
  job.printed_after_withdrawal = row.Int(10) != 0;
  return job;
}

StatusOr<std::vector<PrintJob>> ToJobs(const std::vector<store::Row>& rows) {
  std::vector<PrintJob> jobs;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(PrintJob job, ToJob(row));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

bool IsUrgent(const QueueEntry& entry) { return !entry.reasons.empty() && entry.reasons[0].code == "urgent"; }

}  // namespace

std::string_view PrintJobStateName(PrintJobState state) {
  switch (state) {
    case PrintJobState::kReserved: return "reserved";
    case PrintJobState::kPrinted: return "printed";
    case PrintJobState::kWithdrawn: return "withdrawn";
  }
  return "reserved";
}

StatusOr<std::vector<PrintJob>> PrintJobs::TopUp(std::string_view station_id, std::string_view regency_code,
                                                 int64_t capacity) {
  if (capacity < 0) return InvalidArgument("print jobs: capacity " + std::to_string(capacity) + " is negative");
  std::vector<PrintJob> reserved;
  auto reserve = [&]() -> Status {
    ASSIGN_OR_RETURN(auto held, db_.Query("SELECT COUNT(*) FROM print_jobs WHERE station_id = ? AND state = ?",
                                          {station_id, PrintJobStateName(PrintJobState::kReserved)}));
    int64_t room = capacity - held[0].Int(0);
    PrintQueue queue(db_, clock_);
    const std::string now = FormatTimestamp(clock_.Now());
    for (int offset = 0;; offset += kQueuePage) {
      ASSIGN_OR_RETURN(auto page, queue.List(regency_code, kQueuePage, offset));
      for (const QueueEntry& entry : page) {
        const bool urgent = IsUrgent(entry);
        if (!urgent && room <= 0) return Status::Ok();  // urgent cases lead the order: none follow
        ASSIGN_OR_RETURN(auto taken, db_.Query("SELECT 1 FROM print_jobs WHERE record_id = ? AND state = ?",
                                               {entry.record_id, PrintJobStateName(PrintJobState::kReserved)}));
        if (!taken.empty()) continue;
        ASSIGN_OR_RETURN(auto inserted,
                         db_.Query("INSERT INTO print_jobs (record_id, station_id, state, urgent, reserved_at) "
                                   "VALUES (?, ?, ?, ?, ?) RETURNING id",
                                   {entry.record_id, station_id, PrintJobStateName(PrintJobState::kReserved),
                                    int64_t{urgent}, now}));
        PrintJob job;
        job.id = inserted.at(0).Int(0);
        job.record_id = entry.record_id;
        job.registration_number = entry.registration_number;
        job.station_id = std::string(station_id);
        job.urgent = urgent;
        job.reserved_at = now;
        reserved.push_back(std::move(job));
        --room;
      }
      if (static_cast<int>(page.size()) < kQueuePage) break;
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    reserved.clear();
    RETURN_IF_ERROR(reserve());
    if (reserved.empty()) return Status::Ok();
    nlohmann::json jobs = nlohmann::json::array();
    for (const PrintJob& job : reserved) jobs.push_back(job.id);
    return store::AuditLog(db_, clock_).Append({"central.print_jobs", "print.jobs_reserve",
                                                "station:" + std::string(station_id),
                                                nlohmann::json{{"jobs", jobs}}.dump()});
  }));
  return reserved;
}

StatusOr<PrintJob> PrintJobs::MarkPrinted(int64_t job_id, std::string_view station_id, int64_t serial,
                                          std::string_view printed_at) {
  PrintJob job;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(job, GetForStation(job_id, station_id));
    const bool printed_before = job.state == PrintJobState::kPrinted || job.printed_after_withdrawal;
    if (printed_before) {
      if (job.serial == serial) return Status::Ok();
      return FailedPrecondition("print job " + std::to_string(job_id) + " was already printed on blank " +
                                std::to_string(job.serial) + ", not " + std::to_string(serial));
    }
    const bool withdrawn = job.state == PrintJobState::kWithdrawn;
    RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, printed_at = ?, serial = ?, "
                             "printed_after_withdrawal = ? WHERE id = ?",
                             {PrintJobStateName(withdrawn ? PrintJobState::kWithdrawn : PrintJobState::kPrinted),
                              printed_at, serial, int64_t{withdrawn}, job_id}));
    if (!withdrawn) {
      RETURN_IF_ERROR(store::RecordRepository(db_, clock_).Transition(
          job.record_id, RecordState::kPrintReady, RecordState::kPrinted, "station:" + std::string(station_id),
          "print job " + std::to_string(job_id) + ", blank " + std::to_string(serial)));
    }
    RETURN_IF_ERROR(store::AuditLog(db_, clock_).Append(
        {"station:" + std::string(station_id), withdrawn ? "print.job_printed_after_withdrawal" : "print.job_printed",
         "record:" + std::to_string(job.record_id),
         nlohmann::json{{"job", job_id}, {"serial", serial}, {"printed_at", printed_at}}.dump()}));
    ASSIGN_OR_RETURN(job, Get(job_id));
    return Status::Ok();
  }));
  return job;
}

StatusOr<PrintJob> PrintJobs::MarkMisprinted(int64_t job_id, std::string_view station_id, int64_t serial) {
  PrintJob job;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(job, GetForStation(job_id, station_id));
    const bool printed = job.state == PrintJobState::kPrinted || job.printed_after_withdrawal;
    if (!printed) return Status::Ok();  // reported before, or never printed: nothing to undo
    if (job.serial != serial) {
      return FailedPrecondition("print job " + std::to_string(job_id) + " was printed on blank " +
                                std::to_string(job.serial) + ", not " + std::to_string(serial));
    }
    const bool withdrawn = job.state == PrintJobState::kWithdrawn;
    RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, printed_at = NULL, serial = NULL, "
                             "printed_after_withdrawal = 0 WHERE id = ?",
                             {PrintJobStateName(withdrawn ? PrintJobState::kWithdrawn : PrintJobState::kReserved),
                              job_id}));
    if (!withdrawn) {
      RETURN_IF_ERROR(store::RecordRepository(db_, clock_).Transition(
          job.record_id, RecordState::kPrinted, RecordState::kPrintReady, "station:" + std::string(station_id),
          "misprint on blank " + std::to_string(serial) + "; print job " + std::to_string(job_id) + " prints again"));
    }
    RETURN_IF_ERROR(store::AuditLog(db_, clock_).Append(
        {"station:" + std::string(station_id), "print.job_misprinted", "record:" + std::to_string(job.record_id),
         nlohmann::json{{"job", job_id}, {"serial", serial}}.dump()}));
    ASSIGN_OR_RETURN(job, Get(job_id));
    return Status::Ok();
  }));
  return job;
}

StatusOr<std::optional<PrintJob>> PrintJobs::Withdraw(int64_t record_id, std::string_view reason,
                                                      std::string_view actor) {
  std::optional<PrintJob> withdrawn;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    withdrawn.reset();
    ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kJobColumns + kJobFrom +
                                              " WHERE j.record_id = ? AND j.state = ?",
                                          {record_id, PrintJobStateName(PrintJobState::kReserved)}));
    if (rows.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(PrintJob job, ToJob(rows[0]));
    RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, withdrawn_at = ?, withdrawn_reason = ? WHERE id = ?",
                             {PrintJobStateName(PrintJobState::kWithdrawn), FormatTimestamp(clock_.Now()), reason,
                              job.id}));
    job.state = PrintJobState::kWithdrawn;
    job.withdrawn_reason = std::string(reason);
    RETURN_IF_ERROR(store::AuditLog(db_, clock_).Append(
        {std::string(actor), "print.job_withdraw", "record:" + std::to_string(record_id),
         nlohmann::json{{"job", job.id}, {"station", job.station_id}, {"reason", reason}}.dump()}));
    withdrawn = std::move(job);
    return Status::Ok();
  }));
  return withdrawn;
}

Status PrintJobs::KeepChip(int64_t job_id, std::span<const uint8_t> chip) {
  return db_.Exec("UPDATE print_jobs SET chip = ? WHERE id = ?",
                  {store::Value(std::vector<uint8_t>(chip.begin(), chip.end())), job_id});
}

StatusOr<std::vector<uint8_t>> PrintJobs::Chip(int64_t job_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT chip FROM print_jobs WHERE id = ? AND chip IS NOT NULL", {job_id}));
  if (rows.empty()) return NotFound("print job " + std::to_string(job_id) + " has no chip blob");
  return rows[0].Bytes(0);
}

StatusOr<PrintJob> PrintJobs::GetForStation(int64_t job_id, std::string_view station_id) {
  ASSIGN_OR_RETURN(PrintJob job, Get(job_id));
  if (job.station_id != station_id) {
    return NotFound("print job " + std::to_string(job_id) + " is not reserved for station " + std::string(station_id));
  }
  return job;
}

StatusOr<PrintJob> PrintJobs::Get(int64_t job_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kJobColumns + kJobFrom + " WHERE j.id = ?", {job_id}));
  if (rows.empty()) return NotFound("print job " + std::to_string(job_id) + " does not exist");
  return ToJob(rows[0]);
}

StatusOr<PrintJob> PrintJobs::PrintedCardOf(int64_t record_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kJobColumns + kJobFrom +
                                            " WHERE j.record_id = ? AND j.state = ? ORDER BY j.id DESC LIMIT 1",
                                        {record_id, PrintJobStateName(PrintJobState::kPrinted)}));
  if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " has no printed card");
  return ToJob(rows[0]);
}

StatusOr<std::vector<PrintJob>> PrintJobs::ForStation(std::string_view station_id, PrintJobState state) {
  ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kJobColumns + kJobFrom +
                                            " WHERE j.station_id = ? AND j.state = ? ORDER BY j.id",
                                        {station_id, PrintJobStateName(state)}));
  return ToJobs(rows);
}

}  // namespace ektp::printing
