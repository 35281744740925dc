// One regency over weeks or months: a seeded discrete-event simulation of
// enrollment, central processing, printing and pickup, run twice on the same
// inputs — today's online-only operation and ektp's offline-first one.
//
//   Scenario --Generate--> Inputs --Operate(mode)--> ModeResult
//   Simulate(scenario) = both modes on one Inputs, the Result.
//
// Every random draw comes from a counter-based stream keyed by (seed, what,
// which resident or station, attempt), so both modes see the very same
// residents, arrival times, outages, shipments, return and pickup delays, and
// a given seed gives the same Result on every run and machine. The model and
// its defaults: docs/simulation.md.
//
// Thread-safety: free functions over their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/region.h"
#include "core/status.h"

namespace ektp::sim {

// A window [start_day, start_day + days) during which central is switched off.
struct Window {
  double start_day = 0;
  double days = 0;
};

// `count` blanks reach the regency's print office at the start of `day`.
struct Shipment {
  int day = 0;
  int64_t count = 0;
};

// Every knob of the model, with its default. A named scenario (NamedScenario)
// is one set of these values.
struct Scenario {
  std::string name = "custom";
  std::string regency = "35.21";  // Kemendagri code; the population comes from the region registry
  int days = 90;                  // simulated days, day 0 a Monday
  uint64_t seed = 1;

  // Arrivals (per resident of the regency per year). The cohort turning 17 is
  // population / cohort_years a year, as the blanks planner models it.
  double cohort_years = 60;
  double replacement_rate = 0.005;  // lost, damaged cards and data changes
  double move_rate = 0.005;         // moves in from another regency
  // Print-ready records already waiting at day 0 (their age spread over the
  // previous backlog_age_days). Negative: the blanks planner's population
  // model (3 months of the cohort).
  int64_t backlog = -1;
  int backlog_age_days = 90;

  // Stations: the Disdukcapil office (station 0: enrolls, prints, hands over
  // cards and Sukets) plus stations - 1 kecamatan offices and vans.
  int stations = 5;
  int open_hour = 8;    // opening hour, local time
  int close_hour = 15;  // closing hour (exclusive)
  int open_days = 5;    // days open per week, from Monday
  double enroll_per_hour = 12;  // per station
  double return_days = 5;       // mean days before a resident sent home comes back

  // Links: an on/off process per station, exponential up and down times.
  double link_up_hours = 72;          // kecamatan stations and vans: mean time between outages
  double link_down_hours = 6;         //   mean outage
  double office_link_up_hours = 120;  // the Disdukcapil office
  double office_link_down_hours = 4;
  std::vector<Window> maintenance;    // central switched off for everyone

  // Central: hours from upload to print_ready (de-duplication, NIK); paused by maintenance.
  double central_hours = 24;

  // Blanks and printing at the office.
  std::vector<Shipment> shipments;  // empty: one shipment at day 0 covering the model's need
  double printer_per_hour = 30;     // cards the office can print per open hour
  double spoil_rate = 0.01;         // share of prints that spoil their blank
  int lead_days = 30;               // resupply alert: on hand below backlog + lead_days of arrivals

  // Pickup and Suket.
  double pickup_days = 7;         // mean days from printing to the resident's first pickup visit
  double pickup_per_hour = 60;    // hand-overs per open hour at the office
  double suket_after_days = 14;   // a recorded resident without a card asks for a Suket this long after recording
};

// Named scenarios reproducing reported situations: "situbondo", "ngawi",
// "rokan-hilir". kNotFound names the known ones.
StatusOr<Scenario> NamedScenario(std::string_view name);
std::vector<std::string_view> ScenarioNames();

// kInvalidArgument naming the knob and its allowed range when a value is out
// of range; kNotFound when the regency is unknown or has no population.
Status Validate(const Scenario& scenario, const RegionRegistry& regions);

enum class Mode { kOnlineOnly, kOfflineFirst };
std::string_view ModeName(Mode mode);   // "online-only", "offline-first" (CSV, logs)
std::string_view ModeLabel(Mode mode);  // "hanya daring", "luring dulu" (table, charts)

// End-of-day counts of one mode.
struct Day {
  int day = 0;
  int64_t arrived = 0;        // residents needing a card so far (the day-0 backlog included)
  int64_t not_recorded = 0;   // arrived, not yet recorded (queueing or sent home)
  int64_t unsynced = 0;       // recorded at a station, not yet at central (offline-first)
  int64_t processing = 0;     // at central, not yet print_ready
  int64_t print_ready = 0;    // print_ready, not printed
  int64_t printed = 0;        // printed, not yet collected
  int64_t carded = 0;         // collected (activated)
  int64_t blanks_shipped = 0;
  int64_t blanks_used = 0;    // printed + spoiled
  int64_t blanks_spoiled = 0;
  int64_t blanks_on_hand = 0;
  int64_t suket_holders = 0;  // holding a Suket, card not yet collected
  int64_t waiting() const { return arrived - carded; }
};

struct ModeResult {
  Mode mode = Mode::kOnlineOnly;
  std::vector<Day> days;           // one per simulated day
  std::vector<double> wait_days;   // per resident needing a card: days to card, +infinity without one (see Percentile)
  int64_t sent_home = 0;           // visits turned away because the link or central was down
                                   // (residents still queueing at closing keep their place)
  int64_t cards_printed = 0;       // over the run
  int64_t held_up = 0;             // at the end: print_ready records that blanks on hand could cover
  int resupply_day = -1;           // first day the shortage alert fired; -1: never
  int64_t shortfall = 0;           // at the end: the planner's need (backlog at central + lead_days
                                   // of arrivals) minus blanks on hand, at least 0
  int64_t suket_issued = 0;        // over the run (day-0 backlog recorded suket_after_days
                                   // or more before day 0 holds one from the start)
  const Day& last() const { return days.back(); }
};

struct Result {
  Scenario scenario;
  std::string regency_name;
  int64_t population = 0;
  int64_t backlog = 0;  // print_ready at day 0
  int64_t need = 0;     // the blanks planner's need at day 0: backlog + lead_days of arrivals
  ModeResult online;
  ModeResult offline;
};

// Days to card at percentile `p` (0 < p < 100) over every resident who
// needed a card (counted from arrival; the day-0 backlog from its
// recording). +infinity when that share of residents has no card by the end.
double Percentile(const ModeResult& result, double p);

// Called once per simulated day per mode: (mode, day done, days).
using ProgressFn = std::function<void(Mode, int, int)>;

// Runs both modes. Errors: those of Validate.
StatusOr<Result> Simulate(const Scenario& scenario, const RegionRegistry& regions, const ProgressFn& progress = {});

}  // namespace ektp::sim
