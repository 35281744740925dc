#include "bio/transform.h"

#include <algorithm>
#include <cmath>

#include "bio/angle_units.h"

namespace ektp::bio {

float PolynomialAtan2(float y, float x) {
  const float ax = std::fabs(x), ay = std::fabs(y);
  const float big = std::max(ax, ay), small = std::min(ax, ay);
  if (big == 0) return 0;
  const float q = small / big, q2 = q * q;
  float r = q * (0.99997726f +
                 q2 * (-0.33262347f + q2 * (0.19354346f + q2 * (-0.11643287f + q2 * (0.05265332f + q2 * -0.01172120f)))));
  if (ay > ax) r = kPi / 2 - r;
  if (x < 0) r = kPi - r;
  if (y < 0) r = -r;
  return r;
}

uint8_t UnitsOf(float y, float x) { return ToUnits(PolynomialAtan2(y, x)); }

void SetRotation(Transform& t, float dot, float cross) {
  const float norm = std::sqrt(dot * dot + cross * cross);
  t.c = norm > 0 ? dot / norm : 1.0f;
  t.s = norm > 0 ? cross / norm : 0.0f;
  t.rot = UnitsOf(cross, dot);
}

}  // namespace ektp::bio
