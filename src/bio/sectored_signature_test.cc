#include "bio/sectored_signature.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "bio/matcher.h"

namespace ektp::bio {
namespace {

// A deterministic print: `n` minutiae spread over a 300 x 360 px finger
// (linear congruential generator seeded with `seed`).
std::vector<Minutia> Print(uint32_t seed, int n = 40) {
  std::vector<Minutia> m;
  uint32_t state = seed;
  auto next = [&state](int mod) {
    state = state * 1664525u + 1013904223u;
    return static_cast<int>((state >> 8) % static_cast<uint32_t>(mod));
  };
  for (int i = 0; i < n; ++i) {
    Minutia x{};
    x.x = static_cast<float>(60 + next(300));
    x.y = static_cast<float>(60 + next(360));
    x.angle = static_cast<uint8_t>(next(256));
    m.push_back(x);
  }
  return m;
}

// `m` rotated by `units` (1/256 turn) about (240, 240) and shifted by
// (dx, dy), coordinates rounded to whole px.
std::vector<Minutia> Rotated(const std::vector<Minutia>& m, int units, int dx, int dy) {
  const double a = units * 2 * M_PI / 256, c = std::cos(a), s = std::sin(a);
  std::vector<Minutia> out = m;
  for (Minutia& x : out) {
    const double px = x.x - 240.0, py = x.y - 240.0;
    x.x = static_cast<float>(std::lround(240 + c * px - s * py + dx));
    x.y = static_cast<float>(std::lround(240 + s * px + c * py + dy));
    x.angle = static_cast<uint8_t>(x.angle + units);
  }
  return out;
}

TEST(SectoredSignatureTest, GallerySetsOneCodePerEdgeAndTheProbeDilates) {
  const FingerFeatures f(Print(7));
  const SectoredGallery g = SectoredGallery::Of(f);
  const SectoredProbe p = SectoredProbe::Of(f);
  EXPECT_TRUE(std::is_sorted(g.codes.begin(), g.codes.end()));
  EXPECT_EQ(std::adjacent_find(g.codes.begin(), g.codes.end()), g.codes.end());
  EXPECT_GT(g.codes.size(), 250u);  // about 10 edges per minutia, few codes shared
  EXPECT_LE(g.codes.size(), 400u);
  EXPECT_EQ(g.Bytes(), 2 * g.codes.size() + 16);
  int gallery_bits = 0, probe_bits = 0;
  for (int s = 0; s < kSignatureSectors; ++s) {
    gallery_bits += g.bits[s];
    probe_bits += p.bits[s];
  }
  EXPECT_EQ(static_cast<size_t>(gallery_bits), g.codes.size());
  EXPECT_GT(probe_bits, 3 * gallery_bits);
  for (uint16_t c : g.codes) EXPECT_TRUE(p.Has(c / 4096, c % 4096)) << c;  // the probe covers the gallery
}

// A rotated and shifted copy keeps nearly its score, at every rotation of
// the sector grid, and ranks first against strangers; the unrotated copy
// scores far above any stranger.
TEST(SectoredSignatureTest, TheMateRanksFirstAtAnyRotation) {
  const std::vector<Minutia> mate = Print(1);
  const SectoredGallery gallery = SectoredGallery::Of(FingerFeatures(mate));
  const float self = SectoredZ(SectoredProbe::Of(FingerFeatures(mate)), gallery);
  EXPECT_GT(self, 30.0f);
  for (int units : {0, 5, 16, 37, 64, 100, 128, 200, 250}) {
    const SectoredProbe probe = SectoredProbe::Of(FingerFeatures(Rotated(mate, units, 25, -30)));
    const float z = SectoredZ(probe, gallery);
    EXPECT_GT(z, 0.6f * self) << units;
    for (uint32_t seed = 100; seed < 110; ++seed) {
      const float stranger = SectoredZ(probe, SectoredGallery::Of(FingerFeatures(Print(seed))));
      EXPECT_LT(stranger, 0.5f * z) << "rotation " << units << " stranger " << seed;
    }
  }
}

TEST(SectoredSignatureTest, IsDeterministicAndEmptyPrintsScoreZero) {
  const FingerFeatures f(Print(3));
  const SectoredProbe a = SectoredProbe::Of(f), b = SectoredProbe::Of(f);
  EXPECT_EQ(a.lanes, b.lanes);
  EXPECT_EQ(SectoredZ(a, SectoredGallery::Of(f)), SectoredZ(b, SectoredGallery::Of(f)));
  const FingerFeatures empty(std::vector<Minutia>{});
  EXPECT_EQ(SectoredZ(SectoredProbe::Of(empty), SectoredGallery::Of(f)), 0.0f);
  EXPECT_EQ(SectoredZ(a, SectoredGallery::Of(empty)), 0.0f);
}

// The set scores every probe as SectoredZ does, bit for bit, also past the
// 255 codes after which the byte lanes are emptied, and below its capacity.
TEST(SectoredSignatureTest, AProbeSetScoresEachProbeAsSectoredZ) {
  std::vector<SectoredProbe> probes;
  SectoredProbeSet set(8);
  for (uint32_t seed = 20; seed < 25; ++seed) {
    probes.push_back(SectoredProbe::Of(FingerFeatures(Print(seed, 60))));
    set.Add(probes.back());
  }
  probes.push_back(SectoredProbe::Of(FingerFeatures(std::vector<Minutia>{})));
  set.Add(probes.back());
  ASSERT_EQ(set.size(), 6u);
  for (uint32_t seed : {20u, 30u, 31u}) {
    const SectoredGallery g = SectoredGallery::Of(FingerFeatures(Print(seed, 60)));
    ASSERT_GT(g.codes.size(), 255u);
    std::vector<float> evidence;
    set.Evidence(g.codes, g.bits, evidence);
    ASSERT_EQ(evidence.size(), probes.size());
    for (size_t k = 0; k < probes.size(); ++k) EXPECT_EQ(evidence[k], SectoredZ(probes[k], g)) << seed << " " << k;
  }
}

}  // namespace
}  // namespace ektp::bio
