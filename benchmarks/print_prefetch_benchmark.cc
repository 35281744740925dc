// Print prefetch: a regency's print station whose link to central is down
// most of its working hours, printing with the print jobs central sends
// ahead through the feed (prefetch), against the same station printing only
// what it can fetch live (online-only), on the same seeded outage schedule.
// Prints one JSON object; asserts nothing about speed. The exit code is 1
// when a count does not add up (see "checks" below), so a smoke test can run
// it with tiny parameters.
//
//   build/dev/benchmarks/print_prefetch_benchmark --seed 1 --slots 960 --blanks 1000
//
// Everything is real except time: central (SQLite, its pipeline running)
// and three stations run in this process over loopback TLS. An enrolling
// station sends 2 x (blanks + kPrintPrefetchMargin) residents with their own
// synthetic fingerprints through central's pipeline to `print_ready` in
// regency 35.21. Two print stations of that regency each get --blanks blanks
// handed over and confirm them (the confirmation waits in their outbox), and
// then work one after the other, each behind its own faultnet proxy to
// central.
//
// Compressed time: the working period is --slots printer slots (one card
// each; --cards-per-hour only converts slots into hours for the report). The
// link's schedule is drawn from the seed: exactly a fraction --down of the
// slots are down, in outages of random lengths averaging
// --mean-outage-slots, between up periods of random lengths. Before each
// slot the proxy is set down or up (SetDown), and the station runs one sync
// pass (SyncClient::SyncOnce) through it, as its sync loop would between two
// cards. Then:
//   prefetch     the printer prints the next job the station holds
//                (Station::PrintNextCard), whether the pass succeeded or not;
//                it idles only when no job or no blank is held.
//   online_only  the printer prints only when the pass succeeded, i.e. when
//                a live round trip to central fetched the card at the moment
//                of printing; a failed pass idles the slot. (Central sends
//                its jobs the same way to both stations: the feed is the
//                only way a card travels. What differs is that online-only
//                printing needs the link at the moment of printing.)
// Each printed card is a misprint with probability --misprint-rate (seeded):
// its blank is spoiled (Station::RecordMisprint) and its job prints again.
// Cards are rendered (PNG, PDF, chip) as on a real station and handed to a
// printer that discards them. After the period the link comes back for good
// and the station drains its outbox, so central's ledger can be compared.
//
// Checks (exit 1 if any fails, named in "failed_checks"): per mode, at the
// station and in central's reconciliation, blanks used = cards printed +
// spoiled; central's printed and spoiled equal the station's; no
// discrepancy; and prefetch printed at least as many cards as online-only.
//
// Flags: --seed N (1)  --slots N (960)  --blanks N (1000)  --down F (0.7)
//        --mean-outage-slots F (45)  --misprint-rate F (0.01)
//        --cards-per-hour N (60)  --verbose
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "bio/template.h"
#include "blanks/ledger.h"
#include "card/output.h"
#include "central/print_feed.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "core/process_stats.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "faultnet/fault_proxy.h"
#include "service/log.h"
#include "station/server.h"
#include "station/sync_client.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::station {
namespace {

using namespace std::chrono;

constexpr const char* kRegency = "35.21";
constexpr const char* kKecamatan = "35.21.01";

struct Options {
  uint64_t seed = 1;
  int slots = 960;
  int64_t blanks = 1000;
  double down = 0.7;
  double mean_outage_slots = 45;
  double misprint_rate = 0.01;
  int cards_per_hour = 60;
  bool verbose = false;
};

double UnitDraw(Random& random) { return static_cast<double>(random.Next() >> 11) * 0x1.0p-53; }

// Splits `total` slots into `parts` runs of at least one slot each, every
// such split equally likely. REQUIRES: 1 <= parts <= total.
std::vector<int> RandomRuns(int total, int parts, Random& random) {
  std::vector<int> cuts;  // `parts - 1` distinct cut points in [1, total)
  for (int candidate = 1, left = parts - 1; candidate < total && left > 0; ++candidate) {
    // Selection sampling: keep this point with probability left / remaining.
    if (random.Uniform(static_cast<uint64_t>(total - candidate)) < static_cast<uint64_t>(left)) {
      cuts.push_back(candidate);
      --left;
    }
  }
  std::vector<int> runs;
  int previous = 0;
  for (int cut : cuts) {
    runs.push_back(cut - previous);
    previous = cut;
  }
  runs.push_back(total - previous);
  return runs;
}

// down[slot]: the link's seeded on/off schedule. Exactly round(slots x
// down) slots are down, in round(down slots / mean_outage) outages (at
// least one) of random lengths, alternating with as many up periods of
// random lengths; whether the day starts up or down is drawn too.
std::vector<bool> LinkSchedule(uint64_t seed, int slots, double down, double mean_outage) {
  SeededRandom random(seed);
  const int down_slots = std::clamp(static_cast<int>(std::lround(slots * down)), 1, slots - 1);
  const int up_slots = slots - down_slots;
  const int outages =
      std::clamp(static_cast<int>(std::lround(down_slots / mean_outage)), 1, std::min(down_slots, up_slots));
  const std::vector<int> down_runs = RandomRuns(down_slots, outages, random);
  const std::vector<int> up_runs = RandomRuns(up_slots, outages, random);
  const bool starts_down = random.Uniform(2) == 0;
  std::vector<bool> schedule;
  for (int i = 0; i < outages; ++i) {
    for (bool is_down : {starts_down, !starts_down}) {
      schedule.insert(schedule.end(), static_cast<size_t>((is_down ? down_runs : up_runs)[static_cast<size_t>(i)]),
                      is_down);
    }
  }
  return schedule;
}

// The printer: takes each rendered card and throws it away.
class DiscardingPrinter final : public card::CardOutput {
 public:
  Status Send(std::string_view card_id, const card::RenderedCard& card, std::span<const uint8_t>) override {
    sent_.insert(std::string(card_id));
    return Status::Ok();
  }
  StatusOr<bool> WasSent(std::string_view card_id) override { return sent_.contains(std::string(card_id)); }
  std::string Describe() const override { return "a printer that discards its cards"; }

 private:
  std::set<std::string> sent_;
};

enum class Mode { kPrefetch, kOnlineOnly };
std::string_view ModeName(Mode mode) { return mode == Mode::kPrefetch ? "prefetch" : "online_only"; }

struct ModeResult {
  Mode mode = Mode::kPrefetch;
  std::string station_id;
  int cards_printed = 0;  // good cards
  int spoiled = 0;        // misprints
  int idle_link_down = 0;
  int idle_no_job = 0;
  int idle_no_blank = 0;
  int syncs_ok = 0;
  int syncs_failed = 0;
  int max_jobs_held = 0;
  BlankCounts blanks_at_station;
  double wall_seconds = 0;
  double render_and_print_seconds = 0;
  int idle() const { return idle_link_down + idle_no_job + idle_no_blank; }
};

void Check(bool ok, const std::string& what, std::vector<std::string>& failed) {
  if (!ok) failed.push_back(what);
}

class Benchmark {
 public:
  explicit Benchmark(Options options) : options_(options), dir_(store::testing::MakeTempDir("ektp-print-prefetch-")) {}
  ~Benchmark() {
    if (central_) central_->Stop();
    std::filesystem::remove_all(dir_);
  }

  StatusOr<nlohmann::json> Run() {
    const auto setup_start = steady_clock::now();
    RETURN_IF_ERROR(StartCentral());
    const int64_t jobs_needed = 2 * (options_.blanks + central::kPrintPrefetchMargin);
    ASSIGN_OR_RETURN(int64_t print_ready, FillPrintQueue(jobs_needed));
    std::vector<PrintStation> stations;
    int64_t first_serial = 1;
    for (Mode mode : {Mode::kPrefetch, Mode::kOnlineOnly}) {
      ASSIGN_OR_RETURN(PrintStation station, AddPrintStation(mode, first_serial));
      stations.push_back(std::move(station));
      first_serial += options_.blanks;
    }
    const double setup_seconds = duration<double>(steady_clock::now() - setup_start).count();

    const std::vector<bool> schedule =
        LinkSchedule(options_.seed, options_.slots, options_.down, options_.mean_outage_slots);
    const auto down_slots = std::count(schedule.begin(), schedule.end(), true);
    int outages = 0;
    for (size_t slot = 0; slot < schedule.size(); ++slot) outages += schedule[slot] && (slot == 0 || !schedule[slot - 1]);

    std::vector<ModeResult> results;  // prefetch, online_only
    for (PrintStation& station : stations) {
      ASSIGN_OR_RETURN(ModeResult result, RunMode(station, schedule));
      results.push_back(result);
    }

    blanks::BlankLedger ledger(*central_db_, SystemClock::Instance());
    ASSIGN_OR_RETURN(blanks::RegencyReconciliation reconciled, ledger.Reconcile(kRegency));
    std::vector<std::string> failed;
    nlohmann::json modes = nlohmann::json::object();
    for (const ModeResult& r : results) {
      const std::string name(ModeName(r.mode));
      const auto at_central = std::ranges::find(reconciled.stations, r.station_id,
                                                &blanks::StationReconciliation::station_id);
      const blanks::StationReconciliation central_view =
          at_central == reconciled.stations.end() ? blanks::StationReconciliation{} : *at_central;
      const int64_t blanks_used = r.blanks_at_station.used + r.blanks_at_station.spoiled;
      Check(blanks_used == r.cards_printed + r.spoiled, name + ": blanks used at the station = printed + spoiled",
            failed);
      Check(r.blanks_at_station.used == r.cards_printed && r.blanks_at_station.spoiled == r.spoiled,
            name + ": the station's blanks agree with the printer", failed);
      Check(central_view.printed == r.cards_printed && central_view.spoiled_total() == r.spoiled,
            name + ": central's ledger agrees with the station", failed);
      Check(central_view.received - central_view.on_hand == blanks_used,
            name + ": central's blanks used = printed + spoiled", failed);
      Check(r.cards_printed + r.spoiled + r.idle() == options_.slots, name + ": every slot is accounted for", failed);
      modes[name] = {
          {"cards_printed", r.cards_printed},
          {"printer_idle_fraction", static_cast<double>(r.idle()) / options_.slots},
          {"blanks_used", blanks_used},
          {"spoiled", r.spoiled},
          {"idle_slots", {{"link_down", r.idle_link_down}, {"no_job_held", r.idle_no_job}, {"no_blank", r.idle_no_blank}}},
          {"sync_passes", {{"ok", r.syncs_ok}, {"failed", r.syncs_failed}}},
          {"max_jobs_held", r.max_jobs_held},
          {"blanks_left", r.blanks_at_station.on_hand},
          {"central", {{"printed", central_view.printed}, {"spoiled", central_view.spoiled_total()},
                       {"received", central_view.received}, {"on_hand", central_view.on_hand}}},
          {"wall_seconds", r.wall_seconds},
          {"render_and_print_ms_per_card", r.cards_printed + r.spoiled > 0
                                               ? 1000 * r.render_and_print_seconds / (r.cards_printed + r.spoiled)
                                               : 0.0},
      };
    }
    Check(reconciled.discrepancies.empty(), "central's reconciliation names no discrepancy", failed);
    Check(results[0].cards_printed >= results[1].cards_printed, "prefetch printed at least as many as online-only",
          failed);

    nlohmann::json out = {
        {"benchmark", "print_prefetch"},
        {"seed", options_.seed},
        {"parameters",
         {{"slots", options_.slots},
          {"cards_per_hour", options_.cards_per_hour},
          {"working_hours", static_cast<double>(options_.slots) / options_.cards_per_hour},
          {"blanks_per_station", options_.blanks},
          {"down_fraction", options_.down},
          {"mean_outage_slots", options_.mean_outage_slots},
          {"misprint_rate", options_.misprint_rate},
          {"prefetch_margin", central::kPrintPrefetchMargin}}},
        {"link", {{"down_slots", down_slots},
                  {"down_fraction", static_cast<double>(down_slots) / options_.slots},
                  {"outages", outages}}},
        {"print_ready_at_start", print_ready},
        {"modes", modes},
        {"prefetch_over_online_only",
         results[1].cards_printed > 0 ? static_cast<double>(results[0].cards_printed) / results[1].cards_printed : 0.0},
        {"failed_checks", failed},
        {"setup_seconds", setup_seconds},
        {"process_cpu_seconds", ProcessCpuSeconds()},
        {"load_average", LoadAverage1Min()},
    };
    return out;
  }

 private:
  struct PrintStation {
    Mode mode = Mode::kPrefetch;
    std::string data_dir;
    std::unique_ptr<StationFiles> files;
    std::string pinned_cert;
  };

  Status StartCentral() {
    central_options_.data_dir = dir_ + "/central";
    central_options_.run_pipeline = true;
    RETURN_IF_ERROR(central::InitCentral(central_options_, {}));
    ASSIGN_OR_RETURN(central_, central::CentralServer::Create(central_options_, clock_));
    RETURN_IF_ERROR(central_->Start());
    ASSIGN_OR_RETURN(central_db_, store::Open(central::CentralDbUrl(central_options_), store::Schema::kCentral));
    ASSIGN_OR_RETURN(keys_, central::LoadCentralKeys(central_options_.data_dir));
    return Status::Ok();
  }

  StatusOr<std::string> Register(const std::string& name, central::StationKind kind,
                                 std::vector<std::string> capabilities) {
    central::StationRegistry registry(*central_db_, clock_);
    ASSIGN_OR_RETURN(std::string token,
                     registry.CreateToken({kKecamatan, kind, std::move(capabilities), hours(1)}, "bench"));
    const std::string data_dir = dir_ + "/" + name;
    ASSIGN_OR_RETURN(Identity identity,
                     InitStation({data_dir, central_->base_url(), token, "", "admin", "admin-pass-1"}, clock_));
    RETURN_IF_ERROR(registry.Approve(identity.station_id, "bench"));
    return data_dir;
  }

  static StatusOr<std::string> PinnedCert(const std::string& data_dir) {
    std::ifstream in(data_dir + "/central-cert.pem");
    if (!in) return Unavailable("cannot read " + data_dir + "/central-cert.pem");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A resident's own synthetic index fingers, so that the pipeline finds no duplicate.
  StatusOr<enrollment::Biometrics> OwnPrints(const bio::SynthGenerator& synth, uint64_t subject, Random& random) {
    enrollment::Biometrics biometrics = enrollment::testing::SampleBiometrics(0, 2000, random);
    biometrics.fingers.clear();
    for (int finger : {2, 7}) {
      ASSIGN_OR_RETURN(auto bytes, bio::EncodeTemplate(bio::SynthGenerator::ToRecord(
                                       synth.Impression(synth.Master(subject, finger), subject, finger, 1), finger)));
      biometrics.fingers.push_back(
          {finger, crypto::Bytes(bytes.begin(), bytes.end()), enrollment::FingerException::kNone});
    }
    return biometrics;
  }

  // Enrolls residents at a kecamatan office until central's print queue of
  // the regency holds `needed` records; returns how many it holds.
  StatusOr<int64_t> FillPrintQueue(int64_t needed) {
    ASSIGN_OR_RETURN(std::string data_dir,
                     Register("enroller", central::StationKind::kKecamatanOffice, {"enroll"}));
    ASSIGN_OR_RETURN(StationFiles files, OpenStationFiles(data_dir));
    Station enroller(*files.db, clock_, files.key, files.identity);
    const Operator ani{"ani", "Ani Rahayu", Role::kOperator};
    RETURN_IF_ERROR(enroller.AddOperator(ani, "kata-sandi-1", crypto::PasswordStrength::kFast));
    SeededRandom random(options_.seed);
    const bio::SynthGenerator synth(options_.seed);
    // A few more than needed: a synthetic resident may be taken for another's duplicate.
    const int64_t enrollments = needed + needed / 50 + 5;
    for (int64_t i = 0; i < enrollments; ++i) {
      EnrollmentRequest request;
      request.resident = SyntheticResident(RegionRegistry::Default(), kRegency, random, clock_.TodayWib());
      ASSIGN_OR_RETURN(request.biometrics, OwnPrints(synth, static_cast<uint64_t>(i), random));
      RETURN_IF_ERROR(enroller.Enroll(ani, request).status());
    }
    SyncOptions sync_options;
    ASSIGN_OR_RETURN(sync_options.pinned_cert_pem, PinnedCert(data_dir));
    SeededRandom jitter(options_.seed + 1);
    SyncClient sync(enroller, clock_, jitter, files.key, sync_options);
    RETURN_IF_ERROR(sync.SyncOnce());
    // Wait for the pipeline to decide every record.
    store::RecordRepository records(*central_db_, clock_);
    const auto deadline = steady_clock::now() + minutes(30);
    while (true) {
      ASSIGN_OR_RETURN(auto counts, records.CountByState());
      int64_t undecided = 0, print_ready = 0;
      for (const auto& [state, count] : counts) {
        if (state == RecordState::kReceived || state == RecordState::kValidated ||
            state == RecordState::kDedupePending || state == RecordState::kUnique) {
          undecided += count;
        }
        if (state == RecordState::kPrintReady) print_ready += count;
      }
      if (undecided == 0) {
        if (print_ready < needed) {
          return FailedPrecondition("the pipeline made " + std::to_string(print_ready) + " records print_ready of " +
                                    std::to_string(enrollments) + "; the benchmark needs " + std::to_string(needed));
        }
        return print_ready;
      }
      if (steady_clock::now() > deadline) return Unavailable("the pipeline did not decide every record in 30 min");
      std::this_thread::sleep_for(milliseconds(200));
    }
  }

  // A Disdukcapil print station of the regency with `options_.blanks` blanks
  // handed over and confirmed; the confirmation waits in its outbox.
  StatusOr<PrintStation> AddPrintStation(Mode mode, int64_t first_serial) {
    PrintStation station;
    station.mode = mode;
    ASSIGN_OR_RETURN(station.data_dir,
                     Register(std::string(ModeName(mode)), central::StationKind::kDisdukcapilOffice, {"print"}));
    ASSIGN_OR_RETURN(StationFiles files, OpenStationFiles(station.data_dir));
    station.files = std::make_unique<StationFiles>(std::move(files));
    ASSIGN_OR_RETURN(station.pinned_cert, PinnedCert(station.data_dir));
    const blanks::SerialRange range{first_serial, first_serial + options_.blanks - 1};
    blanks::BlankLedger ledger(*central_db_, clock_);
    RETURN_IF_ERROR(ledger.StockIn(range, "gudang.pusat"));
    RETURN_IF_ERROR(ledger.Ship(kRegency, range, "gudang.pusat"));
    const std::string& station_id = station.files->identity.station_id;
    RETURN_IF_ERROR(central::HandOverBlanks(*central_db_, clock_, *keys_, station_id, range, "dukcapil"));
    Station local(*station.files->db, clock_, station.files->key, station.files->identity);
    SyncOptions sync_options;
    sync_options.pinned_cert_pem = station.pinned_cert;
    SeededRandom jitter(options_.seed + 2);
    SyncClient sync(local, clock_, jitter, station.files->key, sync_options);
    RETURN_IF_ERROR(sync.SyncOnce());
    RETURN_IF_ERROR(local.ReceiveBlanks(kOfficer, range.first, range.last).status());
    return station;
  }

  // Runs the working period of `print_station` on `schedule`, then lets it drain.
  StatusOr<ModeResult> RunMode(PrintStation& print_station, const std::vector<bool>& schedule) {
    faultnet::FaultProxyOptions proxy_options;
    proxy_options.target_port = static_cast<uint16_t>(central_->port());
    proxy_options.seed = options_.seed;
    faultnet::FaultProxy proxy(proxy_options);
    RETURN_IF_ERROR(proxy.Start());
    Identity linked = print_station.files->identity;
    linked.central_urls = {"https://127.0.0.1:" + std::to_string(proxy.port())};
    Station station(*print_station.files->db, clock_, print_station.files->key, linked);
    SyncOptions sync_options;
    sync_options.pinned_cert_pem = print_station.pinned_cert;
    sync_options.request_timeout = seconds(10);
    SeededRandom jitter(options_.seed + 3);
    SyncClient sync(station, clock_, jitter, print_station.files->key, sync_options);
    SeededRandom misprints(options_.seed + 4);
    DiscardingPrinter printer;
    if (!print_station.files->box_key) return FailedPrecondition("print station without an X25519 key");
    const crypto::SealingKey& box_key = *print_station.files->box_key;

    ModeResult result;
    result.mode = print_station.mode;
    result.station_id = linked.station_id;
    const auto start = steady_clock::now();
    for (size_t slot = 0; slot < schedule.size(); ++slot) {
      proxy.SetDown(schedule[slot]);
      const Status synced = sync.SyncOnce();
      ++(synced.ok() ? result.syncs_ok : result.syncs_failed);
      if (!synced.ok() && !schedule[slot]) {
        return synced.WithContext("slot " + std::to_string(slot) + ": a sync pass failed with the link up");
      }
      ASSIGN_OR_RETURN(auto held, station.PrintJobs());
      int pending = 0;
      for (const HeldPrintJob& job : held) pending += job.state == HeldPrintJobState::kPending;
      result.max_jobs_held = std::max(result.max_jobs_held, pending);
      if (print_station.mode == Mode::kOnlineOnly && !synced.ok()) {
        ++result.idle_link_down;
        continue;
      }
      const auto print_start = steady_clock::now();
      auto printed = station.PrintNextCard(kOfficer, box_key, printer);
      if (!printed.ok()) {
        if (printed.status().code() == StatusCode::kNotFound) {
          ++result.idle_no_job;
        } else if (printed.status().code() == StatusCode::kFailedPrecondition &&
                   printed.status().message().find("no blank card") != std::string::npos) {
          ++result.idle_no_blank;
        } else {
          return printed.status().WithContext("slot " + std::to_string(slot));
        }
        continue;
      }
      if (UnitDraw(misprints) < options_.misprint_rate) {
        RETURN_IF_ERROR(station.RecordMisprint(kOfficer, printed->serial, "benchmark"));
        ++result.spoiled;
      } else {
        ++result.cards_printed;
      }
      result.render_and_print_seconds += duration<double>(steady_clock::now() - print_start).count();
    }
    result.wall_seconds = duration<double>(steady_clock::now() - start).count();

    // After hours the link comes back for good and the station drains.
    proxy.SetDown(false);
    for (int pass = 0;; ++pass) {
      const Status synced = sync.SyncOnce();
      ASSIGN_OR_RETURN(int64_t pending, station.CountOutbox(OutboxState::kPending));
      if (synced.ok() && pending == 0) break;
      if (pass == 20) return Unavailable("the station did not drain after the link came back: " + synced.ToString());
    }
    ASSIGN_OR_RETURN(int64_t parked, station.CountOutbox(OutboxState::kParked));
    if (parked != 0) return DataLoss(std::to_string(parked) + " packets were parked at central");
    ASSIGN_OR_RETURN(result.blanks_at_station, station.Blanks());
    proxy.Stop();
    return result;
  }

  static inline const Operator kOfficer{"admin", "Admin", Role::kAdmin};

  const Options options_;
  const std::string dir_;
  const Clock& clock_ = SystemClock::Instance();
  central::CentralOptions central_options_;
  std::unique_ptr<central::CentralServer> central_;
  std::unique_ptr<store::Connection> central_db_;
  std::optional<central::CentralKeys> keys_;
};

int Usage(const std::string& problem) {
  std::fprintf(stderr, "print_prefetch_benchmark: %s\n", problem.c_str());
  return 2;
}

}  // namespace
}  // namespace ektp::station

int main(int argc, char** argv) {
  using ektp::station::Usage;
  ektp::station::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--verbose") {
      options.verbose = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--seed") options.seed = std::strtoull(value, nullptr, 10);
    else if (flag == "--slots") options.slots = std::atoi(value);
    else if (flag == "--blanks") options.blanks = std::atoll(value);
    else if (flag == "--down") options.down = std::atof(value);
    else if (flag == "--mean-outage-slots") options.mean_outage_slots = std::atof(value);
    else if (flag == "--misprint-rate") options.misprint_rate = std::atof(value);
    else if (flag == "--cards-per-hour") options.cards_per_hour = std::atoi(value);
    else return Usage("unknown flag " + flag);
  }
  if (options.slots < 1 || options.blanks < 1 || options.cards_per_hour < 1) {
    return Usage("--slots, --blanks and --cards-per-hour must be at least 1");
  }
  if (!(options.down > 0 && options.down < 1)) return Usage("--down must be between 0 and 1, exclusive");
  if (!(options.mean_outage_slots >= 1)) return Usage("--mean-outage-slots must be at least 1");
  if (!(options.misprint_rate >= 0 && options.misprint_rate < 1)) return Usage("--misprint-rate must be in [0, 1)");
  if (!options.verbose) ektp::service::SetLogLevel(ektp::service::LogLevel::kWarn);
  ektp::station::Benchmark benchmark(options);
  auto out = benchmark.Run();
  if (!out.ok()) {
    std::fprintf(stderr, "print_prefetch_benchmark: %s\n", out.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", out->dump(2).c_str());
  return (*out)["failed_checks"].empty() ? 0 : 1;
}
