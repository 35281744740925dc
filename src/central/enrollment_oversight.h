// What central records of how a station made each enrollment, beyond the
// record itself: the supervisor's review decision the packet carries
// (station review policy), and where the enrollment was captured, flagged
// when far from the station's home area.
//
// The region data (../shared/data/regions) has codes and names but no
// coordinates, so a station's registered area is a home point and a radius
// the admin sets (`ektp central station home`; docs/operations.md, "Where
// enrollments are made"). An enrollment is far from home when its distance
// from the home point, less its fix's stated accuracy, exceeds the radius. A
// station without a home area has its enrollments' locations recorded with
// no distance and never flagged; the integrity report says so.
//
// Thread-safety: as the Connection used (one thread at a time).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "enrollment/enrollment.h"
#include "store/db.h"

namespace ektp::central {

struct HomeArea {
  double lat = 0;        // degrees, -90..90
  double lon = 0;        // degrees, -180..180
  double radius_km = 0;  // > 0, at most 1000
};

// kInvalidArgument naming the field.
Status ValidateHomeArea(const HomeArea& area);

// Sets or replaces a station's home area, in the audit log as
// station.home_area by `admin`. kNotFound for an unknown station,
// kInvalidArgument for a bad area (nothing changed).
Status SetHomeArea(store::Connection& db, const Clock& clock, std::string_view station_id, const HomeArea& area,
                   std::string_view admin);
StatusOr<std::optional<HomeArea>> GetHomeArea(store::Connection& db, std::string_view station_id);

// The great-circle distance (haversine on the mean Earth radius, 6371.0088 km).
double DistanceKm(double lat1, double lon1, double lat2, double lon2);

// For ingest, inside its transaction: each enrollment's review decision
// (a row of enrollment_reviews and an `enrollment.reviewed` audit entry by
// the reviewer) and its location (a row of enrollment_locations with the
// distance from home and the far flag; a far one also audited as
// `enrollment.far_from_home`). Enrollments with neither write nothing.
Status RecordEnrollmentOversight(store::Connection& db, const Clock& clock, std::string_view station_id,
                                 std::span<const enrollment::Enrollment* const> enrollments);

// What ingest learned of one accepted enrollment's finger exceptions: the
// body's approval (enrollment body version 4) and the fingers its sealed
// biometrics declare an exception (the body's declaration when they cannot
// be opened).
struct ReportedExceptions {
  const enrollment::Enrollment* enrollment = nullptr;
  std::vector<enrollment::ExceptedFinger> fingers;
};

// For ingest, inside its transaction: one row of enrollment_exception_counts
// per enrollment (its operator, how many fingers were declared an exception,
// the approver or NULL), and for each enrollment with an exception an audit
// entry: `enrollment.finger_exception` by the approving supervisor, or
// `enrollment.finger_exception_unapproved` by central:ingest when the packet
// carried no approval (a body of versions 1-3).
Status RecordFingerExceptions(store::Connection& db, const Clock& clock, std::string_view station_id,
                              std::span<const ReportedExceptions> enrollments);

// Per station that reported any location: how many enrollments carried one
// and how many were far from home, with the far ones' registration numbers
// (the integrity report's "locations").
struct StationLocations {
  std::string station_id;
  bool has_home_area = false;
  int64_t located = 0;
  int64_t far = 0;
  std::vector<std::string> far_registrations;  // oldest first, at most 50
};
StatusOr<std::vector<StationLocations>> SummariseLocations(store::Connection& db);

}  // namespace ektp::central
