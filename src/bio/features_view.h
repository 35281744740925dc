// Read-only views of FingerFeatures and PreparedProbe for the matcher's
// stages (bio-internal; the public types keep their data private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bio/matcher.h"

namespace ektp::bio {

struct FeaturesView {
  using Edge = FingerFeatures::Edge;
  using Area = decltype(FingerFeatures::area_);

  // Minutiae as structure of arrays; x, y and angle hold a multiple of
  // params::kBlock entries, the first `size` real.
  const float* x;
  const float* y;
  const uint8_t* angle;
  size_t size;
  std::span<const Edge> edges;
  const Area* area;
  const float* box;  // x0, y0, x1, y1

  static FeaturesView Of(const FingerFeatures& f) {
    return {f.x_.data(), f.y_.data(), f.angle_.data(), f.size(), f.edges_, &f.area_, f.box_};
  }
};

struct ProbeView {
  FeaturesView features;
  const uint16_t* cell_start;  // PreparedProbe::cell_start_
  const uint32_t* cell_words;  // PreparedProbe::cell_words_
  size_t max_cell;

  static ProbeView Of(const PreparedProbe& p) {
    return {FeaturesView::Of(p.features_), p.cell_start_.data(), p.cell_words_.data(), p.max_cell_};
  }
};

}  // namespace ektp::bio
