// `ektp station operator fingerprints` (an operator's or supervisor's own
// fingerprints, for fingerprint login and the self-enrollment check) and
// `ektp central operator revoke|list` (operators whose later packets central
// refuses). docs/operations.md, "Operators accountable by fingerprint".
#include <fstream>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "card/card.h"
#include "central/operator_revocations.h"
#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"

namespace ektp::cli {
namespace {

// "POSITION=FILE" (e.g. "2=right-index.iso") as a finger; kInvalidArgument naming the argument.
StatusOr<card::ChipFinger> ReadFinger(const std::string& argument) {
  const size_t equals = argument.find('=');
  const std::string position = argument.substr(0, equals == std::string::npos ? 0 : equals);
  const int number = std::atoi(position.c_str());
  if (equals == std::string::npos || std::to_string(number) != position || number < 1 || number > 10) {
    return InvalidArgument("--finger " + argument + ": give POSITION=FILE with POSITION 1 to 10 (2 right index, 7 "
                           "left index)");
  }
  const std::string path = argument.substr(equals + 1);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("--finger " + argument + ": cannot open " + path);
  return card::ChipFinger{number, crypto::Bytes((std::istreambuf_iterator<char>(in)), {})};
}

}  // namespace

int StationOperatorFingerprints(const Args& args) {
  CLI::App app("Enroll an operator's or supervisor's own fingerprints (replacing earlier ones): for fingerprint "
               "login and the check that they never enroll themselves",
               "station operator fingerprints");
  std::string dir, username, by = "admin";
  std::vector<std::string> finger_args;
  app.add_option("username", username, "the operator's login name")->required();
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--finger", finger_args, "POSITION=FILE: an ISO 19794-2 or ANSI 378 template from the scanner; "
                                          "repeat for each finger (1 to 10 fingers)")
      ->required();
  app.add_option("--by", by, "who enrolls them (audited)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  std::vector<card::ChipFinger> fingers;
  for (const std::string& argument : finger_args) {
    auto finger = ReadFinger(argument);
    if (!finger.ok()) return Fail(finger.status());
    fingers.push_back(std::move(*finger));
  }
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  if (!opened->box_key) {
    return Fail(FailedPrecondition(dir + " has no station-box.key to seal the fingerprints to; register the station "
                                         "again with this version of ektp"));
  }
  if (Status status = opened->station->EnrollOperatorFingerprints(username, fingers, *opened->box_key, by);
      !status.ok()) {
    return Fail(status);
  }
  std::cout << fingers.size() << " finger(s) enrolled for " << username
            << "; they may now log in with a finger, and may not enroll themselves\n";
  return kExitOk;
}

int CentralOperatorRevoke(const Args& args) {
  CLI::App app("Revoke a station's operator: central refuses every packet they perform from now on (by the "
               "station's capture time), naming this reason to the station; earlier work is kept",
               "central operator revoke");
  central::CentralOptions options;
  std::string station_id, username, reason, admin = "admin";
  app.add_option("station", station_id, "station id, e.g. ST-352101-01")->required();
  app.add_option("username", username, "the operator's login name at that station")->required();
  AddDatabaseOptions(app, options);
  app.add_option("--reason", reason, "why, shown to the station with each refused packet")->required();
  app.add_option("--admin", admin, "who revokes (audited)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  if (Status revoked = central::RevokeOperator(**db, SystemClock::Instance(), station_id, username, reason, admin);
      !revoked.ok()) {
    return Fail(revoked);
  }
  std::cout << "operator " << username << " of " << station_id
            << " revoked; packets they perform from now on are refused at sync with the reason\n";
  return kExitOk;
}

int CentralOperatorList(const Args& args) {
  CLI::App app("List revoked operators, per station", "central operator list");
  central::CentralOptions options;
  std::string station_id;
  bool json = false;
  app.add_option("--station", station_id, "only this station");
  AddDatabaseOptions(app, options);
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto revoked = central::RevokedOperators(**db, station_id);
  if (!revoked.ok()) return Fail(revoked.status());
  nlohmann::json out = nlohmann::json::array();
  for (const central::RevokedOperator& r : *revoked) {
    if (json) {
      out.push_back({{"station_id", r.station_id}, {"username", r.username}, {"reason", r.reason},
                     {"revoked_by", r.revoked_by}, {"revoked_at", r.revoked_at}});
    } else {
      std::cout << r.station_id << "  " << r.username << "  revoked " << r.revoked_at << " by " << r.revoked_by
                << ": " << r.reason << "\n";
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  if (!json && revoked->empty()) std::cout << "no operator is revoked\n";
  return kExitOk;
}

}  // namespace ektp::cli
