// The overlap stage: each print's captured area, and how many minutiae of
// one print fall inside the other's under an alignment (bio-internal).
//
// The captured area is a grid of kAreaCells x kAreaCells cells of kAreaCell
// (32) px whose origin lies 1.5 cells below and left of the minutiae's
// bounding box, so it moves with the print wherever the print lies in its
// image and the margin beyond the outermost minutiae is 1.5 cells on average
// on every side. A cell counts when it or one of its 8 neighbours holds a
// minutia. It spans prints up to (kAreaCells - 2.5) * kAreaCell = 944 px
// (48 mm at 500 dpi) across; minutiae beyond count in the last usable cell.
#pragma once

#include <cstddef>

#include "bio/features_view.h"
#include "bio/transform.h"

namespace ektp::bio {

// The captured area of the n minutiae (x, y) with bounding box `box`.
FeaturesView::Area CapturedArea(const float* x, const float* y, size_t n, const float* box);

struct Overlap {
  int probe_in = 0;      // probe minutiae inside the candidate's captured area, once aligned by t
  int candidate_in = 0;  // candidate minutiae inside the probe's captured area, aligned back
};
Overlap CountOverlap(const FeaturesView& probe, const FeaturesView& candidate, const Transform& t);

}  // namespace ektp::bio
