#include "sim/sim.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include "core/status_matchers.h"
#include "sim/report.h"

namespace ektp::sim {
namespace {

using ::testing::HasSubstr;
using ::ektp::testing::StatusIs;

const RegionRegistry& Regions() { return RegionRegistry::Default(); }

Result MustSimulate(const Scenario& scenario) {
  StatusOr<Result> result = Simulate(scenario, Regions());
  EXPECT_TRUE(result.ok()) << result.status().message();
  return std::move(result).value();
}

Scenario Small(uint64_t seed = 7) {
  Scenario s;
  s.regency = "35.21";
  s.days = 45;
  s.seed = seed;
  s.link_up_hours = 20;
  s.link_down_hours = 10;
  s.office_link_up_hours = 10;
  s.office_link_down_hours = 6;
  s.maintenance = {{10, 3}};
  s.shipments = {{0, 3000}, {20, 2000}};
  return s;
}

std::string DaysCsv(const Result& r) {
  std::ostringstream out;
  for (const ModeResult* m : {&r.online, &r.offline}) {
    for (const Day& d : m->days) {
      out << d.day << ' ' << d.arrived << ' ' << d.not_recorded << ' ' << d.unsynced << ' ' << d.processing << ' '
          << d.print_ready << ' ' << d.printed << ' ' << d.carded << ' ' << d.blanks_used << ' ' << d.blanks_spoiled
          << ' ' << d.suket_holders << '\n';
    }
    out << m->sent_home << ' ' << m->resupply_day << ' ' << m->held_up << '\n';
  }
  return out.str();
}

TEST(SimTest, SameSeedGivesTheSameResult) {
  Result a = MustSimulate(Small(7));
  Result b = MustSimulate(Small(7));
  EXPECT_EQ(DaysCsv(a), DaysCsv(b));
  EXPECT_EQ(a.online.wait_days, b.online.wait_days);
  EXPECT_EQ(a.offline.wait_days, b.offline.wait_days);
  Result c = MustSimulate(Small(8));
  EXPECT_NE(DaysCsv(a), DaysCsv(c));
}

TEST(SimTest, BothModesSeeTheSameArrivals) {
  Result r = MustSimulate(Small());
  ASSERT_EQ(r.online.days.size(), 45u);
  ASSERT_EQ(r.offline.days.size(), 45u);
  for (size_t day = 0; day < r.online.days.size(); ++day) {
    EXPECT_EQ(r.online.days[day].arrived, r.offline.days[day].arrived) << "day " << day;
  }
  EXPECT_EQ(r.online.wait_days.size(), r.offline.wait_days.size());
}

TEST(SimTest, EveryResidentIsInExactlyOneStageAndBlanksAreConserved) {
  for (uint64_t seed : {1, 2, 3}) {
    Result r = MustSimulate(Small(seed));
    for (const ModeResult* m : {&r.online, &r.offline}) {
      for (const Day& d : m->days) {
        EXPECT_EQ(d.arrived, d.not_recorded + d.unsynced + d.processing + d.print_ready + d.printed + d.carded)
            << ModeName(m->mode) << " day " << d.day;
        EXPECT_EQ(d.arrived, d.carded + d.waiting());
        EXPECT_LE(d.blanks_used, d.blanks_shipped);
        EXPECT_EQ(d.blanks_on_hand, d.blanks_shipped - d.blanks_used);
        EXPECT_LE(d.suket_holders, d.waiting());
      }
      const Day& last = m->last();
      EXPECT_EQ(last.blanks_shipped, 5000);
      EXPECT_EQ(last.blanks_used, m->cards_printed + last.blanks_spoiled);
      EXPECT_EQ(static_cast<int64_t>(m->wait_days.size()), last.arrived);
      int64_t with_card = std::count_if(m->wait_days.begin(), m->wait_days.end(), [](double d) { return std::isfinite(d); });
      EXPECT_EQ(with_card, last.carded);
    }
    // Online-only records nothing while unsynced: the link is needed to record.
    EXPECT_EQ(r.online.last().unsynced, 0);
  }
}

// Offline-first never does worse than online-only on the same inputs: at
// least as many recorded, printed and collected, no more waiting, and no
// longer waits at the percentiles the table shows.
void ExpectOfflineNoWorse(const Result& r, const std::string& what) {
  const Day& on = r.online.last();
  const Day& off = r.offline.last();
  EXPECT_GE(off.arrived - off.not_recorded, on.arrived - on.not_recorded) << what;
  EXPECT_GE(r.offline.cards_printed, r.online.cards_printed) << what;
  EXPECT_GE(off.carded, on.carded) << what;
  EXPECT_LE(off.waiting(), on.waiting()) << what;
  EXPECT_LE(r.offline.sent_home, r.online.sent_home) << what;
  EXPECT_LE(r.offline.held_up, r.online.held_up) << what;
  for (double p : {50.0, 75.0, 90.0}) EXPECT_LE(Percentile(r.offline, p), Percentile(r.online, p)) << what << " p" << p;
}

TEST(SimTest, OfflineFirstIsNeverWorseThanOnlineOnly) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    ExpectOfflineNoWorse(MustSimulate(Small(seed)), "small seed " + std::to_string(seed));
  }
  for (std::string_view name : ScenarioNames()) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      Scenario s = *NamedScenario(name);
      s.seed = seed;
      ExpectOfflineNoWorse(MustSimulate(s), std::string(name) + " seed " + std::to_string(seed));
    }
  }
}

TEST(SimTest, WithoutOutagesBothModesAgree) {
  Scenario s = Small();
  s.link_up_hours = s.office_link_up_hours = 1e9;
  s.link_down_hours = s.office_link_down_hours = 1e-9;
  s.maintenance.clear();
  Result r = MustSimulate(s);
  EXPECT_EQ(r.online.last().carded, r.offline.last().carded);
  EXPECT_EQ(r.online.cards_printed, r.offline.cards_printed);
  EXPECT_EQ(r.online.sent_home, r.offline.sent_home);
}

// The reported figures each named scenario must reproduce: the mean over
// seeds 1 to 5 within 10 % of the reported figure and every seed within 20 %
// (docs/simulation.md says which facts set which knob and why the spread).
template <typename Figure>
void ExpectNear(std::string_view name, double reported, Figure figure, const std::function<void(const Result&)>& also) {
  double sum = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Scenario s = *NamedScenario(name);
    s.seed = seed;
    Result r = MustSimulate(s);
    double value = figure(r);
    EXPECT_NEAR(value, reported, reported * 0.20) << name << " seed " << seed;
    sum += value;
    also(r);
  }
  EXPECT_NEAR(sum / 5, reported, reported * 0.10) << name << " mean of seeds 1-5";
}

TEST(SimTest, SitubondoPrintsAbout2000OnlineOnly) {
  ExpectNear("situbondo", 2'000, [](const Result& r) { return r.online.cards_printed; }, [](const Result& r) {
    EXPECT_EQ(r.online.last().blanks_shipped, 10'000);
    EXPECT_EQ(r.need, 35'000);  // an input: the backlog is set from it
    // Offline-first, the printer uses nearly every blank instead.
    EXPECT_GT(r.offline.cards_printed, 9'000);
  });
}

TEST(SimTest, NgawiHoldsUpAbout6000OnlineOnly) {
  ExpectNear("ngawi", 6'000, [](const Result& r) { return r.online.held_up; }, [](const Result& r) {
    EXPECT_EQ(r.backlog, 21'997);
    EXPECT_EQ(r.online.last().blanks_shipped, 22'000);
    EXPECT_EQ(r.offline.held_up, 0);
  });
}

TEST(SimTest, RokanHilirUses12000BlanksInTwoMonthsAndAsksForMore) {
  ExpectNear("rokan-hilir", 12'000, [](const Result& r) { return r.online.last().blanks_used; }, [](const Result& r) {
    EXPECT_EQ(r.scenario.days, 61);
    EXPECT_EQ(r.online.last().blanks_shipped, 14'000);
    // Resupply: the shortage alert fired within the two months and still stands at the end.
    EXPECT_GE(r.online.resupply_day, 0);
    EXPECT_LT(r.online.resupply_day, 61);
    EXPECT_GT(r.online.shortfall, 0);
  });
}

TEST(SimTest, UnknownScenarioNamesTheKnownOnes) {
  EXPECT_THAT(NamedScenario("jakarta").status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("situbondo, ngawi, rokan-hilir")));
}

TEST(SimTest, OutOfRangeKnobsAreRefusedNamingTheKnob) {
  struct Case {
    void (*edit)(Scenario&);
    std::string knob;
  };
  const Case cases[] = {
      {[](Scenario& s) { s.days = 0; }, "days"},
      {[](Scenario& s) { s.stations = 0; }, "stations"},
      {[](Scenario& s) { s.printer_per_hour = -1; }, "printer-per-hour"},
      {[](Scenario& s) { s.link_down_hours = 0; }, "link-down-hours"},
      {[](Scenario& s) { s.open_hour = 16; }, "open-hour/close-hour"},
      {[](Scenario& s) { s.spoil_rate = 0.7; }, "spoil-rate"},
      {[](Scenario& s) { s.maintenance = {{-2, 3}}; }, "maintenance"},
      {[](Scenario& s) { s.shipments = {{3, -5}}; }, "shipment"},
      {[](Scenario& s) { s.cohort_years = 0; }, "cohort-years"},
  };
  for (const Case& c : cases) {
    Scenario s;
    c.edit(s);
    EXPECT_THAT(Simulate(s, Regions()).status(), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.knob)));
  }
  Scenario province;
  province.regency = "35";
  EXPECT_THAT(Simulate(province, Regions()).status(), StatusIs(StatusCode::kNotFound, HasSubstr("'35'")));
}

TEST(SimTest, WritesCsvAndSvgCharts) {
  Scenario s = Small();
  s.days = 20;
  Result r = MustSimulate(s);
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "sim_report";
  std::filesystem::remove_all(dir);
  auto csv = WriteCsv(r, dir);
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  ASSERT_EQ(csv->size(), 4u);
  std::ifstream days(dir / "days.csv");
  std::string header;
  std::getline(days, header);
  EXPECT_THAT(header, HasSubstr("mode,day,arrived"));
  int rows = 0;
  for (std::string line; std::getline(days, line);) ++rows;
  EXPECT_EQ(rows, 40);  // two modes × 20 days

  auto charts = WriteCharts(r, dir);
  ASSERT_TRUE(charts.ok()) << charts.status().message();
  ASSERT_EQ(charts->size(), 4u);
  for (const auto& path : *charts) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), HasSubstr("<svg")) << path;
    EXPECT_THAT(text.str(), HasSubstr("</svg>")) << path;
  }
  EXPECT_THAT(SummaryTable(r), HasSubstr("luring dulu"));
  EXPECT_THAT(SummaryTable(r), HasSubstr("KTP-el dicetak"));
  EXPECT_THAT(WriteCharts(r, "/proc/no-such-dir/x").status(), StatusIs(StatusCode::kUnavailable, HasSubstr("/proc/no-such-dir")));
}

}  // namespace
}  // namespace ektp::sim
