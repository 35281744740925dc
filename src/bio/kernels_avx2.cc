// The AVX2 kernels (kernels.h), compiled for every x86 build and used only
// when the CPU has AVX2 (each function carries target("avx2"), so nothing
// else in the binary needs it).
#include "bio/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "bio/edge_grid.h"

namespace ektp::bio {
namespace {

using namespace params;


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

__attribute__((target("avx2"))) size_t AlignAvx2(const FeaturesView& p, const float* box, const Transform& t,
                                                 NearestBuffers& b) {
  const __m256 c = _mm256_set1_ps(t.c), s = _mm256_set1_ps(t.s);
  const __m256 dx = _mm256_set1_ps(t.dx), dy = _mm256_set1_ps(t.dy);
  const __m256 anchor_x = _mm256_set1_ps(t.ax), anchor_y = _mm256_set1_ps(t.ay);
  const __m256 r0 = _mm256_set1_ps(kPairRadius), slope = _mm256_set1_ps(kPairRadiusSlope);
  const __m256 bx0 = _mm256_set1_ps(box[0]), by0 = _mm256_set1_ps(box[1]);
  const __m256 bx1 = _mm256_set1_ps(box[2]), by1 = _mm256_set1_ps(box[3]);
  const __m256 zero = _mm256_setzero_ps();
  const __m256i rot = _mm256_set1_epi32(t.rot), byte_mask = _mm256_set1_epi32(0xff);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
  const __m256i n1 = _mm256_set1_epi32(static_cast<int32_t>(p.size));
  size_t live = 0;
  for (size_t i = 0; i < p.size; i += 8) {
    const __m256 px = _mm256_loadu_ps(p.x + i), py = _mm256_loadu_ps(p.y + i);
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
        _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p.angle + i))), rot), byte_mask);
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
                                                              NearestBuffers& b) {
  const __m256i byte_mask = _mm256_set1_epi32(0xff);
  const __m256i angle_limit = _mm256_set1_epi32(2 * kPairAngleTol + 1);
  const __m256i one = _mm256_set1_epi32(1);
  __m256 tx[Blocks], ty[Blocks], best[Blocks];
  __m256i shift[Blocks], best_k[Blocks];
#pragma GCC unroll 2
  for (int i = 0; i < Blocks; ++i) {
    const size_t at = j + kBlock * i;
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
    const size_t at = j + kBlock * i;
    _mm256_store_ps(b.best_d2.data() + at, best[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(b.best_k.data() + at), best_k[i]);
  }
}

// Two blocks at a time, the last odd one alone.
__attribute__((target("avx2"))) void NearestAvx2(size_t n, const float* cx, const float* cy, size_t n2,
                                                 NearestBuffers& b) {
  constexpr size_t kB = kBlock;
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
static_assert(sizeof(FeaturesView::Edge) == 8 && offsetof(FeaturesView::Edge, length) == 2 &&
                  offsetof(FeaturesView::Edge, alpha) == 3 && offsetof(FeaturesView::Edge, beta) == 4 &&
                  offsetof(FeaturesView::Edge, cell) == 6,
              "ScanAvx2 reads four edges per 256-bit load");

// Eight probe edges per step: one step covers 93 % of the cells looked up
// on FVC2002, so the step count is predictable (a loop that ends at the
// cell's end would mispredict about once per candidate edge). The tolerance
// test runs on 32-bit lanes; the ends words of the passing lanes are
// compacted in order with kCompact. Lanes past the cell's end read the
// cell's ends words, the next cell or the padding and are masked off.
__attribute__((target("avx2"))) size_t ScanAvx2(const ScanArgs& a, EdgePair* out) {
  // Prepass: each candidate edge's EdgeOffset and EdgeLimit, four edges at a
  // time (the tail one by one).
  constexpr size_t kMaxEdges = FingerFeatures::kMaxMinutiae * kNeighbours;
  alignas(32) uint32_t offsets[kMaxEdges + 4], limits[kMaxEdges + 4];
  const size_t n_edges = a.cand_edges.size();
  const FeaturesView::Edge* edges = a.cand_edges.data();
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
    const FeaturesView::Edge& e2 = edges[e];
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
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(support + b * kSupportPad));
}

// Each hypothesis is a maximum over 16 supports per vector, then the first
// vector that holds it.
__attribute__((target("avx2"))) size_t TopSupportedAvx2(uint16_t* support, size_t n,
                                                        TopEntries& top) {
  const size_t h = std::min<size_t>(n, kHypotheses);
  const size_t blocks = (n + kSupportPad - 1) / kSupportPad;
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
        at = b * kSupportPad + static_cast<size_t>(__builtin_ctz(hits)) / 2;
        break;
      }
    }
    top[k] = {static_cast<uint32_t>(at), best};
    support[at] = 0;
    if (top[0].support < kMinSupport) return 1;
  }
  return h;
}

// The kernels.h contract: transform, keep the probe minutiae that can reach
// the candidate, then the nearest candidate of each.
__attribute__((target("avx2"))) size_t AlignAndNearestAvx2(const FeaturesView& probe, const FeaturesView& cand,
                                                           const Transform& t, NearestBuffers& b) {
  for (size_t k = 0; k < cand.size; ++k) b.cand_angle[k] = cand.angle[k];
  const size_t live = AlignAvx2(probe, cand.box, t, b);
  std::fill_n(b.limit.data() + live, kBlock, 0.0f);  // the last block's spare lanes find no partner
  NearestAvx2(live, cand.x, cand.y, cand.size, b);
  return live;
}

}  // namespace

const Kernels* Avx2Kernels() {
  static constexpr Kernels kAvx2{"avx2", ScanAvx2, TopSupportedAvx2, AlignAndNearestAvx2};
  static const bool cpu_has_avx2 = __builtin_cpu_supports("avx2");
  return cpu_has_avx2 ? &kAvx2 : nullptr;
}

}  // namespace ektp::bio

#else

namespace ektp::bio {
const Kernels* Avx2Kernels() { return nullptr; }
}  // namespace ektp::bio

#endif
