#include "pipeline/pipeline.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <atomic>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bio/evaluation.h"
#include "bio/fusion.h"
#include "bio/synth.h"
#include "core/resident_json.h"
#include "core/status_matchers.h"
#include "core/synthetic_resident.h"
#include "enrollment/enrollment.h"
#include "pipeline/adjudication.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/shards.h"
#include "printing/print_queue.h"
#include "service/metrics.h"
#include "store/audit_log.h"
#include "store/testing.h"

namespace ektp::pipeline {
namespace {

using ::ektp::testing::IsOk;
using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using store::testing::TestDatabase;
using bio::ConservativeImpostorProbability;
using bio::FusedImpostorProbability;
using namespace std::chrono;

constexpr int kFingers[] = {2, 7};  // right index, left index

// Every record's registration number, state, NIK, reason and candidates.
std::vector<std::string> Outcomes(store::Connection& db);

class PipelineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    pipeline_ = std::make_unique<Pipeline>(clock_, random_, RegionRegistry::Default(), signing_, biometrics_key_, Options(),
                                           "test");
  }

  static PipelineOptions Options() {
    PipelineOptions options;
    options.retry.max_attempts = 2;
    return options;
  }

  store::Connection& db() { return db_->connection(); }

  // A synthetic resident of Ngawi whose two fingers are impression
  // `impression` of synthetic subject `subject`.
  enrollment::Biometrics Fingers(uint64_t subject, int impression) {
    enrollment::Biometrics biometrics;
    biometrics.face_jpeg = {0xFF, 0xD8, 0xFF, 0xE0, static_cast<uint8_t>(subject), 0xFF, 0xD9};
    biometrics.signature_image = {0x89, 'P', 'N', 'G'};
    for (int finger : kFingers) {
      bio::MasterFinger master = synth_.Master(subject, finger);
      auto bytes = bio::EncodeTemplate(bio::SynthGenerator::ToRecord(synth_.Impression(master, subject, finger, impression), finger));
      EXPECT_OK(bytes);
      biometrics.fingers.push_back({finger, *bytes, enrollment::FingerException::kNone});
    }
    return biometrics;
  }

  Resident NewResident() { return SyntheticResident(RegionRegistry::Default(), "35.21", random_, clock_.TodayWib()); }

  // A record as central's ingest leaves it: validated, biometrics stored,
  // queued for the demographics stage.
  int64_t AddValidated(const Resident& resident, const enrollment::Biometrics& biometrics,
                       ApplicationKind kind = ApplicationKind::kFirstCard, const std::string& previous_nik = "") {
    return AddValidatedTo(db(), "ST-352101-01-" + std::to_string(++registrations_), resident, biometrics, kind,
                          previous_nik);
  }

  int64_t AddValidatedTo(store::Connection& target, const std::string& registration, const Resident& resident,
                         const enrollment::Biometrics& biometrics, ApplicationKind kind = ApplicationKind::kFirstCard,
                         const std::string& previous_nik = "") {
    store::RecordRepository records(target, clock_);
    store::Record record;
    record.registration_number = registration;
    record.application_kind = kind;
    record.resident_json = ResidentToJson(resident).dump();
    record.previous_nik = previous_nik;
    record.station_id = "ST-352101-01";
    auto id = records.Create(record, "station:ST-352101-01/op:ani");
    EXPECT_OK(id);
    EXPECT_OK(records.Transition(*id, RecordState::kReceived, RecordState::kValidated, "central:ingest", ""));
    auto stored = EncryptRecordBiometrics(biometrics_key_, *id, enrollment::SerializeBiometrics(biometrics));
    EXPECT_OK(stored);
    EXPECT_OK(target.Exec("INSERT INTO record_biometrics (record_id, biometrics) VALUES (?, ?)",
                          {*id, store::Blob(*stored)}));
    const int64_t ids[] = {*id};
    EXPECT_OK(EnqueueJobs(target, clock_, kDemographicsStage, ids));
    return *id;
  }

  store::Record Get(int64_t id) {
    auto record = store::RecordRepository(db(), clock_).Get(id);
    EXPECT_OK(record);
    return record.ok() ? *record : store::Record{};
  }

  std::string Reason(int64_t id) {
    auto rows = db().Query("SELECT failure_reason FROM records WHERE id = ?", {id});
    return rows.ok() && !rows->empty() ? (*rows)[0].Text(0) : "?";
  }

  void Run() {
    auto handled = pipeline_->RunUntilIdle(db());
    ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  }

  // The record_status items queued for the station, as JSON.
  std::vector<nlohmann::json> StatusFeed() {
    std::vector<nlohmann::json> items;
    auto rows = db().Query("SELECT body, signature FROM feed WHERE kind = 'record_status' ORDER BY id");
    EXPECT_OK(rows);
    for (const store::Row& row : *rows) {
      EXPECT_OK(crypto::Verify(signing_.public_key(), row.Text(0), row.Bytes(1)));
      items.push_back(nlohmann::json::parse(row.Text(0)));
    }
    return items;
  }

  // ManyDedupeWorkers...: REQUIRES an empty database.
  void RunManyWorkers(int shards) {
    for (int subject = 0; subject < 4; ++subject) AddValidated(NewResident(), Fingers(subject, 0));
    Run();
    std::vector<std::pair<int64_t, int64_t>> pairs;  // two copies of one newcomer, queued together
    std::vector<int64_t> known_again, newcomers;
    for (int k = 0; k < 8; ++k) {
      int64_t first = AddValidated(NewResident(), Fingers(100 + k, 0));
      pairs.emplace_back(first, AddValidated(NewResident(), Fingers(100 + k, 1)));
      if (k % 2 == 0) known_again.push_back(AddValidated(NewResident(), Fingers(k / 2, 1)));
      else newcomers.push_back(AddValidated(NewResident(), Fingers(200 + k, 0)));
    }
    PipelineOptions options = Options();
    options.batch = 1;
    options.dedupe_workers = 6;
    options.dedupe.matcher_shards = shards;
    options.idle_poll = milliseconds(20);
    Pipeline parallel(clock_, random_, RegionRegistry::Default(), signing_, biometrics_key_, options, "parallel");
    auto pool = store::ConnectionPool::Create(db_->url(), store::Schema::kCentral);
    ASSERT_OK(pool);
    std::atomic<bool> stop{false};
    std::vector<std::thread> matchers;
    for (int k = 1; k <= shards; ++k) {
      auto shard_db = store::Open(db_->url(), store::Schema::kCentral);
      ASSERT_OK(shard_db);
      matchers.emplace_back([&, k, connection = std::shared_ptr<store::Connection>(std::move(*shard_db))] {
        ShardMatcher matcher(clock_, biometrics_key_, ShardSpec{k, shards}, options.dedupe.identify);
        while (!stop) {
          auto searched = matcher.RunOnce(*connection, 64);
          if (!searched.ok() || *searched == 0) std::this_thread::sleep_for(milliseconds(20));
        }
      });
    }
    ASSERT_OK(parallel.Start(**pool));
    const std::string decided = store::SqlStateList({RecordState::kPrintReady, RecordState::kAdjudication});
    const int64_t total = 4 + 2 * static_cast<int64_t>(pairs.size()) + static_cast<int64_t>(known_again.size()) +
                          static_cast<int64_t>(newcomers.size());
    auto deadline = steady_clock::now() + seconds(120);
    int64_t count = 0;
    while (steady_clock::now() < deadline) {
      auto rows = db().Query("SELECT COUNT(*) FROM records WHERE state IN " + decided);
      ASSERT_OK(rows);
      count = (*rows)[0].Int(0);
      if (count == total) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    parallel.Stop();
    stop = true;
    for (std::thread& matcher : matchers) matcher.join();
    ASSERT_EQ(count, total) << ::testing::PrintToString(Outcomes(db()));

    for (auto [a, b] : pairs) {
      std::multiset<RecordState> states = {Get(a).state, Get(b).state};
      EXPECT_EQ(states, (std::multiset<RecordState>{RecordState::kPrintReady, RecordState::kAdjudication}))
          << a << " " << b;
      int64_t suspect = Get(a).state == RecordState::kAdjudication ? a : b;
      EXPECT_THAT(Reason(suspect), HasSubstr("fingerprints match 1 resident(s)"));
    }
    for (int64_t id : known_again) EXPECT_EQ(Get(id).state, RecordState::kAdjudication) << id;
    for (int64_t id : newcomers) EXPECT_EQ(Get(id).state, RecordState::kPrintReady) << id;
    auto niks = db().Query("SELECT COUNT(*), COUNT(DISTINCT holder_nik) FROM records WHERE state = 'print_ready'");
    ASSERT_OK(niks);
    EXPECT_EQ((*niks)[0].Int(0), 4 + 8 + static_cast<int64_t>(newcomers.size()));
    EXPECT_EQ((*niks)[0].Int(1), (*niks)[0].Int(0));  // no NIK twice
    auto log = db().Query("SELECT COUNT(*), COUNT(DISTINCT subject_id) FROM gallery_log");
    ASSERT_OK(log);
    EXPECT_EQ((*log)[0].Int(0), (*niks)[0].Int(0));
    EXPECT_EQ((*log)[0].Int(1), (*niks)[0].Int(0));
    auto dead = db().Query("SELECT COUNT(*) FROM pipeline_jobs WHERE status = 'dead'");
    ASSERT_OK(dead);
    EXPECT_EQ((*dead)[0].Int(0), 0);
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)})};
  SeededRandom random_{7};
  bio::SynthGenerator synth_{2026};
  crypto::SigningKey signing_ = crypto::SigningKey::Generate();
  crypto::DataKey biometrics_key_ = crypto::DataKey::Generate();
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Pipeline> pipeline_;
  int registrations_ = 0;
};

TEST(FusedImpostorProbabilityTest, OneFingerIsTheCalibratedRate) {
  EXPECT_NEAR(FusedImpostorProbability(20, 1), 0.01, 1e-9);
  EXPECT_NEAR(FusedImpostorProbability(40, 1), 1e-4, 1e-12);
  // More fingers make the same sum likelier for impostors.
  EXPECT_GT(FusedImpostorProbability(40, 2), FusedImpostorProbability(40, 1));
  EXPECT_LT(FusedImpostorProbability(80, 2), FusedImpostorProbability(40, 2));
  EXPECT_DOUBLE_EQ(FusedImpostorProbability(0, 3), 1.0);
}

// The station's hand-over check (1:1) converts its false-match rate through
// the same conservative calibration as the dedupe, for one comparison: each
// finger's evidence is bio::kCalibrationSlope * score - bio::kCalibrationMargin,
// so one finger at 0.1 % needs (30 + 5) / 0.66 and two (40.1 + 10) / 0.66.
TEST(FusedImpostorProbabilityTest, TheHandOverThresholdIsTheOneToOneRateThroughTheSameCalibration) {
  EXPECT_FLOAT_EQ(bio::ConservativeThreshold(1e-3, 1), 53.04f);
  EXPECT_FLOAT_EQ(bio::ConservativeThreshold(1e-3, 2), 75.91f);
  EXPECT_FLOAT_EQ(bio::ConservativeThreshold(1e-3, 2), DedupeThreshold(1e-3, 1, 2));
}

// Central's dedupe converts its target through the conservative calibration
// and solves the chance of any false match over the gallery for the
// per-comparison rate (docs/biometrics.md, "Calibration").
TEST(FusedImpostorProbabilityTest, DedupeConvertsThroughTheProductionCalibration) {
  const float slope = bio::kCalibrationSlope, margin = bio::kCalibrationMargin;
  ASSERT_GT(margin, 0.0f);
  EXPECT_DOUBLE_EQ(ConservativeImpostorProbability(40, 1), FusedImpostorProbability(slope * 40 - margin, 1));
  EXPECT_DOUBLE_EQ(ConservativeImpostorProbability(80, 2), FusedImpostorProbability(slope * 80 - 2 * margin, 2));
  EXPECT_GT(ConservativeImpostorProbability(40, 1), FusedImpostorProbability(40, 1));
  // One finger against 1,000,000 subjects at 0.001 per search: per
  // comparison 1 - 0.999^(1/1e6) = 1.0005e-9, nominal evidence 89.998,
  // score (89.998 + 5) / 0.66 = 143.94.
  const double per_million = -std::expm1(std::log1p(-0.001) / 1e6);
  EXPECT_NEAR(DedupeThreshold(0.001, 1e6, 1), (-10 * std::log10(per_million) + margin) / slope, 0.02);
  EXPECT_NEAR(DedupeThreshold(0.001, 1e6, 1), 143.94, 0.02);
  // 200,000,000 subjects: per comparison 5.0025e-12, nominally 113.01.
  const double per_200m = -std::expm1(std::log1p(-0.001) / 2e8);
  EXPECT_NEAR(DedupeThreshold(0.001, 2e8, 1), (-10 * std::log10(per_200m) + margin) / slope, 0.02);
  // Two fingers: the Gamma tail of the evidence.
  const float two = DedupeThreshold(0.001, 1e6, 2);
  EXPECT_LE(bio::AnyFalseMatchProbability(ConservativeImpostorProbability(two, 2), 1e6), 0.001);
  EXPECT_GT(bio::AnyFalseMatchProbability(ConservativeImpostorProbability(two - 0.01f, 2), 1e6), 0.001);
}

TEST_P(PipelineTest, QueueLeasesRetriesAndBuriesJobs) {
  WorkQueue& queue = pipeline_->queue();
  const int64_t ids[] = {AddValidated(NewResident(), Fingers(1, 0)), AddValidated(NewResident(), Fingers(2, 0))};
  // Enqueueing again changes nothing.
  ASSERT_OK(EnqueueJobs(db(), clock_, kDemographicsStage, ids));

  auto first = queue.Claim(db(), kDemographicsStage, "a", 1, seconds(30));
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].record_id, ids[0]);
  EXPECT_EQ((*first)[0].attempts, 1);
  auto second = queue.Claim(db(), kDemographicsStage, "b", 5, seconds(30));
  ASSERT_OK(second);
  ASSERT_EQ(second->size(), 1u) << "a leased job is not handed out again";
  EXPECT_EQ((*second)[0].record_id, ids[1]);

  EXPECT_THAT(queue.Complete(db(), (*first)[0], "b"), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no longer leased to b")));

  // b crashes; once its lease runs out, a takes the job over.
  clock_.Advance(seconds(31));
  auto taken_over = queue.Claim(db(), kDemographicsStage, "a", 5, seconds(30));
  ASSERT_OK(taken_over);
  ASSERT_EQ(taken_over->size(), 2u);  // a's own lease ran out too
  ASSERT_OK(queue.Complete(db(), (*taken_over)[0], "a"));
  Job failing = (*taken_over)[1];
  EXPECT_EQ(failing.attempts, 2);

  // The second attempt of a two-attempt policy fails: the job is dead, with its reason.
  ASSERT_OK(queue.Fail(db(), failing, "a", "UNAVAILABLE: database went away"));
  auto dead = queue.Dead(db(), 10);
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].job.record_id, ids[1]);
  EXPECT_EQ((*dead)[0].last_error, "UNAVAILABLE: database went away");
  clock_.Advance(hours(1));
  EXPECT_TRUE(queue.Claim(db(), kDemographicsStage, "a", 5, seconds(30))->empty());

  EXPECT_EQ(*queue.RetryDead(db(), kDemographicsStage), 1);
  auto again = queue.Claim(db(), kDemographicsStage, "a", 5, seconds(30));
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);

  // A failure before the last attempt comes back after a backoff.
  ASSERT_OK(queue.Fail(db(), (*again)[0], "a", "ABORTED: deadlock"));
  auto counts = queue.Counts(db());
  ASSERT_OK(counts);
  std::set<std::pair<std::string, int64_t>> by_status;
  for (const StageCounts& c : *counts) by_status.insert({std::string(JobStatusName(c.status)), c.jobs});
  EXPECT_EQ(by_status, (std::set<std::pair<std::string, int64_t>>{{"done", 1}, {"ready", 1}}));
  clock_.Advance(milliseconds(RetryPolicy{}.first_backoff) + milliseconds(1));
  EXPECT_EQ(queue.Claim(db(), kDemographicsStage, "a", 5, seconds(30))->size(), 1u);
}

TEST_P(PipelineTest, ConcurrentWorkersNeverShareAJob) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(AddValidated(NewResident(), Fingers(100 + i, 0)));
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      auto connection = db_->Connect();
      ASSERT_OK(connection);
      WorkQueue queue(clock_, random_);
      std::string owner = "worker" + std::to_string(w);
      while (true) {
        auto jobs = queue.Claim(**connection, kDemographicsStage, owner, 4, minutes(5));
        ASSERT_OK(jobs);
        if (jobs->empty()) return;
        for (const Job& job : *jobs) {
          ASSERT_OK(queue.Complete(**connection, job, owner));
          std::lock_guard lock(mu);
          claimed.insert(job.record_id);
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(claimed.size(), ids.size());
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), ids.size());
}

TEST_P(PipelineTest, FirstCardGetsANikAndBecomesPrintReady) {
  Resident resident = NewResident();
  int64_t id = AddValidated(resident, Fingers(1, 0));
  Run();
  store::Record record = Get(id);
  EXPECT_EQ(record.state, RecordState::kPrintReady);
  ASSERT_EQ(record.nik.size(), 16u);
  EXPECT_EQ(record.holder_nik, record.nik);
  auto parsed = ParseNik(record.nik, RegionRegistry::Default(), clock_.TodayWib());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kecamatan_code, resident.address.village_code.substr(0, 8));
  EXPECT_EQ(parsed->birth_date, resident.birth_date);
  ASSERT_OK(pipeline_->context().gallery.CatchUp(db()));
  EXPECT_EQ(pipeline_->context().gallery.engine().Count(), 1u);

  auto events = store::RecordRepository(db(), clock_).Events(id);
  ASSERT_OK(events);
  std::vector<std::string> path;
  for (const store::RecordEvent& e : *events) path.emplace_back(RecordStateName(e.to));
  EXPECT_EQ(path, (std::vector<std::string>{"received", "validated", "dedupe_pending", "unique", "print_ready"}));

  auto queued = printing::PrintQueue(db(), clock_).List(resident.address.village_code.substr(0, 5), 10, 0);
  ASSERT_OK(queued);
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].record_id, id);

  auto feed = StatusFeed();
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_EQ(feed[0]["state"], "print_ready");
  EXPECT_EQ(feed[0]["nik"], record.nik);
  EXPECT_EQ(feed[0]["registration_number"], record.registration_number);
}

TEST_P(PipelineTest, PlantedDuplicateGoesToAdjudicationWithPerFingerScores) {
  int64_t original = AddValidated(NewResident(), Fingers(1, 0));
  int64_t other = AddValidated(NewResident(), Fingers(2, 0));
  Run();
  // Same fingers (another impression), another name: a second identity.
  int64_t planted = AddValidated(NewResident(), Fingers(1, 1));
  int64_t fresh = AddValidated(NewResident(), Fingers(3, 0));
  Run();
  EXPECT_EQ(Get(other).state, RecordState::kPrintReady);
  EXPECT_EQ(Get(fresh).state, RecordState::kPrintReady);
  ASSERT_EQ(Get(planted).state, RecordState::kAdjudication);
  EXPECT_THAT(Reason(planted), HasSubstr("fingerprints match 1 resident(s)"));
  EXPECT_EQ(Get(planted).nik, "");

  auto cases = OpenCases(db(), 10);
  ASSERT_OK(cases);
  ASSERT_EQ(cases->size(), 1u);
  EXPECT_EQ((*cases)[0].record_id, planted);
  const nlohmann::json match = {{"kind", "fingerprint_match"}, {"residents", 1}};
  EXPECT_EQ((*cases)[0].suspicion_facts, match);
  auto detail = CaseDetail(db(), planted);
  ASSERT_OK(detail);
  EXPECT_EQ((*detail)["suspicion_facts"], match);
  ASSERT_EQ((*detail)["candidates"].size(), 1u);
  const nlohmann::json& candidate = (*detail)["candidates"][0];
  EXPECT_EQ(candidate["nik"], Get(original).nik);
  EXPECT_EQ(candidate["record"]["registration_number"], Get(original).registration_number);
  ASSERT_EQ(candidate["fingers"].size(), 2u);
  for (const auto& finger : candidate["fingers"]) EXPECT_GE(finger["score"].get<double>(), 20.0);
  EXPECT_EQ((*detail)["record"]["resident"]["name"], nlohmann::json::parse(Get(planted).resident_json)["name"]);
  auto photo = FacePhoto(db(), biometrics_key_, planted);
  ASSERT_OK(photo);
  EXPECT_EQ((*photo)[4], 1);  // subject 1's photo marker

  auto feed = StatusFeed();
  ASSERT_FALSE(feed.empty());
  EXPECT_EQ(feed.back()["state"], "print_ready");  // `fresh` was decided after `planted`
  bool told = false;
  for (const auto& item : feed) told |= item["state"] == "adjudication";
  EXPECT_TRUE(told);
}

// When the gallery is so large for the target that the probe's fingers
// cannot reach the threshold even at full score (two fingers at 200M
// subjects with the production target; here a target of 1e-12 makes one
// subject enough: two fingers need about 210 of at most 200), no duplicate
// can be found, so the record goes to a person instead of being admitted.
TEST_P(PipelineTest, FingersThatCannotReachTheThresholdGoToAPerson) {
  PipelineOptions options = Options();
  options.dedupe.max_false_positives_per_search = 1e-12;
  ASSERT_GT(DedupeThreshold(1e-12, 1, 2), 200);
  pipeline_ = std::make_unique<Pipeline>(clock_, random_, RegionRegistry::Default(), signing_, biometrics_key_, options,
                                         "test");
  int64_t first = AddValidated(NewResident(), Fingers(1, 0));
  Run();
  EXPECT_EQ(Get(first).state, RecordState::kPrintReady);  // an empty gallery holds no duplicate
  int64_t second = AddValidated(NewResident(), Fingers(2, 0));
  Run();
  ASSERT_EQ(Get(second).state, RecordState::kAdjudication);
  EXPECT_THAT(Reason(second), HasSubstr("2 finger(s) fuse to at most 200, below the threshold 2"));
  EXPECT_THAT(Reason(second), HasSubstr("for a gallery of 1 subject(s): no duplicate can be found by fingerprint"));
  EXPECT_EQ(Get(second).nik, "");
  auto detail = CaseDetail(db(), second);
  ASSERT_OK(detail);
  const nlohmann::json& facts = (*detail)["suspicion_facts"];
  EXPECT_EQ(facts["kind"], "threshold_unreachable");
  EXPECT_EQ(facts["fingers"], 2);
  EXPECT_EQ(facts["max_score"], 200.0);
  EXPECT_NEAR(facts["threshold"].get<double>(), DedupeThreshold(1e-12, 1, 2), 1e-3);
  EXPECT_EQ(facts["gallery_subjects"], 1);
}

// A record whose every finger is declared an exception has nothing to
// compare, so a person checks it.
TEST_P(PipelineTest, ARecordWithNoFingerprintGoesToAPerson) {
  enrollment::Biometrics biometrics = Fingers(7, 0);
  for (enrollment::FingerCapture& finger : biometrics.fingers) {
    finger.template_bytes.clear();
    finger.exception = enrollment::FingerException::kAmputated;
  }
  int64_t record = AddValidated(NewResident(), biometrics);
  Run();
  ASSERT_EQ(Get(record).state, RecordState::kAdjudication);
  EXPECT_EQ(Reason(record), "no fingerprint to compare (every finger has an exception); a person must check");
  auto detail = CaseDetail(db(), record);
  ASSERT_OK(detail);
  EXPECT_EQ((*detail)["suspicion_facts"], (nlohmann::json{{"kind", "no_fingerprints"}}));
}

TEST_P(PipelineTest, AdjudicationDecisionsAreAppliedAuditedAndFinal) {
  int64_t original = AddValidated(NewResident(), Fingers(1, 0));
  Run();
  const std::string nik = Get(original).nik;
  int64_t twin = AddValidated(NewResident(), Fingers(1, 1));
  int64_t impostor = AddValidated(NewResident(), Fingers(1, 2));
  int64_t update = AddValidated(NewResident(), Fingers(1, 3));
  Run();
  for (int64_t id : {twin, impostor, update}) ASSERT_EQ(Get(id).state, RecordState::kAdjudication) << id;

  const StageContext& context = pipeline_->context();
  EXPECT_THAT(Decide(db(), context, {twin, Verdict::kDifferentPeople, "", "", "checked"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("adjudicator")));
  EXPECT_THAT(Decide(db(), context, {impostor, Verdict::kSamePersonReject, "3521010101010001", "siti", "same face"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not one of this case's candidates")));

  ASSERT_OK(Decide(db(), context, {twin, Verdict::kDifferentPeople, "", "siti", "identical twins, birth certificates seen"}));
  ASSERT_OK(Decide(db(), context, {impostor, Verdict::kSamePersonReject, nik, "siti", "same face, second identity"}));
  ASSERT_OK(Decide(db(), context, {update, Verdict::kSamePersonUpdate, nik, "siti", "new address, same person"}));
  EXPECT_THAT(Decide(db(), context, {twin, Verdict::kSamePersonReject, nik, "budi", "changed my mind"}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already decided")));

  store::Record twin_record = Get(twin);
  EXPECT_EQ(twin_record.state, RecordState::kPrintReady);
  EXPECT_EQ(twin_record.nik.size(), 16u);
  EXPECT_NE(twin_record.nik, nik);
  EXPECT_EQ(Get(impostor).state, RecordState::kRejectedDuplicate);
  EXPECT_EQ(Reason(impostor), "same person as NIK " + nik);
  store::Record updated = Get(update);
  EXPECT_EQ(updated.state, RecordState::kPrintReady);
  EXPECT_EQ(updated.holder_nik, nik);
  EXPECT_EQ(updated.nik, "") << "an update issues no new NIK";

  auto detail = CaseDetail(db(), impostor);
  ASSERT_OK(detail);
  EXPECT_EQ((*detail)["decision"]["verdict"], "same_person_reject");
  EXPECT_EQ((*detail)["decision"]["by"], "siti");
  EXPECT_TRUE(OpenCases(db(), 10)->empty());

  // The gallery now holds the original (its fingers replaced by the update) and the twin.
  ASSERT_OK(pipeline_->context().gallery.CatchUp(db()));
  EXPECT_EQ(pipeline_->context().gallery.engine().Count(), 2u);

  auto decisions = db().Query("SELECT actor, subject FROM audit_log WHERE action = 'adjudication.decide' ORDER BY seq");
  ASSERT_OK(decisions);
  ASSERT_EQ(decisions->size(), 3u);
  EXPECT_EQ((*decisions)[0].Text(0), "adjudicator:siti");
  EXPECT_EQ((*decisions)[0].Text(1), "record:" + std::to_string(twin));
  auto verified = store::AuditLog(db(), clock_).Verify();
  ASSERT_OK(verified);
  EXPECT_TRUE(verified->intact);
}

TEST_P(PipelineTest, ReplacementKeepsItsNikOnlyWithItsOwnFingers) {
  Resident resident = NewResident();
  int64_t original = AddValidated(resident, Fingers(1, 0));
  Run();
  const std::string nik = Get(original).nik;
  resident.nik = nik;

  int64_t lost = AddValidated(resident, Fingers(1, 1), ApplicationKind::kLost, nik);
  Run();
  store::Record replacement = Get(lost);
  EXPECT_EQ(replacement.state, RecordState::kPrintReady) << Reason(lost);
  EXPECT_EQ(replacement.holder_nik, nik);
  EXPECT_EQ(replacement.nik, "");

  int64_t stolen = AddValidated(resident, Fingers(5, 0), ApplicationKind::kDamaged, nik);
  Run();
  EXPECT_EQ(Get(stolen).state, RecordState::kAdjudication);
  EXPECT_EQ(Reason(stolen), "fingerprints do not match the card of NIK " + nik);
  auto detail = CaseDetail(db(), stolen);
  ASSERT_OK(detail);
  EXPECT_EQ((*detail)["suspicion_facts"], (nlohmann::json{{"kind", "own_card_mismatch"}, {"nik", nik}}));
  // Not the same person as the NIK's holder: the claim is refused, and the
  // holder's fingers stay in the gallery.
  ASSERT_OK(Decide(db(), pipeline_->context(), {stolen, Verdict::kDifferentPeople, "", "siti", "another face"}));
  EXPECT_EQ(Get(stolen).state, RecordState::kRejectedDuplicate);
  EXPECT_EQ(Reason(stolen), "not the holder of NIK " + nik);
  EXPECT_EQ(Get(stolen).holder_nik, "");
  auto latest = db().Query("SELECT record_id FROM gallery_log WHERE subject_id = ? ORDER BY seq DESC LIMIT 1", {nik});
  ASSERT_OK(latest);
  EXPECT_EQ((*latest)[0].Int(0), lost);
}

TEST_P(PipelineTest, DemographicChecksFailWithTheReason) {
  Resident resident = NewResident();
  int64_t original = AddValidated(resident, Fingers(1, 0));
  Run();
  const std::string nik = Get(original).nik;
  resident.nik = nik;

  int64_t unknown = AddValidated(resident, Fingers(1, 1), ApplicationKind::kLost, "3521015708990001");
  int64_t same_place = AddValidated(resident, Fingers(1, 2), ApplicationKind::kMoveIn, nik);
  int64_t unchanged = AddValidated(resident, Fingers(1, 3), ApplicationKind::kDataChange, nik);
  Run();
  for (int64_t id : {unknown, same_place, unchanged}) EXPECT_EQ(Get(id).state, RecordState::kFailedValidation) << id;
  EXPECT_EQ(Reason(unknown), "previous NIK 3521015708990001 is not in the national register");
  EXPECT_THAT(Reason(same_place), HasSubstr("move-in, but the new address is in kecamatan"));
  EXPECT_EQ(Reason(unchanged), "data change, but no field differs from the card of NIK " + nik);

  // Two applications for one NIK: the later one waits for nothing, it fails.
  Resident changed = resident;
  changed.occupation = "PETANI/PEKEBUN";
  int64_t first = AddValidated(changed, Fingers(1, 4), ApplicationKind::kDataChange, nik);
  int64_t second = AddValidated(resident, Fingers(1, 5), ApplicationKind::kLost, nik);
  auto jobs = pipeline_->queue().Claim(db(), kDemographicsStage, "test", 10, minutes(1));
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  for (const Job& job : *jobs) {
    ASSERT_OK(db().Transact([&]() -> Status {
      RETURN_IF_ERROR(RunDemographics(db(), pipeline_->context(), job.record_id));
      return pipeline_->queue().Complete(db(), job, "test");
    }));
  }
  EXPECT_EQ(Get(first).state, RecordState::kDedupePending);
  EXPECT_EQ(Get(second).state, RecordState::kFailedValidation);
  EXPECT_EQ(Reason(second), "another application for NIK " + nik + " is in progress (registration " +
                                Get(first).registration_number + ")");
}

// The in-process search runs before the decision's transaction; a decision
// made in between (here: the other copy of the same person) is still seen.
TEST_P(PipelineTest, ADecisionBetweenSearchAndDecisionIsSeen) {
  int64_t first = AddValidated(NewResident(), Fingers(1, 0));
  int64_t second = AddValidated(NewResident(), Fingers(1, 1));
  const StageContext& context = pipeline_->context();
  for (int64_t id : {first, second}) ASSERT_OK(RunDemographics(db(), context, id));
  auto searched = SearchOwnGallery(db(), context, second);
  ASSERT_OK(searched);
  EXPECT_TRUE(searched->search.candidates.empty());  // the gallery is still empty
  ASSERT_OK(db().Transact([&] { return RunDedupe(db(), context, first); }));
  ASSERT_OK(db().Transact([&] { return RunDedupe(db(), context, second, &*searched); }));
  EXPECT_EQ(Get(first).state, RecordState::kPrintReady);
  EXPECT_EQ(Get(second).state, RecordState::kAdjudication);
  EXPECT_THAT(Reason(second), HasSubstr("fingerprints match 1 resident(s)"));
}

// Several searches made at the same gallery position (parallel workers),
// decided one after the other: each decision compares its probe with what
// the ones before it put in the log, so of three copies of one newcomer only
// the first is accepted.
TEST_P(PipelineTest, SearchesMadeSideBySideAreDecidedAsIfOneAfterTheOther) {
  const StageContext& context = pipeline_->context();
  int64_t known = AddValidated(NewResident(), Fingers(2, 0));
  Run();
  ASSERT_EQ(Get(known).state, RecordState::kPrintReady);
  std::vector<int64_t> copies, others;
  for (int impression : {0, 1, 2}) copies.push_back(AddValidated(NewResident(), Fingers(3, impression)));
  others.push_back(AddValidated(NewResident(), Fingers(4, 0)));
  others.push_back(AddValidated(NewResident(), Fingers(2, 1)));  // the known resident again
  std::vector<int64_t> all = copies;
  all.insert(all.end(), others.begin(), others.end());
  for (int64_t id : all) ASSERT_OK(RunDemographics(db(), context, id));
  std::vector<OwnSearch> searches;
  for (int64_t id : all) {
    auto searched = SearchOwnGallery(db(), context, id);
    ASSERT_OK(searched);
    EXPECT_EQ(searched->search.position, 1);
    EXPECT_EQ(searched->search.gallery_subjects, 1u);
    searches.push_back(std::move(*searched));
  }
  for (size_t k = 0; k < all.size(); ++k) {
    ASSERT_OK(db().Transact([&] { return RunDedupe(db(), context, all[k], &searches[k]); }));
  }
  EXPECT_EQ(Get(copies[0]).state, RecordState::kPrintReady);
  for (int64_t id : {copies[1], copies[2], others[1]}) {
    EXPECT_EQ(Get(id).state, RecordState::kAdjudication) << id;
    EXPECT_THAT(Reason(id), HasSubstr("fingerprints match 1 resident(s)"));
  }
  EXPECT_EQ(Get(others[0]).state, RecordState::kPrintReady);
  auto log = db().Query("SELECT COUNT(*), COUNT(DISTINCT subject_id) FROM gallery_log");
  ASSERT_OK(log);
  EXPECT_EQ((*log)[0].Int(0), 3);
  EXPECT_EQ((*log)[0].Int(1), 3);
}

// With no search running, CatchUpUnlessBusy applies every new log row; a
// search reports the position and size of the gallery it searched.
TEST_P(PipelineTest, TheGalleryMirrorSearchesAtAnExactPosition) {
  const int64_t record = AddValidated(NewResident(), Fingers(99, 0));
  GalleryMirror mirror(biometrics_key_);
  ASSERT_OK(mirror.CatchUp(db()));
  EXPECT_EQ(mirror.position(), 0);
  auto subject = [&](const std::string& id, uint64_t synthetic) {
    bio::SubjectRecord record{id, {}};
    for (int finger : kFingers) {
      bio::MasterFinger master = synth_.Master(synthetic, finger);
      bio::TemplateRecord templ = bio::SynthGenerator::ToRecord(synth_.Impression(master, synthetic, finger, 0), finger);
      auto features = bio::FingerFeatures::FromView(templ.views[0], templ.format);
      EXPECT_OK(features);
      record.fingers.push_back({finger, *features});
    }
    return record;
  };
  for (int k = 0; k < 3; ++k) {
    ASSERT_OK(PutGallerySubject(db(), biometrics_key_, subject("n" + std::to_string(k), 50 + k), record, "2026-11-24"));
  }
  ASSERT_OK(mirror.CatchUpUnlessBusy(db(), 0));  // no search runs: it applies everything
  EXPECT_EQ(mirror.position(), 3);
  auto searched = mirror.SearchAtPosition(subject("probe", 51), {.prefilter_keep = 1});
  ASSERT_OK(searched);
  EXPECT_EQ(searched->position, 3);
  EXPECT_EQ(searched->gallery_subjects, 3u);
  ASSERT_FALSE(searched->candidates.empty());
  EXPECT_EQ(searched->candidates[0].subject_id, "n1");
  auto empty = mirror.SearchAtPosition(bio::SubjectRecord{"", {}}, {});
  ASSERT_OK(empty);
  EXPECT_EQ(empty->position, 3);
  EXPECT_TRUE(empty->candidates.empty());
}

// Many dedupe workers, one job each at a time, with pairs of copies of one
// newcomer queued together, copies of known residents and newcomers: every
// pair gives one card and one adjudication, no NIK is given twice, nothing
// dies. With matcher shards too (three, each a thread with its own
// connection, as `ektp central matcher`).
TEST_P(PipelineTest, ManyDedupeWorkersKeepEveryGuarantee) { RunManyWorkers(0); }
TEST_P(PipelineTest, ManyDedupeWorkersWithThreeMatcherShardsKeepEveryGuarantee) { RunManyWorkers(3); }

// A dump of the database holds no biometrics in clear: record_biometrics
// and gallery_log are encrypted with the biometrics key, and a row copied
// onto another record or subject does not decrypt.
TEST_P(PipelineTest, StoredBiometricsAndGalleryAreEncryptedAndBoundToTheirRow) {
  const enrollment::Biometrics first = Fingers(1, 0), second = Fingers(2, 0);
  const int64_t a = AddValidated(NewResident(), first), b = AddValidated(NewResident(), second);
  Run();
  ASSERT_EQ(Get(a).state, RecordState::kPrintReady);
  ASSERT_EQ(Get(b).state, RecordState::kPrintReady);
  auto contains = [](const store::Blob& haystack, std::span<const uint8_t> needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
  };
  auto rows = db().Query("SELECT record_id, biometrics FROM record_biometrics ORDER BY record_id");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  for (const store::Row& row : *rows) {
    const enrollment::Biometrics& clear = row.Int(0) == a ? first : second;
    store::Blob stored = row.Bytes(1);
    EXPECT_EQ(std::string(stored.begin(), stored.begin() + 4), "ekd1");
    EXPECT_FALSE(contains(stored, clear.face_jpeg));
    EXPECT_FALSE(contains(stored, std::span(clear.fingers[0].template_bytes).subspan(0, 32)));
  }
  auto logged = db().Query("SELECT COUNT(*) FROM gallery_log");
  ASSERT_OK(logged);
  EXPECT_EQ((*logged)[0].Int(0), 2);
  auto gallery = db().Query("SELECT subject_id, subject FROM gallery_log WHERE record_id = ?", {a});
  ASSERT_OK(gallery);
  ASSERT_EQ(gallery->size(), 1u);
  ASSERT_EQ((*gallery)[0].Text(0), Get(a).holder_nik);
  auto subject_a = LoadSubject(db(), biometrics_key_, a, Get(a).holder_nik);
  ASSERT_OK(subject_a);
  const store::Blob gallery_a = (*gallery)[0].Bytes(1);
  EXPECT_EQ(std::string(gallery_a.begin(), gallery_a.begin() + 4), "ekd1");
  EXPECT_FALSE(contains(gallery_a, bio::EncodeSubject(*subject_a)));
  auto decrypted = DecryptGallerySubject(biometrics_key_, Get(a).holder_nik, gallery_a);
  ASSERT_OK(decrypted);
  EXPECT_EQ(bio::EncodeSubject(*decrypted), bio::EncodeSubject(*subject_a));

  // Rows swapped: record b's row now holds a's ciphertext, gallery subject b's holds a's.
  EXPECT_THAT(DecryptGallerySubject(biometrics_key_, Get(b).holder_nik, gallery_a),
              StatusIs(StatusCode::kDataLoss, HasSubstr("gallery subject: encrypted data does not authenticate")));
  ASSERT_OK(db().Exec("UPDATE record_biometrics SET biometrics = (SELECT biometrics FROM record_biometrics WHERE "
                      "record_id = ?) WHERE record_id = ?",
                      {a, b}));
  EXPECT_THAT(LoadRecordBiometrics(db(), biometrics_key_, b),
              StatusIs(StatusCode::kDataLoss, "stored biometrics of record " + std::to_string(b) +
                                                  ": encrypted data does not authenticate: altered, or stored for "
                                                  "another row"));
  // Another key (a lost or replaced biometrics.key) is named, not mistaken for damage.
  crypto::DataKey other = crypto::DataKey::Generate();
  EXPECT_THAT(FacePhoto(db(), other, a),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("encrypted with data key " + biometrics_key_.id() +
                                                                  ", but the loaded key is " + other.id())));
  auto photo = FacePhoto(db(), biometrics_key_, a);
  ASSERT_OK(photo);
  EXPECT_EQ(*photo, first.face_jpeg);
}

TEST_P(PipelineTest, UnreadableBiometricsEndDeadWithTheReason) {
  int64_t id = AddValidated(NewResident(), Fingers(1, 0));
  ASSERT_OK(db().Exec("UPDATE record_biometrics SET biometrics = ? WHERE record_id = ?",
                      {store::Blob{1, 2, 3}, id}));
  Run();  // demographics pass; dedupe fails once and backs off
  EXPECT_EQ(Get(id).state, RecordState::kDedupePending);
  clock_.Advance(minutes(10));
  Run();  // the second and last attempt
  auto dead = pipeline_->queue().Dead(db(), 10);
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].job.stage, kDedupeStage);
  EXPECT_THAT((*dead)[0].last_error, HasSubstr("record " + std::to_string(id)));
  EXPECT_EQ(Get(id).state, RecordState::kDedupePending) << "a failed attempt changes nothing";
  EXPECT_EQ(pipeline_->context().gallery.engine().Count(), 0u);
}

TEST_P(PipelineTest, BackgroundWorkersDrainTheQueues) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(AddValidated(NewResident(), Fingers(10 + i, 0)));
  auto pool = store::ConnectionPool::Create(db_->url(), store::Schema::kCentral);
  ASSERT_OK(pool);
  ASSERT_OK(pipeline_->Start(**pool));
  auto deadline = steady_clock::now() + seconds(60);
  auto all_ready = [&] {
    for (int64_t id : ids) {
      if (Get(id).state != RecordState::kPrintReady) return false;
    }
    return true;
  };
  while (!all_ready() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(50));
  pipeline_->Stop();
  EXPECT_TRUE(all_ready());
}

// The value of the line of central's /metrics exposition that starts with
// `series` (name and labels), 0 if there is none.
double MetricValue(const std::string& series) {
  const std::string text = service::MetricsRegistry::Default().Exposition();
  const size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 2));
}

TEST_P(PipelineTest, EventsAndJobsHaveMillisecondsAndMetricsHaveTheLatency) {
  const std::string print_ready = "{outcome=\"print_ready\"}", adjudication = "{outcome=\"adjudication\"}";
  const double ready_count = MetricValue("ektp_pipeline_latency_seconds_count" + print_ready);
  const double ready_sum = MetricValue("ektp_pipeline_latency_seconds_sum" + print_ready);
  const double suspect_count = MetricValue("ektp_pipeline_latency_seconds_count" + adjudication);
  const double suspect_sum = MetricValue("ektp_pipeline_latency_seconds_sum" + adjudication);
  const int64_t t0 = UnixMillis(clock_.Now());
  const int64_t unique = AddValidated(NewResident(), Fingers(1, 0));
  clock_.Advance(milliseconds(500));
  const int64_t twin = AddValidated(NewResident(), Fingers(1, 1));
  clock_.Advance(milliseconds(734));
  Run();
  ASSERT_EQ(Get(unique).state, RecordState::kPrintReady);
  ASSERT_EQ(Get(twin).state, RecordState::kAdjudication);

  auto events = store::RecordRepository(db(), clock_).Events(unique);
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[1].to, RecordState::kValidated);
  EXPECT_EQ((*events)[1].at_ms, t0);
  EXPECT_EQ(events->back().to, RecordState::kPrintReady);
  EXPECT_EQ(events->back().at_ms, t0 + 1234);
  EXPECT_EQ(events->back().at, "2026-11-24T00:00:01Z");
  auto jobs = db().Query("SELECT stage, created_ms, updated_ms FROM pipeline_jobs WHERE record_id = ? ORDER BY id",
                         {twin});
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].Text(0), kDemographicsStage);
  EXPECT_EQ((*jobs)[0].Int(1), t0 + 500);
  EXPECT_EQ((*jobs)[0].Int(2), t0 + 1234);
  EXPECT_EQ((*jobs)[1].Int(1), t0 + 1234);

  EXPECT_EQ(MetricValue("ektp_pipeline_latency_seconds_count" + print_ready), ready_count + 1);
  EXPECT_DOUBLE_EQ(MetricValue("ektp_pipeline_latency_seconds_sum" + print_ready), ready_sum + 1.234);
  EXPECT_EQ(MetricValue("ektp_pipeline_latency_seconds_count" + adjudication), suspect_count + 1);
  EXPECT_DOUBLE_EQ(MetricValue("ektp_pipeline_latency_seconds_sum" + adjudication), suspect_sum + 0.734);
  EXPECT_GE(MetricValue("ektp_pipeline_latency_seconds_bucket{outcome=\"adjudication\",le=\"1\"}"), suspect_count + 1);
}

// A central killed with kill -9 while it holds leases delays no record by
// more than its lease: its heartbeat stops, and another central takes the
// jobs over. Central A is a forked child process with its own connections
// and the real clock, working slowly (one record per 4 s) so that it holds
// most of its batch when it is killed.
TEST_P(PipelineTest, JobsOfAKilledCentralAreTakenOverWithinTheLease) {
  const PipelineOptions defaults;
  ASSERT_LE(defaults.lease, seconds(5));
  const std::string owner_a = "central-a";
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(AddValidated(NewResident(), Fingers(40 + i, 0)));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    PipelineOptions slow = defaults;
    slow.max_records_per_second = 0.25;
    SeededRandom random(1);
    auto pool = store::ConnectionPool::Create(db_->url(), store::Schema::kCentral);
    if (!pool.ok()) _exit(2);
    Pipeline a(SystemClock::Instance(), random, RegionRegistry::Default(), signing_, biometrics_key_, slow, owner_a);
    if (!a.Start(**pool).ok()) _exit(3);
    while (true) pause();
  }
  struct Leases {
    int64_t jobs = 0;
    int64_t earliest_until_ms = 0;
    int64_t latest_until_ms = 0;
  };
  auto held_by_a = [&]() -> Leases {
    auto rows = db().Query("SELECT COUNT(*), COALESCE(MIN(lease_until_ms), 0), COALESCE(MAX(lease_until_ms), 0) "
                           "FROM pipeline_jobs WHERE status = 'leased' AND lease_owner = ?",
                           {owner_a});
    EXPECT_OK(rows);
    return rows.ok() ? Leases{(*rows)[0].Int(0), (*rows)[0].Int(1), (*rows)[0].Int(2)} : Leases{};
  };
  auto wait_until = [](auto done, seconds limit) {
    for (auto deadline = steady_clock::now() + limit; !done() && steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    return done();
  };
  EXPECT_TRUE(wait_until([&] { return held_by_a().jobs >= 4; }, seconds(30))) << "central A claimed its batch";
  // Alive, A keeps its leases beyond their first term: the heartbeat renews them.
  const Leases claimed = held_by_a();
  std::this_thread::sleep_for(defaults.lease + seconds(1));
  const Leases renewed = held_by_a();
  EXPECT_GE(renewed.jobs, 2) << "A still works through its batch";
  EXPECT_GT(renewed.earliest_until_ms, UnixMillis(SystemClock::Instance().Now())) << "none of A's leases ran out";
  EXPECT_GT(renewed.latest_until_ms, claimed.latest_until_ms);

  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "central A exited early with status " << wait_status;
  const auto killed_at = steady_clock::now();
  auto pool = store::ConnectionPool::Create(db_->url(), store::Schema::kCentral);
  ASSERT_OK(pool);
  Pipeline b(SystemClock::Instance(), random_, RegionRegistry::Default(), signing_, biometrics_key_, defaults,
             "central-b");
  ASSERT_OK(b.Start(**pool));
  const bool all_ready = wait_until(
      [&] {
        return std::all_of(ids.begin(), ids.end(),
                           [&](int64_t id) { return Get(id).state == RecordState::kPrintReady; });
      },
      seconds(60));
  const auto took = duration_cast<milliseconds>(steady_clock::now() - killed_at);
  b.Stop();
  EXPECT_TRUE(all_ready);
  // The bound: A's last lease (at most `lease` after the kill), then B's
  // poll and the work itself, with room for a slow (sanitizer) build.
  EXPECT_LE(took, defaults.lease + seconds(10)) << took.count() << " ms after the kill";
  EXPECT_EQ(held_by_a().jobs, 0);
}

// A batch its worker gave up on (the database went away mid-batch: the job
// failed and recording the failure failed too) is not kept alive by the
// heartbeat of the same, living process: its leases run out and the
// process's own workers take the jobs again. Here the abandoned batch is a
// claim made under the pipeline's owner before it starts.
TEST_P(PipelineTest, ABatchItsWorkerAbandonedIsTakenAgainAfterTheLease) {
  const PipelineOptions defaults;
  const std::string owner = "central-a";
  const int64_t id = AddValidated(NewResident(), Fingers(50, 0));
  SeededRandom random(3);
  WorkQueue queue(SystemClock::Instance(), random);
  auto abandoned = queue.Claim(db(), kDemographicsStage, owner, 5, defaults.lease);
  ASSERT_OK(abandoned);
  ASSERT_EQ(abandoned->size(), 1u);

  auto pool = store::ConnectionPool::Create(db_->url(), store::Schema::kCentral);
  ASSERT_OK(pool);
  Pipeline a(SystemClock::Instance(), random_, RegionRegistry::Default(), signing_, biometrics_key_, defaults, owner);
  const auto started = steady_clock::now();
  ASSERT_OK(a.Start(**pool));
  while (Get(id).state != RecordState::kPrintReady && steady_clock::now() - started < defaults.lease + seconds(20)) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  const auto took = duration_cast<milliseconds>(steady_clock::now() - started);
  a.Stop();
  EXPECT_EQ(Get(id).state, RecordState::kPrintReady);
  // The lease, then a poll and the work, with room for a slow (sanitizer) build.
  EXPECT_LE(took, defaults.lease + seconds(10)) << took.count() << " ms";
  EXPECT_GE(took, defaults.lease - seconds(1)) << "taken before its lease ran out";
}

// Each record's outcome: state, card NIK, reason and, for a suspect, the
// NIKs of its candidates.
std::vector<std::string> Outcomes(store::Connection& db) {
  std::vector<std::string> outcomes;
  auto rows = db.Query("SELECT r.registration_number, r.state, COALESCE(r.holder_nik, ''), "
                       "COALESCE(r.failure_reason, ''), COALESCE(a.candidates, '') FROM records r "
                       "LEFT JOIN adjudications a ON a.record_id = r.id ORDER BY r.registration_number");
  EXPECT_OK(rows);
  for (const store::Row& row : *rows) {
    std::string candidates;
    if (!row.Text(4).empty()) {
      for (const auto& c : nlohmann::json::parse(row.Text(4))) candidates += c["nik"].get<std::string>() + " ";
    }
    outcomes.push_back(row.Text(0) + " " + row.Text(1) + " " + row.Text(2) + " [" + row.Text(3) + "] " + candidates);
  }
  return outcomes;
}

TEST_P(PipelineTest, ThreeMatcherShardsDecideExactlyAsOneEngine) {
  auto other = TestDatabase::Create(GetParam());
  ASSERT_OK(other);
  store::Connection& sharded_db = (*other)->connection();
  PipelineOptions options = Options();
  options.dedupe.matcher_shards = 3;
  Pipeline sharded(clock_, random_, RegionRegistry::Default(), signing_, biometrics_key_, options, "sharded");
  std::vector<std::unique_ptr<ShardMatcher>> shards;
  for (int k = 1; k <= 3; ++k) {
    shards.push_back(std::make_unique<ShardMatcher>(clock_, biometrics_key_, ShardSpec{k, 3}, options.dedupe.identify));
  }

  // The same records, in the same order, into both databases.
  int next = 0;
  auto add = [&](const Resident& resident, const enrollment::Biometrics& biometrics,
                 ApplicationKind kind = ApplicationKind::kFirstCard, const std::string& previous_nik = "") {
    std::string registration = "ST-352101-01-" + std::to_string(100 + ++next);
    AddValidatedTo(db(), registration, resident, biometrics, kind, previous_nik);
    AddValidatedTo(sharded_db, registration, resident, biometrics, kind, previous_nik);
  };
  auto run_both = [&] {
    Run();
    // Shards search whatever waits, then the dedupe stage decides; repeat
    // until nothing moves.
    for (int round = 0; round < 100; ++round) {
      int searched = 0;
      for (auto& shard : shards) {
        auto n = shard->RunOnce(sharded_db, 100);
        ASSERT_OK(n);
        searched += *n;
      }
      auto handled = sharded.RunUntilIdle(sharded_db);
      ASSERT_OK(handled);
      if (searched == 0 && *handled == 0) return;
    }
    FAIL() << "the sharded pipeline did not settle";
  };

  std::vector<Resident> residents;
  for (int subject = 0; subject < 12; ++subject) {
    residents.push_back(NewResident());
    add(residents.back(), Fingers(subject, 0));
  }
  run_both();
  // Planted duplicates, a replacement with its own fingers, newcomers, and two
  // copies of one newcomer arriving together (only the merge's look at the
  // gallery log after the shards searched can catch the second).
  for (int subject : {1, 4, 7}) add(NewResident(), Fingers(subject, 1));
  Resident replacing = residents[2];
  replacing.nik = Get(3).holder_nik;
  add(replacing, Fingers(2, 2), ApplicationKind::kLost, replacing.nik);
  for (int subject = 20; subject < 24; ++subject) add(NewResident(), Fingers(subject, 0));
  add(NewResident(), Fingers(30, 0));
  add(NewResident(), Fingers(30, 1));
  run_both();

  std::vector<std::string> single = Outcomes(db());
  EXPECT_EQ(Outcomes(sharded_db), single);
  int adjudication = 0;
  for (const std::string& outcome : single) adjudication += outcome.find(" adjudication ") != std::string::npos;
  EXPECT_EQ(adjudication, 4) << ::testing::PrintToString(single);
  size_t held = 0;
  for (auto& shard : shards) {
    ASSERT_OK(shard->RunOnce(sharded_db, 0).status());
    EXPECT_GT(shard->subjects(), 0u);
    held += shard->subjects();
  }
  EXPECT_EQ(held, 12u + 4u + 1u);  // each subject in exactly one shard
}

// While a backlog drains, a shard searches the records next in line, and
// again those whose stored search has fallen more than `refresh_after` log
// entries behind, so the merge compares each with a bounded number of
// entries.
TEST_P(PipelineTest, AShardRefreshesStaleSearchesOfTheRecordsNextInLine) {
  PipelineOptions options = Options();
  options.dedupe.matcher_shards = 1;
  Pipeline sharded(clock_, random_, RegionRegistry::Default(), signing_, biometrics_key_, options, "sharded");
  ShardMatcher shard(clock_, biometrics_key_, ShardSpec{1, 1}, options.dedupe.identify, /*refresh_after=*/2);
  std::vector<int64_t> ids;
  for (int subject = 0; subject < 4; ++subject) ids.push_back(AddValidated(NewResident(), Fingers(subject, 0)));
  ids.push_back(AddValidated(NewResident(), Fingers(0, 1)));  // a copy of the first
  ids.push_back(AddValidated(NewResident(), Fingers(9, 0)));
  ASSERT_OK(sharded.RunUntilIdle(db()).status());  // demographics; dedupe waits for the shard
  auto position = [&](int64_t id) {
    auto rows = db().Query("SELECT gallery_position, candidates FROM shard_searches WHERE record_id = ?", {id});
    EXPECT_OK(rows);
    return rows.ok() && !rows->empty() ? std::pair((*rows)[0].Int(0), (*rows)[0].Text(1))
                                       : std::pair(int64_t{-1}, std::string());
  };
  // The first 4 in line, then the rest.
  auto searched = shard.RunOnce(db(), 4);
  ASSERT_OK(searched);
  EXPECT_EQ(*searched, 4);
  EXPECT_EQ(position(ids[4]).first, -1) << "not searched before its turn";
  searched = shard.RunOnce(db(), 100);
  ASSERT_OK(searched);
  EXPECT_EQ(*searched, 2);
  EXPECT_EQ(position(ids[4]), std::pair(int64_t{0}, std::string("[]")));

  // Three decisions: the log is 3 entries ahead of every waiting search.
  auto jobs = sharded.queue().Claim(db(), kDedupeStage, "sharded", 3, seconds(30));
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 3u);
  for (const Job& job : *jobs) {
    ASSERT_OK(db().Transact([&]() -> Status {
      RETURN_IF_ERROR(RunDedupe(db(), sharded.context(), job.record_id));
      return sharded.queue().Complete(db(), job, "sharded");
    }));
  }
  // Only the first 2 in line are refreshed; the last one when its turn nears.
  searched = shard.RunOnce(db(), 2);
  ASSERT_OK(searched);
  EXPECT_EQ(*searched, 2);
  EXPECT_EQ(position(ids[3]).first, 3);
  EXPECT_EQ(position(ids[5]).first, 0);
  const auto [refreshed_at, candidates] = position(ids[4]);
  EXPECT_EQ(refreshed_at, 3);
  EXPECT_THAT(candidates, HasSubstr(Get(ids[0]).holder_nik)) << "the refreshed search finds the first copy itself";
  EXPECT_EQ(*shard.RunOnce(db(), 2), 0) << "fresh searches are left alone";

  ASSERT_OK(sharded.RunUntilIdle(db()).status());
  ASSERT_OK(shard.RunOnce(db(), 100).status());
  ASSERT_OK(sharded.RunUntilIdle(db()).status());
  for (int k : {0, 1, 2, 3, 5}) EXPECT_EQ(Get(ids[k]).state, RecordState::kPrintReady) << k;
  EXPECT_EQ(Get(ids[4]).state, RecordState::kAdjudication);
}

// The merge's cache of decoded log entries: a hit decodes nothing (so a
// garbled copy of a cached entry still answers), and it keeps only the most
// recent `capacity` entries (an evicted one is decoded again, and garbage fails).
TEST_P(PipelineTest, DecodedLogKeepsTheMostRecentEntries) {
  auto subject = LoadSubject(db(), biometrics_key_, AddValidated(NewResident(), Fingers(1, 0)), "3521015708990001");
  ASSERT_OK(subject);
  auto bytes = EncryptGallerySubject(biometrics_key_, *subject);
  ASSERT_OK(bytes);
  const store::Blob sealed(bytes->begin(), bytes->end()), garbage = {1, 2, 3};
  DecodedLog decoded(2);
  for (int64_t seq : {10, 11, 12}) {
    auto got = decoded.Get(biometrics_key_, seq, subject->id, sealed);
    ASSERT_OK(got);
    EXPECT_EQ(bio::EncodeSubject(**got), bio::EncodeSubject(*subject));
  }
  EXPECT_OK(decoded.Get(biometrics_key_, 12, subject->id, garbage).status());
  EXPECT_OK(decoded.Get(biometrics_key_, 11, subject->id, garbage).status());
  EXPECT_THAT(decoded.Get(biometrics_key_, 10, subject->id, garbage).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("gallery subject")));
}

TEST(ShardSpecTest, ParsesAndRefuses) {
  auto spec = ParseShardSpec("2/3");
  ASSERT_OK(spec);
  EXPECT_EQ(spec->index, 2);
  EXPECT_EQ(spec->count, 3);
  EXPECT_THAT(ParseShardSpec("4/3"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside 1..3")));
  EXPECT_THAT(ParseShardSpec("two"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not k/n")));
}

// ShardOf is FNV-1a (64 bit) modulo the count, plus one. Every process that
// merges or serves shards must agree on it, so its values are fixed: these
// were computed independently of this code.
TEST(ShardSpecTest, ShardOfIsFixedAndSpreadsNiksEvenly) {
  EXPECT_EQ(ShardOf("3521015708990001", 1), 1);
  EXPECT_EQ(ShardOf("3521015708990001", 2), 1);
  EXPECT_EQ(ShardOf("3521015708990001", 3), 1);
  EXPECT_EQ(ShardOf("3521015708990001", 4), 3);
  EXPECT_EQ(ShardOf("3521015708990001", 7), 2);
  EXPECT_EQ(ShardOf("3521015708990002", 3), 3);
  EXPECT_EQ(ShardOf("3521015708990002", 7), 6);
  EXPECT_EQ(ShardOf("3172014101900003", 4), 4);
  EXPECT_EQ(ShardOf("", 3), 3);
  // 3,000 consecutive NIKs of one kecamatan and birth date: within 10 % of
  // an even share on every shard, for 3 and for 8 shards.
  for (int count : {3, 8}) {
    std::vector<int> held(count + 1, 0);
    for (int serial = 1; serial <= 3000; ++serial) {
      char nik[17];
      std::snprintf(nik, sizeof(nik), "352101570899%04d", serial);
      int shard = ShardOf(nik, count);
      ASSERT_GE(shard, 1);
      ASSERT_LE(shard, count);
      ++held[shard];
    }
    for (int shard = 1; shard <= count; ++shard) {
      EXPECT_NEAR(held[shard], 3000.0 / count, 300.0 / count) << "shard " << shard << " of " << count;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PipelineTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::pipeline
