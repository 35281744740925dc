// The print-ready queue: one queue per regency (kabupaten/kota), in the order
// a Disdukcapil's print officer should print.
//
// Order (docs/architecture.md, src/printing/README.md), per regency, among
// entries whose record is still print_ready:
//   1. approved urgent cases (travel or study abroad, seafarers, disaster
//      victims, and reasons added with AddUrgentReason);
//   2. records the regency's policy prioritises: a first card applied for at
//      age 17, and/or a resident holding a valid Suket (table suket_holders,
//      filled by the Suket register);
//   3. everyone else;
// and within each tier the oldest `ready_at` first (then the record id).
// Every listed entry carries the reasons for its place (`explanation`).
//
// A record leaves the queue by leaving print_ready (printed, ...); its row
// stays, so a record sent back to print_ready (spoiled blank) keeps its
// original place, and the printed events give the regency's print rate.
//
// Every method runs in a transaction, joining the caller's if one is open.
// Urgent requests, approvals, rejections, added reasons and policy changes
// are appended to the audit log (store/audit_log.h) in that transaction.
//
// Thread-safety: like the Connection it uses (one thread at a time).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/db.h"

namespace ektp::printing {

// Built-in urgent reasons; others are added with AddUrgentReason.
inline constexpr std::string_view kTravelAbroad = "travel_abroad";
inline constexpr std::string_view kStudyAbroad = "study_abroad";
inline constexpr std::string_view kSeafarer = "seafarer";
inline constexpr std::string_view kDisasterVictim = "disaster_victim";

struct UrgentReason {
  std::string code;   // "travel_abroad"; lower-case letters, digits and '_'
  std::string label;  // Bahasa Indonesia: "perjalanan ke luar negeri"
  bool built_in = false;
};

enum class UrgentStatus { kPending, kApproved, kRejected };
std::string_view UrgentStatusName(UrgentStatus status);  // "pending", "approved", "rejected"

struct UrgentRequest {
  int64_t id = 0;
  int64_t record_id = 0;
  std::string registration_number;
  std::string reason;    // an UrgentReason code
  std::string evidence;  // what was shown: document kind and number, e.g. "tiket + visa no. X123"
  std::string requested_by;
  std::string requested_at;
  UrgentStatus status = UrgentStatus::kPending;
  std::string decided_by;  // empty while pending
  std::string decided_at;
  std::string decision_note;
};

// What a regency prioritises after urgent cases. Default: nothing (oldest first).
struct QueuePolicy {
  bool first_card_at_17 = false;  // first-card applications by residents aged 17 when they became print_ready
  bool suket_holders = false;     // residents holding a valid Suket
};

// The regency code used for the national default policy.
inline constexpr std::string_view kNationalPolicy = "*";

// Why an entry stands where it does: one reason per tier that applies.
struct PlaceReason {
  std::string code;    // "urgent", "first_card_at_17", "suket_holder", "waiting"
  std::string detail;  // urgent: the reason code; waiting: ready_at
  std::string by;      // urgent: the approver
  std::string at;      // urgent: approval time; waiting: ready_at
};

struct QueueEntry {
  int64_t position = 0;  // 1-based within the regency's queue
  int64_t record_id = 0;
  std::string registration_number;
  std::string ready_at;  // when it became print_ready (UTC, "2026-11-24T10:00:00Z")
  std::vector<PlaceReason> reasons;  // in tier order; always ends with "waiting"
  std::string explanation;  // Bahasa Indonesia, e.g. "mendesak: pelaut, disetujui oleh sari pada …; lalu menunggu sejak …"
};

struct QueuePosition {
  std::string regency_code;
  int64_t position = 0;  // 1-based
  int64_t queued = 0;    // entries in the regency's queue
};

// The regency ("35.21") of a record's domicile, from its resident_json.
StatusOr<std::string> RegencyOfResidentJson(std::string_view resident_json);

class PrintQueue {
 public:
  // `connection` and `clock` must outlive the queue. The central schema
  // (migration 5) must be applied.
  PrintQueue(store::Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Puts a record that has just become print_ready into its regency's queue.
  // The pipeline calls it inside the transaction that moved the record to
  // print_ready, so `ready_at` is the clock's now. The regency comes from the
  // resident's domicile (resident_json address.village_code); "first card at
  // 17" is decided now from the application kind and the birth date (WIB).
  // Idempotent: a record already queued keeps its row and place (a reprint
  // after a spoiled blank goes back to where it stood).
  // kNotFound: no such record. kFailedPrecondition: the record is not
  // print_ready. kDataLoss: its stored resident_json has no usable address.
  Status Enqueue(int64_t record_id, std::string_view actor);

  // The regency's queue in print order, `limit` entries after skipping `offset`.
  // kInvalidArgument: `regency_code` is not a regency code ("35.21").
  StatusOr<std::vector<QueueEntry>> List(std::string_view regency_code, int limit = 100, int offset = 0);

  // A queued print_ready record's place. kNotFound when the record is not
  // waiting in a queue.
  StatusOr<QueuePosition> Position(int64_t record_id);

  // The place of `record_id` in `regency_code`'s queue: position 0 when it is
  // not waiting there, `queued` counted either way. Runs the same queries
  // whether or not the record is there (the status lookup relies on it).
  StatusOr<QueuePosition> PositionIn(std::string_view regency_code, int64_t record_id);

  // Cards of the regency's queue printed per day over the last `window`
  // (record events to `printed`; a reprint counts again). 0 when none.
  StatusOr<double> PrintRatePerDay(std::string_view regency_code,
                                   std::chrono::hours window = std::chrono::hours(24 * 14));

  // Urgent cases. A request names a built-in or added reason and the
  // evidence seen; a supervisor other than the requester approves or
  // rejects it. One open (pending or approved) request per record.
  // RequestUrgent: kNotFound record; kInvalidArgument unknown reason, empty
  // evidence or actor; kFailedPrecondition when the record is past printing
  // or was refused; kAlreadyExists when the record has an open request.
  StatusOr<int64_t> RequestUrgent(int64_t record_id, std::string_view reason, std::string_view evidence,
                                  std::string_view requested_by);
  // kNotFound request; kFailedPrecondition when no longer pending;
  // kPermissionDenied when `approver` is the requester.
  Status ApproveUrgent(int64_t request_id, std::string_view approver);
  Status RejectUrgent(int64_t request_id, std::string_view approver, std::string_view note);
  StatusOr<UrgentRequest> GetUrgent(int64_t request_id);
  // Requests with `status` (all when nullopt), oldest first.
  StatusOr<std::vector<UrgentRequest>> ListUrgent(std::optional<UrgentStatus> status, int limit = 100);

  // The built-in reasons and those added, by code. AddUrgentReason:
  // kInvalidArgument bad code or empty label; kAlreadyExists taken code.
  StatusOr<std::vector<UrgentReason>> UrgentReasons();
  Status AddUrgentReason(std::string_view code, std::string_view label, std::string_view actor);

  // The policy of a regency: its own row, else the national default
  // (kNationalPolicy), else QueuePolicy{}. SetPolicy takes a regency code or
  // kNationalPolicy.
  StatusOr<QueuePolicy> Policy(std::string_view regency_code);
  Status SetPolicy(std::string_view regency_code, const QueuePolicy& policy, std::string_view actor);

 private:
  Status DecideUrgent(int64_t request_id, std::string_view approver, UrgentStatus decision, std::string_view note);

  store::Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::printing
