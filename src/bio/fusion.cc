#include "bio/fusion.h"

#include <algorithm>
#include <cmath>

#include "bio/evaluation.h"

namespace ektp::bio {

double FusedImpostorProbability(float score, int fingers) {
  double x = std::max(0.0f, score) * std::log(10.0) / 10.0;
  double term = 1, sum = 1;
  for (int j = 1; j < fingers; ++j) {
    term *= x / j;
    sum += term;
  }
  return std::min(1.0, std::exp(-x) * sum);
}

double ConservativeImpostorProbability(float score, int fingers) {
  return FusedImpostorProbability(kCalibrationSlope * score - static_cast<float>(fingers) * kCalibrationMargin, fingers);
}

double AnyFalseMatchProbability(double per_comparison, double comparisons) {
  if (per_comparison >= 1) return 1;
  return -std::expm1(comparisons * std::log1p(-per_comparison));
}

float ConservativeThreshold(double max_rate, int fingers, double comparisons) {
  if (max_rate >= 1) return 0;
  const double per_comparison = -std::expm1(std::log1p(-max_rate) / std::max(1.0, comparisons));
  // ConservativeImpostorProbability falls as the score rises: bisect over hundredths.
  int low = 0, high = 100000 * std::max(1, fingers);
  while (low < high) {
    const int mid = low + (high - low) / 2;
    if (ConservativeImpostorProbability(static_cast<float>(mid) / 100, fingers) <= per_comparison) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return static_cast<float>(low) / 100;
}

}  // namespace ektp::bio
