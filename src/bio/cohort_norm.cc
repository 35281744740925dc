#include "bio/cohort_norm.h"

#include <algorithm>

namespace ektp::bio {

float CohortMean(std::vector<float> cohort_evidence) {
  if (cohort_evidence.size() < kCohortMinFingers) return 0;
  std::sort(cohort_evidence.begin(), cohort_evidence.end());
  const size_t n = cohort_evidence.size() - kCohortTrimmed;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += cohort_evidence[i];
  return static_cast<float>(sum / static_cast<double>(n));
}

}  // namespace ektp::bio
