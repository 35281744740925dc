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
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bio/abis.h"
#include "bio/matcher.h"
#include "core/status.h"

namespace ektp::bio {

struct ErrorRates {
  double eer = 0;       // equal error rate, FVC definition (midpoint of the crossing interval)
  double fmr100 = 0;    // lowest FNMR with FMR <= 1%
  double fmr1000 = 0;   // lowest FNMR with FMR <= 0.1%
  double fmr10000 = 0;  // lowest FNMR with FMR <= 0.01%
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

// A score-to-FMR calibration that errs on the safe side (docs/biometrics.md,
// "Calibration"), fitted on impostor scores alone, in three layers:
//  1. Sampling: at each distinct impostor score t of the pooled databases,
//     the one-sided Clopper-Pearson upper bound, at `confidence`, on
//     P(impostor score >= t) given the count at or above t; between knots
//     the bound is interpolated in log10 (never below the exact bound of any
//     threshold in between).
//  2. Tail: where the counts run out (at most kTailAnchorCount impostors at
//     or above a score, so the count bound cannot fall below about 3/n) the
//     bound is extrapolated from that anchor along the tail's measured slope
//     (least squares of log10 FMR on the score between FMR 1 % and the
//     anchor), shrunk by kTailSlopeShrink and never steeper than the nominal
//     0.1 decade per score point.
//  3. Database shift: each database's impostor scores sit some points above
//     or below the pool's (its thresholds for FMR 10 %, 3 % and 1 % against
//     the pool's, averaged). The bound is moved up by the one-sided 95 %
//     prediction limit for a new database's shift (mean + t(m-1) * sd *
//     sqrt(1 + 1/m) over the m databases with at least 100 impostor pairs;
//     0 when fewer than 2 have).
// Immutable after Fit; thread-compatible.
class FmrCalibration {
 public:
  static constexpr double kConfidence = 0.95;
  static constexpr size_t kTailAnchorCount = 3;
  static constexpr double kTailSlopeShrink = 0.75;

  // REQUIRES: at least one non-empty database, confidence in (0, 1).
  static FmrCalibration Fit(const std::vector<std::vector<float>>& impostor_by_database,
                            double confidence = kConfidence);

  // Upper bound on the share of impostor scores >= score; 1 at or below the
  // lowest impostor score, non-increasing in `score`.
  double FmrBound(float score) const;
  // -10 log10(FmrBound(score)): the evidence the score carries, on the scale
  // of the matcher's nominal calibration.
  float ConservativeScore(float score) const { return static_cast<float>(-10.0 * std::log10(FmrBound(score))); }
  // Lowest score (in steps of 0.01) whose bound is at most `fmr`.
  float ThresholdForFmr(double fmr) const;
  // The lowest FMR the counts alone support: the bound with no impostor
  // above (about 3 / impostors at 95 %). Below it the bound comes from the
  // extrapolated tail.
  double CountFloor() const { return count_floor_; }
  // The evidence slope of the extrapolated tail: ConservativeScore rises by
  // EvidenceSlope() per score point beyond tail_start(), 10 * tail_slope().
  float EvidenceSlope() const { return static_cast<float>(10 * tail_slope_); }
  // The affine lower bound on the evidence with the given slope: the least
  // margin m with ConservativeScore(s) >= slope * s - m for every s >= 0,
  // i.e. max over s >= 0 of slope * s - ConservativeScore(s) (exact: the
  // bound is piecewise linear in the score, so the maximum lies on a knot).
  // REQUIRES: 0 <= slope <= EvidenceSlope() (a steeper line leaves the
  // tail behind: no finite margin exists).
  float Margin(float slope) const;
  size_t impostors() const { return impostors_; }
  // Where the extrapolated tail begins (shift included).
  float tail_start() const { return tail_start_; }
  double tail_slope() const { return tail_slope_; }
  // Layer 3's shift in score points.
  float shift() const { return shift_; }

 private:
  std::vector<float> knots_;       // distinct impostor scores plus shift_, ascending, up to the tail anchor
  std::vector<double> log_bound_;  // log10 of the bound at each knot
  float tail_start_ = 0;           // the last knot; beyond it the tail model
  double tail_slope_ = 0.1;        // decades of FMR per score point beyond tail_start_
  double count_floor_ = 1;
  size_t impostors_ = 0;
  float shift_ = 0;
};

// The one-sided Clopper-Pearson upper bound on a binomial proportion:
// the p with P(Binomial(n, p) <= k) = 1 - confidence. REQUIRES k <= n, n > 0.
double ClopperPearsonUpper(size_t k, size_t n, double confidence);

// The production calibration that central's dedupe and the station's
// hand-over check convert their FMR targets through (fusion.h), as an affine
// lower bound on each finger's evidence valid at every score:
// ConservativeScore(s) >= kCalibrationSlope * s - kCalibrationMargin, for
// FmrCalibration::Fit on the four FVC2002 databases (11,520 impostor pairs):
// EvidenceSlope() 0.664 rounded down, Margin(0.66) 4.97 rounded up.
// EvaluationTest.ProductionCalibrationBoundsTheFvcFitAtEveryScore guards both.
inline constexpr float kCalibrationSlope = 0.66f;
inline constexpr float kCalibrationMargin = 5;

struct FvcSample {
  std::string path;
  int finger = 0;
  int impression = 0;
  FingerFeatures features;
  double quality = 0;  // AssessCaptureQuality(view).score (bio/quality.h)
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

// One database's scored pairs, for cross-validation.
struct ScoredDatabase {
  std::string name;
  std::vector<float> genuine;
  std::vector<float> impostor;
};

// The FMR targets the cross-validation checks: 1 %, 0.1 %, 0.01 %.
inline const std::vector<double> kNominalFmrs = {1e-2, 1e-3, 1e-4};

// A threshold chosen for a nominal FMR on training data, applied to other data.
struct ThresholdCheck {
  double nominal_fmr = 0;
  float threshold = 0;             // meaningless in pooled figures (one per fold)
  bool supported_by_counts = true;  // false: the threshold lies in the extrapolated tail
  size_t impostors_accepted = 0;
  size_t impostors = 0;
  size_t genuine_rejected = 0;
  size_t genuine = 0;
  double fmr() const { return impostors ? static_cast<double>(impostors_accepted) / static_cast<double>(impostors) : 0.0; }
  double fnmr() const { return genuine ? static_cast<double>(genuine_rejected) / static_cast<double>(genuine) : 0.0; }
  // The one-sided 95 % Clopper-Pearson upper bound on the true FMR at this
  // threshold, given the impostor pairs it accepted (1 with none scored).
  double fmr_upper() const;
  // Whether the held-out impostor pairs can tell that the FMR is within
  // nominal: even none accepted bounds it (fmr_upper with 0 accepted) only
  // above nominal when false. At 2,880 pairs: 1 % yes, 0.1 % and 0.01 % no.
  bool enough_impostors() const;
};

struct Fold {
  std::string held_out;
  size_t training_impostors = 0;
  double count_floor = 1;  // FmrCalibration::CountFloor of the training fit
  float slope = 0;         // FmrCalibration::EvidenceSlope of the training fit
  float margin = 0;        // FmrCalibration::Margin(slope) of the training fit
  float shift = 0;         // FmrCalibration::shift of the training fit
  ErrorRates rates;        // on the held-out database
  std::vector<ThresholdCheck> checks;  // one per nominal FMR
};

struct CrossValidation {
  std::vector<Fold> folds;
  // Every held-out pair, scored through its own fold's calibration
  // (ConservativeScore), so one threshold means one nominal FMR in every fold.
  ErrorRates pooled;
  std::vector<ThresholdCheck> pooled_checks;  // sums over the folds
};

// Leave-one-database-out: for each database, fits FmrCalibration on the
// impostor scores of all the others, then reports the held-out database's
// error rates and, for each nominal FMR, what the threshold chosen on the
// training databases accepts and rejects there. The matcher has no tunable
// parameters, so the calibration is all that is fitted.
// Errors: kInvalidArgument for fewer than 2 databases, a database without
// genuine or impostor pairs, or a nominal FMR outside (0, 1).
StatusOr<CrossValidation> CrossValidate(const std::vector<ScoredDatabase>& databases,
                                        const std::vector<double>& nominal_fmrs = kNominalFmrs);

// The error-versus-reject curve (docs/biometrics.md, "Capture quality"):
// error rates when the templates of the worst capture quality are removed,
// as if captured again, and only the pairs between kept templates count.
struct RejectPoint {
  double reject = 0;  // the share of templates asked to be removed
  size_t templates = 0;
  size_t templates_removed = 0;
  ErrorRates rates;
  // Out of fold only: per held-out database, the quality cut chosen on the
  // other databases and what it removed there.
  struct Fold {
    std::string held_out;
    double cut = 0;  // templates at or below it removed; -1: none
    size_t templates = 0;
    size_t templates_removed = 0;
  };
  std::vector<Fold> folds;
};
struct EvaluatedDatabase {
  const std::vector<FvcSample>* samples;
  const std::vector<ScoredPair>* pairs;
  std::string name;
};
// In-sample: the templates whose quality ranks in the worst `reject` share
// over all databases together are removed (the cut is chosen on the data it
// is judged on); `rates` are those of the raw scores of the pairs left.
// Errors: kInvalidArgument for a share outside [0, 1).
StatusOr<std::vector<RejectPoint>> ErrorVersusReject(const std::vector<EvaluatedDatabase>& databases,
                                                     const std::vector<double>& rejects);
// Out of fold, as CrossValidate: for each held-out database the quality cut
// is the `reject` quantile of the other databases' templates (the worst
// floor(reject x n) of them lie at or below it), applied to the held-out
// database, whose kept pairs are scored through the conservative calibration
// fitted on the other databases' impostor pairs; `rates` pool every fold, and
// the share removed differs from `reject` where databases differ.
// Errors: kInvalidArgument for a share outside [0, 1), fewer than 2
// databases, or a database without genuine or impostor pairs.
StatusOr<std::vector<RejectPoint>> ErrorVersusRejectOutOfFold(const std::vector<EvaluatedDatabase>& databases,
                                                              const std::vector<double>& rejects);

// How often the 1:N pre-filter (docs/biometrics.md, "Pre-filter") loses a
// mate on real prints. Subjects of `fingers` fingers are formed from
// `fingers` consecutive databases (finger k of databases j*fingers ..
// j*fingers+fingers-1 is subject (j, k), at ISO positions 2, 7, 3, 8; left-over
// databases are not used), so one finger means every finger of every
// database. Impression 1 of each subject is enrolled in an InMemoryAbis and
// every other impression searches that gallery with the pre-filter keeping
// `keep` of it (no floor). `lost` counts searches whose own subject was not
// shortlisted; `by_database` splits searches and losses by the database of
// the subject's first finger (nothing is fitted per run, so a database's
// count is its held-out loss only if the pre-filter's constants were chosen
// without it).
// The pre-filter scorer measured: the engine's (InMemoryAbis: the
// rotation-sectored signature and the edge pairs) or the plain edge signature
// (FingerFeatures::EdgeSignature; measured only, outside the engine and
// scored as the engine scores, with the same cohort normalisation; a mate
// tied with other subjects counted as ranked below them).
enum class PrefilterScorer { kEngine, kSignature };

struct PrefilterLoss {
  struct Count {
    size_t searches = 0;
    size_t lost = 0;
    // kEngine only: searches whose mate the full matcher, scoring the whole
    // gallery instead, ranks outside the kept share (tied subjects ahead of
    // it): what a pre-filter as good as full matching would lose (one can
    // lose fewer where it favours a mate the matcher scores low).
    size_t matcher_lost = 0;
  };
  double keep = 0;
  int fingers = 1;
  size_t gallery = 0;  // subjects
  size_t searches = 0;
  size_t lost = 0;
  size_t matcher_lost = 0;  // Count::matcher_lost over all searches
  std::vector<Count> by_database;
  PrefilterScorer scorer = PrefilterScorer::kEngine;
  // kSignature only (zero otherwise): one thread, the z of one gallery
  // finger, and the signature's bytes per gallery finger.
  double score_us_per_gallery_finger = 0;
  double bytes_per_finger = 0;
};
// Both scorers use `setup` (abis.h): its length cells on both sides and its
// cohort to normalise each gallery finger's evidence. Without one, the
// in-sample setup: the shipped length cells and a cohort drawn from every
// template of `databases` (CohortSample). Errors: kInvalidArgument for a
// keep outside (0, 1], a finger count outside 1..4, or databases without
// two first impressions to enrol.
StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLoss(const std::vector<std::vector<FvcSample>>& databases,
                                                      const std::vector<double>& keeps, int threads, int fingers = 1,
                                                      std::optional<PrefilterSetup> setup = std::nullopt,
                                                      PrefilterScorer scorer = PrefilterScorer::kEngine);

// kCohortFingers of `prints` spread evenly over them (all when fewer).
std::vector<FingerFeatures> CohortSample(std::span<const FingerFeatures* const> prints);

// The same loss out of fold: for each group of `fingers` databases that
// forms subjects, the signature's length cells are fitted
// (FingerFeatures::FitLengthCells) and its cohort drawn (CohortSample) on
// the templates of the other databases only, the whole gallery is enrolled
// and searched with them, and only that group's searches are counted. Every
// other constant of the signature is fixed (matcher_params.h,
// cohort_norm.h). Errors: as FvcPrefilterLoss, and kInvalidArgument when
// fewer than two groups can be formed (nothing to fit on).
StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLossOutOfFold(const std::vector<std::vector<FvcSample>>& databases,
                                                               const std::vector<double>& keeps, int threads,
                                                               int fingers = 1,
                                                               PrefilterScorer scorer = PrefilterScorer::kEngine);

// The folders FvcEvaluation reads under `dir`: its DBn_B subfolders in name
// order, or `dir` itself when it has none (a single database folder).
// Errors: kNotFound when `dir` cannot be read.
StatusOr<std::vector<std::string>> FvcDatabaseFolders(const std::string& dir);

// `ektp bio eval`: the FVC protocol over every database folder, with the
// optional reports.
struct FvcEvaluationOptions {
  std::string dir;  // FvcDatabaseFolders
  int threads = 1;  // >= 1
  // Also report the pre-filter's loss at each keep share (FvcPrefilterLoss,
  // and FvcPrefilterLossOutOfFold when cross_validate and at least two
  // groups form) for subjects of each finger count in prefilter_fingers
  // (each in 1..4),
  // and the error-versus-reject curve at each reject share (in-sample, and
  // out of fold too when cross_validate).
  std::vector<double> prefilter_keeps;
  std::vector<int> prefilter_fingers = {1, 2};
  PrefilterScorer prefilter_scorer = PrefilterScorer::kEngine;
  std::vector<double> rejects;
  bool cross_validate = false;
  // Receives every scored pair as CSV ("probe,candidate,score" header, then
  // template paths and the score); not owned; nullptr for none.
  std::ostream* scores_csv = nullptr;
  // The nominal thresholds whose observed FMR is reported.
  std::vector<float> calibration_thresholds = {10, 20, 30, 40, 50};
  // Called after each database is scored with how many of them are done and
  // their total. Default: none.
  std::function<void(std::string_view what, uint64_t done, uint64_t total)> progress;
};

struct FvcEvaluation {
  struct Database {
    std::string name;  // the folder's name
    ErrorRates rates;
  };
  std::vector<Database> databases;
  ErrorRates pooled;
  std::vector<ObservedFmr> calibration;  // over every impostor pair, one per threshold
  std::vector<PrefilterLoss> prefilter;
  std::vector<PrefilterLoss> prefilter_out_of_fold;  // with cross_validate (FvcPrefilterLossOutOfFold)
  std::vector<RejectPoint> reject;               // in-sample (ErrorVersusReject)
  std::vector<RejectPoint> reject_out_of_fold;   // with cross_validate (ErrorVersusRejectOutOfFold)
  std::optional<CrossValidation> cross_validation;
};

// Errors: kInvalidArgument for a keep share outside (0, 1] or a reject share
// outside [0, 1) (before any scoring), those of FvcDatabaseFolders,
// LoadFvcDatabase and CrossValidate, kUnavailable when `scores_csv` fails.
StatusOr<FvcEvaluation> EvaluateFvc(const FvcEvaluationOptions& options);

}  // namespace ektp::bio
