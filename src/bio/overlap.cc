#include "bio/overlap.h"

#include <algorithm>
#include <cmath>

#include "bio/matcher_params.h"

namespace ektp::bio {
namespace {

using params::kAreaCell;
using params::kAreaCells;

// The cell of (x, y) in the captured-area grid of the print with bounding
// box `box`; off the grid when either index lies outside [0, kAreaCells).
struct AreaCell {
  int column, row;
};
AreaCell AreaCellOf(const float* box, float x, float y) {
  constexpr float kCell = kAreaCell;
  return {static_cast<int>(std::floor((x - box[0]) / kCell + 1.5f)),
          static_cast<int>(std::floor((y - box[1]) / kCell + 1.5f))};
}

bool InCapturedArea(const FeaturesView::Area& area, const float* box, float x, float y) {
  const AreaCell c = AreaCellOf(box, x, y);
  constexpr auto kCells = static_cast<unsigned>(kAreaCells);
  if (static_cast<unsigned>(c.column) >= kCells || static_cast<unsigned>(c.row) >= kCells) return false;
  return (area[static_cast<size_t>(c.row)] >> c.column) & 1;
}

}  // namespace

FeaturesView::Area CapturedArea(const float* x, const float* y, size_t n, const float* box) {
  // Occupied cells (clamped so the dilation stays on the grid), then each
  // widened to its neighbours: one row up and down, one column each side.
  constexpr int kLast = kAreaCells - 2;
  FeaturesView::Area occupied{}, area{};
  for (size_t i = 0; i < n; ++i) {
    const AreaCell c = AreaCellOf(box, x[i], y[i]);
    occupied[static_cast<size_t>(std::min(c.row, kLast))] |= uint32_t{1} << std::min(c.column, kLast);
  }
  for (int r = 1; r <= kLast; ++r) {
    const uint32_t wide = occupied[r] | occupied[r] << 1 | occupied[r] >> 1;
    area[r - 1] |= wide;
    area[r] |= wide;
    area[r + 1] |= wide;
  }
  return area;
}

Overlap CountOverlap(const FeaturesView& probe, const FeaturesView& cand, const Transform& t) {
  Overlap o;
  for (size_t i = 0; i < probe.size; ++i) {
    const float x = t.c * probe.x[i] - t.s * probe.y[i] + t.dx;
    const float y = t.s * probe.x[i] + t.c * probe.y[i] + t.dy;
    o.probe_in += InCapturedArea(*cand.area, cand.box, x, y);
  }
  for (size_t k = 0; k < cand.size; ++k) {
    const float qx = cand.x[k] - t.dx, qy = cand.y[k] - t.dy;
    const float x = t.c * qx + t.s * qy;
    const float y = -t.s * qx + t.c * qy;
    o.candidate_in += InCapturedArea(*probe.area, probe.box, x, y);
  }
  return o;
}

}  // namespace ektp::bio
