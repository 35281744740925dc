// The rotation-sectored pre-filter signature (docs/biometrics.md,
// "Pre-filter"): measured by `ektp bio eval --prefilter-index sectored`, not
// used by the engine (InMemoryAbis scans the plain edge signature).
//
// Each edge code of the signature (signature_codes.h) is kept per sector of
// the edge's absolute direction (params::kSectorUnits, 8 sectors). A probe is
// compared at each of the 8 sector shifts r: probe sector s against gallery
// sector (s + r) mod 8. A mate's edges agree on one shift; a stranger's
// chance agreements spread over all of them, which a plain bag of codes
// cannot tell apart.
#pragma once

#include <array>
#include <cstdint>

#include "bio/matcher.h"

namespace ektp::bio {

struct SectoredSignature {
  static constexpr int kSectors = 8;  // 256 / params::kSectorUnits
  std::array<FingerFeatures::Signature, kSectors> sectors{};
  std::array<uint16_t, kSectors> bits{};  // bits set per sector

  // Gallery side: each edge's own code in its direction's sector.
  static SectoredSignature Gallery(const FingerFeatures& f,
                                   const FingerFeatures::LengthCells& cells = FingerFeatures::DefaultLengthCells());
  // Probe side: every code within the descriptor noise of each edge
  // (as FingerFeatures::DilatedEdgeSignature) in every sector within
  // params::kSigAlphaTol units of its direction.
  static SectoredSignature Probe(const FingerFeatures& f,
                                 const FingerFeatures::LengthCells& cells = FingerFeatures::DefaultLengthCells());

  // Memory of one gallery finger.
  static constexpr size_t kBytes = sizeof(sectors) + sizeof(bits);
};

// Evidence that `gallery` mates `probe`: the largest over the 8 shifts of
// z = (hits - E) / sqrt(V + 1), hits the shared bits at that shift,
// E = sum over sectors of gallery bits x probe density d and V of
// gallery bits x d (1 - d). The maximum is used as is: every gallery finger
// takes the same maximum over 8 shifts, so candidates are ranked like with
// like (a stranger's score sits about 1.4 above a single shift's, the mean
// of the largest of 8 standard normals). Deterministic; 512 AND + popcount.
float SectoredZ(const SectoredSignature& probe, const SectoredSignature& gallery);

}  // namespace ektp::bio
