#include "bio/pairing.h"

namespace ektp::bio {

void Pairer::PairUp(const Kernels& kernels, const FeaturesView& probe, const FeaturesView& cand, const Transform& t,
                    Pairing& out) {
  const size_t live = kernels.nearest(probe, cand, t, nearest_);
  out.owner.fill(-1);
  out.pairs = 0;
  for (size_t j = 0; j < live; ++j) {
    const int k = nearest_.best_k[j];
    if (k < 0) continue;
    const int i = nearest_.idx[j];
    const float d = nearest_.best_d2[j];
    if (out.owner[k] < 0) {
      out.owner[k] = static_cast<int8_t>(i);
      owner_dist_[k] = d;
      ++out.pairs;
    } else if (d < owner_dist_[k]) {
      out.owner[k] = static_cast<int8_t>(i);
      owner_dist_[k] = d;
    }
  }
}

}  // namespace ektp::bio
