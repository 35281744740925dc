// The pairing stage: probe and candidate minutiae paired one-to-one under
// an alignment (bio-internal).
#pragma once

#include <array>
#include <cstdint>

#include "bio/features_view.h"
#include "bio/kernels.h"
#include "bio/transform.h"

namespace ektp::bio {

struct Pairing {
  int pairs = 0;
  // owner[k]: the probe minutia paired with candidate minutia k, -1 for none
  // (entries at and past the candidate's size are -1).
  std::array<int8_t, kMaxM> owner;
};

// Each probe minutia takes its nearest candidate within the pairing radius
// and angle tolerance (Kernels::nearest); a candidate claimed twice keeps
// the nearer probe minutia (the earlier one on equal distances). Not
// thread-safe (a Matcher's scratch).
class Pairer {
 public:
  void PairUp(const Kernels& kernels, const FeaturesView& probe, const FeaturesView& candidate, const Transform& t,
              Pairing& out);

 private:
  NearestBuffers nearest_;
  std::array<float, kMaxM> owner_dist_;
};

}  // namespace ektp::bio
