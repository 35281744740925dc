// Pre-filter signatures of FingerFeatures (docs/biometrics.md, "Pre-filter";
// the codes: signature_codes.h). Using more neighbours than the matcher
// means a missing or spurious minutia changes fewer of the edges.
#include <algorithm>
#include <array>
#include <cstdint>

#include "bio/features_view.h"
#include "bio/matcher.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"
#include "bio/signature_codes.h"

namespace ektp::bio {

using namespace params;
using namespace signature_codes;

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
    const int code = Code(len[e.length], e.alpha / kSigAlphaCell, kBeta.beta[e.beta]);
    SetCode(sig, code);
  }
  return sig;
}

FingerFeatures::Signature FingerFeatures::DilatedEdgeSignature(const LengthCells& cells) const {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  Signature sig{};
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), size(), params::kSignatureNeighbours)) {
    ForEachDilatedCode<kEdgeDilation>(len, e.length, e.alpha, e.beta, [&sig](int code) { SetCode(sig, code); });
  }
  return sig;
}

}  // namespace ektp::bio
