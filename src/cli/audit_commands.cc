// `ektp central audit verify|checkpoint` and `ektp station audit checkpoints`:
// central's hash-chained audit log and the signed checkpoints of its head
// that are kept outside central's database (store/audit_log.h).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "central/audit_checkpoints.h"
#include "central/hand_over.h"
#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"
#include "store/audit_log.h"

namespace ektp::cli {
namespace {

StatusOr<std::vector<store::AuditCheckpoint>> ReadCheckpointFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read checkpoint file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto checkpoints = store::ParseAuditCheckpointFile(text.str());
  if (!checkpoints.ok()) return checkpoints.status().WithContext(path);
  return checkpoints;
}

// Writes `checkpoints` to `path` as a JSON array, after those already in it
// when `append` and the file exists.
Status WriteCheckpointFile(const std::string& path, std::vector<store::AuditCheckpoint> checkpoints, bool append) {
  if (append && std::filesystem::exists(path)) {
    ASSIGN_OR_RETURN(auto kept, ReadCheckpointFile(path));
    checkpoints.insert(checkpoints.begin(), kept.begin(), kept.end());
  }
  nlohmann::json out = nlohmann::json::array();
  for (const store::AuditCheckpoint& checkpoint : checkpoints) out.push_back(store::AuditCheckpointToJson(checkpoint));
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << out.dump(2) << "\n";
    if (!file.flush()) return Unavailable("cannot write " + temporary);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return Unavailable("cannot write " + path + ": " + error.message());
  return Status::Ok();
}

}  // namespace

int CentralAuditVerify(const Args& args) {
  CLI::App app("Verify central's hash-chained audit log, and against signed checkpoints of its head; exit 1 if an "
               "entry was edited or deleted",
               "central audit verify");
  central::CentralOptions options;
  std::vector<std::string> checkpoint_files;
  bool json = false;
  AddDatabaseOptions(app, options);
  app.add_flag("--json", json, "print {intact, entries, head_hash, checkpoints} (or {intact, broken_at, problem}) as JSON");
  app.add_option("--checkpoint", checkpoint_files,
                 "a checkpoint file (from `central audit checkpoint --out` or `station audit checkpoints --out`); "
                 "repeatable");
  if (auto exit = Parse(app, args)) return *exit;
  std::vector<store::AuditCheckpoint> checkpoints;
  if (!checkpoint_files.empty()) {
    auto keys = central::LoadCentralKeys(options.data_dir);
    if (!keys.ok()) return Fail(keys.status());
    for (const std::string& path : checkpoint_files) {
      auto read = ReadCheckpointFile(path);
      if (!read.ok()) return Fail(read.status());
      for (const store::AuditCheckpoint& checkpoint : *read) {
        if (Status valid = store::VerifyAuditCheckpoint(checkpoint, keys->signing.public_key()); !valid.ok()) {
          return Fail(valid.WithContext(path));
        }
        checkpoints.push_back(checkpoint);
      }
    }
  }
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto verification = store::AuditLog(**db, SystemClock::Instance()).Verify(checkpoints);
  if (!verification.ok()) return Fail(verification.status());
  if (json) {
    nlohmann::json out = {{"intact", verification->intact}};
    if (verification->intact) {
      out.update({{"entries", verification->entries},
                  {"head_hash", verification->head_hash},
                  {"checkpoints", checkpoints.size()}});
    } else {
      out.update({{"broken_at", verification->broken_at}, {"problem", verification->problem}});
    }
    std::cout << out.dump(2) << "\n";
  }
  if (!verification->intact) {
    return Fail(DataLoss("audit log broken at entry " + std::to_string(verification->broken_at) + ": " +
                         verification->problem));
  }
  if (json) return kExitOk;
  std::cout << "audit log intact: " << verification->entries << " entries, head " << verification->head_hash;
  if (!checkpoints.empty()) std::cout << ", agrees with " << checkpoints.size() << " signed checkpoint(s)";
  std::cout << "\n";
  return kExitOk;
}

int CentralAuditCheckpoint(const Args& args) {
  CLI::App app("Sign a checkpoint of the audit log's head, send it down every approved station's feed and append it "
               "to a file",
               "central audit checkpoint");
  central::CentralOptions options;
  std::string out;
  AddDatabaseOptions(app, options);
  app.add_option("--out", out, "append the checkpoint to this JSON file (created if missing); keep it off this machine");
  if (auto exit = Parse(app, args)) return *exit;
  auto keys = central::LoadCentralKeys(options.data_dir);
  if (!keys.ok()) return Fail(keys.status());
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto checkpoint = central::PublishAuditCheckpoint(**db, SystemClock::Instance(), keys->signing);
  if (!checkpoint.ok()) return Fail(checkpoint.status());
  if (!out.empty()) {
    if (Status written = WriteCheckpointFile(out, {*checkpoint}, true); !written.ok()) return Fail(written);
  }
  std::cout << "audit checkpoint: entry " << checkpoint->seq << ", hash " << checkpoint->hash << ", signed at "
            << checkpoint->at << (out.empty() ? "" : ", written to " + out) << "\n";
  return kExitOk;
}

int CentralIntegrityReport(const Args& args) {
  CLI::App app("Rates of failed fingerprint checks, supervisor overrides, delegated collections and finger exceptions "
               "per operator and per station, with outliers against their peers flagged; enrollments captured far "
               "from their station's home area",
               "central integrity report");
  central::CentralOptions options;
  double alpha = 0.01;
  int64_t min_base = 20;
  bool json = false;
  AddDatabaseOptions(app, options);
  app.add_option("--alpha", alpha, "family-wise significance of the outlier rule (Bonferroni over the units tested)")
      ->check(CLI::Range(1e-9, 0.5));
  app.add_option("--min-base", min_base, "checks, hand-overs or enrollments a unit needs before it is tested")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto report = central::ComputeIntegrityReport(**db, alpha, min_base);
  if (!report.ok()) return Fail(report.status());
  auto rate_json = [](const central::IntegrityRate& r) {
    return nlohmann::json{{"events", r.events}, {"out_of", r.out_of}, {"rate", r.rate},
                          {"peer_rate", r.peer_rate}, {"p_value", r.p_value}, {"outlier", r.outlier}};
  };
  auto rate_text = [](const central::IntegrityRate& r) {
    std::ostringstream out;
    out << r.events << "/" << r.out_of;
    if (r.out_of > 0) out << " (" << static_cast<int>(r.rate * 1000 + 0.5) / 10.0 << " %)";
    if (r.outlier) out << " OUTLIER";
    return out.str();
  };
  const std::pair<const char*, const std::vector<central::IntegrityUnit>*> levels[] = {
      {"operators", &report->operators}, {"stations", &report->stations}};
  if (json) {
    nlohmann::json out{{"alpha", report->alpha}, {"min_base", report->min_base}};
    for (const auto& [level, units] : levels) {
      out[level] = nlohmann::json::array();
      for (const central::IntegrityUnit& unit : *units) {
        out[level].push_back({{"station", unit.station_id}, {"operator", unit.operator_name},
                              {"failed_checks", rate_json(unit.failed_checks)},
                              {"overrides", rate_json(unit.overrides)}, {"delegated", rate_json(unit.delegated)},
                              {"exceptions", rate_json(unit.exceptions)},
                              {"unapproved_exceptions", unit.unapproved_exceptions}});
      }
    }
    out["locations"] = nlohmann::json::array();
    for (const central::StationLocations& station : report->locations) {
      out["locations"].push_back({{"station", station.station_id}, {"has_home_area", station.has_home_area},
                                  {"located", station.located}, {"far", station.far},
                                  {"far_registrations", station.far_registrations}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "Outlier rule: a rate above its peers' pooled rate with P(X >= events) < " << report->alpha
            << " / units tested (binomial tail, Bonferroni), for units with at least " << report->min_base
            << " checks, hand-overs or enrollments.\n";
  for (const auto& [level, units] : levels) {
    std::cout << "\n" << level << ":\n";
    if (units->empty()) std::cout << "  (no hand-overs or enrollments reported yet)\n";
    for (const central::IntegrityUnit& unit : *units) {
      std::cout << "  " << unit.station_id << (unit.operator_name.empty() ? "" : " " + unit.operator_name)
                << "  failed checks " << rate_text(unit.failed_checks) << "  overrides " << rate_text(unit.overrides)
                << "  delegated " << rate_text(unit.delegated) << "  finger exceptions " << rate_text(unit.exceptions);
      if (unit.unapproved_exceptions > 0) std::cout << " (" << unit.unapproved_exceptions << " UNAPPROVED)";
      std::cout << "\n";
    }
  }
  std::cout << "\nenrollments far from their station's home area:\n";
  if (report->locations.empty()) std::cout << "  (no enrollment carried a location yet)\n";
  for (const central::StationLocations& station : report->locations) {
    std::cout << "  " << station.station_id << "  located " << station.located << "  far " << station.far;
    if (!station.has_home_area) {
      std::cout << "  (no home area: set one with `ektp central station home " << station.station_id << "`)";
    }
    for (const std::string& registration : station.far_registrations) std::cout << "  " << registration;
    std::cout << "\n";
  }
  return kExitOk;
}

int StationAuditCheckpoints(const Args& args) {
  CLI::App app("Export central's audit checkpoints this station received, for `central audit verify --checkpoint`",
               "station audit checkpoints");
  std::string dir, out;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--out", out, "write them to this JSON file")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  auto checkpoints = opened->station->AuditCheckpoints();
  if (!checkpoints.ok()) return Fail(checkpoints.status());
  if (Status written = WriteCheckpointFile(out, *checkpoints, false); !written.ok()) return Fail(written);
  std::cout << checkpoints->size() << " audit checkpoint(s) written to " << out << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
