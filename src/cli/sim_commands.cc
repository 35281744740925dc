// `ektp sim`: one regency over weeks or months, online-only against
// offline-first on the same seeded inputs (src/sim/sim.h, docs/simulation.md).
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/region.h"
#include "service/progress.h"
#include "sim/report.h"
#include "sim/sim.h"

namespace ektp::cli {
namespace {

int Refuse(const Status& status) {
  std::cerr << "ektp sim: " << status.message() << "\nRun `ektp help sim` for usage.\n";
  return kExitUsage;
}

// `text` as a whole number or decimal into `value`; false if it is not one.
template <typename T>
bool ParseNumber(const std::string& text, T& value) {
  try {
    size_t used = 0;
    if constexpr (std::is_integral_v<T>) {
      value = static_cast<T>(std::stoll(text, &used));
    } else {
      value = std::stod(text, &used);
    }
    return used == text.size();
  } catch (const std::exception&) {
    return false;
  }
}

// "A:B" (`form` names them) into two numbers, or kInvalidArgument naming the flag.
template <typename A, typename B>
Status SplitPair(const std::string& flag, const std::string& form, const std::string& text, A& a, B& b) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || !ParseNumber(text.substr(0, colon), a) || !ParseNumber(text.substr(colon + 1), b)) {
    return InvalidArgument(flag + " '" + text + "' is not of the form " + form);
  }
  return Status::Ok();
}

}  // namespace

int Sim(const Args& args) {
  CLI::App app(
      "Simulate one regency over weeks or months, seeded and deterministic: enrollment arrivals from its population, "
      "stations with opening hours and link outages, central maintenance, blank shipments, printing, pickups and "
      "Sukets. Today's online-only operation and ektp's offline-first one run on the same inputs; the comparison goes "
      "to stdout, CSV and SVG charts to --out. A named --scenario sets its knobs first; flags given override them. "
      "Model and scenarios: docs/simulation.md.",
      "sim");
  const sim::Scenario defaults;
  sim::Scenario f = defaults;  // values of the flags; only those given are applied
  std::string scenario_name, out_dir;
  std::vector<std::string> maintenance, shipments;
  std::vector<std::pair<CLI::Option*, std::function<void(sim::Scenario&)>>> knobs;
  auto knob = [&](CLI::Option* option, std::function<void(sim::Scenario&)> apply) {
    option->capture_default_str();
    knobs.emplace_back(option, std::move(apply));
  };

  app.add_option("--scenario", scenario_name, "a named scenario: situbondo, ngawi, rokan-hilir");
  bool print_scenario = false;
  app.add_flag("--print-scenario", print_scenario,
               "print every knob of the run as flags (the named scenario's values, flags given over them) and stop");
  app.add_option("--out", out_dir, "write scenario.csv, summary.csv, days.csv, waits.csv and the charts (waits, backlog, blanks, suket .svg) here");
  knob(app.add_option("--regency", f.regency, "Kemendagri regency code (population from the region registry)"),
       [&](sim::Scenario& s) { s.regency = f.regency; });
  knob(app.add_option("--days", f.days, "days to simulate (day 0 is a Monday)"), [&](sim::Scenario& s) { s.days = f.days; });
  knob(app.add_option("--seed", f.seed, "seed of every random draw"), [&](sim::Scenario& s) { s.seed = f.seed; });
  knob(app.add_option("--cohort-years", f.cohort_years, "1/this of the population turns 17 each year"),
       [&](sim::Scenario& s) { s.cohort_years = f.cohort_years; });
  knob(app.add_option("--replacement-rate", f.replacement_rate, "replacements and data changes per resident per year"),
       [&](sim::Scenario& s) { s.replacement_rate = f.replacement_rate; });
  knob(app.add_option("--move-rate", f.move_rate, "moves in per resident per year"),
       [&](sim::Scenario& s) { s.move_rate = f.move_rate; });
  knob(app.add_option("--backlog", f.backlog,
                      "print-ready records waiting at day 0 (-1: the blanks planner's model, 3 months of the cohort)"),
       [&](sim::Scenario& s) { s.backlog = f.backlog; });
  knob(app.add_option("--backlog-age-days", f.backlog_age_days, "the day-0 backlog was recorded over this many days"),
       [&](sim::Scenario& s) { s.backlog_age_days = f.backlog_age_days; });
  knob(app.add_option("--stations", f.stations, "enrolling stations, the Disdukcapil office (prints, hands over) included"),
       [&](sim::Scenario& s) { s.stations = f.stations; });
  knob(app.add_option("--open-hour", f.open_hour, "opening hour"), [&](sim::Scenario& s) { s.open_hour = f.open_hour; });
  knob(app.add_option("--close-hour", f.close_hour, "closing hour"), [&](sim::Scenario& s) { s.close_hour = f.close_hour; });
  knob(app.add_option("--open-days", f.open_days, "open days a week, from Monday"),
       [&](sim::Scenario& s) { s.open_days = f.open_days; });
  knob(app.add_option("--enroll-per-hour", f.enroll_per_hour, "enrollments per station per open hour"),
       [&](sim::Scenario& s) { s.enroll_per_hour = f.enroll_per_hour; });
  knob(app.add_option("--return-days", f.return_days, "mean days before a resident turned away comes back"),
       [&](sim::Scenario& s) { s.return_days = f.return_days; });
  knob(app.add_option("--link-up-hours", f.link_up_hours, "kecamatan stations and vans: mean hours between outages"),
       [&](sim::Scenario& s) { s.link_up_hours = f.link_up_hours; });
  knob(app.add_option("--link-down-hours", f.link_down_hours, "kecamatan stations and vans: mean outage, hours"),
       [&](sim::Scenario& s) { s.link_down_hours = f.link_down_hours; });
  knob(app.add_option("--office-link-up-hours", f.office_link_up_hours, "Disdukcapil office: mean hours between outages"),
       [&](sim::Scenario& s) { s.office_link_up_hours = f.office_link_up_hours; });
  knob(app.add_option("--office-link-down-hours", f.office_link_down_hours, "Disdukcapil office: mean outage, hours"),
       [&](sim::Scenario& s) { s.office_link_down_hours = f.office_link_down_hours; });
  app.add_option("--maintenance", maintenance, "central switched off from day DAY for DAYS days (DAY:DAYS, repeatable; default none)");
  knob(app.add_option("--central-hours", f.central_hours, "hours at central from upload to print-ready"),
       [&](sim::Scenario& s) { s.central_hours = f.central_hours; });
  app.add_option("--shipment", shipments,
                 "COUNT blanks reach the office on day DAY (DAY:COUNT, repeatable; default one shipment on day 0 of "
                 "the blanks planner's need: backlog + lead-days of arrivals)");
  knob(app.add_option("--printer-per-hour", f.printer_per_hour, "cards the office can print per open hour"),
       [&](sim::Scenario& s) { s.printer_per_hour = f.printer_per_hour; });
  knob(app.add_option("--spoil-rate", f.spoil_rate, "share of prints that spoil their blank"),
       [&](sim::Scenario& s) { s.spoil_rate = f.spoil_rate; });
  knob(app.add_option("--lead-days", f.lead_days, "resupply alert: blanks on hand below the backlog plus this many days of arrivals"),
       [&](sim::Scenario& s) { s.lead_days = f.lead_days; });
  knob(app.add_option("--pickup-days", f.pickup_days, "mean days from printing to the resident's first pickup visit"),
       [&](sim::Scenario& s) { s.pickup_days = f.pickup_days; });
  knob(app.add_option("--pickup-per-hour", f.pickup_per_hour, "hand-overs per open hour at the office"),
       [&](sim::Scenario& s) { s.pickup_per_hour = f.pickup_per_hour; });
  knob(app.add_option("--suket-after-days", f.suket_after_days, "a recorded resident without a card asks for a Suket after this many days"),
       [&](sim::Scenario& s) { s.suket_after_days = f.suket_after_days; });
  if (auto exit = Parse(app, args)) return *exit;

  sim::Scenario scenario = defaults;
  if (!scenario_name.empty()) {
    auto named = sim::NamedScenario(scenario_name);
    if (!named.ok()) return Refuse(named.status());
    scenario = *named;
  }
  for (auto& [option, apply] : knobs) {
    if (option->count() > 0) apply(scenario);
  }
  if (!maintenance.empty()) {
    scenario.maintenance.clear();
    for (const std::string& text : maintenance) {
      sim::Window w;
      if (Status st = SplitPair("--maintenance", "DAY:DAYS", text, w.start_day, w.days); !st.ok()) return Refuse(st);
      scenario.maintenance.push_back(w);
    }
  }
  if (!shipments.empty()) {
    scenario.shipments.clear();
    for (const std::string& text : shipments) {
      sim::Shipment shipment;
      if (Status st = SplitPair("--shipment", "DAY:COUNT", text, shipment.day, shipment.count); !st.ok()) return Refuse(st);
      scenario.shipments.push_back(shipment);
    }
  }
  if (Status st = sim::Validate(scenario, RegionRegistry::Default()); !st.ok()) return Refuse(st);
  if (print_scenario) {
    for (const auto& [flag, value] : sim::ScenarioFlags(scenario)) std::cout << flag << " " << value << "\n";
    return kExitOk;
  }

  service::Progress progress;
  auto result = sim::Simulate(scenario, RegionRegistry::Default(), [&progress](sim::Mode mode, int day, int days) {
    progress.Update("sim " + std::string(sim::ModeName(mode)) + ", day", day, days);
  });
  if (!result.ok()) return Refuse(result.status());
  std::cout << sim::SummaryTable(*result);
  if (!out_dir.empty()) {
    auto csv = sim::WriteCsv(*result, out_dir);
    if (!csv.ok()) return Fail(csv.status());
    auto charts = sim::WriteCharts(*result, out_dir);
    if (!charts.ok()) return Fail(charts.status());
    std::cout << "\nwrote";
    for (const auto* paths : {&*csv, &*charts}) {
      for (const auto& path : *paths) std::cout << " " << path.string();
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace ektp::cli
