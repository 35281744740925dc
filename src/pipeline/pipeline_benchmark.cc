// Central pipeline throughput: validated records taken through the whole
// pipeline (demographics -> dedupe against a synthetic national gallery ->
// NIK assignment -> print_ready, planted duplicates -> adjudication) by
// Pipeline's worker threads, on SQLite or PostgreSQL. Prints one JSON object
// per gallery size. Not a test: nothing is asserted about the figures
// (docs/benchmarks.md, "Pipeline").
//
//   build/dev/src/pipeline/pipeline_benchmark --backend sqlite --gallery 10000,100000 --records 2000
//   eval "$(scripts/throwaway_postgres.sh start $d durable)"   # sets EKTP_TEST_PG
//   build/dev/src/pipeline/pipeline_benchmark --backend postgres --gallery 10000
//   build/dev/src/pipeline/pipeline_benchmark --backend postgres --gallery 0 --records 620 --shards 3
//
// Flags: --backend sqlite|postgres (a fresh database per gallery; PostgreSQL
//        in the cluster named by EKTP_TEST_PG)
//        --db URL (use this database instead; it must be fresh, and only one
//        --gallery is then allowed)
//        --gallery N[,N...] (repeatable; default 10000)  --records M (default 1000)
//        --duplicates SHARE (planted duplicates, default 0.02)  --seed S (default 1)
//        --cache-dir DIR (default /tmp)  --poll-ms T (default 5)
//        --shards N (default 0: the pipeline searches its own copy of the
//        gallery; N: N matcher shards run as threads of this process, each
//        with its own connection and `ektp central matcher`'s loop, and the
//        dedupe stage merges their answers; REQUIRES --gallery 0)
//
// --gallery 0 is a backlog arriving at an empty gallery (issue 20's
// reconnect storm): every planted duplicate is a copy of the record before
// it, so the two arrive together.
// The gallery: N subjects of bio's scale benchmark (SynthGenerator(seed),
// impression 1 of fingers 2 and 7), read from the gallery cache that
// `ektp bio scale --cache` writes (DIR/pipeline-gallery-N-seedS.bin; if it is
// missing, bio::RunScale is run once to write it). They are loaded STRAIGHT
// INTO the pipeline's in-memory engine (GalleryMirror::engine), not through
// the pipeline and not into gallery_log: pushing 1M records through the
// pipeline first would take hours. Their ids are NIK-shaped strings with
// province code 99, which no region has, so they can never equal a NIK the
// pipeline assigns (those carry the resident's real kecamatan code).
//
// The measured records: M first-card applications of synthetic residents of
// Ngawi (35.21), stored as central's ingest leaves them (validated,
// biometrics, queued for demographics), with two fingers from the same
// generator: impression 2 of a gallery subject for the planted duplicates,
// otherwise subjects from 2^40 up, never in any gallery. They are created
// before the clock starts. The clock runs from Pipeline::Start until every
// record is decided (print_ready, adjudication, failed_validation or a dead
// job), watched by a thread that counts decided records every --poll-ms.
// Dedupe decisions take turns (a row lock), so the gaps between consecutive
// decisions are the per-record time of the dedupe stage; they are reported
// as `decision_interval_ms` (resolution: the poll interval; several
// decisions within one poll share its time evenly).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/benchmarks.h"
#include "bio/synth.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "enrollment/enrollment.h"
#include "core/process_stats.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/pipeline.h"
#include "pipeline/shards.h"
#include "store/pool.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kFingers[2] = {2, 7};  // right and left index, as bio's scale benchmark
constexpr uint64_t kFreshSubjects = uint64_t{1} << 40;  // never in a gallery
constexpr char kCacheMagic[8] = {'E', 'K', 'T', 'P', 'S', 'Y', 'N', '3'};  // bio/benchmarks.cc

struct Options {
  std::string backend = "sqlite";
  std::string db_url;
  std::vector<size_t> galleries;
  int records = 1000;
  double duplicates = 0.02;
  uint64_t seed = 1;
  std::string cache_dir = "/tmp";
  int poll_ms = 5;
  int shards = 0;
};

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// Gallery subject i as a NIK-shaped id: province 99 (none has it), a
// kecamatan, a birth date DDMMYY and a sequence; distinct for every i below
// 3 * 10^11.
std::string GalleryNik(size_t i) {
  size_t r = i / 9999;
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "99%04zu%02zu%02zu%02zu%04zu", 101 + r / 33600, r % 28 + 1, (r / 28) % 12 + 1,
                (r / 336) % 100, i % 9999 + 1);
  return buffer;
}

std::string CachePath(const Options& o, size_t n) {
  return o.cache_dir + "/pipeline-gallery-" + std::to_string(n) + "-seed" + std::to_string(o.seed) + ".bin";
}

bool CacheMatches(const std::string& path, size_t n, uint64_t seed) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  uint64_t subjects = 0, cached_seed = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&subjects), 8);
  in.read(reinterpret_cast<char*>(&cached_seed), 8);
  return in && std::equal(magic, magic + 8, kCacheMagic) && subjects == n && cached_seed == seed;
}

// Fills `engine` with the N-subject synthetic gallery from bio's cache
// (writing the cache through bio::RunScale first if needed).
Status LoadGallery(const Options& o, size_t n, bio::Abis& engine, nlohmann::json& info) {
  const std::string path = CachePath(o, n);
  info["cache"] = path;
  if (!CacheMatches(path, n, o.seed)) {
    bio::ScaleOptions scale;
    scale.subjects = n;
    scale.seed = o.seed;
    scale.searches = 1;
    scale.non_mated = 1;
    scale.cache = path;
    auto t0 = SteadyClock::now();
    auto generated = bio::RunScale(scale);
    if (!generated.ok()) return generated.status().WithContext("writing the gallery cache through bio::RunScale");
    info["cache_written_seconds"] = Seconds(t0);
    if (!CacheMatches(path, n, o.seed)) {
      return FailedPrecondition("gallery cache " + path + " has another format than this benchmark reads");
    }
  }
  auto t0 = SteadyClock::now();
  std::ifstream in(path, std::ios::binary);
  in.seekg(24);
  std::vector<uint8_t> blob;
  for (size_t s = 0; s < n; ++s) {
    bio::SubjectRecord subject;
    subject.id = GalleryNik(s);
    for (int finger : kFingers) {
      uint16_t length = 0;
      in.read(reinterpret_cast<char*>(&length), 2);
      blob.resize(length);
      in.read(reinterpret_cast<char*>(blob.data()), length);
      if (!in) return DataLoss("gallery cache " + path + " is truncated at subject " + std::to_string(s));
      auto features = bio::FingerFeatures::Deserialize(blob);
      if (!features.ok()) return features.status().WithContext("gallery cache " + path);
      subject.fingers.push_back({finger, std::move(*features)});
    }
    RETURN_IF_ERROR(engine.Insert(subject));
  }
  info["load_seconds"] = Seconds(t0);
  return Status::Ok();
}

// Two fingers of impression `impression` of synthetic subject `subject`, as
// a station sends them (ISO 19794-2 templates), with small stand-in images.
StatusOr<enrollment::Biometrics> Fingers(const bio::SynthGenerator& synth, uint64_t subject, int impression) {
  enrollment::Biometrics biometrics;
  biometrics.face_jpeg = {0xFF, 0xD8, 0xFF, 0xE0, static_cast<uint8_t>(subject), 0xFF, 0xD9};
  biometrics.signature_image = {0x89, 'P', 'N', 'G'};
  for (int finger : kFingers) {
    bio::MasterFinger master = synth.Master(subject, finger);
    ASSIGN_OR_RETURN(auto bytes, bio::EncodeTemplate(bio::SynthGenerator::ToRecord(
                                     synth.Impression(master, subject, finger, impression), finger)));
    biometrics.fingers.push_back({finger, std::move(bytes), enrollment::FingerException::kNone});
  }
  return biometrics;
}

struct Records {
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> planted;
};

// M records as central's ingest leaves them (pipeline_test.cc, AddValidated),
// committed in chunks.
StatusOr<Records> CreateRecords(store::Connection& db, const Clock& clock, Random& random,
                                const crypto::DataKey& biometrics_key, const Options& o,
                                size_t gallery) {
  const bio::SynthGenerator synth(o.seed, bio::SynthParams::Calibrated());  // as bio scale's gallery
  const int planted_total = static_cast<int>(o.records * o.duplicates + 0.5);
  Records out;
  store::RecordRepository records(db, clock);
  constexpr int kChunk = 100;
  int next_planted = 0;
  for (int first = 0; first < o.records; first += kChunk) {
    RETURN_IF_ERROR(db.Transact([&]() -> Status {
      std::vector<int64_t> chunk;
      for (int k = first; k < std::min(o.records, first + kChunk); ++k) {
        // Planted duplicates are spread evenly over the records and the gallery.
        // (Without a gallery the first record cannot be a copy: they start at the second.)
        const int first_planted = gallery > 0 ? 0 : 1;
        bool planted = next_planted < planted_total &&
                       k == first_planted + static_cast<int>(static_cast<int64_t>(next_planted) *
                                                             (o.records - first_planted) / planted_total);
        uint64_t subject = !planted    ? kFreshSubjects + static_cast<uint64_t>(k)
                           : gallery > 0 ? static_cast<uint64_t>(next_planted) * gallery / planted_total
                                         : kFreshSubjects + static_cast<uint64_t>(k - 1);
        ASSIGN_OR_RETURN(enrollment::Biometrics biometrics, Fingers(synth, subject, planted ? 2 : 1));
        store::Record record;
        record.registration_number = "ST-352101-01-B" + std::to_string(k + 1);
        record.application_kind = ApplicationKind::kFirstCard;
        record.resident_json =
            ResidentToJson(SyntheticResident(RegionRegistry::Default(), "35.21", random, clock.TodayWib())).dump();
        record.station_id = "ST-352101-01";
        ASSIGN_OR_RETURN(int64_t id, records.Create(record, "station:ST-352101-01/op:bench"));
        RETURN_IF_ERROR(records.Transition(id, RecordState::kReceived, RecordState::kValidated, "central:ingest", ""));
        ASSIGN_OR_RETURN(crypto::Bytes stored, EncryptRecordBiometrics(biometrics_key, id,
                                                                       enrollment::SerializeBiometrics(biometrics)));
        RETURN_IF_ERROR(db.Exec("INSERT INTO record_biometrics (record_id, biometrics) VALUES (?, ?)",
                                {id, store::Blob(std::move(stored))}));
        chunk.push_back(id);
        if (planted) {
          out.planted.insert(id);
          ++next_planted;
        }
      }
      RETURN_IF_ERROR(EnqueueJobs(db, clock, kDemographicsStage, chunk));
      out.ids.insert(out.ids.end(), chunk.begin(), chunk.end());
      return Status::Ok();
    }));
  }
  return out;
}

StatusOr<nlohmann::json> RunOne(const Options& o, size_t gallery) {
  const Clock& clock = SystemClock::Instance();
  SeededRandom random(o.seed);
  const crypto::SigningKey signing = crypto::SigningKey::Generate();
  const crypto::DataKey biometrics_key = crypto::DataKey::Generate();

  std::unique_ptr<store::testing::TestDatabase> test_db;
  std::string url = o.db_url;
  if (url.empty()) {
    ASSIGN_OR_RETURN(test_db, store::testing::TestDatabase::Create(o.backend));
    url = test_db->url();
  }
  ASSIGN_OR_RETURN(auto pool, store::ConnectionPool::Create(url, store::Schema::kCentral));
  ASSIGN_OR_RETURN(auto db, store::Open(url, store::Schema::kCentral));

  nlohmann::json out = {{"benchmark", "central_pipeline"}, {"backend", o.backend}, {"gallery_subjects", gallery}};
  auto t_setup = SteadyClock::now();
  ASSIGN_OR_RETURN(Records records, CreateRecords(*db, clock, random, biometrics_key, o, gallery));
  out["records_setup_seconds"] = Seconds(t_setup);

  PipelineOptions options;  // central serve's defaults
  options.dedupe.matcher_shards = o.shards;
  Pipeline pipeline(clock, random, RegionRegistry::Default(), signing, biometrics_key, options, "pipeline_benchmark");
  nlohmann::json gallery_info = {
      {"source", "bio scale synthetic gallery, loaded straight into the pipeline's in-memory engine "
                 "(not through the pipeline, not in gallery_log); ids NIK-shaped with province 99"}};
  bio::Abis& engine = pipeline.context().gallery.engine();
  if (gallery > 0) RETURN_IF_ERROR(LoadGallery(o, gallery, engine, gallery_info));
  if (auto* in_memory = dynamic_cast<bio::InMemoryAbis*>(&engine)) gallery_info["engine_bytes"] = in_memory->MemoryBytes();
  out["gallery"] = gallery_info;
  out["machine_before"] = bio::MachineJson();

  // The measured part: workers from Start until every record is decided.
  const int64_t total = static_cast<int64_t>(records.ids.size());
  std::vector<double> decided_at;  // seconds since start, one per decision
  decided_at.reserve(total);
  const double cpu_before = ProcessCpuSeconds();
  const auto start = SteadyClock::now();
  RETURN_IF_ERROR(pipeline.Start(*pool));
  std::atomic<bool> stop_shards{false};
  std::vector<std::thread> shards;
  for (int k = 1; k <= o.shards; ++k) {
    ASSIGN_OR_RETURN(std::shared_ptr<store::Connection> shard_db, store::Open(url, store::Schema::kCentral));
    shards.emplace_back([&, k, shard_db] {
      ShardMatcher matcher(clock, biometrics_key, ShardSpec{k, o.shards}, options.dedupe.identify);
      while (!stop_shards) {  // as `ektp central matcher`: 64 at a time, 200 ms pause when idle
        auto searched = matcher.RunOnce(*shard_db, 64);
        if (!searched.ok()) std::fprintf(stderr, "shard %d: %s\n", k, searched.status().ToString().c_str());
        if (!searched.ok() || *searched == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  auto stop_all = [&] {
    stop_shards = true;
    for (std::thread& shard : shards) shard.join();
    shards.clear();
    pipeline.Stop();
  };
  int64_t decided = 0, dead = 0;
  double last_poll = 0;
  while (decided + dead < total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    ASSIGN_OR_RETURN(auto rows, db->Query("SELECT (SELECT COUNT(*) FROM records WHERE state IN ('print_ready', "
                                          "'adjudication', 'failed_validation', 'rejected_duplicate')), "
                                          "(SELECT COUNT(*) FROM pipeline_jobs WHERE status = 'dead')"));
    const double now = Seconds(start);
    const int64_t now_decided = rows[0].Int(0);
    dead = rows[0].Int(1);
    for (int64_t k = decided; k < now_decided; ++k) {
      decided_at.push_back(last_poll + (now - last_poll) * static_cast<double>(k - decided + 1) /
                                           static_cast<double>(now_decided - decided));
    }
    decided = now_decided;
    last_poll = now;
    if (Seconds(start) > 6 * 3600) {
      stop_all();
      return Unavailable("records still undecided after 6 hours");
    }
  }
  const double seconds = Seconds(start);
  const double cpu = ProcessCpuSeconds() - cpu_before;
  stop_all();

  std::vector<double> intervals_ms;
  for (size_t k = 1; k < decided_at.size(); ++k) intervals_ms.push_back(1000 * (decided_at[k] - decided_at[k - 1]));
  double interval_sum = 0;
  for (double v : intervals_ms) interval_sum += v;

  int64_t print_ready = 0, adjudication = 0, planted_found = 0, failed = 0, other = 0;
  ASSIGN_OR_RETURN(auto states, db->Query("SELECT id, state FROM records WHERE id BETWEEN ? AND ?",
                                          {records.ids.front(), records.ids.back()}));
  for (const store::Row& row : states) {
    const std::string state = row.Text(1);
    if (state == "print_ready") ++print_ready;
    else if (state == "adjudication") {
      ++adjudication;
      planted_found += records.planted.count(row.Int(0));
    } else if (state == "failed_validation") ++failed;
    else ++other;
  }
  const bio::IdentifyOptions& identify = options.dedupe.identify;
  out.update({
      {"records", total},
      {"planted_duplicates", records.planted.size()},
      {"found_duplicates", adjudication},
      {"planted_in_adjudication", planted_found},
      {"unplanted_in_adjudication", adjudication - planted_found},
      {"print_ready", print_ready},
      {"failed_validation", failed},
      {"undecided_or_other", other},
      {"dead_jobs", dead},
      {"seconds", seconds},
      {"records_per_second", static_cast<double>(total) / seconds},
      {"first_decision_seconds", decided_at.empty() ? 0.0 : decided_at.front()},
      {"decision_interval_ms",
       {{"mean", intervals_ms.empty() ? 0.0 : interval_sum / static_cast<double>(intervals_ms.size())},
        {"p50", Percentile(intervals_ms, 0.5)},
        {"p95", Percentile(intervals_ms, 0.95)},
        {"max", Percentile(intervals_ms, 1.0)},
        {"poll_ms", o.poll_ms}}},
      {"process_cpu_seconds", cpu},
      {"process_cpu_ms_per_record", 1000 * cpu / static_cast<double>(total)},
      {"peak_rss_bytes", PeakRssBytes()},
      {"machine_after", bio::MachineJson()},
      {"identify",
       {{"max_candidates", identify.max_candidates},
        {"min_score", identify.min_score},
        {"prefilter_keep", identify.prefilter_keep},
        {"min_prefilter_subjects", identify.min_prefilter_subjects},
        {"threads", identify.threads}}},
      {"max_false_positives_per_search", options.dedupe.max_false_positives_per_search},
      {"pipeline", {{"batch", options.batch}, {"idle_poll_ms", options.idle_poll.count()}, {"workers", 2}}},
      {"matcher_shards", o.shards},
      {"shard_refresh_after", ShardMatcher::kDefaultRefreshAfter},
  });
  return out;
}

int Usage(const char* message) {
  std::fprintf(stderr, "pipeline_benchmark: %s\n", message);
  return 2;
}

}  // namespace
}  // namespace ektp::pipeline

int main(int argc, char** argv) {
  using ektp::pipeline::Usage;
  ektp::pipeline::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage((flag + " needs a value").c_str());
    std::string value = argv[++i];
    if (flag == "--backend") options.backend = value;
    else if (flag == "--db") options.db_url = value;
    else if (flag == "--gallery") {
      for (size_t pos = 0; pos <= value.size();) {
        size_t comma = std::min(value.find(',', pos), value.size());
        options.galleries.push_back(std::strtoull(value.substr(pos, comma - pos).c_str(), nullptr, 10));
        pos = comma + 1;
      }
    } else if (flag == "--records") options.records = std::atoi(value.c_str());
    else if (flag == "--duplicates") options.duplicates = std::atof(value.c_str());
    else if (flag == "--seed") options.seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--cache-dir") options.cache_dir = value;
    else if (flag == "--poll-ms") options.poll_ms = std::atoi(value.c_str());
    else if (flag == "--shards") options.shards = std::atoi(value.c_str());
    else return Usage(("unknown flag " + flag).c_str());
  }
  if (options.galleries.empty()) options.galleries = {10000};
  if (options.backend != "sqlite" && options.backend != "postgres") return Usage("--backend is sqlite or postgres");
  if (options.records < 1 || options.duplicates < 0 || options.duplicates > 1 || options.poll_ms < 1) {
    return Usage("--records must be at least 1, --duplicates within 0..1, --poll-ms at least 1");
  }
  if (options.shards < 0 || options.shards > 64) return Usage("--shards must be within 0..64");
  for (size_t n : options.galleries) {
    if (options.shards > 0 && n != 0) return Usage("--shards takes --gallery 0 (shards load the gallery log)");
  }
  if (!options.db_url.empty() && options.galleries.size() > 1) return Usage("--db takes one --gallery");
  int failures = 0;
  for (size_t n : options.galleries) {
    auto result = ektp::pipeline::RunOne(options, n);
    if (!result.ok()) {
      std::fprintf(stderr, "pipeline_benchmark: gallery %zu: %s\n", n, result.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s\n", result->dump(2).c_str());
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
