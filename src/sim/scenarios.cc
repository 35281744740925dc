// The named scenarios. Each value set from a reported fact says which fact
// and how; docs/simulation.md has the same table and the figures each
// scenario is then checked against (scenarios_test in sim_test.cc).
//
// Shared arithmetic: the Disdukcapil office is open 7 h a day, Monday to
// Friday, so 61 days hold 45 open days (315 h) and 91 days hold 65 (455 h).
// The arrival rate is population × (1/60 + 0.005 + 0.005) a year.
#include "sim/sim.h"

namespace ektp::sim {
namespace {

Scenario Situbondo() {
  Scenario s;
  s.name = "situbondo";
  s.regency = "35.12";  // population 691,635: 50.5 arrivals a day
  s.days = 91;          // a quarter (the report gives no period)
  // "needed 35,000": the planner's need at day 0 is the backlog plus 30 days
  // of arrivals (1,516), so the backlog is 35,000 - 1,516.
  s.backlog = 33'484;
  // "received 10,000, in stages": two instalments.
  s.shipments = {{0, 5'000}, {42, 5'000}};
  // A printer that could use every blank in the quarter: 25/h × 455 h = 11,375.
  s.printer_per_hour = 25;
  // "could print only about 2,000 because the network kept failing": the
  // office's link is up 2,000 / (0.99 × 11,375) ≈ 0.18 of the time:
  // outages of 14 h on average after 3 h of link.
  s.office_link_up_hours = 3;
  s.office_link_down_hours = 14;
  // The kecamatan offices share the same provider: a day up, 8 h down.
  s.link_up_hours = 24;
  s.link_down_hours = 8;
  return s;
}

Scenario Ngawi() {
  Scenario s;
  s.name = "ngawi";
  s.regency = "35.21";
  s.days = 61;  // two months
  // "22,000 blanks for 21,997 ready records".
  s.backlog = 21'997;
  s.shipments = {{0, 22'000}};
  // The national capacity upgrade ("more than a week"): central off for
  // 8 days from the third Monday, 6 of the 45 open days.
  s.maintenance = {{14, 8}};
  // A printer able to clear the backlog in the period: 80/h × 315 h = 25,200.
  s.printer_per_hour = 80;
  // "6,000 held up by the central link": 22,000 - 6,000 = 16,000 blanks used
  // in the 273 open hours central is on, so the office's link is up
  // 16,000 / (80 × 273) ≈ 0.73 of the time: 4 h outages after 11 h up.
  s.office_link_up_hours = 11;
  s.office_link_down_hours = 4;
  return s;
}

Scenario RokanHilir() {
  Scenario s;
  s.name = "rokan-hilir";
  s.regency = "14.07";  // population 688,073: 50.3 arrivals a day
  s.days = 61;          // "in two months"
  // "14,000 blanks": one shipment sized by the planner's need, the backlog
  // plus 30 days of arrivals (1,508), so the backlog is 14,000 - 1,508.
  s.shipments = {{0, 14'000}};
  s.backlog = 12'492;
  // "used 12,000 in two months", on an ordinary link (the default, up 0.97
  // of the time): 12,000 / (315 h × 0.968) ≈ 39.4 blanks an hour.
  s.printer_per_hour = 39.4;
  return s;
}

}  // namespace

std::vector<std::string_view> ScenarioNames() { return {"situbondo", "ngawi", "rokan-hilir"}; }

StatusOr<Scenario> NamedScenario(std::string_view name) {
  if (name == "situbondo") return Situbondo();
  if (name == "ngawi") return Ngawi();
  if (name == "rokan-hilir") return RokanHilir();
  return NotFound("no scenario named '" + std::string(name) + "'; the scenarios are situbondo, ngawi, rokan-hilir");
}

}  // namespace ektp::sim
