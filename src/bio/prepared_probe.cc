// PreparedProbe: the probe's edges spread over the edge hash grid
// (edge_grid.h), so each candidate edge finds its look-alikes in one cell.
#include <algorithm>
#include <utility>
#include <vector>

#include "bio/edge_grid.h"
#include "bio/features_view.h"
#include "bio/matcher.h"
#include "bio/matcher_params.h"

namespace ektp::bio {
namespace {

using namespace params;

// The most grid cells one probe edge is spread over: length cells of the
// longest edge's window, times three alpha and three beta cells.
constexpr int kMaxCellsPerEdge =
    ((kMaxEdge + LenTol(kMaxEdge)) / kLenCell - (kMaxEdge - LenTol(kMaxEdge)) / kLenCell + 1) * 3 * 3;
static_assert(2 * kAngCell > 2 * kAlphaTol && 2 * kAngCell > 2 * kBetaTol, "an angle window spans at most 3 cells");
static_assert(2 * FingerFeatures::kMaxMinutiae * kNeighbours * kMaxCellsPerEdge + kScanPad <= 0xffff,
              "probe table positions fit in 16 bits");

}  // namespace

PreparedProbe::PreparedProbe(FingerFeatures features) : features_(std::move(features)) {
  const auto edges = FeaturesView::Of(features_).edges;
  std::vector<uint16_t> counts(kCells + 1, 0);
  auto for_cells = [](const FeaturesView::Edge& e, auto&& fn) {
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

}  // namespace ektp::bio
