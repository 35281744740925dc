// A second 1:N pre-filter scorer, measured beside the edge signature and not
// used by the engine (docs/biometrics.md, "Pre-filter"): a local-structure
// index in the manner of Minutia Cylinder-Code indexing. Each minutia gets a
// binary cylinder describing its neighbours' positions and directions in its
// own frame (rotation- and translation-invariant); L hash functions, each a
// fixed random subset of h cells, turn every cylinder into L keys; a gallery
// finger's evidence for a probe finger is how many of the probe's keys it
// also holds (rare keys weigh more), corrected for its own number of keys.
//
// Thread-safety: CylinderCodes are values; CylinderIndex::Score is const and
// may run concurrently with other Score calls, not with Add.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "bio/matcher.h"

namespace ektp::bio {

// The keys of one finger: (hash function << 32 | hash value) for every valid
// cylinder and every hash function whose cells are all valid in it.
struct CylinderCodes {
  std::vector<uint64_t> keys;  // one per (cylinder, hash function), cylinder order
  size_t cylinders = 0;        // valid cylinders
};

// Deterministic: the same features give the same keys on every platform
// (the hash functions' cells are drawn from a fixed-seed mt19937).
CylinderCodes EncodeCylinders(const FingerFeatures& features);

// An inverted index of gallery fingers' keys.
class CylinderIndex {
 public:
  // Adds a gallery finger as entry Size() (its keys are deduplicated).
  void Add(const CylinderCodes& codes);
  size_t Size() const { return keys_.size(); }

  // One score per entry, in Add order: z = (hits - lambda n) / sqrt(lambda n
  // + 1), where hits sums, over the probe's keys (with repeats) that the
  // entry holds, log((entries + 1) / (holders + 0.5)) (a key few entries hold
  // is more evidence), n is the entry's number of distinct keys and lambda,
  // the chance hits per key, is the median of hits / n over the entries with
  // keys (most of any gallery are strangers to the probe). An entry without
  // keys scores 0. `postings` (optional) receives the postings visited.
  std::vector<float> Score(const CylinderCodes& probe, size_t* postings = nullptr) const;

  // Approximate heap bytes of the postings and per-entry counts.
  size_t MemoryBytes() const;

 private:
  std::unordered_map<uint64_t, std::vector<uint32_t>> postings_;
  std::vector<uint32_t> keys_;  // distinct keys per entry
};

}  // namespace ektp::bio
