// The portable kernels (kernels.h): the reference the AVX2 ones must equal.
#include <algorithm>
#include <cmath>

#include "bio/edge_grid.h"
#include "bio/kernels.h"

namespace ektp::bio {
namespace {

using namespace params;

inline bool AngleClose(uint8_t a, uint8_t b) {
  return static_cast<uint8_t>(a - b + kPairAngleTol) <= 2 * kPairAngleTol;
}

// Align: transforms the probe minutiae by `t` and keeps, compacted in probe
// order, those that can reach the candidate's bounding box within their
// pairing radius: position (tx, ty), squared radius (limit), direction (ta)
// and probe index (idx). Returns how many.
size_t Align(const FeaturesView& p, const float* box, const Transform& t, NearestBuffers& b) {
  size_t live = 0;
  for (size_t i = 0; i < p.size; ++i) {
    const float x = t.c * p.x[i] - t.s * p.y[i] + t.dx;
    const float y = t.s * p.x[i] + t.c * p.y[i] + t.dy;
    const float ax = x - t.ax, ay = y - t.ay;
    const float r = kPairRadius + kPairRadiusSlope * std::sqrt(ax * ax + ay * ay);
    const float limit = r * r;
    const float ox = std::max(std::max(box[0] - x, x - box[2]), 0.0f);
    const float oy = std::max(std::max(box[1] - y, y - box[3]), 0.0f);
    b.tx[live] = x;
    b.ty[live] = y;
    b.ta[live] = static_cast<uint8_t>(p.angle[i] + t.rot);
    b.limit[live] = limit;
    b.idx[live] = static_cast<int32_t>(i);
    live += ox * ox + oy * oy < limit;
  }
  return live;
}

void Nearest(size_t n, const float* cx, const float* cy, const uint8_t* ca, size_t n2, NearestBuffers& b) {
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

size_t AlignAndNearest(const FeaturesView& probe, const FeaturesView& cand, const Transform& t, NearestBuffers& b) {
  const size_t live = Align(probe, cand.box, t, b);
  Nearest(live, cand.x, cand.y, cand.angle, cand.size, b);
  return live;
}

size_t Scan(const ScanArgs& a, EdgePair* out) {
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

size_t TopSupported(uint16_t* support, size_t n, TopEntries& top) {
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

}  // namespace

const Kernels& ScalarKernels() {
  static constexpr Kernels kScalar{"scalar", Scan, TopSupported, AlignAndNearest};
  return kScalar;
}

}  // namespace ektp::bio
