#include "bio/quality.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "bio/matcher.h"

namespace ektp::bio {
namespace {

struct Point {
  double x, y;
  bool operator<(const Point& o) const { return x < o.x || (x == o.x && y < o.y); }
  bool operator==(const Point& o) const { return x == o.x && y == o.y; }
};

// z of (a - o) x (b - o): positive when o -> a -> b turns left.
double Cross(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Area of the convex hull of `points` (monotone chain, then the shoelace sum).
double HullArea(std::vector<Point> points) {
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  if (points.size() < 3) return 0;
  std::vector<Point> hull(2 * points.size());
  size_t k = 0;
  for (const Point& p : points) {  // lower chain
    while (k >= 2 && Cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  for (size_t i = points.size() - 1, lower = k + 1; i-- > 0;) {  // upper chain
    while (k >= lower && Cross(hull[k - 2], hull[k - 1], points[i]) <= 0) --k;
    hull[k++] = points[i];
  }
  hull.resize(k - 1);  // the last point repeats the first
  double twice = 0;
  for (size_t i = 0; i < hull.size(); ++i) {
    const Point& a = hull[i];
    const Point& b = hull[(i + 1) % hull.size()];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::abs(twice) / 2;
}

bool Reported(uint8_t quality, TemplateFormat format) {
  const bool zero_is_unreported = format == TemplateFormat::kIso19794_2_2005 || format == TemplateFormat::kAnsi378_2004;
  return quality <= 100 && !(quality == 0 && zero_is_unreported);
}

}  // namespace

std::string_view QualityIssueName(QualityIssue issue) {
  switch (issue) {
    case QualityIssue::kNone: return "none";
    case QualityIssue::kNoMinutiae: return "no_minutiae";
    case QualityIssue::kResolution: return "resolution";
    case QualityIssue::kNoArea: return "no_area";
  }
  return "?";
}

std::string_view QualityFactorName(QualityFactor factor) {
  switch (factor) {
    case QualityFactor::kCount: return "count";
    case QualityFactor::kArea: return "area";
    case QualityFactor::kMinutiaQuality: return "minutia_quality";
  }
  return "?";
}

CaptureQualityReport AssessCaptureQuality(const FingerView& view, TemplateFormat format) {
  CaptureQualityReport r;
  r.minutiae = view.minutiae.size();
  if (view.minutiae.empty()) {
    r.issue = QualityIssue::kNoMinutiae;
    return r;
  }
  for (uint16_t resolution : {view.resolution_x, view.resolution_y}) {
    if (resolution < FingerFeatures::kMinResolution || resolution > FingerFeatures::kMaxResolution) {
      r.issue = QualityIssue::kResolution;
      return r;
    }
  }
  // px / (px per cm) = cm; x 10 = mm.
  const double mm_x = 10.0 / view.resolution_x, mm_y = 10.0 / view.resolution_y;
  std::vector<Point> points;
  points.reserve(view.minutiae.size());
  double quality_sum = 0;
  for (const RecordMinutia& m : view.minutiae) {
    points.push_back({m.x * mm_x, m.y * mm_y});
    if (Reported(m.quality, format)) {
      quality_sum += m.quality;
      ++r.minutiae_with_quality;
    }
  }
  r.area_mm2 = HullArea(std::move(points));
  if (r.area_mm2 < kQualityMinAreaMm2) {
    r.issue = QualityIssue::kNoArea;
    return r;
  }
  r.count_share = std::min(1.0, static_cast<double>(r.minutiae) / kQualityFullCount);
  r.area_share = std::min(1.0, r.area_mm2 / kQualityFullAreaMm2);
  r.minutia_quality_share =
      r.minutiae_with_quality ? quality_sum / static_cast<double>(r.minutiae_with_quality) / 100 : 1.0;
  r.score = 100 * r.count_share * r.area_share * r.minutia_quality_share;
  r.weakest = QualityFactor::kCount;
  double weakest = r.count_share;
  if (r.area_share < weakest) r.weakest = QualityFactor::kArea, weakest = r.area_share;
  if (r.minutia_quality_share < weakest) r.weakest = QualityFactor::kMinutiaQuality;
  return r;
}

}  // namespace ektp::bio
