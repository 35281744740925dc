// Cohort normalisation of pre-filter evidence (docs/biometrics.md,
// "Pre-filter"). The evidence score assumes a print's edge codes are
// independent; they are not (parallel ridges give look-alike edges), and
// by how much differs from print to print, so some gallery fingers score
// high against every stranger. Each gallery finger's evidence against a
// cohort of unrelated prints is therefore measured once, at enrolment; a
// search subtracts its mean over the cohort prints most like the probe
// (CohortSelection), the strangers whose look-alike structure the probe
// shares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ektp::bio {

// Cohort size: the engine draws it from the first kCohortFingers fingers it
// holds; below kCohortMinFingers it does not normalise.
inline constexpr size_t kCohortFingers = 128;
inline constexpr size_t kCohortMinFingers = 32;
// The highest values dropped before the mean, so that a gallery finger's own
// duplicates in the cohort do not lower its evidence.
inline constexpr size_t kCohortTrimmed = 4;

// The mean of `cohort_evidence` (one gallery finger against each cohort
// print) without its kCohortTrimmed highest values; 0 for fewer than
// kCohortMinFingers values.
float CohortMean(std::vector<float> cohort_evidence);

// A gallery finger's evidence against one cohort print as the engine holds
// it: 16 bits in steps of 1 / kCohortEvidenceSteps, saturating at -4096 and
// 4095.875 (a print's evidence against its own copy stays within).
inline constexpr float kCohortEvidenceSteps = 8;
int16_t QuantiseCohortEvidence(float evidence);

// The cohort prints a search takes a gallery finger's mean evidence over.
// Ordered by the probe's evidence against each (the print as the gallery
// finger), the kCohortTrimmed highest are skipped (the probe's own
// duplicates, should the cohort hold them) and the next half of the cohort
// is selected: the strangers most like the probe. None below
// kCohortMinFingers prints, so MeanOf is then 0.
class CohortSelection {
 public:
  explicit CohortSelection(std::span<const float> probe_evidence);
  // The mean over the selected prints of `row`, a gallery finger's
  // QuantiseCohortEvidence against each print in the probe_evidence order.
  float MeanOf(const int16_t* row) const;

 private:
  std::vector<int16_t> mask_;  // -1 selected, 0 not
  float scale_ = 0;           // 1 / (selected * kCohortEvidenceSteps)
};

}  // namespace ektp::bio
