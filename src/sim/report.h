// What `ektp sim` writes: the summary table, the CSV files and the charts of
// one Result. Formats: docs/simulation.md.
//
// Thread-safety: SummaryTable and WriteCsv are free functions over their
// arguments; WriteCharts drives PLplot, whose state is global, so one thread
// at a time.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "sim/sim.h"

namespace ektp::sim {

// The comparison of both modes as an aligned text table (for stdout).
std::string SummaryTable(const Result& result);

// Every knob of `scenario` as `ektp sim` flags, in the order of `ektp help
// sim`: {"--days", "91"}, {"--shipment", "0:5000"}, ... (repeatable flags once
// per value). Passing them all to `ektp sim` runs the same scenario.
std::vector<std::pair<std::string, std::string>> ScenarioFlags(const Scenario& scenario);

// Writes into `dir` (created if missing): scenario.csv (flag, value: the
// knobs of the run, ScenarioFlags), summary.csv (metric, online-only,
// offline-first), days.csv (one row per mode and day, the columns of Day)
// and waits.csv (mode, percentile 1..99, days to card; empty when that share
// has no card). Returns the paths written. kUnavailable if a file cannot be
// written.
StatusOr<std::vector<std::filesystem::path>> WriteCsv(const Result& result, const std::filesystem::path& dir);

// Writes four SVG charts into `dir` through PLplot's svg device:
// waits.svg (days to card by percentile), backlog.svg (waiting for a card and
// not yet recorded, by day), blanks.svg (shipped and used, by day) and
// suket.svg (Suket holders, by day). Returns the paths written.
// kUnavailable if a file cannot be created.
StatusOr<std::vector<std::filesystem::path>> WriteCharts(const Result& result, const std::filesystem::path& dir);

}  // namespace ektp::sim
