#include "bio/refinement.h"

namespace ektp::bio {

Transform RefineLeastSquares(const FeaturesView& probe, const FeaturesView& cand, const Pairing& pairing) {
  float spx = 0, spy = 0, sqx = 0, sqy = 0;
  int m = 0;
  for (size_t k = 0; k < cand.size; ++k) {
    if (pairing.owner[k] < 0) continue;
    const int i = pairing.owner[k];
    spx += probe.x[i];
    spy += probe.y[i];
    sqx += cand.x[k];
    sqy += cand.y[k];
    ++m;
  }
  spx /= m;
  spy /= m;
  sqx /= m;
  sqy /= m;
  float sxx = 0, sxy = 0;
  for (size_t k = 0; k < cand.size; ++k) {
    if (pairing.owner[k] < 0) continue;
    const int i = pairing.owner[k];
    const float px = probe.x[i] - spx, py = probe.y[i] - spy;
    const float qx = cand.x[k] - sqx, qy = cand.y[k] - sqy;
    sxx += px * qx + py * qy;
    sxy += px * qy - py * qx;
  }
  Transform t;
  SetRotation(t, sxx, sxy);
  t.dx = sqx - (t.c * spx - t.s * spy);
  t.dy = sqy - (t.s * spx + t.c * spy);
  t.ax = sqx;
  t.ay = sqy;
  return t;
}

}  // namespace ektp::bio
