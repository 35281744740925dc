#include "bio/synth.h"

#include "bio/evaluation.h"
#include "bio/synth_calibration.h"

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
  // The per-minutia detail and a non-default model too.
  SynthParams p;
  p.distortion_px = 12;
  p.missing_rate = 0.3f;
  SynthGenerator d(7, p), e(7, p);
  SynthImpression x = d.Detail(d.Master(5, 2), 5, 2, 3), y = e.Detail(e.Master(5, 2), 5, 2, 3);
  EXPECT_TRUE(SameMinutiae(x.minutiae, y.minutiae));
  EXPECT_EQ(x.quality, y.quality);
  EXPECT_EQ(x.origin, y.origin);
  EXPECT_FALSE(SameMinutiae(x.minutiae, a.Impression(a.Master(5, 2), 5, 2, 3)));
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

// Statistics over many fingers, compared with FVC2002 (32 minutiae per
// template on average, medians 27..39 by database) and published figures
// for 500 dpi prints (minutia density around 0.15..0.5 per mm^2).
TEST(SynthTest, MinutiaCountsAndDensityAreRealistic) {
  SynthGenerator gen(3, SynthParams::Calibrated());
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
  EXPECT_GT(mean_impression, 25);
  EXPECT_LT(mean_impression, 40);
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
// minutiae, partial overlap) yet mostly still match; other fingers do not.
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
    genuine_ok += matcher.Score(probe, FingerFeatures(second)) >= 20;
    MasterFinger other = gen.Master(s + 1000, 7);
    impostor_high += matcher.Score(probe, FingerFeatures(gen.Impression(other, s + 1000, 7, 1))) >= 30;
  }
  EXPECT_EQ(exact_repeats, 0);
  EXPECT_GE(genuine_ok, kSubjects * 8 / 10);
  EXPECT_EQ(impostor_high, 0);
}

// A model with every impression effect off: the window centred on the
// finger, no rotation, full contact, no noise, nothing missing or added.
SynthParams Clean() {
  SynthParams p;
  p.rotation_sd_deg = 0;
  p.displacement_sd_px = 0;
  p.contact_min = 1;
  p.contact_offset_px = 0;
  p.distortion_px = 0;
  p.scale_sd = 0;
  p.noise_spread = 0;
  p.noise_patch_amplitude = 0;
  p.missing_rate = 0;
  p.spurious_mean = 0;
  p.position_noise_px = 0;
  p.direction_noise_deg = 0;
  p.type_flip_rate = 0;
  return p;
}

// Where master minutia `m` lands in the window with every effect off.
std::pair<float, float> CleanPlace(const MasterFinger& master, const Minutia& m) {
  return {m.x - master.center_x + SynthGenerator::kWindowWidth / 2.0f,
          m.y - master.center_y - SynthGenerator::kWindowHeight / 2.0f};
}

float AngleErrorDegrees(uint8_t a, uint8_t b) {
  int d = static_cast<int8_t>(static_cast<uint8_t>(a - b));
  return static_cast<float>(d) * 360.0f / 256.0f;
}

TEST(SynthTest, WithEveryEffectOffAnImpressionIsTheMasterInWindowCoordinates) {
  SynthGenerator gen(21, Clean());
  for (uint64_t s = 0; s < 20; ++s) {
    MasterFinger m = gen.Master(s, 2);
    SynthImpression im = gen.Detail(m, s, 2, 1);
    ASSERT_EQ(im.minutiae.size(), static_cast<size_t>(im.visible));
    for (size_t i = 0; i < im.minutiae.size(); ++i) {
      ASSERT_GE(im.origin[i], 0);
      const Minutia& master = m.minutiae[static_cast<size_t>(im.origin[i])];
      auto [x, y] = CleanPlace(m, master);
      EXPECT_NEAR(im.minutiae[i].x, x, 1e-3);
      EXPECT_NEAR(im.minutiae[i].y, y, 1e-3);
      EXPECT_LE(std::fabs(AngleErrorDegrees(im.minutiae[i].angle, master.angle)), 1.5f);
      EXPECT_EQ(im.minutiae[i].type, master.type);
      EXPECT_EQ(im.quality[i], 50);  // the mean noise level 0.5 everywhere
    }
  }
}

// distortion_px is the RMS displacement at distortion_radius_px from the
// centre of pressure, and the field vanishes at the centre.
TEST(SynthTest, DistortionMovesMinutiaeByTheDocumentedAmount) {
  SynthParams p = Clean();
  p.distortion_px = 8;
  p.distortion_radius_px = 150;
  SynthGenerator gen(22, p);
  double ring_sum = 0, centre_sum = 0;
  int ring = 0, centre = 0;
  for (uint64_t s = 0; s < 300; ++s) {
    MasterFinger m = gen.Master(s, 2);
    SynthImpression im = gen.Detail(m, s, 2, 1);
    for (size_t i = 0; i < im.minutiae.size(); ++i) {
      const Minutia& master = m.minutiae[static_cast<size_t>(im.origin[i])];
      auto [x, y] = CleanPlace(m, master);
      const float moved = std::hypot(im.minutiae[i].x - x, im.minutiae[i].y - y);
      EXPECT_NEAR(moved, im.distortion_px[i], 1e-3);
      const float r = std::hypot(master.x - m.center_x, master.y - m.center_y);  // no contact offset
      if (r > 135 && r < 165) ring_sum += moved * moved, ++ring;
      if (r < 30) centre_sum += moved * moved, ++centre;
    }
  }
  ASSERT_GT(ring, 500);
  ASSERT_GT(centre, 100);
  EXPECT_NEAR(std::sqrt(ring_sum / ring), 8.0, 0.8);
  EXPECT_LT(std::sqrt(centre_sum / centre), 1.6);  // at most 8 x 30 / 150
}

// missing_rate and spurious_mean are what an impression shows at the mean
// noise level; position and direction noise have the documented sd.
TEST(SynthTest, MissingSpuriousAndNoiseRatesAreAsSet) {
  SynthParams p = Clean();
  p.missing_rate = 0.2f;
  p.spurious_mean = 5;
  p.position_noise_px = 3;
  p.direction_noise_deg = 6;
  SynthGenerator gen(23, p);
  long visible = 0, kept = 0, spurious = 0, impressions = 0, errors = 0;
  double position_sq = 0, direction_sq = 0;
  for (uint64_t s = 0; s < 300; ++s) {
    MasterFinger m = gen.Master(s, 7);
    for (int i = 1; i <= 2; ++i) {
      SynthImpression im = gen.Detail(m, s, 7, i);
      ++impressions;
      visible += im.visible;
      for (size_t k = 0; k < im.minutiae.size(); ++k) {
        if (im.origin[k] < 0) {
          ++spurious;
          continue;
        }
        ++kept;
        const Minutia& master = m.minutiae[static_cast<size_t>(im.origin[k])];
        auto [x, y] = CleanPlace(m, master);
        position_sq += (im.minutiae[k].x - x) * (im.minutiae[k].x - x) + (im.minutiae[k].y - y) * (im.minutiae[k].y - y);
        const float a = AngleErrorDegrees(im.minutiae[k].angle, master.angle);
        direction_sq += a * a;
        ++errors;
      }
    }
  }
  EXPECT_NEAR(1 - static_cast<double>(kept) / static_cast<double>(visible), 0.2, 0.015);
  EXPECT_NEAR(static_cast<double>(spurious) / static_cast<double>(impressions), 5.0, 0.3);
  EXPECT_NEAR(std::sqrt(position_sq / (2.0 * static_cast<double>(errors))), 3.0, 0.15);
  // Rounding to 1/256 turn adds 1.4^2 / 12 degrees^2 of variance.
  EXPECT_NEAR(std::sqrt(direction_sq / static_cast<double>(errors)), std::sqrt(36 + 1.9 / 12), 0.35);
}

// The reported minutia quality follows the local noise level: low-quality
// minutiae are placed worse and missed more often.
TEST(SynthTest, ReportedQualityIsCorrelatedWithTheNoise) {
  SynthParams p = Clean();
  p.noise_spread = 0.4f;
  p.noise_patch_amplitude = 0.3f;
  p.position_noise_px = 3;
  SynthGenerator gen(24, p);
  double good_sq = 0, poor_sq = 0;
  long good = 0, poor = 0;
  double q_sum = 0, e_sum = 0, qq = 0, ee = 0, qe = 0;
  long n = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    MasterFinger m = gen.Master(s, 2);
    SynthImpression im = gen.Detail(m, s, 2, 1);
    for (size_t k = 0; k < im.minutiae.size(); ++k) {
      const Minutia& master = m.minutiae[static_cast<size_t>(im.origin[k])];
      auto [x, y] = CleanPlace(m, master);
      const double e = std::hypot(im.minutiae[k].x - x, im.minutiae[k].y - y), q = im.quality[k];
      if (q >= 70) good_sq += e * e, ++good;
      if (q <= 30) poor_sq += e * e, ++poor;
      q_sum += q, e_sum += e, qq += q * q, ee += e * e, qe += q * e, ++n;
    }
  }
  ASSERT_GT(good, 300);
  ASSERT_GT(poor, 300);
  // effect(level) = 0.25 + 1.5 level: at quality >= 70 at most 0.7, at <= 30 at least 1.3.
  EXPECT_LT(std::sqrt(good_sq / good), 3 * 0.7 * std::sqrt(2.0) * 1.05);
  EXPECT_GT(std::sqrt(poor_sq / poor), 3 * 1.3 * std::sqrt(2.0) * 0.95);
  const double dn = static_cast<double>(n);
  const double corr = (qe / dn - q_sum / dn * e_sum / dn) /
                      std::sqrt((qq / dn - q_sum / dn * q_sum / dn) * (ee / dn - e_sum / dn * e_sum / dn));
  EXPECT_LT(corr, -0.3);
  // The template carries it.
  SynthImpression im = gen.Detail(gen.Master(0, 2), 0, 2, 1);
  TemplateRecord record = SynthGenerator::ToRecord(im, 2);
  ASSERT_EQ(record.views[0].minutiae.size(), im.quality.size());
  for (size_t k = 0; k < im.quality.size(); ++k) EXPECT_EQ(record.views[0].minutiae[k].quality, im.quality[k]);
}

// Partial overlap: a displaced window loses minutiae off its edge, more
// with a larger displacement_sd_px.
TEST(SynthTest, DisplacementReducesTheOverlap) {
  auto mean_visible = [](float displacement) {
    SynthParams p = Clean();
    p.displacement_sd_px = displacement;
    SynthGenerator gen(25, p);
    long total = 0;
    for (uint64_t s = 0; s < 200; ++s) total += gen.Detail(gen.Master(s, 2), s, 2, 1).visible;
    return static_cast<double>(total) / 200;
  };
  const double still = mean_visible(0), moved = mean_visible(40), far = mean_visible(80);
  EXPECT_LT(moved, still * 0.95);
  EXPECT_LT(far, moved * 0.9);
}

// The calibrated defaults: on a small set the EER lies within the range of
// FVC2002's own databases (1.78 % .. 6.06 %, docs/biometrics.md), and
// impostors reach score 20 about as often as there (1.02 % pooled).
TEST(SynthTest, CalibratedModelIsAsHardAsFvc2002) {
  ScoreSet set = ScoreSynthetic(SynthParams::Calibrated(), 77, 40, 8, 2);
  ASSERT_EQ(set.genuine.size(), 40u * 28);
  ASSERT_EQ(set.impostor.size(), 320u * 319 / 2 - 40 * 28);
  const ErrorRates rates = ComputeErrorRates(set.genuine, set.impostor);
  EXPECT_GE(rates.eer, 0.0178);
  EXPECT_LE(rates.eer, 0.0606);
  size_t at_least_20 = 0;
  for (float s : set.impostor) at_least_20 += s >= 20;
  const double share = static_cast<double>(at_least_20) / static_cast<double>(set.impostor.size());
  EXPECT_GE(share, 0.0025);
  EXPECT_LE(share, 0.04);
}

TEST(SynthCalibrationTest, KsDistanceAndHistogram) {
  EXPECT_DOUBLE_EQ(KsDistance({1, 2, 3}, {1, 2, 3}), 0);
  EXPECT_DOUBLE_EQ(KsDistance({1, 2}, {3, 4}), 1);
  EXPECT_DOUBLE_EQ(KsDistance({0, 0, 0, 5}, {0, 5, 5, 5}), 0.5);
  const std::vector<double> h = ScoreHistogram({0, 1.9f, 2, 7, 250}, 2, 4);
  EXPECT_EQ(h, (std::vector<double>{0.4, 0.2, 0, 0.4}));
  SynthParams p;
  EXPECT_TRUE(SetSynthParam(p, "missing_rate", 1.7f));
  EXPECT_EQ(p.missing_rate, 1.0f);  // a share stays within [0, 1]
  EXPECT_FALSE(SetSynthParam(p, "no_such_param", 1));
  float v = 0;
  EXPECT_TRUE(GetSynthParam(p, "distortion_px", &v));
  EXPECT_EQ(v, p.distortion_px);
  EXPECT_FALSE(FitSynthParams({}, p, {}).ok());
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
