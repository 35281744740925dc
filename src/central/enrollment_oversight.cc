#include "central/enrollment_oversight.h"

#include <cmath>
#include <map>
#include <numbers>

#include <nlohmann/json.hpp>

#include "store/audit_log.h"

namespace ektp::central {
namespace {

constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kMaxHomeRadiusKm = 1000;
constexpr size_t kMaxFarListed = 50;

double Radians(double degrees) { return degrees * std::numbers::pi / 180; }

}  // namespace

Status ValidateHomeArea(const HomeArea& area) {
  RETURN_IF_ERROR(enrollment::ValidateCoordinates(area.lat, area.lon, "home "));
  if (!std::isfinite(area.radius_km) || area.radius_km <= 0 || area.radius_km > kMaxHomeRadiusKm) {
    return InvalidArgument("home radius must be more than 0 and at most 1000 km");
  }
  return Status::Ok();
}

Status SetHomeArea(store::Connection& db, const Clock& clock, std::string_view station_id, const HomeArea& area,
                   std::string_view admin) {
  RETURN_IF_ERROR(ValidateHomeArea(area));
  return db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto station, db.Query("SELECT 1 FROM stations WHERE id = ?", {station_id}));
    if (station.empty()) return NotFound("station " + std::string(station_id) + " is not registered");
    const std::string now = FormatTimestamp(clock.Now());
    RETURN_IF_ERROR(db.Exec("DELETE FROM station_home_areas WHERE station_id = ?", {station_id}));
    RETURN_IF_ERROR(db.Exec("INSERT INTO station_home_areas (station_id, lat, lon, radius_km, set_by, set_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            {station_id, area.lat, area.lon, area.radius_km, admin, now}));
    return store::AuditLog(db, clock).Append(
        {std::string(admin), "station.home_area", "station:" + std::string(station_id),
         nlohmann::json{{"lat", area.lat}, {"lon", area.lon}, {"radius_km", area.radius_km}}.dump()});
  });
}

StatusOr<std::optional<HomeArea>> GetHomeArea(store::Connection& db, std::string_view station_id) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT lat, lon, radius_km FROM station_home_areas WHERE station_id = ?",
                                       {station_id}));
  if (rows.empty()) return std::optional<HomeArea>();
  return std::optional<HomeArea>(HomeArea{rows[0].Real(0), rows[0].Real(1), rows[0].Real(2)});
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = Radians(lat2 - lat1), dlon = Radians(lon2 - lon1);
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(Radians(lat1)) * std::cos(Radians(lat2)) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

Status RecordEnrollmentOversight(store::Connection& db, const Clock& clock, std::string_view station_id,
                                 std::span<const enrollment::Enrollment* const> enrollments) {
  const std::string now = FormatTimestamp(clock.Now());
  std::optional<std::optional<HomeArea>> home;  // read once, when a location needs it
  store::AuditLog audit(db, clock);
  for (const enrollment::Enrollment* e : enrollments) {
    const std::string subject = "enrollment:" + e->registration_number;
    if (e->review) {
      RETURN_IF_ERROR(db.Exec("INSERT INTO enrollment_reviews (registration_number, station_id, operator, reviewer, "
                              "decided_at, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                              {e->registration_number, station_id, e->operator_name, e->review->reviewer,
                               e->review->decided_at, now}));
      RETURN_IF_ERROR(audit.Append({"station:" + std::string(station_id) + "/op:" + e->review->reviewer,
                                    "enrollment.reviewed", subject,
                                    nlohmann::json{{"decision", "approved"},
                                                   {"reviewer", e->review->reviewer},
                                                   {"decided_at", e->review->decided_at},
                                                   {"operator", e->operator_name}}
                                        .dump()}));
    }
    if (!e->location) continue;
    if (!home) {
      ASSIGN_OR_RETURN(auto area, GetHomeArea(db, station_id));
      home = area;
    }
    const enrollment::Location& at = *e->location;
    store::Value distance;
    double km = 0;
    bool far = false;
    if (*home) {
      km = DistanceKm((*home)->lat, (*home)->lon, at.lat, at.lon);
      distance = km;
      far = km - at.accuracy_m / 1000 > (*home)->radius_km;
    }
    RETURN_IF_ERROR(db.Exec("INSERT INTO enrollment_locations (registration_number, station_id, lat, lon, accuracy_m, "
                            "distance_km, far, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            {e->registration_number, station_id, at.lat, at.lon, at.accuracy_m, distance,
                             far ? 1 : 0, now}));
    if (far) {
      RETURN_IF_ERROR(audit.Append({"central:ingest", "enrollment.far_from_home", subject,
                                    nlohmann::json{{"station", station_id},
                                                   {"distance_km", km},
                                                   {"radius_km", (*home)->radius_km},
                                                   {"accuracy_m", at.accuracy_m}}
                                        .dump()}));
    }
  }
  return Status::Ok();
}

Status RecordFingerExceptions(store::Connection& db, const Clock& clock, std::string_view station_id,
                              std::span<const ReportedExceptions> enrollments) {
  const std::string now = FormatTimestamp(clock.Now());
  std::vector<store::Value> rows;
  store::AuditLog audit(db, clock);
  for (const ReportedExceptions& reported : enrollments) {
    const enrollment::Enrollment& e = *reported.enrollment;
    const std::optional<enrollment::ExceptionApproval>& approval = e.exception_approval;
    const bool approved = approval && !reported.fingers.empty();
    rows.insert(rows.end(), {e.registration_number, station_id, e.operator_name,
                             static_cast<int64_t>(reported.fingers.size()),
                             approved ? store::Value(approval->approver) : store::Value(), now});
    if (reported.fingers.empty()) continue;
    nlohmann::json detail = {{"fingers", enrollment::ExceptedFingersText(reported.fingers)}, {"operator", e.operator_name}};
    const std::string subject = "enrollment:" + e.registration_number;
    if (approved) {
      detail["approver"] = approval->approver;
      detail["approved_at"] = approval->approved_at;
      RETURN_IF_ERROR(audit.Append({"station:" + std::string(station_id) + "/op:" + approval->approver,
                                    "enrollment.finger_exception", subject, detail.dump()}));
    } else {
      detail["station"] = station_id;
      RETURN_IF_ERROR(audit.Append({"central:ingest", "enrollment.finger_exception_unapproved", subject, detail.dump()}));
    }
  }
  return store::InsertRows(db, "INSERT INTO enrollment_exception_counts (registration_number, station_id, operator, "
                               "fingers, approver, received_at) VALUES ", 6, rows);
}

StatusOr<std::vector<StationLocations>> SummariseLocations(store::Connection& db) {
  ASSIGN_OR_RETURN(auto counts, db.Query("SELECT l.station_id, COUNT(*), SUM(l.far), MAX(CASE WHEN h.station_id IS "
                                         "NULL THEN 0 ELSE 1 END) FROM enrollment_locations l LEFT JOIN "
                                         "station_home_areas h ON h.station_id = l.station_id "
                                         "GROUP BY l.station_id ORDER BY l.station_id"));
  std::vector<StationLocations> out;
  std::map<std::string, size_t> index;
  for (const store::Row& row : counts) {
    index[row.Text(0)] = out.size();
    out.push_back({row.Text(0), row.Int(3) == 1, row.Int(1), row.Int(2), {}});
  }
  ASSIGN_OR_RETURN(auto far, db.Query("SELECT station_id, registration_number FROM enrollment_locations WHERE far = 1 "
                                      "ORDER BY received_at, registration_number"));
  for (const store::Row& row : far) {
    StationLocations& station = out[index.at(row.Text(0))];
    if (station.far_registrations.size() < kMaxFarListed) station.far_registrations.push_back(row.Text(1));
  }
  return out;
}

}  // namespace ektp::central
