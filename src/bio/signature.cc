// Pre-filter signatures of FingerFeatures (docs/biometrics.md, "Pre-filter").
//
// An edge descriptor's code: 16 length x 32 alpha x 8 beta cells
// (matcher_params.h). Edges to the 10 nearest neighbours are mostly
// 15..110 px long and their beta crowds around 0 and 128 units (neighbouring
// ridges run parallel), so the length and beta cells are narrow where the
// values crowd and wide elsewhere: each code is then about equally likely,
// which is what makes a shared code evidence. Using more neighbours than the
// matcher means a missing or spurious minutia changes fewer of the edges.
#include <algorithm>
#include <array>
#include <cstdint>

#include "bio/features_view.h"
#include "bio/matcher.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"

namespace ektp::bio {
namespace {

using namespace params;

struct BetaCells {
  std::array<uint8_t, 256> beta{};
  constexpr BetaCells() {
    for (int v = 0; v < 256; ++v) {
      const int shifted = (v + kSigBetaShift) & 0xff;
      int b = 0;
      while (b < 7 && shifted >= kSigBetaEdges[b]) ++b;
      beta[v] = static_cast<uint8_t>(b);
    }
  }
};
constexpr BetaCells kSigBeta;

// Length (0..255) -> its cell under `cells`.
std::array<uint8_t, 256> LengthTable(const FingerFeatures::LengthCells& cells) {
  std::array<uint8_t, 256> len{};
  for (int v = 0; v < 256; ++v) {
    int l = 0;
    while (l < 15 && v >= cells[l]) ++l;
    len[v] = static_cast<uint8_t>(l);
  }
  return len;
}
static_assert(16 * (256 / kSigAlphaCell) * 8 == FingerFeatures::kSignatureBits, "one bit per code");

inline int SignatureCode(int len_cell, int alpha_cell, int beta_cell) {
  return (len_cell * (256 / kSigAlphaCell) + alpha_cell) * 8 + beta_cell;
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

}  // namespace

FingerFeatures::LengthCells FingerFeatures::DefaultLengthCells() {
  LengthCells cells;
  for (size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<uint8_t>(kSigLenEdges[i]);
  return cells;
}

FingerFeatures::LengthCells FingerFeatures::FitLengthCells(std::span<const FingerFeatures* const> prints) {
  std::array<size_t, 256> histogram{};
  size_t n = 0;
  for (const FingerFeatures* f : prints) {
    for (const NeighbourEdge& e :
         NeighbourEdges(f->x_.data(), f->y_.data(), f->angle_.data(), f->size(), params::kSignatureNeighbours)) {
      ++histogram[e.length];
      ++n;
    }
  }
  if (n == 0) return DefaultLengthCells();
  LengthCells cells;
  size_t below = 0;  // edges shorter than `length`
  int length = 0;
  for (size_t i = 1; i <= cells.size(); ++i) {
    const size_t rank = n * i / 16;  // 0-based rank in the sorted lengths
    while (below + histogram[length] <= rank) below += histogram[length++];
    cells[i - 1] = static_cast<uint8_t>(length);
  }
  return cells;
}

FingerFeatures::Signature FingerFeatures::EdgeSignature(const LengthCells& cells) const {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  Signature sig{};
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), size(), params::kSignatureNeighbours)) {
    const int code = SignatureCode(len[e.length], e.alpha / kSigAlphaCell, kSigBeta.beta[e.beta]);
    sig[code >> 6] |= uint64_t{1} << (code & 63);
  }
  return sig;
}

FingerFeatures::Signature FingerFeatures::DilatedEdgeSignature(const LengthCells& cells) const {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  Signature sig{};
  std::array<int, 16> lens, alphas, betas;
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), size(), params::kSignatureNeighbours)) {
    const int nl = CellsOf(std::max(0, e.length - kSigLenTol), std::min(255, e.length + kSigLenTol),
                           [&len](int v) { return len[v]; }, lens);
    const int na = CellsOf(e.alpha - kSigAlphaTol, e.alpha + kSigAlphaTol,
                           [](int v) { return (v & 0xff) / kSigAlphaCell; }, alphas);
    const int nb = CellsOf(e.beta - kSigBetaTol, e.beta + kSigBetaTol, [](int v) { return kSigBeta.beta[v & 0xff]; }, betas);
    for (int l = 0; l < nl; ++l) {
      for (int a = 0; a < na; ++a) {
        for (int b = 0; b < nb; ++b) {
          const int code = SignatureCode(lens[l], alphas[a], betas[b]);
          sig[code >> 6] |= uint64_t{1} << (code & 63);
        }
      }
    }
  }
  return sig;
}

}  // namespace ektp::bio
