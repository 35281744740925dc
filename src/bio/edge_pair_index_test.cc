#include "bio/edge_pair_index.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "bio/matcher.h"
#include "bio/synth.h"

namespace ektp::bio {
namespace {

const FingerFeatures::LengthCells kCells = FingerFeatures::DefaultLengthCells();

// Impression `impression` of synthetic subject `subject`'s right index finger
// (calibrated model: distortion, partial overlap, missing and spurious
// minutiae).
FingerFeatures Print(uint64_t subject, int impression) {
  const SynthGenerator gen(5, SynthParams::Calibrated());
  return FingerFeatures(gen.Impression(gen.Master(subject, 2), subject, 2, impression));
}

size_t HitsByLookup(const EdgePairProbe& probe, const std::vector<uint32_t>& codes) {
  return static_cast<size_t>(std::count_if(codes.begin(), codes.end(), [&](uint32_t c) { return probe.Has(c); }));
}

TEST(EdgePairIndexTest, GalleryCodesAreSortedAndTheProbeHoldsThemAll) {
  const FingerFeatures f = Print(1, 1);
  const std::vector<uint32_t> codes = EdgePairCodes(f, kCells);
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_EQ(std::adjacent_find(codes.begin(), codes.end()), codes.end());
  // At most C(5, 2) = 10 pairs a minutia, few codes shared.
  EXPECT_LE(codes.size(), 10 * f.size());
  EXPECT_GT(codes.size(), 5 * f.size());
  const EdgePairProbe probe = EdgePairProbe::Of(f, kCells);
  EXPECT_EQ(HitsByLookup(probe, codes), codes.size());
  EXPECT_TRUE(std::is_sorted(probe.codes().begin(), probe.codes().end()));
  EXPECT_GT(probe.codes().size(), codes.size());  // the dilation
  EXPECT_FLOAT_EQ(probe.density(), static_cast<float>(probe.codes().size()) / (1 << 24));
}

// Three minutiae make one pair each. Moving one 5 px further out
// (params::kPairLenTol; a single edge's dilation is 2 px) keeps every pair;
// moving it 12 px lengthens an edge of every pair by more (12 and 7.4 px).
TEST(EdgePairIndexTest, TheProbeFindsPairsWithinItsDilation) {
  const std::vector<Minutia> gallery = {{100, 100, 0}, {140, 100, 64}, {100, 160, 128}};
  const std::vector<uint32_t> codes = EdgePairCodes(FingerFeatures(gallery), kCells);
  ASSERT_EQ(codes.size(), 3u);
  auto moved_out = [&gallery](float px) {
    std::vector<Minutia> m = gallery;
    m[1].x += px;
    return EdgePairProbe::Of(FingerFeatures(m), kCells);
  };
  EXPECT_EQ(HitsByLookup(moved_out(5), codes), 3u);
  EXPECT_EQ(HitsByLookup(moved_out(12), codes), 0u);
}

TEST(EdgePairIndexTest, AMateSharesPairsAStrangerHardlyAny) {
  const EdgePairProbe probe = EdgePairProbe::Of(Print(3, 2), kCells);
  const std::vector<uint32_t> mate = EdgePairCodes(Print(3, 1), kCells);
  const float mate_z = EdgePairZ(HitsByLookup(probe, mate), mate.size(), probe.density());
  EXPECT_GT(mate_z, 5);
  for (uint64_t stranger = 10; stranger < 20; ++stranger) {
    const std::vector<uint32_t> codes = EdgePairCodes(Print(stranger, 1), kCells);
    EXPECT_LT(EdgePairZ(HitsByLookup(probe, codes), codes.size(), probe.density()), mate_z) << stranger;
  }
}

TEST(EdgePairIndexTest, EvidenceIsTheHitsAgainstChance) {
  // 100 codes at density 0.01: 1 expected, variance 0.99.
  EXPECT_FLOAT_EQ(EdgePairZ(1, 100, 0.01f), 0.0f);
  EXPECT_NEAR(EdgePairZ(5, 100, 0.01f), 4 / std::sqrt(1.99f), 1e-5);
  EXPECT_FLOAT_EQ(EdgePairZ(0, 0, 0.5f), 0.0f);
}

TEST(EdgePairIndexTest, TheIndexCountsWhatEachFingerShares) {
  EdgePairIndex index;
  std::vector<std::vector<uint32_t>> gallery;
  for (uint32_t f = 0; f < 12; ++f) {
    gallery.push_back(EdgePairCodes(Print(f, 1), kCells));
    index.Add(f, gallery.back());
  }
  for (uint64_t probe_subject : {0u, 4u, 11u, 40u}) {
    const EdgePairProbe probe = EdgePairProbe::Of(Print(probe_subject, 2), kCells);
    std::vector<uint16_t> hits(gallery.size() + 1, 7);
    index.CountHits(probe, hits);
    for (size_t f = 0; f < gallery.size(); ++f) EXPECT_EQ(hits[f], 7 + HitsByLookup(probe, gallery[f])) << f;
    EXPECT_EQ(hits.back(), 7);  // no finger there
  }
  EXPECT_GT(index.Bytes(), 4 * 12 * 100u);
}

TEST(EdgePairIndexTest, AnEmptyIndexCountsNothing) {
  const EdgePairIndex index;
  std::vector<uint16_t> hits(3, 0);
  index.CountHits(EdgePairProbe::Of(Print(1, 1), kCells), hits);
  EXPECT_EQ(hits, std::vector<uint16_t>(3, 0));
}

TEST(EdgePairIndexTest, TheCohortScoresAGalleryFingerAgainstEachPrint) {
  EdgePairCohort cohort;
  std::vector<EdgePairProbe> prints;
  for (uint64_t s = 0; s < 9; ++s) {
    prints.push_back(EdgePairProbe::Of(Print(s, 2), kCells));
    cohort.Add(EdgePairProbe::Of(Print(s, 2), kCells, false));
  }
  ASSERT_EQ(cohort.size(), 9u);
  for (uint64_t g : {2u, 30u}) {
    const std::vector<uint32_t> codes = EdgePairCodes(Print(g, 1), kCells);
    std::vector<float> evidence;
    cohort.Evidence(codes, evidence);
    ASSERT_EQ(evidence.size(), 9u);
    for (size_t k = 0; k < prints.size(); ++k) {
      EXPECT_FLOAT_EQ(evidence[k], EdgePairZ(HitsByLookup(prints[k], codes), codes.size(), prints[k].density()))
          << g << " " << k;
    }
  }
}

}  // namespace
}  // namespace ektp::bio
