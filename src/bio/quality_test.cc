#include "bio/quality.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bio/evaluation.h"
#include "core/status_matchers.h"
#include "core/testing.h"

namespace ektp::bio {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint16_t kRes = 197;  // px/cm, 500 dpi: 19.7 px a millimetre

// `n` minutiae evenly on a circle of `radius_mm` around (15 mm, 15 mm), at 500 dpi.
FingerView Circle(int n, double radius_mm, uint8_t quality = 0) {
  FingerView view;
  view.resolution_x = view.resolution_y = kRes;
  view.width = view.height = 800;
  for (int i = 0; i < n; ++i) {
    const double a = i * 2 * 3.14159265358979 / n;
    view.minutiae.push_back({kMinutiaEnding, static_cast<uint16_t>(std::lround((15 + radius_mm * std::cos(a)) * 19.7)),
                             static_cast<uint16_t>(std::lround((15 + radius_mm * std::sin(a)) * 19.7)),
                             static_cast<uint8_t>(i * 7), quality});
  }
  return view;
}

CaptureQualityReport Assess(const FingerView& view, TemplateFormat format = TemplateFormat::kIso19794_2_2005) {
  return AssessCaptureQuality(view, format);
}

TEST(CaptureQualityTest, TheHullAreaIsInMillimetresFromTheDeclaredResolution) {
  FingerView square;
  square.resolution_x = square.resolution_y = kRes;
  // A 10 mm square (197 px a side) with a point inside and one on an edge.
  for (auto [x, y] : {std::pair{100, 100}, {297, 100}, {297, 297}, {100, 297}, {150, 200}, {200, 100}}) {
    square.minutiae.push_back({kMinutiaEnding, static_cast<uint16_t>(x), static_cast<uint16_t>(y), 0, 0});
  }
  CaptureQualityReport r = Assess(square);
  EXPECT_EQ(r.issue, QualityIssue::kNone);
  EXPECT_NEAR(r.area_mm2, 100, 1e-9);
  EXPECT_DOUBLE_EQ(r.area_share, 1.0);
  EXPECT_DOUBLE_EQ(r.count_share, 6.0 / 40);
  EXPECT_DOUBLE_EQ(r.minutia_quality_share, 1.0);  // ISO 2005: 0 is "not reported"
  EXPECT_NEAR(r.score, 15, 1e-9);
  EXPECT_EQ(r.weakest, QualityFactor::kCount);
  // The same pixels declared at 1000 dpi cover a quarter of the area.
  square.resolution_x = square.resolution_y = 2 * kRes;
  EXPECT_NEAR(Assess(square).area_mm2, 25, 1e-9);
}

TEST(CaptureQualityTest, MoreMinutiaeMoreSpreadAndBetterMinutiaeScoreHigher) {
  // More minutiae over the same area.
  EXPECT_LT(Assess(Circle(10, 7)).score, Assess(Circle(20, 7)).score);
  EXPECT_LT(Assess(Circle(20, 7)).score, Assess(Circle(40, 7)).score);
  // The same count spread wider.
  EXPECT_LT(Assess(Circle(30, 2)).score, Assess(Circle(30, 4)).score);
  EXPECT_LT(Assess(Circle(30, 4)).score, Assess(Circle(30, 6)).score);
  // Reported minutia quality.
  EXPECT_LT(Assess(Circle(40, 7, 20)).score, Assess(Circle(40, 7, 60)).score);
  EXPECT_LT(Assess(Circle(40, 7, 60)).score, Assess(Circle(40, 7, 100)).score);
  // Full on every share: 40 minutiae, a hull over 100 mm^2 (radius 7 mm: ~153), quality 100.
  EXPECT_DOUBLE_EQ(Assess(Circle(40, 7, 100)).score, 100);
  EXPECT_EQ(Assess(Circle(40, 7, 100)).whole_score(), 100);
  // Saturation: more than full counts no more.
  EXPECT_DOUBLE_EQ(Assess(Circle(80, 9)).score, 100);
  // A small, sparse capture: 12 minutiae within 2 mm -> 0.3 x (~12.4 / 100) x 1.
  CaptureQualityReport small = Assess(Circle(12, 2));
  EXPECT_EQ(small.issue, QualityIssue::kNone);
  EXPECT_GT(small.score, 0);
  EXPECT_LT(small.score, 5);
  EXPECT_EQ(small.whole_score(), static_cast<int>(small.score));
  EXPECT_EQ(small.weakest, QualityFactor::kArea);
  CaptureQualityReport poor = Assess(Circle(40, 7, 10));
  EXPECT_EQ(poor.weakest, QualityFactor::kMinutiaQuality);
  EXPECT_NEAR(poor.score, 10, 1e-9);
}

TEST(CaptureQualityTest, WhatCountsAsAReportedMinutiaQualityDependsOnTheFormat) {
  FingerView view = Circle(40, 7, 0);
  // 2004/2005: 0 means "not reported", so no evidence either way.
  EXPECT_DOUBLE_EQ(Assess(view, TemplateFormat::kIso19794_2_2005).score, 100);
  EXPECT_DOUBLE_EQ(Assess(view, TemplateFormat::kAnsi378_2004).score, 100);
  // 2009/2011: 0 is the lowest quality.
  EXPECT_EQ(Assess(view, TemplateFormat::kIso19794_2_2011).minutiae_with_quality, 40u);
  EXPECT_DOUBLE_EQ(Assess(view, TemplateFormat::kIso19794_2_2011).score, 0);
  EXPECT_EQ(Assess(view, TemplateFormat::kIso19794_2_2011).issue, QualityIssue::kNone);
  // 254 (not computed) and 255 (failed) never count; half reported at 50.
  for (size_t i = 0; i < view.minutiae.size(); ++i) view.minutiae[i].quality = i % 2 ? 254 : 50;
  CaptureQualityReport r = Assess(view, TemplateFormat::kAnsi378_2009);
  EXPECT_EQ(r.minutiae_with_quality, 20u);
  EXPECT_DOUBLE_EQ(r.minutia_quality_share, 0.5);
}

// Issue 17's bad input: a template that decodes but cannot be compared scores
// exactly 0 with the reason named, never a crash or a high score.
TEST(CaptureQualityTest, DegenerateViewsScoreZeroWithTheirReason) {
  FingerView none;
  none.resolution_x = none.resolution_y = kRes;
  EXPECT_EQ(Assess(none).issue, QualityIssue::kNoMinutiae);
  EXPECT_EQ(Assess(none).score, 0);

  FingerView one_point = none;
  for (int i = 0; i < 30; ++i) one_point.minutiae.push_back({kMinutiaEnding, 250, 250, static_cast<uint8_t>(i * 8), 90});
  EXPECT_EQ(Assess(one_point).issue, QualityIssue::kNoArea);
  EXPECT_EQ(Assess(one_point).score, 0);

  FingerView line = none;  // 30 minutiae 15 px apart along a diagonal: long, but no area
  for (int i = 0; i < 30; ++i) {
    line.minutiae.push_back({kMinutiaEnding, static_cast<uint16_t>(20 + 15 * i), static_cast<uint16_t>(40 + 15 * i), 0, 90});
  }
  EXPECT_EQ(Assess(line).issue, QualityIssue::kNoArea);
  EXPECT_LT(Assess(line).area_mm2, 1e-9);
  EXPECT_EQ(Assess(line).score, 0);

  FingerView two = none;
  two.minutiae = {{kMinutiaEnding, 10, 10, 0, 90}, {kMinutiaEnding, 300, 300, 0, 90}};
  EXPECT_EQ(Assess(two).issue, QualityIssue::kNoArea);

  for (uint16_t resolution : {uint16_t{0}, uint16_t{38}, uint16_t{788}, uint16_t{65535}}) {
    FingerView view = Circle(40, 7, 100);
    view.resolution_y = resolution;
    EXPECT_EQ(Assess(view).issue, QualityIssue::kResolution) << resolution;
    EXPECT_EQ(Assess(view).score, 0) << resolution;
  }
  EXPECT_EQ(QualityIssueName(QualityIssue::kNoArea), "no_area");
  EXPECT_EQ(QualityIssueName(QualityIssue::kResolution), "resolution");
  EXPECT_EQ(QualityIssueName(QualityIssue::kNoMinutiae), "no_minutiae");
  EXPECT_EQ(QualityFactorName(QualityFactor::kMinutiaQuality), "minutia_quality");
}

// Real prints: every FVC2002 template scores above 0 and at most 100, and
// the distribution docs/biometrics.md gives (and the station's default
// minimum of 20 rests on) holds: 12 of 320 below 20, 29 below 30, 58 below 40.
TEST(CaptureQualityTest, FvcTemplatesScoreAsDocumented) {
  std::vector<double> qualities;
  for (const char* db : {"DB1_B", "DB2_B", "DB3_B", "DB4_B"}) {
    auto samples = LoadFvcDatabase((::ektp::testing::FvcDir() / db).string());
    ASSERT_OK(samples);
    ASSERT_EQ(samples->size(), 80u);
    for (const FvcSample& s : *samples) {
      EXPECT_GT(s.quality, 0) << s.path;
      EXPECT_LE(s.quality, 100) << s.path;
      qualities.push_back(s.quality);
    }
  }
  auto below = [&](double t) { return std::count_if(qualities.begin(), qualities.end(), [t](double q) { return q < t; }); };
  EXPECT_EQ(below(20), 12);
  EXPECT_EQ(below(30), 29);
  EXPECT_EQ(below(40), 58);
  std::sort(qualities.begin(), qualities.end());
  EXPECT_NEAR(qualities.front(), 6.9, 0.1);
  EXPECT_NEAR((qualities[159] + qualities[160]) / 2, 64, 1);
}

// Out of fold: each held-out database's cut comes from the other databases'
// qualities, and its pairs go through the calibration fitted without it.
TEST(CaptureQualityTest, TheOutOfFoldRejectCurveTakesEachCutFromTheOtherDatabases) {
  // Two databases of 2 fingers x 2 impressions. Database A's qualities are
  // all low (1..4), B's high (50..53): B's 25 % cut (the worst of A's four,
  // 1) removes nothing of B, while A's cut (the worst of B's, 50) removes all
  // of A.
  std::vector<FvcSample> a(4), b(4);
  for (size_t i = 0; i < 4; ++i) {
    a[i].finger = b[i].finger = i < 2 ? 1 : 2;
    a[i].quality = 1 + static_cast<double>(i);
    b[i].quality = 50 + static_cast<double>(i);
  }
  const std::vector<ScoredPair> pairs = {{0, 1, 60, true}, {2, 3, 50, true}, {0, 2, 5, false},
                                         {0, 3, 2, false}, {1, 2, 3, false}, {1, 3, 4, false}};
  auto curve = ErrorVersusRejectOutOfFold({{&a, &pairs, "A"}, {&b, &pairs, "B"}}, {0.0, 0.25});
  ASSERT_OK(curve);
  ASSERT_EQ(curve->size(), 2u);
  const RejectPoint& none = (*curve)[0];
  EXPECT_EQ(none.templates, 8u);
  EXPECT_EQ(none.templates_removed, 0u);
  EXPECT_EQ(none.rates.genuine, 4u);
  EXPECT_EQ(none.rates.impostor, 8u);
  const RejectPoint& quarter = (*curve)[1];
  ASSERT_EQ(quarter.folds.size(), 2u);
  EXPECT_EQ(quarter.folds[0].held_out, "A");
  EXPECT_EQ(quarter.folds[0].cut, 50);  // the worst of B's four
  EXPECT_EQ(quarter.folds[0].templates_removed, 4u);
  EXPECT_EQ(quarter.folds[1].cut, 1);  // the worst of A's four
  EXPECT_EQ(quarter.folds[1].templates_removed, 0u);
  EXPECT_EQ(quarter.templates_removed, 4u);
  EXPECT_EQ(quarter.rates.genuine, 2u);  // B's pairs alone
  EXPECT_EQ(quarter.rates.impostor, 4u);
  EXPECT_THAT(ErrorVersusRejectOutOfFold({{&a, &pairs, "A"}}, {0.1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at least 2 databases")));
  EXPECT_THAT(ErrorVersusRejectOutOfFold({{&a, &pairs, "A"}, {&b, &pairs, "B"}}, {1.0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside [0, 1)")));
}

}  // namespace
}  // namespace ektp::bio
