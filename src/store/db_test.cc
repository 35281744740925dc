#include "store/db.h"

#include <sys/stat.h>

#include <filesystem>

#include "core/status_matchers.h"
#include "store/dialect.h"
#include "store/migrations.h"
#include "store/testing.h"

namespace ektp::store {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using testing::TestDatabase;

class DbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_OK(db_->connection().ExecScript(
        "CREATE TABLE things (id {{id}}, name TEXT UNIQUE, size BIGINT, weight DOUBLE PRECISION, data {{blob}})"));
  }
  Connection& conn() { return db_->connection(); }
  std::unique_ptr<TestDatabase> db_;
};

TEST_P(DbTest, ValuesRoundTrip) {
  Blob bytes = {0x00, 0xff, 0x10, 0x5c, 0x78};
  ASSERT_OK(conn().Exec("INSERT INTO things (name, size, weight, data) VALUES (?, ?, ?, ?)",
                        {"Gunung Kidul 'x' ?", int64_t{9007199254740993}, 2.5, bytes}));
  ASSERT_OK(conn().Exec("INSERT INTO things (name, size, weight, data) VALUES (?, ?, ?, ?)",
                        {"kosong", nullptr, nullptr, nullptr}));
  auto rows = conn().Query("SELECT name, size, weight, data FROM things ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "Gunung Kidul 'x' ?");
  EXPECT_EQ((*rows)[0].Int(1), 9007199254740993);
  EXPECT_DOUBLE_EQ((*rows)[0].Real(2), 2.5);
  EXPECT_EQ((*rows)[0].Bytes(3), bytes);
  EXPECT_TRUE((*rows)[1].IsNull(1));
  EXPECT_TRUE((*rows)[1].IsNull(3));
}

TEST_P(DbTest, QuestionMarkInsideQuotesIsNotAParameter) {
  auto rows = conn().Query("SELECT 'apa?', ?", {"ya"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].Text(0), "apa?");
  EXPECT_EQ((*rows)[0].Text(1), "ya");
}

TEST_P(DbTest, UniqueViolationIsAlreadyExists) {
  ASSERT_OK(conn().Exec("INSERT INTO things (name) VALUES (?)", {"a"}));
  EXPECT_THAT(conn().Exec("INSERT INTO things (name) VALUES (?)", {"a"}),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("things")));
}

TEST_P(DbTest, FailedTransactionLeavesNoTrace) {
  Status status = conn().Transact([&]() -> Status {
    RETURN_IF_ERROR(conn().Exec("INSERT INTO things (name) VALUES (?)", {"half"}));
    return InvalidArgument("operator cancelled");
  });
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument, "operator cancelled"));
  auto rows = conn().Query("SELECT COUNT(*) FROM things");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
}

TEST_P(DbTest, NestedTransactionJoinsTheOuterOne) {
  Status status = conn().Transact([&]() -> Status {
    RETURN_IF_ERROR(conn().Transact([&] { return conn().Exec("INSERT INTO things (name) VALUES ('inner')"); }));
    return Aborted("outer fails after inner succeeded");
  });
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  auto rows = conn().Query("SELECT COUNT(*) FROM things");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
}

TEST_P(DbTest, CommittedDataIsSeenByAnotherConnection) {
  ASSERT_OK(conn().Transact([&] { return conn().Exec("INSERT INTO things (name) VALUES ('shared')"); }));
  auto other = db_->Connect();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto rows = (*other)->Query("SELECT name FROM things");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "shared");
}

// PostgreSQL only: SQLite has no column compression to choose.
TEST(PostgresOnlyTest, LargeColumnsUseLz4) {
  auto db = TestDatabase::Create("postgres");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Connection& conn = (*db)->connection();
  ASSERT_EQ(conn.dialect(), Dialect::kPostgres);
  auto rows = conn.Query(
      "SELECT attrelid::regclass::text || '.' || attname, attcompression FROM pg_attribute "
      "WHERE (attrelid = 'inbox'::regclass AND attname = 'envelope') "
      "OR (attrelid = 'record_biometrics'::regclass AND attname = 'biometrics') ORDER BY 1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "inbox.envelope");
  EXPECT_EQ((*rows)[0].Text(1), "l");
  EXPECT_EQ((*rows)[1].Text(0), "record_biometrics.biometrics");
  EXPECT_EQ((*rows)[1].Text(1), "l");
}

TEST_P(DbTest, MigrationsAreAppliedOnceAndReopenIsIdempotent) {
  auto version = SchemaVersion(conn());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, Migrations(Schema::kCentral).back().version);
  auto again = db_->Connect();  // Open() applies migrations again
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto rows = (*again)->Query("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), static_cast<int64_t>(Migrations(Schema::kCentral).size()));
}

TEST_P(DbTest, AMigrationMissingBelowTheHighestIsAppliedAtTheNextOpen) {
  // Central migration 19 creates enrollment_reviews; take it back out as if
  // the database had been migrated by a build that did not have it yet.
  ASSERT_OK(conn().ExecScript("DROP TABLE enrollment_reviews"));
  ASSERT_OK(conn().Exec("DELETE FROM schema_migrations WHERE version = 19"));
  ASSERT_THAT(conn().Query("SELECT COUNT(*) FROM enrollment_reviews"),
              StatusIs(StatusCode::kInternal, HasSubstr("enrollment_reviews")));
  auto again = db_->Connect();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto rows = (*again)->Query("SELECT COUNT(*) FROM enrollment_reviews");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].Int(0), 0);
  auto recorded = (*again)->Query("SELECT COUNT(*) FROM schema_migrations WHERE version = 19");
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ((*recorded)[0].Int(0), 1);
}

TEST_P(DbTest, SyntaxErrorIsReportedWithTheBackendMessage) {
  EXPECT_THAT(conn().Query("SELEKT 1"), StatusIs(StatusCode::kInternal, HasSubstr("SELEKT")));
}

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::ValuesIn(testing::kBackends),
                         [](const auto& info) { return info.param; });

// The database and its -wal and -shm files are owner-only even under a
// permissive umask.
TEST(SqliteFilesTest, DatabaseWalAndShmAreCreatedOwnerOnly) {
  const std::string dir = testing::MakeTempDir("ektp-mode-");
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/modes.db";
  mode_t previous = umask(022);
  auto db = Open("sqlite:" + path, Schema::kStation);
  umask(previous);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_OK((*db)->ExecScript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);"));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat info {};
    ASSERT_EQ(stat((path + suffix).c_str(), &info), 0) << path << suffix;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << path << suffix;
  }
  db->reset();
  std::filesystem::remove_all(dir);
  EXPECT_THAT(OpenSqlite(dir + "/no/such/dir.db"), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot open")));
}

TEST(DbOpenTest, RefusesUnknownUrlAndUnreachableServer) {
  EXPECT_THAT(Open("mysql://x", Schema::kCentral), StatusIs(StatusCode::kInvalidArgument, HasSubstr("must start with sqlite:")));
  EXPECT_THAT(Open("pg:host=127.0.0.1 port=1 connect_timeout=2", Schema::kCentral),
              StatusIs(StatusCode::kUnavailable, HasSubstr("cannot connect")));
  EXPECT_THAT(Open("sqlite:/nonexistent-dir/x/y.db", Schema::kCentral), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot open")));
}

TEST(DialectTest, Rewrites) {
  EXPECT_EQ(internal::NumberPlaceholders("a = ? AND b = '?' AND c = ?"), "a = $1 AND b = '?' AND c = $2");
  EXPECT_EQ(internal::ExpandTokens("id {{id}}, b {{blob}}", Dialect::kPostgres), "id BIGSERIAL PRIMARY KEY, b BYTEA");
  EXPECT_EQ(internal::ExpandTokens("b {{blob}}", Dialect::kSqlite), "b BLOB");
  std::string_view script = "A;\n{{postgres:B {{blob}};}}\nC;{{postgres:D;}}";
  EXPECT_EQ(internal::ExpandTokens(script, Dialect::kPostgres), "A;\nB BYTEA;\nC;D;");
  EXPECT_EQ(internal::ExpandTokens(script, Dialect::kSqlite), "A;\n\nC;");
}

}  // namespace
}  // namespace ektp::store
