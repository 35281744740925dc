// Edges from each minutia to its nearest neighbours, shared by the matcher's
// features and the pre-filter signature (bio-internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bio/matcher_params.h"

namespace ektp::bio {

// An edge from minutia `from` to one of its nearest neighbours `to`: length
// in px (capped at 255), direction relative to `from`'s angle (alpha) and
// the neighbour's angle relative to `from`'s (beta), in angle units. All
// three are invariant to rotation and translation.
struct NeighbourEdge {
  uint8_t from, to, length, alpha, beta;
};

inline constexpr size_t kMaxNeighbours = params::kSignatureNeighbours;
static_assert(params::kNeighbours <= kMaxNeighbours, "the matcher's edges come from NeighbourEdges");

// Edges from each of the n minutiae to its `k` nearest neighbours between
// kMinEdge and kMaxEdge px, nearest first per minutia (equal distances: the
// lower index first). So the edges for a smaller k are a prefix of each
// minutia's edges for a larger one. REQUIRES: k <= kMaxNeighbours.
std::vector<NeighbourEdge> NeighbourEdges(const float* x, const float* y, const uint8_t* angle, size_t n, size_t k);

}  // namespace ektp::bio
