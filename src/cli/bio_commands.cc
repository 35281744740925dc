// `ektp bio ...`: thin wrappers over src/bio (see docs/biometrics.md).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bio/benchmarks.h"
#include "bio/evaluation.h"
#include "bio/synth.h"
#include "bio/synth_calibration.h"
#include "bio/template.h"
#include "bio/template_json.h"
#include "charts/charts.h"
#include "cli/commands.h"
#include "service/progress.h"

namespace ektp::cli {
namespace {

// The name `--prefilter-index` takes and the report prints for `scorer`.
std::string_view ScorerName(bio::PrefilterScorer scorer) {
  return scorer == bio::PrefilterScorer::kEngine ? "engine" : "signature";
}

int DefaultThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

std::string Percent(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << v * 100 << "%";
  return out.str();
}

nlohmann::json RatesJson(const bio::ErrorRates& r) {
  return {{"eer", r.eer},           {"fmr100", r.fmr100},     {"fmr1000", r.fmr1000}, {"fmr10000", r.fmr10000},
          {"zero_fmr", r.zero_fmr}, {"genuine", r.genuine}, {"impostor", r.impostor}};
}

nlohmann::json CheckJson(const bio::ThresholdCheck& c, bool pooled) {
  nlohmann::json j = {{"nominal_fmr", c.nominal_fmr},
                      {"supported_by_counts", c.supported_by_counts},
                      {"observed_fmr", c.fmr()},
                      {"observed_fmr_upper_95", c.fmr_upper()},
                      {"enough_impostor_pairs", c.enough_impostors()},
                      {"impostor_pairs_accepted", c.impostors_accepted},
                      {"impostor_pairs", c.impostors},
                      {"fnmr", c.fnmr()}};
  if (!pooled) j["threshold"] = c.threshold;
  return j;
}

nlohmann::json CrossValidationJson(const bio::CrossValidation& cv) {
  nlohmann::json folds = nlohmann::json::array();
  for (const bio::Fold& f : cv.folds) {
    nlohmann::json checks = nlohmann::json::array();
    for (const bio::ThresholdCheck& c : f.checks) checks.push_back(CheckJson(c, false));
    nlohmann::json fold = RatesJson(f.rates);
    fold["held_out"] = f.held_out;
    fold["training_impostor_pairs"] = f.training_impostors;
    fold["count_floor_fmr"] = f.count_floor;
    fold["evidence_slope"] = f.slope;
    fold["margin"] = f.margin;
    fold["database_shift"] = f.shift;
    fold["thresholds"] = std::move(checks);
    folds.push_back(std::move(fold));
  }
  nlohmann::json pooled = RatesJson(cv.pooled);
  pooled["thresholds"] = nlohmann::json::array();
  for (const bio::ThresholdCheck& c : cv.pooled_checks) pooled["thresholds"].push_back(CheckJson(c, true));
  return {{"folds", std::move(folds)}, {"pooled", std::move(pooled)}};
}

void PrintCheck(const bio::ThresholdCheck& c, bool pooled) {
  std::cout << "  nominal FMR " << std::setw(6) << Percent(c.nominal_fmr);
  if (!pooled) std::cout << " threshold " << std::fixed << std::setprecision(2) << c.threshold;
  std::cout << (c.supported_by_counts ? "" : " (extrapolated)") << ": accepts " << c.impostors_accepted << " of "
            << c.impostors << " impostor pairs (" << std::setprecision(4) << c.fmr() * 100 << "%"
            << (c.fmr() <= c.nominal_fmr ? ", within nominal" : ", ABOVE nominal") << "; 95% upper bound "
            << c.fmr_upper() * 100 << "%" << (c.enough_impostors() ? "" : ", too few impostor pairs to tell")
            << "), FNMR " << Percent(c.fnmr()) << "\n";
  std::cout.unsetf(std::ios::floatfield);
}

void PrintCrossValidation(const bio::CrossValidation& cv) {
  std::cout << "cross-validation (leave one database out; calibration fitted on the others):\n";
  for (const bio::Fold& f : cv.folds) {
    std::cout << "held out " << f.held_out << ": EER " << Percent(f.rates.eer) << " FMR100 " << Percent(f.rates.fmr100)
              << " FMR1000 " << Percent(f.rates.fmr1000) << " FMR10000 " << Percent(f.rates.fmr10000)
              << " (fitted on " << f.training_impostors << " impostor pairs; counts support FMR down to "
              << std::setprecision(3) << f.count_floor * 100 << "%; database shift " << f.shift
              << ", evidence >= " << f.slope << " * score - " << f.margin << ")\n";
    for (const bio::ThresholdCheck& c : f.checks) PrintCheck(c, false);
  }
  std::cout << "pooled out of fold: EER " << Percent(cv.pooled.eer) << " FMR100 " << Percent(cv.pooled.fmr100)
            << " FMR1000 " << Percent(cv.pooled.fmr1000) << " FMR10000 " << Percent(cv.pooled.fmr10000) << "\n";
  for (const bio::ThresholdCheck& c : cv.pooled_checks) PrintCheck(c, true);
}

void PrintRates(const std::string& name, const bio::ErrorRates& r) {
  std::cout << std::left << std::setw(8) << name << " EER " << std::setw(7) << Percent(r.eer) << " FMR100 "
            << std::setw(7) << Percent(r.fmr100) << " FMR1000 " << std::setw(7) << Percent(r.fmr1000) << " FMR10000 "
            << std::setw(7) << Percent(r.fmr10000) << " ZeroFMR "
            << std::setw(7) << Percent(r.zero_fmr) << " (" << r.genuine << " genuine, " << r.impostor
            << " impostor pairs)\n";
}

double LostRate(size_t lost, size_t searches) {
  return searches ? static_cast<double>(lost) / static_cast<double>(searches) : 0.0;
}

void PrintEvaluation(const bio::FvcEvaluation& e) {
  for (const auto& db : e.databases) PrintRates(db.name, db.rates);
  PrintRates("pooled", e.pooled);
  for (const bio::ObservedFmr& c : e.calibration) {
    std::cout << "calibration: score >= " << c.threshold << " accepts " << std::setprecision(3) << c.fmr() * 100
              << "% of impostor pairs (" << c.accepted << " of " << c.impostors << "; nominal "
              << c.nominal_fmr() * 100 << "%)\n";
  }
  auto print_prefilter = [&](const bio::PrefilterLoss& l, std::string_view label) {
    std::cout << "pre-filter" << label << " keeping " << Percent(l.keep) << " of " << l.gallery << " " << l.fingers
              << "-finger subjects: lost " << Percent(LostRate(l.lost, l.searches)) << " (" << l.lost << " of "
              << l.searches << " searches";
    for (size_t db = 0; db < l.by_database.size(); ++db) {
      const bio::PrefilterLoss::Count& c = l.by_database[db];
      if (c.searches > 0) std::cout << "; " << e.databases[db].name << " " << c.lost << " of " << c.searches;
    }
    std::cout << ")\n";
    if (l.scorer == bio::PrefilterScorer::kEngine) {
      std::cout << "  the full matcher ranking the whole gallery instead: lost "
                << Percent(LostRate(l.matcher_lost, l.searches)) << " (" << l.matcher_lost << " of " << l.searches
                << ")\n";
    }
    if (l.scorer == bio::PrefilterScorer::kSignature) {
      std::cout << "  signature, one thread: " << std::setprecision(3) << l.score_us_per_gallery_finger
                << " us per gallery finger scored, " << std::setprecision(4) << l.bytes_per_finger
                << " bytes per gallery finger (mean)\n";
    }
  };
  auto name = [](const bio::PrefilterLoss& l) -> std::string {
    return l.scorer == bio::PrefilterScorer::kEngine ? "" : " (" + std::string(ScorerName(l.scorer)) + ")";
  };
  for (const bio::PrefilterLoss& l : e.prefilter) print_prefilter(l, name(l));
  for (const bio::PrefilterLoss& l : e.prefilter_out_of_fold) {
    print_prefilter(l, name(l) + " OUT OF FOLD (each group's length cells and cohort from the other databases)");
  }
  if (!e.reject.empty()) {
    std::cout << "error versus reject, IN-SAMPLE (the worst templates by capture quality over all databases removed; "
                 "raw scores):\n";
    for (const bio::RejectPoint& p : e.reject) {
      PrintRates("  worst " + Percent(p.reject), p.rates);
      std::cout << "    removed " << p.templates_removed << " of " << p.templates << " templates\n";
    }
  }
  if (!e.reject_out_of_fold.empty()) {
    std::cout << "error versus reject, OUT OF FOLD (each database's quality cut from the other databases' worst "
                 "share; pairs scored through that fold's calibration):\n";
    for (const bio::RejectPoint& p : e.reject_out_of_fold) {
      PrintRates("  worst " + Percent(p.reject), p.rates);
      std::cout << "    removed " << p.templates_removed << " of " << p.templates << " templates (";
      for (size_t i = 0; i < p.folds.size(); ++i) {
        std::cout << (i ? ", " : "") << p.folds[i].held_out << " " << p.folds[i].templates_removed << " at or below "
                  << std::fixed << std::setprecision(1) << p.folds[i].cut;
        std::cout.unsetf(std::ios::floatfield);
      }
      std::cout << ")\n";
    }
  }
  if (e.cross_validation) PrintCrossValidation(*e.cross_validation);
}

nlohmann::json EvaluationJson(const bio::FvcEvaluation& e) {
  nlohmann::json out = {{"databases", nlohmann::json::array()}};
  for (const auto& db : e.databases) {
    nlohmann::json row = RatesJson(db.rates);
    row["name"] = db.name;
    out["databases"].push_back(std::move(row));
  }
  out["pooled"] = RatesJson(e.pooled);
  out["calibration"] = nlohmann::json::array();
  for (const bio::ObservedFmr& c : e.calibration) {
    out["calibration"].push_back({{"threshold", c.threshold},
                                  {"nominal_fmr", c.nominal_fmr()},
                                  {"observed_fmr", c.fmr()},
                                  {"impostor_pairs_accepted", c.accepted}});
  }
  auto prefilter_json = [&](const std::vector<bio::PrefilterLoss>& losses) {
    nlohmann::json rows = nlohmann::json::array();
    for (const bio::PrefilterLoss& l : losses) {
      nlohmann::json by_database = nlohmann::json::object();
      for (size_t db = 0; db < l.by_database.size(); ++db) {
        const bio::PrefilterLoss::Count& c = l.by_database[db];
        if (c.searches == 0) continue;
        by_database[e.databases[db].name] = {{"searches", c.searches}, {"lost", c.lost}};
        if (l.scorer == bio::PrefilterScorer::kEngine) by_database[e.databases[db].name]["matcher_lost"] = c.matcher_lost;
      }
      rows.push_back({{"keep", l.keep},
                      {"fingers", l.fingers},
                      {"gallery", l.gallery},
                      {"searches", l.searches},
                      {"lost", l.lost},
                      {"lost_rate", LostRate(l.lost, l.searches)},
                      {"by_database", std::move(by_database)}});
      rows.back()["scorer"] = ScorerName(l.scorer);
      if (l.scorer == bio::PrefilterScorer::kEngine) rows.back()["matcher_lost"] = l.matcher_lost;
      if (l.scorer == bio::PrefilterScorer::kSignature) {
        rows.back()["score_us_per_gallery_finger"] = l.score_us_per_gallery_finger;
        rows.back()["bytes_per_finger"] = l.bytes_per_finger;
      }
    }
    return rows;
  };
  if (!e.prefilter.empty()) out["prefilter"] = prefilter_json(e.prefilter);
  if (!e.prefilter_out_of_fold.empty()) out["prefilter_out_of_fold"] = prefilter_json(e.prefilter_out_of_fold);
  auto reject_json = [](const std::vector<bio::RejectPoint>& points) {
    nlohmann::json rows = nlohmann::json::array();
    for (const bio::RejectPoint& p : points) {
      nlohmann::json row = RatesJson(p.rates);
      row["reject"] = p.reject;
      row["templates"] = p.templates;
      row["templates_removed"] = p.templates_removed;
      if (!p.folds.empty()) {
        row["folds"] = nlohmann::json::array();
        for (const bio::RejectPoint::Fold& f : p.folds) {
          row["folds"].push_back({{"held_out", f.held_out},
                                  {"quality_cut", f.cut},
                                  {"templates", f.templates},
                                  {"templates_removed", f.templates_removed}});
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  };
  if (!e.reject.empty()) out["reject_in_sample"] = reject_json(e.reject);
  if (!e.reject_out_of_fold.empty()) out["reject_out_of_fold"] = reject_json(e.reject_out_of_fold);
  if (e.cross_validation) out["cross_validation"] = CrossValidationJson(*e.cross_validation);
  return out;
}

}  // namespace

int BioEval(const Args& args) {
  CLI::App app("Run the FVC protocol on every DBn_B folder under <dir>", "bio eval");
  bio::FvcEvaluationOptions options;
  options.threads = DefaultThreads();
  std::string scores_path;
  bool json = false;
  app.add_option("dir", options.dir, "folder holding DB1_B, DB2_B, ... (or one database folder)")->required();
  app.add_option("--scores", scores_path, "write every compared pair as probe,candidate,score");
  app.add_option("--prefilter", options.prefilter_keeps,
                 "also report how often the 1:N pre-filter keeping these shares (0..1], comma-separated, loses the "
                 "mate (impression 1 of every subject enrolled, the others searched)")
      ->delimiter(',');
  app.add_option("--prefilter-fingers", options.prefilter_fingers,
                 "fingers per subject for --prefilter, comma-separated (1..4; n fingers pair finger k of n "
                 "consecutive databases)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--prefilter-index", options.prefilter_scorer,
                 "the scorer --prefilter measures: engine (the engine's: the rotation-sectored signature plus the "
                 "edge pairs) or signature (the plain edge signature; measured only)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, bio::PrefilterScorer>{
          {"signature", bio::PrefilterScorer::kSignature}, {"engine", bio::PrefilterScorer::kEngine}}))
      ->default_str("engine");
  std::vector<double> reject_worst_percent;
  app.add_option("--reject-worst", reject_worst_percent,
                 "also report the error-versus-reject curve: the error rates with the worst PERCENT [0..100) of "
                 "templates by capture quality removed, comma-separated (0 is always reported; out of fold too "
                 "with --cross-validate)")
      ->delimiter(',');
  app.add_flag("--cross-validate", options.cross_validate,
               "leave one database out: fit the calibration on the others, report the held-out one (and pooled)");
  app.add_option("--threads", options.threads, "worker threads")->capture_default_str();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  if (!reject_worst_percent.empty()) {
    options.rejects = {0};
    for (double percent : reject_worst_percent) {
      if (!(percent >= 0 && percent < 100)) {
        return Fail(InvalidArgument("--reject-worst " + std::to_string(percent) + " is outside [0, 100)"));
      }
      if (percent > 0) options.rejects.push_back(percent / 100);
    }
  }
  std::ofstream scores;
  if (!scores_path.empty()) {
    scores.open(scores_path);
    if (!scores) return Fail(Unavailable("cannot write " + scores_path));
    options.scores_csv = &scores;
  }
  service::Progress progress;
  options.progress = [&progress](std::string_view what, uint64_t done, uint64_t total) {
    progress.Update(what, done, total);
  };
  auto report = bio::EvaluateFvc(options);
  if (!report.ok()) return Fail(report.status());
  if (scores.is_open()) {
    scores.close();
    if (!scores) return Fail(Unavailable("error writing " + scores_path));
  }
  if (json) {
    std::cout << EvaluationJson(*report).dump(2) << "\n";
  } else {
    PrintEvaluation(*report);
  }
  return kExitOk;
}

int BioTemplateShow(const Args& args) {
  CLI::App app("Decode a minutiae template and print it as JSON", "bio template show");
  std::string path;
  app.add_option("file", path, "template file")->required();
  if (auto exit = Parse(app, args)) return *exit;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(NotFound("cannot open " + path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto record = bio::DecodeTemplate(bytes);
  if (!record.ok()) return Fail(record.status().WithContext(path));
  nlohmann::json out = bio::TemplateToJson(*record);
  out["format"] = std::string(bio::TemplateFormatName(record->format));
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int BioBench(const Args& args) {
  CLI::App app("Matcher speed: comparisons/s/core, 1:N latency, peak memory", "bio bench");
  bio::BenchOptions o;
  bool json = false;
  app.add_option("--fvc", o.fvc_dir, "folder with DBn_B template folders (e.g. FVC2002's)")->required();
  app.add_option("--seconds", o.seconds, "seconds per throughput run")->capture_default_str();
  app.add_option("--gallery-sizes", o.gallery_sizes, "synthetic gallery sizes for 1:N latency (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threads (0 = all cores)")->capture_default_str();
  app.add_flag("--json", json, "print JSON (the only output format; kept for symmetry)");
  if (auto exit = Parse(app, args)) return *exit;
  auto result = bio::RunBench(o);
  if (!result.ok()) return Fail(result.status());
  std::cout << result->dump(2) << "\n";
  return kExitOk;
}
namespace {

// Applies `name=value` settings to the synthetic model's parameters.
Status ApplySynthParams(const std::vector<std::string>& settings, bio::SynthParams& params) {
  for (const std::string& setting : settings) {
    const size_t eq = setting.find('=');
    float value = 0;
    try {
      if (eq == std::string::npos) throw std::invalid_argument(setting);
      size_t used = 0;
      value = std::stof(setting.substr(eq + 1), &used);
      if (used != setting.size() - eq - 1) throw std::invalid_argument(setting);
    } catch (const std::exception&) {
      return InvalidArgument("--param wants name=number, got '" + setting + "'");
    }
    if (!bio::SetSynthParam(params, setting.substr(0, eq), value)) {
      return InvalidArgument("--param: unknown synthetic-model parameter '" + setting.substr(0, eq) + "'");
    }
  }
  return Status::Ok();
}

nlohmann::json SynthParamsJson(const bio::SynthParams& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* name : {"minutiae_mean", "minutiae_sd", "polarity_coherence", "rotation_sd_deg",
                           "displacement_sd_px", "contact_min", "contact_offset_px", "distortion_px",
                           "distortion_radius_px", "scale_sd", "noise_spread", "noise_patch_amplitude",
                           "missing_rate", "spurious_mean", "position_noise_px", "direction_noise_deg",
                           "type_flip_rate"}) {
    float v = 0;
    bio::GetSynthParam(params, name, &v);
    j[name] = v;
  }
  return j;
}

constexpr const char* kParamHelp =
    "synthetic-model parameter as name=value (repeatable; names and defaults in docs/biometrics.md)";

}  // namespace

int BioSynth(const Args& args) {
  CLI::App app("Generate deterministic synthetic ISO 19794-2:2005 templates", "bio synth");
  uint64_t subjects = 10, seed = 1;
  int impressions = 2, fingers = 2;
  std::string out_dir;
  bool fvc = false;
  std::vector<std::string> settings;
  app.add_option("--subjects", subjects, "number of subjects")->capture_default_str();
  app.add_option("--seed", seed, "generator seed; the same seed gives the same templates")->capture_default_str();
  app.add_option("--impressions", impressions, "impressions per finger")->capture_default_str()->check(CLI::Range(1, 99));
  app.add_option("--fingers", fingers, "fingers per subject (ISO positions 1..n)")->capture_default_str()->check(CLI::Range(1, 10));
  app.add_option("--out", out_dir, "output folder")->required();
  app.add_flag("--fvc", fvc, "FVC layout: one finger per subject, files FFF_I.iso (for `bio eval`)");
  app.add_option("--param", settings, kParamHelp);
  if (auto exit = Parse(app, args)) return *exit;
  bio::SynthParams params = bio::SynthParams::Calibrated();
  if (Status st = ApplySynthParams(settings, params); !st.ok()) return Fail(st);
  if (fvc) fingers = 1;
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Fail(Unavailable("cannot create " + out_dir + ": " + ec.message()));
  bio::SynthGenerator gen(seed, params);
  size_t files = 0, minutiae = 0;
  for (uint64_t subject = 0; subject < subjects; ++subject) {
    for (int finger = 1; finger <= fingers; ++finger) {
      bio::MasterFinger master = gen.Master(subject, finger);
      for (int impression = 1; impression <= impressions; ++impression) {
        auto m = gen.Detail(master, subject, finger, impression);
        minutiae += m.minutiae.size();
        auto bytes = bio::EncodeTemplate(bio::SynthGenerator::ToRecord(m, finger));
        if (!bytes.ok()) return Fail(bytes.status());
        std::string name = fvc ? std::to_string(100 + subject + 1) + "_" + std::to_string(impression) + ".iso"
                               : "s" + std::to_string(subject) + "_f" + std::to_string(finger) + "_i" +
                                     std::to_string(impression) + ".iso";
        std::ofstream out(std::filesystem::path(out_dir) / name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
        if (!out) return Fail(Unavailable("cannot write " + name));
        ++files;
      }
    }
  }
  nlohmann::json summary = {{"files", files},
                            {"subjects", subjects},
                            {"seed", seed},
                            {"mean_minutiae_per_impression", files ? double(minutiae) / double(files) : 0.0},
                            {"window_px", {bio::SynthGenerator::kWindowWidth, bio::SynthGenerator::kWindowHeight}},
                            {"params", SynthParamsJson(params)}};
  std::cout << summary.dump(2) << "\n";
  return kExitOk;
}

namespace {

nlohmann::json ComparisonJson(const bio::DistributionComparison& c) {
  return {{"synthetic", RatesJson(c.candidate)},
          {"fvc", RatesJson(c.target)},
          {"ks_genuine", c.ks_genuine},
          {"ks_impostor", c.ks_impostor},
          {"synthetic_impostors_at_least_20", c.candidate_impostor_20},
          {"fvc_impostors_at_least_20", c.target_impostor_20},
          {"loss", c.loss}};
}

// Score histograms in 2-point bins, the last holding 100 and above: each a
// share of its set's pairs.
constexpr float kHistogramBin = 2;
constexpr int kHistogramBins = 51;
struct ScoreHistograms {
  std::vector<double> fit_genuine, fit_impostor, held_out_genuine, held_out_impostor, synthetic_genuine,
      synthetic_impostor;
};

ScoreHistograms Histograms(const bio::ScoreSet& fit, const bio::ScoreSet& held_out, const bio::ScoreSet& synthetic) {
  auto of = [](const std::vector<float>& scores) {
    return bio::ScoreHistogram(scores, kHistogramBin, kHistogramBins);
  };
  return {of(fit.genuine),      of(fit.impostor),      of(held_out.genuine),
          of(held_out.impostor), of(synthetic.genuine), of(synthetic.impostor)};
}

Status WriteHistograms(const ScoreHistograms& h, const std::string& path) {
  std::ofstream out(path);
  if (!out) return Unavailable("cannot write " + path);
  out << "# score\tfit_genuine\tfit_impostor\theld_out_genuine\theld_out_impostor\tsynthetic_genuine\tsynthetic_"
         "impostor\n";
  for (int b = 0; b < kHistogramBins; ++b) {
    const size_t i = static_cast<size_t>(b);
    out << b * kHistogramBin << "\t" << h.fit_genuine[i] << "\t" << h.fit_impostor[i] << "\t" << h.held_out_genuine[i]
        << "\t" << h.held_out_impostor[i] << "\t" << h.synthetic_genuine[i] << "\t" << h.synthetic_impostor[i] << "\n";
  }
  if (!out) return Unavailable("error writing " + path);
  return Status::Ok();
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : "+") + n;
  return out;
}

// The FVC databases (fitted on, solid; held out, dashed) beside the
// synthetic set, each as genuine and impostor shares on a log scale.
Status PlotHistograms(const ScoreHistograms& h, const std::vector<std::string>& fit_names, double fit_eer,
                      const std::vector<std::string>& held_out_names, double held_out_eer, double synthetic_eer,
                      const bio::SynthFitOptions& o, const std::string& path) {
  constexpr charts::Rgb kGenuine{27, 120, 55}, kImpostor{178, 24, 43};
  std::vector<double> x;
  for (int b = 0; b < kHistogramBins; ++b) x.push_back(b * kHistogramBin);
  auto panel = [](std::string title) {
    charts::Panel p{std::move(title), "score (nominal: -10 log10 FMR)", "share of pairs", {}, 0, 102};
    p.log_y = true;
    p.y_min = 1e-5;
    return p;
  };
  std::string title = "FVC: EER " + Percent(fit_eer) + " fitted on";
  if (!held_out_names.empty()) title += ", " + Percent(held_out_eer) + " held out";
  charts::Panel fvc = panel(title);
  const std::string fitted = Joined(fit_names), held = Joined(held_out_names) + " (held out)";
  fvc.series = {{"genuine, " + fitted, x, h.fit_genuine, kGenuine, false},
                {"impostor, " + fitted, x, h.fit_impostor, kImpostor, false}};
  if (!held_out_names.empty()) {
    fvc.series.push_back({"genuine, " + held, x, h.held_out_genuine, kGenuine, true});
    fvc.series.push_back({"impostor, " + held, x, h.held_out_impostor, kImpostor, true});
  }
  charts::Panel synthetic = panel("Synthetic, " + std::to_string(o.fingers) + " x " + std::to_string(o.impressions) +
                                  ": EER " + Percent(synthetic_eer));
  synthetic.series = {{"genuine", x, h.synthetic_genuine, kGenuine, false},
                      {"impostor", x, h.synthetic_impostor, kImpostor, false}};
  return charts::WriteSvg({fvc, synthetic}, path, 700, 480);
}

}  // namespace

int BioSynthCalibrate(const Args& args) {
  CLI::App app("Compare the synthetic model's score distributions with FVC databases; --search fits it",
               "bio synth-calibrate");
  std::string fvc_dir, histogram_path, plot_path;
  std::vector<std::string> fit_names, settings;
  bio::SynthFitOptions o;
  bool search = false;
  app.add_option("--fvc", fvc_dir, "folder with DBn_B template folders (e.g. FVC2002's)")->required();
  app.add_option("--fit", fit_names, "databases the model is fitted on (the rest are held out)")
      ->delimiter(',')
      ->required();
  app.add_flag("--search", search, "search the parameters (else compare the given ones)");
  app.add_option("--param", settings, kParamHelp);
  app.add_option("--seed", o.seed, "seed of the synthetic set fitted on (held-out sets use seed + 1000)")
      ->capture_default_str();
  app.add_option("--fingers", o.fingers, "synthetic fingers")->capture_default_str()->check(CLI::Range(2, 100000));
  app.add_option("--impressions", o.impressions, "impressions per synthetic finger")
      ->capture_default_str()
      ->check(CLI::Range(2, 99));
  app.add_option("--rounds", o.rounds, "search rounds (each halves the step)")->capture_default_str();
  app.add_option("--histogram", histogram_path,
                 "write score histograms (2-point bins) of the fit databases, the held-out ones and the synthetic set");
  app.add_option("--plot", plot_path,
                 "draw those histograms as an SVG: the FVC databases beside the synthetic set (log scale)");
  o.threads = DefaultThreads();
  app.add_option("--threads", o.threads, "worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  if (auto exit = Parse(app, args)) return *exit;
  bio::SynthParams params = bio::SynthParams::Calibrated();
  if (Status st = ApplySynthParams(settings, params); !st.ok()) return Fail(st);

  std::vector<std::string> all;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fvc_dir, ec)) {
    if (entry.is_directory()) all.push_back(entry.path().filename().string());
  }
  if (ec) return Fail(NotFound("cannot read " + fvc_dir + ": " + ec.message()));
  std::sort(all.begin(), all.end());
  for (const std::string& name : fit_names) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      return Fail(NotFound("--fit: no database " + name + " in " + fvc_dir));
    }
  }
  bio::ScoreSet fit_target, held_out_pool;
  std::vector<std::pair<std::string, bio::ScoreSet>> held_out;
  for (const std::string& name : all) {
    auto samples = bio::LoadFvcDatabase((std::filesystem::path(fvc_dir) / name).string());
    if (!samples.ok()) return Fail(samples.status());
    const bool fitted = std::find(fit_names.begin(), fit_names.end(), name) != fit_names.end();
    bio::ScoreSet set;
    for (const bio::ScoredPair& p : bio::ScoreFvcPairs(*samples, o.threads)) {
      (p.genuine ? set.genuine : set.impostor).push_back(p.score);
    }
    bio::ScoreSet& pool = fitted ? fit_target : held_out_pool;
    pool.genuine.insert(pool.genuine.end(), set.genuine.begin(), set.genuine.end());
    pool.impostor.insert(pool.impostor.end(), set.impostor.begin(), set.impostor.end());
    if (!fitted) held_out.emplace_back(name, std::move(set));
  }

  nlohmann::json out;
  if (search) {
    auto fit = bio::FitSynthParams(fit_target, params, o);
    if (!fit.ok()) return Fail(fit.status());
    params = fit->params;
    nlohmann::json steps = nlohmann::json::array();
    for (const bio::SynthFitStep& step : fit->accepted) {
      steps.push_back({{"param", step.param}, {"value", step.value}, {"loss", step.loss}});
    }
    out["search"] = {{"evaluations", fit->evaluations}, {"accepted", steps}};
  }
  out["params"] = SynthParamsJson(params);
  out["synthetic_set"] = {{"fingers", o.fingers}, {"impressions", o.impressions}, {"seed", o.seed}};
  const bio::ScoreSet synthetic = bio::ScoreSynthetic(params, o.seed, o.fingers, o.impressions, o.threads);
  out["fit"] = {{"databases", fit_names}, {"comparison", ComparisonJson(bio::CompareScores(synthetic, fit_target))}};
  // Out of sample twice over: other databases, and a synthetic set of another seed.
  const bio::ScoreSet fresh = bio::ScoreSynthetic(params, o.seed + 1000, o.fingers, o.impressions, o.threads);
  nlohmann::json held = nlohmann::json::array();
  for (const auto& [name, set] : held_out) {
    held.push_back({{"database", name},
                    {"synthetic_seed", o.seed + 1000},
                    {"comparison", ComparisonJson(bio::CompareScores(fresh, set))},
                    // The yardstick: how far this real database lies from the fitted ones.
                    {"fvc_vs_fit_databases", ComparisonJson(bio::CompareScores(set, fit_target))}});
  }
  out["held_out"] = held;

  if (!histogram_path.empty() || !plot_path.empty()) {
    const ScoreHistograms histograms = Histograms(fit_target, held_out_pool, synthetic);
    if (!histogram_path.empty()) {
      if (Status st = WriteHistograms(histograms, histogram_path); !st.ok()) return Fail(st);
    }
    if (!plot_path.empty()) {
      std::vector<std::string> held_out_names;
      for (const auto& [name, set] : held_out) held_out_names.push_back(name);
      const double held_out_eer =
          held_out_pool.genuine.empty() ? 0 : bio::CompareScores(fresh, held_out_pool).target.eer;
      const double fit_eer = out["fit"]["comparison"]["fvc"]["eer"].get<double>();
      const double synthetic_eer = out["fit"]["comparison"]["synthetic"]["eer"].get<double>();
      if (Status st = PlotHistograms(histograms, fit_names, fit_eer, held_out_names, held_out_eer, synthetic_eer,
                                     o, plot_path);
          !st.ok()) {
        return Fail(st);
      }
    }
  }
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int BioScale(const Args& args) {
  CLI::App app("1:N de-duplication benchmark on a synthetic two-finger gallery", "bio scale");
  bio::ScaleOptions o;
  app.add_option("--subjects", o.subjects, "gallery subjects")->capture_default_str();
  app.add_option("--seed", o.seed, "generator seed")->capture_default_str();
  app.add_option("--searches", o.searches, "mated searches")->capture_default_str();
  app.add_option("--non-mated", o.non_mated, "non-mated searches (>= 1000 to resolve FPIR 0.1%)")->capture_default_str();
  app.add_option("--cache", o.cache, "gallery cache file (created on first run, reused after)");
  app.add_option("--threads", o.threads, "threads (0 = all cores)")->capture_default_str();
  app.add_option("--prefilter-keep", o.prefilter_keep, "share of the gallery fully matched (1 = no pre-filter)")
      ->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  service::Progress progress;
  o.progress = [&progress](std::string_view what, uint64_t done, uint64_t total) { progress.Update(what, done, total); };
  auto result = bio::RunScale(o);
  if (!result.ok()) return Fail(result.status());
  std::cout << result->dump(2) << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
