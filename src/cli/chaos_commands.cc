// `ektp chaos`: flags, a table on a terminal or JSON for machines (chaos.h).
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/chaos.h"
#include "cli/commands.h"
#include "service/progress.h"

namespace ektp::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnChaosSignal(int) { g_stop = true; }

std::string Seconds(double s) {
  if (s < 0) return "did not converge";
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << s << " s";
  return out.str();
}

void PrintTable(const ChaosReport& r) {
  auto row = [](const std::string& name, const std::string& value, const std::string& verdict = "") {
    std::cout << "  " << std::left << std::setw(38) << name << std::setw(22) << value << verdict << "\n";
  };
  // A reason in full, on its own line, after how many times it was given.
  auto reason_row = [](const std::string& reason, int64_t count) {
    std::cout << "    " << count << " x " << reason << "\n";
  };
  auto must_be_zero = [](int64_t n) { return n == 0 ? std::string("ok") : std::string("FAIL (must be 0)"); };
  std::cout << "ektp chaos: " << r.backend << ", " << r.stations << " stations, " << Seconds(r.duration_s)
            << " of faults, seed " << r.seed << "\n";
  std::string faults;
  for (const auto& [kind, count] : r.faults) faults += (faults.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  std::cout << "  faults: " << (faults.empty() ? "none" : faults);
  if (r.unexpected_exits > 0) std::cout << "; processes that exited on their own: " << r.unexpected_exits;
  std::cout << "\n";
  row("enrolled (applications sent)", std::to_string(r.enrolled));
  row("acknowledged (receipts)", std::to_string(r.acknowledged));
  row("  resent after a lost answer", std::to_string(r.retries));
  row("  answered with the first receipt", std::to_string(r.replayed));
  row("refused by a station", std::to_string(r.refused));
  for (const auto& [reason, count] : r.refused_reasons) reason_row(reason, count);
  row("at central", std::to_string(r.records_at_central));
  row("lost", std::to_string(r.lost), must_be_zero(r.lost));
  row("at central without a receipt", std::to_string(r.unacknowledged_at_central),
      must_be_zero(r.unacknowledged_at_central));
  row("duplicated per registration number", std::to_string(r.duplicated_registration),
      must_be_zero(r.duplicated_registration));
  row("duplicated per resident", std::to_string(r.duplicated_resident), must_be_zero(r.duplicated_resident));
  row("applications with two receipts", std::to_string(r.duplicated_receipts), must_be_zero(r.duplicated_receipts));
  row("parked", std::to_string(r.parked));
  for (const auto& [reason, count] : r.parked_reasons) reason_row(reason, count);
  std::string states;
  for (const auto& [state, count] : r.central_states) states += (states.empty() ? "" : " ") + state + "=" + std::to_string(count);
  row("central's records by state", states);
  row("longest convergence after a fault", Seconds(r.longest_fault_converge_s),
      r.longest_fault_converge_s >= 0 ? "ok" : "FAIL");
  row("settled after the faults stopped", Seconds(r.settle_s), r.settle_s >= 0 ? "ok" : "FAIL");
  row("stations show central's state after", Seconds(r.down_converge_s),
      r.down_converge_s >= 0 ? "ok" : "FAIL (" + std::to_string(r.stale_at_stations) + " stale)");
  row("central audit verify", r.audit_intact ? "intact" : "BROKEN", r.audit_intact ? "ok" : "FAIL");
  std::cout << (r.passed() ? "PASSED" : "FAILED") << "; logs and databases: " << r.dir << "\n";
}

}  // namespace

int Chaos(const Args& args) {
  CLI::App app("Central, stations and enrolling clients as real processes under seeded faults (kill -9 of stations, "
               "central and PostgreSQL, link cuts, outages, slow and lossy links, central restarts); counts what was "
               "lost or duplicated and how long everything took to converge. Exit 1 if anything was lost or "
               "duplicated, did not converge, or the audit log does not verify",
               "chaos");
  ChaosOptions options;
  std::string backend = "sqlite";
  int64_t duration = options.duration.count(), gap = options.fault_gap.count(), settle = options.settle_timeout.count();
  bool json = false;
  app.add_option("--backend", backend, "central's database: sqlite, or postgres (a cluster the run starts, and kills)")
      ->check(CLI::IsMember({"sqlite", "postgres"}))
      ->capture_default_str();
  app.add_option("--db", options.db_url,
                 "with --backend postgres: use this server instead (pg:host=... dbname=...; never killed)");
  app.add_option("--duration", duration, "seconds of enrolling under faults")->check(CLI::Range(5, 86400))->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the fault schedule, the residents and the links")->capture_default_str();
  app.add_option("--stations", options.stations, "stations, each with its own enrolling client")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  app.add_option("--rate", options.rate, "enrollments a second at each station")
      ->check(CLI::Range(0.1, 100.0))
      ->capture_default_str();
  app.add_option("--fault-gap-ms", gap, "mean pause between faults")->check(CLI::Range(100, 600000))->capture_default_str();
  app.add_option("--settle-timeout", settle, "seconds allowed to settle after the faults, up and down each")
      ->check(CLI::Range(10, 3600))
      ->capture_default_str();
  app.add_option("--regency", options.regency, "regency of the synthetic residents")->capture_default_str();
  app.add_option("--dir", options.dir, "work folder (must not exist; default: a temporary one, removed if the run passes)");
  app.add_flag("--json", json, "print the figures as one JSON object");
  if (auto exit = Parse(app, args)) return *exit;
  options.backend = backend == "postgres" ? ChaosBackend::kPostgres : ChaosBackend::kSqlite;
  options.duration = std::chrono::seconds(duration);
  options.fault_gap = std::chrono::milliseconds(gap);
  options.settle_timeout = std::chrono::seconds(settle);
  if (!options.db_url.empty() && options.backend != ChaosBackend::kPostgres) {
    return Fail(InvalidArgument("--db needs --backend postgres"));
  }
  bool temporary = options.dir.empty();
  if (temporary) {
    std::string path = (std::filesystem::temp_directory_path() / "ektp-chaos-XXXXXX").string();
    if (mkdtemp(path.data()) == nullptr) return Fail(Internal("cannot create a temporary folder"));
    options.dir = path;
  } else if (std::filesystem::exists(options.dir)) {
    return Fail(FailedPrecondition("folder " + options.dir + " exists; choose a new one with --dir"));
  }
  options.stop = &g_stop;
  struct sigaction action = {};
  action.sa_handler = OnChaosSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  StatusOr<ChaosReport> report = [&] {
    service::Progress progress;
    return RunChaos(options, [&](const std::string& phase, int64_t done, int64_t total, const std::string& note) {
      progress.Update(phase + (note.empty() ? "" : " (" + note + ")"), static_cast<uint64_t>(std::max<int64_t>(done, 0)),
                      static_cast<uint64_t>(std::max<int64_t>(total, 0)));
    });
  }();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (!report.ok()) {
    std::cerr << "logs: " << options.dir << "/logs\n";
    return Fail(report.status());
  }
  if (json) {
    std::cout << ChaosReportToJson(*report).dump(2) << "\n";
  } else {
    PrintTable(*report);
  }
  if (!report->passed()) return kExitFailure;
  if (temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(options.dir, ignored);
  }
  return kExitOk;
}

}  // namespace ektp::cli
