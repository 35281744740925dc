// The national allocation planner: divides a supply of N blank cards among
// regencies under a policy, and shows each plan's effect (expected waits and
// backlog left). Model and formulas: src/blanks/README.md.
//
// The wait model (WaitDays). A regency's uncovered backlog is
// U = max(0, backlog - on_hand): the residents waiting now that the blanks it
// already holds cannot serve. Its allocation `a` arrives now, and the same
// `a` again at every resupply, every lead_days (L) days, until the plan is
// revised. Printing is first come, first served. So the resident at the back
// of the backlog waits
//     0                      when U <= a,
//     L * ceil((U - a) / a)  when 0 < a < U (whole resupply cycles),
//     unbounded (infinity)   when a = 0 < U,
// and a resident at position p beyond on_hand + a waits L * ceil((p - on_hand - a) / a).
// A regency's "expected wait" in a plan is the wait of the back of its
// backlog; the plan's mean wait averages the per-resident waits over every
// resident of every backlog.
//
// Minimum guarantee. Every regency first gets `floor` blanks. When the supply
// is smaller than floor * regencies, the guarantee shrinks to the equal share
// supply / regencies (rounded down; PlanSummary::floor_applied says which was
// used) and the policy divides what is left.
//
// Determinism: the same input gives the same plan; every tie is broken by
// regency code (smallest first).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blanks/demand.h"
#include "core/status.h"

namespace ektp::blanks {

enum class Policy {
  // floor, then the rest in proportion to the uncovered backlog (largest
  // remainder, so the total is exactly N).
  kProportional,
  // floor, then the allocation that minimises the longest expected wait
  // (water-filling on the wait level; the proof is at AllocateMinMaxWait in plan.cc).
  kMinMaxWait,
};

inline constexpr Policy kAllPolicies[] = {Policy::kProportional, Policy::kMinMaxWait};

std::string_view PolicyName(Policy policy);  // "proportional", "min-max-wait"
// kInvalidArgument naming the choices for anything else.
StatusOr<Policy> ParsePolicy(std::string_view name);

struct PlanOptions {
  int64_t supply = 0;                 // N blanks to divide; >= 0
  int64_t floor = 20;                 // minimum guarantee per regency; >= 0
  int lead_days = kDefaultLeadDays;   // days between resupplies (L); >= 1
};

struct RegencyAllocation {
  RegencyDemand demand;
  int64_t allocation = 0;
  double wait_days = 0;       // the back of the backlog's wait; infinity when unbounded
  int64_t backlog_left = 0;   // max(0, backlog - on_hand - allocation)
};

struct PlanSummary {
  int64_t supply = 0;            // == the sum of the allocations
  int64_t floor_applied = 0;     // the guarantee each regency got (below the asked floor when supply is short)
  double max_wait_days = 0;      // infinity when some regency's wait is unbounded
  double mean_wait_days = 0;     // per resident in the backlogs; infinity as above; 0 without backlog
  int64_t backlog_left = 0;      // over all regencies
  int64_t unbounded = 0;         // regencies whose wait is unbounded (backlog but no blanks)
};

struct Plan {
  Policy policy = Policy::kProportional;
  std::vector<RegencyAllocation> regencies;  // by code
  PlanSummary summary;
};

// The wait of the back of a backlog of `uncovered` residents given
// `allocation` blanks per resupply every `lead_days` (see the model above).
double WaitDays(int64_t uncovered, int64_t allocation, int lead_days);

// Divides options.supply among `demands` (each regency once) under `policy`.
// kInvalidArgument: no regencies, a regency listed twice, a negative supply,
// floor, backlog or on_hand, or lead_days < 1.
StatusOr<Plan> MakePlan(std::span<const RegencyDemand> demands, Policy policy, const PlanOptions& options);

}  // namespace ektp::blanks
