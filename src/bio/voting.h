// The voting stage: look-alike edge pairs vote for the minutia
// correspondences at their two ends (bio-internal).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "bio/kernels.h"

namespace ektp::bio {

// Votes per correspondence (probe minutia * 64 + candidate minutia). Each
// count carries the comparison that counted it (a 16-bit tag), so no
// comparison clears what the previous one counted; the table is cleared when
// the tag wraps. A count stays below 2^16: a probe and a candidate minutia
// share at most 5 x 5 edge pairs as origins and 63 x 63 as ends, each voting
// once. Not thread-safe (a Matcher's scratch).
class VoteTable {
 public:
  // Starts a comparison: every earlier count reads as zero from now on.
  void Begin();
  // Each pair votes once for each of its two correspondences.
  void Tally(const EdgePair* pairs, size_t n);
  // support[i]: the votes of pairs[i]'s two correspondences, capped at
  // 0xffff, then kSupportPad zeros. REQUIRES: Tally(pairs, n) in this comparison.
  void Supports(const EdgePair* pairs, size_t n, uint16_t* support) const;
  // Votes counted for the correspondence in this comparison.
  int Votes(size_t probe_minutia, size_t candidate_minutia) const;

 private:
  std::array<uint32_t, kMaxM * kMaxM> votes_{};
  uint32_t tag_ = 0;  // the current comparison's tag, in the high 16 bits
};

}  // namespace ektp::bio
