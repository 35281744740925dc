#include "store/record_repository.h"

#include <set>
#include <thread>

#include "core/status_matchers.h"
#include "store/testing.h"

namespace ektp::store {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using testing::TestDatabase;
using namespace std::chrono;

constexpr year_month_day kBorn{year(2009), month(3), day(1)};

class RecordRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    repo_ = std::make_unique<RecordRepository>(db_->connection(), clock_);
  }

  int64_t NewRecord(const std::string& registration) {
    Record record;
    record.registration_number = registration;
    record.resident_json = R"({"name":"BUDI"})";
    auto id = repo_->Create(record, "op:ani");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)})};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<RecordRepository> repo_;
};

TEST_P(RecordRepositoryTest, CreateAndFind) {
  int64_t id = NewRecord("ST01-000001");
  auto record = repo_->Get(id);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->registration_number, "ST01-000001");
  EXPECT_EQ(record->state, RecordState::kReceived);
  EXPECT_EQ(record->nik, "");
  EXPECT_EQ(record->created_at, "2026-11-24T00:00:00Z");
  EXPECT_EQ(repo_->FindByRegistration("ST01-000001")->id, id);
  EXPECT_THAT(repo_->Get(id + 100), StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
  EXPECT_THAT(repo_->FindByNik("3521010103090001"), StatusIs(StatusCode::kNotFound, HasSubstr("3521010103090001")));
}

TEST_P(RecordRepositoryTest, DuplicateRegistrationIsRefused) {
  NewRecord("ST01-000001");
  Record again;
  again.registration_number = "ST01-000001";
  again.resident_json = "{}";
  EXPECT_THAT(repo_->Create(again, "op:ani"), StatusIs(StatusCode::kAlreadyExists, HasSubstr("registration_number")));
}

TEST_P(RecordRepositoryTest, TransitionsAreCheckedAndAudited) {
  int64_t id = NewRecord("ST01-000002");
  ASSERT_OK(repo_->Transition(id, RecordState::kReceived, RecordState::kValidated, "central:ingest", "ok"));
  EXPECT_THAT(repo_->Transition(id, RecordState::kValidated, RecordState::kPrinted, "x", ""),
              StatusIs(StatusCode::kFailedPrecondition, "a record cannot go from validated to printed"));
  // A stale `from` (another worker moved it first) is refused.
  EXPECT_THAT(repo_->Transition(id, RecordState::kReceived, RecordState::kValidated, "x", ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is validated, not received")));
  clock_.Advance(minutes(5));
  ASSERT_OK(repo_->Transition(id, RecordState::kValidated, RecordState::kDedupePending, "central:pipeline", ""));

  auto events = repo_->Events(id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].from, std::nullopt);
  EXPECT_EQ((*events)[0].actor, "op:ani");
  EXPECT_EQ((*events)[1].to, RecordState::kValidated);
  EXPECT_EQ((*events)[2].from, RecordState::kValidated);
  EXPECT_EQ((*events)[2].at, "2026-11-24T00:05:00Z");
  EXPECT_EQ(repo_->Get(id)->state, RecordState::kDedupePending);

  auto counts = repo_->CountByState();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0], std::make_pair(RecordState::kDedupePending, int64_t{1}));
}

// The bulk path writes what Create + Transition would: the record in its
// final state, both events, both audit entries.
TEST_P(RecordRepositoryTest, CreateDecidedWritesWhatCreateAndTransitionWould) {
  int64_t one_by_one = NewRecord("ST01-000010");
  ASSERT_OK(repo_->Transition(one_by_one, RecordState::kReceived, RecordState::kFailedValidation, "central:ingest",
                              "bad village"));
  ASSERT_OK(repo_->SetFailureReason(one_by_one, "bad village"));

  DecidedRecord failed, validated;
  failed.record.registration_number = "ST01-000011";
  failed.record.resident_json = R"({"name":"BUDI"})";
  failed.record.station_id = "ST01";
  failed.record.state = RecordState::kFailedValidation;
  failed.record.failure_reason = "bad village";
  failed.created_by = "op:ani";
  failed.decided_by = "central:ingest";
  failed.note = "bad village";
  validated = failed;
  validated.record.registration_number = "ST01-000012";
  validated.record.state = RecordState::kValidated;
  validated.record.failure_reason = "";
  validated.note = "";
  const DecidedRecord both[] = {failed, validated};
  auto ids = repo_->CreateDecided(both);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 2u);

  auto record = repo_->Get((*ids)[0]);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->registration_number, "ST01-000011");
  EXPECT_EQ(record->state, RecordState::kFailedValidation);
  EXPECT_EQ(record->failure_reason, "bad village");
  EXPECT_EQ(record->failure_reason, repo_->Get(one_by_one)->failure_reason);
  EXPECT_EQ(repo_->Get((*ids)[1])->state, RecordState::kValidated);
  EXPECT_EQ(repo_->Get((*ids)[1])->failure_reason, "");
  EXPECT_EQ(repo_->Get((*ids)[1])->station_id, "ST01");

  auto expected = repo_->Events(one_by_one);
  auto actual = repo_->Events((*ids)[0]);
  ASSERT_TRUE(expected.ok() && actual.ok());
  ASSERT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < actual->size(); ++i) {
    EXPECT_EQ((*actual)[i].from, (*expected)[i].from);
    EXPECT_EQ((*actual)[i].to, (*expected)[i].to);
    EXPECT_EQ((*actual)[i].actor, (*expected)[i].actor);
    EXPECT_EQ((*actual)[i].note, (*expected)[i].note);
  }
  // Two audit entries per record, each path: 4 for the one-by-one record, 4 for the two bulk ones.
  auto audit = AuditLog(db_->connection(), clock_).Verify();
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  EXPECT_EQ(audit->entries, 2 + 4);
}

TEST_P(RecordRepositoryTest, CreateDecidedRefusesAStateNotOneStepFromReceived) {
  DecidedRecord printed;
  printed.record.registration_number = "ST01-000013";
  printed.record.state = RecordState::kPrinted;
  const DecidedRecord one[] = {printed};
  EXPECT_THAT(repo_->CreateDecided(one),
              StatusIs(StatusCode::kFailedPrecondition, "a record cannot go from received to printed"));
  EXPECT_THAT(repo_->FindByRegistration("ST01-000013"), StatusIs(StatusCode::kNotFound, HasSubstr("ST01-000013")));
}

TEST_P(RecordRepositoryTest, CreateDecidedRefusesATakenRegistrationNumber) {
  NewRecord("ST01-000014");
  DecidedRecord again;
  again.record.registration_number = "ST01-000014";
  again.record.state = RecordState::kValidated;
  const DecidedRecord one[] = {again};
  EXPECT_THAT(repo_->CreateDecided(one), StatusIs(StatusCode::kAlreadyExists, HasSubstr("registration_number")));
}

TEST_P(RecordRepositoryTest, FailureReasonIsSetAndCleared) {
  int64_t id = NewRecord("ST01-000015");
  ASSERT_OK(repo_->SetFailureReason(id, "previous NIK is not in the national register"));
  EXPECT_EQ(repo_->Get(id)->failure_reason, "previous NIK is not in the national register");
  ASSERT_OK(repo_->SetFailureReason(id, ""));
  EXPECT_EQ(repo_->Get(id)->failure_reason, "");
  EXPECT_THAT(repo_->SetFailureReason(id + 100, "x"), StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
}

TEST(SqlStateListTest, SpellsTheLifecycleNames) {
  EXPECT_EQ(SqlStateList({RecordState::kPrintReady}), "('print_ready')");
  EXPECT_EQ(SqlStateList({RecordState::kUnique, RecordState::kPrintReady}), "('unique', 'print_ready')");
}

TEST_P(RecordRepositoryTest, AssignsSequentialNiksAndSkipsTakenOnes) {
  int64_t a = NewRecord("R-1"), b = NewRecord("R-2"), c = NewRecord("R-3");
  EXPECT_EQ(*repo_->AssignNik(a, "35.21.01", kBorn, Sex::kMale), "3521010103090001");
  ASSERT_OK(repo_->SetNik(c, "3521010103090002"));  // e.g. a replacement keeps its NIK
  EXPECT_EQ(*repo_->AssignNik(b, "35.21.01", kBorn, Sex::kMale), "3521010103090003");
  EXPECT_THAT(repo_->AssignNik(a, "35.21.01", kBorn, Sex::kMale),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already has NIK 3521010103090001")));
  EXPECT_THAT(repo_->SetNik(b, "3521010103090001"), StatusIs(StatusCode::kAlreadyExists, HasSubstr("belongs to record")));
  EXPECT_EQ(repo_->FindByNik("3521010103090003")->id, b);
}

TEST_P(RecordRepositoryTest, ExhaustedSequenceIsReported) {
  int64_t id = NewRecord("R-9");
  ASSERT_OK(db_->connection().Exec("INSERT INTO nik_counters (prefix, last_sequence) VALUES ('352101010309', 9999)"));
  EXPECT_THAT(repo_->AssignNik(id, "35.21.01", kBorn, Sex::kMale),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("9999 NIK sequences for 352101010309")));
  EXPECT_EQ(repo_->Get(id)->nik, "");
}

TEST_P(RecordRepositoryTest, ConcurrentAssignmentNeverRepeatsANik) {
  constexpr int kThreads = 4, kPerThread = 15;
  std::vector<int64_t> ids;
  for (int i = 0; i < kThreads * kPerThread; ++i) ids.push_back(NewRecord("C-" + std::to_string(i)));
  std::vector<std::string> assigned(ids.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto connection = db_->Connect();
      ASSERT_TRUE(connection.ok()) << connection.status().ToString();
      RecordRepository repo(**connection, clock_);
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        auto nik = repo.AssignNik(ids[i], "35.21.01", kBorn, Sex::kFemale);
        ASSERT_TRUE(nik.ok()) << nik.status().ToString();
        assigned[i] = *nik;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct(assigned.begin(), assigned.end());
  EXPECT_EQ(distinct.size(), ids.size());
  EXPECT_EQ(*distinct.begin(), "3521014103090001");
  EXPECT_EQ(*distinct.rbegin(), "3521014103090060");
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordRepositoryTest, ::testing::ValuesIn(testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::store
