#include "store/audit_log.h"

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::store {
namespace {

using ::ektp::testing::IsOk;
using ::ektp::testing::StatusIs;
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

// Central keeps appending while an operator verifies: every verification
// sees an intact chain up to the head it started from.
TEST_P(AuditLogTest, VerifyingBesideAWriterSeesAnIntactChain) {
  AppendSome(1);
  std::atomic<bool> writing = true;
  std::thread writer([&] {
    auto connection = db_->Connect();
    ASSERT_OK(connection);
    AuditLog log(**connection, clock_);
    for (int i = 0; i < 300; ++i) EXPECT_OK(log.Append({"central.ingest", "record.transition", "record:1", "{}"}));
    writing = false;
  });
  int64_t verified = 0, seen = 0;
  std::string problem;
  while (writing && problem.empty()) {
    AuditVerification result = Verify();
    if (!result.intact) problem = result.problem;
    EXPECT_GE(result.entries, seen);
    seen = result.entries;
    ++verified;
  }
  writer.join();
  EXPECT_EQ(problem, "");
  EXPECT_GT(verified, 0);
  EXPECT_EQ(Verify().entries, 301);
}

TEST_P(AuditLogTest, AnEntryPastTheHeadIsDetected) {
  AppendSome(5);
  ASSERT_OK(db_->connection().Exec(
      "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) "
      "SELECT 6, at, actor, action, subject, detail, hash, hash FROM audit_log WHERE seq = 5"));
  AuditVerification result = Verify();
  EXPECT_FALSE(result.intact);
  EXPECT_EQ(result.broken_at, 6);
  EXPECT_EQ(result.problem, "entry 6 is past the head (entry 5): it was not appended through the log");
}

// Someone with write access to the database rewrites history and recomputes
// every hash after it and the head: the chain alone looks intact, a signed
// checkpoint taken before does not.
class AuditCheckpointTest : public AuditLogTest {
 protected:
  // Rewrites entries from `first` on as `entries`, chaining each after the
  // one before, and points the head at the last, as a forger would.
  void Rewrite(int64_t first, const std::vector<AuditEntry>& entries) {
    Connection& db = db_->connection();
    ASSERT_OK(db.Exec("DELETE FROM audit_log WHERE seq >= ?", {first}));
    auto previous = db.Query("SELECT hash FROM audit_log WHERE seq = ?", {first - 1});
    ASSERT_OK(previous);
    std::string hash = previous->empty() ? std::string(64, '0') : (*previous)[0].Text(0);
    int64_t seq = first - 1;
    for (const AuditEntry& entry : entries) {
      const std::string prev = hash;
      hash = AuditHash(prev, ++seq, "2026-11-24T00:00:09Z", entry);
      ASSERT_OK(db.Exec("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?)",
                        {seq, "2026-11-24T00:00:09Z", entry.actor, entry.action, entry.subject, entry.detail, prev,
                         hash}));
    }
    ASSERT_OK(db.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE singleton = 1", {seq, hash}));
  }

  AuditVerification VerifyAgainst(const std::vector<AuditCheckpoint>& checkpoints) {
    auto verification = log_->Verify(checkpoints);
    EXPECT_THAT(verification, IsOk());
    return verification.ok() ? *verification : AuditVerification{};
  }

  // The forged chain is consistent on its own; `checkpoint` exposes it.
  void ExpectCaughtOnlyByCheckpoint(const AuditCheckpoint& checkpoint, int64_t broken_at, const std::string& problem) {
    AuditVerification alone = Verify();
    EXPECT_TRUE(alone.intact) << alone.problem;
    AuditVerification result = VerifyAgainst({checkpoint});
    EXPECT_FALSE(result.intact);
    EXPECT_EQ(result.broken_at, broken_at);
    EXPECT_EQ(result.problem, problem);
  }

  crypto::SigningKey central_ = crypto::SigningKey::Generate();
};

TEST_P(AuditCheckpointTest, UntamperedChainAgreesWithItsCheckpoints) {
  auto empty = log_->Checkpoint(central_);
  ASSERT_OK(empty);
  AppendSome(3);
  auto three = log_->Checkpoint(central_);
  ASSERT_OK(three);
  AppendSome(2);  // the log grows after a checkpoint: still fine
  EXPECT_EQ(three->seq, 3);
  EXPECT_EQ(three->at, "2026-11-24T00:00:03Z");
  EXPECT_OK(VerifyAuditCheckpoint(*three, central_.public_key()));
  AuditVerification result = VerifyAgainst({*empty, *three});
  EXPECT_TRUE(result.intact) << result.problem;
  EXPECT_EQ(result.entries, 5);
  EXPECT_EQ(result.checkpoints, 2);
}

TEST_P(AuditCheckpointTest, TailTruncationWithARewrittenHeadIsDetected) {
  AppendSome(5);
  auto checkpoint = log_->Checkpoint(central_);
  ASSERT_OK(checkpoint);
  Rewrite(4, {});  // entries 4 and 5 deleted, the head moved back to entry 3
  ExpectCaughtOnlyByCheckpoint(*checkpoint, 4,
                               "the log ends at entry 3 but the checkpoint signed at 2026-11-24T00:00:05Z vouches "
                               "for entry 5 (entries deleted from the end?)");
}

TEST_P(AuditCheckpointTest, RewrittenMiddleRowWithEveryLaterHashRecomputedIsDetected) {
  AppendSome(5);
  auto checkpoint = log_->Checkpoint(central_);
  ASSERT_OK(checkpoint);
  AppendSome(1);
  std::vector<AuditEntry> forged;
  for (int i = 3; i <= 6; ++i) {
    forged.push_back({i == 3 ? "mallory" : "admin", "station.approve", "station:ST-" + std::to_string(i),
                      R"({"why":"checked"})"});
  }
  Rewrite(3, forged);
  ExpectCaughtOnlyByCheckpoint(*checkpoint, 5,
                               "entry 5 does not have the hash the checkpoint signed at 2026-11-24T00:00:05Z gives "
                               "it (it or an entry before it was rewritten)");
}

TEST_P(AuditCheckpointTest, CheckpointsAreSignedAndTheirFilesParsedStrictly) {
  AppendSome(2);
  auto checkpoint = log_->Checkpoint(central_);
  ASSERT_OK(checkpoint);
  AuditCheckpoint moved = *checkpoint;
  moved.seq = 1;
  EXPECT_THAT(VerifyAuditCheckpoint(moved, central_.public_key()),
              StatusIs(StatusCode::kUnauthenticated, "audit checkpoint of entry 1 signed at 2026-11-24T00:00:02Z is "
                                                     "not signed by central's key"));
  EXPECT_THAT(VerifyAuditCheckpoint(*checkpoint, crypto::SigningKey::Generate().public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("is not signed by central's key")));
  nlohmann::json file = nlohmann::json::array({AuditCheckpointToJson(*checkpoint)});
  auto parsed = ParseAuditCheckpointFile(file.dump());
  ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].hash, checkpoint->hash);
  EXPECT_OK(VerifyAuditCheckpoint((*parsed)[0], central_.public_key()));
  EXPECT_THAT(ParseAuditCheckpointFile("{}"),
              StatusIs(StatusCode::kInvalidArgument, "a checkpoint file must be a JSON array of checkpoints"));
  file[0]["seq"] = -1;
  EXPECT_THAT(ParseAuditCheckpointFile(file.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("field 'seq' is missing or not a non-negative integer")));
  file[0]["seq"] = 2;
  file[0]["hash"] = "abc";
  EXPECT_THAT(ParseAuditCheckpointFile(file.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("field 'hash' is not a SHA-256 hex digest")));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditCheckpointTest, ::testing::ValuesIn(testing::kBackends));

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::ValuesIn(testing::kBackends));

}  // namespace
}  // namespace ektp::store
