#include "bio/synth.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::bio {
namespace {

constexpr float kPi = 3.14159265358979f;

bool SameMinutiae(const std::vector<Minutia>& a, const std::vector<Minutia>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].angle != b[i].angle || a[i].type != b[i].type) return false;
  }
  return true;
}

TEST(SynthTest, SameSeedGivesIdenticalOutput) {
  SynthGenerator a(7), b(7);
  for (uint64_t subject : {0u, 1u, 999999u}) {
    for (int finger : {1, 2, 7, 10}) {
      MasterFinger ma = a.Master(subject, finger), mb = b.Master(subject, finger);
      EXPECT_EQ(ma.pattern, mb.pattern);
      EXPECT_TRUE(SameMinutiae(ma.minutiae, mb.minutiae));
      for (int impression : {1, 2}) {
        EXPECT_TRUE(SameMinutiae(a.Impression(ma, subject, finger, impression),
                                 b.Impression(mb, subject, finger, impression)))
            << subject << "/" << finger << "/" << impression;
      }
    }
  }
  // Calls do not depend on what was generated before (pure functions).
  SynthGenerator c(7);
  MasterFinger late = c.Master(999999, 10);
  EXPECT_TRUE(SameMinutiae(late.minutiae, a.Master(999999, 10).minutiae));
}

TEST(SynthTest, DifferentSeedsSubjectsAndImpressionsDiffer) {
  SynthGenerator a(7), b(8);
  EXPECT_FALSE(SameMinutiae(a.Master(1, 2).minutiae, b.Master(1, 2).minutiae));
  EXPECT_FALSE(SameMinutiae(a.Master(1, 2).minutiae, a.Master(2, 2).minutiae));
  EXPECT_FALSE(SameMinutiae(a.Master(1, 2).minutiae, a.Master(1, 3).minutiae));
  MasterFinger m = a.Master(1, 2);
  EXPECT_FALSE(SameMinutiae(a.Impression(m, 1, 2, 1), a.Impression(m, 1, 2, 2)));
}

// Statistics over many fingers, compared with published figures for
// 500 dpi live-scan prints (FVC2002-class: about 30..60 minutiae per
// impression; minutia density around 0.2..0.5 per mm^2).
TEST(SynthTest, MinutiaCountsAndDensityAreRealistic) {
  SynthGenerator gen(3);
  constexpr int kFingers = 200;
  constexpr float kPxPerMm = 500 / 25.4f;
  double impression_total = 0, density_total = 0;
  int below_10 = 0, above_90 = 0;
  int pattern_count[5] = {};
  for (int i = 0; i < kFingers; ++i) {
    const int finger = 1 + i % 10;
    MasterFinger m = gen.Master(static_cast<uint64_t>(i), finger);
    ++pattern_count[static_cast<int>(m.pattern)];
    const double area_mm2 = kPi * m.semi_x * m.semi_y / (kPxPerMm * kPxPerMm);
    density_total += static_cast<double>(m.minutiae.size()) / area_mm2;
    // Master minutiae keep a minimum spacing (no two on one ridge point).
    for (size_t a = 0; a < m.minutiae.size(); ++a) {
      for (size_t b = a + 1; b < m.minutiae.size(); ++b) {
        float dx = m.minutiae[a].x - m.minutiae[b].x, dy = m.minutiae[a].y - m.minutiae[b].y;
        ASSERT_GE(dx * dx + dy * dy, 14.0f * 14.0f);
      }
    }
    for (int impression = 1; impression <= 2; ++impression) {
      auto minutiae = gen.Impression(m, static_cast<uint64_t>(i), finger, impression);
      impression_total += static_cast<double>(minutiae.size());
      below_10 += minutiae.size() < 10;
      above_90 += minutiae.size() > 90;
      for (const Minutia& p : minutiae) {
        ASSERT_GE(p.x, 0);
        ASSERT_LT(p.x, SynthGenerator::kWindowWidth);
        ASSERT_LE(p.y, 0);
        ASSERT_GT(p.y, -SynthGenerator::kWindowHeight);
      }
    }
  }
  const double mean_impression = impression_total / (2 * kFingers);
  const double mean_density = density_total / kFingers;
  EXPECT_GT(mean_impression, 30);
  EXPECT_LT(mean_impression, 60);
  EXPECT_GT(mean_density, 0.15);
  EXPECT_LT(mean_density, 0.5);
  EXPECT_LE(below_10, kFingers / 50);
  EXPECT_EQ(above_90, 0);
  // Loops and whorls dominate; arches are rare (roughly 65/30/5 in populations).
  const int loops = pattern_count[static_cast<int>(PatternClass::kLeftLoop)] +
                    pattern_count[static_cast<int>(PatternClass::kRightLoop)];
  EXPECT_GT(loops, kFingers / 2);
  EXPECT_GT(pattern_count[static_cast<int>(PatternClass::kWhorl)], kFingers / 6);
  EXPECT_LT(pattern_count[static_cast<int>(PatternClass::kArch)] +
                pattern_count[static_cast<int>(PatternClass::kTentedArch)],
            kFingers / 5);
}

// Difference of two angles modulo pi (ridge orientation has no sign), in radians.
float OrientationError(float a, float b) {
  float d = std::fmod(std::fabs(a - b), kPi);
  return std::min(d, kPi - d);
}

TEST(SynthTest, DirectionsFollowTheOrientationField) {
  SynthGenerator gen(5);
  int checked = 0, off = 0;
  for (uint64_t s = 0; s < 40; ++s) {
    MasterFinger m = gen.Master(s, 2);
    if (m.pattern != PatternClass::kArch) {
      EXPECT_FALSE(m.cores.empty());
      EXPECT_FALSE(m.deltas.empty());
    }
    for (const Minutia& p : m.minutiae) {
      float angle = static_cast<float>(p.angle) * 2 * kPi / 256;
      off += OrientationError(angle, SynthGenerator::Orientation(m, p.x, p.y)) > 0.25f;
      ++checked;
    }
  }
  ASSERT_GT(checked, 1000);
  EXPECT_LT(off, checked / 100);  // noise sd is 0.06 rad; 0.25 rad is > 4 sd
  // The field is smooth away from singular points: neighbours 4 px apart
  // agree within a few degrees.
  MasterFinger m = gen.Master(1, 2);
  float worst = 0;
  for (float x = m.center_x - 80; x <= m.center_x + 80; x += 20) {
    for (float y = m.center_y - 150; y <= m.center_y - 80; y += 20) {
      worst = std::max(worst, OrientationError(SynthGenerator::Orientation(m, x, y),
                                               SynthGenerator::Orientation(m, x + 4, y)));
    }
  }
  EXPECT_LT(worst, 0.2f);
}

// Impressions of one finger differ (distortion, missing and spurious
// minutiae, partial overlap) yet still match; other fingers do not.
TEST(SynthTest, ImpressionsMatchTheirMateAndNotStrangers) {
  SynthGenerator gen(11);
  Matcher matcher;
  int genuine_ok = 0, impostor_high = 0, exact_repeats = 0;
  constexpr int kSubjects = 30;
  for (uint64_t s = 0; s < kSubjects; ++s) {
    MasterFinger m = gen.Master(s, 7);
    auto first = gen.Impression(m, s, 7, 1), second = gen.Impression(m, s, 7, 2);
    // Not a rigid copy: count minutiae of the first that appear unchanged in the second.
    for (const Minutia& a : first) {
      for (const Minutia& b : second) exact_repeats += a.x == b.x && a.y == b.y;
    }
    PreparedProbe probe{FingerFeatures(first)};
    genuine_ok += matcher.Score(probe, FingerFeatures(second)) >= 30;
    MasterFinger other = gen.Master(s + 1000, 7);
    impostor_high += matcher.Score(probe, FingerFeatures(gen.Impression(other, s + 1000, 7, 1))) >= 30;
  }
  EXPECT_EQ(exact_repeats, 0);
  EXPECT_GE(genuine_ok, kSubjects * 9 / 10);
  EXPECT_EQ(impostor_high, 0);
}

TEST(SynthTest, ToRecordWritesAnIso2005RecordInWindowPixels) {
  SynthGenerator gen(1);
  MasterFinger m = gen.Master(0, 3);
  auto minutiae = gen.Impression(m, 0, 3, 1);
  TemplateRecord record = SynthGenerator::ToRecord(minutiae, 3);
  EXPECT_EQ(record.format, TemplateFormat::kIso19794_2_2005);
  ASSERT_EQ(record.views.size(), 1u);
  EXPECT_EQ(record.views[0].position, 3);
  ASSERT_EQ(record.views[0].minutiae.size(), minutiae.size());
  EXPECT_EQ(record.views[0].minutiae[0].x, std::lround(minutiae[0].x));
  EXPECT_EQ(record.views[0].minutiae[0].y, std::lround(-minutiae[0].y));
  auto bytes = EncodeTemplate(record);
  ASSERT_OK(bytes);
  auto back = DecodeTemplate(*bytes);
  ASSERT_OK(back);
  auto features = FingerFeatures::FromView(back->views[0], back->format);
  ASSERT_OK(features);
  Matcher matcher;
  EXPECT_GE(matcher.Score(PreparedProbe(*features), FingerFeatures(minutiae)), 40);
}

}  // namespace
}  // namespace ektp::bio
