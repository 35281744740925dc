#include "bio/benchmarks.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <thread>

#include <nlohmann/json.hpp>

#include "bio/abis.h"
#include "bio/evaluation.h"
#include "bio/synth.h"
#include "core/process_stats.h"

namespace ektp::bio {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

int Threads(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

constexpr int kScalePositions[2] = {2, 7};  // right index, left index

SubjectRecord SynthSubject(const SynthGenerator& gen, uint64_t subject, int impression, const int* positions,
                           int count) {
  SubjectRecord s;
  s.id = "S" + std::to_string(subject);
  for (int k = 0; k < count; ++k) {
    MasterFinger master = gen.Master(subject, positions[k]);
    s.fingers.push_back({positions[k], FingerFeatures(gen.Impression(master, subject, positions[k], impression))});
  }
  return s;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[idx];
}

}  // namespace

// The cache (a private, machine-local file): "EKTPSYN4" (bump the digit when
// this layout changes), subjects u64, seed u64 in host byte order, then per
// subject two length-prefixed (u16) FingerFeatures blobs. It holds "this
// gallery" when count and seed agree and its subject 0 is what the generator
// makes now (a cache from another version of the generator is rebuilt).
Status ForEachScaleSubject(const ScaleOptions& o, const std::function<Status(size_t, SubjectRecord)>& sink,
                           nlohmann::json& info) {
  const int threads = Threads(o.threads);
  const char kMagic[8] = {'E', 'K', 'T', 'P', 'S', 'Y', 'N', '4'};
  auto t0 = Clock::now();
  std::ifstream cache;
  if (!o.cache.empty() && std::filesystem::exists(o.cache)) {
    cache.open(o.cache, std::ios::binary);
    char magic[8];
    uint64_t n = 0, seed = 0;
    cache.read(magic, 8);
    cache.read(reinterpret_cast<char*>(&n), 8);
    cache.read(reinterpret_cast<char*>(&seed), 8);
    if (!cache || !std::equal(magic, magic + 8, kMagic) || n != o.subjects || seed != o.seed) cache.close();
  }
  SynthGenerator gen(o.seed, SynthParams::Calibrated());
  if (cache.is_open() && o.subjects > 0) {
    const std::streampos subjects_start = cache.tellg();
    for (const FingerSample& f : SynthSubject(gen, 0, 1, kScalePositions, 2).fingers) {
      uint16_t len = 0;
      cache.read(reinterpret_cast<char*>(&len), 2);
      std::vector<uint8_t> blob(len);
      cache.read(reinterpret_cast<char*>(blob.data()), len);
      if (!cache || blob != FingerFeatures::Deserialize(f.features.Serialize())->Serialize()) {
        cache.close();
        break;
      }
    }
    if (cache.is_open()) cache.seekg(subjects_start);
  }
  const bool from_cache = cache.is_open();
  std::ofstream out;
  if (!from_cache && !o.cache.empty()) {
    out.open(o.cache + ".tmp", std::ios::binary);
    uint64_t n = o.subjects, seed = o.seed;
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(reinterpret_cast<const char*>(&seed), 8);
  }
  constexpr size_t kBatch = 8192;
  std::vector<SubjectRecord> batch;
  std::vector<std::array<std::vector<uint8_t>, 2>> blobs(from_cache ? kBatch : 0);
  for (size_t first = 0; first < o.subjects; first += kBatch) {
    const size_t count = std::min(kBatch, o.subjects - first);
    for (size_t k = 0; from_cache && k < count; ++k) {
      for (std::vector<uint8_t>& blob : blobs[k]) {
        uint16_t len = 0;
        cache.read(reinterpret_cast<char*>(&len), 2);
        blob.resize(len);
        cache.read(reinterpret_cast<char*>(blob.data()), len);
      }
      if (!cache) return DataLoss("gallery cache " + o.cache + " is truncated at subject " + std::to_string(first + k));
    }
    batch.assign(count, SubjectRecord{});
    std::vector<Status> failed(count);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(64)) < count;) {
        for (size_t k = i; k < std::min(count, i + 64); ++k) {
          if (!from_cache) {
            batch[k] = SynthSubject(gen, first + k, 1, kScalePositions, 2);
            // Quantise as the cache does, so a cached run matches this one exactly.
            for (FingerSample& f : batch[k].fingers) f.features = *FingerFeatures::Deserialize(f.features.Serialize());
            continue;
          }
          batch[k].id = "S" + std::to_string(first + k);
          for (int finger = 0; finger < 2; ++finger) {
            auto f = FingerFeatures::Deserialize(blobs[k][finger]);
            if (!f.ok()) {
              failed[k] = f.status().WithContext("gallery cache " + o.cache + ", subject " + std::to_string(first + k));
              break;
            }
            batch[k].fingers.push_back({kScalePositions[finger], std::move(*f)});
          }
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (size_t k = 0; k < count; ++k) {
      RETURN_IF_ERROR(failed[k]);
      if (out.is_open()) {
        for (const FingerSample& f : batch[k].fingers) {
          std::vector<uint8_t> blob = f.features.Serialize();
          uint16_t len = static_cast<uint16_t>(blob.size());
          out.write(reinterpret_cast<const char*>(&len), 2);
          out.write(reinterpret_cast<const char*>(blob.data()), len);
        }
      }
      RETURN_IF_ERROR(sink(first + k, std::move(batch[k])));
    }
    if (o.progress) o.progress("gallery", first + count, o.subjects);
  }
  info["gallery_source"] = from_cache ? "cache" : "generated";
  info[from_cache ? "gallery_load_seconds" : "gallery_generate_seconds"] = Seconds(t0);
  if (out.is_open()) {
    out.close();
    if (!out) return Unavailable("cannot write gallery cache " + o.cache + ".tmp");
    std::error_code ec;
    std::filesystem::rename(o.cache + ".tmp", o.cache, ec);
    if (ec) return Unavailable("cannot rename gallery cache " + o.cache + ".tmp: " + ec.message());
  }
  return Status::Ok();
}

nlohmann::json MachineJson() {
  return {{"hardware_threads", std::thread::hardware_concurrency()}, {"load_average_1min", LoadAverage1Min()}};
}

StatusOr<nlohmann::json> RunBench(const BenchOptions& o) {
  const int threads = Threads(o.threads);
  nlohmann::json out;
  // 1. Full 1:1 scoring over FVC templates: every probe against the gallery.
  std::vector<FvcSample> samples;
  ASSIGN_OR_RETURN(const std::vector<std::string> dbs, FvcDatabaseFolders(o.fvc_dir));
  for (const std::string& db : dbs) {
    ASSIGN_OR_RETURN(auto s, LoadFvcDatabase(db));
    for (auto& x : s) samples.push_back(std::move(x));
  }
  std::vector<PreparedProbe> probes;
  for (const auto& s : samples) probes.emplace_back(s.features);
  // Returns {comparisons per wall-clock second, comparisons per CPU-second}.
  // The second is the per-core figure: on a shared machine a thread gets
  // less than a core, and CPU time counts only what it got.
  auto throughput = [&](int nthreads) {
    std::atomic<size_t> total{0};
    std::atomic<double> cpu{0};
    std::atomic<bool> stop{false};
    auto t0 = Clock::now();
    auto work = [&](int t) {
      const double cpu0 = ThreadCpuSeconds();
      Matcher matcher;
      size_t done = 0;
      float sink = 0;
      for (size_t round = static_cast<size_t>(t); !stop.load(std::memory_order_relaxed); round += 7) {
        const PreparedProbe& probe = probes[round % probes.size()];
        for (const auto& c : samples) sink += matcher.Score(probe, c.features);
        done += samples.size();
        if (t == 0 && Seconds(t0) >= o.seconds) stop = true;
      }
      total += done + (sink < 0 ? 1 : 0);
      double used = ThreadCpuSeconds() - cpu0;
      for (double seen = cpu.load(); !cpu.compare_exchange_weak(seen, seen + used);) {
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < nthreads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    const double n = static_cast<double>(total.load());
    return std::pair<double, double>{n / Seconds(t0), n / std::max(1e-9, cpu.load())};
  };
  const auto [single_wall, single_cpu] = throughput(1);
  const auto [all_wall, all_cpu] = throughput(threads);
  out["comparisons"] = {{"templates", samples.size()},
                        {"threads", threads},
                        {"per_second_one_thread_wall", single_wall},
                        {"per_second_all_threads_wall", all_wall},
                        {"per_cpu_second_one_thread", single_cpu},
                        {"per_cpu_second_all_threads", all_cpu},
                        {"per_second_per_core", all_cpu}};
  // 2. 1:N latency over synthetic two-finger galleries.
  out["identify"] = nlohmann::json::array();
  SynthGenerator gen(o.seed, SynthParams::Calibrated());
  for (size_t n : o.gallery_sizes) {
    ASSIGN_OR_RETURN(auto abis, InMemoryAbis::Open(nullptr));
    std::vector<SubjectRecord> subjects(n);
    std::atomic<size_t> next{0};
    auto build = [&] {
      for (size_t s; (s = next.fetch_add(1)) < n;) subjects[s] = SynthSubject(gen, s, 1, kScalePositions, 2);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(build);
    build();
    for (auto& t : pool) t.join();
    for (const auto& s : subjects) RETURN_IF_ERROR(abis->Insert(s));
    subjects.clear();
    for (double keep : {1.0, 0.02}) {
      IdentifyOptions io;
      io.threads = threads;
      io.prefilter_keep = keep;
      const int searches = n >= 100000 ? 3 : 10;
      std::vector<double> lat;
      int hits = 0;
      for (int q = 0; q < searches; ++q) {
        uint64_t mate = (static_cast<uint64_t>(q) * 7919) % n;
        SubjectRecord probe = SynthSubject(gen, mate, 2, kScalePositions, 2);
        auto t0 = Clock::now();
        ASSIGN_OR_RETURN(IdentifyResult r, abis->Identify(probe, io));
        lat.push_back(Seconds(t0));
        hits += !r.candidates.empty() && r.candidates[0].subject_id == "S" + std::to_string(mate);
      }
      out["identify"].push_back({{"gallery_subjects", n},
                                 {"fingers_per_subject", 2},
                                 {"prefilter_keep", keep},
                                 {"searches", searches},
                                 {"latency_mean_seconds", std::accumulate(lat.begin(), lat.end(), 0.0) / lat.size()},
                                 {"latency_max_seconds", *std::max_element(lat.begin(), lat.end())},
                                 {"rank1_hits", hits},
                                 {"gallery_bytes", abis->MemoryBytes()}});
    }
  }
  out["peak_rss_bytes"] = PeakRssBytes();
  out["machine"] = MachineJson();
  return out;
}

StatusOr<nlohmann::json> RunScale(const ScaleOptions& o) {
  const int threads = Threads(o.threads);
  nlohmann::json out = {{"subjects", o.subjects}, {"seed", o.seed}, {"threads", threads},
                        {"fingers_per_subject", 2}, {"prefilter_keep", o.prefilter_keep}};
  ASSIGN_OR_RETURN(auto abis, InMemoryAbis::Open(nullptr));
  RETURN_IF_ERROR(ForEachScaleSubject(
      o, [&abis](size_t, SubjectRecord subject) { return abis->Insert(subject); }, out));
  const auto fit_start = Clock::now();
  abis->FitPendingCohortEvidence(threads);
  out["cohort_fit_seconds"] = Seconds(fit_start);
  out["gallery_bytes"] = abis->MemoryBytes();

  SynthGenerator gen(o.seed, SynthParams::Calibrated());
  IdentifyOptions io;
  io.threads = threads;
  io.prefilter_keep = o.prefilter_keep;
  io.max_candidates = 10;
  std::vector<double> latency;
  std::vector<float> nonmated_top;
  struct Mated {
    float mate_score;  // -1 if not in the candidate list
    bool in_shortlist;
  };
  std::vector<Mated> mated;
  double penetration_sum = 0;
  // CPU time of the searches alone (all threads; probe generation is
  // excluded), which stays meaningful when the machine is shared.
  double search_cpu = 0;
  const size_t step = std::max<size_t>(1, o.subjects / std::max<size_t>(1, o.searches));
  for (size_t q = 0; q < o.searches; ++q) {
    // Mated search: a second impression of an enrolled subject.
    uint64_t mate = (q * step + q % step) % o.subjects;
    SubjectRecord probe = SynthSubject(gen, mate, 2, kScalePositions, 2);
    auto t1 = Clock::now();
    const double cpu1 = ProcessCpuSeconds();
    ASSIGN_OR_RETURN(IdentifyResult r, abis->Identify(probe, io));
    search_cpu += ProcessCpuSeconds() - cpu1;
    latency.push_back(Seconds(t1));
    penetration_sum += r.penetration;
    const std::string id = "S" + std::to_string(mate);
    Mated m{-1, std::find(r.shortlist.begin(), r.shortlist.end(), id) != r.shortlist.end()};
    for (const Candidate& c : r.candidates) {
      if (c.subject_id == id) m.mate_score = c.score;
    }
    mated.push_back(m);
    if (o.progress) o.progress("searches", q + 1, o.searches + o.non_mated);
  }
  for (size_t q = 0; q < o.non_mated; ++q) {
    // Non-mated search: someone never enrolled.
    SubjectRecord stranger = SynthSubject(gen, o.subjects + q, 2, kScalePositions, 2);
    auto t2 = Clock::now();
    const double cpu2 = ProcessCpuSeconds();
    ASSIGN_OR_RETURN(IdentifyResult rn, abis->Identify(stranger, io));
    search_cpu += ProcessCpuSeconds() - cpu2;
    latency.push_back(Seconds(t2));
    penetration_sum += rn.penetration;
    nonmated_top.push_back(rn.candidates.empty() ? 0.0f : rn.candidates[0].score);
    if (o.progress) o.progress("searches", o.searches + q + 1, o.searches + o.non_mated);
  }
  // Threshold for FPIR 0.1 %: at most 0.1 % of non-mated searches return any
  // candidate at or above it.
  std::vector<float> sorted = nonmated_top;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const size_t allowed = static_cast<size_t>(0.001 * static_cast<double>(sorted.size()));
  const float threshold =
      sorted.empty() ? 0.0f : std::nextafter(sorted[std::min(allowed, sorted.size() - 1)], 1e9f);
  size_t misses = 0, lost = 0;
  for (const Mated& m : mated) {
    misses += m.mate_score < threshold;
    lost += !m.in_shortlist;
  }
  out["searches"] = {{"mated", mated.size()}, {"non_mated", nonmated_top.size()}};
  out["threshold_at_fpir_0.1%"] = threshold;
  out["fpir_resolution"] = sorted.empty() ? 1.0 : 1.0 / static_cast<double>(sorted.size());
  out["fnir_at_fpir_0.1%"] = mated.empty() ? 0.0 : static_cast<double>(misses) / static_cast<double>(mated.size());
  out["prefilter_lost_hits"] = lost;
  out["prefilter_lost_rate"] = mated.empty() ? 0.0 : static_cast<double>(lost) / static_cast<double>(mated.size());
  out["penetration"] = latency.empty() ? 0.0 : penetration_sum / static_cast<double>(latency.size());
  out["latency_seconds"] = {{"mean", std::accumulate(latency.begin(), latency.end(), 0.0) / std::max<size_t>(1, latency.size())},
                            {"p50", Percentile(latency, 0.5)},
                            {"p95", Percentile(latency, 0.95)},
                            {"max", Percentile(latency, 1.0)}};
  out["cpu_seconds_per_search"] = latency.empty() ? 0.0 : search_cpu / static_cast<double>(latency.size());
  out["peak_rss_bytes"] = PeakRssBytes();
  out["machine"] = MachineJson();
  return out;
}

}  // namespace ektp::bio
