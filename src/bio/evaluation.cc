#include "bio/evaluation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <unordered_set>

#include "bio/abis.h"

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
  r.fmr100 = r.fmr1000 = r.zero_fmr = 1.0;
  for (const Point& p : points) {
    if (p.fmr <= 0.01) r.fmr100 = std::min(r.fmr100, p.fnmr);
    if (p.fmr <= 0.001) r.fmr1000 = std::min(r.fmr1000, p.fnmr);
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

std::vector<ObservedFmr> ObserveFmr(const std::vector<float>& impostor, const std::vector<float>& thresholds) {
  std::vector<ObservedFmr> out;
  for (float t : thresholds) {
    const auto accepted = std::count_if(impostor.begin(), impostor.end(), [t](float s) { return s >= t; });
    out.push_back({t, static_cast<size_t>(accepted), impostor.size()});
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

StatusOr<std::vector<PrefilterLoss>> FvcPrefilterLoss(const std::vector<std::vector<FvcSample>>& databases,
                                                      const std::vector<double>& keeps, int threads) {
  for (double keep : keeps) {
    if (!(keep > 0 && keep <= 1)) return InvalidArgument("pre-filter share " + std::to_string(keep) + " is outside (0, 1]");
  }
  ASSIGN_OR_RETURN(auto abis, InMemoryAbis::Open(nullptr));
  std::unordered_set<std::string> enrolled;
  auto id_of = [](size_t db, const FvcSample& s) { return std::to_string(db) + "/" + std::to_string(s.finger); };
  for (size_t db = 0; db < databases.size(); ++db) {
    for (const FvcSample& s : databases[db]) {
      if (s.impression != 1) continue;
      RETURN_IF_ERROR(abis->Insert(SubjectRecord{id_of(db, s), {FingerSample{1, s.features}}}));
      enrolled.insert(id_of(db, s));
    }
  }
  if (abis->Count() < 2) return InvalidArgument("the FVC databases hold fewer than 2 first impressions to enrol");
  std::vector<PrefilterLoss> out;
  for (double keep : keeps) {
    PrefilterLoss loss{keep, abis->Count(), 0, 0};
    IdentifyOptions options;
    options.prefilter_keep = keep;
    options.min_prefilter_subjects = 1;
    options.max_candidates = 1;
    options.threads = threads;
    for (size_t db = 0; db < databases.size(); ++db) {
      for (const FvcSample& s : databases[db]) {
        if (s.impression == 1 || !enrolled.count(id_of(db, s))) continue;  // no mate to find
        ASSIGN_OR_RETURN(IdentifyResult r, abis->Identify(SubjectRecord{"", {FingerSample{1, s.features}}}, options));
        ++loss.searches;
        loss.lost += std::find(r.shortlist.begin(), r.shortlist.end(), id_of(db, s)) == r.shortlist.end();
      }
    }
    out.push_back(loss);
  }
  return out;
}

}  // namespace ektp::bio
