// The print jobs central sends a print station through its feed: held until
// printed, or withdrawn. Central's side: printing/print_jobs.h.
#include <algorithm>

#include "station/station.h"

namespace ektp::station {
namespace {

std::string_view HeldPrintJobStateName(HeldPrintJobState state) {
  switch (state) {
    case HeldPrintJobState::kPending: return "pending";
    case HeldPrintJobState::kPrinted: return "printed";
    case HeldPrintJobState::kWithdrawn: return "withdrawn";
  }
  return "pending";
}

StatusOr<HeldPrintJobState> ParseHeldPrintJobState(const std::string& name) {
  for (auto state : {HeldPrintJobState::kPending, HeldPrintJobState::kPrinted, HeldPrintJobState::kWithdrawn}) {
    if (HeldPrintJobStateName(state) == name) return state;
  }
  return DataLoss("print_jobs: unknown state '" + name + "'");
}

}  // namespace

Status Station::HoldPrintJob(const sync::PrintJobBody& job, Status& refusal) {
  if (std::ranges::find(identity_.capabilities, "print") == identity_.capabilities.end()) {
    refusal = FailedPrecondition("print job " + std::to_string(job.job_id) + ": this station has no print capability");
    return Status::Ok();
  }
  return db_.Exec("INSERT INTO print_jobs (job_id, registration_number, urgent, reserved_at, sealed_card, state, "
                  "received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                  {job.job_id, job.registration_number, int64_t{job.urgent}, job.reserved_at, job.sealed_card,
                   HeldPrintJobStateName(HeldPrintJobState::kPending), FormatTimestamp(clock_.Now())});
}

Status Station::WithdrawPrintJob(const sync::PrintJobWithdrawnBody& withdrawal) {
  // A job already printed stays printed: central flags the card when the print report reaches it.
  return db_.Exec("UPDATE print_jobs SET state = ?, withdrawn_reason = ? WHERE job_id = ? AND state = ?",
                  {HeldPrintJobStateName(HeldPrintJobState::kWithdrawn), withdrawal.reason, withdrawal.job_id,
                   HeldPrintJobStateName(HeldPrintJobState::kPending)});
}

StatusOr<std::vector<HeldPrintJob>> Station::PrintJobs() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT job_id, registration_number, urgent, reserved_at, state, "
                                        "COALESCE(withdrawn_reason, '') FROM print_jobs "
                                        "ORDER BY urgent DESC, reserved_at, job_id"));
  std::vector<HeldPrintJob> jobs;
  for (const store::Row& row : rows) {
    HeldPrintJob job{row.Int(0), row.Text(1), row.Int(2) != 0, row.Text(3)};
    ASSIGN_OR_RETURN(job.state, ParseHeldPrintJobState(row.Text(4)));
    job.withdrawn_reason = row.Text(5);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace ektp::station
