// The refinement stage: the least-squares rigid alignment of a pairing
// (bio-internal).
#pragma once

#include "bio/features_view.h"
#include "bio/pairing.h"
#include "bio/transform.h"

namespace ektp::bio {

// The rotation and translation that best map the paired probe minutiae onto
// their candidate minutiae in the least-squares sense, anchored at the
// candidate pairs' centroid. REQUIRES: pairing.pairs >= 1.
Transform RefineLeastSquares(const FeaturesView& probe, const FeaturesView& candidate, const Pairing& pairing);

}  // namespace ektp::bio
