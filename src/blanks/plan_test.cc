#include "blanks/plan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "blanks/demand.h"
#include "blanks/ledger.h"
#include "core/resident_json.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "printing/print_queue.h"
#include "printing/testing.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::blanks {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono;

constexpr double kInf = std::numeric_limits<double>::infinity();

RegencyDemand Demand(std::string code, int64_t backlog, int64_t on_hand = 0, int64_t need = -1) {
  RegencyDemand d;
  d.code = std::move(code);
  d.name = "Kabupaten " + d.code;
  d.backlog = backlog;
  d.on_hand = on_hand;
  d.need = need < 0 ? backlog : need;
  return d;
}

// Backlogs 500, 300 and 100, nothing on hand.
std::vector<RegencyDemand> ThreeRegencies() { return {Demand("35.01", 500), Demand("35.02", 300), Demand("35.03", 100)}; }

std::vector<int64_t> Allocations(const Plan& plan) {
  std::vector<int64_t> out;
  for (const RegencyAllocation& r : plan.regencies) out.push_back(r.allocation);
  return out;
}

Plan MustPlan(const std::vector<RegencyDemand>& demands, Policy policy, PlanOptions options) {
  auto plan = MakePlan(demands, policy, options);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : Plan{};
}

// The model simulated resident by resident, independent of WaitDays: the
// resident at `position` gets a blank at the first resupply (0, L, 2L, ...)
// by which on_hand + allocation * (cycles + 1) blanks have arrived.
double SimulatedWait(int64_t position, int64_t on_hand, int64_t allocation, int lead_days) {
  if (position <= on_hand + allocation) return 0;
  if (allocation == 0) return kInf;
  int64_t cycles = 1;
  while (on_hand + allocation * (cycles + 1) < position) ++cycles;
  return static_cast<double>(cycles * lead_days);
}

// The least longest wait over every allocation of `supply` with each regency
// given at least `floor`, by enumeration.
double BruteForceMinMaxWait(const std::vector<RegencyDemand>& demands, int64_t supply, int64_t floor, int lead_days) {
  const size_t n = demands.size();
  std::vector<int64_t> allocation(n, floor);
  double best = kInf;
  bool found = false;
  std::function<void(size_t, int64_t)> enumerate = [&](size_t idx, int64_t left) {
    if (idx + 1 == n) {
      allocation[idx] = floor + left;
      double worst = 0;
      for (size_t i = 0; i < n; ++i) {
        worst = std::max(worst, SimulatedWait(demands[i].backlog, demands[i].on_hand, allocation[i], lead_days));
      }
      if (!found || worst < best) best = worst;
      found = true;
      return;
    }
    for (int64_t extra = 0; extra <= left; ++extra) {
      allocation[idx] = floor + extra;
      enumerate(idx + 1, left - extra);
    }
  };
  enumerate(0, supply - floor * static_cast<int64_t>(n));
  return best;
}

TEST(WaitDaysTest, WholeResupplyCyclesForTheBackOfTheBacklog) {
  EXPECT_EQ(WaitDays(0, 0, 30), 0);
  EXPECT_EQ(WaitDays(100, 100, 30), 0);
  EXPECT_EQ(WaitDays(100, 99, 30), 30);   // one resident waits for the next resupply
  EXPECT_EQ(WaitDays(100, 50, 30), 30);
  EXPECT_EQ(WaitDays(100, 49, 30), 60);   // 49 now, 98 after one cycle, 100 after two
  EXPECT_EQ(WaitDays(100, 1, 7), 99 * 7);
  EXPECT_EQ(WaitDays(1, 0, 30), kInf);
  for (int64_t u = 0; u <= 30; ++u) {
    for (int64_t a = 0; a <= 30; ++a) EXPECT_EQ(WaitDays(u, a, 30), SimulatedWait(u, 0, a, 30)) << u << " " << a;
  }
}

TEST(PlanTest, ProportionalSharesMatchHandComputedLargestRemainders) {
  // floor 2 each, 34 left by backlog 5:3:1 -> quotas 18.89, 11.33, 3.78 -> 18, 11, 3
  // and the 2 left go to the largest fractions (A .89, C .78).
  Plan plan = MustPlan({Demand("35.01", 5), Demand("35.02", 3), Demand("35.03", 1)}, Policy::kProportional,
                       {.supply = 40, .floor = 2, .lead_days = 30});
  EXPECT_THAT(Allocations(plan), ElementsAre(21, 13, 6));
  EXPECT_EQ(plan.summary.supply, 40);
  EXPECT_EQ(plan.summary.floor_applied, 2);
  EXPECT_EQ(plan.summary.max_wait_days, 0);
  EXPECT_EQ(plan.summary.backlog_left, 0);

  // floor 10, 60 left by 500:300:100 -> 33.33, 20, 6.67 -> 33, 20, 6, one more to C.
  plan = MustPlan(ThreeRegencies(), Policy::kProportional,
                  {.supply = 90, .floor = 10, .lead_days = 30});
  EXPECT_THAT(Allocations(plan), ElementsAre(43, 30, 17));
  // Waits: (500-1)/43 = 11 cycles, 299/30 = 9, 99/17 = 5.
  EXPECT_EQ(plan.regencies[0].wait_days, 330);
  EXPECT_EQ(plan.regencies[1].wait_days, 270);
  EXPECT_EQ(plan.regencies[2].wait_days, 150);
  EXPECT_EQ(plan.regencies[0].backlog_left, 457);
  EXPECT_EQ(plan.summary.max_wait_days, 330);
  EXPECT_EQ(plan.summary.backlog_left, 457 + 270 + 83);
}

TEST(PlanTest, MinMaxWaitLevelsTheWaitsAndItsMeanIsPerResident) {
  Plan plan = MustPlan(ThreeRegencies(), Policy::kMinMaxWait,
                       {.supply = 90, .floor = 10, .lead_days = 30});
  // 9 cycles need ceil(U/10): 50 + 30 + 10 = 90; 8 cycles would need 56 + 34 + 12.
  EXPECT_THAT(Allocations(plan), ElementsAre(50, 30, 10));
  EXPECT_EQ(plan.summary.max_wait_days, 270);
  // Residents beyond the allocation wait 1..9 cycles in groups of a:
  // 50*36 + 9*50 = 2250, 30*36 + 9*30 = 1350, 10*36 + 9*10 = 450 cycles; x30 days / 900 residents.
  EXPECT_DOUBLE_EQ(plan.summary.mean_wait_days, 135.0);
  double simulated = 0;
  for (const RegencyAllocation& r : plan.regencies) {
    for (int64_t p = 1; p <= r.demand.backlog; ++p) simulated += SimulatedWait(p, 0, r.allocation, 30);
  }
  EXPECT_DOUBLE_EQ(plan.summary.mean_wait_days, simulated / 900);
}

TEST(PlanTest, MinMaxWaitSpendsTheRestOnTheCheapestRegenciesAtTheLongestWait) {
  // 9 cycles need 50 + 30 + 10 = 90; 3 left. At 9 cycles all three wait 270 days;
  // one cycle less costs 56-50 = 6, 34-30 = 4, 12-10 = 2: C first (2), then B gets the 1 left.
  Plan plan = MustPlan(ThreeRegencies(), Policy::kMinMaxWait,
                       {.supply = 93, .floor = 10, .lead_days = 30});
  EXPECT_THAT(Allocations(plan), ElementsAre(50, 31, 12));
  EXPECT_EQ(plan.regencies[2].wait_days, 240);
  EXPECT_EQ(plan.summary.max_wait_days, 270);
}

TEST(PlanTest, BlanksOnHandCountAgainstTheBacklog) {
  // 35.01 already holds 400 of its 500: only 100 uncovered, like 35.03.
  std::vector<RegencyDemand> demands = {Demand("35.01", 500, 400), Demand("35.02", 300), Demand("35.03", 100)};
  Plan proportional = MustPlan(demands, Policy::kProportional, {.supply = 50, .floor = 0, .lead_days = 30});
  EXPECT_THAT(Allocations(proportional), ElementsAre(10, 30, 10));
  EXPECT_EQ(proportional.regencies[0].backlog_left, 90);
  Plan min_max = MustPlan(demands, Policy::kMinMaxWait, {.supply = 50, .floor = 0, .lead_days = 30});
  EXPECT_THAT(Allocations(min_max), ElementsAre(10, 30, 10));
  EXPECT_EQ(min_max.summary.max_wait_days, 270);
}

TEST(PlanTest, SurplusBeyondEveryBacklogCoversTheNeedDuringTheLeadTime) {
  // Backlogs 10 and 0 with needs 40 and 20: 10 and the floor 5 cover the backlogs, and
  // the 31 left go 30:15 by the need not yet covered: 20.67 and 10.33, the 1 left to .67.
  std::vector<RegencyDemand> demands = {Demand("35.01", 10, 0, 40), Demand("35.02", 0, 0, 20)};
  Plan plan = MustPlan(demands, Policy::kMinMaxWait, {.supply = 46, .floor = 5, .lead_days = 30});
  EXPECT_EQ(plan.summary.max_wait_days, 0);
  EXPECT_EQ(plan.summary.supply, 46);
  EXPECT_THAT(Allocations(plan), ElementsAre(31, 15));
}

TEST(PlanTest, SupplyBelowTheFloorsShrinksTheGuaranteeToTheEqualShare) {
  std::vector<RegencyDemand> demands = {Demand("35.01", 50), Demand("35.02", 30), Demand("35.03", 0)};
  for (Policy policy : kAllPolicies) {
    Plan plan = MustPlan(demands, policy, {.supply = 7, .floor = 10, .lead_days = 30});
    EXPECT_EQ(plan.summary.floor_applied, 2) << PolicyName(policy);
    int64_t total = 0;
    for (const RegencyAllocation& r : plan.regencies) {
      EXPECT_GE(r.allocation, 2) << PolicyName(policy) << " " << r.demand.code;
      total += r.allocation;
    }
    EXPECT_EQ(total, 7) << PolicyName(policy);
  }
  // Fewer blanks than regencies with a backlog: some wait is unbounded, the
  // blanks go to the largest backlogs.
  Plan plan = MustPlan(demands, Policy::kMinMaxWait, {.supply = 1, .floor = 10, .lead_days = 30});
  EXPECT_EQ(plan.summary.floor_applied, 0);
  EXPECT_THAT(Allocations(plan), ElementsAre(1, 0, 0));
  EXPECT_EQ(plan.summary.max_wait_days, kInf);
  EXPECT_EQ(plan.summary.mean_wait_days, kInf);
  EXPECT_EQ(plan.summary.unbounded, 1);
  EXPECT_EQ(plan.regencies[2].wait_days, 0);  // no backlog, no wait
}

TEST(PlanTest, MinMaxWaitEqualsBruteForceAndNeverLosesToProportional) {
  std::mt19937_64 random(20261205);
  int compared = 0;
  for (int case_idx = 0; case_idx < 300; ++case_idx) {
    const size_t n = 2 + random() % 3;
    std::vector<RegencyDemand> demands;
    for (size_t idx = 0; idx < n; ++idx) {
      demands.push_back(Demand("35." + std::to_string(10 + idx), static_cast<int64_t>(random() % 25),
                               static_cast<int64_t>(random() % 4)));
    }
    const int64_t supply = static_cast<int64_t>(random() % (n == 4 ? 16 : 24));
    const int64_t floor = static_cast<int64_t>(random() % 3);
    const int lead_days = 1 + static_cast<int>(random() % 30);
    const PlanOptions options{.supply = supply, .floor = floor, .lead_days = lead_days};
    Plan min_max = MustPlan(demands, Policy::kMinMaxWait, options);
    Plan proportional = MustPlan(demands, Policy::kProportional, options);
    const std::string what = "case " + std::to_string(case_idx);
    for (const Plan* plan : {&min_max, &proportional}) {
      const auto allocation = Allocations(*plan);
      EXPECT_EQ(std::accumulate(allocation.begin(), allocation.end(), int64_t{0}), supply) << what;
      for (int64_t a : allocation) EXPECT_GE(a, plan->summary.floor_applied) << what;
      for (const RegencyAllocation& r : plan->regencies) {
        EXPECT_EQ(r.wait_days, SimulatedWait(r.demand.backlog, r.demand.on_hand, r.allocation, lead_days)) << what;
      }
    }
    EXPECT_EQ(min_max.summary.max_wait_days,
              BruteForceMinMaxWait(demands, supply, min_max.summary.floor_applied, lead_days))
        << what;
    EXPECT_LE(min_max.summary.max_wait_days, proportional.summary.max_wait_days) << what;
    ++compared;
  }
  EXPECT_EQ(compared, 300);
}

TEST(PlanTest, RefusesBadInputNamingIt) {
  std::vector<RegencyDemand> demands = {Demand("35.01", 5)};
  EXPECT_THAT(MakePlan(demands, Policy::kProportional, {.supply = -1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("supply must not be negative, got -1")));
  EXPECT_THAT(MakePlan(demands, Policy::kProportional, {.supply = 1, .floor = -2}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("floor must not be negative")));
  EXPECT_THAT(MakePlan(demands, Policy::kMinMaxWait, {.supply = 1, .floor = 0, .lead_days = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("lead time must be at least 1 day")));
  EXPECT_THAT(MakePlan(std::vector<RegencyDemand>{}, Policy::kMinMaxWait, {.supply = 1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no regencies")));
  demands.push_back(Demand("35.01", 3));
  EXPECT_THAT(MakePlan(demands, Policy::kMinMaxWait, {.supply = 1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("regency '35.01' is listed twice")));
  EXPECT_THAT(MakePlan(std::vector<RegencyDemand>{Demand("35.01", -4)}, Policy::kMinMaxWait, {.supply = 1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("negative backlog")));
  EXPECT_THAT(ParsePolicy("fastest"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown policy 'fastest'")));
  EXPECT_EQ(*ParsePolicy("min-max-wait"), Policy::kMinMaxWait);
}

// --- demand from the population model ---

const RegionRegistry& SharedRegions() {
  static const RegionRegistry* regions = [] {
    const auto dir = ektp::testing::SharedDataDir() / "regions";
    auto read = [](const std::filesystem::path& path) {
      auto bytes = ektp::testing::ReadFileBytes(path);
      return std::string(bytes.begin(), bytes.end());
    };
    auto parsed = RegionRegistry::Parse(read(dir / "regions.csv"), read(dir / "population.csv"));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed->release();
  }();
  return *regions;
}

const RegencyDemand* Find(const std::vector<RegencyDemand>& demands, std::string_view code) {
  for (const RegencyDemand& d : demands) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

TEST(ModelDemandTest, NgawiFromItsPopulation) {
  auto demands = ModelDemand(SharedRegions(), PopulationModel{});
  ASSERT_TRUE(demands.ok()) << demands.status().ToString();
  ASSERT_EQ(demands->size(), 514u);
  EXPECT_EQ(demands->front().code, "11.01");
  const RegencyDemand* ngawi = Find(*demands, "35.21");
  ASSERT_NE(ngawi, nullptr);
  EXPECT_EQ(ngawi->name, "Kabupaten Ngawi");
  // population.csv: 907,002. Cohort 907002 / 60 = 15,116.7 a year.
  EXPECT_NEAR(ngawi->daily_rate, 41.4156, 1e-4);   // / 365
  EXPECT_EQ(ngawi->backlog, 3779);                 // 3 months: 3,779.2
  EXPECT_EQ(ngawi->need, 3779 + 1242);             // + 30 days x 41.4 = 1,242.5
  EXPECT_EQ(ngawi->on_hand, 0);

  auto six_months = ModelDemand(SharedRegions(), {.backlog_months = 6, .lead_days = 10});
  ASSERT_TRUE(six_months.ok());
  EXPECT_EQ(Find(*six_months, "35.21")->backlog, 7558);
  EXPECT_EQ(Find(*six_months, "35.21")->need, 7558 + 414);

  EXPECT_THAT(ModelDemand(SharedRegions(), {.cohort_years = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cohort_years must be positive")));
  EXPECT_THAT(ModelDemand(SharedRegions(), {.lead_days = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("lead time must be at least 1 day")));
}

TEST(ModelDemandTest, ARegencyWithoutPopulationIsNamed) {
  auto regions = RegionRegistry::Parse("code,name\n35,Jawa Timur\n35.21,Kabupaten Ngawi\n35.02,Kabupaten Ponorogo\n",
                                       "code,name,male,female,total\n35.21,Kabupaten Ngawi,1,2,3\n");
  ASSERT_TRUE(regions.ok());
  EXPECT_THAT(ModelDemand(**regions, PopulationModel{}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no row for regency 35.02 (Kabupaten Ponorogo)")));
}

TEST(ShortageTest, OnHandBelowNeedIsAlertedLargestShortfallFirst) {
  auto demands = ModelDemand(SharedRegions(), PopulationModel{});
  ASSERT_TRUE(demands.ok());
  ASSERT_OK(ApplyOnHand(*demands, {{"35.21", 6000}, {"35.02", 10}}));
  EXPECT_EQ(Find(*demands, "35.21")->on_hand, 6000);
  auto shortages = Shortages(*demands);
  EXPECT_EQ(shortages.size(), 513u);  // Ngawi holds more than its need of 5,021
  EXPECT_EQ(Find(shortages, "35.21"), nullptr);
  const RegencyDemand* ponorogo = Find(shortages, "35.02");
  ASSERT_NE(ponorogo, nullptr);
  EXPECT_EQ(ponorogo->shortfall(), ponorogo->need - 10);
  for (size_t idx = 1; idx < shortages.size(); ++idx) {
    EXPECT_GE(shortages[idx - 1].shortfall(), shortages[idx].shortfall());
  }

  EXPECT_THAT(ApplyOnHand(*demands, {{"35.21", 1}, {"35.99", 5}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'35.99', which is not a regency")));
  EXPECT_THAT(ApplyOnHand(*demands, {{"35.21", -5}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must not be negative")));
  EXPECT_EQ(Find(*demands, "35.21")->on_hand, 6000);  // unchanged by the refused maps
}

TEST(PlanTest, NationalModelTotalsExactlyNWithFloors) {
  auto demands = ModelDemand(SharedRegions(), PopulationModel{});
  ASSERT_TRUE(demands.ok());
  for (int64_t supply : {int64_t{0}, int64_t{100}, int64_t{514 * 20 - 1}, int64_t{100000}, int64_t{3000000}}) {
    for (Policy policy : kAllPolicies) {
      Plan plan = MustPlan(*demands, policy, {.supply = supply, .floor = 20, .lead_days = 30});
      ASSERT_EQ(plan.regencies.size(), 514u);
      const auto allocation = Allocations(plan);
      EXPECT_EQ(std::accumulate(allocation.begin(), allocation.end(), int64_t{0}), supply);
      EXPECT_EQ(plan.summary.floor_applied, std::min<int64_t>(20, supply / 514));
      EXPECT_GE(*std::min_element(allocation.begin(), allocation.end()), plan.summary.floor_applied);
    }
  }
  Plan proportional = MustPlan(*demands, Policy::kProportional, {.supply = 100000, .floor = 20, .lead_days = 30});
  Plan min_max = MustPlan(*demands, Policy::kMinMaxWait, {.supply = 100000, .floor = 20, .lead_days = 30});
  EXPECT_LE(min_max.summary.max_wait_days, proportional.summary.max_wait_days);
}

// --- demand measured in central's database ---

constexpr char kNgawiVillage[] = "35.21.01.2001";
constexpr char kPonorogoVillage[] = "35.02.01.2001";

class MeasuredDemandTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = store::testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    records_ = std::make_unique<store::RecordRepository>(db_->connection(), clock_);
    queue_ = std::make_unique<printing::PrintQueue>(db_->connection(), clock_);
  }

  // A record through the pipeline to print_ready and into its regency's queue, now.
  int64_t PrintReady(const std::string& registration, const std::string& village) {
    auto id = printing::testing::CreateUniqueRecord(*records_, registration, ApplicationKind::kLost,
                                                    year_month_day{year(1990), month(5), day(4)}, village);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return 0;
    EXPECT_OK(printing::testing::MakePrintReady(db_->connection(), *records_, *queue_, *id));
    return *id;
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(10), day(1)}) + hours(1)};
  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<store::RecordRepository> records_;
  std::unique_ptr<printing::PrintQueue> queue_;
};

TEST_P(MeasuredDemandTest, BacklogIsWhatIsStillPrintReadyAndTheRateCountsTheWindow) {
  PrintReady("NGAWI-OLD", kNgawiVillage);  // 2026-10-01, outside a 28-day window on 2026-11-10
  clock_.Advance(days(30));
  PrintReady("NGAWI-1", kNgawiVillage);
  PrintReady("NGAWI-2", kNgawiVillage);
  const int64_t printed = PrintReady("PONOROGO-1", kPonorogoVillage);
  PrintReady("PONOROGO-2", kPonorogoVillage);
  ASSERT_OK(records_->Transition(printed, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  clock_.Advance(days(10));

  auto demands = MeasuredDemand(db_->connection(), clock_, RegionRegistry::Default(),
                                {.lead_days = 30, .rate_window_days = 28});
  ASSERT_TRUE(demands.ok()) << demands.status().ToString();
  ASSERT_EQ(demands->size(), 514u);
  const RegencyDemand* ngawi = Find(*demands, "35.21");
  const RegencyDemand* ponorogo = Find(*demands, "35.02");
  ASSERT_NE(ngawi, nullptr);
  ASSERT_NE(ponorogo, nullptr);
  EXPECT_EQ(ngawi->backlog, 3);
  EXPECT_DOUBLE_EQ(ngawi->daily_rate, 2.0 / 28);
  EXPECT_EQ(ngawi->need, 3 + 2);  // 30 x 2/28 = 2.14
  EXPECT_EQ(ponorogo->backlog, 1);  // the printed one left the backlog, not the rate
  EXPECT_DOUBLE_EQ(ponorogo->daily_rate, 2.0 / 28);
  EXPECT_EQ(ponorogo->need, 1 + 2);
  const RegencyDemand* aceh_selatan = Find(*demands, "11.01");
  EXPECT_EQ(aceh_selatan->backlog, 0);
  EXPECT_EQ(aceh_selatan->need, 0);

  // A window that reaches back to the first one counts it too.
  auto wider = MeasuredDemand(db_->connection(), clock_, RegionRegistry::Default(),
                              {.lead_days = 30, .rate_window_days = 45});
  ASSERT_TRUE(wider.ok());
  EXPECT_DOUBLE_EQ(Find(*wider, "35.21")->daily_rate, 3.0 / 45);

  // The plan on measured demand: floor 1 everywhere, the backlogs covered (3 and 1), and the
  // 2 left go to the need expected during the lead time (2 each).
  Plan plan = MustPlan(*demands, Policy::kMinMaxWait, {.supply = 514 + 4, .floor = 1, .lead_days = 30});
  for (const RegencyAllocation& r : plan.regencies) {
    const int64_t expected = r.demand.code == "35.21" ? 4 : r.demand.code == "35.02" ? 2 : 1;
    EXPECT_EQ(r.allocation, expected) << r.demand.code;
  }
  EXPECT_EQ(plan.summary.max_wait_days, 0);
}

TEST_P(MeasuredDemandTest, ARegencyTheRegistryDoesNotKnowIsDataLoss) {
  PrintReady("PONOROGO-1", kPonorogoVillage);
  auto ngawi_only = RegionRegistry::Parse("code,name\n35,Jawa Timur\n35.21,Kabupaten Ngawi\n", "code,name,male,female,total\n");
  ASSERT_TRUE(ngawi_only.ok());
  EXPECT_THAT(MeasuredDemand(db_->connection(), clock_, **ngawi_only, MeasuredOptions{}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("regency '35.02', which the region registry does not know")));
  EXPECT_THAT(MeasuredDemand(db_->connection(), clock_, RegionRegistry::Default(), {.rate_window_days = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("rate window must be at least 1 day")));
}

TEST_P(MeasuredDemandTest, TheLedgerGivesEachRegencysBlanksWhereverTheyAreInIt) {
  BlankLedger ledger(db_->connection(), clock_);
  ASSERT_OK(ledger.StockIn({1, 100}, "admin"));
  ASSERT_OK(ledger.Ship("35.21", {1, 30}, "admin"));
  ASSERT_OK(ledger.Ship("35.02", {31, 35}, "admin"));
  ASSERT_OK(db_->connection().Exec(
      "INSERT INTO stations (id, kecamatan_code, kind, capabilities, public_key, status, registered_at) "
      "VALUES ('ST-352101-01', '35.21.01', 'disdukcapil_office', 'print', ?, 'approved', '2026-10-01T00:00:00Z')",
      {store::Blob(32, 1)}));
  ASSERT_OK(ledger.HandOver("ST-352101-01", {1, 10}, "admin"));
  ASSERT_OK(ledger.Receive("ST-352101-01", "r1", {1, 4}).status());
  auto on_hand = LedgerOnHand(db_->connection(), clock_);
  ASSERT_OK(on_hand.status());
  EXPECT_EQ(*on_hand, (std::map<std::string, int64_t>{{"35.02", 5}, {"35.21", 30}}));

  PrintReady("NGAWI-1", kNgawiVillage);
  auto demands = MeasuredDemand(db_->connection(), clock_, RegionRegistry::Default(), MeasuredOptions{});
  ASSERT_OK(demands.status());
  ASSERT_OK(ApplyOnHand(*demands, *on_hand));
  auto ngawi = std::ranges::find(*demands, std::string("35.21"), &RegencyDemand::code);
  ASSERT_NE(ngawi, demands->end());
  EXPECT_EQ(ngawi->on_hand, 30);
}

INSTANTIATE_TEST_SUITE_P(Backends, MeasuredDemandTest, ::testing::ValuesIn(store::testing::kBackends));

}  // namespace
}  // namespace ektp::blanks
