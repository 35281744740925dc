// The JSON forms of the ledger's reconciliation and of an allocation plan,
// one shape for `ektp central blanks ... --format json` and central's console
// API (docs/openapi.yaml: BlankReconciliation, AllocationPlan).
#pragma once

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "blanks/plan.h"

namespace ektp::blanks {

// {regency, regency_name, shipments, shipped, ..., on_hand: {in_store, in_transit,
// at_stations, total}, stations: [...], discrepancies: [{code, station, quantity, detail, pesan}]}
nlohmann::json ReconciliationJson(const RegencyReconciliation& reconciliation);

// {policy, summary: {supply, floor_applied, max_wait_days, mean_wait_days,
// backlog_left, regencies_unbounded}, regencies: [{code, name, backlog, on_hand,
// need, allocation, wait_days, backlog_left}]}; an unbounded wait is null.
nlohmann::json PlanJson(const Plan& plan);

// Days, or null for an unbounded (infinite) wait.
nlohmann::json DaysJson(double days);

}  // namespace ektp::blanks
