// The blank-card (blangko) ledger at central: where every blank serial is,
// from the manufacturer's delivery into national stock to a printed card.
//
// Serials: a blank's serial is an integer in [1, kMaxSerial], written with
// 10 digits ("0000012345", FormatSerial). A range [first, last] holds
// last - first + 1 blanks.
//
// Places a serial can be, and the movements between them:
//   national stock      --Ship(regency)-->            regency stock
//   regency stock       --HandOver(station)-->        in transit to the station
//   in transit          --Receive (station event)-->  at the station
//   at the station      --Consume / Spoil (station events)--> used (one row per serial)
//   consumed            --Misprint (station event)-->  spoiled (the card came out wrong)
//   consumed            --VoidUncollected-->           spoiled (uncollected: the collecting
//                                                      station returned and voided the card)
//   at the station      --ReturnToRegency (station event)-->  regency stock
//   regency stock       --ReturnToNational-->         national stock
// StockIn puts a manufacturer's range into national stock. A regency may get
// several shipments (instalments). Stock is kept as disjoint ranges per place
// (blank_stock), so 10,000 blanks at a station are one row until printing
// splits it; each consumed or spoiled serial is one row (blank_uses).
//
// Invariants, checked before anything is written: a range enters national
// stock once (kAlreadyExists naming the overlapped range); a movement moves
// only serials that are all at its source place, so no holder's stock goes
// negative (kFailedPrecondition naming the first serial that is not there and
// where it is); a station receives, consumes, spoils and returns only serials
// handed over to it from its own regency's stock (kFailedPrecondition); a
// serial is consumed or spoiled at most once (kFailedPrecondition: the
// idempotent replay is by event id, below, so a second use of a serial is
// never a success); a record is printed on at most one serial. A refusal is
// decided before the first write, so it changes nothing even inside a
// caller's transaction that goes on to commit (an ingest batch refusing one
// packet). Refusals are returned to the caller, not written to the
// audit log: the project's audit chain records decisions and changes that
// happened (store/audit_log.h), and a refused station event stays parked at
// its station with the reason.
//
// Station events (Receive, Consume, Spoil, ReturnToRegency) are what a print
// station's packets carry. Each names the station's own event id; (station,
// event id) is applied at most once: the same event again returns
// Applied::kDuplicate and changes nothing, while a different event under a
// used id is kInvalidArgument. The ingest writer calls them inside its
// packet transaction.
//
// Every method runs in one transaction, joining the caller's if one is open.
// Every applied movement is appended to the audit log (store/audit_log.h) in
// that transaction. Writers first take the ledger's lock row
// (blank_ledger_lock), then the audit head: a caller that appends its own
// audit entries in the same transaction should call the ledger first, else
// PostgreSQL may abort one of two concurrent transactions (kAborted, retried
// by Connection::Transact).
//
// Schema: central migration 8 (store/migrations.cc). Station rows are read
// from `stations` (central migration 2).
// Thread-safety: like the Connection it uses (one thread at a time).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/db.h"

namespace ektp::blanks {

inline constexpr int64_t kMaxSerial = 9'999'999'999;
// The longest note a spoiled blank may carry, in bytes.
inline constexpr size_t kMaxNote = 500;

// "0000012345". REQUIRES: 0 <= serial <= kMaxSerial.
std::string FormatSerial(int64_t serial);
// Digits only, 1..10 of them, value in [1, kMaxSerial]; kInvalidArgument otherwise.
StatusOr<int64_t> ParseSerial(std::string_view text);

struct SerialRange {
  int64_t first = 0;
  int64_t last = 0;
  int64_t size() const { return last - first + 1; }
};
// "0000000101-0000000200", or one serial when first == last.
std::string FormatRange(const SerialRange& range);

// kUncollected is recorded only by VoidUncollected; Spoil refuses it.
enum class SpoilReason { kMisprint, kDamagedInTransit, kPrinterJam, kUncollected };
inline constexpr std::array<SpoilReason, 4> kSpoilReasons = {SpoilReason::kMisprint, SpoilReason::kDamagedInTransit,
                                                             SpoilReason::kPrinterJam, SpoilReason::kUncollected};
// "misprint", "damaged_in_transit", "printer_jam", "uncollected"
std::string_view SpoilReasonName(SpoilReason reason);
// "salah cetak", "rusak dalam pengiriman", "printer macet", "tidak diambil"
std::string_view SpoilReasonLabel(SpoilReason reason);
StatusOr<SpoilReason> ParseSpoilReason(std::string_view name);

// What a station event did.
enum class Applied { kApplied, kDuplicate };

// Where a serial is now.
struct Location {
  // "unknown" (never entered national stock), "national", "regency",
  // "in_transit", "station", "consumed", "spoiled".
  std::string place;
  std::string regency_code;  // regency, in_transit, station, consumed, spoiled
  std::string station_id;    // in_transit, station, consumed, spoiled
  int64_t record_id = 0;     // consumed (and a spoiled misprint that names one)
  std::string reason;        // spoiled
  std::string since;         // when it got there
  std::string description;   // English: "at station ST-351201-01", "consumed at ... for record 7"
};

// The blanks of one regency that are still usable, where they are.
struct OnHand {
  int64_t in_store = 0;     // the regency's stock, not yet handed to a station
  int64_t in_transit = 0;   // handed over to a station, receipt not yet confirmed
  int64_t at_stations = 0;  // received by the regency's stations
  int64_t total() const { return in_store + in_transit + at_stations; }
};

struct RegencyOnHand {
  std::string regency_code;
  OnHand on_hand;
};

// A named reconciliation finding. Codes:
//   awaiting_receipt  blanks handed over to a station whose receipt is not confirmed
//   out_of_balance    the movement history and the stock held disagree (the
//                     ledger's tables were changed outside it)
struct Discrepancy {
  std::string code;
  std::string station_id;  // empty for the regency itself
  int64_t quantity = 0;
  std::string detail;  // English, names the serials and the dates
  std::string pesan;   // Bahasa Indonesia, for the operator
};

inline int64_t SumOf(const std::array<int64_t, kSpoilReasons.size()>& counts) {
  int64_t sum = 0;
  for (int64_t n : counts) sum += n;
  return sum;
}

struct StationReconciliation {
  std::string station_id;
  int64_t handed_over = 0;  // handed to the station by its regency
  int64_t received = 0;     // confirmed by the station
  int64_t printed = 0;
  std::array<int64_t, kSpoilReasons.size()> spoiled{};  // indexed like kSpoilReasons
  int64_t returned = 0;     // returned to the regency's stock
  int64_t in_transit = 0;   // handed over, not yet confirmed
  int64_t on_hand = 0;      // received and still at the station
  int64_t spoiled_total() const { return SumOf(spoiled); }
};

struct RegencyReconciliation {
  std::string regency_code;
  std::string regency_name;
  int64_t shipments = 0;              // instalments from national stock
  int64_t shipped = 0;                // blanks in them
  int64_t returned_to_national = 0;
  int64_t handed_over = 0;            // to stations, all together
  int64_t received = 0;               // confirmed by stations
  int64_t printed = 0;
  std::array<int64_t, kSpoilReasons.size()> spoiled{};
  int64_t returned_by_stations = 0;
  OnHand on_hand;
  std::vector<StationReconciliation> stations;  // every station with a movement, by id
  std::vector<Discrepancy> discrepancies;       // empty when everything is accounted for
  int64_t spoiled_total() const { return SumOf(spoiled); }
};

class BlankLedger {
 public:
  // `connection` and `clock` must outlive the ledger. The central schema
  // (migration 8) must be applied.
  BlankLedger(store::Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Central's movements, by a named operator (`actor`, audited). `reference`
  // is the delivery note or letter number (may be empty, at most 200 chars).
  // Every one: kInvalidArgument for a bad range, code or empty actor.

  // The manufacturer's range enters national stock. kAlreadyExists when any
  // serial of it entered before (naming that range).
  Status StockIn(SerialRange range, std::string_view actor, std::string_view reference = "");
  // National stock to a regency (one instalment). kFailedPrecondition when a
  // serial is not in national stock.
  Status Ship(std::string_view regency_code, SerialRange range, std::string_view actor,
              std::string_view reference = "");
  // The regency's stock to one of its print stations. kNotFound station;
  // kFailedPrecondition when the station is revoked, cannot print, or a
  // serial is not in the stock of the station's regency.
  Status HandOver(std::string_view station_id, SerialRange range, std::string_view actor,
                  std::string_view reference = "");
  // The regency's stock back to national stock.
  Status ReturnToNational(std::string_view regency_code, SerialRange range, std::string_view actor,
                          std::string_view reference = "");

  // Station events. `event_id`: 1-64 of [A-Za-z0-9._:-], unique per station.
  // kNotFound station; kFailedPrecondition when a serial is not where the
  // event needs it (named); kInvalidArgument bad input or a reused event id
  // with other content.
  // The station confirms blanks handed over to it arrived.
  StatusOr<Applied> Receive(std::string_view station_id, std::string_view event_id, SerialRange range);
  // One serial printed for `record_id`. kNotFound record; kFailedPrecondition
  // when the serial was used before or the record was printed on another serial.
  StatusOr<Applied> Consume(std::string_view station_id, std::string_view event_id, int64_t serial,
                            int64_t record_id);
  // One serial spoiled. `note`: free text, at most 500 chars. `record_id`: the
  // misprinted record, 0 for none.
  StatusOr<Applied> Spoil(std::string_view station_id, std::string_view event_id, int64_t serial,
                          SpoilReason reason, std::string_view note, int64_t record_id = 0);
  // A card printed on `serial` for `record_id` came out wrong: the serial,
  // consumed by this station for that record, becomes spoiled (misprint),
  // and the record may be printed again on another serial.
  // kFailedPrecondition unless the serial is this station's printed card of
  // `record_id`.
  StatusOr<Applied> Misprint(std::string_view station_id, std::string_view event_id, int64_t serial,
                             int64_t record_id, std::string_view note);
  // The card printed on `serial` for `record_id` was never collected: its
  // collecting station (`station_id`, audited as the actor) returned and
  // voided it. The serial, consumed for that record by whichever station
  // printed it, becomes spoiled (uncollected). Applied once per (collecting
  // station, event id), like a station event. kFailedPrecondition unless the
  // serial is the printed card of `record_id`.
  StatusOr<Applied> VoidUncollected(std::string_view station_id, std::string_view event_id, int64_t serial,
                                    int64_t record_id);
  // Received blanks the station sends back to its regency's stock.
  StatusOr<Applied> ReturnToRegency(std::string_view station_id, std::string_view event_id, SerialRange range);

  // Reads.
  StatusOr<Location> Locate(int64_t serial);
  StatusOr<int64_t> NationalStock();
  StatusOr<OnHand> OnHandInRegency(std::string_view regency_code);
  // Received blanks at the station, still usable.
  StatusOr<int64_t> OnHandAtStation(std::string_view station_id);
  // Every regency holding or awaiting blanks (others hold none), by code.
  StatusOr<std::vector<RegencyOnHand>> OnHandByRegency();
  StatusOr<RegencyReconciliation> Reconcile(std::string_view regency_code);

 private:
  struct Place;
  struct Station;
  struct Event;
  StatusOr<Station> LoadStation(std::string_view station_id);
  // Moves `range` from `from` to `to` (nullptr: used up) in blank_stock.
  // kFailedPrecondition naming the first serial not at `from`.
  // REQUIRES: inside a transaction holding the ledger lock.
  Status Move(const SerialRange& range, const Place& from, const Place* to);
  Status RecordMovement(std::string_view kind, const SerialRange& range, std::string_view regency_code,
                        std::string_view station_id, std::string_view actor, std::string_view reference);
  // Central's movements: validates, locks, moves, records, audits.
  // `context` prefixes a refusal ("cannot ship ... to regency 35.12").
  Status CentralMove(std::string_view kind, const SerialRange& range, const Place& from, const Place& to,
                     std::string_view actor, std::string_view reference, std::string_view context);
  // Runs a station event once per (station, event id).
  StatusOr<Applied> StationEvent(std::string_view station_id, const Event& event,
                                 const std::function<Status(const Station&)>& apply);
  // Uses one serial at the station (consumed or spoiled); `use` names the
  // event's id and kind, its content is built here.
  StatusOr<Applied> UseSerial(std::string_view station_id, const Event& use, int64_t serial, bool consumed,
                              int64_t record_id, std::string_view reason, std::string_view note);

  store::Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::blanks
