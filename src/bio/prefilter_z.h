// The edge signature's pre-filter evidence (bio-internal; docs/biometrics.md,
// "Pre-filter"): InMemoryAbis's scan and the evaluation's fused scorer.
#pragma once

#include <bit>
#include <cmath>

#include "bio/matcher.h"

namespace ektp::bio {

// Pre-filter evidence that a gallery finger (signature `g`, `g_bits` bits
// set) mates a probe finger (dilated signature `p`, a share `p_density` of
// all bits set): the hits beyond what chance gives, in standard deviations
// of a binomial count. Chance alone gives about 0, a mate several units.
inline float PrefilterZ(int hits, float p_density, int g_bits) {
  const float expected = static_cast<float>(g_bits) * p_density;
  return (static_cast<float>(hits) - expected) / std::sqrt(expected * (1 - p_density) + 1);
}

inline int SignatureBits(const FingerFeatures::Signature& s) {
  int bits = 0;
  for (uint64_t w : s) bits += std::popcount(w);
  return bits;
}

// PrefilterZ of gallery signature `g` for the dilated probe signature `p`.
inline float SignatureZ(const FingerFeatures::Signature& p, const FingerFeatures::Signature& g) {
  int hits = 0;
  for (size_t w = 0; w < p.size(); ++w) hits += std::popcount(p[w] & g[w]);
  return PrefilterZ(hits, static_cast<float>(SignatureBits(p)) / FingerFeatures::kSignatureBits, SignatureBits(g));
}

}  // namespace ektp::bio
