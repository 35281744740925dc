// FingerFeatures: a template view reduced to what the matcher compares
// (minutiae, nearest-neighbour edges, captured area).
#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>

#include "bio/edge_grid.h"
#include "bio/matcher.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"
#include "bio/overlap.h"

namespace ektp::bio {

FingerFeatures::FingerFeatures(std::span<const Minutia> minutiae) {
  const size_t n = std::min(minutiae.size(), kMaxMinutiae);
  n_ = static_cast<uint8_t>(n);
  // Padded to a whole number of SIMD blocks with minutiae far outside any
  // print, so the pairing kernel never needs a tail loop.
  const size_t padded = (n + params::kBlock - 1) / params::kBlock * params::kBlock;
  x_.assign(padded, params::kFarAway);
  y_.assign(padded, params::kFarAway);
  angle_.assign(padded, 0);
  type_.assign(padded, 0);
  for (size_t i = 0; i < n; ++i) {
    x_[i] = minutiae[i].x;
    y_[i] = minutiae[i].y;
    angle_[i] = minutiae[i].angle;
    type_[i] = minutiae[i].type;
  }
  Build();
}

StatusOr<FingerFeatures> FingerFeatures::FromView(const FingerView& view, TemplateFormat format) {
  if (view.resolution_x == 0 || view.resolution_y == 0) {
    return InvalidArgument("finger view has zero resolution; cannot scale minutiae");
  }
  for (uint16_t r : {view.resolution_x, view.resolution_y}) {
    if (r < kMinResolution || r > kMaxResolution) {
      return InvalidArgument("finger view resolution " + std::to_string(r) + " px/cm is outside " +
                             std::to_string(kMinResolution) + ".." + std::to_string(kMaxResolution) +
                             " (100..2000 dpi); cannot scale minutiae");
    }
  }
  const float sx = 197.0f / view.resolution_x;
  const float sy = 197.0f / view.resolution_y;
  const bool ansi = format == TemplateFormat::kAnsi378_2004 || format == TemplateFormat::kAnsi378_2009 ||
                    format == TemplateFormat::kAnsi378_2009Am1;
  // Highest quality first, so the cap at kMaxMinutiae drops the worst ones.
  // Over the cap, equal qualities go nearest to the centroid first, so the
  // record loses its rim (where spurious minutiae crowd), not whichever part
  // of the print its list happens to end with.
  const auto& minutiae = view.minutiae;
  auto quality = [&](size_t i) {
    const uint8_t v = minutiae[i].quality;
    return v > 100 ? 50 : v;  // 254, 255: not reported, failed (19794-2:2011)
  };
  double cx = 0, cy = 0;
  for (const RecordMinutia& m : minutiae) {
    cx += m.x * sx / static_cast<double>(minutiae.size());
    cy += m.y * sy / static_cast<double>(minutiae.size());
  }
  auto off_centre = [&](size_t i) {
    const double dx = minutiae[i].x * sx - cx, dy = minutiae[i].y * sy - cy;
    return dx * dx + dy * dy;
  };
  const bool over_cap = minutiae.size() > kMaxMinutiae;
  std::vector<size_t> order(minutiae.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (quality(a) != quality(b)) return quality(a) > quality(b);
    return over_cap && off_centre(a) < off_centre(b);
  });
  std::vector<Minutia> out;
  for (size_t idx : order) {
    const RecordMinutia& m = view.minutiae[idx];
    Minutia f;
    f.x = m.x * sx;
    f.y = -(m.y * sy);  // y up, so angles are counter-clockwise as in the standards
    f.angle = ansi ? static_cast<uint8_t>((m.angle * 2 * 256 / 360) & 0xff) : m.angle;
    f.type = m.type;
    out.push_back(f);
  }
  return FingerFeatures(out);
}

std::vector<Minutia> FingerFeatures::Minutiae() const {
  std::vector<Minutia> out(size());
  for (size_t i = 0; i < size(); ++i) out[i] = {x_[i], y_[i], angle_[i], type_[i]};
  return out;
}

void FingerFeatures::Build() {
  const size_t n = size();
  edges_.clear();
  if (n > 0) {
    box_[0] = *std::min_element(x_.begin(), x_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[1] = *std::min_element(y_.begin(), y_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[2] = *std::max_element(x_.begin(), x_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[3] = *std::max_element(y_.begin(), y_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  area_ = CapturedArea(x_.data(), y_.data(), n, box_);
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), n, params::kNeighbours)) {
    edges_.push_back({e.from, e.to, e.length, e.alpha, e.beta, static_cast<uint16_t>(CellOf(e.length, e.alpha, e.beta))});
  }
}

size_t FingerFeatures::MemoryBytes() const {
  return sizeof(*this) + x_.capacity() * 8 + angle_.capacity() * 2 + edges_.capacity() * sizeof(Edge);
}

}  // namespace ektp::bio
