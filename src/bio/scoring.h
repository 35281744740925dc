// The scoring stage: the raw similarity of the best pairing (bio-internal;
// CalibrateRaw in calibration.cc turns it into the score).
#pragma once

#include "bio/overlap.h"
#include "bio/pairing.h"
#include "bio/voting.h"

namespace ektp::bio {

// The pairs weighted by their local edge support: each counts kSupBase +
// (1 - kSupBase) * min(votes, kSupCap) / kSupCap, so a pair no edge pair
// voted for counts half.
float WeightedPairs(const Pairing& pairing, size_t candidate_size, const VoteTable& votes);

// m^2 / (max(a, m, kMinDen) * max(b, m, kMinDen)) * min(1, m / kFullM), with
// m the weighted pairs and a, b the minutiae of each side inside the other's
// captured area: the share of the common area's minutiae that pair up,
// discounted when there are few pairs.
float RawSimilarity(float weighted_pairs, const Overlap& overlap);

}  // namespace ektp::bio
