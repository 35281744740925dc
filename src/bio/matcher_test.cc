#include "bio/matcher.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bio/angle_units.h"
#include "bio/evaluation.h"
#include "bio/edge_grid.h"
#include "bio/features_view.h"
#include "bio/fusion.h"
#include "bio/hypotheses.h"
#include "bio/kernels.h"
#include "bio/transform.h"
#include "bio/voting.h"
#include "core/status_matchers.h"
#include "core/testing.h"

namespace ektp::bio {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

std::filesystem::path Fvc() {
  return ::ektp::testing::FvcDir();
}

// The four FVC2002 databases, DB1_B to DB4_B; fewer (with a failure) if one
// does not load.
std::vector<std::vector<FvcSample>> AllFvc2002() {
  std::vector<std::vector<FvcSample>> dbs;
  for (const char* name : {"DB1_B", "DB2_B", "DB3_B", "DB4_B"}) {
    auto db = LoadFvcDatabase((Fvc() / name).string());
    EXPECT_OK(db);
    if (db.ok()) dbs.push_back(std::move(*db));
  }
  return dbs;
}

FingerFeatures Load(const std::string& db, const std::string& name) {
  std::ifstream in(Fvc() / db / name, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto record = DecodeTemplate(bytes);
  EXPECT_OK(record);
  auto features = FingerFeatures::FromView(record->views[0], record->format);
  EXPECT_OK(features);
  return *features;
}

// Rigidly moves the minutiae, jitters them and drops some, like a new impression.
FingerFeatures Perturb(const FingerFeatures& f, float degrees, float dx, float dy, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> jitter(0, 2);
  std::bernoulli_distribution drop(0.15);
  const float r = degrees * 3.14159265f / 180;
  std::vector<Minutia> out;
  for (Minutia m : f.Minutiae()) {
    if (drop(rng)) continue;
    float x = std::cos(r) * m.x - std::sin(r) * m.y + dx + jitter(rng);
    float y = std::sin(r) * m.x + std::cos(r) * m.y + dy + jitter(rng);
    m.x = x;
    m.y = y;
    m.angle = static_cast<uint8_t>(m.angle + std::lround(degrees * 256 / 360));
    out.push_back(m);
  }
  return FingerFeatures(out);
}

TEST(MatcherTest, IdenticalTemplateScoresAboveFmr1e4) {
  FingerFeatures f = Load("DB1_B", "101_1.iso");
  Matcher matcher;
  EXPECT_GE(matcher.Score(PreparedProbe(f), f), 40);
}

TEST(MatcherTest, ToleratesRotationTranslationAndMissingMinutiae) {
  FingerFeatures f = Load("DB1_B", "103_2.iso");
  Matcher matcher;
  PreparedProbe probe(f);
  for (float degrees : {-40.0f, -15.0f, 10.0f, 35.0f}) {
    FingerFeatures moved = Perturb(f, degrees, 40, -25, static_cast<uint32_t>(degrees + 100));
    EXPECT_GE(matcher.Score(probe, moved), 30) << degrees << " degrees";
  }
}

// Where a print lies in its image must not matter: templates of large
// images (a 4-4-2 slap, a rolled print) put minutiae far from the origin.
// The shift is in whole pixels, so the moved minutiae are exact.
TEST(MatcherTest, ScoresDoNotDependOnWhereThePrintLiesInItsImage) {
  auto moved = [](const FingerFeatures& f, float dx, float dy) {
    std::vector<Minutia> out = f.Minutiae();
    for (Minutia& m : out) {
      m.x += dx;
      m.y += dy;
    }
    return FingerFeatures(out);
  };
  const FingerFeatures probe = Load("DB2_B", "104_1.iso");
  Matcher matcher;
  for (const char* name : {"104_3.iso", "105_1.iso", "108_2.iso"}) {
    const FingerFeatures candidate = Load("DB2_B", name);
    const MatchDetail here = matcher.Compare(PreparedProbe(probe), candidate);
    for (auto [dx, dy] : {std::pair{700.0f, -900.0f}, std::pair{3000.0f, 0.0f}, std::pair{-200.0f, 150.0f}}) {
      const MatchDetail far = matcher.Compare(PreparedProbe(probe), moved(candidate, dx, dy));
      EXPECT_EQ(far.probe_overlap, here.probe_overlap) << name << " moved by " << dx << ", " << dy;
      EXPECT_EQ(far.candidate_overlap, here.candidate_overlap) << name << " moved by " << dx << ", " << dy;
      EXPECT_NEAR(far.score, here.score, 1.0f) << name << " moved by " << dx << ", " << dy;
      const MatchDetail both = matcher.Compare(PreparedProbe(moved(probe, dx, dy)), moved(candidate, dx, dy));
      EXPECT_NEAR(both.score, here.score, 1.0f) << name << " both moved by " << dx << ", " << dy;
    }
  }
}

TEST(MatcherTest, GenuinePairOutscoresImpostorPair) {
  Matcher matcher;
  PreparedProbe probe(Load("DB2_B", "104_1.iso"));
  float genuine = matcher.Score(probe, Load("DB2_B", "104_2.iso"));
  float impostor = matcher.Score(probe, Load("DB2_B", "105_1.iso"));
  EXPECT_GT(genuine, impostor + 10);
  EXPECT_LT(impostor, 30);
}

// A Matcher tags its vote counts with a 16-bit comparison number and clears
// them when that wraps. The first comparison to vote is an impostor pair,
// another pair votes until the tag has wrapped, then the impostor pair comes
// again with the first comparison's tag: it must score as with a fresh
// Matcher (counting on top of the first comparison's votes would double them).
TEST(MatcherTest, ReusedMatcherAgreesWithAFreshOneAcrossTheVoteTagWrap) {
  PreparedProbe probe(Load("DB1_B", "101_1.iso"));
  FingerFeatures stranger = Load("DB1_B", "103_1.iso");
  PreparedProbe filler(Load("DB3_B", "102_1.iso"));
  FingerFeatures filler_mate = Load("DB3_B", "102_2.iso");
  const MatchDetail fresh = Matcher().Compare(probe, stranger);
  const MatchDetail filler_fresh = Matcher().Compare(filler, filler_mate);
  ASSERT_GT(fresh.pairs, 0);
  ASSERT_GT(filler_fresh.pairs, 0);
  Matcher reused;
  ASSERT_EQ(reused.Compare(probe, stranger).raw, fresh.raw);
  for (int i = 1; i < 0xffff; ++i) ASSERT_EQ(reused.Compare(filler, filler_mate).raw, filler_fresh.raw) << i;
  EXPECT_EQ(reused.Compare(probe, stranger).raw, fresh.raw);
}

TEST(MatcherTest, TooFewMinutiaeScoreZero) {
  std::vector<Minutia> two = {{10, -10, 0, 1}, {50, -60, 30, 2}};
  FingerFeatures tiny(two);
  Matcher matcher;
  EXPECT_EQ(matcher.Score(PreparedProbe(tiny), tiny), 0);
}

TEST(MatcherTest, SerializeRoundTripsAndRefusesCorruptBlobs) {
  FingerFeatures f = Load("DB3_B", "106_4.iso");
  auto back = FingerFeatures::Deserialize(f.Serialize());
  ASSERT_OK(back);
  auto a = f.Minutiae(), b = back->Minutiae();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i].x, b[i].x, 0.13);
    EXPECT_NEAR(a[i].y, b[i].y, 0.13);
    EXPECT_EQ(a[i].angle, b[i].angle);
  }
  auto blob = f.Serialize();
  blob.pop_back();
  EXPECT_THAT(FingerFeatures::Deserialize(blob), StatusIs(StatusCode::kDataLoss, HasSubstr("does not hold")));
  EXPECT_THAT(FingerFeatures::Deserialize({}), StatusIs(StatusCode::kDataLoss, HasSubstr("empty")));
}

// Minutiae counts that are not a multiple of the SIMD block, and the largest.
TEST(MatcherTest, AnyMinutiaCountMatchesItself) {
  FingerFeatures full = Load("DB4_B", "102_3.iso");
  std::vector<Minutia> m = full.Minutiae();
  while (m.size() < FingerFeatures::kMaxMinutiae + 5) {
    Minutia extra = m[m.size() % full.size()];
    extra.x += 240;
    m.push_back(extra);
  }
  Matcher matcher;
  for (size_t n : {size_t{9}, size_t{16}, size_t{17}, size_t{31}, FingerFeatures::kMaxMinutiae + 5}) {
    FingerFeatures f(std::span<const Minutia>(m.data(), n));
    EXPECT_EQ(f.size(), std::min(n, FingerFeatures::kMaxMinutiae));
    EXPECT_GE(matcher.Score(PreparedProbe(f), f), 30) << n;
  }
}

// A view with more minutiae than the matcher keeps: the better quality ones
// stay, and among equals those nearest the centroid (here a 10 x 10 lattice
// listed row by row: the kept ones must not be the first rows).
TEST(MatcherTest, ViewOverTheCapKeepsBestThenCentralMinutiae) {
  FingerView view;
  view.resolution_x = view.resolution_y = 197;
  for (uint16_t row = 0; row < 10; ++row) {
    for (uint16_t column = 0; column < 10; ++column) {
      RecordMinutia m;
      m.x = static_cast<uint16_t>(100 + 20 * column);
      m.y = static_cast<uint16_t>(100 + 20 * row);
      m.angle = static_cast<uint8_t>(7 * (row + column));
      m.quality = 40;
      view.minutiae.push_back(m);
    }
  }
  view.minutiae[0].quality = 90;  // a corner, but the best
  auto features = FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005);
  ASSERT_OK(features);
  ASSERT_EQ(features->size(), FingerFeatures::kMaxMinutiae);
  const std::vector<Minutia> kept = features->Minutiae();
  EXPECT_EQ(kept[0].x, 100);
  EXPECT_EQ(kept[0].y, -100);
  // After the corner, nearest the lattice centre (190, 190) first: the 60
  // points within sqrt(7400) px, then 3 of the 8 at sqrt(8200).
  const auto off = [](const Minutia& m) { return (m.x - 190) * (m.x - 190) + (-m.y - 190) * (-m.y - 190); };
  int inner = 0;
  for (size_t i = 1; i < kept.size(); ++i) {
    EXPECT_LE(off(kept[i]), 8200) << i;
    inner += off(kept[i]) <= 7400;
    if (i > 1) {
      EXPECT_LE(off(kept[i - 1]), off(kept[i])) << i;
    }
  }
  EXPECT_EQ(inner, 60);
}

TEST(MatcherTest, CalibrationIsMonotonic) {
  float last = -1;
  for (float raw = 0; raw < 0.6f; raw += 0.005f) {
    float s = CalibrateRaw(raw);
    EXPECT_GE(s, last);
    last = s;
  }
  EXPECT_EQ(CalibrateRaw(0), 0);
  EXPECT_EQ(CalibrateRaw(10), 100);
}

size_t Bits(const FingerFeatures::Signature& sig) {
  size_t n = 0;
  for (uint64_t w : sig) n += static_cast<size_t>(std::popcount(w));
  return n;
}

size_t SharedBits(const FingerFeatures::Signature& a, const FingerFeatures::Signature& b) {
  size_t n = 0;
  for (size_t w = 0; w < a.size(); ++w) n += static_cast<size_t>(std::popcount(a[w] & b[w]));
  return n;
}

// The probe-side (dilated) signature holds every code of the gallery-side
// one, so a template always hits all of its own codes.
TEST(MatcherTest, DilatedSignatureHoldsItsOwnCodes) {
  for (const char* name : {"101_1.iso", "102_3.iso", "107_5.iso"}) {
    FingerFeatures f = Load("DB1_B", name);
    FingerFeatures::Signature gallery = f.EdgeSignature(), probe = f.DilatedEdgeSignature();
    EXPECT_GT(Bits(gallery), 100u) << name;
    EXPECT_LT(Bits(probe), FingerFeatures::kSignatureBits * 3u / 4) << name;  // still selective
    EXPECT_EQ(SharedBits(gallery, probe), Bits(gallery)) << name;
  }
}

// Rotation and translation move no edge out of the probe's dilation
// (rotation by a whole number of angle units; only rounding changes, which
// can swap two nearly equidistant neighbours and so change an edge or two).
TEST(MatcherTest, SignatureIsRotationAndTranslationInvariant) {
  FingerFeatures f = Load("DB2_B", "103_1.iso");
  const FingerFeatures::Signature probe = f.DilatedEdgeSignature();
  for (int units : {-48, 16, 64}) {
    const float r = static_cast<float>(units) * 2 * 3.14159265f / 256;
    std::vector<Minutia> moved;
    for (Minutia m : f.Minutiae()) {
      const float x = std::cos(r) * m.x - std::sin(r) * m.y + 57, y = std::sin(r) * m.x + std::cos(r) * m.y - 31;
      moved.push_back({x, y, static_cast<uint8_t>(m.angle + units), m.type});
    }
    const FingerFeatures::Signature gallery = FingerFeatures(moved).EdgeSignature();
    EXPECT_GE(SharedBits(gallery, probe) + 3, Bits(gallery)) << units << " units";
  }
}

// Another impression of the same finger shares far more of its codes than
// a different finger does.
TEST(MatcherTest, SignatureSeparatesMateFromStranger) {
  const FingerFeatures::Signature probe = Load("DB2_B", "104_1.iso").DilatedEdgeSignature();
  const FingerFeatures::Signature mate = Load("DB2_B", "104_2.iso").EdgeSignature();
  const FingerFeatures::Signature stranger = Load("DB2_B", "105_1.iso").EdgeSignature();
  const double mate_share = static_cast<double>(SharedBits(mate, probe)) / static_cast<double>(Bits(mate));
  const double stranger_share = static_cast<double>(SharedBits(stranger, probe)) / static_cast<double>(Bits(stranger));
  EXPECT_GT(mate_share, stranger_share + 0.15) << mate_share << " vs " << stranger_share;
}

// The signature's length cells are the 16-quantiles of its edges' lengths:
// fitted on all of FVC2002 they are the shipped ones; fitted on three
// databases they differ (what the out-of-fold loss uses); no prints leave
// the shipped ones; each cell of the fit holds about a sixteenth of the edges.
TEST(MatcherTest, SignatureLengthCellsAreTheQuantilesOfTheEdgeLengths) {
  const std::vector<std::vector<FvcSample>> dbs = AllFvc2002();
  ASSERT_EQ(dbs.size(), 4u);
  std::vector<const FingerFeatures*> all, without_db3;
  for (size_t d = 0; d < dbs.size(); ++d) {
    for (const FvcSample& s : dbs[d]) {
      all.push_back(&s.features);
      if (d != 2) without_db3.push_back(&s.features);
    }
  }
  EXPECT_EQ(FingerFeatures::FitLengthCells(all), FingerFeatures::DefaultLengthCells());
  const FingerFeatures::LengthCells fold = FingerFeatures::FitLengthCells(without_db3);
  EXPECT_EQ(fold, (FingerFeatures::LengthCells{19, 25, 31, 36, 40, 45, 49, 53, 57, 61, 66, 72, 78, 87, 100}));
  EXPECT_EQ(FingerFeatures::FitLengthCells({}), FingerFeatures::DefaultLengthCells());
  // Four minutiae 60 px apart on a line: edges of 60, 120 and 180 px.
  std::vector<Minutia> grid;
  for (int i = 0; i < 4; ++i) grid.push_back({static_cast<float>(60 * i), 0, 0, kMinutiaEnding});
  const FingerFeatures line(grid);
  const FingerFeatures* one[] = {&line};
  const FingerFeatures::LengthCells cells = FingerFeatures::FitLengthCells(one);
  EXPECT_TRUE(std::is_sorted(cells.begin(), cells.end()));
  EXPECT_EQ(cells.front(), 60);
  EXPECT_EQ(cells.back(), 180);
  // The gallery side sets every edge's code whatever the cells; the probe
  // side still holds all of them.
  const FingerFeatures f = Load("DB3_B", "105_2.iso");
  EXPECT_EQ(SharedBits(f.EdgeSignature(fold), f.DilatedEdgeSignature(fold)), Bits(f.EdgeSignature(fold)));
  EXPECT_NE(f.EdgeSignature(fold), f.EdgeSignature());
}

TEST(EvaluationTest, ErrorRatesOnKnownScores) {
  // Genuine 5..14, impostor 0..9: at threshold 5, FMR 5/10 = FNMR 0.
  std::vector<float> genuine, impostor;
  for (int i = 0; i < 10; ++i) {
    genuine.push_back(static_cast<float>(i + 5));
    impostor.push_back(static_cast<float>(i));
  }
  ErrorRates r = ComputeErrorRates(genuine, impostor);
  EXPECT_NEAR(r.eer, 0.25, 1e-9);
  EXPECT_NEAR(r.zero_fmr, 0.5, 1e-9);
  EXPECT_EQ(r.genuine, 10u);
  float t = ThresholdForFmr(impostor, 0.2);  // accepts 8 and 9 only
  EXPECT_GT(t, 7.0f);
  EXPECT_LE(t, 8.0f);
}

// FNMR at FMR <= 0.01 %: 10,000 impostors, two of them high (50 and 80).
// At most one may be accepted, so the threshold sits just above 50 and the
// mates 1..50 are rejected; FMR <= 0.1 % allows both (FNMR 0), FMR 0 neither.
TEST(EvaluationTest, ErrorRatesReportFnmrAtOneInTenThousand) {
  std::vector<float> genuine, impostor(9998, 0.0f);
  for (int i = 1; i <= 100; ++i) genuine.push_back(static_cast<float>(i));
  impostor.push_back(50);
  impostor.push_back(80);
  const ErrorRates r = ComputeErrorRates(genuine, impostor);
  EXPECT_NEAR(r.fmr1000, 0.0, 1e-12);
  EXPECT_NEAR(r.fmr10000, 0.50, 1e-12);
  EXPECT_NEAR(r.zero_fmr, 0.80, 1e-12);
}

TEST(EvaluationTest, ObservedFmrCountsImpostorsAtOrAboveEachThreshold) {
  const std::vector<float> impostor = {0, 5, 9.9f, 10, 19, 20, 20, 31, 0, 0};
  const std::vector<ObservedFmr> seen = ObserveFmr(impostor, {10, 20, 30, 40});
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].accepted, 5u);  // 10, 19, 20, 20, 31
  EXPECT_EQ(seen[1].accepted, 3u);
  EXPECT_EQ(seen[2].accepted, 1u);
  EXPECT_EQ(seen[3].accepted, 0u);
  EXPECT_EQ(seen[1].impostors, 10u);
  EXPECT_DOUBLE_EQ(seen[1].fmr(), 0.3);
  EXPECT_NEAR(seen[2].nominal_fmr(), 0.001, 1e-12);
}

TEST(EvaluationTest, PrefilterLossOnRealPrints) {
  auto db1 = LoadFvcDatabase((Fvc() / "DB1_B").string());
  ASSERT_OK(db1);
  auto losses = FvcPrefilterLoss({*db1}, {1.0, 0.5}, 2);
  ASSERT_OK(losses);
  ASSERT_EQ(losses->size(), 2u);
  for (const PrefilterLoss& l : *losses) {
    EXPECT_EQ(l.fingers, 1);
    EXPECT_EQ(l.gallery, 10u);   // impression 1 of each finger
    EXPECT_EQ(l.searches, 70u);  // impressions 2..8
    ASSERT_EQ(l.by_database.size(), 1u);
    EXPECT_EQ(l.by_database[0].searches, 70u);
    EXPECT_EQ(l.by_database[0].lost, l.lost);
  }
  EXPECT_EQ((*losses)[0].lost, 0u);  // 1 keeps everyone
  EXPECT_LE((*losses)[1].lost, 7u);  // the mate is in the better half at least 90 % of the time
  EXPECT_THAT(FvcPrefilterLoss({*db1}, {0.0}, 1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside (0, 1]")));
  EXPECT_THAT(FvcPrefilterLoss({*db1}, {0.1}, 1, 5),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("finger count 5 is outside 1..4")));
  EXPECT_THAT(FvcPrefilterLoss({*db1}, {0.1}, 1, 2), StatusIs(StatusCode::kInvalidArgument, HasSubstr("fewer than 2")));
  EXPECT_THAT(FvcPrefilterLoss({}, {0.1}, 1), StatusIs(StatusCode::kInvalidArgument, HasSubstr("fewer than 2")));
}

// The pre-filter's loss on all of FVC2002 (docs/biometrics.md, "Pre-filter"),
// per database, in-sample (the shipped length cells, fitted on all four
// databases, and a cohort from all four) and out of fold (each held-out group
// searched with length cells and cohort from the other databases). Bounds
// sit at the measured figures: a pre-filter that loses more mates fails here.
TEST(EvaluationTest, PrefilterLossOnAllOfFvc2002OneAndTwoFingers) {
  const std::vector<std::vector<FvcSample>> dbs = AllFvc2002();
  ASSERT_EQ(dbs.size(), 4u);
  const std::vector<double> keeps = {0.05, 0.1, 0.2, 0.3};
  auto one = FvcPrefilterLoss(dbs, keeps, 2, 1);
  ASSERT_OK(one);
  ASSERT_EQ(one->size(), 4u);
  EXPECT_EQ((*one)[1].scorer, PrefilterScorer::kEngine);  // the engine's
  EXPECT_EQ((*one)[1].gallery, 40u);
  EXPECT_EQ((*one)[1].searches, 280u);
  EXPECT_LE((*one)[0].lost, 3u);  // 1.1 % at 5 % kept
  EXPECT_LE((*one)[1].lost, 3u);  // 1.1 % at 10 % kept
  EXPECT_LE((*one)[2].lost, 1u);  // 0.4 % at 20 % kept
  EXPECT_EQ((*one)[3].lost, 0u);
  EXPECT_LE((*one)[1].by_database[2].lost, 2u);  // DB3, the hardest
  // The full matcher, ranking the whole gallery: the pre-filter's reference.
  EXPECT_EQ((*one)[0].matcher_lost, 4u);
  EXPECT_EQ((*one)[1].matcher_lost, 1u);
  EXPECT_EQ((*one)[1].by_database[2].matcher_lost, 1u);  // DB3's, whose mate scores 0
  auto two = FvcPrefilterLoss(dbs, keeps, 2, 2);
  ASSERT_OK(two);
  EXPECT_EQ((*two)[1].gallery, 20u);    // DB1+DB2 and DB3+DB4, 10 fingers each
  EXPECT_EQ((*two)[1].searches, 140u);  // impressions 2..8 of both fingers
  EXPECT_EQ((*two)[1].by_database[1].searches, 0u);  // counted under the pair's first database
  EXPECT_EQ((*two)[0].lost, 0u);  // none from 5 % kept
  EXPECT_EQ((*two)[1].lost, 0u);  // none at 10 % kept
  EXPECT_EQ((*two)[2].lost, 0u);
  EXPECT_EQ((*two)[3].lost, 0u);

  auto one_out = FvcPrefilterLossOutOfFold(dbs, keeps, 2, 1);
  ASSERT_OK(one_out);
  ASSERT_EQ(one_out->size(), 4u);
  EXPECT_EQ((*one_out)[1].gallery, 40u);
  EXPECT_EQ((*one_out)[1].searches, 280u);
  for (size_t d = 0; d < 4; ++d) EXPECT_EQ((*one_out)[1].by_database[d].searches, 70u);
  EXPECT_LE((*one_out)[0].lost, 1u);  // 0.4 % at 5 % kept
  // The target: at most 1 % (2 of 280) at 10 % kept. Measured: none.
  EXPECT_EQ((*one_out)[1].lost, 0u);
  EXPECT_EQ((*one_out)[2].lost, 0u);
  EXPECT_EQ((*one_out)[3].lost, 0u);
  EXPECT_EQ((*one_out)[1].matcher_lost, 1u);  // nothing of the matcher is refitted per fold
  auto two_out = FvcPrefilterLossOutOfFold(dbs, keeps, 2, 2);
  ASSERT_OK(two_out);
  EXPECT_EQ((*two_out)[1].searches, 140u);
  EXPECT_EQ((*two_out)[0].lost, 0u);  // none from 5 % kept
  EXPECT_EQ((*two_out)[1].lost, 0u);  // none at 10 % kept
  EXPECT_EQ((*two_out)[2].lost, 0u);
  EXPECT_EQ((*two_out)[3].lost, 0u);
  // One group of four databases leaves nothing to fit on.
  EXPECT_THAT(FvcPrefilterLossOutOfFold(dbs, {0.1}, 1, 4),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at least 2 groups of 4 databases")));
  EXPECT_THAT(FvcPrefilterLossOutOfFold(dbs, {1.5}, 1, 1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside (0, 1]")));
}

// The plain edge signature's loss on all of FVC2002 (docs/biometrics.md,
// "Pre-filter"), measured beside the engine's sectored one with the same
// protocol and cohort normalisation. Bounds sit at the measured figures: a
// change that loses more mates fails here.
TEST(EvaluationTest, EdgeSignaturePrefilterLossOnAllOfFvc2002OneAndTwoFingers) {
  const std::vector<std::vector<FvcSample>> dbs = AllFvc2002();
  ASSERT_EQ(dbs.size(), 4u);
  const std::vector<double> keeps = {0.05, 0.1, 0.2, 0.3};
  const auto kSignature = PrefilterScorer::kSignature;
  auto one = FvcPrefilterLoss(dbs, keeps, 1, 1, std::nullopt, kSignature);
  ASSERT_OK(one);
  ASSERT_EQ(one->size(), 4u);
  EXPECT_EQ((*one)[1].scorer, kSignature);
  EXPECT_EQ((*one)[1].gallery, 40u);
  EXPECT_EQ((*one)[1].searches, 280u);
  EXPECT_EQ((*one)[1].bytes_per_finger, 514.0);  // 4096 bits and their count
  EXPECT_GT((*one)[1].score_us_per_gallery_finger, 0.0);
  EXPECT_LE((*one)[0].lost, 24u);  // 8.6 % at 5 % kept
  EXPECT_LE((*one)[1].lost, 16u);  // 5.7 % at 10 % kept
  EXPECT_LE((*one)[2].lost, 4u);   // 1.4 % at 20 % kept
  EXPECT_EQ((*one)[3].lost, 0u);
  auto two = FvcPrefilterLoss(dbs, keeps, 1, 2, std::nullopt, kSignature);
  ASSERT_OK(two);
  EXPECT_EQ((*two)[1].searches, 140u);
  EXPECT_LE((*two)[0].lost, 1u);
  EXPECT_EQ((*two)[1].lost, 0u);
  EXPECT_EQ((*two)[2].lost, 0u);
  EXPECT_EQ((*two)[3].lost, 0u);

  auto one_out = FvcPrefilterLossOutOfFold(dbs, keeps, 1, 1, kSignature);
  ASSERT_OK(one_out);
  ASSERT_EQ(one_out->size(), 4u);
  EXPECT_EQ((*one_out)[1].searches, 280u);
  for (size_t d = 0; d < 4; ++d) EXPECT_EQ((*one_out)[1].by_database[d].searches, 70u);
  EXPECT_LE((*one_out)[0].lost, 24u);  // 8.6 % at 5 % kept
  EXPECT_LE((*one_out)[1].lost, 13u);  // 4.6 % at 10 % kept (the engine's sectored: 4)
  EXPECT_LE((*one_out)[2].lost, 4u);   // 1.4 % at 20 % kept
  EXPECT_LE((*one_out)[3].lost, 1u);   // 0.4 % at 30 % kept
  EXPECT_LE((*one_out)[1].by_database[2].lost, 5u);  // DB3
  auto two_out = FvcPrefilterLossOutOfFold(dbs, keeps, 1, 2, kSignature);
  ASSERT_OK(two_out);
  EXPECT_EQ((*two_out)[1].searches, 140u);
  EXPECT_LE((*two_out)[0].lost, 1u);
  EXPECT_EQ((*two_out)[1].lost, 0u);
  EXPECT_EQ((*two_out)[2].lost, 0u);
  EXPECT_EQ((*two_out)[3].lost, 0u);
}

// EvaluateFvc (what `ektp bio eval` prints) agrees with the stages it is
// made of and writes one CSV row per scored pair.
TEST(EvaluationTest, EvaluateFvcReportsEachDatabaseAndWritesEveryPair) {
  std::ostringstream csv;
  FvcEvaluationOptions options;
  options.dir = Fvc().string();
  options.threads = 2;
  options.scores_csv = &csv;
  options.rejects = {0.05};
  auto report = EvaluateFvc(options);
  ASSERT_OK(report);
  ASSERT_EQ(report->databases.size(), 4u);
  EXPECT_EQ(report->databases[2].name, "DB3_B");
  auto db3 = LoadFvcDatabase((Fvc() / "DB3_B").string());
  ASSERT_OK(db3);
  std::vector<float> genuine, impostor;
  for (const ScoredPair& p : ScoreFvcPairs(*db3, 1)) (p.genuine ? genuine : impostor).push_back(p.score);
  EXPECT_EQ(report->databases[2].rates.eer, ComputeErrorRates(genuine, impostor).eer);
  EXPECT_EQ(report->pooled.genuine, 1120u);
  EXPECT_EQ(report->pooled.impostor, 11520u);
  EXPECT_EQ(report->calibration.size(), 5u);
  ASSERT_EQ(report->reject.size(), 1u);
  EXPECT_FALSE(report->cross_validation.has_value());
  const std::string text = csv.str();
  EXPECT_TRUE(text.starts_with("probe,candidate,score\n"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 1120 + 11520);
}

TEST(EvaluationTest, EvaluateFvcRefusesBadSharesBeforeScoring) {
  FvcEvaluationOptions options;
  options.dir = "/nonexistent/fvc";  // never read: the shares are checked first
  options.prefilter_keeps = {0};
  EXPECT_THAT(EvaluateFvc(options), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside (0, 1]")));
  options.prefilter_keeps = {0.1};
  options.prefilter_fingers = {0};
  EXPECT_THAT(EvaluateFvc(options), StatusIs(StatusCode::kInvalidArgument, HasSubstr("finger count 0 is outside 1..4")));
  options.prefilter_keeps = {};
  options.prefilter_fingers = {1, 2};
  options.rejects = {1};
  EXPECT_THAT(EvaluateFvc(options), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside [0, 1)")));
  options.rejects = {};
  EXPECT_THAT(EvaluateFvc(options), StatusIs(StatusCode::kNotFound, HasSubstr("/nonexistent/fvc")));
}

TEST(EvaluationTest, LoadRefusesMissingFolder) {
  EXPECT_THAT(LoadFvcDatabase("/nonexistent/DB9_B"), StatusIs(StatusCode::kNotFound, HasSubstr("DB9_B")));
}

// Accuracy regression guard (not a timing test): FVC2002 DB1_B must stay
// better than bozorth3's 7.86 % EER.
// Issue 4's accuracy targets on FVC2002 (docs/biometrics.md, "Accuracy"):
// each database's EER below the better of the two reference matchers
// (OpenAFIS, bozorth3), pooled EER <= 4 % and FMR1000 <= 10 %. And the
// calibration fitted on these impostor pairs: each threshold's observed FMR
// within a factor of two of its promise (at 40 only two of 11,520 pairs are
// expected, so that is checked as at most 4).
TEST(EvaluationTest, FvcMeetsTheTargetsAndTheCalibration) {
  const std::pair<const char*, double> kBetterReference[] = {
      {"DB1_B", 0.0786}, {"DB2_B", 0.0750}, {"DB3_B", 0.0964}, {"DB4_B", 0.0321}};
  std::vector<float> all_genuine, all_impostor;
  for (const auto& [db, reference_eer] : kBetterReference) {
    auto samples = LoadFvcDatabase((Fvc() / db).string());
    ASSERT_OK(samples);
    ASSERT_EQ(samples->size(), 80u);
    std::vector<float> genuine, impostor;
    for (const ScoredPair& p : ScoreFvcPairs(*samples, 2)) (p.genuine ? genuine : impostor).push_back(p.score);
    EXPECT_EQ(genuine.size(), 280u);
    EXPECT_EQ(impostor.size(), 2880u);
    EXPECT_LT(ComputeErrorRates(genuine, impostor).eer, reference_eer) << db;
    all_genuine.insert(all_genuine.end(), genuine.begin(), genuine.end());
    all_impostor.insert(all_impostor.end(), impostor.begin(), impostor.end());
  }
  const ErrorRates pooled = ComputeErrorRates(all_genuine, all_impostor);
  EXPECT_LE(pooled.eer, 0.04);
  EXPECT_LE(pooled.fmr1000, 0.10);
  for (const ObservedFmr& c : ObserveFmr(all_impostor, {10, 20, 30})) {
    EXPECT_GT(c.fmr(), c.nominal_fmr() / 2) << c.threshold;
    EXPECT_LT(c.fmr(), c.nominal_fmr() * 2) << c.threshold;
  }
  EXPECT_LE(ObserveFmr(all_impostor, {40})[0].accepted, 4u);
}

// Templates that decode but hold nothing comparable score 0, never high.
TEST(MatcherTest, UncomparableTemplatesScoreZero) {
  const FingerFeatures real = Load("DB1_B", "101_1.iso");
  const FingerFeatures none;
  std::vector<Minutia> stacked(20, Minutia{100, -150, 40, kMinutiaEnding});
  for (size_t i = 0; i < stacked.size(); ++i) stacked[i].angle = static_cast<uint8_t>(i * 13);
  const FingerFeatures one_point(stacked);
  EXPECT_EQ(one_point.size(), 20u);
  Matcher matcher;
  for (const FingerFeatures* probe : {&none, &one_point, &real}) {
    for (const FingerFeatures* candidate : {&none, &one_point}) {
      EXPECT_EQ(matcher.Score(PreparedProbe(*probe), *candidate), 0.0f);
      EXPECT_EQ(matcher.Score(PreparedProbe(*candidate), *probe), 0.0f);
    }
  }
}

// The same through the bytes a station or a card would carry: an ISO record
// that decodes but holds no minutiae, all its minutiae on one pixel, a
// declared resolution of zero or of 65,535 px/cm, or minutiae strewn to the
// 14-bit coordinate limit at the lowest resolution accepted. Each is refused
// by FromView naming the problem or scores 0 against a real print, either
// side, and against itself; none crashes.
TEST(MatcherTest, DecodedTemplatesThatCannotBeComparedAreRefusedOrScoreZero) {
  const FingerFeatures real = Load("DB1_B", "101_1.iso");
  auto through_bytes = [](std::vector<RecordMinutia> minutiae, uint16_t resolution) {
    TemplateRecord record;
    record.format = TemplateFormat::kIso19794_2_2005;
    record.width = record.height = 500;
    record.resolution_x = record.resolution_y = resolution;
    FingerView view;
    view.position = 2;
    view.quality = 60;
    view.resolution_x = view.resolution_y = resolution;
    view.minutiae = std::move(minutiae);
    record.views.push_back(std::move(view));
    auto bytes = EncodeTemplate(record);
    EXPECT_OK(bytes);
    auto decoded = DecodeTemplate(*bytes);
    EXPECT_OK(decoded);
    return FingerFeatures::FromView(decoded->views.at(0), decoded->format);
  };
  std::vector<RecordMinutia> one_pixel, strewn;
  for (int i = 0; i < 30; ++i) {
    one_pixel.push_back({kMinutiaEnding, 250, 250, static_cast<uint8_t>(i * 8), 60});
    strewn.push_back({kMinutiaBifurcation, static_cast<uint16_t>((i * 7919) % 16384),
                      static_cast<uint16_t>((i * 104729) % 16384), static_cast<uint8_t>(i * 37), 60});
  }
  Matcher matcher;
  // The strewn record is a print of sorts: it may match itself.
  for (const auto& [name, minutiae, resolution, matches_itself] :
       {std::tuple{"no minutiae", std::vector<RecordMinutia>{}, uint16_t{197}, false},
        std::tuple{"one pixel", one_pixel, uint16_t{197}, false},
        std::tuple{"strewn", strewn, FingerFeatures::kMinResolution, true}}) {
    auto features = through_bytes(minutiae, resolution);
    ASSERT_OK(features) << name;
    EXPECT_EQ(matcher.Score(PreparedProbe(*features), real), 0.0f) << name;
    EXPECT_EQ(matcher.Score(PreparedProbe(real), *features), 0.0f) << name;
    if (!matches_itself) {
      EXPECT_EQ(matcher.Score(PreparedProbe(*features), *features), 0.0f) << name;
    }
  }
  EXPECT_THAT(through_bytes(one_pixel, 0), StatusIs(StatusCode::kInvalidArgument, HasSubstr("zero resolution")));
  EXPECT_THAT(through_bytes(one_pixel, 65535),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("resolution 65535 px/cm")));
}

// Minutiae all on one line (a scanner artefact: a crease, a seam) decode and
// make edges, so the matcher compares them: against every real print of
// FVC2002 they never score high, either side; their capture quality is 0
// (bio/quality.h, no_area), so a station with a minimum refuses them first.
TEST(MatcherTest, MinutiaeOnOneLineNeverScoreHighAgainstRealPrints) {
  FingerView view;
  view.resolution_x = view.resolution_y = 197;
  for (int i = 0; i < 30; ++i) {
    view.minutiae.push_back({i % 2 ? kMinutiaEnding : kMinutiaBifurcation, static_cast<uint16_t>(20 + 9 * i),
                             static_cast<uint16_t>(40 + 12 * i), static_cast<uint8_t>(i * 37), 60});
  }
  auto line = FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005);
  ASSERT_OK(line);
  Matcher matcher;
  const PreparedProbe line_probe(*line);
  float highest = 0;
  for (const char* db : {"DB1_B", "DB2_B", "DB3_B", "DB4_B"}) {
    auto samples = LoadFvcDatabase((Fvc() / db).string());
    ASSERT_OK(samples);
    for (const FvcSample& s : *samples) {
      highest = std::max({highest, matcher.Score(line_probe, s.features), matcher.Score(PreparedProbe(s.features), *line)});
    }
  }
  std::cout << "highest score of a line of minutiae against FVC2002: " << highest << "\n";
  EXPECT_LT(highest, 20);  // nominal FMR 1 %: what an ordinary stranger reaches
}

// A print re-encoded at another declared resolution, its coordinates
// scaled to match (another sensor or extractor), still matches its mate as
// well as the original: FromView brings every view to 500 dpi by the
// resolution it declares.
TEST(MatcherTest, ATemplateReEncodedAtAnotherResolutionStillMatchesItsMate) {
  std::ifstream in(Fvc() / "DB1_B" / "101_1.iso", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto original = DecodeTemplate(bytes);
  ASSERT_OK(original);
  const FingerFeatures mate = Load("DB1_B", "101_2.iso");
  Matcher matcher;
  auto as_is = FingerFeatures::FromView(original->views[0], original->format);
  ASSERT_OK(as_is);
  const float reference = matcher.Score(PreparedProbe(*as_is), mate);
  ASSERT_GT(reference, 30);
  for (uint16_t resolution : {158, 236, 394}) {  // 400, 600 and 1000 dpi
    TemplateRecord record = *original;
    const double scale = static_cast<double>(resolution) / original->views[0].resolution_x;
    record.resolution_x = record.resolution_y = resolution;
    record.width = static_cast<uint16_t>(std::lround(record.width * scale));
    record.height = static_cast<uint16_t>(std::lround(record.height * scale));
    for (FingerView& view : record.views) {
      view.resolution_x = view.resolution_y = resolution;
      for (RecordMinutia& m : view.minutiae) {
        m.x = static_cast<uint16_t>(std::lround(m.x * scale));
        m.y = static_cast<uint16_t>(std::lround(m.y * scale));
      }
    }
    auto encoded = EncodeTemplate(record);
    ASSERT_OK(encoded);
    auto decoded = DecodeTemplate(*encoded);
    ASSERT_OK(decoded);
    auto features = FingerFeatures::FromView(decoded->views[0], decoded->format);
    ASSERT_OK(features);
    EXPECT_NEAR(matcher.Score(PreparedProbe(*features), mate), reference, 3) << resolution << " px/cm";
    EXPECT_NEAR(matcher.Score(PreparedProbe(mate), *features), matcher.Score(PreparedProbe(mate), *as_is), 3)
        << resolution << " px/cm";
  }
}

// A print whose scale is off while its declared resolution is not (another
// sensor's optics or an extractor that rounds differently, as in NIST MINEX):
// every FVC2002 mate pair with the probe's coordinates scaled by s about the
// origin. The matcher's tolerances (edge length 4 px + 10 %, pairing radius
// 12 px + 5 % of the distance from the anchor) absorb +-5 % almost entirely
// and +-10 % mostly (docs/biometrics.md, "Mixed sensors").
TEST(MatcherTest, AMisScaledPrintStillMatchesItsMates) {
  Matcher matcher;
  struct Kept {
    double scale;
    size_t measured;  // of the pairs at >= 30 unscaled, those still >= 30 (deterministic)
    size_t at_least = 0;
  };
  std::vector<Kept> kept = {{0.9, 951}, {0.95, 998}, {1.05, 993}, {1.1, 955}};
  size_t matched = 0;
  for (const char* db : {"DB1_B", "DB2_B", "DB3_B", "DB4_B"}) {
    auto samples = LoadFvcDatabase((Fvc() / db).string());
    ASSERT_OK(samples);
    for (const FvcSample& a : *samples) {
      for (const FvcSample& b : *samples) {
        if (a.finger != b.finger || a.impression >= b.impression) continue;
        if (matcher.Score(PreparedProbe(a.features), b.features) < 30) continue;  // nominal FMR 0.1 %
        ++matched;
        for (Kept& k : kept) {
          std::vector<Minutia> scaled = a.features.Minutiae();
          for (Minutia& m : scaled) {
            m.x *= static_cast<float>(k.scale);
            m.y *= static_cast<float>(k.scale);
          }
          k.at_least += matcher.Score(PreparedProbe(FingerFeatures(scaled)), b.features) >= 30;
        }
      }
    }
  }
  ASSERT_EQ(matched, 1016u);  // of FVC2002's 1,120 mate pairs
  for (const Kept& k : kept) {
    std::cout << "scale " << k.scale << ": " << k.at_least << " of " << matched << " mate pairs still score >= 30\n";
    EXPECT_GE(k.at_least, k.measured) << "scale " << k.scale;  // +-5 %: 98 %, +-10 %: 94 %
  }
}

TEST(MatcherTest, FromViewRefusesAResolutionNoSensorHas) {
  FingerView view;
  view.minutiae = {RecordMinutia{kMinutiaEnding, 10, 10, 0, 60}, RecordMinutia{kMinutiaEnding, 60, 40, 9, 60}};
  view.resolution_x = view.resolution_y = 197;
  ASSERT_OK(FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005));
  view.resolution_y = 0;
  EXPECT_THAT(FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("zero resolution")));
  for (uint16_t absurd : {uint16_t{1}, uint16_t{38}, uint16_t{788}, uint16_t{65535}}) {
    view.resolution_y = absurd;
    EXPECT_THAT(FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("resolution " + std::to_string(absurd) + " px/cm")));
  }
  view.resolution_x = view.resolution_y = 394;  // 1000 dpi: within range
  EXPECT_OK(FingerFeatures::FromView(view, TemplateFormat::kIso19794_2_2005));
}

TEST(EvaluationTest, ErrorVersusRejectDropsThePairsOfTheWorstTemplates) {
  // Finger 1: templates 0 (poor) and 1; finger 2: templates 2 and 3.
  std::vector<FvcSample> samples(4);
  const double qualities[] = {5, 60, 70, 80};
  for (size_t i = 0; i < 4; ++i) {
    samples[i].finger = i < 2 ? 1 : 2;
    samples[i].quality = qualities[i];
  }
  const std::vector<ScoredPair> pairs = {{0, 1, 1, true},  {2, 3, 50, true}, {0, 2, 30, false},
                                         {0, 3, 2, false}, {1, 2, 3, false}, {1, 3, 4, false}};
  auto curve = ErrorVersusReject({{&samples, &pairs, "DB"}}, {0.0, 0.25});
  ASSERT_OK(curve);
  ASSERT_EQ(curve->size(), 2u);
  EXPECT_EQ((*curve)[0].templates_removed, 0u);
  EXPECT_EQ((*curve)[0].rates.genuine, 2u);
  EXPECT_GT((*curve)[0].rates.eer, 0.2);  // the poor template's mate scores below an impostor
  EXPECT_EQ((*curve)[1].templates_removed, 1u);
  EXPECT_EQ((*curve)[1].rates.genuine, 1u);
  EXPECT_EQ((*curve)[1].rates.impostor, 2u);
  EXPECT_EQ((*curve)[1].rates.eer, 0);
  EXPECT_THAT(ErrorVersusReject({{&samples, &pairs, "DB"}}, {1.0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside [0, 1)")));
}

// References computed independently by bisecting the exact binomial sum.
TEST(EvaluationTest, ClopperPearsonUpperMatchesTheBinomialSum) {
  EXPECT_NEAR(ClopperPearsonUpper(0, 100, 0.95), 0.0295130, 1e-6);
  EXPECT_NEAR(ClopperPearsonUpper(3, 8640, 0.95), 0.000897167, 1e-8);
  EXPECT_NEAR(ClopperPearsonUpper(10, 100, 0.95), 0.163718, 1e-5);
  EXPECT_NEAR(ClopperPearsonUpper(1, 2880, 0.95), 0.00164610, 1e-7);
  EXPECT_EQ(ClopperPearsonUpper(5, 5, 0.95), 1.0);
}

// Impostor scores at exact quantiles of the nominal law: n * 10^(-s/10)
// of them reach s.
std::vector<float> NominalImpostors(size_t n) {
  std::vector<float> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<float>(-10 * std::log10((static_cast<double>(i) + 0.5) / static_cast<double>(n))));
  }
  return out;
}

TEST(EvaluationTest, CalibrationBoundsTheObservedFmrFromAbove) {
  const std::vector<float> impostor = NominalImpostors(10000);
  const FmrCalibration c = FmrCalibration::Fit({impostor});
  EXPECT_EQ(c.impostors(), 10000u);
  EXPECT_EQ(c.shift(), 0.0f);  // one database: no shift to estimate
  EXPECT_NEAR(c.CountFloor(), ClopperPearsonUpper(0, 10000, 0.95), 1e-12);
  double previous = 1;
  for (float s = 0; s < 60; s += 0.05f) {
    const double bound = c.FmrBound(s);
    EXPECT_LE(bound, previous) << s;  // non-increasing
    previous = bound;
    const double observed = ObserveFmr(impostor, {s})[0].fmr();
    EXPECT_GE(bound, observed) << s;
  }
  // Counts support 1 % and 0.1 % at 10,000 pairs; 0.01 % lies in the
  // extrapolated tail, whose slope stays within the nominal 0.1 decade per point.
  for (double fmr : {1e-2, 1e-3}) {
    const float t = c.ThresholdForFmr(fmr);
    EXPECT_LE(t, c.tail_start()) << fmr;
    EXPECT_LE(c.FmrBound(t), fmr);
    EXPECT_GT(c.FmrBound(t - 0.01f), fmr);
    EXPECT_LE(ObserveFmr(impostor, {t})[0].fmr(), fmr);
  }
  EXPECT_GT(c.ThresholdForFmr(1e-4), c.tail_start());
  EXPECT_GT(c.tail_slope(), 0.05);
  EXPECT_LE(c.tail_slope(), 0.1);
  // Conservative: the bound at a nominal score is above the nominal rate,
  // so the margin is positive.
  EXPECT_GT(c.FmrBound(30), 1e-3);
  // Margin(slope) is the exact maximum of slope * s - ConservativeScore(s):
  // no score on a fine grid exceeds it, and the grid comes within 0.01 of it.
  for (float slope : {c.EvidenceSlope(), 0.5f}) {
    const float margin = c.Margin(slope);
    float sampled = 0;
    for (int i = 0; i <= 20000; ++i) {
      const float s = static_cast<float>(i) / 100;
      sampled = std::max(sampled, slope * s - c.ConservativeScore(s));
    }
    EXPECT_LE(sampled, margin + 1e-3f) << slope;
    EXPECT_GT(sampled, margin - 0.01f) << slope;
  }
  EXPECT_FLOAT_EQ(c.ConservativeScore(30), static_cast<float>(-10 * std::log10(c.FmrBound(30))));
}

// Three databases whose impostors sit 0, 2 and 4 points apart: shifts with
// sd 2 against the pool, whose top shares lean on the highest database
// (mean -0.32), so a new one is predicted up to
// -0.32 + 2.920 * 2 * sqrt(4/3) = 6.42 points above the pool.
TEST(EvaluationTest, CalibrationAllowsForANewDatabaseShiftedLikeTheOthers) {
  std::vector<std::vector<float>> databases;
  for (float offset : {0.0f, 2.0f, 4.0f}) {
    std::vector<float> db = NominalImpostors(3000);
    for (float& s : db) s += offset;
    databases.push_back(std::move(db));
  }
  const FmrCalibration c = FmrCalibration::Fit(databases);
  EXPECT_NEAR(c.shift(), 6.42, 0.1);
  EXPECT_EQ(c.impostors(), 9000u);
  const FmrCalibration unshifted = FmrCalibration::Fit({databases[1]});
  EXPECT_GT(c.ThresholdForFmr(1e-2), unshifted.ThresholdForFmr(1e-2) + 5);
}

std::vector<ScoredDatabase> ScoreFvc() {
  std::vector<ScoredDatabase> out;
  for (const char* db : {"DB1_B", "DB2_B", "DB3_B", "DB4_B"}) {
    auto samples = LoadFvcDatabase((Fvc() / db).string());
    EXPECT_OK(samples);
    ScoredDatabase scored{db, {}, {}};
    for (const ScoredPair& p : ScoreFvcPairs(*samples, 2)) (p.genuine ? scored.genuine : scored.impostor).push_back(p.score);
    out.push_back(std::move(scored));
  }
  return out;
}

// Issue 17's out-of-sample guard: leave one FVC2002 database out, fit the
// calibration on the other three, and on the held-out one the threshold for
// each nominal FMR (1 %, 0.1 %, 0.01 %) accepts at most that share of
// impostor pairs, in every fold and pooled. At 8,640 training pairs the
// counts support 1 % and 0.1 %; 0.01 % comes from the extrapolated tail.
TEST(EvaluationTest, CrossValidationHoldsTheNominalFmrOutOfFold) {
  auto cv = CrossValidate(ScoreFvc());
  ASSERT_OK(cv);
  ASSERT_EQ(cv->folds.size(), 4u);
  const double kBetterReference[] = {0.0786, 0.0750, 0.0964, 0.0321};
  for (size_t i = 0; i < 4; ++i) {
    const Fold& f = cv->folds[i];
    EXPECT_EQ(f.training_impostors, 8640u);
    EXPECT_LT(f.rates.eer, kBetterReference[i]) << f.held_out;
    ASSERT_EQ(f.checks.size(), 3u);
    for (const ThresholdCheck& c : f.checks) {
      EXPECT_EQ(c.impostors, 2880u);
      EXPECT_LE(c.fmr(), c.nominal_fmr) << f.held_out << " at " << c.nominal_fmr;
    }
    EXPECT_TRUE(f.checks[0].supported_by_counts);
    EXPECT_TRUE(f.checks[1].supported_by_counts);
    EXPECT_FALSE(f.checks[2].supported_by_counts) << f.held_out;
  }
  for (const ThresholdCheck& c : cv->pooled_checks) {
    EXPECT_EQ(c.impostors, 11520u);
    EXPECT_LE(c.fmr(), c.nominal_fmr) << c.nominal_fmr;
  }
  // 2,880 held-out impostor pairs tell only 1 %; the 11,520 pooled ones
  // also 0.1 %; 0.01 % no fold or pool here can tell.
  for (const Fold& f : cv->folds) {
    EXPECT_TRUE(f.checks[0].enough_impostors()) << f.held_out;
    EXPECT_FALSE(f.checks[1].enough_impostors()) << f.held_out;
    EXPECT_FALSE(f.checks[2].enough_impostors()) << f.held_out;
  }
  EXPECT_TRUE(cv->pooled_checks[0].enough_impostors());
  EXPECT_TRUE(cv->pooled_checks[1].enough_impostors());
  EXPECT_FALSE(cv->pooled_checks[2].enough_impostors());
  // The out-of-fold figures achieved (docs/biometrics.md, "Accuracy"), each
  // guarded just above: EER 3.43 %, FNMR at FMR 1 % / 0.1 % / 0.01 % of
  // 4.64 / 10.27 / 14.82 %, and at the calibrated thresholds 9.73 / 15.18 / 23.93 %.
  EXPECT_LE(cv->pooled.eer, 0.035);
  EXPECT_LE(cv->pooled.fmr100, 0.05);
  EXPECT_LE(cv->pooled.fmr1000, 0.11);
  EXPECT_LE(cv->pooled.fmr10000, 0.155);
  EXPECT_LE(cv->pooled_checks[0].fnmr(), 0.10);
  EXPECT_LE(cv->pooled_checks[1].fnmr(), 0.16);
  EXPECT_LE(cv->pooled_checks[2].fnmr(), 0.245);
}

// Central's dedupe and the station's hand-over check convert FMR targets
// through kCalibrationSlope and kCalibrationMargin (fusion.h). One finger's
// conservative impostor probability must never fall below the bound of the
// calibration fitted on all of FVC2002, at any score up to 400 (far into the
// extrapolated tail, where a constant margin falls short), and both
// constants are the fit's, rounded the safe way.
TEST(EvaluationTest, ProductionCalibrationBoundsTheFvcFitAtEveryScore) {
  std::vector<std::vector<float>> impostor;
  for (const ScoredDatabase& db : ScoreFvc()) impostor.push_back(db.impostor);
  const FmrCalibration c = FmrCalibration::Fit(impostor);
  EXPECT_LE(kCalibrationSlope, c.EvidenceSlope());
  EXPECT_GT(kCalibrationSlope, c.EvidenceSlope() - 0.01f);
  EXPECT_LE(c.Margin(kCalibrationSlope), kCalibrationMargin);
  EXPECT_GT(c.Margin(kCalibrationSlope), kCalibrationMargin - 1);
  double worst_ratio = 2;
  float worst_at = 0;
  for (int i = 0; i <= 40000; ++i) {
    const float s = static_cast<float>(i) / 100;
    const double ratio = ConservativeImpostorProbability(s, 1) / c.FmrBound(s);
    if (ratio < worst_ratio) worst_ratio = ratio, worst_at = s;
  }
  EXPECT_GE(worst_ratio, 1.0) << "at score " << worst_at;
}

// The chance of any false match in a search of N comparisons is
// 1 - (1 - f)^N, and the 1:N threshold solves it for f: at a target of 0.5
// over 2 comparisons f = 1 - sqrt(0.5) = 0.2929 (not 0.5 / 2 = 0.25).
TEST(FusionTest, GalleryThresholdSolvesTheChanceOfAnyFalseMatch) {
  EXPECT_NEAR(AnyFalseMatchProbability(0.25, 2), 0.4375, 1e-12);
  EXPECT_NEAR(AnyFalseMatchProbability(1e-9, 1e6), -std::expm1(-1e-3), 1e-12);  // 1 - e^(-Nf) for small f
  EXPECT_EQ(AnyFalseMatchProbability(1, 5), 1.0);
  const float t = ConservativeThreshold(0.5, 1, 2);
  EXPECT_FLOAT_EQ(t, ConservativeThreshold(1 - std::sqrt(0.5), 1));
  EXPECT_LE(AnyFalseMatchProbability(ConservativeImpostorProbability(t, 1), 2), 0.5);
  EXPECT_GT(AnyFalseMatchProbability(ConservativeImpostorProbability(t - 0.01f, 1), 2), 0.5);
  EXPECT_LT(t, ConservativeThreshold(0.25, 1));
  // Per finger, evidence kCalibrationSlope * s - kCalibrationMargin: at
  // 1:1 and 0.1 %, (30 + 5) / 0.66 = 53.03, rounded up to the hundredth.
  EXPECT_FLOAT_EQ(ConservativeThreshold(1e-3, 1), 53.04f);
  EXPECT_EQ(ConservativeThreshold(1, 3), 0.0f);
}

// Whether a held-out fold can tell: none of n accepted bounds the FMR at
// 1 - 0.05^(1/n), which is at most 0.1 % from n = 2,995 pairs on.
TEST(EvaluationTest, ThresholdCheckSaysWhenThereAreTooFewImpostorsToTell) {
  ThresholdCheck check;
  check.nominal_fmr = 1e-3;
  check.impostors = 2994;
  EXPECT_FALSE(check.enough_impostors());
  check.impostors = 2995;
  EXPECT_TRUE(check.enough_impostors());
  EXPECT_NEAR(check.fmr_upper(), ClopperPearsonUpper(0, 2995, 0.95), 1e-15);
  check.impostors_accepted = 1;
  EXPECT_NEAR(check.fmr_upper(), ClopperPearsonUpper(1, 2995, 0.95), 1e-15);
  EXPECT_FALSE(ThresholdCheck{}.enough_impostors());
  EXPECT_EQ(ThresholdCheck{}.fmr_upper(), 1.0);
}

TEST(EvaluationTest, CrossValidateRefusesWhatItCannotFold) {
  const ScoredDatabase a{"A", {50, 60}, {1, 2, 3}}, b{"B", {40}, {0, 5}}, empty{"C", {}, {1}};
  EXPECT_THAT(CrossValidate({a}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("at least 2")));
  EXPECT_THAT(CrossValidate({a, empty}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("database C")));
  EXPECT_THAT(CrossValidate({a, b}, {0.0}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside (0, 1)")));
  auto cv = CrossValidate({a, b}, {0.5});
  ASSERT_OK(cv);
  EXPECT_EQ(cv->folds[1].held_out, "B");
  EXPECT_EQ(cv->folds[1].training_impostors, 3u);
}

}  // namespace
}  // namespace ektp::bio

// ---- The matcher's stages and kernels (bio-internal headers) ----
namespace ektp::bio {
namespace {

// Real prints (DB3 is the hardest database) and perturbed copies with
// minutiae off the print: the inputs every kernel test runs on.
std::vector<FingerFeatures> KernelTestFingers() {
  auto samples = LoadFvcDatabase((Fvc() / "DB3_B").string());
  EXPECT_OK(samples);
  std::vector<FingerFeatures> fingers;
  for (const auto& s : *samples) fingers.push_back(s.features);
  fingers.push_back(Perturb(fingers[0], 30, 300, -200, 7));
  fingers.push_back(Perturb(fingers[9], -60, -150, 120, 8));
  return fingers;
}

// Runs kernels `a` and `b` on the same inputs, stage by stage, for every
// third finger as probe against every finger: the look-alike scan, the
// choice of hypotheses and the pairing under each hypothesis must agree
// exactly. `paired` counts the pairings compared.
void ExpectKernelsAgree(const Kernels& a, const Kernels& b, const std::vector<FingerFeatures>& fingers, int& paired) {
  auto votes = std::make_unique<VoteTable>();
  auto near_a = std::make_unique<NearestBuffers>(), near_b = std::make_unique<NearestBuffers>();
  for (size_t i = 0; i < fingers.size(); i += 3) {
    const PreparedProbe prepared(fingers[i]);
    const ProbeView probe = ProbeView::Of(prepared);
    for (const FingerFeatures& c : fingers) {
      const FeaturesView cand = FeaturesView::Of(c);
      const size_t bound = cand.edges.size() * probe.max_cell + params::kScanPad;
      std::vector<EdgePair> pairs_a(bound), pairs_b(bound);
      const ScanArgs scan{cand.edges, probe.cell_start, probe.cell_words};
      const size_t n = a.scan(scan, pairs_a.data());
      ASSERT_EQ(b.scan(scan, pairs_b.data()), n) << i;
      ASSERT_TRUE(std::equal(pairs_a.begin(), pairs_a.begin() + n, pairs_b.begin())) << i;
      if (n == 0) continue;
      votes->Begin();
      votes->Tally(pairs_a.data(), n);
      std::vector<uint16_t> support_a(n + kSupportPad);
      votes->Supports(pairs_a.data(), n, support_a.data());
      std::vector<uint16_t> support_b = support_a;
      TopEntries top_a, top_b;
      const size_t h = a.top_supported(support_a.data(), n, top_a);
      ASSERT_EQ(b.top_supported(support_b.data(), n, top_b), h) << i;
      ASSERT_EQ(support_a, support_b) << i;  // the same entries zeroed
      for (size_t k = 0; k < h; ++k) {
        ASSERT_EQ(top_a[k].index, top_b[k].index) << i;
        ASSERT_EQ(top_a[k].support, top_b[k].support) << i;
        const Transform t = EdgePairAlignment(probe.features, cand, pairs_a[top_a[k].index]);
        const size_t live = a.nearest(probe.features, cand, t, *near_a);
        ASSERT_EQ(b.nearest(probe.features, cand, t, *near_b), live) << i;
        for (size_t j = 0; j < live; ++j) {
          ASSERT_EQ(near_a->idx[j], near_b->idx[j]) << i;
          ASSERT_EQ(near_a->best_k[j], near_b->best_k[j]) << i;
          ASSERT_EQ(std::bit_cast<uint32_t>(near_a->best_d2[j]), std::bit_cast<uint32_t>(near_b->best_d2[j])) << i;
        }
        ++paired;
      }
    }
  }
}

bool CpuHasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// The AVX2 kernels against the scalar ones, called directly on the same
// inputs, then whole comparisons by a Matcher of each kind. On a CPU without
// AVX2 there is nothing to compare: the test says so on stdout and in the
// test report (property avx2_kernels), checks that a default Matcher then
// runs the scalar kernels, and fails only when EKTP_REQUIRE_AVX2 is set (for
// a machine that is meant to have it). The scalar kernels are checked
// against references on every CPU (the tests below).
TEST(MatcherKernelsTest, Avx2KernelsEqualScalarOnTheSameInputs) {
  const Kernels* avx2 = Avx2Kernels();
  if (avx2 == nullptr) {
    EXPECT_FALSE(CpuHasAvx2()) << "the CPU has AVX2 but no AVX2 kernels were built";
    EXPECT_STREQ(Matcher().kernel_name(), "scalar");
    RecordProperty("avx2_kernels", "NOT COMPARED: this CPU has no AVX2");
    std::cout << "[   NOTE   ] this CPU has no AVX2: the AVX2 kernels were NOT compared with the scalar ones here\n";
    if (std::getenv("EKTP_REQUIRE_AVX2") != nullptr) ADD_FAILURE() << "EKTP_REQUIRE_AVX2 is set but this CPU has no AVX2";
    return;
  }
  RecordProperty("avx2_kernels", "compared");
  EXPECT_STREQ(avx2->name, "avx2");
  const std::vector<FingerFeatures> fingers = KernelTestFingers();
  int paired = 0;
  ExpectKernelsAgree(ScalarKernels(), *avx2, fingers, paired);
  EXPECT_GT(paired, 100);  // the pairing kernels ran, not only the early exit

  Matcher fast(MatcherKernel::kAuto), scalar(MatcherKernel::kScalar);
  ASSERT_STREQ(fast.kernel_name(), "avx2");
  ASSERT_STREQ(scalar.kernel_name(), "scalar");
  for (size_t i = 0; i < fingers.size(); i += 3) {
    PreparedProbe probe(fingers[i]);
    for (const FingerFeatures& c : fingers) {
      const MatchDetail x = fast.Compare(probe, c), y = scalar.Compare(probe, c);
      ASSERT_EQ(std::bit_cast<uint32_t>(x.raw), std::bit_cast<uint32_t>(y.raw)) << i;
      ASSERT_EQ(x.pairs, y.pairs) << i;
      ASSERT_EQ(x.probe_overlap, y.probe_overlap) << i;
      ASSERT_EQ(x.candidate_overlap, y.candidate_overlap) << i;
    }
  }
}

// The hypothesis choice of every available kernel set against a stable sort.
TEST(MatcherKernelsTest, TopSupportedMatchesAStableSort) {
  std::vector<const Kernels*> kernels = {&ScalarKernels()};
  if (Avx2Kernels() != nullptr) kernels.push_back(Avx2Kernels());
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + rng() % 300;
    std::vector<uint16_t> support(n + kSupportPad, 0);
    // Few distinct values, so ties are common; some rounds below kMinSupport.
    const int top_value = round % 4 == 0 ? params::kMinSupport - 1 : 40;
    for (size_t i = 0; i < n; ++i) support[i] = static_cast<uint16_t>(2 + rng() % (top_value - 1));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return support[x] > support[y]; });
    const size_t want = support[order[0]] < params::kMinSupport ? 1 : std::min(n, params::kHypotheses);
    for (const Kernels* k : kernels) {
      std::vector<uint16_t> s = support;
      TopEntries top;
      ASSERT_EQ(k->top_supported(s.data(), n, top), want) << k->name << " round " << round;
      for (size_t h = 0; h < want; ++h) {
        EXPECT_EQ(top[h].index, order[h]) << k->name << " round " << round;
        EXPECT_EQ(top[h].support, support[order[h]]) << k->name << " round " << round;
        EXPECT_EQ(s[order[h]], 0) << k->name;
      }
    }
  }
}

// Each kernel set's pairing against a plain one that tries every probe
// minutia (no bounding-box pre-filter): the pre-filter drops only minutiae
// without a partner, and every kept one gets the same nearest candidate.
TEST(MatcherKernelsTest, NearestMatchesABruteForceReference) {
  std::vector<const Kernels*> kernels = {&ScalarKernels()};
  if (Avx2Kernels() != nullptr) kernels.push_back(Avx2Kernels());
  const std::vector<FingerFeatures> fingers = KernelTestFingers();
  auto buffers = std::make_unique<NearestBuffers>();
  int kept_total = 0, dropped_total = 0;
  for (size_t i = 0; i + 1 < fingers.size(); i += 7) {
    const FeaturesView probe = FeaturesView::Of(fingers[i]), cand = FeaturesView::Of(fingers[i + 1]);
    for (int rot : {0, 20, 240}) {
      Transform t;
      SetRotation(t, std::cos(rot * 2 * kPi / 256), std::sin(rot * 2 * kPi / 256));
      t.dx = 15;
      t.dy = -10;
      t.ax = cand.x[0];
      t.ay = cand.y[0];
      std::vector<int> want(probe.size, -1);
      for (size_t p = 0; p < probe.size; ++p) {
        const float x = t.c * probe.x[p] - t.s * probe.y[p] + t.dx, y = t.s * probe.x[p] + t.c * probe.y[p] + t.dy;
        const float r = params::kPairRadius + params::kPairRadiusSlope * std::hypot(x - t.ax, y - t.ay);
        float best = r * r;
        for (size_t k = 0; k < cand.size; ++k) {
          const float d2 = (cand.x[k] - x) * (cand.x[k] - x) + (cand.y[k] - y) * (cand.y[k] - y);
          const uint8_t direction = static_cast<uint8_t>(probe.angle[p] + t.rot);
          if (d2 < best && AngleDiff(cand.angle[k], direction) <= params::kPairAngleTol) {
            best = d2;
            want[p] = static_cast<int>(k);
          }
        }
      }
      for (const Kernels* k : kernels) {
        const size_t live = k->nearest(probe, cand, t, *buffers);
        std::vector<bool> kept(probe.size, false);
        for (size_t j = 0; j < live; ++j) {
          kept[buffers->idx[j]] = true;
          EXPECT_EQ(buffers->best_k[j], want[buffers->idx[j]]) << k->name << " probe minutia " << buffers->idx[j];
        }
        for (size_t p = 0; p < probe.size; ++p) {
          if (!kept[p]) {
            EXPECT_EQ(want[p], -1) << k->name << " dropped probe minutia " << p << " has a partner";
          }
        }
        kept_total += static_cast<int>(live);
        dropped_total += static_cast<int>(probe.size - live);
      }
    }
  }
  EXPECT_GT(kept_total, 100);
  EXPECT_GT(dropped_total, 0);  // the pre-filter was exercised
}

// Every look-alike the scan reports passes the tolerance test written
// plainly, and no edge pair is reported twice.
TEST(MatcherKernelsTest, ScanReportsOnlyLookAlikesOnce) {
  std::vector<const Kernels*> kernels = {&ScalarKernels()};
  if (Avx2Kernels() != nullptr) kernels.push_back(Avx2Kernels());
  const std::vector<FingerFeatures> fingers = KernelTestFingers();
  size_t reported = 0;
  for (size_t i = 0; i + 1 < fingers.size(); i += 5) {
    const PreparedProbe prepared(fingers[i]);
    const ProbeView probe = ProbeView::Of(prepared);
    const FeaturesView cand = FeaturesView::Of(fingers[i + 1]);
    auto edge_of = [](const FeaturesView& f, unsigned from, unsigned to) {
      for (const auto& e : f.edges) {
        if (e.from == from && e.to == to) return &e;
      }
      return static_cast<const FeaturesView::Edge*>(nullptr);
    };
    for (const Kernels* k : kernels) {
      std::vector<EdgePair> pairs(cand.edges.size() * probe.max_cell + params::kScanPad);
      const size_t n = k->scan({cand.edges, probe.cell_start, probe.cell_words}, pairs.data());
      std::vector<EdgePair> seen(pairs.begin(), pairs.begin() + n);
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << k->name;
      for (size_t p = 0; p < n; ++p) {
        const unsigned from = pairs[p] & 0xffff, to = pairs[p] >> 16;
        const auto* pe = edge_of(probe.features, from / 64, to / 64);
        const auto* ce = edge_of(cand, from % 64, to % 64);
        ASSERT_NE(pe, nullptr);
        ASSERT_NE(ce, nullptr);
        EXPECT_LE(std::abs(pe->length - ce->length), LenTol(ce->length)) << k->name;
        EXPECT_LE(AngleDiff(pe->alpha, ce->alpha), params::kAlphaTol) << k->name;
        EXPECT_LE(AngleDiff(pe->beta, ce->beta), params::kBetaTol) << k->name;
      }
      reported += n;
    }
  }
  EXPECT_GT(reported, 1000u);
}

// The arctangent behind every rotation: its largest error against
// std::atan2 (modulo a full turn) over 2^20 + 1 evenly spaced tangents in
// every octant is within the bound transform.h states.
TEST(MatcherStagesTest, PolynomialArctangentIsWithinItsStatedError) {
  double worst = 0;
  constexpr int kSteps = 1 << 20;
  for (int step = 0; step <= kSteps; ++step) {
    const float q = static_cast<float>(step) / kSteps;
    for (int octant = 0; octant < 8; ++octant) {
      const float a = (octant & 1) ? q : 1.0f, b = (octant & 1) ? 1.0f : q;
      const float x = (octant & 2) ? -a : a, y = (octant & 4) ? -b : b;
      const double error = std::remainder(double{PolynomialAtan2(y, x)} - std::atan2(double{y}, double{x}), 2 * M_PI);
      worst = std::max(worst, std::fabs(error));
    }
  }
  std::cout << "[   NOTE   ] largest |PolynomialAtan2 - atan2|: " << worst << " rad\n";
  RecordProperty("polynomial_atan2_max_error_rad", std::to_string(worst));
  EXPECT_LE(worst, kPolynomialAtan2MaxError);
  EXPECT_GT(worst, kPolynomialAtan2MaxError / 4);  // the stated bound is tight, not a loose guess
  EXPECT_EQ(UnitsOf(0, 0), 0);
  EXPECT_EQ(UnitsOf(1, 0), 64);    // a quarter turn
  EXPECT_EQ(UnitsOf(0, -1), 128);  // a half turn
}

}  // namespace
}  // namespace ektp::bio
