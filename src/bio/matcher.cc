#include "bio/matcher.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>

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

inline int LenTol(int length) { return kLenTol0 + length / kLenTolDiv; }

inline int CellOf(int length, int alpha, int beta) {
  return (length / kLenCell) * kAngCells * kAngCells + (alpha / kAngCell) * kAngCells + beta / kAngCell;
}

inline int AngleDiff(uint8_t a, uint8_t b) { return std::abs(static_cast<int>(static_cast<int8_t>(a - b))); }

inline uint8_t ToUnits(float radians) {
  int u = static_cast<int>(std::lround(radians * kUnitsPerRadian));
  return static_cast<uint8_t>(u & 0xff);
}

int MaskCell(float x, float y_up) {
  int cx = std::clamp(static_cast<int>(x) / 32, 0, 15);
  int cy = std::clamp(static_cast<int>(-y_up) / 32, 0, 15);
  return cy * 16 + cx;
}

inline bool MaskHas(const uint64_t* mask, float x, float y_up) {
  if (x < -16 || -y_up < -16 || x > 528 || -y_up > 528) return false;
  int c = MaskCell(x, y_up);
  return (mask[c >> 6] >> (c & 63)) & 1;
}

}  // namespace

// ---- FingerFeatures ---------------------------------------------------------

FingerFeatures::FingerFeatures(std::span<const Minutia> minutiae) {
  size_t n = std::min(minutiae.size(), kMaxMinutiae);
  x_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    x_.push_back(minutiae[i].x);
    y_.push_back(minutiae[i].y);
    angle_.push_back(minutiae[i].angle);
    type_.push_back(minutiae[i].type);
  }
  Build();
}

StatusOr<FingerFeatures> FingerFeatures::FromView(const FingerView& view, TemplateFormat format) {
  if (view.resolution_x == 0 || view.resolution_y == 0) {
    return InvalidArgument("finger view has zero resolution; cannot scale minutiae");
  }
  const float sx = 197.0f / view.resolution_x;
  const float sy = 197.0f / view.resolution_y;
  const bool ansi = format == TemplateFormat::kAnsi378_2004 || format == TemplateFormat::kAnsi378_2009 ||
                    format == TemplateFormat::kAnsi378_2009Am1;
  // Highest quality first, so the cap at kMaxMinutiae drops the worst ones.
  std::vector<size_t> order(view.minutiae.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto q = [](uint8_t v) { return v > 100 ? 50 : v; };
    return q(view.minutiae[a].quality) > q(view.minutiae[b].quality);
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
  std::memset(mask_, 0, sizeof(mask_));
  uint64_t raw[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    int c = MaskCell(x_[i], y_[i]);
    raw[c >> 6] |= uint64_t{1} << (c & 63);
  }
  for (int c = 0; c < 256; ++c) {
    if (!((raw[c >> 6] >> (c & 63)) & 1)) continue;
    int cx = c % 16, cy = c / 16;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        int nx = cx + dx, ny = cy + dy;
        if (nx < 0 || ny < 0 || nx > 15 || ny > 15) continue;
        int d = ny * 16 + nx;
        mask_[d >> 6] |= uint64_t{1} << (d & 63);
      }
    }
  }
  grid_start_.fill(0);
  grid_items_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) ++grid_start_[MaskCell(x_[i], y_[i]) + 1];
  for (int c = 0; c < 256; ++c) grid_start_[c + 1] = static_cast<uint8_t>(grid_start_[c + 1] + grid_start_[c]);
  {
    std::array<uint8_t, 256> fill;
    std::copy(grid_start_.begin(), grid_start_.end() - 1, fill.begin());
    for (size_t i = 0; i < n; ++i) grid_items_[fill[MaskCell(x_[i], y_[i])]++] = static_cast<uint8_t>(i);
  }
  std::vector<std::pair<float, uint8_t>> near;
  near.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    near.clear();
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      float dx = x_[j] - x_[i], dy = y_[j] - y_[i];
      float d2 = dx * dx + dy * dy;
      if (d2 < kMinEdge * kMinEdge || d2 > kMaxEdge * kMaxEdge) continue;
      near.emplace_back(d2, static_cast<uint8_t>(j));
    }
    size_t k = std::min(near.size(), kNeighbours);
    std::partial_sort(near.begin(), near.begin() + k, near.end());
    for (size_t e = 0; e < k; ++e) {
      size_t j = near[e].second;
      float dx = x_[j] - x_[i], dy = y_[j] - y_[i];
      Edge edge;
      edge.from = static_cast<uint8_t>(i);
      edge.to = static_cast<uint8_t>(j);
      edge.length = static_cast<uint8_t>(std::min(255L, std::lround(std::sqrt(near[e].first))));
      edge.alpha = static_cast<uint8_t>(ToUnits(std::atan2(dy, dx)) - angle_[i]);
      edge.beta = static_cast<uint8_t>(angle_[j] - angle_[i]);
      edge.cell = static_cast<uint16_t>(CellOf(edge.length, edge.alpha, edge.beta));
      edges_.push_back(edge);
    }
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

// Pre-filter code of an edge descriptor: 16 length x 16 alpha x 8 beta
// cells. Nearest-neighbour edges are mostly 12..80 px long and their beta
// (relative ridge direction) crowds around 0 and 128 units (neighbouring
// ridges run parallel), so the length and beta cells are narrow where the
// values crowd and wide elsewhere: each code is then about equally likely,
// which is what makes a shared code evidence. The cell edges follow the
// edge statistics of 500 dpi prints (docs/biometrics.md, "Pre-filter").
constexpr int kSigLenEdges[15] = {14, 18, 22, 26, 29, 32, 35, 38, 41, 44, 48, 52, 57, 63, 72};
// Beta cells, after shifting beta by +6 units: [-6, 6) is cell 0.
constexpr int kSigBetaEdges[7] = {12, 26, 114, 128, 140, 154, 242};
constexpr int kSigLenTol = 2, kSigAlphaTol = 6, kSigBetaTol = 4;  // ~ mated descriptor noise

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

inline int SignatureCode(int len_cell, int alpha_cell, int beta_cell) {
  return (len_cell * 16 + alpha_cell) * 8 + beta_cell;
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
  for (const Edge& e : edges_) {
    const int code = SignatureCode(kSigCells.len[e.length], e.alpha / 16, kSigCells.beta[e.beta]);
    sig[code >> 6] |= uint64_t{1} << (code & 63);
  }
  return sig;
}

FingerFeatures::Signature FingerFeatures::DilatedEdgeSignature() const {
  Signature sig{};
  std::array<int, 16> lens, alphas, betas;
  for (const Edge& e : edges_) {
    const int nl = CellsOf(std::max(0, e.length - kSigLenTol), std::min(255, e.length + kSigLenTol),
                           [](int v) { return kSigCells.len[v]; }, lens);
    const int na = CellsOf(e.alpha - kSigAlphaTol, e.alpha + kSigAlphaTol, [](int v) { return (v & 0xff) / 16; }, alphas);
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
  cell_start_.assign(kCells + 1, 0);
  for (int c = 0; c < kCells; ++c) cell_start_[c + 1] = static_cast<uint16_t>(cell_start_[c] + counts[c + 1]);
  cell_edges_.assign(cell_start_[kCells], CellEdge{});
  std::vector<uint16_t> fill(cell_start_.begin(), cell_start_.end() - 1);
  for (size_t i = 0; i < edges.size(); ++i) {
    const auto& e = edges[i];
    const CellEdge ce{e.from, e.to, e.length, e.alpha, e.beta, 0, static_cast<uint16_t>(i)};
    for_cells(e, [&](int c) { cell_edges_[fill[c]++] = ce; });
  }
}

// ---- Matcher ----------------------------------------------------------------

struct Matcher::Scratch {
  std::array<uint16_t, FingerFeatures::kMaxMinutiae * FingerFeatures::kMaxMinutiae> votes;
  struct EdgePair {
    uint16_t probe_edge, candidate_edge;
    int support;
  };
  std::vector<EdgePair> pairs;
  // Pairing buffers.
  std::array<float, FingerFeatures::kMaxMinutiae> tx, ty;
  std::array<uint8_t, FingerFeatures::kMaxMinutiae> ta;
  std::array<int8_t, FingerFeatures::kMaxMinutiae> best_of_probe;
  std::array<float, FingerFeatures::kMaxMinutiae> best_dist;
  std::array<int8_t, FingerFeatures::kMaxMinutiae> owner;   // candidate -> probe
  std::array<float, FingerFeatures::kMaxMinutiae> owner_dist;
};

Matcher::Matcher() : scratch_(std::make_unique<Scratch>()) { scratch_->pairs.reserve(1024); }
Matcher::~Matcher() = default;

namespace {

struct Transform {
  float c = 1, s = 0, dx = 0, dy = 0;
  uint8_t rot = 0;  // angle units
  float ax = 0, ay = 0;  // anchor in the candidate frame
};

}  // namespace

MatchDetail Matcher::Compare(const PreparedProbe& prepared, const FingerFeatures& cand) {
  MatchDetail detail;
  const FingerFeatures& probe = prepared.features_;
  const size_t n1 = probe.size(), n2 = cand.size();
  if (n1 < 3 || n2 < 3) return detail;
  Scratch& s = *scratch_;
  std::memset(s.votes.data(), 0, n1 * FingerFeatures::kMaxMinutiae * sizeof(s.votes[0]));

  // 1. Edge look-alikes vote for minutia correspondences.
  const auto& pedges = probe.edges_;
  if (s.pairs.size() < prepared.cell_edges_.size() + 1) s.pairs.resize(prepared.cell_edges_.size() + 1);
  size_t matched = 0;
  constexpr size_t kStride = FingerFeatures::kMaxMinutiae;
  for (size_t ce = 0; ce < cand.edges_.size(); ++ce) {
    const auto& e2 = cand.edges_[ce];
    const int tol = LenTol(e2.length);
    const auto* it = prepared.cell_edges_.data() + prepared.cell_start_[e2.cell];
    const auto* end = prepared.cell_edges_.data() + prepared.cell_start_[e2.cell + 1];
    for (; it != end; ++it) {
      // Branch-free: the outcome is unpredictable.
      const bool ok = (std::abs(it->length - e2.length) <= tol) & (AngleDiff(it->alpha, e2.alpha) <= kAlphaTol) &
                      (AngleDiff(it->beta, e2.beta) <= kBetaTol);
      s.votes[it->from * kStride + e2.from] += ok;
      s.votes[it->to * kStride + e2.to] += ok;
      s.pairs[matched] = {it->edge, static_cast<uint16_t>(ce), 0};
      matched += ok;
    }
  }
  const size_t npairs = matched;
  if (npairs == 0) return detail;
  for (size_t pi = 0; pi < npairs; ++pi) {
    auto& p = s.pairs[pi];
    const auto& e1 = pedges[p.probe_edge];
    const auto& e2 = cand.edges_[p.candidate_edge];
    p.support = s.votes[e1.from * FingerFeatures::kMaxMinutiae + e2.from] +
                s.votes[e1.to * FingerFeatures::kMaxMinutiae + e2.to];
  }
  const size_t h = std::min<size_t>(kHypotheses, npairs);
  std::partial_sort(s.pairs.begin(), s.pairs.begin() + h, s.pairs.begin() + npairs,
                    [](const auto& a, const auto& b) { return a.support > b.support; });
  // Early exit: no minutia correspondence has enough edge support to anchor
  // an alignment. Such pairs score ~0 anyway (FVC2002: none above the EER
  // threshold); skipping them saves ~25 % of the time in 1:N searches.
  if (s.pairs[0].support < kMinSupport) return detail;

  // 2. Each hypothesis: align, pair, refine, pair again.
  auto pair_up = [&](const Transform& t) {
    for (size_t i = 0; i < n1; ++i) {
      s.tx[i] = t.c * probe.x_[i] - t.s * probe.y_[i] + t.dx;
      s.ty[i] = t.s * probe.x_[i] + t.c * probe.y_[i] + t.dy;
      s.ta[i] = static_cast<uint8_t>(probe.angle_[i] + t.rot);
    }
    for (size_t k = 0; k < n2; ++k) s.owner[k] = -1;
    int pairs = 0;
    for (size_t i = 0; i < n1; ++i) {
      float ax = s.tx[i] - t.ax, ay = s.ty[i] - t.ay;
      float r = kPairRadius + kPairRadiusSlope * std::sqrt(ax * ax + ay * ay);
      float best = r * r;
      int best_k = -1;
      const float px = s.tx[i], py = -s.ty[i];  // grid rows grow downwards
      if (px + r < 0 || py + r < 0 || px - r >= 512 || py - r >= 512) {
        s.best_of_probe[i] = -1;
        continue;
      }
      const int cx0 = std::max(0, static_cast<int>(px - r) >> 5), cx1 = std::min(15, static_cast<int>(px + r) >> 5);
      const int cy0 = std::max(0, static_cast<int>(py - r) >> 5), cy1 = std::min(15, static_cast<int>(py + r) >> 5);
      for (int cy = cy0; cy <= cy1; ++cy) {
        for (int c = cy * 16 + cx0; c <= cy * 16 + cx1; ++c) {
          for (int g = cand.grid_start_[c]; g < cand.grid_start_[c + 1]; ++g) {
            const int k = cand.grid_items_[g];
            float dx = cand.x_[k] - s.tx[i], dy = cand.y_[k] - s.ty[i];
            float d2 = dx * dx + dy * dy;
            if (d2 < best && AngleDiff(cand.angle_[k], s.ta[i]) <= kPairAngleTol) {
              best = d2;
              best_k = k;
            }
          }
        }
      }
      s.best_of_probe[i] = static_cast<int8_t>(best_k);
      s.best_dist[i] = best;
      if (best_k >= 0) {
        if (s.owner[best_k] < 0) {
          s.owner[best_k] = static_cast<int8_t>(i);
          s.owner_dist[best_k] = best;
          ++pairs;
        } else if (best < s.owner_dist[best_k]) {
          s.owner[best_k] = static_cast<int8_t>(i);
          s.owner_dist[best_k] = best;
        }
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
  std::array<int8_t, FingerFeatures::kMaxMinutiae> best_owner;
  for (size_t hi = 0; hi < h; ++hi) {
    const auto& e1 = pedges[s.pairs[hi].probe_edge];
    const auto& e2 = cand.edges_[s.pairs[hi].candidate_edge];
    float p1x = probe.x_[e1.from], p1y = probe.y_[e1.from], p2x = probe.x_[e1.to], p2y = probe.y_[e1.to];
    float q1x = cand.x_[e2.from], q1y = cand.y_[e2.from], q2x = cand.x_[e2.to], q2y = cand.y_[e2.to];
    float rot = std::atan2(q2y - q1y, q2x - q1x) - std::atan2(p2y - p1y, p2x - p1x);
    Transform t;
    t.c = std::cos(rot);
    t.s = std::sin(rot);
    t.rot = ToUnits(rot);
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
    float r2 = std::atan2(sxy, sxx);
    Transform t2;
    t2.c = std::cos(r2);
    t2.s = std::sin(r2);
    t2.rot = ToUnits(r2);
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
    probe_in += MaskHas(cand.mask_, x, y);
  }
  for (size_t k = 0; k < n2; ++k) {
    float qx = cand.x_[k] - best_t.dx, qy = cand.y_[k] - best_t.dy;
    float x = best_t.c * qx + best_t.s * qy;
    float y = -best_t.s * qx + best_t.c * qy;
    cand_in += MaskHas(probe.mask_, x, y);
  }
  float support = 0;
  {
    // The local support (edge votes) of each pair of the best alignment.
    for (size_t k = 0; k < n2; ++k) {
      if (best_owner[k] < 0) continue;
      int v = s.votes[best_owner[k] * FingerFeatures::kMaxMinutiae + k];
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
