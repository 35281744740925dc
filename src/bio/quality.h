// Capture quality of one finger view: a 0..100 score from the template alone,
// so a station can ask for a recapture before the resident leaves
// (docs/biometrics.md, "Capture quality").
//
// The rule, simple on purpose and fitted to nothing:
//
//   score = 100 x count x area x minutia_quality, each share in [0, 1]:
//   count           = min(1, minutiae / kQualityFullCount)
//   area            = min(1, convex hull of the minutiae in mm^2 / kQualityFullAreaMm2),
//                     millimetres from the resolution the view declares
//   minutia_quality = mean reported minutia quality / 100 over the minutiae
//                     that report one; 1 when none does (no evidence either way)
//
// Degenerate views score exactly 0 with a named issue instead of a share:
// no minutiae, a declared resolution FingerFeatures refuses (0, or outside
// 100..2000 dpi), or minutiae with no area between them (all on one point or
// one line: hull under kQualityMinAreaMm2). The matcher cannot compare these
// either (it refuses the resolution, scores the rest 0).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "bio/template.h"

namespace ektp::bio {

// A full flat 500 dpi capture of a fingertip holds 40 or more minutiae; FVC2002's
// median is 27 to 39 per database.
inline constexpr double kQualityFullCount = 40;
// 1 cm^2 of ridges between the outermost minutiae: about half the contact area
// of a flat index fingertip, and several times the area of the matcher's
// 8..200 px neighbour edges.
inline constexpr double kQualityFullAreaMm2 = 100;
// Below this hull area (1 mm^2, about two ridge periods squared) the minutiae
// are taken to lie on one point or one line.
inline constexpr double kQualityMinAreaMm2 = 1;

enum class QualityIssue {
  kNone,           // scored by the rule above
  kNoMinutiae,     // the view holds no minutia
  kResolution,     // declared resolution 0 or outside 39..787 px/cm
  kNoArea,         // minutiae on one point or one line (hull < kQualityMinAreaMm2)
};
// "none", "no_minutiae", "resolution", "no_area".
std::string_view QualityIssueName(QualityIssue issue);

// The share that holds the score down most: what the operator should fix.
enum class QualityFactor { kCount, kArea, kMinutiaQuality };
std::string_view QualityFactorName(QualityFactor factor);  // "count", "area", "minutia_quality"

struct CaptureQualityReport {
  double score = 0;  // 0..100; exactly 0 when issue != kNone
  QualityIssue issue = QualityIssue::kNone;
  size_t minutiae = 0;
  double area_mm2 = 0;          // convex hull of the minutiae (0 without a usable resolution)
  double count_share = 0;
  double area_share = 0;
  double minutia_quality_share = 0;
  size_t minutiae_with_quality = 0;  // how many reported a quality
  QualityFactor weakest = QualityFactor::kCount;  // the smallest share (ties: count, area, quality)
  // The score as shown to operators and stored: rounded down, so a shown
  // value is never above the threshold it failed.
  int whole_score() const { return static_cast<int>(score); }
};

// Scores `view`. A minutia quality code counts as reported when it is 1..100
// in the 2004/2005 formats (0 means "not reported" there) and 0..100 in the
// 2009/2011 formats (254 and 255 mean "not reported" and "failed").
CaptureQualityReport AssessCaptureQuality(const FingerView& view, TemplateFormat format);

}  // namespace ektp::bio
