#include "bio/abis.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bio/synth.h"
#include "core/status_matchers.h"

namespace ektp::bio {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kPositions[2] = {2, 7};  // right and left index

// Subject `s` of a fixed synthetic population, impression `impression`.
SubjectRecord Subject(uint64_t s, int impression = 1, std::string id = "") {
  static const SynthGenerator gen(42);
  SubjectRecord r;
  r.id = id.empty() ? "S" + std::to_string(s) : std::move(id);
  for (int position : kPositions) {
    MasterFinger master = gen.Master(s, position);
    r.fingers.push_back({position, FingerFeatures(gen.Impression(master, s, position, impression))});
  }
  return r;
}

IdentifyOptions FullSearch() {
  IdentifyOptions o;
  o.prefilter_keep = 1.0;
  o.threads = 1;
  return o;
}

// A fresh, empty folder under the test temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("ektp_abis_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<InMemoryAbis> OpenEngine(GalleryStore* store) {
  auto abis = InMemoryAbis::Open(store);
  EXPECT_OK(abis);
  return abis.ok() ? std::move(*abis) : nullptr;
}

// ---- InMemoryAbis without a store --------------------------------------------

TEST(AbisTest, IdentifyRanksTheMateFirstWithFusedScores) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 40; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  EXPECT_EQ(abis->Count(), 40u);

  for (uint64_t mate : {3u, 17u, 38u}) {
    auto r = abis->Identify(Subject(mate, 2), FullSearch());
    ASSERT_OK(r);
    ASSERT_EQ(r->candidates.size(), 10u);
    EXPECT_EQ(r->candidates[0].subject_id, "S" + std::to_string(mate));
    EXPECT_EQ(r->candidates[0].fingers_compared, 2);
    // Two mated fingers clear FMR 1e-4 together; the best stranger does not.
    EXPECT_GE(r->candidates[0].score, 40);
    EXPECT_LT(r->candidates[1].score, r->candidates[0].score - 10);
    for (size_t i = 1; i < r->candidates.size(); ++i) {
      EXPECT_LE(r->candidates[i].score, r->candidates[i - 1].score) << "rank " << i;
    }
    EXPECT_EQ(r->gallery_subjects, 40u);
    EXPECT_EQ(r->scored_subjects, 40u);
    EXPECT_DOUBLE_EQ(r->penetration, 1.0);
  }
}

TEST(AbisTest, OptionsLimitTheCandidateList) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 12; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  IdentifyOptions o = FullSearch();
  o.max_candidates = 3;
  auto r = abis->Identify(Subject(5, 2), o);
  ASSERT_OK(r);
  EXPECT_EQ(r->candidates.size(), 3u);

  o.max_candidates = 10;
  o.min_score = 40;  // only the mate clears it
  r = abis->Identify(Subject(5, 2), o);
  ASSERT_OK(r);
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].subject_id, "S5");
}

TEST(AbisTest, ProbeWithOneFingerComparesOnlyThatPosition) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 10; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  SubjectRecord probe = Subject(4, 2);
  probe.fingers.erase(probe.fingers.begin());  // keep the left index (7) only
  auto r = abis->Identify(probe, FullSearch());
  ASSERT_OK(r);
  ASSERT_FALSE(r->candidates.empty());
  EXPECT_EQ(r->candidates[0].subject_id, "S4");
  EXPECT_EQ(r->candidates[0].fingers_compared, 1);

  probe.fingers[0].position = 5;  // nobody enrolled position 5
  r = abis->Identify(probe, FullSearch());
  ASSERT_OK(r);
  EXPECT_TRUE(r->candidates.empty());
}

TEST(AbisTest, PrefilterScoresOnlyTheShortlistAndKeepsTheMate) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 200; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  IdentifyOptions o;
  o.threads = 2;
  o.prefilter_keep = 0.1;
  o.min_prefilter_subjects = 10;
  for (uint64_t mate : {7u, 150u, 199u}) {
    auto r = abis->Identify(Subject(mate, 2), o);
    ASSERT_OK(r);
    EXPECT_EQ(r->gallery_subjects, 200u);
    EXPECT_EQ(r->scored_subjects, 20u);
    EXPECT_EQ(r->shortlist.size(), 20u);
    EXPECT_DOUBLE_EQ(r->penetration, 0.1);
    // Only shortlisted subjects are scored, so only they can be candidates.
    ASSERT_EQ(r->candidates.size(), 10u);
    for (const Candidate& c : r->candidates) {
      EXPECT_NE(std::find(r->shortlist.begin(), r->shortlist.end(), c.subject_id), r->shortlist.end());
    }
    // The pre-filter keeps the mate, and full matching ranks it first.
    const std::string id = "S" + std::to_string(mate);
    EXPECT_NE(std::find(r->shortlist.begin(), r->shortlist.end(), id), r->shortlist.end());
    EXPECT_EQ(r->candidates[0].subject_id, id);
  }
  // The floor wins over a tiny share.
  o.prefilter_keep = 0.001;
  auto r = abis->Identify(Subject(1, 2), o);
  ASSERT_OK(r);
  EXPECT_EQ(r->scored_subjects, 10u);
}

// Mates whose edge codes overlap weakly: an early signature (5 neighbours
// per minutia, 2048 codes) ranked them 12th, 16th and 19th of 300 and lost
// them at 2 % (6 subjects).
TEST(AbisTest, PrefilterKeepsMatesWithWeakSignatureOverlap) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 300; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  IdentifyOptions o;
  o.threads = 2;
  o.prefilter_keep = 0.02;
  o.min_prefilter_subjects = 6;
  for (uint64_t mate : {16u, 117u, 139u}) {
    auto r = abis->Identify(Subject(mate, 2), o);
    ASSERT_OK(r);
    ASSERT_EQ(r->shortlist.size(), 6u);
    const std::string id = "S" + std::to_string(mate);
    EXPECT_NE(std::find(r->shortlist.begin(), r->shortlist.end(), id), r->shortlist.end()) << id;
    ASSERT_FALSE(r->candidates.empty());
    EXPECT_EQ(r->candidates[0].subject_id, id);
  }
}

TEST(CohortTest, MeanDropsTheHighestAndNeedsEnoughPrints) {
  std::vector<float> evidence(kCohortMinFingers - 1, 2.0f);
  EXPECT_EQ(CohortMean(evidence), 0.0f);  // too few to normalise by
  evidence.assign(kCohortMinFingers, 0.0f);
  for (size_t i = 0; i < evidence.size(); ++i) evidence[i] = static_cast<float>(i % 4);  // 0 1 2 3 ...
  evidence.insert(evidence.begin(), kCohortTrimmed, 40.0f);  // the finger's own duplicates in the cohort
  EXPECT_FLOAT_EQ(CohortMean(evidence), 1.5f);
}

// A search averages a gallery finger's cohort evidence over the half of the
// cohort most like the probe, after the kCohortTrimmed most like it.
TEST(CohortTest, SelectionTakesTheHalfMostLikeTheProbeAfterItsOwnDuplicates) {
  const size_t n = 40;
  std::vector<float> probe_evidence(n);
  for (size_t k = 0; k < n; ++k) probe_evidence[k] = static_cast<float>(k);  // print k: the (39 - k)-th most like
  std::vector<int16_t> row(n);
  for (size_t k = 0; k < n; ++k) row[k] = QuantiseCohortEvidence(static_cast<float>(k) / 8);
  // Skips prints 39..36, takes the next 20 (35..16): the mean of k / 8 over them.
  EXPECT_FLOAT_EQ(CohortSelection(probe_evidence).MeanOf(row.data()), (35 + 16) / 2.0f / 8);
  // Ties go to the lower index.
  std::vector<float> flat(n, 1.0f);
  EXPECT_FLOAT_EQ(CohortSelection(flat).MeanOf(row.data()), (4 + 23) / 2.0f / 8);
  // Too small a cohort to normalise by.
  probe_evidence.resize(kCohortMinFingers - 1);
  EXPECT_EQ(CohortSelection(probe_evidence).MeanOf(row.data()), 0.0f);
}

TEST(CohortTest, EvidenceIsHeldInEighthStepsAndSaturates) {
  EXPECT_EQ(QuantiseCohortEvidence(1.3f), 10);  // 1.25
  EXPECT_EQ(QuantiseCohortEvidence(-2.0f), -16);
  EXPECT_EQ(QuantiseCohortEvidence(5000.0f), 32767);
  EXPECT_EQ(QuantiseCohortEvidence(-5000.0f), -32768);
}

// The mechanism on one search: the pre-filter keeps 1 of 60 subjects, and
// S7's mate (one finger) wins it while the cohort holds unrelated prints and
// no more copies of S7's enrolled print than the selection skips as the
// probe's own duplicates (kCohortTrimmed). A cohort of nothing but that print
// raises S7's mean evidence over the prints selected, of both the signature
// and the edge pairs, above any other impression's, and the same search
// loses it.
TEST(AbisTest, PrefilterSubtractsEachFingersMeanEvidenceAgainstTheCohort) {
  auto shortlist_with_cohort = [](uint64_t strangers, int own_prints) -> std::vector<std::string> {
    PrefilterSetup setup;
    for (uint64_t s = 100; s < 100 + strangers; ++s) {
      for (FingerSample& f : Subject(s).fingers) setup.cohort.push_back(std::move(f.features));
    }
    for (int i = 0; i < own_prints; ++i) setup.cohort.push_back(Subject(7).fingers[0].features);
    auto abis = InMemoryAbis::Open(nullptr, std::move(setup));
    EXPECT_OK(abis);
    for (uint64_t s = 0; s < 60; ++s) EXPECT_OK((*abis)->Insert(Subject(s)));
    IdentifyOptions o;
    o.prefilter_keep = 0.001;
    o.min_prefilter_subjects = 1;
    o.threads = 1;
    SubjectRecord probe = Subject(7, 2);
    probe.fingers.resize(1);
    auto r = (*abis)->Identify(probe, o);
    EXPECT_OK(r);
    return r.ok() ? r->shortlist : std::vector<std::string>{};
  };
  EXPECT_THAT(shortlist_with_cohort(40, 0), ElementsAre("S7"));
  EXPECT_THAT(shortlist_with_cohort(40, kCohortTrimmed), ElementsAre("S7"));
  EXPECT_THAT(shortlist_with_cohort(0, static_cast<int>(kCohortMinFingers)), Not(ElementsAre("S7")));
}

TEST(AbisTest, DeleteRemovesTheSubject) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 5; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  ASSERT_OK(abis->Delete("S2"));
  EXPECT_EQ(abis->Count(), 4u);
  auto r = abis->Identify(Subject(2, 2), FullSearch());
  ASSERT_OK(r);
  EXPECT_EQ(r->gallery_subjects, 4u);
  EXPECT_EQ(r->candidates.size(), 4u);
  for (const Candidate& c : r->candidates) EXPECT_NE(c.subject_id, "S2");

  EXPECT_THAT(abis->Delete("S2"), StatusIs(StatusCode::kNotFound, HasSubstr("S2 is not enrolled")));
  EXPECT_THAT(abis->Delete("nobody"), StatusIs(StatusCode::kNotFound, HasSubstr("nobody")));
  // The id may be enrolled again after a delete.
  ASSERT_OK(abis->Insert(Subject(2)));
  EXPECT_EQ(abis->Count(), 5u);
  r = abis->Identify(Subject(2, 2), FullSearch());
  ASSERT_OK(r);
  EXPECT_EQ(r->candidates[0].subject_id, "S2");
}

TEST(AbisTest, InsertRefusesDuplicatesAndBadRecords) {
  auto abis = OpenEngine(nullptr);
  ASSERT_OK(abis->Insert(Subject(1)));
  EXPECT_THAT(abis->Insert(Subject(9, 1, "S1")),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("S1 is already enrolled")));

  SubjectRecord bad = Subject(2);
  bad.id = "";
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("1..128 bytes, got 0")));
  bad.id = std::string(129, 'x');
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("got 129")));
  bad = Subject(2);
  bad.fingers.clear();
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("S2 has no fingers")));
  bad = Subject(2);
  bad.fingers[0].position = 0;
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("position 0 is outside 1..10")));
  bad.fingers[0].position = 11;
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("position 11 is outside")));
  bad.fingers[0].position = 7;
  EXPECT_THAT(abis->Insert(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("position 7 repeated")));
  EXPECT_EQ(abis->Count(), 1u);

  // A probe needs no id but must have valid fingers.
  SubjectRecord probe = Subject(1, 2);
  probe.id.clear();
  EXPECT_OK(abis->Identify(probe, FullSearch()));
  probe.fingers[1].position = 12;
  EXPECT_THAT(abis->Identify(probe, FullSearch()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("12")));
  EXPECT_EQ(abis->PendingJobs(), 0u);
}

TEST(AbisTest, IdentifyOnEmptyGalleryReturnsNothing) {
  auto abis = OpenEngine(nullptr);
  auto r = abis->Identify(Subject(1), IdentifyOptions{});
  ASSERT_OK(r);
  EXPECT_TRUE(r->candidates.empty());
  EXPECT_EQ(r->gallery_subjects, 0u);
  EXPECT_EQ(r->penetration, 0.0);
}

// A store whose writes fail: the engine must leave memory unchanged.
class FailingStore : public GalleryStore {
 public:
  Status LoadAll(const std::function<Status(SubjectRecord)>&) override { return Status::Ok(); }
  Status Put(const SubjectRecord&) override { return fail ? Unavailable("disk full") : Status::Ok(); }
  Status Erase(std::string_view) override { return fail ? Unavailable("disk full") : Status::Ok(); }
  bool fail = false;
};

TEST(AbisTest, StoreFailureLeavesMemoryUnchanged) {
  FailingStore store;
  auto abis = OpenEngine(&store);
  ASSERT_OK(abis->Insert(Subject(1)));
  store.fail = true;
  EXPECT_THAT(abis->Insert(Subject(2)), StatusIs(StatusCode::kUnavailable, HasSubstr("disk full")));
  EXPECT_THAT(abis->Delete("S1"), StatusIs(StatusCode::kUnavailable, HasSubstr("disk full")));
  EXPECT_EQ(abis->Count(), 1u);
  store.fail = false;
  ASSERT_OK(abis->Insert(Subject(2)));  // not "already exists"
  EXPECT_EQ(abis->Count(), 2u);
}

TEST(AbisTest, ConcurrentInsertAndIdentify) {
  auto abis = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 10; ++s) ASSERT_OK(abis->Insert(Subject(s)));
  // Build the records first so the threads spend their time in the engine.
  std::vector<SubjectRecord> inserts, probes;
  for (uint64_t s = 10; s < 30; ++s) inserts.push_back(Subject(s));
  for (uint64_t s = 0; s < 10; ++s) probes.push_back(Subject(s, 2));

  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = static_cast<size_t>(w); i < inserts.size(); i += 2) {
        if (!abis->Insert(inserts[i]).ok()) ++failed;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      for (size_t i = 0; i < probes.size(); i += 2) {
        auto result = abis->Identify(probes[(i + static_cast<size_t>(r) * 5) % probes.size()], FullSearch());
        if (!result.ok()) {
          ++failed;
        } else if (result->candidates.empty() ||
                   result->candidates[0].subject_id != "S" + std::to_string((i + static_cast<size_t>(r) * 5) % 10)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(abis->Count(), 30u);
  EXPECT_EQ(abis->PendingJobs(), 0u);
  auto r = abis->Identify(Subject(25, 2), FullSearch());
  ASSERT_OK(r);
  EXPECT_EQ(r->candidates[0].subject_id, "S25");
}

// ---- serialisation and FileGalleryStore ---------------------------------------

TEST(GalleryTest, SubjectEncodingRoundTrips) {
  SubjectRecord s = Subject(3);
  auto back = DecodeSubject(EncodeSubject(s));
  ASSERT_OK(back);
  EXPECT_EQ(back->id, "S3");
  ASSERT_EQ(back->fingers.size(), 2u);
  EXPECT_EQ(back->fingers[0].position, 2);
  EXPECT_EQ(back->fingers[1].position, 7);
  EXPECT_EQ(back->fingers[1].features.size(), s.fingers[1].features.size());

  std::vector<uint8_t> bytes = EncodeSubject(s);
  EXPECT_THAT(DecodeSubject(std::span(bytes).first(bytes.size() - 1)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("S3 truncated in finger 1")));
  EXPECT_THAT(DecodeSubject(std::span(bytes).first(2)), StatusIs(StatusCode::kDataLoss, HasSubstr("in its id")));
  bytes.push_back(0);
  EXPECT_THAT(DecodeSubject(bytes), StatusIs(StatusCode::kDataLoss, HasSubstr("1 extra bytes")));
  EXPECT_THAT(DecodeSubject({}), StatusIs(StatusCode::kDataLoss, HasSubstr("empty")));
}

std::vector<std::string> CandidateIds(InMemoryAbis& abis, const SubjectRecord& probe) {
  auto r = abis.Identify(probe, FullSearch());
  EXPECT_OK(r);
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const Candidate& c : r->candidates) ids.push_back(c.subject_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(GalleryTest, FileStorePersistsInsertsAndDeletes) {
  TempDir dir;
  const std::string path = dir.File("gallery.log");
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    for (uint64_t s = 0; s < 4; ++s) ASSERT_OK(abis->Insert(Subject(s)));
    ASSERT_OK(abis->Delete("S1"));
  }
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    EXPECT_EQ(abis->Count(), 3u);
    EXPECT_THAT(CandidateIds(*abis, Subject(2, 2)), ElementsAre("S0", "S2", "S3"));
    auto r = abis->Identify(Subject(3, 2), FullSearch());
    ASSERT_OK(r);
    EXPECT_EQ(r->candidates[0].subject_id, "S3");
    EXPECT_GE(r->candidates[0].score, 40);
    // Incremental insert after a load, and re-enrolling a deleted id.
    ASSERT_OK(abis->Insert(Subject(1)));
    EXPECT_THAT(abis->Insert(Subject(2)), StatusIs(StatusCode::kAlreadyExists, HasSubstr("S2")));
  }
  auto store = FileGalleryStore::Open(path);
  ASSERT_OK(store);
  auto abis = OpenEngine(store->get());
  EXPECT_EQ(abis->Count(), 4u);
  EXPECT_THAT(CandidateIds(*abis, Subject(0, 2)), ElementsAre("S0", "S1", "S2", "S3"));
}

// The engine draws its cohort from the first fingers it loads, so a restart
// shortlists exactly as before.
TEST(GalleryTest, ReopenedGalleryShortlistsAsBefore) {
  TempDir dir;
  const std::string path = dir.File("gallery.log");
  IdentifyOptions o;
  o.prefilter_keep = 0.05;
  o.min_prefilter_subjects = 1;
  o.threads = 1;
  std::vector<std::vector<std::string>> before;
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    for (uint64_t s = 0; s < 160; ++s) ASSERT_OK(abis->Insert(Subject(s)));
    for (uint64_t probe : {3u, 90u, 159u}) {
      auto r = abis->Identify(Subject(probe, 4), o);
      ASSERT_OK(r);
      ASSERT_EQ(r->shortlist.size(), 8u);
      before.push_back(r->shortlist);
    }
  }
  auto store = FileGalleryStore::Open(path);
  ASSERT_OK(store);
  auto abis = OpenEngine(store->get());
  size_t i = 0;
  for (uint64_t probe : {3u, 90u, 159u}) {
    auto r = abis->Identify(Subject(probe, 4), o);
    ASSERT_OK(r);
    EXPECT_EQ(r->shortlist, before[i++]) << probe;
  }
}

TEST(AbisTest, OpenRefusesACohortTooLargeToIndex) {
  PrefilterSetup setup;
  setup.cohort.assign(EdgePairCohort::kMaxPrints + 1, Subject(1).fingers[0].features);
  EXPECT_THAT(InMemoryAbis::Open(nullptr, std::move(setup)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at most 256 prints, got 257")));
}

// Insert leaves the cohort evidence to FitPendingCohortEvidence (or the next
// search); fitting after every insert, once at the end with four threads, or
// by a search half-way shortlists alike, also while the cohort still grows.
TEST(AbisTest, CohortEvidenceIsTheSameHoweverInsertsAndFitsInterleave) {
  const std::vector<uint64_t> probes = {3, 70, 139};
  auto shortlists = [&](InMemoryAbis& abis) {
    std::vector<std::vector<std::string>> out;
    for (double keep : {0.01, 0.05, 0.2}) {
      IdentifyOptions o;
      o.prefilter_keep = keep;
      o.min_prefilter_subjects = 1;
      o.threads = 1;
      for (uint64_t probe : probes) {
        auto r = abis.Identify(Subject(probe, 4), o);
        EXPECT_OK(r);
        out.push_back(r.ok() ? r->shortlist : std::vector<std::string>{});
      }
    }
    return out;
  };
  auto each = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 140; ++s) {
    ASSERT_OK(each->Insert(Subject(s)));
    each->FitPendingCohortEvidence(1);
  }
  auto at_end = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 140; ++s) ASSERT_OK(at_end->Insert(Subject(s)));
  at_end->FitPendingCohortEvidence(4);
  auto half_way = OpenEngine(nullptr);
  for (uint64_t s = 0; s < 40; ++s) ASSERT_OK(half_way->Insert(Subject(s)));
  ASSERT_OK(half_way->Identify(Subject(1, 2), IdentifyOptions{}));
  for (uint64_t s = 40; s < 140; ++s) ASSERT_OK(half_way->Insert(Subject(s)));
  const auto expected = shortlists(*each);
  EXPECT_EQ(shortlists(*at_end), expected);
  EXPECT_EQ(shortlists(*half_way), expected);
  EXPECT_EQ(expected[0].size(), 1u);  // 1 % of 140
}

TEST(GalleryTest, TornTailIsDroppedAndAppendsContinue) {
  TempDir dir;
  const std::string path = dir.File("gallery.log");
  uintmax_t two_records = 0;
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    ASSERT_OK(abis->Insert(Subject(0)));
    ASSERT_OK(abis->Insert(Subject(1)));
    two_records = std::filesystem::file_size(path);
    ASSERT_OK(abis->Insert(Subject(2)));
  }
  // A crash in the middle of the third record: cut its last 7 bytes.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 7);
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    EXPECT_EQ(abis->Count(), 2u);
    EXPECT_EQ(std::filesystem::file_size(path), two_records);  // the torn bytes are gone
    ASSERT_OK(abis->Insert(Subject(2)));
  }
  // A crash right after the kind byte and part of the length.
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("P\0\0", 3);
  }
  auto store = FileGalleryStore::Open(path);
  ASSERT_OK(store);
  auto abis = OpenEngine(store->get());
  EXPECT_EQ(abis->Count(), 3u);
  EXPECT_THAT(CandidateIds(*abis, Subject(2, 2)), ElementsAre("S0", "S1", "S2"));
}

TEST(GalleryTest, CorruptionBeforeTheTailIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("gallery.log");
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    auto abis = OpenEngine(store->get());
    ASSERT_OK(abis->Insert(Subject(0)));
    ASSERT_OK(abis->Insert(Subject(1)));
  }
  const uintmax_t size = std::filesystem::file_size(path);
  {
    // Flip one byte inside the first record's payload (after kind + length).
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(12);
    char c = 0;
    f.read(&c, 1);
    f.seekp(12);
    c = static_cast<char>(c ^ 0x40);
    f.write(&c, 1);
  }
  auto store = FileGalleryStore::Open(path);
  ASSERT_OK(store);
  EXPECT_THAT(InMemoryAbis::Open(store->get()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("checksum mismatch in record at byte 0")));
  // Nothing was truncated: the evidence stays for an operator.
  EXPECT_EQ(std::filesystem::file_size(path), size);
}

TEST(GalleryTest, UnknownRecordKindIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("gallery.log");
  {
    auto store = FileGalleryStore::Open(path);
    ASSERT_OK(store);
    ASSERT_OK((*store)->Put(Subject(0)));
    ASSERT_OK((*store)->Put(Subject(1)));
  }
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(0);
    f.write("X", 1);
  }
  auto store = FileGalleryStore::Open(path);
  ASSERT_OK(store);
  EXPECT_THAT(InMemoryAbis::Open(store->get()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("unknown record kind at byte 0")));
}

TEST(GalleryTest, OpenFailsForAnUnwritablePath) {
  EXPECT_THAT(FileGalleryStore::Open("/nonexistent-dir/gallery.log"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("cannot open gallery /nonexistent-dir/gallery.log")));
}

}  // namespace
}  // namespace ektp::bio
