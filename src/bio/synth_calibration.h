// Calibration of the synthetic model (bio/synth.h) against real FVC-style
// databases (docs/biometrics.md, "Calibration of the synthetic model").
//
// A synthetic database is `fingers` fingers x `impressions` impressions of
// SynthGenerator(seed, params), one finger position, scored with the FVC
// protocol as `bio eval` scores a folder (bio/evaluation.h). It is compared
// with the pooled genuine and impostor scores of target databases by the
// distance of the two score distributions:
//   loss = KS(genuine) + KS(impostor) + |ln(EER ratio)| / 4
//          + |ln(ratio of impostors scoring >= 20)| / 4
// (KS: the Kolmogorov-Smirnov distance, the largest gap between the two
// cumulative distributions; ratios floored at 1e-4 against empty tails).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bio/evaluation.h"
#include "bio/synth.h"
#include "core/status.h"

namespace ektp::bio {

struct ScoreSet {
  std::vector<float> genuine, impostor;
};

// Scores an FVC-style synthetic database (see above).
// REQUIRES: fingers >= 2, impressions >= 2, threads >= 1.
ScoreSet ScoreSynthetic(const SynthParams& params, uint64_t seed, int fingers, int impressions, int threads);

// The largest gap between the empirical cumulative distributions of a and b
// (0 when equal, 1 when disjoint). REQUIRES: both non-empty.
double KsDistance(std::vector<float> a, std::vector<float> b);

struct DistributionComparison {
  ErrorRates candidate, target;
  double ks_genuine = 0, ks_impostor = 0;
  double candidate_impostor_20 = 0, target_impostor_20 = 0;  // share of impostors >= 20
  double loss = 0;
};
// REQUIRES: every vector non-empty.
DistributionComparison CompareScores(const ScoreSet& candidate, const ScoreSet& target);

// The fields of SynthParams the search moves, by name.
const std::vector<std::string>& FittedSynthParams();
// Reads / writes one field by its name in SynthParams (as above); false for
// an unknown name.
bool SetSynthParam(SynthParams& params, const std::string& name, float value);
bool GetSynthParam(const SynthParams& params, const std::string& name, float* value);

struct SynthFitOptions {
  uint64_t seed = 1;
  int fingers = 100;
  int impressions = 8;
  int rounds = 3;         // coordinate-search rounds; each halves the step
  float first_step = 0.3f;  // first relative step (x 1.3 / x 0.7)
  int threads = 1;
};
struct SynthFitStep {
  std::string param;  // "" for the starting point
  float value = 0;
  double loss = 0;
};
struct SynthFit {
  SynthParams params;
  DistributionComparison comparison;  // of the fitted params with the target
  std::vector<SynthFitStep> accepted;  // the starting point, then each improvement
  int evaluations = 0;
};
// Coordinate search from `start` minimising the loss against `target`: each
// round tries every fitted parameter at x(1 + step) and x(1 - step)
// (polarity_coherence and the rates clamped to [0, 1]), keeps any
// improvement, then halves the step. Deterministic for given options.
// Errors: kInvalidArgument for an empty target or options out of range.
StatusOr<SynthFit> FitSynthParams(const ScoreSet& target, const SynthParams& start, const SynthFitOptions& options);

// Histograms on the score axis: bins [0, width), [width, 2 width), ...,
// the last open-ended; each the share of the scores in it.
std::vector<double> ScoreHistogram(const std::vector<float>& scores, float width, int bins);

}  // namespace ektp::bio
