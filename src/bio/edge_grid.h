// The edge look-alike test and the hash grid that narrows it (bio-internal).
//
// A probe edge (l1, a1, b1) and a candidate edge (l2, a2, b2) are look-alikes
// when |l1 - l2| <= LenTol(l2), |a1 - a2| <= kAlphaTol and |b1 - b2| <=
// kBetaTol (angles modulo 256). Each test is (x1 + tol - x2) mod 256 <= 2 tol,
// which for lengths is exact too because edge lengths lie in [kMinEdge,
// kMaxEdge] (so |l1 - l2| + tol < 256 - 2 tol). The three tests run at once
// on 9-bit lanes (bits 0, 9, 18) of a 32-bit word: the probe side is
// EdgeTestWord, the candidate side its EdgeOffset and EdgeLimit (a lane's sum
// stays below 512 and its difference above 0, so lanes never carry into each
// other). The probe edge's EdgeEndsWord holds from * 64 and to * 64 (16 bits
// each): adding the candidate's from and to gives the two vote indexes of the
// edge pair in one addition.
//
// PreparedProbe spreads each probe edge over every grid cell (CellOf) within
// the probe edge's own tolerances, so a candidate edge looks up only its own
// cell. The length window uses the probe edge's LenTol, the test the
// candidate's: a candidate edge just outside the probe's window is missed
// when a cell boundary falls in between (docs/biometrics.md, "Limits").
#pragma once

#include <cstdint>

#include "bio/features_view.h"
#include "bio/matcher_params.h"

namespace ektp::bio {

constexpr int LenTol(int length) { return params::kLenTol0 + length / params::kLenTolDiv; }

inline int CellOf(int length, int alpha, int beta) {
  using namespace params;
  return (length / kLenCell) * kAngCells * kAngCells + (alpha / kAngCell) * kAngCells + beta / kAngCell;
}

static_assert(params::kMaxEdge - params::kMinEdge + params::kLenTol0 + params::kMaxEdge / params::kLenTolDiv < 256,
              "length test must not wrap");
static_assert(FingerFeatures::kMaxMinutiae == 64, "vote index is from * 64 + to");
inline constexpr uint32_t kLaneBytes = 0xffu | 0xffu << 9 | 0xffu << 18;
inline constexpr uint32_t kLaneSigns = 1u << 8 | 1u << 17 | 1u << 26;

inline uint32_t EdgeTestWord(const FeaturesView::Edge& e) {
  return uint32_t{e.length} | uint32_t{e.alpha} << 9 | uint32_t{e.beta} << 18;
}

inline uint32_t EdgeEndsWord(const FeaturesView::Edge& e) { return uint32_t{e.from} << 6 | uint32_t{e.to} << (16 + 6); }

inline uint32_t EdgeOffset(int length, int alpha, int beta) {
  using namespace params;
  return static_cast<uint32_t>((LenTol(length) - length) & 0xff) |
         static_cast<uint32_t>((kAlphaTol - alpha) & 0xff) << 9 | static_cast<uint32_t>((kBetaTol - beta) & 0xff) << 18;
}

inline uint32_t EdgeLimit(int length) {
  using namespace params;
  return kLaneSigns | static_cast<uint32_t>(2 * LenTol(length)) | uint32_t{2 * kAlphaTol} << 9 |
         uint32_t{2 * kBetaTol} << 18;
}

// True when the probe edge with test word `word` is a look-alike of the
// candidate edge with `offset` and `limit`.
inline bool EdgesAlike(uint32_t word, uint32_t offset, uint32_t limit) {
  return ((limit - ((word + offset) & kLaneBytes)) & kLaneSigns) == kLaneSigns;
}

}  // namespace ektp::bio
