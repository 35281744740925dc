#include "bio/sectored_signature.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include "bio/features_view.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"
#include "bio/signature_codes.h"

namespace ektp::bio {
namespace {

using namespace params;
using namespace signature_codes;
constexpr int kS = kSignatureSectors;
constexpr int kCodes = FingerFeatures::kSignatureBits;
static_assert(kS * kSectorUnits == 256);
static_assert(kS * kCodes <= 65536, "sector x code fits 16 bits");

// The edge's absolute direction in units: alpha is relative to the from
// minutia's angle (neighbour_edges.h).
inline int Direction(const FeaturesView& v, const NeighbourEdge& e) { return (v.angle[e.from] + e.alpha) & 0xff; }

// Lane of probe sector `s` in SectoredProbe::lanes.
inline int LaneOf(int s) { return (kS - s) % kS; }

}  // namespace

SectoredGallery SectoredGallery::Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  const FeaturesView v = FeaturesView::Of(f);
  SectoredGallery g;
  for (const NeighbourEdge& e : NeighbourEdges(v.x, v.y, v.angle, v.size, kSignatureNeighbours)) {
    const int sector = Direction(v, e) / kSectorUnits;
    g.codes.push_back(
        static_cast<uint16_t>(sector * kCodes + Code(len[e.length], e.alpha / kSigAlphaCell, kBeta.beta[e.beta])));
  }
  std::sort(g.codes.begin(), g.codes.end());
  g.codes.erase(std::unique(g.codes.begin(), g.codes.end()), g.codes.end());
  g.codes.shrink_to_fit();
  for (uint16_t c : g.codes) ++g.bits[c / kCodes];
  return g;
}

SectoredProbe SectoredProbe::Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  const FeaturesView v = FeaturesView::Of(f);
  SectoredProbe p;
  p.lanes.assign(kCodes, 0);
  std::array<int, 16> sectors;
  for (const NeighbourEdge& e : NeighbourEdges(v.x, v.y, v.angle, v.size, kSignatureNeighbours)) {
    const int direction = Direction(v, e);
    const int n = CellsOf(direction - kSigAlphaTol, direction + kSigAlphaTol,
                          [](int u) { return (u & 0xff) / kSectorUnits; }, sectors);
    for (int k = 0; k < n; ++k) {
      const uint64_t bit = uint64_t{1} << (8 * LaneOf(sectors[k]));
      ForEachDilatedCode<kEdgeDilation>(len, e.length, e.alpha, e.beta, [&p, bit](int code) { p.lanes[code] |= bit; });
    }
  }
  for (uint64_t w : p.lanes) {
    for (int s = 0; s < kS; ++s) p.bits[s] += (w >> (8 * LaneOf(s))) & 1;
  }
  return p;
}

bool SectoredProbe::Has(int sector, int code) const { return (lanes[code] >> (8 * LaneOf(sector))) & 1; }

float SectoredZ(const SectoredProbe& probe, const SectoredGallery& gallery) {
  return SectoredZ(probe, gallery.codes, gallery.bits);
}

namespace {

// The best shift's z from the hits at each shift (SectoredZ's contract).
float BestShiftZ(const std::array<int, kS>& hits, const std::array<uint16_t, kS>& probe_bits,
                 const std::array<uint16_t, kS>& gallery_bits) {
  std::array<float, kS> density;
  for (int s = 0; s < kS; ++s) density[s] = static_cast<float>(probe_bits[s]) / kCodes;
  float best = -INFINITY;
  for (int r = 0; r < kS; ++r) {
    float expected = 0, variance = 0;
    for (int s = 0; s < kS; ++s) {
      const float gb = static_cast<float>(gallery_bits[(s + r) % kS]);
      expected += gb * density[s];
      variance += gb * density[s] * (1 - density[s]);
    }
    best = std::max(best, (static_cast<float>(hits[r]) - expected) / std::sqrt(variance + 1));
  }
  return best;
}

// Adds the byte lanes of `acc` to `hits` (lane r to shift r).
inline void Drain(uint64_t acc, std::array<int, kS>& hits) {
  for (int r = 0; r < kS; ++r) hits[r] += static_cast<int>((acc >> (8 * r)) & 0xff);
}

}  // namespace

float SectoredZ(const SectoredProbe& probe, std::span<const uint16_t> codes,
                const std::array<uint16_t, kSignatureSectors>& bits) {
  // Gallery code (g, c) meets probe sector s = (g - r) mod 8 at shift r, the
  // probe's lane (r - g) mod 8: rotating c's lanes left by g lanes puts it in
  // lane r. Byte lanes count at most 255, so they are emptied every 255 codes.
  std::array<int, kS> hits{};
  uint64_t acc = 0;
  int pending = 0;
  for (uint16_t gc : codes) {
    acc += std::rotl(probe.lanes[gc % kCodes], 8 * (gc / kCodes));
    if (++pending == 255) {
      Drain(acc, hits);
      acc = 0;
      pending = 0;
    }
  }
  Drain(acc, hits);
  return BestShiftZ(hits, probe.bits, bits);
}

SectoredProbeSet::SectoredProbeSet(size_t capacity) : capacity_(capacity), lanes_(kCodes * capacity) {}

void SectoredProbeSet::Add(const SectoredProbe& probe) {
  const size_t k = size();
  for (int c = 0; c < kCodes; ++c) lanes_[c * capacity_ + k] = probe.lanes[c];
  bits_.push_back(probe.bits);
}

void SectoredProbeSet::Evidence(std::span<const uint16_t> codes, const std::array<uint16_t, kSignatureSectors>& bits,
                                std::vector<float>& out) const {
  // SectoredZ for every probe at once; see there.
  const size_t n = size();
  std::vector<uint64_t> acc(n, 0);
  std::vector<std::array<int, kS>> hits(n);
  int pending = 0;
  for (uint16_t gc : codes) {
    const uint64_t* row = &lanes_[(gc % kCodes) * capacity_];
    const int rotation = 8 * (gc / kCodes);
    for (size_t k = 0; k < n; ++k) acc[k] += std::rotl(row[k], rotation);
    if (++pending == 255) {
      for (size_t k = 0; k < n; ++k) Drain(std::exchange(acc[k], 0), hits[k]);
      pending = 0;
    }
  }
  out.resize(n);
  for (size_t k = 0; k < n; ++k) {
    Drain(acc[k], hits[k]);
    out[k] = BestShiftZ(hits[k], bits_[k], bits);
  }
}

}  // namespace ektp::bio
