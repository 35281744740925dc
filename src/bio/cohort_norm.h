// Cohort normalisation of pre-filter evidence (docs/biometrics.md,
// "Pre-filter"). The evidence score assumes a print's edge codes are
// independent; they are not (parallel ridges give look-alike edges), and
// by how much differs from print to print, so some gallery fingers score
// high against every stranger. Each gallery finger's mean evidence against a
// cohort of unrelated prints is therefore measured once, at enrolment, and
// subtracted from every probe's evidence against it.
#pragma once

#include <cstddef>
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

}  // namespace ektp::bio
