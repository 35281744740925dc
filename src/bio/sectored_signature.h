// The rotation-sectored pre-filter signature (docs/biometrics.md,
// "Pre-filter"): the engine's pre-filter (InMemoryAbis); the plain edge
// signature (FingerFeatures::EdgeSignature) is measured beside it by
// `ektp bio eval --prefilter-index signature`.
//
// Each edge code of the signature (signature_codes.h, 4096 codes) is kept per
// sector of the edge's absolute direction (params::kSectorUnits, 8 sectors).
// A probe is compared at each of the 8 sector shifts r: probe sector s
// against gallery sector (s + r) mod 8. A mate's edges agree on one shift; a
// stranger's chance agreements spread over all of them, which a plain bag of
// codes cannot tell apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bio/matcher.h"

namespace ektp::bio {

inline constexpr int kSignatureSectors = 8;  // 256 / params::kSectorUnits

// Gallery side: each edge's own code in its direction's sector, as a sorted
// list of distinct sector x 4096 + code.
struct SectoredGallery {
  std::vector<uint16_t> codes;
  std::array<uint16_t, kSignatureSectors> bits{};  // codes per sector

  static SectoredGallery Of(const FingerFeatures& f,
                            const FingerFeatures::LengthCells& cells = FingerFeatures::DefaultLengthCells());
  // Memory of the codes and counts (2 bytes a code, 16 for the counts).
  size_t Bytes() const { return codes.size() * sizeof(uint16_t) + sizeof(bits); }
};

// Probe side: every code within the descriptor noise of each edge (as
// FingerFeatures::DilatedEdgeSignature) in every sector within
// params::kSigAlphaTol units of the edge's direction.
struct SectoredProbe {
  // Per code, one byte lane per sector shift d: lane d is 1 when the code is
  // set in probe sector (-d) mod 8 (so rotating the word by 8 g bits gives,
  // in lane r, whether gallery sector g meets the probe at shift r).
  std::vector<uint64_t> lanes;
  std::array<uint16_t, kSignatureSectors> bits{};  // codes per sector

  static SectoredProbe Of(const FingerFeatures& f,
                          const FingerFeatures::LengthCells& cells = FingerFeatures::DefaultLengthCells());
  bool Has(int sector, int code) const;
};

// Evidence that `gallery` mates `probe`: the largest over the 8 shifts of
// z = (hits - E) / sqrt(V + 1), hits the codes shared at that shift,
// E = sum over sectors of gallery codes x probe density d (share of the
// 4096 codes the probe sets in the sector met) and V of gallery codes x
// d (1 - d). The maximum is used as is: every gallery finger takes the same
// maximum over 8 shifts, so candidates are ranked like with like (a
// stranger's score sits about 1.4 above a single shift's, the mean of the
// largest of 8 standard normals). Deterministic; one 64-bit add per gallery
// code.
float SectoredZ(const SectoredProbe& probe, const SectoredGallery& gallery);
// The same for a gallery finger held as its codes and counts (InMemoryAbis
// keeps every finger's in flat arrays).
float SectoredZ(const SectoredProbe& probe, std::span<const uint16_t> codes,
                const std::array<uint16_t, kSignatureSectors>& bits);

// Many probes against one gallery finger at a time: SectoredZ of each probe,
// with the probes' lanes interleaved per code so that one pass over the
// gallery finger's codes reads them in order (the engine's cohort,
// cohort_norm.h). Results equal SectoredZ's exactly.
class SectoredProbeSet {
 public:
  explicit SectoredProbeSet(size_t capacity);
  size_t size() const { return bits_.size(); }
  size_t capacity() const { return capacity_; }
  size_t Bytes() const { return lanes_.size() * sizeof(uint64_t) + bits_.size() * sizeof(bits_[0]); }
  // REQUIRES: size() < capacity().
  void Add(const SectoredProbe& probe);
  // SectoredZ(k-th added probe, codes, bits) for every k, into `out`.
  void Evidence(std::span<const uint16_t> codes, const std::array<uint16_t, kSignatureSectors>& bits,
                std::vector<float>& out) const;

 private:
  size_t capacity_;
  std::vector<uint64_t> lanes_;  // code-major: lanes_[code * capacity_ + k]
  std::vector<std::array<uint16_t, kSignatureSectors>> bits_;
};

}  // namespace ektp::bio
