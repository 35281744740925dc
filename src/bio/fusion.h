// Score fusion over several fingers, and the thresholds that follow from a
// target false-match rate. Used by central's dedupe (1:N) and by the
// station's hand-over check (1:1). docs/biometrics.md, "Calibration".
//
// Thread-safety: pure functions.
#pragma once

namespace ektp::bio {

// The highest calibrated score one finger can have (Matcher::Score clamps to
// [0, 100]), so k fingers fuse to at most k times it.
inline constexpr float kMaxFingerScore = 100;

// How likely k independent impostor fingers are to reach a fused (summed)
// calibrated score of `score`, if each finger's score s has
// P(impostor >= s) = 10^(-s/10): the Gamma(k) tail. 1 for k <= 0.
double FusedImpostorProbability(float score, int fingers);

// The conservative counterpart, through the production calibration
// (evaluation.h): each finger's evidence is at least kCalibrationSlope * s -
// kCalibrationMargin, and that evidence e has P(impostor >= e) <= 10^(-e/10),
// so impostor fingers' evidence is dominated by nominal scores and the fused
// score `score` of `fingers` fingers by the Gamma tail at
// kCalibrationSlope * score - fingers * kCalibrationMargin.
double ConservativeImpostorProbability(float score, int fingers);

// The chance that a search of `comparisons` independent comparisons, each a
// false match with probability `per_comparison`, finds at least one:
// 1 - (1 - per_comparison)^comparisons.
double AnyFalseMatchProbability(double per_comparison, double comparisons);

// The lowest fused score of `fingers` fingers, to 0.01, at which
// AnyFalseMatchProbability(ConservativeImpostorProbability(score, fingers),
// comparisons) <= max_rate: with comparisons = 1, the 1:1 threshold for a
// false-match rate; with a gallery's size N, the 1:N threshold for the
// chance of any false match per search (per comparison
// 1 - (1 - max_rate)^(1/N), about max_rate / N).
float ConservativeThreshold(double max_rate, int fingers, double comparisons = 1);

}  // namespace ektp::bio
