// 1:1 minutiae matcher: FingerFeatures (one finger, reduced once),
// PreparedProbe (a probe indexed once for many comparisons) and Matcher,
// whose scores are calibrated as -10 * log10(FMR). How it works, stage by
// stage: docs/biometrics.md ("Matcher"); Matcher::Compare in matcher.cc reads
// as those stages; the tunables are in matcher_params.h.
//
// Thread-safety: FingerFeatures and PreparedProbe are immutable after
// construction and may be shared by any number of threads. Matcher keeps
// per-thread scratch space: use one Matcher per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bio/template.h"
#include "core/status.h"

namespace ektp::bio {

// Minutia in matcher units: pixels at 500 dpi, angle in 1/256 turns.
struct Minutia {
  float x = 0;
  float y = 0;
  uint8_t angle = 0;
  uint8_t type = kMinutiaEnding;
};

// REQUIRES-free value type; cheap to copy relative to matching.
class FingerFeatures {
 public:
  static constexpr size_t kMaxMinutiae = 64;
  static constexpr int kAreaCells = 32;  // the captured area's grid (overlap.h)

  FingerFeatures() = default;
  // Keeps the first kMaxMinutiae minutiae.
  explicit FingerFeatures(std::span<const Minutia> minutiae);

  // From a decoded record view: converts resolution and angle units; over
  // kMaxMinutiae keeps the highest quality, then those nearest the centroid.
  // Errors: kInvalidArgument for a resolution outside kMinResolution..
  // kMaxResolution px/cm (zero included). A view without minutiae, or whose
  // minutiae all lie within 8 px of each other (no edges), gives features
  // that score 0 against anything (docs/biometrics.md, "Bad input").
  static constexpr uint16_t kMinResolution = 39;   // 100 dpi
  static constexpr uint16_t kMaxResolution = 787;  // 2000 dpi
  static StatusOr<FingerFeatures> FromView(const FingerView& view, TemplateFormat format);

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::vector<Minutia> Minutiae() const;

  // Compact serialisation for gallery persistence (gallery_blob.cc; minutiae
  // only, edges are rebuilt on load). Errors: kDataLoss on a malformed blob.
  std::vector<uint8_t> Serialize() const;
  static StatusOr<FingerFeatures> Deserialize(std::span<const uint8_t> blob);

  // Pre-filter signatures (signature.cc; docs/biometrics.md, "Pre-filter"):
  // 4096-bit sets of quantised, rotation- and translation-invariant edge
  // descriptors. The gallery side sets each edge's own code; the probe side
  // also sets the codes within a mated edge's descriptor noise. Every code of
  // EdgeSignature() is also in DilatedEdgeSignature().
  static constexpr int kSignatureBits = 4096;
  using Signature = std::array<uint64_t, kSignatureBits / 64>;
  // The signature's 16 edge-length cells, as their 15 inner boundaries in
  // px (ascending): cell c holds lengths in [edges[c-1], edges[c]).
  // DefaultLengthCells() are the 16-quantiles over all FVC2002 templates
  // (params::kSigLenEdges); FitLengthCells refits them on other prints.
  using LengthCells = std::array<uint8_t, 15>;
  static LengthCells DefaultLengthCells();
  // The 16-quantiles of the signature edges' lengths over `prints` (the
  // length at rank n*i/16 of the n edges, i = 1..15), so each cell holds
  // about as many of their edges. Fitted on all of FVC2002 it gives
  // DefaultLengthCells(). Prints without signature edges contribute none;
  // with none at all the result is DefaultLengthCells().
  static LengthCells FitLengthCells(std::span<const FingerFeatures* const> prints);
  Signature EdgeSignature(const LengthCells& cells = DefaultLengthCells()) const;
  Signature DilatedEdgeSignature(const LengthCells& cells = DefaultLengthCells()) const;

  // Approximate heap bytes held.
  size_t MemoryBytes() const;

 private:
  friend struct FeaturesView;  // the matcher's stages (features_view.h)
  // An edge from a minutia to one of its nearest neighbours.
  struct Edge {
    uint8_t from, to;
    uint8_t length;  // pixels, capped at 255
    uint8_t alpha;   // direction of from->to relative to from's angle
    uint8_t beta;    // to's angle relative to from's angle
    uint16_t cell;   // hash-grid cell of (length, alpha, beta)
  };
  void Build();

  // Minutiae as structure of arrays, padded to a multiple of params::kBlock
  // entries with minutiae at params::kFarAway (never paired).
  uint8_t n_ = 0;
  std::vector<float> x_, y_;
  std::vector<uint8_t> angle_, type_;
  std::vector<Edge> edges_;
  // The captured area: row r is area_[r], column c its bit c.
  std::array<uint32_t, kAreaCells> area_{};
  float box_[4] = {0, 0, 0, 0};  // bounding box of the minutiae: x0, y0, x1, y1
};

// A probe ready to be compared with many candidates.
class PreparedProbe {
 public:
  explicit PreparedProbe(FingerFeatures features);
  const FingerFeatures& features() const { return features_; }

 private:
  friend struct ProbeView;  // the matcher's stages (features_view.h)
  FingerFeatures features_;
  // The probe edges spread over the edge hash grid (edge_grid.h): cell c's n
  // test words start at cell_start_[c], its n ends words follow them.
  // params::kScanPad zero words follow the last cell.
  std::vector<uint16_t> cell_start_;
  std::vector<uint32_t> cell_words_;
  size_t max_cell_ = 0;  // most probe edges in one cell
};

// Details of one comparison (for tests and diagnostics).
struct MatchDetail {
  float score = 0;      // calibrated, see Matcher::Score
  float raw = 0;        // uncalibrated similarity
  int pairs = 0;        // paired minutiae
  int probe_overlap = 0;
  int candidate_overlap = 0;
};

// Which kernels (look-alike scan, hypothesis choice, pairing) a Matcher
// uses, chosen once at construction. kAuto picks AVX2 when this build and
// the CPU have it; kScalar forces the portable ones. Both give identical
// results (MatcherKernelsTest).
enum class MatcherKernel { kAuto, kScalar };

class Matcher {
 public:
  Matcher();
  explicit Matcher(MatcherKernel kernel);
  ~Matcher();
  // "avx2" or "scalar": the kernels this Matcher runs.
  const char* kernel_name() const;
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Calibrated score: -10*log10(estimated false-match rate), clamped to
  // [0, 100]. Symmetric up to small differences; higher = more similar.
  float Score(const PreparedProbe& probe, const FingerFeatures& candidate);
  MatchDetail Compare(const PreparedProbe& probe, const FingerFeatures& candidate);

 private:
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// The nominal calibration (calibration.cc): raw similarity -> score.
float CalibrateRaw(float raw);

}  // namespace ektp::bio
