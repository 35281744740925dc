// Blank-card need per regency (kabupaten/kota): the residents waiting for a
// card now plus those expected before the next resupply can arrive, and the
// shortage alert when the blanks on hand fall below that need.
//
// Two sources fill the same RegencyDemand, for every regency of the region
// registry (514 in the Kemendagri data), ordered by code:
//   - MeasuredDemand: central's database. The backlog is the print queue's
//     records still print_ready (printing/print_queue.h, migration 5); the
//     daily rate is the transitions to print_ready of queued records over a
//     recent window (each one is a card to print, a reprint after a spoiled
//     blank included).
//   - ModelDemand: population.csv, for when real data is thin. The cohort
//     turning 17 is 1/cohort_years of the population a year, so the daily
//     rate is population / cohort_years / 365, and the backlog is
//     backlog_months of that cohort still waiting.
// Formulas and defaults: src/blanks/README.md.
//
// Thread-safety: free functions over their arguments; MeasuredDemand uses
// the Connection like any repository (one thread at a time).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/region.h"
#include "core/status.h"
#include "store/db.h"

namespace ektp::blanks {

// Days from ordering blanks to their arrival in the regency (default of every
// lead_days below): the horizon of the need forecast and the resupply cycle
// of the planner's wait model (plan.h).
inline constexpr int kDefaultLeadDays = 30;

struct RegencyDemand {
  std::string code;         // "35.21"
  std::string name;         // "Kabupaten Ngawi"
  int64_t backlog = 0;      // residents whose card waits to be printed now
  double daily_rate = 0;    // records expected to become print_ready per day
  int64_t on_hand = 0;      // blanks held in the regency; 0 when unknown
  int64_t need = 0;         // backlog + NeedDuringLead(daily_rate, lead_days)

  // Blanks missing to cover the need: max(0, need - on_hand).
  int64_t shortfall() const { return std::max<int64_t>(0, need - on_hand); }
};

// Cards expected during `lead_days` at `daily_rate`, rounded to the nearest.
int64_t NeedDuringLead(double daily_rate, int lead_days);

struct PopulationModel {
  double cohort_years = 60;     // 1/60 of a regency's population turns 17 each year
  double backlog_months = 3;    // months of that cohort modelled as waiting now
  int lead_days = kDefaultLeadDays;
};

// Demand of every regency in `regions` from its population:
//   daily_rate = population / cohort_years / 365
//   backlog    = round(population / cohort_years * backlog_months / 12)
// kInvalidArgument: a non-positive cohort_years or lead_days, a negative
// backlog_months. kFailedPrecondition: a regency without a population row.
StatusOr<std::vector<RegencyDemand>> ModelDemand(const RegionRegistry& regions, const PopulationModel& model);

struct MeasuredOptions {
  int lead_days = kDefaultLeadDays;
  int rate_window_days = 28;  // the daily rate is averaged over this many days before now
};

// Demand of every regency in `regions` from central's database (schema with
// migration 5 applied); regencies with nothing queued have backlog and rate 0.
// kInvalidArgument: a non-positive lead_days or rate_window_days.
// kDataLoss: the print queue names a regency the registry does not know.
StatusOr<std::vector<RegencyDemand>> MeasuredDemand(store::Connection& db, const Clock& clock,
                                                    const RegionRegistry& regions, const MeasuredOptions& options);

// Sets on_hand from `on_hand` (regency code -> blanks); regencies absent from
// the map keep theirs. kInvalidArgument (and nothing changed) when a code is
// not one of `demands` or a count is negative.
Status ApplyOnHand(std::vector<RegencyDemand>& demands, const std::map<std::string, int64_t>& on_hand);

// Blanks each regency holds by the ledger (ledger.h): in its store, in
// transit to its print stations and received by them; regencies holding
// none are absent.
StatusOr<std::map<std::string, int64_t>> LedgerOnHand(store::Connection& db, const Clock& clock);

// The shortage alert: regencies whose on_hand is below their need, the
// largest shortfall first (ties by code).
std::vector<RegencyDemand> Shortages(const std::vector<RegencyDemand>& demands);

}  // namespace ektp::blanks
