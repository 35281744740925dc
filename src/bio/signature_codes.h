// The edge-descriptor codes of the pre-filter signatures (bio-internal;
// docs/biometrics.md, "Pre-filter"): shared by the engine's signature
// (signature.cc) and the rotation-sectored signature (sectored_signature.cc).
//
// An edge descriptor's code: 16 length x 32 alpha x 8 beta cells
// (matcher_params.h). Edges to the 10 nearest neighbours are mostly
// 15..110 px long and their beta crowds around 0 and 128 units (neighbouring
// ridges run parallel), so the length and beta cells are narrow where the
// values crowd and wide elsewhere: each code is then about equally likely,
// which is what makes a shared code evidence.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "bio/matcher.h"
#include "bio/matcher_params.h"

namespace ektp::bio::signature_codes {

struct BetaCells {
  std::array<uint8_t, 256> beta{};
  constexpr BetaCells() {
    for (int v = 0; v < 256; ++v) {
      const int shifted = (v + params::kSigBetaShift) & 0xff;
      int b = 0;
      while (b < 7 && shifted >= params::kSigBetaEdges[b]) ++b;
      beta[v] = static_cast<uint8_t>(b);
    }
  }
};
inline constexpr BetaCells kBeta;

// Length (0..255) -> its cell under `cells`.
inline std::array<uint8_t, 256> LengthTable(const FingerFeatures::LengthCells& cells) {
  std::array<uint8_t, 256> len{};
  for (int v = 0; v < 256; ++v) {
    int l = 0;
    while (l < 15 && v >= cells[l]) ++l;
    len[v] = static_cast<uint8_t>(l);
  }
  return len;
}
static_assert(16 * (256 / params::kSigAlphaCell) * 8 == FingerFeatures::kSignatureBits, "one bit per code");

inline int Code(int len_cell, int alpha_cell, int beta_cell) {
  return (len_cell * (256 / params::kSigAlphaCell) + alpha_cell) * 8 + beta_cell;
}

// Distinct cells of the values lo..hi (inclusive); `cell` maps a value.
template <typename CellOfValue>
int CellsOf(int lo, int hi, CellOfValue cell, std::array<int, 16>& out) {
  int n = 0;
  for (int v = lo; v <= hi; ++v) {
    const int c = cell(v);
    if (n == 0 || out[n - 1] != c) out[n++] = c;
  }
  return n;
}

inline void SetCode(FingerFeatures::Signature& sig, int code) { sig[code >> 6] |= uint64_t{1} << (code & 63); }

// How far a probe edge's descriptor may lie from a mated gallery edge's:
// length in px, alpha and beta in units.
struct Dilation {
  int length, alpha, beta;
};
// A single edge's descriptor noise (the signatures).
inline constexpr Dilation kEdgeDilation{params::kSigLenTol, params::kSigAlphaTol, params::kSigBetaTol};
// An edge of an edge pair (edge_pair_index.h).
inline constexpr Dilation kPairEdgeDilation{params::kPairLenTol, params::kPairAlphaTol, params::kPairBetaTol};

// Calls `visit(code)` for every code within `dilation` of edge (`length`,
// `alpha`, `beta`), `len` the length table.
template <const Dilation& dilation, typename Visit>
void ForEachDilatedCode(const std::array<uint8_t, 256>& len, int length, int alpha, int beta, Visit visit) {
  // A window of 2 t + 1 values spans at most that many cells.
  static_assert(2 * std::max({dilation.length, dilation.alpha, dilation.beta}) + 1 <= 16);
  std::array<int, 16> lens, alphas, betas;
  const int nl = CellsOf(std::max(0, length - dilation.length), std::min(255, length + dilation.length),
                         [&len](int v) { return len[v]; }, lens);
  const int na = CellsOf(alpha - dilation.alpha, alpha + dilation.alpha,
                         [](int v) { return (v & 0xff) / params::kSigAlphaCell; }, alphas);
  const int nb = CellsOf(beta - dilation.beta, beta + dilation.beta,
                         [](int v) { return kBeta.beta[v & 0xff]; }, betas);
  for (int l = 0; l < nl; ++l) {
    for (int a = 0; a < na; ++a) {
      for (int b = 0; b < nb; ++b) visit(Code(lens[l], alphas[a], betas[b]));
    }
  }
}

}  // namespace ektp::bio::signature_codes
