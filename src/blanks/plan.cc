#include "blanks/plan.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>

#include "core/text.h"

namespace ektp::blanks {
namespace {

constexpr double kUnbounded = std::numeric_limits<double>::infinity();

// Whole resupply cycles the back of a backlog of `uncovered` waits with
// `allocation` blanks per cycle: ceil((U - a) / a) = (U - 1) / a; -1 when
// unbounded (a = 0 < U).
int64_t WaitCycles(int64_t uncovered, int64_t allocation) {
  if (uncovered <= allocation) return 0;
  if (allocation == 0) return -1;
  return (uncovered - 1) / allocation;
}

// Sum over the residents beyond the allocation of their wait in cycles: the
// resident at q = 1..D (D = U - a) past the allocation waits ceil(q / a)
// cycles; K - 1 full groups of a residents wait 1..K-1, the last K. REQUIRES a > 0.
double ResidentWaitCycles(int64_t uncovered, int64_t allocation) {
  if (uncovered <= allocation) return 0;
  const double beyond = static_cast<double>(uncovered - allocation);
  const double a = static_cast<double>(allocation);
  const double groups = static_cast<double>(WaitCycles(uncovered, allocation));
  return a * groups * (groups - 1) / 2 + groups * (beyond - (groups - 1) * a);
}

// Adds `amount` to `allocation` in proportion to `weights` (same length) by
// largest remainder: each gets floor(amount * w / W), and the amount left goes
// one by one to the largest fractional parts (ties: lower index, i.e. code).
// All-zero weights share equally.
void AddByLargestRemainder(int64_t amount, std::vector<int64_t> weights, std::vector<int64_t>& allocation) {
  if (amount <= 0 || weights.empty()) return;
  __int128 total = std::accumulate(weights.begin(), weights.end(), __int128{0});
  if (total == 0) {
    std::fill(weights.begin(), weights.end(), 1);
    total = static_cast<__int128>(weights.size());
  }
  std::vector<__int128> remainders(weights.size());
  int64_t given = 0;
  for (size_t idx = 0; idx < weights.size(); ++idx) {
    const __int128 product = static_cast<__int128>(amount) * weights[idx];
    const auto share = static_cast<int64_t>(product / total);
    remainders[idx] = product % total;
    allocation[idx] += share;
    given += share;
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (size_t rank = 0; given < amount; ++rank, ++given) ++allocation[order[rank]];
}

// What MakePlan's policies work on, per regency in code order.
struct Shares {
  std::vector<int64_t> uncovered;  // max(0, backlog - on_hand)
  std::vector<int64_t> need_left;  // max(0, need - on_hand)
  int64_t floor = 0;               // the guarantee applied
  int64_t supply = 0;
};

std::vector<int64_t> AllocateProportional(const Shares& s) {
  std::vector<int64_t> allocation(s.uncovered.size(), s.floor);
  const int64_t rest = s.supply - s.floor * static_cast<int64_t>(allocation.size());
  const bool any_backlog = std::any_of(s.uncovered.begin(), s.uncovered.end(), [](int64_t u) { return u > 0; });
  AddByLargestRemainder(rest, any_backlog ? s.uncovered : s.need_left, allocation);
  return allocation;
}

// Contract: returns an allocation a with sum(a) = supply and a_i >= floor
// for all i that minimises max_i WaitCycles(U_i, a_i) (an unbounded wait
// counts as larger than any finite one), hence max_i WaitDays.
//
// Why it is optimal. WaitCycles(U, a) <= k holds exactly when
// a >= ceil(U / (k + 1)) (U > 0; always when U = 0), so the least allocation
// keeping regency i within k cycles is m_i(k) = max(floor, ceil(U_i / (k + 1))),
// and S(k) = sum_i m_i(k) does not increase with k. Every allocation whose
// longest wait is at most k cycles gives each i at least m_i(k), so needs
// S(k) <= supply. Let k* be the least k with S(k) <= supply (binary search
// on k). Allocating m(k*) and adding the remaining supply anywhere (more
// blanks never lengthen a wait) keeps every wait within k* cycles, and no
// allocation is within k* - 1 cycles because S(k* - 1) > supply. Waits are
// whole cycles, so k* is the minimum. If even S(max U - 1) (one blank per
// regency with a backlog) exceeds the supply, some wait is unbounded in every
// allocation (floor is 0 then); the blanks go one each to the largest
// uncovered backlogs.
//
// The remaining supply R = supply - S(k*) (< S(k* - 1) - S(k*)) shortens as
// many regencies at the longest wait as it can: those needing the fewest
// extra blanks to wait one cycle less go first (ties by code), the last one
// gets what is left. When no regency waits (k* = 0), the surplus covers the
// arrivals expected before the next resupply, in proportion to the need left
// (equally when every need is covered).
std::vector<int64_t> AllocateMinMaxWait(const Shares& s) {
  const size_t n = s.uncovered.size();
  std::vector<int64_t> allocation(n, s.floor);
  auto least_within = [&](size_t idx, int64_t cycles) {
    const int64_t u = s.uncovered[idx];
    return u == 0 ? s.floor : std::max(s.floor, (u + cycles) / (cycles + 1));  // ceil(u / (cycles + 1))
  };
  auto least_total = [&](int64_t cycles) {
    int64_t total = 0;
    for (size_t idx = 0; idx < n; ++idx) total += least_within(idx, cycles);
    return total;
  };
  const int64_t max_uncovered = *std::max_element(s.uncovered.begin(), s.uncovered.end());
  int64_t high = std::max<int64_t>(0, max_uncovered - 1);  // every regency within `high` cycles with one blank
  int64_t rest = s.supply - s.floor * static_cast<int64_t>(n);
  if (least_total(high) > s.supply) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.uncovered[a] > s.uncovered[b]; });
    for (size_t idx : order) {
      if (rest == 0 || s.uncovered[idx] == 0) break;
      ++allocation[idx];
      --rest;
    }
    return allocation;
  }
  int64_t low = 0;
  while (low < high) {
    const int64_t mid = low + (high - low) / 2;
    if (least_total(mid) <= s.supply) high = mid; else low = mid + 1;
  }
  const int64_t cycles = low;
  for (size_t idx = 0; idx < n; ++idx) allocation[idx] = least_within(idx, cycles);
  rest = s.supply - least_total(cycles);

  if (cycles > 0) {
    std::vector<std::pair<int64_t, size_t>> shorten;  // (extra blanks for one cycle less, index)
    for (size_t idx = 0; idx < n; ++idx) {
      if (WaitCycles(s.uncovered[idx], allocation[idx]) == cycles) {
        shorten.emplace_back(least_within(idx, cycles - 1) - allocation[idx], idx);
      }
    }
    std::sort(shorten.begin(), shorten.end());
    for (const auto& [extra, idx] : shorten) {
      const int64_t given = std::min(extra, rest);
      allocation[idx] += given;
      rest -= given;
      if (rest == 0) break;
    }
  }
  std::vector<int64_t> need_beyond(n);
  for (size_t idx = 0; idx < n; ++idx) need_beyond[idx] = std::max<int64_t>(0, s.need_left[idx] - allocation[idx]);
  AddByLargestRemainder(rest, std::move(need_beyond), allocation);
  return allocation;
}

Status CheckInput(std::span<const RegencyDemand> demands, const PlanOptions& options) {
  if (demands.empty()) return InvalidArgument("no regencies to plan for");
  if (options.supply < 0) return InvalidArgument("supply must not be negative, got " + std::to_string(options.supply));
  if (options.floor < 0) return InvalidArgument("floor must not be negative, got " + std::to_string(options.floor));
  if (options.lead_days < 1) {
    return InvalidArgument("lead time must be at least 1 day, got " + std::to_string(options.lead_days));
  }
  std::set<std::string_view> seen;
  for (const RegencyDemand& demand : demands) {
    if (!seen.insert(demand.code).second) {
      return InvalidArgument("regency '" + QuoteInput(demand.code) + "' is listed twice");
    }
    if (demand.backlog < 0 || demand.on_hand < 0 || demand.need < 0) {
      return InvalidArgument("regency " + QuoteInput(demand.code) + " has a negative backlog, need or blanks on hand");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kProportional: return "proportional";
    case Policy::kMinMaxWait: return "min-max-wait";
  }
  return "?";
}

StatusOr<Policy> ParsePolicy(std::string_view name) {
  for (Policy policy : kAllPolicies) {
    if (PolicyName(policy) == name) return policy;
  }
  return InvalidArgument("unknown policy '" + QuoteInput(name) + "' (expected proportional or min-max-wait)");
}

double WaitDays(int64_t uncovered, int64_t allocation, int lead_days) {
  const int64_t cycles = WaitCycles(uncovered, allocation);
  return cycles < 0 ? kUnbounded : static_cast<double>(cycles * lead_days);
}

StatusOr<Plan> MakePlan(std::span<const RegencyDemand> demands, Policy policy, const PlanOptions& options) {
  RETURN_IF_ERROR(CheckInput(demands, options));
  Plan plan;
  plan.policy = policy;
  for (const RegencyDemand& demand : demands) plan.regencies.push_back(RegencyAllocation{demand});
  std::sort(plan.regencies.begin(), plan.regencies.end(),
            [](const RegencyAllocation& a, const RegencyAllocation& b) { return a.demand.code < b.demand.code; });

  const auto n = static_cast<int64_t>(plan.regencies.size());
  Shares shares;
  shares.supply = options.supply;
  shares.floor = std::min(options.floor, options.supply / n);
  for (const RegencyAllocation& r : plan.regencies) {
    shares.uncovered.push_back(std::max<int64_t>(0, r.demand.backlog - r.demand.on_hand));
    shares.need_left.push_back(std::max<int64_t>(0, r.demand.need - r.demand.on_hand));
  }
  const std::vector<int64_t> allocation =
      policy == Policy::kProportional ? AllocateProportional(shares) : AllocateMinMaxWait(shares);

  PlanSummary& summary = plan.summary;
  summary.supply = options.supply;
  summary.floor_applied = shares.floor;
  double resident_wait_cycles = 0;
  int64_t residents = 0;
  for (size_t idx = 0; idx < plan.regencies.size(); ++idx) {
    RegencyAllocation& r = plan.regencies[idx];
    r.allocation = allocation[idx];
    r.wait_days = WaitDays(shares.uncovered[idx], r.allocation, options.lead_days);
    r.backlog_left = std::max<int64_t>(0, shares.uncovered[idx] - r.allocation);
    summary.max_wait_days = std::max(summary.max_wait_days, r.wait_days);
    summary.backlog_left += r.backlog_left;
    residents += r.demand.backlog;
    if (r.wait_days == kUnbounded) {
      ++summary.unbounded;
    } else {
      resident_wait_cycles += ResidentWaitCycles(shares.uncovered[idx], r.allocation);
    }
  }
  if (summary.unbounded > 0) {
    summary.mean_wait_days = kUnbounded;
  } else if (residents > 0) {
    summary.mean_wait_days = resident_wait_cycles * options.lead_days / static_cast<double>(residents);
  }
  return plan;
}

}  // namespace ektp::blanks
