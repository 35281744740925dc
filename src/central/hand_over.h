// Central's side of card hand-over: what collecting stations report
// (fingerprint_checked, pickup_override, card_activated and card_returned
// packets; sync/station_events.h), and the integrity report built from it.
//
// Activation moves the record dispatched -> activated and every earlier
// activated card of the same NIK activated -> replaced, and tells each
// record's station. A return (a card never collected) moves the record
// dispatched -> revoked and voids its blank in the blank ledger (spoiled,
// uncollected). Each report is applied once per (station, event id).
//
// Thread-safety: functions over the caller's connection, inside its transaction.
#pragma once

#include <string>
#include <vector>

#include "central/enrollment_oversight.h"
#include "central/ingest.h"
#include "central/station_registry.h"
#include "pipeline/feed_queue.h"
#include "sync/station_events.h"

namespace ektp::central {

// kFailedPrecondition when the card is not one printed for the record and
// dispatched to `station` (the message names what differs).
Status RecordFingerprintCheck(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                              const sync::FingerprintCheckedBody& check);
Status RecordPickupOverride(store::Connection& db, const Clock& clock, const RegisteredStation& station,
                            const sync::PickupOverrideBody& override_body);
// Queues the record_status items to send in `items`.
Status ActivateCard(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                    const RegisteredStation& station, const sync::CardActivatedBody& activation,
                    std::vector<pipeline::QueuedFeedItem>& items);

// The card was never collected: the station returned and voided it. The
// blank ledger records its serial spoiled (uncollected) first, then the
// record goes dispatched -> revoked and its station is told (in `items`).
// kFailedPrecondition as above, or when the record is not dispatched.
Status ReturnUncollectedCard(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                             const RegisteredStation& station, const sync::CardReturnedBody& returned,
                             std::vector<pipeline::QueuedFeedItem>& items);

// One operator's (or one station's) hand-overs, and how their rates compare
// with their peers'.
struct IntegrityRate {
  int64_t events = 0;  // of the kind counted
  int64_t out_of = 0;  // the base: checks, or hand-overs
  double rate = 0;     // events / out_of; 0 when out_of is 0
  double peer_rate = 0;  // the pooled rate of every other unit
  double p_value = 1;    // P(X >= events) for X ~ Binomial(out_of, peer_rate)
  bool outlier = false;
};
struct IntegrityUnit {
  std::string station_id;
  std::string operator_name;  // "" for a station's row
  IntegrityRate failed_checks;  // failed checks / checks
  IntegrityRate overrides;      // overrides / hand-overs (supervisors' overrides count at their station)
  IntegrityRate delegated;      // delegated hand-overs / hand-overs
  // Enrollments with a finger declared missing or unusable / enrollments
  // (enrollment_exception_counts: those ingested by this version on).
  IntegrityRate exceptions;
  // Of those, the ones whose packet carried no supervisor's approval (a body
  // of versions 1-3); each is also in the audit log.
  int64_t unapproved_exceptions = 0;
};
struct IntegrityReport {
  double alpha = 0.01;  // family-wise, before the Bonferroni division
  int64_t min_base = 20;
  std::vector<IntegrityUnit> operators;
  std::vector<IntegrityUnit> stations;
  // Where enrollments were captured, per station (central/enrollment_oversight.h).
  std::vector<StationLocations> locations;
};

// The outlier rule: a unit's rate is flagged when its base is at least
// `min_base` and the one-sided binomial tail P(X >= events) under the pooled
// rate of all other units (of the same level) is below alpha / m, m being
// the number of units tested at that level and for that rate (Bonferroni).
// The base is checks (failed checks), hand-overs (overrides, delegated) or
// enrollments (exceptions).
StatusOr<IntegrityReport> ComputeIntegrityReport(store::Connection& db, double alpha = 0.01, int64_t min_base = 20);

// P(X >= k) for X ~ Binomial(n, p).
double BinomialUpperTail(int64_t k, int64_t n, double p);

}  // namespace ektp::central
