// `ektp central blanks need` and `ektp central blanks plan`: blank-card need
// and shortage per regency, and the national allocation planner
// (src/blanks/demand.h, plan.h; docs/operations.md).
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "blanks/demand.h"
#include "blanks/json.h"
#include "blanks/plan.h"
#include "central/server.h"
#include "cli/commands.h"
#include "core/text.h"

namespace ektp::cli {
namespace {

// Flags shared by `need` and `plan`: where demand comes from and what is on hand.
struct DemandFlags {
  std::string data_dir;     // --data: a folder with regions/regions.csv and regions/population.csv
  std::string central_dir;  // --dir: central's data directory (measured demand)
  std::string db_url;       // --db: central's database URL (measured demand)
  int lead_days = blanks::kDefaultLeadDays;
  double backlog_months = blanks::PopulationModel{}.backlog_months;
  int rate_window_days = blanks::MeasuredOptions{}.rate_window_days;
  std::vector<std::string> on_hand;  // CODE=N
  std::string format = "table";
};

void AddDemandFlags(CLI::App& app, DemandFlags& flags) {
  app.add_option("--data", flags.data_dir,
                 "folder with regions/regions.csv and regions/population.csv (default: the region data built into "
                 "ektp, a copy of ../shared/data)");
  app.add_option("--dir", flags.central_dir,
                 "central's data directory: measure backlog and rate from its print queue instead of the population "
                 "model");
  app.add_option("--db", flags.db_url, "central's database URL (instead of the SQLite file in --dir)");
  app.add_option("--lead-days", flags.lead_days, "days from ordering blanks to their arrival (resupply cycle)")
      ->capture_default_str();
  app.add_option("--backlog-months", flags.backlog_months,
                 "population model: months of the cohort turning 17 modelled as waiting now")
      ->capture_default_str();
  app.add_option("--rate-window-days", flags.rate_window_days,
                 "measured demand: average the print-ready rate over this many days")
      ->capture_default_str();
  app.add_option("--on-hand", flags.on_hand, "blanks held by a regency, CODE=N (repeatable; default 0)");
  app.add_option("--format", flags.format, "output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

StatusOr<std::string> ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

StatusOr<std::map<std::string, int64_t>> ParseOnHand(const std::vector<std::string>& entries) {
  std::map<std::string, int64_t> on_hand;
  for (const std::string& entry : entries) {
    const size_t eq = entry.find('=');
    int64_t count = 0;
    const std::string number = eq == std::string::npos ? "" : entry.substr(eq + 1);
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (eq == std::string::npos || number.empty() || error != std::errc() || end != number.data() + number.size()) {
      return InvalidArgument("--on-hand '" + QuoteInput(entry) + "' must be CODE=N, e.g. 35.21=12000");
    }
    on_hand[entry.substr(0, eq)] = count;
  }
  return on_hand;
}

// Demand per regency from the flags, and a line saying where it came from.
struct LoadedDemand {
  std::unique_ptr<RegionRegistry> parsed_regions;  // set when --data is given
  std::vector<blanks::RegencyDemand> demands;
  std::string source;  // English, for JSON
  std::string sumber;  // Bahasa Indonesia, for the table
};

StatusOr<LoadedDemand> LoadDemand(const DemandFlags& flags) {
  LoadedDemand loaded;
  const RegionRegistry* regions = &RegionRegistry::Default();
  if (!flags.data_dir.empty()) {
    const std::filesystem::path folder = std::filesystem::path(flags.data_dir) / "regions";
    ASSIGN_OR_RETURN(std::string regions_csv, ReadText(folder / "regions.csv"));
    ASSIGN_OR_RETURN(std::string population_csv, ReadText(folder / "population.csv"));
    ASSIGN_OR_RETURN(loaded.parsed_regions, RegionRegistry::Parse(regions_csv, population_csv));
    regions = loaded.parsed_regions.get();
  }
  std::ostringstream source, sumber;
  if (flags.central_dir.empty() && flags.db_url.empty()) {
    blanks::PopulationModel model;
    model.lead_days = flags.lead_days;
    model.backlog_months = flags.backlog_months;
    ASSIGN_OR_RETURN(loaded.demands, blanks::ModelDemand(*regions, model));
    source << "population model: 1/" << model.cohort_years << " of the population turns 17 each year; backlog "
           << model.backlog_months << " months of that cohort";
    sumber << "model penduduk: 1/" << model.cohort_years << " penduduk berusia 17 tiap tahun; tunggakan "
           << model.backlog_months << " bulan kelompok itu";
  } else {
    central::CentralOptions options;
    options.data_dir = flags.central_dir;
    options.db_url = flags.db_url;
    if (options.db_url.empty() && !std::filesystem::exists(std::filesystem::path(options.data_dir) / "central.db")) {
      return NotFound("no central database in " + options.data_dir + " (give central's data directory or --db)");
    }
    ASSIGN_OR_RETURN(auto db, store::Open(central::CentralDbUrl(options), store::Schema::kCentral));
    blanks::MeasuredOptions measured;
    measured.lead_days = flags.lead_days;
    measured.rate_window_days = flags.rate_window_days;
    ASSIGN_OR_RETURN(loaded.demands, blanks::MeasuredDemand(*db, SystemClock::Instance(), *regions, measured));
    ASSIGN_OR_RETURN(auto held, blanks::LedgerOnHand(*db, SystemClock::Instance()));
    RETURN_IF_ERROR(blanks::ApplyOnHand(loaded.demands, held));
    source << "central's print queue: records print_ready now; rate over the last " << measured.rate_window_days
           << " days; blanks on hand from the ledger";
    sumber << "antrean cetak pusat: rekaman siap cetak sekarang; laju " << measured.rate_window_days
           << " hari terakhir; stok blangko dari buku besar";
  }
  ASSIGN_OR_RETURN(auto on_hand, ParseOnHand(flags.on_hand));
  RETURN_IF_ERROR(blanks::ApplyOnHand(loaded.demands, on_hand));
  loaded.source = source.str();
  loaded.sumber = sumber.str();
  return loaded;
}

std::string Fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

// Days as text: "unbounded" for infinity.
std::string DaysText(double days) { return std::isinf(days) ? "unbounded" : Fixed(days, 0); }

// CSV field: quoted when it holds a comma or a quote.
std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void PrintRow(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  for (size_t idx = 0; idx < cells.size(); ++idx) {
    const int width = widths[idx];
    if (width < 0) {
      std::cout << std::left << std::setw(-width) << cells[idx];
    } else {
      std::cout << std::right << std::setw(width) << cells[idx];
    }
    std::cout << (idx + 1 < cells.size() ? "  " : "\n");
  }
}

}  // namespace

int CentralBlanksNeed(const Args& args) {
  CLI::App app("Blank-card need per regency (backlog + expected during the lead time) and the shortage alert",
               "central blanks need");
  DemandFlags flags;
  bool short_only = false;
  AddDemandFlags(app, flags);
  app.add_flag("--short", short_only, "list only regencies whose blanks on hand are below their need");
  if (auto exit = Parse(app, args)) return *exit;
  auto loaded = LoadDemand(flags);
  if (!loaded.ok()) return Fail(loaded.status());
  const std::vector<blanks::RegencyDemand> shortages = blanks::Shortages(loaded->demands);
  const std::vector<blanks::RegencyDemand>& listed = short_only ? shortages : loaded->demands;
  int64_t total_need = 0, total_shortfall = 0;
  for (const auto& d : loaded->demands) {
    total_need += d.need;
    total_shortfall += d.shortfall();
  }

  if (flags.format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& d : listed) {
      rows.push_back({{"code", d.code}, {"name", d.name}, {"backlog", d.backlog}, {"daily_rate", d.daily_rate},
                      {"on_hand", d.on_hand}, {"need", d.need}, {"shortfall", d.shortfall()},
                      {"short", d.on_hand < d.need}});
    }
    std::cout << nlohmann::json{{"source", loaded->source},
                                {"lead_days", flags.lead_days},
                                {"total_need", total_need},
                                {"total_shortfall", total_shortfall},
                                {"regencies_short", shortages.size()},
                                {"regencies", rows}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  if (flags.format == "csv") {
    std::cout << "code,name,backlog,daily_rate,on_hand,need,shortfall,short\n";
    for (const auto& d : listed) {
      std::cout << d.code << "," << Csv(d.name) << "," << d.backlog << "," << Fixed(d.daily_rate, 3) << ","
                << d.on_hand << "," << d.need << "," << d.shortfall() << "," << (d.on_hand < d.need ? 1 : 0) << "\n";
    }
    return kExitOk;
  }
  std::cout << "Kebutuhan blangko per kabupaten/kota (" << loaded->sumber << "; waktu tunggu pasokan "
            << flags.lead_days << " hari)\n";
  const std::vector<int> widths = {-6, -42, 10, 10, 8, 10, 10};
  PrintRow({"kode", "kabupaten/kota", "tunggakan", "per hari", "stok", "kebutuhan", "kekurangan"}, widths);
  for (const auto& d : listed) {
    PrintRow({d.code, d.name, std::to_string(d.backlog), Fixed(d.daily_rate, 1), std::to_string(d.on_hand),
              std::to_string(d.need), d.on_hand < d.need ? std::to_string(d.shortfall()) : "-"},
             widths);
  }
  std::cout << "jumlah kebutuhan " << total_need << "; " << shortages.size()
            << " kabupaten/kota kekurangan blangko, total kekurangan " << total_shortfall << "\n";
  return kExitOk;
}

int CentralBlanksPlan(const Args& args) {
  CLI::App app("Divide a supply of blank cards across all regencies and show each plan's waits and backlog left",
               "central blanks plan");
  DemandFlags flags;
  blanks::PlanOptions options;
  std::string policy_name = "all";
  AddDemandFlags(app, flags);
  app.add_option("--supply", options.supply, "blanks to divide")->required();
  app.add_option("--floor", options.floor, "minimum guarantee per regency")->capture_default_str();
  app.add_option("--policy", policy_name, "proportional, min-max-wait or all")
      ->check(CLI::IsMember({"proportional", "min-max-wait", "all"}))
      ->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  options.lead_days = flags.lead_days;
  auto loaded = LoadDemand(flags);
  if (!loaded.ok()) return Fail(loaded.status());

  std::vector<blanks::Plan> plans;
  for (blanks::Policy policy : blanks::kAllPolicies) {
    if (policy_name != "all" && policy_name != blanks::PolicyName(policy)) continue;
    auto plan = blanks::MakePlan(loaded->demands, policy, options);
    if (!plan.ok()) return Fail(plan.status());
    plans.push_back(std::move(*plan));
  }

  if (flags.format == "json") {
    nlohmann::json out = {{"source", loaded->source}, {"supply", options.supply}, {"floor", options.floor},
                          {"lead_days", options.lead_days}, {"plans", nlohmann::json::array()}};
    for (const blanks::Plan& plan : plans) {
      out["plans"].push_back(blanks::PlanJson(plan));
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (flags.format == "csv") {
    std::cout << "policy,code,name,backlog,on_hand,need,allocation,wait_days,backlog_left\n";
    for (const blanks::Plan& plan : plans) {
      for (const auto& r : plan.regencies) {
        std::cout << blanks::PolicyName(plan.policy) << "," << r.demand.code << "," << Csv(r.demand.name) << ","
                  << r.demand.backlog << "," << r.demand.on_hand << "," << r.demand.need << "," << r.allocation << ","
                  << DaysText(r.wait_days) << "," << r.backlog_left << "\n";
      }
    }
    return kExitOk;
  }
  std::cout << "Rencana alokasi " << options.supply << " blangko (" << loaded->sumber << "; pasokan berikut tiap "
            << options.lead_days << " hari; jaminan minimum " << options.floor << " per kabupaten/kota)\n";
  const std::vector<int> widths = {-6, -42, 10, 8, 10, 9, 12, 14};
  for (const blanks::Plan& plan : plans) {
    const blanks::PlanSummary& s = plan.summary;
    std::cout << "\nkebijakan " << blanks::PolicyName(plan.policy) << ": tunggu terlama " << DaysText(s.max_wait_days)
              << " hari, rata-rata per warga " << (std::isinf(s.mean_wait_days) ? "unbounded" : Fixed(s.mean_wait_days, 1))
              << " hari, sisa tunggakan " << s.backlog_left << ", jaminan yang diterapkan " << s.floor_applied
              << (s.unbounded > 0 ? ", " + std::to_string(s.unbounded) + " kabupaten/kota tanpa blangko" : "") << "\n";
    PrintRow({"kode", "kabupaten/kota", "tunggakan", "stok", "kebutuhan", "alokasi", "tunggu (hari)", "sisa tunggakan"},
             widths);
    for (const auto& r : plan.regencies) {
      PrintRow({r.demand.code, r.demand.name, std::to_string(r.demand.backlog), std::to_string(r.demand.on_hand),
                std::to_string(r.demand.need), std::to_string(r.allocation), DaysText(r.wait_days),
                std::to_string(r.backlog_left)},
               widths);
    }
  }
  return kExitOk;
}

}  // namespace ektp::cli
