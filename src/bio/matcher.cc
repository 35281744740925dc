#include "bio/matcher.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ektp::bio {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr float kUnitsPerRadian = 256.0f / (2 * kPi);

// Edge hash grid: length cells of 12 px (lengths capped at 255), 8 x 8 cells
// of 32 angle units for alpha and beta.
constexpr int kLenCell = 6;
constexpr int kLenCells = 256 / kLenCell + 1;
constexpr int kAngCell = 16;
constexpr int kAngCells = 256 / kAngCell;
constexpr int kCells = kLenCells * kAngCells * kAngCells;

// Matching tolerances (see docs/biometrics.md for how they were chosen).
constexpr size_t kScanPad = 8;     // see ScanAvx2
constexpr size_t kScanAhead = 12;   // candidate edges prefetched ahead in ScanAvx2
constexpr int kMinEdge = 8;         // px; shorter edges are noise
constexpr int kMaxEdge = 200;       // px
constexpr int kAlphaTol = 14;       // angle units (~20 degrees)
constexpr int kBetaTol = 14;
constexpr int kLenTol0 = 4;         // edge length tolerance: 4 px + 10 %
constexpr int kLenTolDiv = 10;
constexpr float kPairRadius = 12;          // px at the anchor
constexpr float kPairRadiusSlope = 0.05f;  // + per px away from the anchor (elastic distortion)
constexpr int kPairAngleTol = 24;          // angle units (~34 degrees)
constexpr int kHypotheses = 6;           // alignment hypotheses tried
constexpr float kMinDen = 10;              // overlap counts below this are raised to it
constexpr float kFullM = 12;               // fewer effective pairs than this scale the score down
constexpr float kSupBase = 0.5f;           // a pair counts 0.5 + 0.5 * min(local support, 2) / 2
constexpr int kSupCap = 2;
constexpr int kMinSupport = 8;             // votes of the best edge pair needed to try alignments
constexpr int kSameRotation = 3;           // angle units: hypotheses this close
constexpr float kSameShift = 6;            // px (|dx| + |dy|) ... are one alignment

constexpr int LenTol(int length) { return kLenTol0 + length / kLenTolDiv; }

inline int CellOf(int length, int alpha, int beta) {
  return (length / kLenCell) * kAngCells * kAngCells + (alpha / kAngCell) * kAngCells + beta / kAngCell;
}

inline int AngleDiff(uint8_t a, uint8_t b) { return std::abs(static_cast<int>(static_cast<int8_t>(a - b))); }

inline uint8_t ToUnits(float radians) {
  int u = static_cast<int>(std::lround(radians * kUnitsPerRadian));
  return static_cast<uint8_t>(u & 0xff);
}

// The cell of (x, y) in the captured-area grid of the print with bounding
// box `box` (FingerFeatures::area_); off the grid when either index lies
// outside [0, kAreaCells).
struct AreaCell {
  int column, row;
};
inline AreaCell AreaCellOf(const float* box, float x, float y) {
  constexpr float kCell = FingerFeatures::kAreaCell;
  return {static_cast<int>(std::floor((x - box[0]) / kCell + 1.5f)),
          static_cast<int>(std::floor((y - box[1]) / kCell + 1.5f))};
}

inline bool InCapturedArea(const std::array<uint32_t, FingerFeatures::kAreaCells>& area, const float* box, float x,
                           float y) {
  const AreaCell c = AreaCellOf(box, x, y);
  constexpr auto kCells = static_cast<unsigned>(FingerFeatures::kAreaCells);
  if (static_cast<unsigned>(c.column) >= kCells || static_cast<unsigned>(c.row) >= kCells) return false;
  return (area[static_cast<size_t>(c.row)] >> c.column) & 1;
}

// An edge from minutia `from` to one of its nearest neighbours `to`, described
// as FingerFeatures::Edge is: length in px, direction relative to `from`'s
// angle (alpha) and the neighbour's angle relative to `from`'s (beta).
struct NeighbourEdge {
  uint8_t from, to, length, alpha, beta;
};

// Edges from each of the n minutiae to its `k` nearest neighbours between
// kMinEdge and kMaxEdge px, nearest first per minutia (equal distances: the
// lower index first). So the edges for a smaller k are a prefix of each
// minutia's edges for a larger one. REQUIRES: k <= kMaxK.
constexpr size_t kMaxK = FingerFeatures::kSignatureNeighbours;
static_assert(FingerFeatures::kNeighbours <= kMaxK, "the matcher's edges come from NeighbourEdges");
std::vector<NeighbourEdge> NeighbourEdges(const float* x, const float* y, const uint8_t* angle, size_t n, size_t k) {
  std::vector<NeighbourEdge> out;
  out.reserve(n * k);
  // The k nearest so far, as (squared distance, index), kept in ascending
  // order by insertion: cheaper than sorting all n for k this small.
  std::array<std::pair<float, uint8_t>, kMaxK> near;
  for (size_t i = 0; i < n; ++i) {
    size_t kept = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const float dx = x[j] - x[i], dy = y[j] - y[i];
      const float d2 = dx * dx + dy * dy;
      if (d2 < kMinEdge * kMinEdge || d2 > kMaxEdge * kMaxEdge) continue;
      const std::pair<float, uint8_t> entry{d2, static_cast<uint8_t>(j)};
      if (kept == k && !(entry < near[k - 1])) continue;
      size_t at = kept < k ? kept++ : k - 1;
      for (; at > 0 && entry < near[at - 1]; --at) near[at] = near[at - 1];
      near[at] = entry;
    }
    for (size_t e = 0; e < kept; ++e) {
      const size_t j = near[e].second;
      NeighbourEdge edge;
      edge.from = static_cast<uint8_t>(i);
      edge.to = static_cast<uint8_t>(j);
      edge.length = static_cast<uint8_t>(std::min(255L, std::lround(std::sqrt(near[e].first))));
      edge.alpha = static_cast<uint8_t>(ToUnits(std::atan2(y[j] - y[i], x[j] - x[i])) - angle[i]);
      edge.beta = static_cast<uint8_t>(angle[j] - angle[i]);
      out.push_back(edge);
    }
  }
  return out;
}

}  // namespace

// ---- FingerFeatures ---------------------------------------------------------

FingerFeatures::FingerFeatures(std::span<const Minutia> minutiae) {
  const size_t n = std::min(minutiae.size(), kMaxMinutiae);
  n_ = static_cast<uint8_t>(n);
  // Padded to a whole number of SIMD blocks with minutiae far outside any
  // print, so the pairing kernel never needs a tail loop.
  const size_t padded = (n + kBlock - 1) / kBlock * kBlock;
  x_.assign(padded, kFarAway);
  y_.assign(padded, kFarAway);
  angle_.assign(padded, 0);
  type_.assign(padded, 0);
  for (size_t i = 0; i < n; ++i) {
    x_[i] = minutiae[i].x;
    y_[i] = minutiae[i].y;
    angle_[i] = minutiae[i].angle;
    type_[i] = minutiae[i].type;
  }
  Build();
}

StatusOr<FingerFeatures> FingerFeatures::FromView(const FingerView& view, TemplateFormat format) {
  if (view.resolution_x == 0 || view.resolution_y == 0) {
    return InvalidArgument("finger view has zero resolution; cannot scale minutiae");
  }
  for (uint16_t r : {view.resolution_x, view.resolution_y}) {
    if (r < kMinResolution || r > kMaxResolution) {
      return InvalidArgument("finger view resolution " + std::to_string(r) + " px/cm is outside " +
                             std::to_string(kMinResolution) + ".." + std::to_string(kMaxResolution) +
                             " (100..2000 dpi); cannot scale minutiae");
    }
  }
  const float sx = 197.0f / view.resolution_x;
  const float sy = 197.0f / view.resolution_y;
  const bool ansi = format == TemplateFormat::kAnsi378_2004 || format == TemplateFormat::kAnsi378_2009 ||
                    format == TemplateFormat::kAnsi378_2009Am1;
  // Highest quality first, so the cap at kMaxMinutiae drops the worst ones.
  // Over the cap, equal qualities go nearest to the centroid first, so the
  // record loses its rim (where spurious minutiae crowd), not whichever part
  // of the print its list happens to end with.
  const auto& minutiae = view.minutiae;
  auto quality = [&](size_t i) {
    const uint8_t v = minutiae[i].quality;
    return v > 100 ? 50 : v;  // 254, 255: not reported, failed (19794-2:2011)
  };
  double cx = 0, cy = 0;
  for (const RecordMinutia& m : minutiae) {
    cx += m.x * sx / static_cast<double>(minutiae.size());
    cy += m.y * sy / static_cast<double>(minutiae.size());
  }
  auto off_centre = [&](size_t i) {
    const double dx = minutiae[i].x * sx - cx, dy = minutiae[i].y * sy - cy;
    return dx * dx + dy * dy;
  };
  const bool over_cap = minutiae.size() > kMaxMinutiae;
  std::vector<size_t> order(minutiae.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (quality(a) != quality(b)) return quality(a) > quality(b);
    return over_cap && off_centre(a) < off_centre(b);
  });
  std::vector<Minutia> out;
  for (size_t idx : order) {
    const RecordMinutia& m = view.minutiae[idx];
    Minutia f;
    f.x = m.x * sx;
    f.y = -(m.y * sy);  // y up, so angles are counter-clockwise as in the standards
    f.angle = ansi ? static_cast<uint8_t>((m.angle * 2 * 256 / 360) & 0xff) : m.angle;
    f.type = m.type;
    out.push_back(f);
  }
  return FingerFeatures(out);
}

std::vector<Minutia> FingerFeatures::Minutiae() const {
  std::vector<Minutia> out(size());
  for (size_t i = 0; i < size(); ++i) out[i] = {x_[i], y_[i], angle_[i], type_[i]};
  return out;
}

void FingerFeatures::Build() {
  const size_t n = size();
  edges_.clear();
  area_.fill(0);
  if (n > 0) {
    box_[0] = *std::min_element(x_.begin(), x_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[1] = *std::min_element(y_.begin(), y_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[2] = *std::max_element(x_.begin(), x_.begin() + static_cast<std::ptrdiff_t>(n));
    box_[3] = *std::max_element(y_.begin(), y_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  // Occupied cells (clamped so the dilation stays on the grid), then each
  // widened to its neighbours: one row up and down, one column each side.
  constexpr int kLast = kAreaCells - 2;
  std::array<uint32_t, kAreaCells> occupied{};
  for (size_t i = 0; i < n; ++i) {
    const AreaCell c = AreaCellOf(box_, x_[i], y_[i]);
    occupied[static_cast<size_t>(std::min(c.row, kLast))] |= uint32_t{1} << std::min(c.column, kLast);
  }
  for (int r = 1; r <= kLast; ++r) {
    const uint32_t wide = occupied[r] | occupied[r] << 1 | occupied[r] >> 1;
    area_[r - 1] |= wide;
    area_[r] |= wide;
    area_[r + 1] |= wide;
  }
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), n, kNeighbours)) {
    Edge edge;
    edge.from = e.from;
    edge.to = e.to;
    edge.length = e.length;
    edge.alpha = e.alpha;
    edge.beta = e.beta;
    edge.cell = static_cast<uint16_t>(CellOf(edge.length, edge.alpha, edge.beta));
    edges_.push_back(edge);
  }
}

std::vector<uint8_t> FingerFeatures::Serialize() const {
  std::vector<uint8_t> out;
  out.reserve(1 + 6 * size());
  out.push_back(static_cast<uint8_t>(size()));
  for (size_t i = 0; i < size(); ++i) {
    int x = std::clamp(static_cast<int>(std::lround(x_[i] * 4)), 0, 0xffff);
    int y = std::clamp(static_cast<int>(std::lround(-y_[i] * 4)), 0, 0xffff);
    out.push_back(static_cast<uint8_t>(x >> 8));
    out.push_back(static_cast<uint8_t>(x));
    out.push_back(static_cast<uint8_t>(y >> 8));
    out.push_back(static_cast<uint8_t>(y));
    out.push_back(angle_[i]);
    out.push_back(type_[i]);
  }
  return out;
}

StatusOr<FingerFeatures> FingerFeatures::Deserialize(std::span<const uint8_t> blob) {
  if (blob.empty()) return DataLoss("empty finger features blob");
  size_t n = blob[0];
  if (n > kMaxMinutiae || blob.size() != 1 + 6 * n) {
    return DataLoss("finger features blob of " + std::to_string(blob.size()) + " bytes does not hold " +
                    std::to_string(n) + " minutiae");
  }
  std::vector<Minutia> m(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = blob.data() + 1 + 6 * i;
    m[i].x = ((p[0] << 8) | p[1]) / 4.0f;
    m[i].y = -(((p[2] << 8) | p[3]) / 4.0f);
    m[i].angle = p[4];
    m[i].type = p[5];
  }
  return FingerFeatures(m);
}

namespace {

// Pre-filter code of an edge descriptor: 16 length x 32 alpha x 8 beta
// cells. Edges to the 10 nearest neighbours are mostly 15..110 px long and
// their beta (relative ridge direction) crowds around 0 and 128 units
// (neighbouring ridges run parallel), so the length and beta cells are
// narrow where the values crowd and wide elsewhere: each code is then about
// equally likely, which is what makes a shared code evidence. The length
// cells are the 16-quantiles of the lengths of these edges over all FVC2002
// DB1..DB4 templates (real 500 dpi prints); alpha is uniform in 8-unit
// cells (docs/biometrics.md, "Pre-filter").
constexpr int kSigLenEdges[15] = {19, 26, 31, 36, 41, 45, 50, 54, 58, 63, 68, 73, 80, 90, 105};
// Beta cells, after shifting beta by +6 units: [-6, 6) is cell 0.
constexpr int kSigBetaEdges[7] = {12, 26, 114, 128, 140, 154, 242};
constexpr int kSigAlphaCell = 8;                                   // units: 32 cells
constexpr int kSigLenTol = 2, kSigAlphaTol = 5, kSigBetaTol = 3;  // ~ mated descriptor noise

struct SignatureCells {
  std::array<uint8_t, 256> len{}, beta{};
  constexpr SignatureCells() {
    for (int v = 0; v < 256; ++v) {
      int l = 0;
      while (l < 15 && v >= kSigLenEdges[l]) ++l;
      len[v] = static_cast<uint8_t>(l);
      const int shifted = (v + 6) & 0xff;
      int b = 0;
      while (b < 7 && shifted >= kSigBetaEdges[b]) ++b;
      beta[v] = static_cast<uint8_t>(b);
    }
  }
};
constexpr SignatureCells kSigCells;
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

FingerFeatures::Signature FingerFeatures::EdgeSignature() const {
  Signature sig{};
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), size(), kSignatureNeighbours)) {
    const int code = SignatureCode(kSigCells.len[e.length], e.alpha / kSigAlphaCell, kSigCells.beta[e.beta]);
    sig[code >> 6] |= uint64_t{1} << (code & 63);
  }
  return sig;
}

FingerFeatures::Signature FingerFeatures::DilatedEdgeSignature() const {
  Signature sig{};
  std::array<int, 16> lens, alphas, betas;
  for (const NeighbourEdge& e : NeighbourEdges(x_.data(), y_.data(), angle_.data(), size(), kSignatureNeighbours)) {
    const int nl = CellsOf(std::max(0, e.length - kSigLenTol), std::min(255, e.length + kSigLenTol),
                           [](int v) { return kSigCells.len[v]; }, lens);
    const int na = CellsOf(e.alpha - kSigAlphaTol, e.alpha + kSigAlphaTol,
                           [](int v) { return (v & 0xff) / kSigAlphaCell; }, alphas);
    const int nb = CellsOf(e.beta - kSigBetaTol, e.beta + kSigBetaTol, [](int v) { return kSigCells.beta[v & 0xff]; }, betas);
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

size_t FingerFeatures::MemoryBytes() const {
  return sizeof(*this) + x_.capacity() * 8 + angle_.capacity() * 2 + edges_.capacity() * sizeof(Edge);
}

// ---- Edge tolerance test -----------------------------------------------------
//
// A probe edge (l1, a1, b1) and a candidate edge (l2, a2, b2) are look-alikes
// when |l1 - l2| <= LenTol(l2), |a1 - a2| <= kAlphaTol and |b1 - b2| <=
// kBetaTol (angles modulo 256). Each test is (x1 + tol - x2) mod 256 <= 2 tol,
// which for lengths is exact too because edge lengths lie in [kMinEdge,
// kMaxEdge] (so |l1 - l2| + tol < 256 - 2 tol). The three tests run at once
// on 9-bit lanes (bits 0, 9, 18) of a 32-bit word: the probe side is
// EdgeTestWord, the candidate side its EdgeOffset and EdgeLimit (a lane's sum
// stays below 512 and its difference above 0, so lanes never carry into each
// other). The probe edge's EdgeEndsWord holds from * 64 and to * 64 (16 bits
// each): adding the candidate's from and to gives the two vote indexes of the
// edge pair in one addition.

namespace {

static_assert(kMaxEdge - kMinEdge + kLenTol0 + kMaxEdge / kLenTolDiv < 256, "length test must not wrap");
static_assert(FingerFeatures::kMaxMinutiae == 64, "vote index is from * 64 + to");
constexpr uint32_t kLaneBytes = 0xffu | 0xffu << 9 | 0xffu << 18;
constexpr uint32_t kLaneSigns = 1u << 8 | 1u << 17 | 1u << 26;

inline uint32_t EdgeTestWord(const FingerFeatures::Edge& e) {
  return uint32_t{e.length} | uint32_t{e.alpha} << 9 | uint32_t{e.beta} << 18;
}

inline uint32_t EdgeEndsWord(const FingerFeatures::Edge& e) {
  return uint32_t{e.from} << 6 | uint32_t{e.to} << (16 + 6);
}

inline uint32_t EdgeOffset(int length, int alpha, int beta) {
  return static_cast<uint32_t>((LenTol(length) - length) & 0xff) |
         static_cast<uint32_t>((kAlphaTol - alpha) & 0xff) << 9 | static_cast<uint32_t>((kBetaTol - beta) & 0xff) << 18;
}

inline uint32_t EdgeLimit(int length) {
  return kLaneSigns | static_cast<uint32_t>(2 * LenTol(length)) | uint32_t{2 * kAlphaTol} << 9 |
         uint32_t{2 * kBetaTol} << 18;
}

// True when the probe edge with test word `word` is a look-alike of the
// candidate edge with `offset` and `limit`.
inline bool EdgesAlike(uint32_t word, uint32_t offset, uint32_t limit) {
  return ((limit - ((word + offset) & kLaneBytes)) & kLaneSigns) == kLaneSigns;
}

// The most grid cells one probe edge is spread over: length cells of the
// longest edge's window, times three alpha and three beta cells.
constexpr int kMaxCellsPerEdge =
    ((kMaxEdge + LenTol(kMaxEdge)) / kLenCell - (kMaxEdge - LenTol(kMaxEdge)) / kLenCell + 1) * 3 * 3;
static_assert(2 * kAngCell > 2 * kAlphaTol && 2 * kAngCell > 2 * kBetaTol, "an angle window spans at most 3 cells");
static_assert(2 * FingerFeatures::kMaxMinutiae * FingerFeatures::kNeighbours * kMaxCellsPerEdge + kScanPad <= 0xffff,
              "probe table positions fit in 16 bits");

}  // namespace

// ---- PreparedProbe ----------------------------------------------------------

PreparedProbe::PreparedProbe(FingerFeatures features) : features_(std::move(features)) {
  const auto& edges = features_.edges_;
  std::vector<uint16_t> counts(kCells + 1, 0);
  auto for_cells = [](const FingerFeatures::Edge& e, auto&& fn) {
    int tol = LenTol(e.length);
    int l0 = std::max(0, e.length - tol) / kLenCell;
    int l1 = std::min(255, e.length + tol) / kLenCell;
    // Angle intervals wrap; walk the cells from the low end to the high end.
    const int a_first = ((e.alpha - kAlphaTol) & 0xff) / kAngCell;
    const int a_count = ((((e.alpha + kAlphaTol) & 0xff) / kAngCell - a_first) & (kAngCells - 1)) + 1;
    const int b_first = ((e.beta - kBetaTol) & 0xff) / kAngCell;
    const int b_count = ((((e.beta + kBetaTol) & 0xff) / kAngCell - b_first) & (kAngCells - 1)) + 1;
    for (int l = l0; l <= l1; ++l)
      for (int ia = 0; ia < a_count; ++ia)
        for (int ib = 0; ib < b_count; ++ib)
          fn(l * kAngCells * kAngCells + ((a_first + ia) & (kAngCells - 1)) * kAngCells + ((b_first + ib) & (kAngCells - 1)));
  };
  for (const auto& e : edges) for_cells(e, [&](int c) { ++counts[c + 1]; });
  // Cell c holds its n test words at cell_start_[c], then their n ends words.
  cell_start_.assign(kCells + 1, 0);
  for (int c = 0; c < kCells; ++c) cell_start_[c + 1] = static_cast<uint16_t>(cell_start_[c] + 2 * counts[c + 1]);
  cell_words_.assign(cell_start_[kCells] + kScanPad, 0);
  std::vector<uint16_t> filled(kCells, 0);
  for (const auto& e : edges) {
    for_cells(e, [&](int c) {
      const size_t at = cell_start_[c] + filled[c]++;
      cell_words_[at] = EdgeTestWord(e);
      cell_words_[at + counts[c + 1]] = EdgeEndsWord(e);
    });
  }
  for (int c = 0; c < kCells; ++c) max_cell_ = std::max<size_t>(max_cell_, counts[c + 1]);
}

// ---- Matcher ----------------------------------------------------------------

namespace {

constexpr size_t kMaxM = FingerFeatures::kMaxMinutiae;

struct Transform {
  float c = 1, s = 0, dx = 0, dy = 0;
  uint8_t rot = 0;       // angle units
  float ax = 0, ay = 0;  // anchor in the candidate frame
};

// Sets t's rotation to the direction of the vector (dot, cross): cosine and
// sine by normalising the vector (no sincos), angle units from one atan2.
// A zero vector gives no rotation.
// Direction of the vector (x, y) in angle units, as ToUnits(atan2(y, x)) but
// with a polynomial arctangent (error under 1e-5 rad, 4e-4 units), so the two
// differ only for directions that close to a rounding boundary.
inline uint8_t UnitsOf(float y, float x) {
  const float ax = std::fabs(x), ay = std::fabs(y);
  const float big = std::max(ax, ay), small = std::min(ax, ay);
  if (big == 0) return 0;
  const float q = small / big, q2 = q * q;
  float r = q * (0.99997726f +
                 q2 * (-0.33262347f + q2 * (0.19354346f + q2 * (-0.11643287f + q2 * (0.05265332f + q2 * -0.01172120f)))));
  if (ay > ax) r = kPi / 2 - r;
  if (x < 0) r = kPi - r;
  if (y < 0) r = -r;
  return ToUnits(r);
}

inline void SetRotation(Transform& t, float dot, float cross) {
  const float norm = std::sqrt(dot * dot + cross * cross);
  t.c = norm > 0 ? dot / norm : 1.0f;
  t.s = norm > 0 ? cross / norm : 0.0f;
  t.rot = UnitsOf(cross, dot);
}

// The pairing kernels. Both have a scalar and an AVX2 version that give
// identical results: the same IEEE operations in the same order (matcher.cc
// is compiled with -ffp-contract=off, so none is fused; sqrt is exactly
// rounded in both).
//
// Align: transforms the probe minutiae by `t` and keeps, compacted in probe
// order, those that can reach the candidate's bounding box within their
// pairing radius (the others have no partner): position (tx, ty), squared
// radius (limit), direction (ta) and probe index (idx). Returns how many.
// REQUIRES: the probe arrays are padded to a multiple of FingerFeatures::kBlock;
// the output arrays hold kMaxM + kBlock entries.
//
// Nearest: for each kept probe minutia j, the candidate k < n2 with the
// smallest squared distance below limit[j] whose direction is within
// kPairAngleTol of ta[j]; on equal distances the lowest k. best_k[j] = -1 if
// there is none. REQUIRES: the Align arrays, with limit[j] = 0 for j in
// [n, n + kBlock) (no partner).
struct PairingBuffers {
  alignas(32) std::array<float, kMaxM + FingerFeatures::kBlock> tx, ty, limit, best_d2;
  alignas(32) std::array<int32_t, kMaxM + FingerFeatures::kBlock> ta, idx, best_k;
  alignas(32) std::array<int32_t, kMaxM> cand_angle;  // the candidate's directions as int32
};

struct AlignArgs {
  const float *px, *py;
  const uint8_t* pa;
  size_t n1;
  float box[4];  // candidate bounding box: x0, y0, x1, y1
};

inline bool AngleClose(uint8_t a, uint8_t b) {
  return static_cast<uint8_t>(a - b + kPairAngleTol) <= 2 * kPairAngleTol;
}

size_t AlignScalar(const AlignArgs& a, const Transform& t, PairingBuffers& b) {
  size_t live = 0;
  for (size_t i = 0; i < a.n1; ++i) {
    const float x = t.c * a.px[i] - t.s * a.py[i] + t.dx;
    const float y = t.s * a.px[i] + t.c * a.py[i] + t.dy;
    const float ax = x - t.ax, ay = y - t.ay;
    const float r = kPairRadius + kPairRadiusSlope * std::sqrt(ax * ax + ay * ay);
    const float limit = r * r;
    const float ox = std::max(std::max(a.box[0] - x, x - a.box[2]), 0.0f);
    const float oy = std::max(std::max(a.box[1] - y, y - a.box[3]), 0.0f);
    b.tx[live] = x;
    b.ty[live] = y;
    b.ta[live] = static_cast<uint8_t>(a.pa[i] + t.rot);
    b.limit[live] = limit;
    b.idx[live] = static_cast<int32_t>(i);
    live += ox * ox + oy * oy < limit;
  }
  return live;
}

void NearestScalar(size_t n, const float* cx, const float* cy, const uint8_t* ca, size_t n2, PairingBuffers& b) {
  for (size_t j = 0; j < n; ++j) {
    float best = b.limit[j];
    int best_k = -1;
    const uint8_t ta = static_cast<uint8_t>(b.ta[j]);
    for (size_t k = 0; k < n2; ++k) {
      const float dx = cx[k] - b.tx[j], dy = cy[k] - b.ty[j];
      const float d2 = dx * dx + dy * dy;
      if (d2 < best && AngleClose(ca[k], ta)) {
        best = d2;
        best_k = static_cast<int>(k);
      }
    }
    b.best_k[j] = best_k;
    b.best_d2[j] = best;
  }
}

// The look-alike scan (step 1 of the comparison): for each candidate edge in
// order, the probe edges of its hash cell that pass the tolerance test, in
// cell order, each written as its two vote indexes (EdgeEndsWord plus the
// candidate's from and to). Returns how many were written. REQUIRES: `out`
// holds at least sum over candidate edges of (cell size) + kScanPad entries;
// `cell_words` (PreparedProbe's layout) has kScanPad readable words after its
// last cell.
struct ScanArgs {
  std::span<const FingerFeatures::Edge> cand_edges;
  const uint16_t* cell_start;
  const uint32_t* cell_words;
};

size_t ScanScalar(const ScanArgs& a, uint32_t* out) {
  size_t npairs = 0;
  for (const auto& e2 : a.cand_edges) {
    const uint32_t offset = EdgeOffset(e2.length, e2.alpha, e2.beta);
    const uint32_t limit = EdgeLimit(e2.length);
    const uint32_t cand_ends = uint32_t{e2.from} | uint32_t{e2.to} << 16;
    const uint32_t* tests = a.cell_words + a.cell_start[e2.cell];
    const size_t n = (a.cell_start[e2.cell + 1] - a.cell_start[e2.cell]) / 2;
    const uint32_t* ends = tests + n;
    for (size_t i = 0; i < n; ++i) {
      // Branch-free: the outcome is unpredictable.
      out[npairs] = ends[i] + cand_ends;
      npairs += EdgesAlike(tests[i], offset, limit);
    }
  }
  return npairs;
}

// The choice of alignment hypotheses: the entries of support[0..n) with the
// kHypotheses largest values, largest first, lowest index first among equals;
// min(n, kHypotheses) of them, which the call zeroes in `support`; only the
// first when its support is below kMinSupport (no alignment is tried then).
// REQUIRES: every support[i] > 0 (an edge pair votes for both its endpoints,
// so its support is at least 2); kSupportBlock zeros after support[n - 1].
constexpr size_t kSupportBlock = 16;
struct TopEntry {
  uint32_t index;
  int support;
};

size_t TopSupportedScalar(uint16_t* support, size_t n, std::array<TopEntry, kHypotheses>& top) {
  const size_t h = std::min<size_t>(n, kHypotheses);
  for (size_t k = 0; k < h; ++k) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i) best = support[i] > support[best] ? i : best;
    top[k] = {static_cast<uint32_t>(best), support[best]};
    support[best] = 0;
    if (top[0].support < kMinSupport) return 1;
  }
  return h;
}

#if defined(__x86_64__) || defined(__i386__)
#define EKTP_BIO_HAVE_AVX2_KERNEL 1

// For each 8-bit lane mask, the lanes to gather (in order) so that the set
// lanes come first: 3 bits per lane.
constexpr std::array<uint32_t, 256> kCompact = [] {
  std::array<uint32_t, 256> table{};
  for (uint32_t m = 0; m < 256; ++m) {
    uint32_t packed = 0, out = 0;
    for (uint32_t lane = 0; lane < 8; ++lane) {
      if (m >> lane & 1) packed |= lane << (3 * out++);
    }
    table[m] = packed;
  }
  return table;
}();

__attribute__((target("avx2"))) size_t AlignAvx2(const AlignArgs& a, const Transform& t, PairingBuffers& b) {
  const __m256 c = _mm256_set1_ps(t.c), s = _mm256_set1_ps(t.s);
  const __m256 dx = _mm256_set1_ps(t.dx), dy = _mm256_set1_ps(t.dy);
  const __m256 anchor_x = _mm256_set1_ps(t.ax), anchor_y = _mm256_set1_ps(t.ay);
  const __m256 r0 = _mm256_set1_ps(kPairRadius), slope = _mm256_set1_ps(kPairRadiusSlope);
  const __m256 bx0 = _mm256_set1_ps(a.box[0]), by0 = _mm256_set1_ps(a.box[1]);
  const __m256 bx1 = _mm256_set1_ps(a.box[2]), by1 = _mm256_set1_ps(a.box[3]);
  const __m256 zero = _mm256_setzero_ps();
  const __m256i rot = _mm256_set1_epi32(t.rot), byte_mask = _mm256_set1_epi32(0xff);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
  const __m256i n1 = _mm256_set1_epi32(static_cast<int32_t>(a.n1));
  size_t live = 0;
  for (size_t i = 0; i < a.n1; i += 8) {
    const __m256 px = _mm256_loadu_ps(a.px + i), py = _mm256_loadu_ps(a.py + i);
    const __m256 x = _mm256_add_ps(_mm256_sub_ps(_mm256_mul_ps(c, px), _mm256_mul_ps(s, py)), dx);
    const __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(s, px), _mm256_mul_ps(c, py)), dy);
    const __m256 ax = _mm256_sub_ps(x, anchor_x), ay = _mm256_sub_ps(y, anchor_y);
    const __m256 r = _mm256_add_ps(
        r0, _mm256_mul_ps(slope, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(ax, ax), _mm256_mul_ps(ay, ay)))));
    const __m256 limit = _mm256_mul_ps(r, r);
    const __m256 ox = _mm256_max_ps(_mm256_max_ps(_mm256_sub_ps(bx0, x), _mm256_sub_ps(x, bx1)), zero);
    const __m256 oy = _mm256_max_ps(_mm256_max_ps(_mm256_sub_ps(by0, y), _mm256_sub_ps(y, by1)), zero);
    const __m256i index = _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(i)));
    const __m256 in_range = _mm256_cmp_ps(_mm256_add_ps(_mm256_mul_ps(ox, ox), _mm256_mul_ps(oy, oy)), limit, _CMP_LT_OQ);
    const __m256 keep = _mm256_and_ps(in_range, _mm256_castsi256_ps(_mm256_cmpgt_epi32(n1, index)));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(keep));
    const __m256i perm = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int32_t>(kCompact[mask])), shifts),
                                          _mm256_set1_epi32(7));
    const __m256i angle = _mm256_and_si256(
        _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a.pa + i))), rot), byte_mask);
    _mm256_storeu_ps(b.tx.data() + live, _mm256_permutevar8x32_ps(x, perm));
    _mm256_storeu_ps(b.ty.data() + live, _mm256_permutevar8x32_ps(y, perm));
    _mm256_storeu_ps(b.limit.data() + live, _mm256_permutevar8x32_ps(limit, perm));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.ta.data() + live), _mm256_permutevar8x32_epi32(angle, perm));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.idx.data() + live), _mm256_permutevar8x32_epi32(index, perm));
    live += static_cast<size_t>(__builtin_popcount(mask));
  }
  return live;
}

// Nearest over kBlock * Blocks kept probe minutiae from j, one candidate per
// step (the candidate's loads are shared by the blocks): a strictly smaller
// distance replaces the best, so the lowest k wins ties as in the scalar
// version.
template <int Blocks>
__attribute__((target("avx2"))) inline void NearestBlocksAvx2(size_t j, const float* cx, const float* cy, size_t n2,
                                                              PairingBuffers& b) {
  const __m256i byte_mask = _mm256_set1_epi32(0xff);
  const __m256i angle_limit = _mm256_set1_epi32(2 * kPairAngleTol + 1);
  const __m256i one = _mm256_set1_epi32(1);
  __m256 tx[Blocks], ty[Blocks], best[Blocks];
  __m256i shift[Blocks], best_k[Blocks];
#pragma GCC unroll 2
  for (int i = 0; i < Blocks; ++i) {
    const size_t at = j + FingerFeatures::kBlock * i;
    tx[i] = _mm256_load_ps(b.tx.data() + at);
    ty[i] = _mm256_load_ps(b.ty.data() + at);
    shift[i] = _mm256_sub_epi32(_mm256_set1_epi32(kPairAngleTol),
                                _mm256_load_si256(reinterpret_cast<const __m256i*>(b.ta.data() + at)));
    best[i] = _mm256_load_ps(b.limit.data() + at);
    best_k[i] = _mm256_set1_epi32(-1);
  }
  __m256i k_vec = _mm256_setzero_si256();
  for (size_t k = 0; k < n2; ++k) {
    const __m256 x = _mm256_broadcast_ss(cx + k), y = _mm256_broadcast_ss(cy + k);
    const __m256i angle = _mm256_set1_epi32(b.cand_angle[k]);
#pragma GCC unroll 2
    for (int i = 0; i < Blocks; ++i) {
      const __m256 dx = _mm256_sub_ps(x, tx[i]);
      const __m256 dy = _mm256_sub_ps(y, ty[i]);
      const __m256 d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
      const __m256i diff = _mm256_and_si256(_mm256_add_epi32(angle, shift[i]), byte_mask);
      const __m256 take = _mm256_and_ps(_mm256_cmp_ps(d2, best[i], _CMP_LT_OQ),
                                        _mm256_castsi256_ps(_mm256_cmpgt_epi32(angle_limit, diff)));
      best[i] = _mm256_blendv_ps(best[i], d2, take);
      best_k[i] = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(best_k[i]), _mm256_castsi256_ps(k_vec), take));
    }
    k_vec = _mm256_add_epi32(k_vec, one);
  }
#pragma GCC unroll 2
  for (int i = 0; i < Blocks; ++i) {
    const size_t at = j + FingerFeatures::kBlock * i;
    _mm256_store_ps(b.best_d2.data() + at, best[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(b.best_k.data() + at), best_k[i]);
  }
}

// Two blocks at a time, the last odd one alone.
__attribute__((target("avx2"))) void NearestAvx2(size_t n, const float* cx, const float* cy, size_t n2,
                                                 PairingBuffers& b) {
  constexpr size_t kB = FingerFeatures::kBlock;
  size_t j = 0;
  for (; j + kB < n; j += 2 * kB) NearestBlocksAvx2<2>(j, cx, cy, n2, b);
  if (j < n) NearestBlocksAvx2<1>(j, cx, cy, n2, b);
}

// LenTol without a division, for the SIMD prepass: l / 10 == l * 205 >> 11
// for every edge length.
constexpr bool DivideByTenExact() {
  for (int l = 0; l < 256; ++l) {
    if (l / kLenTolDiv != (l * 205) >> 11) return false;
  }
  return true;
}
static_assert(kLenTolDiv == 10 && DivideByTenExact(), "ScanAvx2's LenTol");
static_assert(sizeof(FingerFeatures::Edge) == 8 && offsetof(FingerFeatures::Edge, length) == 2 &&
                  offsetof(FingerFeatures::Edge, alpha) == 3 && offsetof(FingerFeatures::Edge, beta) == 4 &&
                  offsetof(FingerFeatures::Edge, cell) == 6,
              "ScanAvx2 reads four edges per 256-bit load");

// Eight probe edges per step: one step covers 93 % of the cells looked up
// on FVC2002, so the step count is predictable (a loop that ends at the
// cell's end would mispredict about once per candidate edge). The tolerance
// test runs on 32-bit lanes; the ends words of the passing lanes are
// compacted in order with kCompact. Lanes past the cell's end read the
// cell's ends words, the next cell or the padding and are masked off.
__attribute__((target("avx2"))) size_t ScanAvx2(const ScanArgs& a, uint32_t* out) {
  // Prepass: each candidate edge's EdgeOffset and EdgeLimit, four edges at a
  // time (the tail one by one).
  constexpr size_t kMaxEdges = FingerFeatures::kMaxMinutiae * FingerFeatures::kNeighbours;
  alignas(32) uint32_t offsets[kMaxEdges + 4], limits[kMaxEdges + 4];
  const size_t n_edges = a.cand_edges.size();
  const FingerFeatures::Edge* edges = a.cand_edges.data();
  size_t e = 0;
  {
    const __m256i byte = _mm256_set1_epi64x(0xff);
    const __m256i len_tol0 = _mm256_set1_epi64x(kLenTol0), div10 = _mm256_set1_epi64x(205);
    const __m256i alpha_tol = _mm256_set1_epi64x(kAlphaTol), beta_tol = _mm256_set1_epi64x(kBetaTol);
    const __m256i limit_rest = _mm256_set1_epi64x(EdgeLimit(0) - 2 * LenTol(0));
    const __m256i low_halves = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (; e + 4 <= n_edges; e += 4) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(edges + e));
      const __m256i length = _mm256_and_si256(_mm256_srli_epi64(w, 16), byte);
      const __m256i alpha = _mm256_and_si256(_mm256_srli_epi64(w, 24), byte);
      const __m256i beta = _mm256_and_si256(_mm256_srli_epi64(w, 32), byte);
      const __m256i tol = _mm256_add_epi64(len_tol0, _mm256_srli_epi64(_mm256_mul_epu32(length, div10), 11));
      const __m256i offset = _mm256_or_si256(
          _mm256_and_si256(_mm256_sub_epi64(tol, length), byte),
          _mm256_or_si256(_mm256_slli_epi64(_mm256_and_si256(_mm256_sub_epi64(alpha_tol, alpha), byte), 9),
                          _mm256_slli_epi64(_mm256_and_si256(_mm256_sub_epi64(beta_tol, beta), byte), 18)));
      const __m256i limit = _mm256_or_si256(limit_rest, _mm256_add_epi64(tol, tol));
      _mm_store_si128(reinterpret_cast<__m128i*>(offsets + e),
                      _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(offset, low_halves)));
      _mm_store_si128(reinterpret_cast<__m128i*>(limits + e),
                      _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(limit, low_halves)));
    }
  }
  for (; e < n_edges; ++e) {
    offsets[e] = EdgeOffset(edges[e].length, edges[e].alpha, edges[e].beta);
    limits[e] = EdgeLimit(edges[e].length);
  }

  const __m256i lane_bytes = _mm256_set1_epi32(static_cast<int32_t>(kLaneBytes));
  const __m256i lane_signs = _mm256_set1_epi32(static_cast<int32_t>(kLaneSigns));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
  const __m256i seven = _mm256_set1_epi32(7);
  size_t npairs = 0;
  for (e = 0; e < n_edges; ++e) {
    const FingerFeatures::Edge& e2 = edges[e];
    // The cells are scattered over the probe's table: fetch ahead.
    if (e + kScanAhead < n_edges) {
      _mm_prefetch(reinterpret_cast<const char*>(a.cell_words + a.cell_start[edges[e + kScanAhead].cell]), _MM_HINT_T0);
    }
    const __m256i offset = _mm256_set1_epi32(static_cast<int32_t>(offsets[e]));
    const __m256i limit = _mm256_set1_epi32(static_cast<int32_t>(limits[e]));
    const __m256i cand_ends = _mm256_set1_epi32(static_cast<int32_t>(uint32_t{e2.from} | uint32_t{e2.to} << 16));
    const uint32_t* tests = a.cell_words + a.cell_start[e2.cell];
    const int n = (a.cell_start[e2.cell + 1] - a.cell_start[e2.cell]) / 2;
    const uint32_t* ends = tests + n;
    int i = 0;
    do {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tests + i));
      const __m256i t = _mm256_and_si256(_mm256_add_epi32(w, offset), lane_bytes);
      const __m256i alike = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_sub_epi32(limit, t), lane_signs), lane_signs);
      const __m256i inside = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i), lane);
      const unsigned mask =
          static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_and_si256(alike, inside))));
      const __m256i perm =
          _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int32_t>(kCompact[mask])), shifts), seven);
      const __m256i pair = _mm256_add_epi32(
          _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ends + i)), perm), cand_ends);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + npairs), pair);
      npairs += static_cast<size_t>(__builtin_popcount(mask));
      i += 8;
    } while (i < n);
  }
  return npairs;
}

__attribute__((target("avx2"))) inline __m256i SupportBlock(const uint16_t* support, size_t b) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(support + b * kSupportBlock));
}

// Each hypothesis is a maximum over 16 supports per vector, then the first
// vector that holds it.
__attribute__((target("avx2"))) size_t TopSupportedAvx2(uint16_t* support, size_t n,
                                                        std::array<TopEntry, kHypotheses>& top) {
  const size_t h = std::min<size_t>(n, kHypotheses);
  const size_t blocks = (n + kSupportBlock - 1) / kSupportBlock;
  for (size_t k = 0; k < h; ++k) {
    __m256i most = SupportBlock(support, 0);
    for (size_t b = 1; b < blocks; ++b) most = _mm256_max_epu16(most, SupportBlock(support, b));
    // Horizontal maximum: the complement's minimum (SSE4.1 minpos).
    const __m128i ones = _mm_set1_epi16(-1);
    const __m128i half = _mm_max_epu16(_mm256_castsi256_si128(most), _mm256_extracti128_si256(most, 1));
    const int best = 0xffff - _mm_extract_epi16(_mm_minpos_epu16(_mm_xor_si128(half, ones)), 0);
    const __m256i target = _mm256_set1_epi16(static_cast<int16_t>(best));
    size_t at = 0;
    for (size_t b = 0;; ++b) {
      const unsigned hits = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(SupportBlock(support, b), target)));
      if (hits != 0) {
        at = b * kSupportBlock + static_cast<size_t>(__builtin_ctz(hits)) / 2;
        break;
      }
    }
    top[k] = {static_cast<uint32_t>(at), best};
    support[at] = 0;
    if (top[0].support < kMinSupport) return 1;
  }
  return h;
}

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#else
bool CpuHasAvx2() { return false; }
#endif

}  // namespace

struct Matcher::Scratch {
  // Votes per correspondence (probe * 64 + candidate): the vote count in the
  // low 16 bits, the comparison that counted it in the high 16 (`tag`), so
  // no comparison clears what the previous one counted; a count with another
  // tag is zero. The table is cleared when the tag wraps. A count stays below
  // 2^16: a probe and a candidate minutia share at most 5 x 5 edge pairs as
  // origins and 63 x 63 as ends, each voting once.
  std::array<uint32_t, kMaxM * kMaxM> votes{};
  uint32_t tag = 0;
  // A look-alike edge pair as its two vote indexes (probe * 64 + candidate)
  // for the from and the to minutiae, in the low and high 16 bits.
  using EdgePair = uint32_t;
  std::vector<EdgePair> pairs;
  // Support of each entry of `pairs`, capped at 0xffff, then kSupportBlock zeros.
  std::vector<uint16_t> supports;
  PairingBuffers pairing;
  std::array<int8_t, kMaxM> owner;  // candidate -> probe
  std::array<float, kMaxM> owner_dist;
  bool simd = false;
};

Matcher::Matcher() : Matcher(MatcherKernel::kAuto) {}

Matcher::Matcher(MatcherKernel kernel) : scratch_(std::make_unique<Scratch>()) {
  scratch_->pairs.reserve(1024);
  scratch_->simd = kernel == MatcherKernel::kAuto && CpuHasAvx2();
}

Matcher::~Matcher() = default;

MatchDetail Matcher::Compare(const PreparedProbe& prepared, const FingerFeatures& cand) {
  MatchDetail detail;
  const FingerFeatures& probe = prepared.features_;
  const size_t n1 = probe.size(), n2 = cand.size();
  if (n1 < 3 || n2 < 3) return detail;
  Scratch& s = *scratch_;

  // 1. Edge look-alikes: collected branch-free, then they vote for their two
  // minutia correspondences.
  const size_t bound = cand.edges_.size() * prepared.max_cell_ + kScanPad;
  if (s.pairs.size() < bound) {
    s.pairs.resize(bound);
    s.supports.resize(bound + kSupportBlock);
  }
  Scratch::EdgePair* const out = s.pairs.data();
  const ScanArgs scan{cand.edges_, prepared.cell_start_.data(), prepared.cell_words_.data()};
#ifdef EKTP_BIO_HAVE_AVX2_KERNEL
  const size_t npairs = s.simd ? ScanAvx2(scan, out) : ScanScalar(scan, out);
#else
  const size_t npairs = ScanScalar(scan, out);
#endif
  if (npairs == 0) return detail;
  s.tag = (s.tag + 0x10000) & 0xffff0000;
  if (s.tag == 0) {
    s.votes.fill(0);
    s.tag = 0x10000;
  }
  const uint32_t tag = s.tag;
  auto vote = [&](uint32_t index) {
    const uint32_t v = s.votes[index];
    s.votes[index] = ((v & 0xffff0000) == tag ? v : tag) + 1;
  };
  for (size_t pi = 0; pi < npairs; ++pi) {
    vote(out[pi] & 0xffff);
    vote(out[pi] >> 16);
  }
  // The kHypotheses best-supported edge pairs (support: the votes of both
  // endpoints), best first, earlier pairs first among equals.
  uint16_t* const supports = s.supports.data();
  for (size_t pi = 0; pi < npairs; ++pi) {
    supports[pi] = static_cast<uint16_t>(
        std::min((s.votes[out[pi] & 0xffff] & 0xffff) + (s.votes[out[pi] >> 16] & 0xffff), 0xffffu));
  }
  std::fill_n(supports + npairs, kSupportBlock, 0);
  std::array<TopEntry, kHypotheses> top;
#ifdef EKTP_BIO_HAVE_AVX2_KERNEL
  const size_t h = s.simd ? TopSupportedAvx2(supports, npairs, top) : TopSupportedScalar(supports, npairs, top);
#else
  const size_t h = TopSupportedScalar(supports, npairs, top);
#endif
  // Early exit: no minutia correspondence has enough edge support to anchor
  // an alignment. Such pairs score ~0 anyway (FVC2002: none above the EER
  // threshold); skipping them saves ~25 % of the time in 1:N searches.
  if (top[0].support < kMinSupport) return detail;

  // 2. Each hypothesis: align, pair, refine, pair again.
  PairingBuffers& pb = s.pairing;
  for (size_t k = 0; k < n2; ++k) pb.cand_angle[k] = cand.angle_[k];
  const AlignArgs align{probe.x_.data(), probe.y_.data(), probe.angle_.data(), n1,
                        {cand.box_[0], cand.box_[1], cand.box_[2], cand.box_[3]}};
  auto pair_up = [&](const Transform& t) {
    size_t live;
#ifdef EKTP_BIO_HAVE_AVX2_KERNEL
    if (s.simd) {
      live = AlignAvx2(align, t, pb);
      std::fill_n(pb.limit.data() + live, FingerFeatures::kBlock, 0.0f);
      NearestAvx2(live, cand.x_.data(), cand.y_.data(), n2, pb);
    } else {
      live = AlignScalar(align, t, pb);
      NearestScalar(live, cand.x_.data(), cand.y_.data(), cand.angle_.data(), n2, pb);
    }
#else
    live = AlignScalar(align, t, pb);
    NearestScalar(live, cand.x_.data(), cand.y_.data(), cand.angle_.data(), n2, pb);
#endif
    s.owner.fill(-1);
    int pairs = 0;
    for (size_t j = 0; j < live; ++j) {
      const int k = pb.best_k[j];
      if (k < 0) continue;
      const int i = pb.idx[j];
      const float d = pb.best_d2[j];
      if (s.owner[k] < 0) {
        s.owner[k] = static_cast<int8_t>(i);
        s.owner_dist[k] = d;
        ++pairs;
      } else if (d < s.owner_dist[k]) {
        s.owner[k] = static_cast<int8_t>(i);
        s.owner_dist[k] = d;
      }
    }
    return pairs;
  };

  // Rough pass: every hypothesis aligned from its edge pair. Hypotheses that
  // repeat an alignment already tried (the strongest edge pairs usually come
  // from one true alignment) are skipped. The pairing of the best one is
  // kept, so it is not recomputed below.
  std::array<Transform, kHypotheses> tried;
  size_t ntried = 0;
  int best_pairs = 0;
  Transform best_t;
  std::array<int8_t, kMaxM> best_owner;
  for (size_t hi = 0; hi < h; ++hi) {
    const uint32_t pair = out[top[hi].index];
    const unsigned pf = (pair & 0xffff) / kMaxM, cf = pair % kMaxM;
    const unsigned pt = (pair >> 16) / kMaxM, ct = (pair >> 16) % kMaxM;
    float p1x = probe.x_[pf], p1y = probe.y_[pf], p2x = probe.x_[pt], p2y = probe.y_[pt];
    float q1x = cand.x_[cf], q1y = cand.y_[cf], q2x = cand.x_[ct], q2y = cand.y_[ct];
    // The rotation that turns the probe edge p1->p2 into the candidate edge q1->q2.
    const float vpx = p2x - p1x, vpy = p2y - p1y, vqx = q2x - q1x, vqy = q2y - q1y;
    Transform t;
    SetRotation(t, vpx * vqx + vpy * vqy, vpx * vqy - vpy * vqx);
    float pmx = (p1x + p2x) / 2, pmy = (p1y + p2y) / 2;
    t.ax = (q1x + q2x) / 2;
    t.ay = (q1y + q2y) / 2;
    t.dx = t.ax - (t.c * pmx - t.s * pmy);
    t.dy = t.ay - (t.s * pmx + t.c * pmy);
    bool repeat = false;
    for (size_t k = 0; k < ntried && !repeat; ++k) {
      repeat = AngleDiff(tried[k].rot, t.rot) <= kSameRotation &&
               std::fabs(tried[k].dx - t.dx) + std::fabs(tried[k].dy - t.dy) <= kSameShift;
    }
    if (repeat) continue;
    tried[ntried++] = t;
    const int pairs = pair_up(t);
    if (pairs > best_pairs) {
      best_pairs = pairs;
      best_t = t;
      std::copy(s.owner.begin(), s.owner.begin() + static_cast<std::ptrdiff_t>(n2), best_owner.begin());
    }
  }
  // Fine pass: least-squares refinement of the best rough alignment.
  if (best_pairs >= 3) {
    float spx = 0, spy = 0, sqx = 0, sqy = 0;
    int m = 0;
    for (size_t k = 0; k < n2; ++k) {
      if (best_owner[k] < 0) continue;
      int i = best_owner[k];
      spx += probe.x_[i];
      spy += probe.y_[i];
      sqx += cand.x_[k];
      sqy += cand.y_[k];
      ++m;
    }
    spx /= m;
    spy /= m;
    sqx /= m;
    sqy /= m;
    float sxx = 0, sxy = 0;
    for (size_t k = 0; k < n2; ++k) {
      if (best_owner[k] < 0) continue;
      int i = best_owner[k];
      float px = probe.x_[i] - spx, py = probe.y_[i] - spy;
      float qx = cand.x_[k] - sqx, qy = cand.y_[k] - sqy;
      sxx += px * qx + py * qy;
      sxy += px * qy - py * qx;
    }
    Transform t2;
    SetRotation(t2, sxx, sxy);
    t2.dx = sqx - (t2.c * spx - t2.s * spy);
    t2.dy = sqy - (t2.s * spx + t2.c * spy);
    t2.ax = sqx;
    t2.ay = sqy;
    int pairs2 = pair_up(t2);
    if (pairs2 >= best_pairs) {
      best_pairs = pairs2;
      best_t = t2;
      std::copy(s.owner.begin(), s.owner.begin() + static_cast<std::ptrdiff_t>(n2), best_owner.begin());
    }
  }
  if (best_pairs == 0) return detail;

  // 3. Minutiae inside the common area.
  int probe_in = 0, cand_in = 0;
  for (size_t i = 0; i < n1; ++i) {
    float x = best_t.c * probe.x_[i] - best_t.s * probe.y_[i] + best_t.dx;
    float y = best_t.s * probe.x_[i] + best_t.c * probe.y_[i] + best_t.dy;
    probe_in += InCapturedArea(cand.area_, cand.box_, x, y);
  }
  for (size_t k = 0; k < n2; ++k) {
    float qx = cand.x_[k] - best_t.dx, qy = cand.y_[k] - best_t.dy;
    float x = best_t.c * qx + best_t.s * qy;
    float y = -best_t.s * qx + best_t.c * qy;
    cand_in += InCapturedArea(probe.area_, probe.box_, x, y);
  }
  float support = 0;
  {
    // The local support (edge votes) of each pair of the best alignment.
    for (size_t k = 0; k < n2; ++k) {
      if (best_owner[k] < 0) continue;
      const uint32_t entry = s.votes[best_owner[k] * kMaxM + k];
      const int v = (entry & 0xffff0000) == tag ? static_cast<int>(entry & 0xffff) : 0;
      support += kSupBase + (1 - kSupBase) * std::min(v, kSupCap) / float(kSupCap);
    }
  }
  const float m = support;
  const float a = std::max({static_cast<float>(probe_in), m, kMinDen});
  const float b = std::max({static_cast<float>(cand_in), m, kMinDen});
  detail.pairs = best_pairs;
  detail.probe_overlap = probe_in;
  detail.candidate_overlap = cand_in;
  detail.raw = m * m / (a * b) * std::min(1.0f, m / kFullM);
  detail.score = CalibrateRaw(detail.raw);
  return detail;
}

float Matcher::Score(const PreparedProbe& probe, const FingerFeatures& candidate) {
  return Compare(probe, candidate).score;
}

// Calibration: points (raw * 100, -10 * log10(FMR)) measured on the 11,520
// FVC2002 impostor pairs (docs/biometrics.md, "Calibration"). Beyond the last
// measured point (FMR 1e-4) the tail is extrapolated at 2 score points per
// raw point.
float CalibrateRaw(float raw) {
  static constexpr float kTable[][2] = {{0, 0},       {2.19f, 3},   {4.26f, 7},   {5.93f, 10},
                                        {7.80f, 13},  {10.17f, 17}, {12.02f, 20}, {13.53f, 23},
                                        {16.53f, 27}, {18.00f, 30}, {20.16f, 33}, {22.03f, 37},
                                        {22.89f, 40}};
  const float r = raw * 100.0f;
  constexpr size_t n = std::size(kTable);
  if (r >= kTable[n - 1][0]) return std::min(100.0f, kTable[n - 1][1] + 2.0f * (r - kTable[n - 1][0]));
  for (size_t i = 1; i < n; ++i) {
    if (r < kTable[i][0]) {
      float f = (r - kTable[i - 1][0]) / (kTable[i][0] - kTable[i - 1][0]);
      return kTable[i - 1][1] + f * (kTable[i][1] - kTable[i - 1][1]);
    }
  }
  return kTable[n - 1][1];
}

}  // namespace ektp::bio
