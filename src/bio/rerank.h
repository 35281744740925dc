// The 1:N re-ranking stage between the pre-filter signature and the full
// matcher (docs/biometrics.md, "Pre-filter"): a cheap geometric-consistency
// score for a probe finger against a gallery finger.
//
// The score is the matcher's first stage truncated: its look-alike edge
// pairs (the same scan kernel) that another look-alike confirms (the
// matcher's vote table: a shared correspondence), each turned into the rigid
// alignment it implies (rotation from the two minutiae's directions,
// translation of the probe's box centre), counted in a rotation x
// translation histogram; the score is the chance significance of the
// fullest cell. A mate's look-alikes agree on one alignment, a
// stranger's scatter. No pairing, refinement or overlap: a fraction of a
// full comparison's cost, and not calibrated (only its order matters).
//
// Thread-safety: Reranker keeps per-thread scratch space: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "bio/matcher.h"

namespace ektp::bio {

class Reranker {
 public:
  // kAuto uses the AVX2 scan when available; both give identical scores.
  explicit Reranker(MatcherKernel kernel = MatcherKernel::kAuto);
  ~Reranker();
  Reranker(const Reranker&) = delete;
  Reranker& operator=(const Reranker&) = delete;

  // -log10 of the chance that a stranger's look-alike edge pairs fill the
  // fullest cell of the alignment histogram as full (rerank.cc); 0 when
  // either side has fewer than 3 minutiae or there are no look-alikes.
  float Score(const PreparedProbe& probe, const FingerFeatures& candidate);

 private:
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace ektp::bio
