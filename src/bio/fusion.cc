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
  return FusedImpostorProbability(score - static_cast<float>(fingers) * kCalibrationMargin, fingers);
}

float ConservativeThreshold(double max_rate, int fingers, double comparisons) {
  // ConservativeImpostorProbability falls as the score rises: bisect over hundredths.
  int low = 0, high = 100000 * std::max(1, fingers);
  while (low < high) {
    const int mid = low + (high - low) / 2;
    if (ConservativeImpostorProbability(static_cast<float>(mid) / 100, fingers) * comparisons <= max_rate) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return static_cast<float>(low) / 100;
}

}  // namespace ektp::bio
