// A rigid alignment of the probe onto the candidate (bio-internal).
#pragma once

#include <cstdint>

namespace ektp::bio {

// (x, y) -> (c x - s y + dx, s x + c y + dy): rotation by `rot` angle units,
// then translation. (ax, ay) is the anchor in the candidate's frame, where
// the pairing radius is smallest.
struct Transform {
  float c = 1, s = 0, dx = 0, dy = 0;
  uint8_t rot = 0;
  float ax = 0, ay = 0;
};

// atan2(y, x) in radians from a degree-11 odd polynomial on the octant;
// 0 for (0, 0). Its error against std::atan2 is at most
// kPolynomialAtan2MaxError (MatcherStagesTest.PolynomialArctangentIsWithinItsStatedError).
float PolynomialAtan2(float y, float x);
inline constexpr float kPolynomialAtan2MaxError = 2e-6f;  // radians (measured: 1.97e-6)

// Direction of the vector (x, y) in angle units: ToUnits(PolynomialAtan2(y,
// x)), which differs from ToUnits(std::atan2(y, x)) only for directions
// within the error above of a rounding boundary.
uint8_t UnitsOf(float y, float x);

// Sets t's rotation to the direction of the vector (dot, cross): cosine and
// sine by normalising the vector (no sincos), angle units from UnitsOf. A
// zero vector gives no rotation.
void SetRotation(Transform& t, float dot, float cross);

}  // namespace ektp::bio
