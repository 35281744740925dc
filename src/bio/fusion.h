// Score fusion over several fingers, and the thresholds that follow from a
// target false-match rate. Used by central's dedupe (1:N) and by the
// station's hand-over check (1:1). docs/biometrics.md, "Calibration".
//
// Thread-safety: pure functions.
#pragma once

namespace ektp::bio {

// How likely k independent impostor fingers are to reach a fused (summed)
// calibrated score of `score`, if each finger's score s has
// P(impostor >= s) = 10^(-s/10): the Gamma(k) tail. 1 for k <= 0.
double FusedImpostorProbability(float score, int fingers);

// FusedImpostorProbability after taking kCalibrationMargin (evaluation.h)
// off every finger's score. The conservative calibration fitted on FVC2002
// bounds each finger's P(impostor >= s) by 10^(-(s - margin)/10), so
// impostor fingers are dominated by nominal ones shifted by the margin and
// their sum by the Gamma tail at score - fingers * margin.
double ConservativeImpostorProbability(float score, int fingers);

// The lowest fused score of `fingers` fingers, to 0.01, at which
// ConservativeImpostorProbability(score, fingers) * comparisons <= max_rate:
// with comparisons = 1, the 1:1 threshold for a false-match rate; with a
// gallery's size, the 1:N threshold for false positives per search.
float ConservativeThreshold(double max_rate, int fingers, double comparisons = 1);

}  // namespace ektp::bio
