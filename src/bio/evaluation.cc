#include "bio/evaluation.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "bio/abis.h"
#include "bio/quality.h"

namespace ektp::bio {

ErrorRates ComputeErrorRates(std::vector<float> genuine, std::vector<float> impostor) {
  ErrorRates r;
  r.genuine = genuine.size();
  r.impostor = impostor.size();
  if (genuine.empty() || impostor.empty()) return r;
  std::sort(genuine.begin(), genuine.end());
  std::sort(impostor.begin(), impostor.end());
  std::vector<float> thresholds;
  thresholds.reserve(genuine.size() + impostor.size() + 1);
  thresholds.insert(thresholds.end(), genuine.begin(), genuine.end());
  thresholds.insert(thresholds.end(), impostor.begin(), impostor.end());
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  thresholds.push_back(std::numeric_limits<float>::infinity());
  const double ng = static_cast<double>(genuine.size()), ni = static_cast<double>(impostor.size());
  struct Point {
    double fmr, fnmr;
  };
  std::vector<Point> points;
  points.reserve(thresholds.size());
  for (float t : thresholds) {
    // accepted when score >= t
    double fnmr = static_cast<double>(std::lower_bound(genuine.begin(), genuine.end(), t) - genuine.begin()) / ng;
    double fmr = static_cast<double>(impostor.end() - std::lower_bound(impostor.begin(), impostor.end(), t)) / ni;
    points.push_back({fmr, fnmr});
  }
  // FMR falls and FNMR rises as the threshold rises.
  size_t t1 = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].fnmr <= points[i].fmr) t1 = i;
  }
  size_t t2 = points.size() - 1;
  for (size_t i = points.size(); i-- > 0;) {
    if (points[i].fnmr >= points[i].fmr) t2 = i;
  }
  double low, high;
  if (points[t1].fnmr + points[t1].fmr <= points[t2].fnmr + points[t2].fmr) {
    low = points[t1].fnmr;
    high = points[t1].fmr;
  } else {
    low = points[t2].fmr;
    high = points[t2].fnmr;
  }
  r.eer = (low + high) / 2;
  r.fmr100 = r.fmr1000 = r.fmr10000 = r.zero_fmr = 1.0;
  for (const Point& p : points) {
    if (p.fmr <= 0.01) r.fmr100 = std::min(r.fmr100, p.fnmr);
    if (p.fmr <= 0.001) r.fmr1000 = std::min(r.fmr1000, p.fnmr);
    if (p.fmr <= 0.0001) r.fmr10000 = std::min(r.fmr10000, p.fnmr);
    if (p.fmr == 0) r.zero_fmr = std::min(r.zero_fmr, p.fnmr);
  }
  return r;
}

float ThresholdForFmr(std::vector<float> impostor, double fmr) {
  if (impostor.empty()) return 0;
  std::sort(impostor.begin(), impostor.end(), std::greater<>());
  size_t allowed = static_cast<size_t>(fmr * static_cast<double>(impostor.size()));
  if (allowed >= impostor.size()) return impostor.back();
  return std::nextafter(impostor[allowed], std::numeric_limits<float>::infinity());
}

namespace {

// ln B(a, b).
double LogBeta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

// The continued fraction of the incomplete beta function (modified Lentz),
// converging fast for x < (a + 1) / (a + b + 2).
double BetaFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  auto guard = [](double v) { return std::abs(v) < kTiny ? kTiny : v; };
  double c = 1, d = 1 / guard(1 - (a + b) * x / (a + 1)), h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1) < 1e-13) break;
  }
  return h;
}

// I_x(a, b), the regularised incomplete beta function.
double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front = a * std::log(x) + b * std::log1p(-x) - LogBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaFraction(a, b, x) / a;
  return 1 - std::exp(log_front) * BetaFraction(b, a, 1 - x) / b;
}

}  // namespace

double ClopperPearsonUpper(size_t k, size_t n, double confidence) {
  if (k >= n) return 1;
  const double alpha = 1 - confidence;
  if (k == 0) return -std::expm1(std::log(alpha) / static_cast<double>(n));
  // P(Binomial(n, p) <= k) = I_{1-p}(n - k, k + 1) falls as p rises.
  const double a = static_cast<double>(n - k), b = static_cast<double>(k + 1);
  double low = static_cast<double>(k) / static_cast<double>(n), high = 1;
  for (int i = 0; i < 60; ++i) {
    const double mid = (low + high) / 2;
    (IncompleteBeta(a, b, 1 - mid) > alpha ? low : high) = mid;
  }
  return high;
}

namespace {

// The score above which about `fmr` of `descending` lie.
float EmpiricalThreshold(const std::vector<float>& descending, double fmr) {
  return descending[std::min(descending.size() - 1, static_cast<size_t>(fmr * static_cast<double>(descending.size())))];
}

// One-sided 95 % quantile of Student's t with `df` degrees of freedom.
double StudentT95(size_t df) {
  static constexpr double kTable[] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812};
  return df <= std::size(kTable) ? kTable[df - 1] : 1.645 + 2.0 / static_cast<double>(df);
}

// Layer 3 of FmrCalibration: the prediction limit of a new database's shift.
float DatabaseShift(const std::vector<std::vector<float>>& by_database, std::vector<float> pooled_descending) {
  static constexpr double kShares[] = {0.1, 0.03, 0.01};
  std::vector<double> shifts;
  for (std::vector<float> db : by_database) {
    if (db.size() < 100) continue;
    std::sort(db.begin(), db.end(), std::greater<>());
    double sum = 0;
    for (double f : kShares) sum += EmpiricalThreshold(db, f) - EmpiricalThreshold(pooled_descending, f);
    shifts.push_back(sum / std::size(kShares));
  }
  const size_t m = shifts.size();
  if (m < 2) return 0;
  double mean = 0, var = 0;
  for (double v : shifts) mean += v / static_cast<double>(m);
  for (double v : shifts) var += (v - mean) * (v - mean) / static_cast<double>(m - 1);
  const double limit = mean + StudentT95(m - 1) * std::sqrt(var * (1 + 1.0 / static_cast<double>(m)));
  return static_cast<float>(std::max(0.0, limit));
}

}  // namespace

FmrCalibration FmrCalibration::Fit(const std::vector<std::vector<float>>& impostor_by_database, double confidence) {
  std::vector<float> impostor;
  for (const auto& db : impostor_by_database) impostor.insert(impostor.end(), db.begin(), db.end());
  FmrCalibration c;
  c.impostors_ = impostor.size();
  std::sort(impostor.begin(), impostor.end());
  const size_t n = impostor.size();
  c.count_floor_ = ClopperPearsonUpper(0, n, confidence);
  // Knots: distinct scores ascending, each with the count at or above it,
  // up to the first whose count is at most kTailAnchorCount.
  std::vector<size_t> counts;
  for (size_t i = 0; i < n;) {
    c.knots_.push_back(impostor[i]);
    counts.push_back(n - i);
    if (n - i <= kTailAnchorCount) break;
    while (i < n && impostor[i] == c.knots_.back()) ++i;
  }
  for (size_t k : counts) c.log_bound_.push_back(std::log10(ClopperPearsonUpper(k, n, confidence)));
  // The tail's slope: least squares of log10(empirical FMR) on the score
  // over the knots between FMR 1 % and the anchor.
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (size_t j = 0; j < c.knots_.size(); ++j) {
    if (counts[j] > n / 100) continue;
    const double x = c.knots_[j], y = std::log10(static_cast<double>(counts[j]) / static_cast<double>(n));
    sx += x, sy += y, sxx += x * x, sxy += x * y, m += 1;
  }
  const double fitted = m >= 3 && m * sxx - sx * sx > 0 ? -(m * sxy - sx * sy) / (m * sxx - sx * sx) : 0.1;
  c.tail_slope_ = std::clamp(fitted * kTailSlopeShrink, 0.0, 0.1);
  std::reverse(impostor.begin(), impostor.end());
  c.shift_ = DatabaseShift(impostor_by_database, std::move(impostor));
  for (float& knot : c.knots_) knot += c.shift_;
  c.tail_start_ = c.knots_.back();
  return c;
}

double FmrCalibration::FmrBound(float score) const {
  if (knots_.empty() || score <= knots_.front()) return 1;
  if (score > tail_start_) {
    return std::pow(10.0, log_bound_.back() - tail_slope_ * static_cast<double>(score - tail_start_));
  }
  // knots_[j - 1] < score <= knots_[j]: the count there is knots_[j]'s.
  const size_t j = static_cast<size_t>(std::lower_bound(knots_.begin(), knots_.end(), score) - knots_.begin());
  const double f = static_cast<double>(score - knots_[j - 1]) / static_cast<double>(knots_[j] - knots_[j - 1]);
  return std::pow(10.0, log_bound_[j - 1] + f * (log_bound_[j] - log_bound_[j - 1]));
}

float FmrCalibration::ThresholdForFmr(double fmr) const {
  // FmrBound is non-increasing: bisect over hundredths of a point.
  int low = 0, high = 100000;  // 0 .. 1000 points
  if (FmrBound(static_cast<float>(high) / 100) > fmr) return std::numeric_limits<float>::infinity();
  while (low < high) {
    const int mid = (low + high) / 2;
    if (FmrBound(static_cast<float>(mid) / 100) <= fmr) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return static_cast<float>(low) / 100;
}

float FmrCalibration::Margin(float slope) const {
  // ConservativeScore is 0 up to the first knot, linear in the score between
  // knots and rises by EvidenceSlope() >= slope per point beyond the last:
  // slope * s - ConservativeScore(s) peaks on a knot.
  float worst = 0;
  for (float knot : knots_) worst = std::max(worst, slope * knot - ConservativeScore(knot));
  return worst;
}

double ThresholdCheck::fmr_upper() const {
  return impostors ? ClopperPearsonUpper(impostors_accepted, impostors, FmrCalibration::kConfidence) : 1.0;
}

bool ThresholdCheck::enough_impostors() const {
  return impostors > 0 && ClopperPearsonUpper(0, impostors, FmrCalibration::kConfidence) <= nominal_fmr;
}

std::vector<ObservedFmr> ObserveFmr(const std::vector<float>& impostor, const std::vector<float>& thresholds) {
  std::vector<ObservedFmr> out;
  for (float t : thresholds) {
    const auto accepted = std::count_if(impostor.begin(), impostor.end(), [t](float s) { return s >= t; });
    out.push_back({t, static_cast<size_t>(accepted), impostor.size()});
  }
  return out;
}

namespace {

Status CheckRejectShares(const std::vector<double>& rejects) {
  for (double r : rejects) {
    if (!(r >= 0 && r < 1)) return InvalidArgument("reject share " + std::to_string(r) + " is outside [0, 1)");
  }
  return Status::Ok();
}

Status CheckKeepShares(const std::vector<double>& keeps) {
  for (double keep : keeps) {
    if (!(keep > 0 && keep <= 1)) return InvalidArgument("pre-filter share " + std::to_string(keep) + " is outside (0, 1]");
  }
  return Status::Ok();
}

Status CheckFingerCount(int fingers) {
  if (fingers < 1 || fingers > 4) return InvalidArgument("pre-filter finger count " + std::to_string(fingers) + " is outside 1..4");
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<RejectPoint>> ErrorVersusReject(const std::vector<EvaluatedDatabase>& databases,
                                                     const std::vector<double>& rejects) {
  RETURN_IF_ERROR(CheckRejectShares(rejects));
  std::vector<double> qualities;
  for (const EvaluatedDatabase& db : databases) {
    for (const FvcSample& s : *db.samples) qualities.push_back(s.quality);
  }
  std::sort(qualities.begin(), qualities.end());
  std::vector<RejectPoint> out;
  for (double r : rejects) {
    RejectPoint point;
    point.reject = r;
    point.templates = qualities.size();
    point.templates_removed = static_cast<size_t>(r * static_cast<double>(qualities.size()));
    // Ties at the cut are dropped only as far as the share allows.
    const double cut = point.templates_removed ? qualities[point.templates_removed - 1] : -1;
    size_t at_cut_budget = point.templates_removed - static_cast<size_t>(
        std::lower_bound(qualities.begin(), qualities.end(), cut) - qualities.begin());
    std::vector<float> genuine, impostor;
    for (const EvaluatedDatabase& db : databases) {
      std::vector<bool> kept(db.samples->size());
      for (size_t i = 0; i < kept.size(); ++i) {
        const double q = (*db.samples)[i].quality;
        kept[i] = q > cut || (q == cut && at_cut_budget == 0);
        if (q == cut && at_cut_budget > 0) --at_cut_budget;
      }
      for (const ScoredPair& p : *db.pairs) {
        if (kept[p.probe] && kept[p.candidate]) (p.genuine ? genuine : impostor).push_back(p.score);
      }
    }
    point.rates = ComputeErrorRates(std::move(genuine), std::move(impostor));
    out.push_back(point);
  }
  return out;
}

StatusOr<std::vector<RejectPoint>> ErrorVersusRejectOutOfFold(const std::vector<EvaluatedDatabase>& databases,
                                                              const std::vector<double>& rejects) {
  RETURN_IF_ERROR(CheckRejectShares(rejects));
  if (databases.size() < 2) return InvalidArgument("an out-of-fold reject curve needs at least 2 databases");
  std::vector<std::vector<float>> impostors(databases.size());
  for (size_t i = 0; i < databases.size(); ++i) {
    bool genuine = false;
    for (const ScoredPair& p : *databases[i].pairs) {
      if (p.genuine) genuine = true;
      else impostors[i].push_back(p.score);
    }
    if (!genuine || impostors[i].empty()) {
      return InvalidArgument("database " + databases[i].name + " has no genuine or no impostor pairs");
    }
  }
  std::vector<FmrCalibration> calibrations;
  std::vector<std::vector<double>> training_qualities;
  for (size_t held = 0; held < databases.size(); ++held) {
    std::vector<std::vector<float>> training;
    std::vector<double> qualities;
    for (size_t i = 0; i < databases.size(); ++i) {
      if (i == held) continue;
      training.push_back(impostors[i]);
      for (const FvcSample& s : *databases[i].samples) qualities.push_back(s.quality);
    }
    std::sort(qualities.begin(), qualities.end());
    calibrations.push_back(FmrCalibration::Fit(training));
    training_qualities.push_back(std::move(qualities));
  }
  std::vector<RejectPoint> out;
  for (double r : rejects) {
    RejectPoint point;
    point.reject = r;
    std::vector<float> genuine, impostor;
    for (size_t held = 0; held < databases.size(); ++held) {
      const std::vector<double>& qualities = training_qualities[held];
      const auto worst = static_cast<size_t>(r * static_cast<double>(qualities.size()));
      const EvaluatedDatabase& db = databases[held];
      RejectPoint::Fold fold{db.name, worst ? qualities[worst - 1] : -1, db.samples->size(), 0};
      std::vector<bool> kept(db.samples->size());
      for (size_t i = 0; i < kept.size(); ++i) {
        kept[i] = (*db.samples)[i].quality > fold.cut;
        if (!kept[i]) ++fold.templates_removed;
      }
      for (const ScoredPair& p : *db.pairs) {
        if (kept[p.probe] && kept[p.candidate]) {
          (p.genuine ? genuine : impostor).push_back(calibrations[held].ConservativeScore(p.score));
        }
      }
      point.templates += fold.templates;
      point.templates_removed += fold.templates_removed;
      point.folds.push_back(std::move(fold));
    }
    point.rates = ComputeErrorRates(std::move(genuine), std::move(impostor));
    out.push_back(std::move(point));
  }
  return out;
}

StatusOr<std::vector<FvcSample>> LoadFvcDatabase(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("no database folder " + dir);
  std::vector<FvcSample> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    std::string ext = p.extension().string();
    if (ext != ".iso" && ext != ".ist" && ext != ".ansi" && ext != ".dat" && ext != ".fmr") continue;
    std::string stem = p.stem().string();
    size_t us = stem.find('_');
    if (us == std::string::npos) continue;
    FvcSample s;
    try {
      s.finger = std::stoi(stem.substr(0, us));
      s.impression = std::stoi(stem.substr(us + 1));
    } catch (...) {
      continue;
    }
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    auto record = DecodeTemplate(bytes);
    if (!record.ok()) return record.status().WithContext(p.string());
    if (record->views.empty()) return InvalidArgument(p.string() + ": record has no finger view");
    auto features = FingerFeatures::FromView(record->views[0], record->format);
    if (!features.ok()) return features.status().WithContext(p.string());
    s.features = std::move(*features);
    s.quality = AssessCaptureQuality(record->views[0], record->format).score;
    s.path = (fs::path(dir) / p.filename()).string();
    out.push_back(std::move(s));
  }
  if (out.empty()) return NotFound("no FFF_I templates in " + dir);
  std::sort(out.begin(), out.end(), [](const FvcSample& a, const FvcSample& b) {
    return std::tie(a.finger, a.impression) < std::tie(b.finger, b.impression);
  });
  return out;
}

std::vector<ScoredPair> ScoreFvcPairs(const std::vector<FvcSample>& samples, int threads) {
  std::vector<ScoredPair> pairs;
  for (uint32_t i = 0; i < samples.size(); ++i) {
    for (uint32_t j = i + 1; j < samples.size(); ++j) {
      pairs.push_back({i, j, 0, samples[i].finger == samples[j].finger});
    }
  }
  std::vector<PreparedProbe> probes;
  probes.reserve(samples.size());
  for (const auto& s : samples) probes.emplace_back(s.features);
  std::atomic<size_t> next{0};
  auto work = [&] {
    Matcher matcher;
    for (;;) {
      size_t start = next.fetch_add(256);
      if (start >= pairs.size()) break;
      size_t end = std::min(pairs.size(), start + 256);
      for (size_t k = start; k < end; ++k) {
        pairs[k].score = matcher.Score(probes[pairs[k].probe], samples[pairs[k].candidate].features);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return pairs;
}

StatusOr<CrossValidation> CrossValidate(const std::vector<ScoredDatabase>& databases,
                                        const std::vector<double>& nominal_fmrs) {
  if (databases.size() < 2) return InvalidArgument("cross-validation needs at least 2 databases");
  for (const ScoredDatabase& db : databases) {
    if (db.genuine.empty() || db.impostor.empty()) {
      return InvalidArgument("database " + db.name + " has no genuine or no impostor pairs");
    }
  }
  for (double fmr : nominal_fmrs) {
    if (!(fmr > 0 && fmr < 1)) return InvalidArgument("nominal FMR " + std::to_string(fmr) + " is outside (0, 1)");
  }
  CrossValidation cv;
  std::vector<float> pooled_genuine, pooled_impostor;
  cv.pooled_checks.resize(nominal_fmrs.size());
  for (size_t held = 0; held < databases.size(); ++held) {
    std::vector<std::vector<float>> training;
    for (size_t i = 0; i < databases.size(); ++i) {
      if (i != held) training.push_back(databases[i].impostor);
    }
    const FmrCalibration calibration = FmrCalibration::Fit(training);
    const ScoredDatabase& db = databases[held];
    Fold fold;
    fold.held_out = db.name;
    fold.training_impostors = calibration.impostors();
    fold.count_floor = calibration.CountFloor();
    fold.slope = calibration.EvidenceSlope();
    fold.margin = calibration.Margin(fold.slope);
    fold.shift = calibration.shift();
    fold.rates = ComputeErrorRates(db.genuine, db.impostor);
    for (size_t f = 0; f < nominal_fmrs.size(); ++f) {
      ThresholdCheck check;
      check.nominal_fmr = nominal_fmrs[f];
      check.threshold = calibration.ThresholdForFmr(nominal_fmrs[f]);
      check.supported_by_counts = check.threshold <= calibration.tail_start();
      const float t = check.threshold;
      check.impostors = db.impostor.size();
      check.impostors_accepted = static_cast<size_t>(std::count_if(db.impostor.begin(), db.impostor.end(), [t](float s) { return s >= t; }));
      check.genuine = db.genuine.size();
      check.genuine_rejected = static_cast<size_t>(std::count_if(db.genuine.begin(), db.genuine.end(), [t](float s) { return s < t; }));
      ThresholdCheck& pooled = cv.pooled_checks[f];
      pooled.nominal_fmr = check.nominal_fmr;
      pooled.supported_by_counts = pooled.supported_by_counts && check.supported_by_counts;
      pooled.impostors += check.impostors;
      pooled.impostors_accepted += check.impostors_accepted;
      pooled.genuine += check.genuine;
      pooled.genuine_rejected += check.genuine_rejected;
      fold.checks.push_back(check);
    }
    for (float s : db.genuine) pooled_genuine.push_back(calibration.ConservativeScore(s));
    for (float s : db.impostor) pooled_impostor.push_back(calibration.ConservativeScore(s));
    cv.folds.push_back(std::move(fold));
  }
  for (ThresholdCheck& pooled : cv.pooled_checks) pooled.threshold = std::numeric_limits<float>::quiet_NaN();
  cv.pooled = ComputeErrorRates(std::move(pooled_genuine), std::move(pooled_impostor));
  return cv;
}

namespace {

// The plain edge signature (FingerFeatures::EdgeSignature), scored as z =
// (hits - E) / sqrt(E (1 - d) + 1): hits the codes shared, d the share of
// the 4096 codes the probe's dilated signature sets, E = gallery codes x d.
struct EdgeSignatureGallery {
  FingerFeatures::Signature bits;
  int count = 0;
  static EdgeSignatureGallery Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
    EdgeSignatureGallery g{f.EdgeSignature(cells)};
    for (uint64_t w : g.bits) g.count += std::popcount(w);
    return g;
  }
  size_t Bytes() const { return sizeof(bits) + sizeof(uint16_t); }  // the bits and their count
};
struct EdgeSignatureProbe {
  FingerFeatures::Signature bits;
  float density = 0;
  static EdgeSignatureProbe Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
    EdgeSignatureProbe p{f.DilatedEdgeSignature(cells)};
    int set = 0;
    for (uint64_t w : p.bits) set += std::popcount(w);
    p.density = static_cast<float>(set) / FingerFeatures::kSignatureBits;
    return p;
  }
};
float EdgeSignatureZ(const EdgeSignatureProbe& p, const EdgeSignatureGallery& g) {
  int hits = 0;
  for (size_t w = 0; w < p.bits.size(); ++w) hits += std::popcount(p.bits[w] & g.bits[w]);
  const float expected = static_cast<float>(g.count) * p.density;
  return (static_cast<float>(hits) - expected) / std::sqrt(expected * (1 - p.density) + 1);
}

// FvcPrefilterLoss with the plain edge signature, outside the engine (fused
// sum of each finger's z less its CohortMean against the whole cohort):
// every search is scored once on one thread (timed) and each keep share only
// moves the cut. `impressions` and `subject_of` are FvcPrefilterLoss's.
template <typename Impressions, typename SubjectOf>
StatusOr<std::vector<PrefilterLoss>> EdgeSignaturePrefilterLoss(size_t databases, const std::vector<double>& keeps,
                                                                int fingers, const Impressions& impressions,
                                                                const SubjectOf& subject_of,
                                                                const PrefilterSetup& setup) {
  using Clock = std::chrono::steady_clock;
  const size_t width = static_cast<size_t>(fingers);
  std::vector<EdgeSignatureProbe> cohort;
  for (const FingerFeatures& f : setup.cohort) cohort.push_back(EdgeSignatureProbe::Of(f, setup.length_cells));
  std::vector<std::vector<EdgeSignatureGallery>> gallery(width);  // [finger][subject]
  std::vector<std::vector<float>> cohort_means(width);        // as InMemoryAbis
  std::map<std::string, size_t> entry_of;
  for (const auto& [key, samples] : impressions) {
    const auto& [g, finger, impression] = key;
    if (impression != 1) continue;
    std::optional<SubjectRecord> r = subject_of(g, finger, 1);
    if (!r) continue;
    entry_of[r->id] = gallery[0].size();
    for (size_t j = 0; j < width; ++j) {
      gallery[j].push_back(EdgeSignatureGallery::Of(r->fingers[j].features, setup.length_cells));
      std::vector<float> evidence;
      for (const EdgeSignatureProbe& c : cohort) evidence.push_back(EdgeSignatureZ(c, gallery[j].back()));
      cohort_means[j].push_back(CohortMean(std::move(evidence)));
    }
  }
  const size_t n = entry_of.size();
  if (n < 2) return InvalidArgument("the FVC databases hold fewer than 2 first impressions to enrol");
  struct Search {
    size_t database;
    size_t ahead;  // other subjects whose fused z is at least the mate's
  };
  std::vector<Search> searches;
  Clock::duration scoring{};
  for (const auto& [key, samples] : impressions) {
    const auto& [g, finger, impression] = key;
    if (impression == 1 || !subject_of(g, finger, 1)) continue;  // no mate to find
    std::optional<SubjectRecord> probe = subject_of(g, finger, impression);
    if (!probe) continue;
    const size_t mate = entry_of.at(probe->id);
    std::vector<float> fused(n, 0.0f);
    for (size_t j = 0; j < width; ++j) {
      const EdgeSignatureProbe p = EdgeSignatureProbe::Of(probe->fingers[j].features, setup.length_cells);
      const auto t0 = Clock::now();
      for (size_t s = 0; s < n; ++s) fused[s] += EdgeSignatureZ(p, gallery[j][s]) - cohort_means[j][s];
      scoring += Clock::now() - t0;
    }
    size_t ahead = 0;
    for (size_t s = 0; s < n; ++s) ahead += s != mate && fused[s] >= fused[mate];
    searches.push_back({g * width, ahead});
  }
  const double gallery_fingers = static_cast<double>(searches.size()) * static_cast<double>(width * n);
  size_t bytes = 0;
  for (const auto& finger : gallery) {
    for (const EdgeSignatureGallery& g : finger) bytes += g.Bytes();
  }
  std::vector<PrefilterLoss> out;
  for (double keep : keeps) {
    PrefilterLoss loss{keep, fingers, n, 0, 0, 0, std::vector<PrefilterLoss::Count>(databases)};
    loss.scorer = PrefilterScorer::kSignature;
    loss.score_us_per_gallery_finger =
        std::chrono::duration<double, std::micro>(scoring).count() / std::max(1.0, gallery_fingers);
    loss.bytes_per_finger = static_cast<double>(bytes) / static_cast<double>(n * width);
    // As InMemoryAbis::Identify with min_prefilter_subjects 1.
    const size_t kept = std::max<size_t>(1, static_cast<size_t>(keep * static_cast<double>(n) + 0.5));
    for (const Search& s : searches) {
      const bool lost = kept < n && s.ahead >= kept;
      ++loss.searches;
      ++loss.by_database[s.database].searches;
      loss.lost += lost;
      loss.by_database[s.database].lost += lost;
    }
    out.push_back(std::move(loss));
  }
  return out;
}

}  // namespace

std::vector<FingerFeatures> CohortSample(std::span<const FingerFeatures* const> prints) {
  const size_t n = std::min(prints.size(), kCohortFingers);
  std::vector<FingerFeatures> cohort;
  for (size_t i = 0; i < n; ++i) cohort.push_back(*prints[i * prints.size() / n]);
  return cohort;
}

StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLoss(const std::vector<std::vector<FvcSample>>& databases,
                                                      const std::vector<double>& keeps, int threads, int fingers,
                                                      std::optional<PrefilterSetup> setup, PrefilterScorer scorer) {
  RETURN_IF_ERROR(CheckKeepShares(keeps));
  RETURN_IF_ERROR(CheckFingerCount(fingers));
  if (!setup) {
    std::vector<const FingerFeatures*> prints;
    for (const auto& db : databases) {
      for (const FvcSample& s : db) prints.push_back(&s.features);
    }
    setup = PrefilterSetup{FingerFeatures::DefaultLengthCells(), CohortSample(prints)};
  }
  constexpr int kPositions[4] = {2, 7, 3, 8};
  const size_t groups = databases.size() / static_cast<size_t>(fingers);
  // (group, finger, impression) -> the features of each database of the group.
  std::map<std::tuple<size_t, int, int>, std::vector<const FvcSample*>> impressions;
  for (size_t g = 0; g < groups; ++g) {
    for (int j = 0; j < fingers; ++j) {
      for (const FvcSample& s : databases[g * fingers + j]) impressions[{g, s.finger, s.impression}].push_back(&s);
    }
  }
  auto subject_of = [&](size_t g, int finger, int impression) -> std::optional<SubjectRecord> {
    auto it = impressions.find({g, finger, impression});
    if (it == impressions.end() || it->second.size() != static_cast<size_t>(fingers)) return std::nullopt;
    SubjectRecord r{std::to_string(g) + "/" + std::to_string(finger), {}};
    for (int j = 0; j < fingers; ++j) r.fingers.push_back(FingerSample{kPositions[j], it->second[j]->features});
    return r;
  };
  if (scorer == PrefilterScorer::kSignature) {
    return EdgeSignaturePrefilterLoss(databases.size(), keeps, fingers, impressions, subject_of, *setup);
  }
  ASSIGN_OR_RETURN(auto abis, InMemoryAbis::Open(nullptr, *std::move(setup)));
  for (const auto& [key, samples] : impressions) {
    const auto& [g, finger, impression] = key;
    if (impression != 1) continue;
    if (auto r = subject_of(g, finger, 1)) RETURN_IF_ERROR(abis->Insert(*r));
  }
  if (abis->Count() < 2) return InvalidArgument("the FVC databases hold fewer than 2 first impressions to enrol");
  // Every search with a mate to find: its probe (id cleared), the mate, the
  // database it is counted under, and how many subjects the full matcher
  // scores at least as high as the mate.
  struct Search {
    SubjectRecord probe;
    std::string mate;
    size_t database;
    size_t matcher_ahead = 0;
  };
  std::vector<Search> searches;
  for (const auto& [key, samples] : impressions) {
    const auto& [g, finger, impression] = key;
    if (impression == 1 || !subject_of(g, finger, 1)) continue;  // no mate to find
    std::optional<SubjectRecord> probe = subject_of(g, finger, impression);
    if (!probe) continue;
    std::string mate = std::exchange(probe->id, "");
    searches.push_back({*std::move(probe), std::move(mate), g * static_cast<size_t>(fingers)});
  }
  IdentifyOptions full;
  full.prefilter_keep = 1;
  full.max_candidates = abis->Count();
  full.threads = threads;
  for (Search& s : searches) {
    ASSIGN_OR_RETURN(IdentifyResult r, abis->Identify(s.probe, full));
    auto it = std::find_if(r.candidates.begin(), r.candidates.end(),
                           [&s](const Candidate& c) { return c.subject_id == s.mate; });
    const float mate_score = it == r.candidates.end() ? -1 : it->score;
    s.matcher_ahead = static_cast<size_t>(std::count_if(r.candidates.begin(), r.candidates.end(), [&](const Candidate& c) {
      return c.subject_id != s.mate && c.score >= mate_score;
    }));
  }
  std::vector<PrefilterLoss> out;
  for (double keep : keeps) {
    PrefilterLoss loss{keep, fingers, abis->Count(), 0, 0, 0, std::vector<PrefilterLoss::Count>(databases.size())};
    const size_t kept = std::max<size_t>(1, static_cast<size_t>(keep * static_cast<double>(abis->Count()) + 0.5));
    IdentifyOptions options;
    options.prefilter_keep = keep;
    options.min_prefilter_subjects = 1;
    options.max_candidates = 1;
    options.threads = threads;
    for (const Search& s : searches) {
      ASSIGN_OR_RETURN(IdentifyResult r, abis->Identify(s.probe, options));
      const bool lost = std::find(r.shortlist.begin(), r.shortlist.end(), s.mate) == r.shortlist.end();
      const bool matcher_lost = kept < abis->Count() && s.matcher_ahead >= kept;
      PrefilterLoss::Count& db = loss.by_database[s.database];
      ++loss.searches;
      ++db.searches;
      loss.lost += lost;
      db.lost += lost;
      loss.matcher_lost += matcher_lost;
      db.matcher_lost += matcher_lost;
    }
    out.push_back(std::move(loss));
  }
  return out;
}

StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLossOutOfFold(const std::vector<std::vector<FvcSample>>& databases,
                                                               const std::vector<double>& keeps, int threads,
                                                               int fingers, PrefilterScorer scorer) {
  RETURN_IF_ERROR(CheckKeepShares(keeps));
  RETURN_IF_ERROR(CheckFingerCount(fingers));
  const size_t width = static_cast<size_t>(fingers);
  const size_t groups = databases.size() / width;
  if (groups < 2) {
    return InvalidArgument("out of fold needs at least 2 groups of " + std::to_string(fingers) +
                           " databases, got " + std::to_string(databases.size()) + " databases");
  }
  std::vector<PrefilterLoss> out;
  for (size_t g = 0; g < groups; ++g) {
    std::vector<const FingerFeatures*> training;
    for (size_t d = 0; d < databases.size(); ++d) {
      if (d / width == g) continue;
      for (const FvcSample& s : databases[d]) training.push_back(&s.features);
    }
    ASSIGN_OR_RETURN(
        std::vector<PrefilterLoss> fold,
        FvcPrefilterLoss(databases, keeps, threads, fingers,
                         PrefilterSetup{FingerFeatures::FitLengthCells(training), CohortSample(training)}, scorer));
    if (out.empty()) {
      out = fold;
      for (PrefilterLoss& l : out) {
        l.searches = l.lost = l.matcher_lost = 0;
        std::fill(l.by_database.begin(), l.by_database.end(), PrefilterLoss::Count{});
      }
    }
    for (size_t k = 0; k < fold.size(); ++k) {
      const PrefilterLoss::Count held_out = fold[k].by_database[g * width];
      out[k].by_database[g * width] = held_out;
      out[k].searches += held_out.searches;
      out[k].lost += held_out.lost;
      out[k].matcher_lost += held_out.matcher_lost;
    }
  }
  return out;
}

StatusOr<std::vector<std::string>> FvcDatabaseFolders(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> folders;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.size() >= 4 && name.starts_with("DB") && name.ends_with("_B")) {
      folders.push_back(entry.path().string());
    }
  }
  if (ec) return NotFound("cannot read folder " + dir + ": " + ec.message());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) folders.push_back(dir);
  return folders;
}

StatusOr<FvcEvaluation> EvaluateFvc(const FvcEvaluationOptions& o) {
  // Refused before the minutes of scoring, not after.
  RETURN_IF_ERROR(CheckKeepShares(o.prefilter_keeps));
  for (int fingers : o.prefilter_fingers) {
    RETURN_IF_ERROR(CheckFingerCount(fingers));
  }
  RETURN_IF_ERROR(CheckRejectShares(o.rejects));
  ASSIGN_OR_RETURN(const std::vector<std::string> folders, FvcDatabaseFolders(o.dir));
  if (o.scores_csv != nullptr) *o.scores_csv << "probe,candidate,score\n";
  FvcEvaluation report;
  std::vector<float> all_genuine, all_impostor;
  std::vector<std::vector<FvcSample>> all_samples;
  std::vector<std::vector<ScoredPair>> all_pairs;
  std::vector<ScoredDatabase> scored;
  for (const std::string& folder : folders) {
    ASSIGN_OR_RETURN(std::vector<FvcSample> samples, LoadFvcDatabase(folder));
    std::vector<ScoredPair> pairs = ScoreFvcPairs(samples, o.threads);
    ScoredDatabase db{std::filesystem::path(folder).filename().string(), {}, {}};
    for (const ScoredPair& p : pairs) {
      (p.genuine ? db.genuine : db.impostor).push_back(p.score);
      if (o.scores_csv != nullptr) {
        *o.scores_csv << samples[p.probe].path << "," << samples[p.candidate].path << "," << p.score << "\n";
      }
    }
    all_genuine.insert(all_genuine.end(), db.genuine.begin(), db.genuine.end());
    all_impostor.insert(all_impostor.end(), db.impostor.begin(), db.impostor.end());
    report.databases.push_back({db.name, ComputeErrorRates(db.genuine, db.impostor)});
    if (!o.prefilter_keeps.empty() || !o.rejects.empty()) all_samples.push_back(std::move(samples));
    if (!o.rejects.empty()) all_pairs.push_back(std::move(pairs));
    scored.push_back(std::move(db));
    if (o.progress) o.progress("databases scored", scored.size(), folders.size());
  }
  report.pooled = ComputeErrorRates(all_genuine, all_impostor);
  report.calibration = ObserveFmr(all_impostor, o.calibration_thresholds);
  if (!o.prefilter_keeps.empty()) {
    for (int fingers : o.prefilter_fingers) {
      if (static_cast<size_t>(fingers) > all_samples.size()) continue;  // not enough databases to form subjects
      ASSIGN_OR_RETURN(std::vector<PrefilterLoss> losses,
                       FvcPrefilterLoss(all_samples, o.prefilter_keeps, o.threads, fingers, std::nullopt,
                                        o.prefilter_scorer));
      report.prefilter.insert(report.prefilter.end(), losses.begin(), losses.end());
      if (o.cross_validate && all_samples.size() / static_cast<size_t>(fingers) >= 2) {
        ASSIGN_OR_RETURN(std::vector<PrefilterLoss> held_out,
                         FvcPrefilterLossOutOfFold(all_samples, o.prefilter_keeps, o.threads, fingers,
                                                   o.prefilter_scorer));
        report.prefilter_out_of_fold.insert(report.prefilter_out_of_fold.end(), held_out.begin(), held_out.end());
      }
    }
  }
  if (!o.rejects.empty()) {
    std::vector<EvaluatedDatabase> evaluated;
    for (size_t i = 0; i < all_pairs.size(); ++i) evaluated.push_back({&all_samples[i], &all_pairs[i], scored[i].name});
    ASSIGN_OR_RETURN(report.reject, ErrorVersusReject(evaluated, o.rejects));
    if (o.cross_validate) {
      ASSIGN_OR_RETURN(report.reject_out_of_fold, ErrorVersusRejectOutOfFold(evaluated, o.rejects));
    }
  }
  if (o.cross_validate) {
    ASSIGN_OR_RETURN(CrossValidation cv, CrossValidate(scored));
    report.cross_validation = std::move(cv);
  }
  if (o.scores_csv != nullptr && !*o.scores_csv) return Unavailable("error writing the scores");
  return report;
}

}  // namespace ektp::bio
