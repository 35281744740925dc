// The matcher's hot loops, in a portable and an AVX2 version behind one
// table (bio-internal). A Matcher picks one Kernels at construction
// (matcher.cc); MatcherKernelsTest runs both on the same inputs.
//
// Both versions give identical results: the same IEEE operations in the same
// order (kernels_*.cc and the stages are compiled with -ffp-contract=off, so
// none is fused; sqrt is exactly rounded in both).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "bio/features_view.h"
#include "bio/matcher_params.h"
#include "bio/transform.h"

namespace ektp::bio {

inline constexpr size_t kMaxM = FingerFeatures::kMaxMinutiae;

// A look-alike edge pair as its two vote indexes (probe minutia * 64 +
// candidate minutia) for the from and the to minutiae, in the low and high
// 16 bits.
using EdgePair = uint32_t;

// Scan: the look-alike edge pairs. For each candidate edge in order, the
// probe edges of its hash cell that pass the tolerance test (edge_grid.h),
// in cell order. Returns how many were written to `out`. REQUIRES: `out`
// holds at least (candidate edges) * probe.max_cell + kScanPad entries.
struct ScanArgs {
  std::span<const FeaturesView::Edge> cand_edges;
  const uint16_t* cell_start;
  const uint32_t* cell_words;  // with params::kScanPad readable words after the last cell
};

// TopSupported: the alignment hypotheses. The entries of support[0..n) with
// the kHypotheses largest values, largest first, lowest index first among
// equals; min(n, kHypotheses) of them, which the call zeroes in `support`;
// only the first when its support is below kMinSupport (no alignment is
// tried then). REQUIRES: every support[i] > 0 (an edge pair votes for both
// its endpoints, so its support is at least 2); kSupportPad zeros after
// support[n - 1].
inline constexpr size_t kSupportPad = 16;
struct TopEntry {
  uint32_t index;
  int support;
};
using TopEntries = std::array<TopEntry, params::kHypotheses>;

// Nearest: for each probe minutia that can reach the candidate's bounding
// box within its pairing radius once transformed by `t` (the others have no
// partner), the candidate minutia with the smallest squared distance below
// that radius squared whose direction is within kPairAngleTol; on equal
// distances the lowest index. Fills `out` in probe order: idx[j] the probe
// minutia, best_k[j] the candidate (-1: none), best_d2[j] its squared
// distance (the radius squared when none). Returns how many (j) were kept.
struct NearestBuffers {
  alignas(32) std::array<float, kMaxM + params::kBlock> tx, ty, limit, best_d2;
  alignas(32) std::array<int32_t, kMaxM + params::kBlock> ta, idx, best_k;
  alignas(32) std::array<int32_t, kMaxM> cand_angle;  // the candidate's directions as int32
};

struct Kernels {
  const char* name;
  size_t (*scan)(const ScanArgs& args, EdgePair* out);
  size_t (*top_supported)(uint16_t* support, size_t n, TopEntries& top);
  size_t (*nearest)(const FeaturesView& probe, const FeaturesView& cand, const Transform& t, NearestBuffers& buffers);
};

const Kernels& ScalarKernels();
// nullptr when this build or this CPU has no AVX2.
const Kernels* Avx2Kernels();

}  // namespace ektp::bio
