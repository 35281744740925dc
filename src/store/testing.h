// Test databases for both backends, so every repository suite runs on each.
//
// SQLite databases are files in a fresh temporary directory. PostgreSQL
// databases are created fresh in the throwaway cluster that the test command
// (scripts/test.sh) starts; its connection string, without dbname, is in
// EKTP_TEST_PG. Without it, PostgreSQL tests fail rather than skip.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/db.h"

namespace ektp::store::testing {

inline const std::vector<std::string> kBackends = {"sqlite", "postgres"};

// A fresh, migrated, empty database that is dropped when this is destroyed.
class TestDatabase {
 public:
  static StatusOr<std::unique_ptr<TestDatabase>> Create(const std::string& backend,
                                                        Schema schema = Schema::kCentral);
  ~TestDatabase();

  // A URL for Open() that reaches this database, for more connections or processes.
  const std::string& url() const { return url_; }
  Connection& connection() { return *connection_; }
  // Opens another connection to the same database.
  StatusOr<std::unique_ptr<Connection>> Connect() const { return Open(url_, schema_); }

 private:
  TestDatabase() = default;
  std::string backend_;
  Schema schema_ = Schema::kCentral;
  std::string url_;
  std::string temp_dir_;   // sqlite
  std::string pg_name_;    // postgres
  std::unique_ptr<Connection> connection_;
};

// A new empty directory under $TMPDIR, removed by the caller.
std::string MakeTempDir(const std::string& prefix);

}  // namespace ektp::store::testing
