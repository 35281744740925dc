// Angles in the matcher's units: 1/256 turn, wrapping in a uint8_t
// (bio-internal).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace ektp::bio {

inline constexpr float kPi = 3.14159265358979f;
inline constexpr float kUnitsPerRadian = 256.0f / (2 * kPi);

// Nearest unit to `radians`, modulo 256.
inline uint8_t ToUnits(float radians) {
  const int u = static_cast<int>(std::lround(radians * kUnitsPerRadian));
  return static_cast<uint8_t>(u & 0xff);
}

// |a - b| the short way round: 0..128.
inline int AngleDiff(uint8_t a, uint8_t b) { return std::abs(static_cast<int>(static_cast<int8_t>(a - b))); }

}  // namespace ektp::bio
