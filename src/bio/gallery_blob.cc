// The gallery blob of FingerFeatures: minutia count (u8), then per minutia
// x and -y in quarter pixels (u16 big-endian each, clamped to 0..65535),
// angle (1/256 turn) and type: 1 + 6 n bytes. Edges and area are rebuilt on
// load.
#include <algorithm>
#include <cmath>
#include <string>

#include "bio/matcher.h"

namespace ektp::bio {

std::vector<uint8_t> FingerFeatures::Serialize() const {
  std::vector<uint8_t> out;
  out.reserve(1 + 6 * size());
  out.push_back(static_cast<uint8_t>(size()));
  for (size_t i = 0; i < size(); ++i) {
    int x = std::clamp(static_cast<int>(std::lround(x_[i] * 4)), 0, 0xffff);
    int y = std::clamp(static_cast<int>(std::lround(-y_[i] * 4)), 0, 0xffff);
    out.push_back(static_cast<uint8_t>(x >> 8));
    out.push_back(static_cast<uint8_t>(x));
    out.push_back(static_cast<uint8_t>(y >> 8));
    out.push_back(static_cast<uint8_t>(y));
    out.push_back(angle_[i]);
    out.push_back(type_[i]);
  }
  return out;
}

StatusOr<FingerFeatures> FingerFeatures::Deserialize(std::span<const uint8_t> blob) {
  if (blob.empty()) return DataLoss("empty finger features blob");
  size_t n = blob[0];
  if (n > kMaxMinutiae || blob.size() != 1 + 6 * n) {
    return DataLoss("finger features blob of " + std::to_string(blob.size()) + " bytes does not hold " +
                    std::to_string(n) + " minutiae");
  }
  std::vector<Minutia> m(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = blob.data() + 1 + 6 * i;
    m[i].x = ((p[0] << 8) | p[1]) / 4.0f;
    m[i].y = -(((p[2] << 8) | p[3]) / 4.0f);
    m[i].angle = p[4];
    m[i].type = p[5];
  }
  return FingerFeatures(m);
}

}  // namespace ektp::bio
