#include "bio/sectored_signature.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "bio/features_view.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"
#include "bio/signature_codes.h"

namespace ektp::bio {
namespace {

using namespace params;
using namespace signature_codes;
static_assert(SectoredSignature::kSectors * kSectorUnits == 256);

// The edge's absolute direction in units: alpha is relative to the from
// minutia's angle (neighbour_edges.h).
inline int Direction(const FeaturesView& v, const NeighbourEdge& e) { return (v.angle[e.from] + e.alpha) & 0xff; }

void CountBits(SectoredSignature& s) {
  for (int k = 0; k < SectoredSignature::kSectors; ++k) {
    int bits = 0;
    for (uint64_t w : s.sectors[k]) bits += std::popcount(w);
    s.bits[k] = static_cast<uint16_t>(bits);
  }
}

}  // namespace

SectoredSignature SectoredSignature::Gallery(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  const FeaturesView v = FeaturesView::Of(f);
  SectoredSignature s;
  for (const NeighbourEdge& e : NeighbourEdges(v.x, v.y, v.angle, v.size, kSignatureNeighbours)) {
    SetCode(s.sectors[Direction(v, e) / kSectorUnits], Code(len[e.length], e.alpha / kSigAlphaCell, kBeta.beta[e.beta]));
  }
  CountBits(s);
  return s;
}

SectoredSignature SectoredSignature::Probe(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  const FeaturesView v = FeaturesView::Of(f);
  SectoredSignature s;
  std::array<int, 16> sectors;
  for (const NeighbourEdge& e : NeighbourEdges(v.x, v.y, v.angle, v.size, kSignatureNeighbours)) {
    const int direction = Direction(v, e);
    const int n = CellsOf(direction - kSigAlphaTol, direction + kSigAlphaTol,
                          [](int u) { return (u & 0xff) / kSectorUnits; }, sectors);
    for (int k = 0; k < n; ++k) {
      FingerFeatures::Signature& sig = s.sectors[sectors[k]];
      ForEachDilatedCode(len, e.length, e.alpha, e.beta, [&sig](int code) { SetCode(sig, code); });
    }
  }
  CountBits(s);
  return s;
}

namespace {

// SectoredZ's body, compiled twice: with the POPCNT instruction (every x86-64
// CPU since 2008) and without, picked at run time (as InMemoryAbis's scan).
__attribute__((always_inline)) inline float BestRotationZ(const SectoredSignature& probe,
                                                          const SectoredSignature& gallery) {
  constexpr int kS = SectoredSignature::kSectors;
  std::array<float, kS> density;
  for (int k = 0; k < kS; ++k) density[k] = static_cast<float>(probe.bits[k]) / FingerFeatures::kSignatureBits;
  float best = -INFINITY;
  for (int r = 0; r < kS; ++r) {
    int hits = 0;
    float expected = 0, variance = 0;
    for (int k = 0; k < kS; ++k) {
      const int g = (k + r) % kS;
      const FingerFeatures::Signature& p = probe.sectors[k];
      const FingerFeatures::Signature& q = gallery.sectors[g];
      for (size_t w = 0; w < p.size(); ++w) hits += std::popcount(p[w] & q[w]);
      const float gb = static_cast<float>(gallery.bits[g]);
      expected += gb * density[k];
      variance += gb * density[k] * (1 - density[k]);
    }
    best = std::max(best, (static_cast<float>(hits) - expected) / std::sqrt(variance + 1));
  }
  return best;
}

__attribute__((target("popcnt"))) float BestRotationZPopcnt(const SectoredSignature& probe,
                                                            const SectoredSignature& gallery) {
  return BestRotationZ(probe, gallery);
}

}  // namespace

float SectoredZ(const SectoredSignature& probe, const SectoredSignature& gallery) {
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  return has_popcnt ? BestRotationZPopcnt(probe, gallery) : BestRotationZ(probe, gallery);
}

}  // namespace ektp::bio
