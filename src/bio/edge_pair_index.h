// Edge-pair codes, the pre-filter's second evidence (docs/biometrics.md,
// "Pre-filter"). The edge signature (sectored_signature.h) counts single
// edges a probe shares with a gallery finger; a stranger shares many by
// chance, because one edge descriptor is common. Two edges from the same
// minutia, to two of its params::kPairNeighbours nearest neighbours (the
// matcher's own neighbourhood), fix a minutia's local structure: a mate
// keeps some of these pairs, a stranger almost never shares one.
//
// A pair's code is its two edge codes (signature_codes.h, 4,096 each),
// smaller first: 24 bits, exact on the gallery side; the probe side holds
// every pair within a mated pair's noise of both edges, among its
// params::kPairProbeNeighbours nearest (spurious minutiae may crowd a mated
// pair's neighbours out of the nearest few). The gallery keeps
// its codes in an inverted index, so a search touches only the gallery
// codes in the buckets the probe sets, not every finger.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bio/matcher.h"

namespace ektp::bio {

inline constexpr int kEdgePairCodeBits = 24;

// The gallery side of `f`: its distinct pair codes, sorted.
std::vector<uint32_t> EdgePairCodes(const FingerFeatures& f, const FingerFeatures::LengthCells& cells);

// The probe side of `f`: every pair code within a mated pair's noise (both
// edges dilated by params::kPairLenTol, kPairAlphaTol, kPairBetaTol), its
// edges to any of a minutia's params::kPairProbeNeighbours nearest.
class EdgePairProbe {
 public:
  // `with_set` false keeps only codes() (what the cohort needs).
  static EdgePairProbe Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells, bool with_set = true);
  // Sorted, distinct.
  std::span<const uint32_t> codes() const { return codes_; }
  // Share of all 2^24 codes the probe sets.
  float density() const;
  // REQUIRES: built with_set.
  bool Has(uint32_t code) const { return (set_[code >> 6] >> (code & 63)) & 1; }
  // The probe's codes in bucket `bucket` (code >> 8) as 4 words of 64 bits.
  // REQUIRES: built with_set.
  const uint64_t* BucketMask(uint32_t bucket) const { return &set_[bucket * 4]; }

 private:
  std::vector<uint32_t> codes_;
  std::vector<uint64_t> set_;  // 2^24 bits (2 MB), when built with_set
};

// Evidence that a gallery finger with `gallery_codes` pair codes, `hits` of
// them set by the probe, mates it: z = (hits - n d) / sqrt(n d (1 - d) + 1)
// with n the gallery codes and d the probe's density.
float EdgePairZ(size_t hits, size_t gallery_codes, float density);

// Every gallery finger's pair codes, inverted: bucket b (a code's top 16
// bits) lists (finger << 8 | the code's low 8 bits) for every finger holding
// a code in it. Append-only; fingers are numbered 0, 1, ... in Add order.
class EdgePairIndex {
 public:
  static constexpr uint32_t kMaxFingers = 1u << 24;
  // REQUIRES: finger < kMaxFingers, `codes` distinct.
  void Add(uint32_t finger, std::span<const uint32_t> codes);
  // hits[f] += how many of finger f's codes `probe` has, for every finger.
  // REQUIRES: probe built with_set; hits.size() > every finger added.
  void CountHits(const EdgePairProbe& probe, std::span<uint16_t> hits) const;
  size_t Bytes() const;

 private:
  std::vector<std::vector<uint32_t>> buckets_;  // 2^16 once a finger is added
};

// The probe sides of a cohort of prints (cohort_norm.h), to score a gallery
// finger against all of them in one pass: each cohort code as (its low 8
// bits << 8 | the print's index), grouped by bucket (the code's top 16 bits).
class EdgePairCohort {
 public:
  static constexpr size_t kMaxPrints = 256;
  EdgePairCohort();
  size_t size() const { return density_.size(); }
  // REQUIRES: size() < kMaxPrints.
  void Add(const EdgePairProbe& print);
  // EdgePairZ of `gallery_codes` against each print, in Add order, into `out`.
  void Evidence(std::span<const uint32_t> gallery_codes, std::vector<float>& out) const;
  size_t Bytes() const;

 private:
  std::vector<uint32_t> bucket_end_;  // entries of buckets 0..b end at bucket_end_[b]
  std::vector<uint16_t> entries_;
  std::vector<float> density_;
};

}  // namespace ektp::bio
