// FVC-protocol accuracy evaluation (docs/biometrics.md, "Accuracy").
//
// A database folder holds templates named FFF_I.<ext> (finger FFF,
// impression I). Genuine pairs: every unordered pair of impressions of the
// same finger; impostor pairs: every unordered pair of templates of
// different fingers. Each pair is scored once, the lower-numbered template
// as probe.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "bio/matcher.h"
#include "core/status.h"

namespace ektp::bio {

struct ErrorRates {
  double eer = 0;       // equal error rate, FVC definition (midpoint of the crossing interval)
  double fmr100 = 0;    // lowest FNMR with FMR <= 1%
  double fmr1000 = 0;   // lowest FNMR with FMR <= 0.1%
  double zero_fmr = 0;  // lowest FNMR with FMR == 0
  size_t genuine = 0;
  size_t impostor = 0;
};

// Higher score = more similar; a pair is accepted when score >= threshold.
ErrorRates ComputeErrorRates(std::vector<float> genuine, std::vector<float> impostor);

// Lowest threshold whose FMR on `impostor` scores is at most `fmr`.
float ThresholdForFmr(std::vector<float> impostor, double fmr);

// The calibration check: for each threshold, how many `impostor` scores
// reach it. Matcher's calibration promises that a share of about
// 10^(-threshold / 10) do.
struct ObservedFmr {
  float threshold = 0;
  size_t accepted = 0;  // impostor scores >= threshold
  size_t impostors = 0;
  double fmr() const { return impostors ? static_cast<double>(accepted) / static_cast<double>(impostors) : 0.0; }
  double nominal_fmr() const { return std::pow(10.0, -threshold / 10.0); }
};
std::vector<ObservedFmr> ObserveFmr(const std::vector<float>& impostor, const std::vector<float>& thresholds);

struct FvcSample {
  std::string path;
  int finger = 0;
  int impression = 0;
  FingerFeatures features;
};

// Loads every FFF_I.* template (.iso/.ist/.ansi/.dat/.fmr) in `dir`, sorted by
// finger then impression. Errors: kNotFound for a missing or empty folder,
// kInvalidArgument (naming the file) for an undecodable template.
StatusOr<std::vector<FvcSample>> LoadFvcDatabase(const std::string& dir);

struct ScoredPair {
  uint32_t probe, candidate;  // indexes into the samples
  float score;
  bool genuine;
};

// Scores every FVC pair of `samples` with `threads` threads (>= 1).
std::vector<ScoredPair> ScoreFvcPairs(const std::vector<FvcSample>& samples, int threads);

// How often the 1:N pre-filter (docs/biometrics.md, "Pre-filter") loses a
// mate on real prints: impression 1 of every finger of every database is
// enrolled in an InMemoryAbis as a one-finger subject, and every other
// impression searches that gallery with the pre-filter keeping `keep` of it
// (no floor). `lost` counts searches whose own finger was not shortlisted.
struct PrefilterLoss {
  double keep = 0;
  size_t gallery = 0;
  size_t searches = 0;
  size_t lost = 0;
};
// REQUIRES: every keep in (0, 1]. Errors: kInvalidArgument for a keep
// outside (0, 1] or databases without a first impression to enrol.
StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLoss(const std::vector<std::vector<FvcSample>>& databases,
                                                      const std::vector<double>& keeps, int threads);

}  // namespace ektp::bio
