#include "bio/neighbour_edges.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "bio/angle_units.h"

namespace ektp::bio {

std::vector<NeighbourEdge> NeighbourEdges(const float* x, const float* y, const uint8_t* angle, size_t n, size_t k) {
  using params::kMaxEdge;
  using params::kMinEdge;
  std::vector<NeighbourEdge> out;
  out.reserve(n * k);
  // The k nearest so far, as (squared distance, index), kept in ascending
  // order by insertion: cheaper than sorting all n for k this small.
  std::array<std::pair<float, uint8_t>, kMaxNeighbours> near;
  for (size_t i = 0; i < n; ++i) {
    size_t kept = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const float dx = x[j] - x[i], dy = y[j] - y[i];
      const float d2 = dx * dx + dy * dy;
      if (d2 < kMinEdge * kMinEdge || d2 > kMaxEdge * kMaxEdge) continue;
      const std::pair<float, uint8_t> entry{d2, static_cast<uint8_t>(j)};
      if (kept == k && !(entry < near[k - 1])) continue;
      size_t at = kept < k ? kept++ : k - 1;
      for (; at > 0 && entry < near[at - 1]; --at) near[at] = near[at - 1];
      near[at] = entry;
    }
    for (size_t e = 0; e < kept; ++e) {
      const size_t j = near[e].second;
      NeighbourEdge edge;
      edge.from = static_cast<uint8_t>(i);
      edge.to = static_cast<uint8_t>(j);
      edge.length = static_cast<uint8_t>(std::min(255L, std::lround(std::sqrt(near[e].first))));
      edge.alpha = static_cast<uint8_t>(ToUnits(std::atan2(y[j] - y[i], x[j] - x[i])) - angle[i]);
      edge.beta = static_cast<uint8_t>(angle[j] - angle[i]);
      out.push_back(edge);
    }
  }
  return out;
}

}  // namespace ektp::bio
