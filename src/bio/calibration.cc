// The nominal calibration of the matcher's raw similarity.
#include <algorithm>
#include <iterator>

#include "bio/matcher.h"

namespace ektp::bio {

// Calibration: points (raw * 100, -10 * log10(FMR)) measured on the 11,520
// FVC2002 impostor pairs (docs/biometrics.md, "Calibration"). Beyond the last
// measured point (FMR 1e-4) the tail is extrapolated at 2 score points per
// raw point.
float CalibrateRaw(float raw) {
  static constexpr float kTable[][2] = {{0, 0},       {2.19f, 3},   {4.26f, 7},   {5.93f, 10},
                                        {7.80f, 13},  {10.17f, 17}, {12.02f, 20}, {13.53f, 23},
                                        {16.53f, 27}, {18.00f, 30}, {20.16f, 33}, {22.03f, 37},
                                        {22.89f, 40}};
  const float r = raw * 100.0f;
  constexpr size_t n = std::size(kTable);
  if (r >= kTable[n - 1][0]) return std::min(100.0f, kTable[n - 1][1] + 2.0f * (r - kTable[n - 1][0]));
  for (size_t i = 1; i < n; ++i) {
    if (r < kTable[i][0]) {
      float f = (r - kTable[i - 1][0]) / (kTable[i][0] - kTable[i - 1][0]);
      return kTable[i - 1][1] + f * (kTable[i][1] - kTable[i - 1][1]);
    }
  }
  return kTable[n - 1][1];
}

}  // namespace ektp::bio
