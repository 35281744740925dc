#include "bio/synth_calibration.h"

#include <algorithm>
#include <cmath>

namespace ektp::bio {
namespace {

double ShareAtLeast(const std::vector<float>& scores, float threshold) {
  size_t n = 0;
  for (float s : scores) n += s >= threshold;
  return scores.empty() ? 0.0 : static_cast<double>(n) / static_cast<double>(scores.size());
}

double LogRatio(double a, double b) {
  return std::fabs(std::log(std::max(a, 1e-4) / std::max(b, 1e-4)));
}

struct NamedField {
  const char* name;
  float SynthParams::*field;
  bool share;  // a probability or share: kept within [0, 1]
};

const std::vector<NamedField>& Fields() {
  static const std::vector<NamedField> fields = {
      {"minutiae_mean", &SynthParams::minutiae_mean, false},
      {"minutiae_sd", &SynthParams::minutiae_sd, false},
      {"polarity_coherence", &SynthParams::polarity_coherence, true},
      {"rotation_sd_deg", &SynthParams::rotation_sd_deg, false},
      {"displacement_sd_px", &SynthParams::displacement_sd_px, false},
      {"contact_min", &SynthParams::contact_min, true},
      {"contact_offset_px", &SynthParams::contact_offset_px, false},
      {"distortion_px", &SynthParams::distortion_px, false},
      {"distortion_radius_px", &SynthParams::distortion_radius_px, false},
      {"scale_sd", &SynthParams::scale_sd, false},
      {"noise_spread", &SynthParams::noise_spread, false},
      {"noise_patch_amplitude", &SynthParams::noise_patch_amplitude, false},
      {"missing_rate", &SynthParams::missing_rate, true},
      {"spurious_mean", &SynthParams::spurious_mean, false},
      {"position_noise_px", &SynthParams::position_noise_px, false},
      {"direction_noise_deg", &SynthParams::direction_noise_deg, false},
      {"type_flip_rate", &SynthParams::type_flip_rate, true},
  };
  return fields;
}

const NamedField* FindField(const std::string& name) {
  for (const NamedField& f : Fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

}  // namespace

ScoreSet ScoreSynthetic(const SynthParams& params, uint64_t seed, int fingers, int impressions, int threads) {
  const SynthGenerator gen(seed, params);
  constexpr int kPosition = 2;  // right index, as the scale benchmark's first finger
  std::vector<FvcSample> samples;
  samples.reserve(static_cast<size_t>(fingers) * static_cast<size_t>(impressions));
  for (int f = 0; f < fingers; ++f) {
    const MasterFinger master = gen.Master(static_cast<uint64_t>(f), kPosition);
    for (int i = 1; i <= impressions; ++i) {
      FvcSample s;
      s.finger = f + 1;
      s.impression = i;
      // Through the record, as `bio eval` reads a written set (whole pixels).
      const TemplateRecord record =
          SynthGenerator::ToRecord(gen.Detail(master, static_cast<uint64_t>(f), kPosition, i), kPosition);
      auto features = FingerFeatures::FromView(record.views[0], record.format);
      s.features = features.ok() ? *std::move(features) : FingerFeatures();
      samples.push_back(std::move(s));
    }
  }
  ScoreSet set;
  for (const ScoredPair& p : ScoreFvcPairs(samples, threads)) (p.genuine ? set.genuine : set.impostor).push_back(p.score);
  return set;
}

double KsDistance(std::vector<float> a, std::vector<float> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  size_t i = 0, j = 0;
  double worst = 0;
  while (i < a.size() && j < b.size()) {
    const float x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    worst = std::max(worst, std::fabs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
  }
  return worst;
}

DistributionComparison CompareScores(const ScoreSet& candidate, const ScoreSet& target) {
  DistributionComparison c;
  c.candidate = ComputeErrorRates(candidate.genuine, candidate.impostor);
  c.target = ComputeErrorRates(target.genuine, target.impostor);
  c.ks_genuine = KsDistance(candidate.genuine, target.genuine);
  c.ks_impostor = KsDistance(candidate.impostor, target.impostor);
  c.candidate_impostor_20 = ShareAtLeast(candidate.impostor, 20);
  c.target_impostor_20 = ShareAtLeast(target.impostor, 20);
  c.loss = c.ks_genuine + c.ks_impostor + LogRatio(c.candidate.eer, c.target.eer) / 4 +
           LogRatio(c.candidate_impostor_20, c.target_impostor_20) / 4;
  return c;
}

const std::vector<std::string>& FittedSynthParams() {
  static const std::vector<std::string> names = {
      "minutiae_mean", "polarity_coherence", "displacement_sd_px", "distortion_px",
      "missing_rate",  "spurious_mean",      "noise_spread",       "direction_noise_deg"};
  return names;
}

bool SetSynthParam(SynthParams& params, const std::string& name, float value) {
  const NamedField* f = FindField(name);
  if (f == nullptr) return false;
  params.*(f->field) = f->share ? std::clamp(value, 0.0f, 1.0f) : std::max(value, 0.0f);
  return true;
}

bool GetSynthParam(const SynthParams& params, const std::string& name, float* value) {
  const NamedField* f = FindField(name);
  if (f == nullptr) return false;
  *value = params.*(f->field);
  return true;
}

StatusOr<SynthFit> FitSynthParams(const ScoreSet& target, const SynthParams& start, const SynthFitOptions& o) {
  if (target.genuine.empty() || target.impostor.empty()) {
    return InvalidArgument("the calibration target has no genuine or no impostor scores");
  }
  if (o.fingers < 2 || o.impressions < 2 || o.rounds < 0 || !(o.first_step > 0 && o.first_step < 1) ||
      o.threads < 1) {
    return InvalidArgument("synthetic fit options out of range (fingers, impressions >= 2; step in (0, 1))");
  }
  SynthFit fit;
  fit.params = start;
  auto evaluate = [&](const SynthParams& p) {
    ++fit.evaluations;
    return CompareScores(ScoreSynthetic(p, o.seed, o.fingers, o.impressions, o.threads), target);
  };
  fit.comparison = evaluate(fit.params);
  fit.accepted.push_back({"", 0, fit.comparison.loss});
  float step = o.first_step;
  for (int round = 0; round < o.rounds; ++round, step /= 2) {
    for (const std::string& name : FittedSynthParams()) {
      float value = 0;
      GetSynthParam(fit.params, name, &value);
      for (float factor : {1 + step, 1 - step}) {
        SynthParams trial = fit.params;
        SetSynthParam(trial, name, value * factor);
        float tried = 0;
        GetSynthParam(trial, name, &tried);
        if (tried == value) continue;
        DistributionComparison c = evaluate(trial);
        if (c.loss < fit.comparison.loss) {
          fit.params = trial;
          fit.comparison = c;
          fit.accepted.push_back({name, tried, c.loss});
          break;
        }
      }
    }
  }
  return fit;
}

std::vector<double> ScoreHistogram(const std::vector<float>& scores, float width, int bins) {
  std::vector<double> h(static_cast<size_t>(std::max(bins, 1)), 0.0);
  for (float s : scores) {
    const int b = std::clamp(static_cast<int>(std::floor(s / width)), 0, static_cast<int>(h.size()) - 1);
    h[static_cast<size_t>(b)] += 1;
  }
  for (double& v : h) v /= std::max<double>(1, static_cast<double>(scores.size()));
  return h;
}

}  // namespace ektp::bio
