#include "blanks/demand.h"

#include <chrono>
#include <cmath>

#include "blanks/ledger.h"
#include "core/lifecycle.h"
#include "core/text.h"
#include "store/record_repository.h"

namespace ektp::blanks {
namespace {

// Every regency of the registry, by code, with zero demand.
std::vector<RegencyDemand> Regencies(const RegionRegistry& regions) {
  std::vector<RegencyDemand> out;
  for (const Region* province : regions.Children("")) {
    for (const Region* regency : regions.Children(province->code)) {
      if (regency->level == RegionLevel::kRegency) out.push_back(RegencyDemand{regency->code, regency->name});
    }
  }
  return out;
}

Status CheckLeadDays(int lead_days) {
  if (lead_days <= 0) return InvalidArgument("lead time must be at least 1 day, got " + std::to_string(lead_days));
  return Status::Ok();
}

// regency code -> COUNT(*) of a `SELECT regency_code, COUNT(*) ... GROUP BY` query.
StatusOr<std::map<std::string, int64_t>> CountsByRegency(store::Connection& db, std::string_view sql,
                                                         std::initializer_list<store::Value> params) {
  ASSIGN_OR_RETURN(auto rows, db.Query(sql, params));
  std::map<std::string, int64_t> counts;
  for (const store::Row& row : rows) counts[row.Text(0)] = row.Int(1);
  return counts;
}

}  // namespace

int64_t NeedDuringLead(double daily_rate, int lead_days) { return std::llround(daily_rate * lead_days); }

StatusOr<std::vector<RegencyDemand>> ModelDemand(const RegionRegistry& regions, const PopulationModel& model) {
  RETURN_IF_ERROR(CheckLeadDays(model.lead_days));
  if (!(model.cohort_years > 0)) return InvalidArgument("cohort_years must be positive");
  if (!(model.backlog_months >= 0)) return InvalidArgument("backlog_months must not be negative");
  std::vector<RegencyDemand> demands = Regencies(regions);
  for (RegencyDemand& demand : demands) {
    std::optional<Population> population = regions.PopulationOf(demand.code);
    if (!population) {
      return FailedPrecondition("population.csv has no row for regency " + demand.code + " (" + demand.name + ")");
    }
    const double cohort_per_year = static_cast<double>(population->total) / model.cohort_years;
    demand.daily_rate = cohort_per_year / 365.0;
    demand.backlog = std::llround(cohort_per_year * model.backlog_months / 12.0);
    demand.need = demand.backlog + NeedDuringLead(demand.daily_rate, model.lead_days);
  }
  return demands;
}

StatusOr<std::vector<RegencyDemand>> MeasuredDemand(store::Connection& db, const Clock& clock,
                                                    const RegionRegistry& regions, const MeasuredOptions& options) {
  RETURN_IF_ERROR(CheckLeadDays(options.lead_days));
  if (options.rate_window_days <= 0) {
    return InvalidArgument("the rate window must be at least 1 day, got " + std::to_string(options.rate_window_days));
  }
  const std::string print_ready = store::SqlStateList({RecordState::kPrintReady});
  ASSIGN_OR_RETURN(auto backlogs,
                   CountsByRegency(db,
                                   "SELECT q.regency_code, COUNT(*) FROM print_queue q JOIN records r "
                                   "ON r.id = q.record_id WHERE r.state IN " + print_ready +
                                       " GROUP BY q.regency_code",
                                   {}));
  const std::string since = FormatTimestamp(clock.Now() - std::chrono::days(options.rate_window_days));
  ASSIGN_OR_RETURN(auto arrivals,
                   CountsByRegency(db,
                                   "SELECT q.regency_code, COUNT(*) FROM record_events e JOIN print_queue q "
                                   "ON q.record_id = e.record_id WHERE e.to_state IN " + print_ready +
                                       " AND e.at >= ? GROUP BY q.regency_code",
                                   {since}));

  std::vector<RegencyDemand> demands = Regencies(regions);
  std::map<std::string, RegencyDemand*> by_code;
  for (RegencyDemand& demand : demands) by_code[demand.code] = &demand;
  for (const auto* counts : {&backlogs, &arrivals}) {
    for (const auto& [code, count] : *counts) {
      if (!by_code.contains(code)) {
        return DataLoss("the print queue names regency '" + QuoteInput(code) + "', which the region registry does not know");
      }
    }
  }
  for (RegencyDemand& demand : demands) {
    demand.backlog = backlogs.contains(demand.code) ? backlogs.at(demand.code) : 0;
    const int64_t arrived = arrivals.contains(demand.code) ? arrivals.at(demand.code) : 0;
    demand.daily_rate = static_cast<double>(arrived) / options.rate_window_days;
    demand.need = demand.backlog + NeedDuringLead(demand.daily_rate, options.lead_days);
  }
  return demands;
}

Status ApplyOnHand(std::vector<RegencyDemand>& demands, const std::map<std::string, int64_t>& on_hand) {
  std::map<std::string, RegencyDemand*> by_code;
  for (RegencyDemand& demand : demands) by_code[demand.code] = &demand;
  for (const auto& [code, count] : on_hand) {
    if (!by_code.contains(code)) return InvalidArgument("blanks on hand given for '" + QuoteInput(code) + "', which is not a regency");
    if (count < 0) return InvalidArgument("blanks on hand for " + code + " must not be negative, got " + std::to_string(count));
  }
  for (const auto& [code, count] : on_hand) by_code.at(code)->on_hand = count;
  return Status::Ok();
}

std::vector<RegencyDemand> Shortages(const std::vector<RegencyDemand>& demands) {
  std::vector<RegencyDemand> short_of_need;
  for (const RegencyDemand& demand : demands) {
    if (demand.on_hand < demand.need) short_of_need.push_back(demand);
  }
  std::sort(short_of_need.begin(), short_of_need.end(), [](const RegencyDemand& a, const RegencyDemand& b) {
    return a.shortfall() != b.shortfall() ? a.shortfall() > b.shortfall() : a.code < b.code;
  });
  return short_of_need;
}

StatusOr<std::map<std::string, int64_t>> LedgerOnHand(store::Connection& db, const Clock& clock) {
  ASSIGN_OR_RETURN(auto held, BlankLedger(db, clock).OnHandByRegency());
  std::map<std::string, int64_t> on_hand;
  for (const RegencyOnHand& regency : held) on_hand[regency.regency_code] = regency.on_hand.total();
  return on_hand;
}

}  // namespace ektp::blanks
