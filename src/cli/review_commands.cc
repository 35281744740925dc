// `ektp station review list|approve|reject` (a supervisor's review before
// upload; station.h, ApproveEnrollment) and `ektp central station home` (a
// station's home area; central/enrollment_oversight.h). docs/operations.md,
// "Supervisor review" and "Where enrollments are made".
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "central/enrollment_oversight.h"
#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"
#include "core/resident_json.h"

namespace ektp::cli {
namespace {

// The supervisor's own session: their password from standard input, as at
// the console; the session ends with the command.
StatusOr<station::Operator> LogInAs(station::Station& station, const std::string& username, std::string& token) {
  std::cerr << "password for " << username << ": ";
  std::string password;
  std::getline(std::cin, password);
  ASSIGN_OR_RETURN(token, station.Login(username, password, "cli"));
  return station.Authenticate(token);
}

int Decide(const Args& args, bool approve) {
  CLI::App app(approve ? "Approve an enrollment awaiting review; it is then queued for upload (password from standard "
                         "input)"
                       : "Reject an enrollment awaiting review; it is parked with the reason and never uploaded "
                         "(password from standard input)",
               approve ? "station review approve" : "station review reject");
  std::string dir, registration, username, reason;
  app.add_option("registration", registration, "registration number, e.g. ST-352101-01-000007")->required();
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--username", username, "the supervisor deciding, who logs in as themselves")->required();
  if (!approve) app.add_option("--reason", reason, "why, for the operator who enrolled")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  station::Station& station = *opened->station;
  std::string token;
  auto supervisor = LogInAs(station, username, token);
  if (!supervisor.ok()) return Fail(supervisor.status());
  Status decided = approve ? station.ApproveEnrollment(*supervisor, registration)
                           : station.RejectEnrollment(*supervisor, registration, reason);
  (void)station.Logout(token);
  if (!decided.ok()) return Fail(decided);
  std::cout << registration << (approve ? " approved by " : " rejected by ") << username
            << (approve ? "; queued for upload\n" : "; parked with the reason, never uploaded\n");
  return kExitOk;
}

}  // namespace

int StationReviewList(const Args& args) {
  CLI::App app("List the enrollments awaiting a supervisor's review, oldest first", "station review list");
  std::string dir;
  bool json = false;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_flag("--json", json, "print JSON, with the photo and signature in base64");
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  if (!opened->box_key) return Fail(FailedPrecondition(dir + " has no station-box.key; it keeps no review copies"));
  auto awaiting = opened->station->AwaitingReviews(*opened->box_key);
  if (!awaiting.ok()) return Fail(awaiting.status());
  nlohmann::json out = nlohmann::json::array();
  for (const station::AwaitingReview& item : *awaiting) {
    const enrollment::Enrollment& e = item.enrollment;
    std::string exceptions;
    for (const enrollment::FingerCapture& finger : item.review_copy.fingers) {
      if (finger.exception == enrollment::FingerException::kNone) continue;
      exceptions += (exceptions.empty() ? "" : ", ") + std::to_string(finger.position) + " " +
                    std::string(enrollment::FingerExceptionName(finger.exception));
    }
    if (json) {
      out.push_back({{"registration_number", e.registration_number}, {"operator", e.operator_name},
                     {"captured_at", e.captured_at}, {"application_kind", ApplicationKindName(e.kind)},
                     {"resident", ResidentToJson(e.resident)}, {"finger_exceptions", exceptions},
                     {"face_jpeg", crypto::Base64Encode(item.review_copy.face_jpeg)},
                     {"signature_image", crypto::Base64Encode(item.review_copy.signature_image)}});
      continue;
    }
    std::cout << e.registration_number << "  " << e.captured_at << "  by " << e.operator_name << "  "
              << ApplicationKindName(e.kind) << "  " << e.resident.name
              << "  photo " << item.review_copy.face_jpeg.size() << " bytes"
              << (exceptions.empty() ? "" : "  exceptions: " + exceptions) << "\n";
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else if (awaiting->empty()) {
    std::cout << "no enrollment awaits review\n";
  }
  return kExitOk;
}

int StationReviewApprove(const Args& args) { return Decide(args, true); }
int StationReviewReject(const Args& args) { return Decide(args, false); }

int CentralStationHome(const Args& args) {
  CLI::App app("Set a station's home area: enrollments captured farther away are flagged in the integrity report",
               "central station home");
  central::CentralOptions options;
  std::string station_id, admin = "admin";
  central::HomeArea area;
  app.add_option("station", station_id, "station id, e.g. ST-352101-01")->required();
  AddDatabaseOptions(app, options);
  app.add_option("--lat", area.lat, "home point latitude, degrees")->required();
  app.add_option("--lon", area.lon, "home point longitude, degrees")->required();
  app.add_option("--radius-km", area.radius_km, "radius of the area served, km")->required();
  app.add_option("--admin", admin, "who sets it (audited)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  if (Status set = central::SetHomeArea(**db, SystemClock::Instance(), station_id, area, admin); !set.ok()) {
    return Fail(set);
  }
  std::cout << station_id << " home area: " << area.lat << ", " << area.lon << " within " << area.radius_km << " km\n";
  return kExitOk;
}

}  // namespace ektp::cli
