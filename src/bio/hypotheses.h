// The hypothesis stage: alignments proposed by the best-supported look-alike
// edge pairs (bio-internal; the choice of pairs is Kernels::top_supported).
#pragma once

#include "bio/features_view.h"
#include "bio/kernels.h"
#include "bio/transform.h"

namespace ektp::bio {

// The alignment that turns the probe edge of `pair` into its candidate edge:
// rotation from the two edge vectors, translation and anchor from their
// midpoints.
Transform EdgePairAlignment(const FeaturesView& probe, const FeaturesView& candidate, EdgePair pair);

// True when a and b are one alignment: within kSameRotation and kSameShift.
// The strongest edge pairs usually come from one true alignment, so the
// rough pass tries only the first of each.
bool SameAlignment(const Transform& a, const Transform& b);

}  // namespace ektp::bio
