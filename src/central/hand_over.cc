#include "central/hand_over.h"

#include <cmath>
#include <map>

#include "blanks/ledger.h"
#include "central/sukets.h"
#include "printing/print_jobs.h"
#include "store/record_repository.h"

namespace ektp::central {
namespace {

constexpr const char* kChecked = "fingerprint_checked";
constexpr const char* kOverride = "pickup_override";
constexpr const char* kActivated = "card_activated";
constexpr const char* kReturned = "card_returned";

// The record of a card that `station` reports handing over, checked to be
// the card printed for it on `serial` and collected at `station`.
StatusOr<store::Record> CollectedRecord(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                                        std::string_view kind, const std::string& registration_number,
                                        int64_t serial) {
  const std::string context = std::string(kind) + " of card " + blanks::FormatSerial(serial) + " from station " + station.id;
  auto record = store::RecordRepository(db, clock).FindByRegistration(registration_number);
  if (!record.ok()) return FailedPrecondition(context + ": " + std::string(record.status().message()));
  if (record->station_id != station.id) {
    return FailedPrecondition(context + ": " + registration_number + " is collected at station " + record->station_id +
                              ", not " + station.id);
  }
  auto job = printing::PrintJobs(db, clock).PrintedCardOf(record->id);
  if (!job.ok() || job->serial != serial) {
    return FailedPrecondition(context + ": " + registration_number + "'s card is not on blank " +
                              blanks::FormatSerial(serial));
  }
  return std::move(*record);
}

// Stores the report once; false when this station's event was stored already.
StatusOr<bool> StoreOnce(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                         std::string_view event_id, const char* kind, const std::string& registration_number,
                         int64_t serial, const std::string& by, std::string_view outcome, const std::string& body,
                         const std::string& at) {
  ASSIGN_OR_RETURN(auto rows, db.Query("INSERT INTO hand_over_events (station_id, event_id, kind, registration_number, "
                                       "serial, operator, outcome, body, at, received_at) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                       "ON CONFLICT (station_id, event_id) DO NOTHING RETURNING event_id",
                                       {station.id, event_id, kind, registration_number, serial, by, outcome, body, at,
                                        FormatTimestamp(clock.Now())}));
  return !rows.empty();
}

// Queues a record_status item telling the record's station its new state.
void Tell(const CentralKeys& keys, const store::Record& told, RecordState state,
          std::vector<pipeline::QueuedFeedItem>& items) {
  if (told.station_id.empty()) return;
  sync::RecordStatusBody body{told.registration_number, state, "", told.holder_nik};
  items.push_back({told.station_id, sync::SignFeedItem({sync::FeedKind::kRecordStatus, std::move(body)}, keys.signing)});
}

}  // namespace

Status RecordFingerprintCheck(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                              const sync::FingerprintCheckedBody& check) {
  RETURN_IF_ERROR(CollectedRecord(db, clock, station, kChecked, check.registration_number, check.serial).status());
  return StoreOnce(db, clock, station, check.event_id, kChecked, check.registration_number, check.serial, check.by,
                   check.passed ? "passed" : "failed", sync::FingerprintCheckedToJson(check), check.at)
      .status();
}

Status RecordPickupOverride(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                            const sync::PickupOverrideBody& override_body) {
  RETURN_IF_ERROR(
      CollectedRecord(db, clock, station, kOverride, override_body.registration_number, override_body.serial).status());
  return StoreOnce(db, clock, station, override_body.event_id, kOverride, override_body.registration_number,
                   override_body.serial, override_body.by, "override", sync::PickupOverrideToJson(override_body),
                   override_body.at)
      .status();
}

Status ActivateCard(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                    const RegisteredStation& station, const sync::CardActivatedBody& activation,
                    std::vector<pipeline::QueuedFeedItem>& items) {
  ASSIGN_OR_RETURN(store::Record record, CollectedRecord(db, clock, station, kActivated, activation.registration_number,
                                                         activation.serial));
  const std::string context = std::string(kActivated) + " of " + activation.registration_number;
  if (!record.holder_nik.empty() && record.holder_nik != activation.nik) {
    return FailedPrecondition(context + ": the card's NIK is not the record's");
  }
  ASSIGN_OR_RETURN(bool first, StoreOnce(db, clock, station, activation.event_id, kActivated,
                                         activation.registration_number, activation.serial, activation.by,
                                         sync::HandOverBasisName(activation.basis),
                                         sync::CardActivatedToJson(activation), activation.at));
  if (!first) return Status::Ok();
  store::RecordRepository records(db, clock);
  const std::string actor = "station:" + station.id;
  RETURN_IF_ERROR(records.Transition(record.id, RecordState::kDispatched, RecordState::kActivated, actor,
                                     "handed over (" + std::string(sync::HandOverBasisName(activation.basis)) + ") by " +
                                         activation.by)
                      .WithContext(context));
  RETURN_IF_ERROR(RevokeSukets(db, clock, record.registration_number, activation.nik,
                               "card " + blanks::FormatSerial(activation.serial) + " activated")
                      .status());
  Tell(keys, record, RecordState::kActivated, items);
  ASSIGN_OR_RETURN(auto earlier, records.FindByHolderNik(activation.nik, RecordState::kActivated));
  for (const store::Record& previous : earlier) {
    if (previous.id == record.id) continue;
    RETURN_IF_ERROR(records.Transition(previous.id, RecordState::kActivated, RecordState::kReplaced, actor,
                                       "replaced by " + activation.registration_number));
    Tell(keys, previous, RecordState::kReplaced, items);
  }
  return Status::Ok();
}

Status ReturnUncollectedCard(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                             const RegisteredStation& station, const sync::CardReturnedBody& returned,
                             std::vector<pipeline::QueuedFeedItem>& items) {
  ASSIGN_OR_RETURN(store::Record record,
                   CollectedRecord(db, clock, station, kReturned, returned.registration_number, returned.serial));
  const std::string context = std::string(kReturned) + " of " + returned.registration_number;
  ASSIGN_OR_RETURN(auto seen, db.Query("SELECT 1 FROM hand_over_events WHERE station_id = ? AND event_id = ?",
                                       {station.id, returned.event_id}));
  if (!seen.empty()) return Status::Ok();
  if (record.state != RecordState::kDispatched) {
    return FailedPrecondition(context + ": the record is " + std::string(RecordStateName(record.state)) +
                              ", not dispatched");
  }
  // The ledger first: it takes its lock before the audit head (blanks/ledger.h).
  RETURN_IF_ERROR(blanks::BlankLedger(db, clock)
                      .VoidUncollected(station.id, returned.event_id, returned.serial, record.id)
                      .status()
                      .WithContext(context));
  RETURN_IF_ERROR(StoreOnce(db, clock, station, returned.event_id, kReturned, returned.registration_number,
                            returned.serial, returned.by, "returned", sync::CardReturnedToJson(returned), returned.at)
                      .status());
  RETURN_IF_ERROR(store::RecordRepository(db, clock)
                      .Transition(record.id, RecordState::kDispatched, RecordState::kRevoked, "station:" + station.id,
                                  returned.reason + " (card " + blanks::FormatSerial(returned.serial) + ", by " +
                                      returned.by + ")")
                      .WithContext(context));
  // The resident applies again; no Suket stands for a voided card.
  RETURN_IF_ERROR(RevokeSukets(db, clock, record.registration_number, "",
                               "card " + blanks::FormatSerial(returned.serial) + " returned uncollected")
                      .status());
  Tell(keys, record, RecordState::kRevoked, items);
  return Status::Ok();
}

double BinomialUpperTail(int64_t k, int64_t n, double p) {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  double tail = 0;
  for (int64_t i = k; i <= n; ++i) {
    const double log_term = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) +
                            i * std::log(p) + (n - i) * std::log1p(-p);
    tail += std::exp(log_term);
  }
  return std::min(1.0, tail);
}

namespace {

struct Counts {
  int64_t checks = 0, failed = 0, hand_overs = 0, overrides = 0, delegated = 0;
  int64_t enrollments = 0, excepted = 0, unapproved = 0;
};

// Fills each unit's rates against the pooled rate of the other units.
void Rate(std::vector<IntegrityUnit>& units, const std::vector<Counts>& counts, double alpha, int64_t min_base) {
  struct Measure {
    IntegrityRate IntegrityUnit::*rate;
    int64_t Counts::*events;
    int64_t Counts::*base;
  };
  const Measure measures[] = {{&IntegrityUnit::failed_checks, &Counts::failed, &Counts::checks},
                              {&IntegrityUnit::overrides, &Counts::overrides, &Counts::hand_overs},
                              {&IntegrityUnit::delegated, &Counts::delegated, &Counts::hand_overs},
                              {&IntegrityUnit::exceptions, &Counts::excepted, &Counts::enrollments}};
  for (const Measure& m : measures) {
    int64_t all_events = 0, all_base = 0, tested = 0;
    for (const Counts& c : counts) {
      all_events += c.*m.events;
      all_base += c.*m.base;
      if (c.*m.base >= min_base) ++tested;
    }
    for (size_t i = 0; i < units.size(); ++i) {
      IntegrityRate& r = units[i].*m.rate;
      r.events = counts[i].*m.events;
      r.out_of = counts[i].*m.base;
      r.rate = r.out_of == 0 ? 0 : static_cast<double>(r.events) / static_cast<double>(r.out_of);
      const int64_t peer_base = all_base - r.out_of;
      r.peer_rate = peer_base == 0 ? 0 : static_cast<double>(all_events - r.events) / static_cast<double>(peer_base);
      if (r.out_of < min_base || peer_base == 0) continue;
      r.p_value = BinomialUpperTail(r.events, r.out_of, r.peer_rate);
      r.outlier = r.rate > r.peer_rate && r.p_value < alpha / static_cast<double>(std::max<int64_t>(1, tested));
    }
  }
  for (size_t i = 0; i < units.size(); ++i) units[i].unapproved_exceptions = counts[i].unapproved;
}

}  // namespace

StatusOr<IntegrityReport> ComputeIntegrityReport(store::Connection& db, double alpha, int64_t min_base) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT station_id, operator, kind, outcome, COUNT(*) FROM hand_over_events "
                                       "WHERE kind IN (?, ?) GROUP BY station_id, operator, kind, outcome "
                                       "ORDER BY station_id, operator",
                                       {kChecked, kActivated}));
  std::map<std::pair<std::string, std::string>, Counts> by_operator;
  std::map<std::string, Counts> by_station;
  for (const store::Row& row : rows) {
    const int64_t n = row.Int(4);
    const std::string kind = row.Text(2), outcome = row.Text(3);
    for (Counts* c : {&by_operator[{row.Text(0), row.Text(1)}], &by_station[row.Text(0)]}) {
      if (kind == kChecked) {
        c->checks += n;
        if (outcome == "failed") c->failed += n;
      } else {
        c->hand_overs += n;
        if (outcome == sync::HandOverBasisName(sync::HandOverBasis::kOverride)) c->overrides += n;
        if (outcome == sync::HandOverBasisName(sync::HandOverBasis::kDelegated)) c->delegated += n;
      }
    }
  }
  ASSIGN_OR_RETURN(auto enrollments, db.Query("SELECT station_id, operator, COUNT(*), "
                                              "SUM(CASE WHEN fingers > 0 THEN 1 ELSE 0 END), "
                                              "SUM(CASE WHEN fingers > 0 AND approver IS NULL THEN 1 ELSE 0 END) "
                                              "FROM enrollment_exception_counts GROUP BY station_id, operator"));
  for (const store::Row& row : enrollments) {
    for (Counts* c : {&by_operator[{row.Text(0), row.Text(1)}], &by_station[row.Text(0)]}) {
      c->enrollments += row.Int(2);
      c->excepted += row.Int(3);
      c->unapproved += row.Int(4);
    }
  }
  IntegrityReport report;
  report.alpha = alpha;
  report.min_base = min_base;
  std::vector<Counts> counts;
  for (const auto& [key, c] : by_operator) {
    report.operators.push_back({key.first, key.second, {}, {}, {}, {}, 0});
    counts.push_back(c);
  }
  Rate(report.operators, counts, alpha, min_base);
  counts.clear();
  for (const auto& [station, c] : by_station) {
    report.stations.push_back({station, "", {}, {}, {}, {}, 0});
    counts.push_back(c);
  }
  Rate(report.stations, counts, alpha, min_base);
  ASSIGN_OR_RETURN(report.locations, SummariseLocations(db));
  return report;
}

}  // namespace ektp::central
