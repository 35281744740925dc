// Every tunable of the 1:1 matcher and the pre-filter signature, in one place
// (bio-internal). Units: px at 500 dpi, angles in 1/256 turn ("units").
// Changing any value changes scores: re-run `ektp bio eval
// ../shared/data/fvc2002 --cross-validate` and refit the calibration
// (calibration.cc) before committing.
#pragma once

#include <cstddef>

#include "bio/matcher.h"

namespace ektp::bio::params {

// ---- Features (features.cc, neighbour_edges.cc) ----
inline constexpr size_t kMaxMinutiae = FingerFeatures::kMaxMinutiae;  // kept per finger, best quality first
inline constexpr size_t kNeighbours = 5;    // matcher edges per minutia (nearest neighbours)
inline constexpr int kMinEdge = 8;          // px; shorter edges are noise
inline constexpr int kMaxEdge = 200;        // px; longer edges distort too much
inline constexpr size_t kBlock = 8;         // minutia arrays are padded to this (the AVX2 width)
inline constexpr float kFarAway = 1e6f;     // x and y of the padding minutiae (never paired)

// ---- Captured area (overlap.cc) ----
inline constexpr int kAreaCell = 32;   // px per cell side
inline constexpr int kAreaCells = FingerFeatures::kAreaCells;  // cells per row and column (bits of a row word)

// ---- Edge hash grid of the prepared probe (edge_grid.h) ----
// Length cells of kLenCell px (lengths are capped at 255) times kAngCells x
// kAngCells cells of kAngCell units for alpha and beta.
inline constexpr int kLenCell = 6;
inline constexpr int kLenCells = 256 / kLenCell + 1;  // 43
inline constexpr int kAngCell = 16;
inline constexpr int kAngCells = 256 / kAngCell;  // 16
inline constexpr int kCells = kLenCells * kAngCells * kAngCells;

// ---- Edge look-alike tolerances (edge_grid.h) ----
inline constexpr int kAlphaTol = 14;  // units (~20 degrees)
inline constexpr int kBetaTol = 14;   // units
inline constexpr int kLenTol0 = 4;    // length tolerance: kLenTol0 px + length / kLenTolDiv
inline constexpr int kLenTolDiv = 10;

// ---- Voting and hypotheses (voting.cc, hypotheses.cc) ----
inline constexpr int kMinSupport = 8;    // votes of the best edge pair needed to try any alignment
inline constexpr size_t kHypotheses = 6;  // alignment hypotheses tried (best-supported edge pairs)
inline constexpr int kSameRotation = 3;  // units: hypotheses within this rotation ...
inline constexpr float kSameShift = 6;   // ... and this |dx| + |dy| in px are one alignment

// ---- Pairing (pairing.cc, kernels_*.cc) ----
inline constexpr float kPairRadius = 12;          // px at the alignment's anchor
inline constexpr float kPairRadiusSlope = 0.05f;  // + px per px away from the anchor (elastic distortion)
inline constexpr int kPairAngleTol = 24;          // units (~34 degrees)

// ---- Scoring (scoring.cc) ----
// A pair counts kSupBase + (1 - kSupBase) * min(local edge votes, kSupCap) / kSupCap.
inline constexpr float kSupBase = 0.5f;
inline constexpr int kSupCap = 2;
inline constexpr float kMinDen = 10;  // overlap counts below this are raised to it
inline constexpr float kFullM = 12;   // fewer weighted pairs than this scale the score down

// ---- AVX2 look-alike scan (kernels_avx2.cc) ----
inline constexpr size_t kScanPad = 8;     // zero words after the probe table's last cell (one 8-lane load)
inline constexpr size_t kScanAhead = 12;  // candidate edges whose probe cell is prefetched ahead

// ---- Pre-filter signature (signature.cc) ----
inline constexpr size_t kSignatureNeighbours = 10;  // edges per minutia for the signature
// Length cells: the 16-quantiles of the lengths of these edges over all
// FVC2002 DB1..DB4 templates, so each length cell is about equally likely.
inline constexpr int kSigLenEdges[15] = {19, 26, 31, 36, 41, 45, 50, 54, 58, 63, 68, 73, 80, 90, 105};
// Beta cells after shifting beta by kSigBetaShift units ([-6, 6) is cell 0):
// narrow around 0 and 128, where neighbouring ridges' directions crowd.
inline constexpr int kSigBetaShift = 6;
inline constexpr int kSigBetaEdges[7] = {12, 26, 114, 128, 140, 154, 242};
inline constexpr int kSigAlphaCell = 8;  // units: 32 uniform alpha cells
// The probe side also sets the codes within about a mated edge's descriptor
// noise: px, units, units.
inline constexpr int kSigLenTol = 2, kSigAlphaTol = 5, kSigBetaTol = 3;

// ---- Rotation-sectored signature (sectored_signature.cc) ----
// Sector of an edge's absolute direction, in units: the smallest power of two
// at least the matcher's pair angle tolerance (directions closer than that are
// one direction to the matcher), so 256 / 32 = 8 sectors and 8 rotations.
inline constexpr int kSectorUnits = 32;
static_assert(kSectorUnits >= kPairAngleTol && kSectorUnits / 2 < kPairAngleTol && 256 % kSectorUnits == 0);

// ---- Edge pairs (edge_pair_index.cc) ----
// Two edges from one minutia to two of its kPairNeighbours nearest: the
// matcher's own neighbourhood, so C(5, 2) = 10 pairs a minutia.
inline constexpr size_t kPairNeighbours = kNeighbours;
// The probe side takes its pairs among more neighbours, so a gallery pair is
// still found when up to 3 spurious minutiae lie nearer than its neighbours,
// at no cost in gallery memory. Chosen on synthetic prints apart from every
// set reported (docs/biometrics.md, "Pre-filter").
inline constexpr size_t kPairProbeNeighbours = 8;
static_assert(kPairProbeNeighbours >= kPairNeighbours);
// The probe side sets every pair whose two edges lie within these of its own
// (px, units, units): wider in length and beta than a single edge's
// kSig*Tol, as a stranger seldom shares a 24-bit pair code even so, while a
// distorted mate's pairs fall outside the narrower dilation. Chosen on the
// same synthetic prints as kPairProbeNeighbours.
inline constexpr int kPairLenTol = 5, kPairAlphaTol = kSigAlphaTol, kPairBetaTol = 6;

}  // namespace ektp::bio::params
