#include "bio/rerank.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "bio/angle_units.h"
#include "bio/features_view.h"
#include "bio/kernels.h"
#include "bio/matcher_params.h"
#include "bio/voting.h"

namespace ektp::bio {
namespace {

using namespace params;

struct Trig {
  std::array<float, 256> cos{}, sin{};
  Trig() {
    for (int u = 0; u < 256; ++u) {
      cos[u] = std::cos(static_cast<float>(u) / kUnitsPerRadian);
      sin[u] = std::sin(static_cast<float>(u) / kUnitsPerRadian);
    }
  }
};
const Trig& TrigTable() {
  static const Trig t;
  return t;
}

constexpr size_t kHistogramCells = size_t{kRerankRotCells} * kRerankShiftCells * kRerankShiftCells;

// The cells whose centres are the two nearest to `v` (in cell units, cell i
// centred at i + 0.5), one when `v` lies beyond the first or last centre.
// Returns how many.
inline int NearestCells(float v, int cells, int out[2]) {
  // floor(v - 0.5) without a library call; far below 0 it is clamped anyway.
  const int below = static_cast<int>(std::max(v, -64.0f) + 63.5f) - 64;
  if (below < 0) {
    out[0] = 0;
    return 1;
  }
  if (below >= cells - 1) {
    out[0] = cells - 1;
    return 1;
  }
  out[0] = below;
  out[1] = below + 1;
  return 2;
}

}  // namespace

struct Reranker::Scratch {
  const Kernels* kernels = nullptr;
  VoteTable votes;
  std::vector<EdgePair> pairs;
  std::vector<uint16_t> supports;
  std::vector<uint16_t> histogram = std::vector<uint16_t>(kHistogramCells, 0);
  std::vector<uint32_t> touched;  // histogram cells counted in this comparison
};

Reranker::Reranker(MatcherKernel kernel) : scratch_(std::make_unique<Scratch>()) {
  const Kernels* avx2 = kernel == MatcherKernel::kAuto ? Avx2Kernels() : nullptr;
  scratch_->kernels = avx2 != nullptr ? avx2 : &ScalarKernels();
  scratch_->pairs.reserve(1024);
  scratch_->touched.reserve(8192);
}

Reranker::~Reranker() = default;

float Reranker::Score(const PreparedProbe& prepared, const FingerFeatures& candidate) {
  const ProbeView probe_table = ProbeView::Of(prepared);
  const FeaturesView& probe = probe_table.features;
  const FeaturesView cand = FeaturesView::Of(candidate);
  if (probe.size < 3 || cand.size < 3) return 0;
  Scratch& s = *scratch_;
  const size_t bound = cand.edges.size() * probe_table.max_cell + kScanPad;
  if (s.pairs.size() < bound) {
    s.pairs.resize(bound);
    s.supports.resize(bound + kSupportPad);
  }
  const size_t scanned = s.kernels->scan({cand.edges, probe_table.cell_start, probe_table.cell_words}, s.pairs.data());
  // Only look-alikes that another look-alike confirms (a correspondence at
  // one of its ends has another vote) take part: most of a stranger's do not.
  s.votes.Begin();
  s.votes.Tally(s.pairs.data(), scanned);
  s.votes.Supports(s.pairs.data(), scanned, s.supports.data());
  size_t npairs = 0;
  for (size_t i = 0; i < scanned; ++i) {
    if (s.supports[i] >= 3) s.pairs[npairs++] = s.pairs[i];
  }
  const Trig& trig = TrigTable();
  // The probe's box centre is the point whose landing place is voted for, so
  // a rotation error moves it least.
  const float cx = (probe.box[0] + probe.box[2]) / 2, cy = (probe.box[1] + probe.box[3]) / 2;
  int best = 0;
  for (size_t i = 0; i < npairs; ++i) {
    const EdgePair pair = s.pairs[i];
    const unsigned pf = (pair & 0xffff) / kMaxM, cf = pair % kMaxM;
    const unsigned pt = (pair >> 16) / kMaxM, ct = (pair >> 16) % kMaxM;
    // Rotation in half units (0..511): the mean of the two ends' direction
    // differences.
    const int rot_from = static_cast<uint8_t>(cand.angle[cf] - probe.angle[pf]);
    const int gap = static_cast<int8_t>(static_cast<uint8_t>(cand.angle[ct] - probe.angle[pt]) - rot_from);
    const int rot2 = (2 * rot_from + gap + 512) & 511;
    const uint8_t rot_units = static_cast<uint8_t>(((rot2 + 1) >> 1) & 0xff);
    const float c = trig.cos[rot_units], sn = trig.sin[rot_units];
    // Where the probe's box centre lands: the edges' midpoints must coincide.
    const float px = (probe.x[pf] + probe.x[pt]) * 0.5f - cx, py = (probe.y[pf] + probe.y[pt]) * 0.5f - cy;
    const float qx = (cand.x[cf] + cand.x[ct]) * 0.5f, qy = (cand.y[cf] + cand.y[ct]) * 0.5f;
    const float tx = qx - (c * px - sn * py), ty = qy - (sn * px + c * py);
    // The two nearest cells per axis (rotation wraps round): cell i is
    // centred at i + 0.5 cell widths.
    const int r_lo = ((rot2 - kRerankRotCell + 512) & 511) / (2 * kRerankRotCell);
    const int rots[2] = {r_lo, (r_lo + 1) % kRerankRotCells};
    int x_cells[2], y_cells[2];
    const int nx = NearestCells((tx - kRerankShiftOrigin) * (1.0f / kRerankShiftCell), kRerankShiftCells, x_cells);
    const int ny = NearestCells((ty - kRerankShiftOrigin) * (1.0f / kRerankShiftCell), kRerankShiftCells, y_cells);
    for (int a : rots) {
      for (int xi = 0; xi < nx; ++xi) {
        for (int yi = 0; yi < ny; ++yi) {
          const uint32_t cell =
              (static_cast<uint32_t>(a) * kRerankShiftCells + static_cast<uint32_t>(x_cells[xi])) * kRerankShiftCells +
              static_cast<uint32_t>(y_cells[yi]);
          const uint16_t count = ++s.histogram[cell];
          if (count == 1) s.touched.push_back(cell);
          best = std::max<int>(best, count);
        }
      }
    }
  }
  for (uint32_t cell : s.touched) s.histogram[cell] = 0;
  s.touched.clear();
  if (best == 0) return 0;
  // How unlikely the fullest cell is by chance: look-alikes of strangers
  // imply alignments spread evenly over every rotation and every shift at
  // which the two prints' boxes overlap (a cell collects the pairs within
  // one cell of its centre on each axis: 8 cells' worth). The count in one
  // cell is then Poisson with mean `lambda`; the score is -log10 of the
  // chance that any of the `cells` cells holds `best` or more.
  const float span_x = (probe.box[2] - probe.box[0]) + (cand.box[2] - cand.box[0]);
  const float span_y = (probe.box[3] - probe.box[1]) + (cand.box[3] - cand.box[1]);
  const double cells = static_cast<double>(kRerankRotCells) * std::max(1.0f, span_x / kRerankShiftCell) *
                       std::max(1.0f, span_y / kRerankShiftCell);
  const double lambda = static_cast<double>(npairs) * 8 / cells;
  const double k = best;
  // P(X >= k) <= P(X = k) / (1 - lambda / (k + 1)) for k + 1 > lambda.
  double log_tail = k * std::log(lambda) - lambda - std::lgamma(k + 1);
  if (k + 1 > lambda) log_tail -= std::log1p(-lambda / (k + 1));
  else log_tail = 0;
  return static_cast<float>(-(std::min(0.0, log_tail) + std::log(cells)) / std::log(10.0));
}

}  // namespace ektp::bio
