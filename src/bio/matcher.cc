// Matcher: one comparison as its stages, each in its own file (see
// docs/biometrics.md, "Matcher"). The kernels are chosen once, here.
#include "bio/matcher.h"

#include <algorithm>
#include <vector>

#include "bio/features_view.h"
#include "bio/hypotheses.h"
#include "bio/kernels.h"
#include "bio/matcher_params.h"
#include "bio/overlap.h"
#include "bio/pairing.h"
#include "bio/refinement.h"
#include "bio/scoring.h"
#include "bio/voting.h"

namespace ektp::bio {

using namespace params;

struct Matcher::Scratch {
  const Kernels* kernels = nullptr;
  VoteTable votes;
  std::vector<EdgePair> pairs;     // look-alike edge pairs of the comparison
  std::vector<uint16_t> supports;  // support of each of `pairs`, then kSupportPad zeros
  Pairer pairer;
  Pairing pairing;  // of the latest PairUp
};

Matcher::Matcher() : Matcher(MatcherKernel::kAuto) {}

Matcher::Matcher(MatcherKernel kernel) : scratch_(std::make_unique<Scratch>()) {
  const Kernels* avx2 = kernel == MatcherKernel::kAuto ? Avx2Kernels() : nullptr;
  scratch_->kernels = avx2 != nullptr ? avx2 : &ScalarKernels();
  scratch_->pairs.reserve(1024);
}

Matcher::~Matcher() = default;

const char* Matcher::kernel_name() const { return scratch_->kernels->name; }

MatchDetail Matcher::Compare(const PreparedProbe& prepared, const FingerFeatures& candidate) {
  MatchDetail detail;
  const ProbeView probe_table = ProbeView::Of(prepared);
  const FeaturesView& probe = probe_table.features;
  const FeaturesView cand = FeaturesView::Of(candidate);
  if (probe.size < 3 || cand.size < 3) return detail;
  Scratch& s = *scratch_;
  const Kernels& kernels = *s.kernels;

  // 1. Look-alike edge pairs, each voting for its two correspondences.
  const size_t bound = cand.edges.size() * probe_table.max_cell + kScanPad;
  if (s.pairs.size() < bound) {
    s.pairs.resize(bound);
    s.supports.resize(bound + kSupportPad);
  }
  const size_t npairs = kernels.scan({cand.edges, probe_table.cell_start, probe_table.cell_words}, s.pairs.data());
  if (npairs == 0) return detail;
  s.votes.Begin();
  s.votes.Tally(s.pairs.data(), npairs);

  // 2. Hypotheses: the best-supported edge pairs. Without enough support no
  // correspondence can anchor an alignment: such pairs would score about 0
  // (FVC2002: none above the EER threshold), and most impostors end here.
  s.votes.Supports(s.pairs.data(), npairs, s.supports.data());
  TopEntries top;
  const size_t hypotheses = kernels.top_supported(s.supports.data(), npairs, top);
  if (top[0].support < kMinSupport) return detail;

  // 3. Rough pass: pair up under each distinct hypothesis, keep the best.
  std::array<Transform, kHypotheses> tried;
  size_t ntried = 0;
  Pairing best;
  best.pairs = 0;
  Transform best_t;
  for (size_t h = 0; h < hypotheses; ++h) {
    const Transform t = EdgePairAlignment(probe, cand, s.pairs[top[h].index]);
    if (std::any_of(tried.begin(), tried.begin() + ntried, [&](const Transform& u) { return SameAlignment(u, t); })) {
      continue;
    }
    tried[ntried++] = t;
    s.pairer.PairUp(kernels, probe, cand, t, s.pairing);
    if (s.pairing.pairs > best.pairs) {
      best = s.pairing;
      best_t = t;
    }
  }

  // 4. Fine pass: the least-squares alignment of the best pairing, paired again.
  if (best.pairs >= 3) {
    const Transform t = RefineLeastSquares(probe, cand, best);
    s.pairer.PairUp(kernels, probe, cand, t, s.pairing);
    if (s.pairing.pairs >= best.pairs) {
      best = s.pairing;
      best_t = t;
    }
  }
  if (best.pairs == 0) return detail;

  // 5. Overlap and score.
  const Overlap overlap = CountOverlap(probe, cand, best_t);
  detail.pairs = best.pairs;
  detail.probe_overlap = overlap.probe_in;
  detail.candidate_overlap = overlap.candidate_in;
  detail.raw = RawSimilarity(WeightedPairs(best, cand.size, s.votes), overlap);
  detail.score = CalibrateRaw(detail.raw);
  return detail;
}

float Matcher::Score(const PreparedProbe& probe, const FingerFeatures& candidate) {
  return Compare(probe, candidate).score;
}

}  // namespace ektp::bio
