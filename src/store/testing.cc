#include "store/testing.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

namespace ektp::store::testing {

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) return "";
  return buffer.data();
}

StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create(const std::string& backend, Schema schema) {
  std::unique_ptr<TestDatabase> db(new TestDatabase());
  db->schema_ = schema;
  db->backend_ = backend;
  if (backend == "sqlite") {
    db->temp_dir_ = MakeTempDir("ektp-test-");
    if (db->temp_dir_.empty()) return Internal("cannot create a temporary directory");
    db->url_ = "sqlite:" + db->temp_dir_ + "/test.db";
  } else if (backend == "postgres") {
    const char* base = std::getenv("EKTP_TEST_PG");
    if (base == nullptr || *base == '\0') {
      return FailedPrecondition(
          "EKTP_TEST_PG is not set: run the tests through scripts/test.sh, which starts a throwaway PostgreSQL");
    }
    static std::atomic<int> counter{0};
    db->pg_name_ = "ektp_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    ASSIGN_OR_RETURN(auto admin, OpenPostgres(std::string(base) + " dbname=postgres"));
    (void)admin->ExecScript("DROP DATABASE IF EXISTS " + db->pg_name_);
    // template0 never has sessions, so concurrent test processes can all copy it.
    RETURN_IF_ERROR(admin->ExecScript("CREATE DATABASE " + db->pg_name_ + " TEMPLATE template0"));
    db->url_ = "pg:" + std::string(base) + " dbname=" + db->pg_name_;
  } else {
    return InvalidArgument("unknown backend " + backend);
  }
  ASSIGN_OR_RETURN(db->connection_, Open(db->url_, schema));
  return db;
}

TestDatabase::~TestDatabase() {
  connection_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
  if (!pg_name_.empty()) {
    auto admin = OpenPostgres(std::string(std::getenv("EKTP_TEST_PG")) + " dbname=postgres");
    if (admin.ok()) (void)(*admin)->ExecScript("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
  }
}

}  // namespace ektp::store::testing
