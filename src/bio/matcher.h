// 1:1 minutiae matcher. The algorithm is described in docs/biometrics.md
// ("Matcher"); in short:
//   1. Each template is reduced once to FingerFeatures: minutiae at 500 dpi
//      and a table of rotation- and translation-invariant edges to each
//      minutia's nearest neighbours (length, two relative angles).
//   2. A probe is prepared once (PreparedProbe): its edges go into a hash grid
//      over (length, alpha, beta), widened by the matching tolerances, so each
//      candidate edge finds its look-alikes with one lookup.
//   3. Matching edge pairs vote for minutia correspondences; the best edge
//      pairs become alignment hypotheses (rotation + translation).
//   4. For each hypothesis the minutiae are paired one-to-one under a distance
//      tolerance that grows away from the anchor (elastic distortion), the
//      alignment is refined by least squares and pairing repeated. The count
//      of pairs relative to the minutiae inside the common area (partial
//      overlap) gives the raw similarity.
//   5. The raw similarity is mapped to a calibrated score:
//      score = -10 * log10(FMR), so threshold 40 means FMR ~ 0.01 %.
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
  static constexpr size_t kNeighbours = 5;
  // The minutiae arrays are padded to a multiple of kBlock (SIMD width).
  static constexpr size_t kBlock = 8;

  FingerFeatures() = default;
  // Keeps at most kMaxMinutiae minutiae (highest quality first).
  explicit FingerFeatures(std::span<const Minutia> minutiae);

  // From a decoded record view: converts resolution and angle units.
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

  // Compact serialisation for gallery persistence (minutiae only; edges are
  // rebuilt on load). Errors: kDataLoss on a malformed blob.
  std::vector<uint8_t> Serialize() const;
  static StatusOr<FingerFeatures> Deserialize(std::span<const uint8_t> blob);

  // Pre-filter signatures (docs/biometrics.md, "Pre-filter"): 4096-bit sets
  // of quantised edge descriptors (16 length x 32 alpha x 8 beta cells, each
  // code about equally likely in real prints) over the edges from every
  // minutia to its kSignatureNeighbours nearest neighbours (more than the
  // matcher's kNeighbours: a missing or spurious minutia changes fewer of a
  // larger neighbourhood's edges). Rotation and translation invariant. The
  // gallery side sets each edge's own code; the probe side also sets the
  // codes within the descriptor noise of a mated edge, so a shared edge hits
  // even when noise moves it across a cell boundary. Every code of
  // EdgeSignature() is also in DilatedEdgeSignature().
  static constexpr size_t kSignatureNeighbours = 10;
  static constexpr int kSignatureBits = 4096;
  using Signature = std::array<uint64_t, kSignatureBits / 64>;
  Signature EdgeSignature() const;
  Signature DilatedEdgeSignature() const;

  // The captured area, for the overlap count: a grid of kAreaCells x
  // kAreaCells cells of kAreaCell px whose origin is 1.5 cells below and left
  // of the minutiae's bounding box (so it moves with the print, wherever the
  // print lies in its image, and the margin beyond the outermost minutiae is
  // 1.5 cells on average on every side); a cell counts when it or one of its
  // 8 neighbours holds a minutia. It spans prints up to 944 px (48 mm at
  // 500 dpi) across; minutiae beyond count in the last cell.
  static constexpr int kAreaCell = 32;
  static constexpr int kAreaCells = 32;

  // Approximate heap bytes held.
  size_t MemoryBytes() const;

  // An edge from a minutia to one of its nearest neighbours (matcher
  // internals; public so the matcher's kernels can take it).
  struct Edge {
    uint8_t from, to;
    uint8_t length;  // pixels, capped at 255
    uint8_t alpha;   // direction of from->to relative to from's angle
    uint8_t beta;    // to's angle relative to from's angle
    uint16_t cell;   // hash-grid cell of (length, alpha, beta)
  };

 private:
  friend class PreparedProbe;
  friend class Matcher;
  void Build();

  // Minutiae as structure of arrays, padded to a multiple of kBlock entries
  // with minutiae at kFarAway (never paired), for the SIMD pairing kernel.
  static constexpr float kFarAway = 1e6f;
  uint8_t n_ = 0;
  std::vector<float> x_, y_;
  std::vector<uint8_t> angle_, type_;
  std::vector<Edge> edges_;
  // The captured area (area_): row r is area_[r], column c its bit c.
  std::array<uint32_t, kAreaCells> area_{};
  float box_[4] = {0, 0, 0, 0};  // bounding box of the minutiae: x0, y0, x1, y1
};

// A probe ready to be compared with many candidates.
class PreparedProbe {
 public:
  explicit PreparedProbe(FingerFeatures features);
  const FingerFeatures& features() const { return features_; }

 private:
  friend class Matcher;
  FingerFeatures features_;
  // The probe edges spread over a hash grid of (length, alpha, beta) cells,
  // each cell's copies as 32-bit words for the tolerance test and the vote
  // indexes (matcher.cc, "Edge tolerance test"): cell c's n test words start
  // at cell_start_[c], its n ends words follow them. kScanPad zero words
  // follow the last cell.
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

// Which pairing kernel a Matcher uses. kAuto picks AVX2 when the CPU has it;
// kScalar forces the portable one. Both give identical scores (tested).
enum class MatcherKernel { kAuto, kScalar };

class Matcher {
 public:
  Matcher();
  explicit Matcher(MatcherKernel kernel);
  ~Matcher();
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

// The calibration table: raw similarity -> calibrated score.
float CalibrateRaw(float raw);

}  // namespace ektp::bio
