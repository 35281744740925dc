#include "bio/cohort_norm.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ektp::bio {

float CohortMean(std::vector<float> cohort_evidence) {
  if (cohort_evidence.size() < kCohortMinFingers) return 0;
  std::sort(cohort_evidence.begin(), cohort_evidence.end());
  const size_t n = cohort_evidence.size() - kCohortTrimmed;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += cohort_evidence[i];
  return static_cast<float>(sum / static_cast<double>(n));
}

int16_t QuantiseCohortEvidence(float evidence) {
  return static_cast<int16_t>(std::clamp(std::lround(evidence * kCohortEvidenceSteps), -32768L, 32767L));
}

CohortSelection::CohortSelection(std::span<const float> probe_evidence) : mask_(probe_evidence.size(), 0) {
  const size_t n = probe_evidence.size();
  if (n < kCohortMinFingers) return;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  // Ties by index, so the selection does not depend on the sort.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return probe_evidence[a] != probe_evidence[b] ? probe_evidence[a] > probe_evidence[b] : a < b;
  });
  const size_t selected = n / 2;
  for (size_t r = kCohortTrimmed; r < kCohortTrimmed + selected; ++r) mask_[order[r]] = -1;
  scale_ = 1.0f / (static_cast<float>(selected) * kCohortEvidenceSteps);
}

float CohortSelection::MeanOf(const int16_t* row) const {
  int sum = 0;
  for (size_t k = 0; k < mask_.size(); ++k) sum += row[k] & mask_[k];
  return static_cast<float>(sum) * scale_;
}

}  // namespace ektp::bio
