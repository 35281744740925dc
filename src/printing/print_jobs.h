// Print jobs: records of a regency's print queue reserved for one print
// station, so that the station can print them while its link is down.
//
// A job is `reserved` for exactly one station until that station reports it
// printed (`printed`) or central takes it back (`withdrawn`); a record has at
// most one reserved job (a unique index), so no two stations print it.
// Central reserves in the queue's order (printing/print_queue.h) up to what
// the station can print (its blanks plus a margin, chosen by the caller), and
// always reserves approved urgent cases, even beyond that, so that they come
// out first at the station once its feed arrives.
//
// A printed report for a job that was withdrawn meanwhile is accepted (the
// card exists, its blank is used) and flagged `printed_after_withdrawal`, so
// an officer can retrieve the card.
//
// Every method runs in a transaction, joining the caller's if one is open,
// and appends its audit entries in it. Thread-safety: like the Connection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/db.h"

namespace ektp::printing {

enum class PrintJobState { kReserved, kPrinted, kWithdrawn };
std::string_view PrintJobStateName(PrintJobState state);  // "reserved", "printed", "withdrawn"

struct PrintJob {
  int64_t id = 0;
  int64_t record_id = 0;
  std::string registration_number;
  std::string station_id;
  PrintJobState state = PrintJobState::kReserved;
  bool urgent = false;  // an approved urgent case when it was reserved
  std::string reserved_at;
  std::string printed_at;  // when the station printed it; "" until then
  int64_t serial = 0;      // the blank it was printed on; 0 until then
  std::string withdrawn_reason;
  bool printed_after_withdrawal = false;
};

class PrintJobs {
 public:
  // `connection` and `clock` must outlive this. Central migration 9 applied.
  PrintJobs(store::Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Reserves queued print_ready records of `regency_code` for `station_id`,
  // in print order, until the station holds `capacity` reserved jobs, plus
  // every approved urgent case of the regency not yet reserved. Returns the
  // jobs reserved now, in print order. The caller checks that the station
  // may print for the regency. kInvalidArgument: negative capacity.
  StatusOr<std::vector<PrintJob>> TopUp(std::string_view station_id, std::string_view regency_code, int64_t capacity);

  // The station's report that it printed `job_id` on blank `serial` at
  // `printed_at`. A reserved job becomes printed and its record moves
  // print_ready -> printed; a withdrawn job is flagged printed_after_withdrawal
  // and its record is left as it is. Idempotent: the same report again
  // returns the job unchanged. kNotFound: no such job for this station.
  // kFailedPrecondition: already printed on another serial.
  StatusOr<PrintJob> MarkPrinted(int64_t job_id, std::string_view station_id, int64_t serial,
                                 std::string_view printed_at);

  // The station's report that the card it printed for `job_id` on `serial`
  // came out wrong (its blank is spoiled in the ledger by the caller). A
  // printed job is reserved again for the same station, which prints it on
  // another blank, and its record moves printed -> print_ready; a job printed
  // after its withdrawal stays withdrawn, no longer flagged. Idempotent.
  // kNotFound: no such job for this station. kFailedPrecondition: the job's
  // card is on another serial.
  StatusOr<PrintJob> MarkMisprinted(int64_t job_id, std::string_view station_id, int64_t serial);

  // Takes back the reserved job of `record_id`, if any (an adjudication
  // reversed, a record revoked, a job moved to another station). Returns the
  // job withdrawn, or nullopt when the record had none reserved. A record
  // still print_ready afterwards is reserved again by the next TopUp.
  StatusOr<std::optional<PrintJob>> Withdraw(int64_t record_id, std::string_view reason, std::string_view actor);

  // The chip blob central signed for the job's card (central/print_feed.h
  // keeps it when it sends the job, so that the card's dispatch carries the
  // very blob printed). kNotFound: no such job, or a job without one.
  Status KeepChip(int64_t job_id, std::span<const uint8_t> chip);
  StatusOr<std::vector<uint8_t>> Chip(int64_t job_id);

  StatusOr<PrintJob> Get(int64_t job_id);
  // The record's printed job (its card's serial). kNotFound when none.
  StatusOr<PrintJob> PrintedCardOf(int64_t record_id);
  // The station's jobs in `state`, oldest reservation first.
  StatusOr<std::vector<PrintJob>> ForStation(std::string_view station_id, PrintJobState state);

 private:
  // kNotFound unless the job exists and is `station_id`'s.
  StatusOr<PrintJob> GetForStation(int64_t job_id, std::string_view station_id);

  store::Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::printing
