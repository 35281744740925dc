#include "bio/hypotheses.h"

#include <cmath>

#include "bio/angle_units.h"
#include "bio/matcher_params.h"

namespace ektp::bio {

Transform EdgePairAlignment(const FeaturesView& probe, const FeaturesView& cand, EdgePair pair) {
  const unsigned pf = (pair & 0xffff) / kMaxM, cf = pair % kMaxM;
  const unsigned pt = (pair >> 16) / kMaxM, ct = (pair >> 16) % kMaxM;
  const float p1x = probe.x[pf], p1y = probe.y[pf], p2x = probe.x[pt], p2y = probe.y[pt];
  const float q1x = cand.x[cf], q1y = cand.y[cf], q2x = cand.x[ct], q2y = cand.y[ct];
  const float vpx = p2x - p1x, vpy = p2y - p1y, vqx = q2x - q1x, vqy = q2y - q1y;
  Transform t;
  SetRotation(t, vpx * vqx + vpy * vqy, vpx * vqy - vpy * vqx);
  const float pmx = (p1x + p2x) / 2, pmy = (p1y + p2y) / 2;
  t.ax = (q1x + q2x) / 2;
  t.ay = (q1y + q2y) / 2;
  t.dx = t.ax - (t.c * pmx - t.s * pmy);
  t.dy = t.ay - (t.s * pmx + t.c * pmy);
  return t;
}

bool SameAlignment(const Transform& a, const Transform& b) {
  return AngleDiff(a.rot, b.rot) <= params::kSameRotation &&
         std::fabs(a.dx - b.dx) + std::fabs(a.dy - b.dy) <= params::kSameShift;
}

}  // namespace ektp::bio
