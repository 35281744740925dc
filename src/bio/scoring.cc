#include "bio/scoring.h"

#include <algorithm>

#include "bio/matcher_params.h"

namespace ektp::bio {

using namespace params;

float WeightedPairs(const Pairing& pairing, size_t candidate_size, const VoteTable& votes) {
  float support = 0;
  for (size_t k = 0; k < candidate_size; ++k) {
    if (pairing.owner[k] < 0) continue;
    const int v = votes.Votes(static_cast<size_t>(pairing.owner[k]), k);
    support += kSupBase + (1 - kSupBase) * std::min(v, kSupCap) / float(kSupCap);
  }
  return support;
}

float RawSimilarity(float m, const Overlap& overlap) {
  const float a = std::max({static_cast<float>(overlap.probe_in), m, kMinDen});
  const float b = std::max({static_cast<float>(overlap.candidate_in), m, kMinDen});
  return m * m / (a * b) * std::min(1.0f, m / kFullM);
}

}  // namespace ektp::bio
