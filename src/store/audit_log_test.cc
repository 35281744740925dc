#include "store/audit_log.h"

#include <thread>

#include "core/status_matchers.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::store {
namespace {

using ::ektp::testing::IsOk;
using ::testing::HasSubstr;
using testing::TestDatabase;
using namespace std::chrono;

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    log_ = std::make_unique<AuditLog>(db_->connection(), clock_);
  }

  void AppendSome(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_OK(log_->Append({"admin", "station.approve", "station:ST-" + std::to_string(i), R"({"why":"checked"})"}));
      clock_.Advance(seconds(1));
    }
  }

  AuditVerification Verify() {
    auto verification = log_->Verify();
    EXPECT_THAT(verification, IsOk());
    return verification.ok() ? *verification : AuditVerification{};
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)})};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, EmptyAndAppendedChainsVerify) {
  AuditVerification empty = Verify();
  EXPECT_TRUE(empty.intact);
  EXPECT_EQ(empty.entries, 0);
  EXPECT_EQ(empty.head_hash, std::string(64, '0'));

  AppendSome(5);
  AuditVerification five = Verify();
  EXPECT_TRUE(five.intact) << five.problem;
  EXPECT_EQ(five.entries, 5);
  EXPECT_EQ(five.head_hash.size(), 64u);
  EXPECT_NE(five.head_hash, empty.head_hash);
}

TEST_P(AuditLogTest, LargeBatchIsOneChain) {
  std::vector<AuditEntry> batch;
  for (int i = 0; i < 450; ++i) batch.push_back({"central.ingest", "record.transition", "record:" + std::to_string(i), "{}"});
  ASSERT_OK(log_->Append(batch));
  AppendSome(1);
  AuditVerification result = Verify();
  EXPECT_TRUE(result.intact) << result.problem;
  EXPECT_EQ(result.entries, 451);
}

TEST_P(AuditLogTest, EditedEntryIsDetected) {
  AppendSome(5);
  ASSERT_OK(db_->connection().Exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"));
  AuditVerification result = Verify();
  EXPECT_FALSE(result.intact);
  EXPECT_EQ(result.broken_at, 3);
  EXPECT_THAT(result.problem, HasSubstr("entry 3 does not match its hash"));
}

TEST_P(AuditLogTest, RehashedEditBreaksTheNextLink) {
  AppendSome(5);
  auto rows = db_->connection().Query("SELECT prev_hash, at FROM audit_log WHERE seq = 3");
  ASSERT_OK(rows);
  AuditEntry forged{"mallory", "station.approve", "station:ST-3", R"({"why":"checked"})"};
  std::string forged_hash = AuditHash((*rows)[0].Text(0), 3, (*rows)[0].Text(1), forged);
  ASSERT_OK(db_->connection().Exec("UPDATE audit_log SET actor = 'mallory', hash = ? WHERE seq = 3", {forged_hash}));
  AuditVerification result = Verify();
  EXPECT_FALSE(result.intact);
  EXPECT_EQ(result.broken_at, 4);
  EXPECT_THAT(result.problem, HasSubstr("entry 4 does not chain"));
}

TEST_P(AuditLogTest, DeletedEntriesAreDetected) {
  AppendSome(5);
  ASSERT_OK(db_->connection().Exec("DELETE FROM audit_log WHERE seq = 2"));
  AuditVerification middle = Verify();
  EXPECT_FALSE(middle.intact);
  EXPECT_EQ(middle.broken_at, 2);
  EXPECT_THAT(middle.problem, HasSubstr("entry 2 is missing"));

  ASSERT_OK(db_->connection().Exec("DELETE FROM audit_log WHERE seq >= 2"));
  AuditVerification tail = Verify();
  EXPECT_FALSE(tail.intact);
  EXPECT_THAT(tail.problem, HasSubstr("ends at entry 1 but the head says 5"));
}

TEST_P(AuditLogTest, RolledBackChangeLeavesNoEntry) {
  AppendSome(2);
  Status failed = db_->connection().Transact([&]() -> Status {
    RETURN_IF_ERROR(log_->Append({"admin", "station.revoke", "station:ST-1", "{}"}));
    return InvalidArgument("the change itself failed");
  });
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  AuditVerification result = Verify();
  EXPECT_TRUE(result.intact) << result.problem;
  EXPECT_EQ(result.entries, 2);
}

TEST_P(AuditLogTest, EveryRecordTransitionIsAudited) {
  RecordRepository records(db_->connection(), clock_);
  Record record;
  record.registration_number = "ST-352101-01-000001";
  record.resident_json = "{}";
  auto id = records.Create(record, "central.ingest");
  ASSERT_OK(id);
  ASSERT_OK(records.Transition(*id, RecordState::kReceived, RecordState::kValidated, "central.ingest", "ok"));
  auto rows = db_->connection().Query("SELECT actor, action, subject, detail FROM audit_log ORDER BY seq");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].Text(0), "central.ingest");
  EXPECT_EQ((*rows)[1].Text(1), "record.transition");
  EXPECT_EQ((*rows)[1].Text(2), "record:" + std::to_string(*id));
  EXPECT_EQ((*rows)[1].Text(3), R"({"from":"received","note":"ok","to":"validated"})");
  EXPECT_TRUE(Verify().intact);
}

TEST_P(AuditLogTest, ConcurrentWritersFormOneChain) {
  constexpr int kThreads = 4, kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto connection = db_->Connect();
      ASSERT_OK(connection);
      AuditLog log(**connection, clock_);
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_OK(log.Append({"worker-" + std::to_string(t), "record.transition", "record:" + std::to_string(i), "{}"}));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  AuditVerification result = Verify();
  EXPECT_TRUE(result.intact) << result.problem;
  EXPECT_EQ(result.entries, kThreads * kPerThread);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::ValuesIn(testing::kBackends));

}  // namespace
}  // namespace ektp::store
