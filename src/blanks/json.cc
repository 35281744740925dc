#include "blanks/json.h"

#include <cmath>

namespace ektp::blanks {
namespace {

nlohmann::json SpoiledJson(const std::array<int64_t, kSpoilReasons.size()>& spoiled) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kSpoilReasons.size(); ++i) out[std::string(SpoilReasonName(kSpoilReasons[i]))] = spoiled[i];
  return out;
}

}  // namespace

nlohmann::json DaysJson(double days) { return std::isinf(days) ? nlohmann::json(nullptr) : nlohmann::json(days); }

nlohmann::json ReconciliationJson(const RegencyReconciliation& r) {
  nlohmann::json stations = nlohmann::json::array();
  for (const auto& s : r.stations) {
    stations.push_back({{"station", s.station_id},
                        {"handed_over", s.handed_over},
                        {"received", s.received},
                        {"printed", s.printed},
                        {"spoiled", SpoiledJson(s.spoiled)},
                        {"returned_to_regency", s.returned},
                        {"in_transit", s.in_transit},
                        {"on_hand", s.on_hand}});
  }
  nlohmann::json discrepancies = nlohmann::json::array();
  for (const auto& d : r.discrepancies) {
    discrepancies.push_back(
        {{"code", d.code}, {"station", d.station_id}, {"quantity", d.quantity}, {"detail", d.detail}, {"pesan", d.pesan}});
  }
  return {{"regency", r.regency_code},
          {"regency_name", r.regency_name},
          {"shipments", r.shipments},
          {"shipped", r.shipped},
          {"returned_to_national", r.returned_to_national},
          {"handed_over", r.handed_over},
          {"received", r.received},
          {"printed", r.printed},
          {"spoiled", SpoiledJson(r.spoiled)},
          {"returned_by_stations", r.returned_by_stations},
          {"on_hand",
           {{"in_store", r.on_hand.in_store},
            {"in_transit", r.on_hand.in_transit},
            {"at_stations", r.on_hand.at_stations},
            {"total", r.on_hand.total()}}},
          {"stations", stations},
          {"discrepancies", discrepancies}};
}

nlohmann::json PlanJson(const Plan& plan) {
  const PlanSummary& s = plan.summary;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : plan.regencies) {
    rows.push_back({{"code", r.demand.code}, {"name", r.demand.name}, {"backlog", r.demand.backlog},
                    {"on_hand", r.demand.on_hand}, {"need", r.demand.need}, {"allocation", r.allocation},
                    {"wait_days", DaysJson(r.wait_days)}, {"backlog_left", r.backlog_left}});
  }
  return {{"policy", PolicyName(plan.policy)},
          {"summary",
           {{"supply", s.supply}, {"floor_applied", s.floor_applied}, {"max_wait_days", DaysJson(s.max_wait_days)},
            {"mean_wait_days", DaysJson(s.mean_wait_days)}, {"backlog_left", s.backlog_left},
            {"regencies_unbounded", s.unbounded}}},
          {"regencies", rows}};
}

}  // namespace ektp::blanks
