// SQLite backend: WAL journal, synchronous=FULL, foreign keys on, and a
// busy timeout so concurrent writers wait instead of failing at once. A new
// database file is created with mode 0600, and SQLite gives its -wal and
// -shm files the database file's mode, so none is readable by others
// whatever the process's umask.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "store/db.h"
#include "store/dialect.h"

namespace ektp::store {
namespace {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status ExecScript(std::string_view sql) override {
    std::string expanded = internal::ExpandTokens(sql, Dialect::kSqlite);
    char* error = nullptr;
    if (sqlite3_exec(db_, expanded.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      Status status = Error(sqlite3_extended_errcode(db_), error ? error : "unknown error");
      sqlite3_free(error);
      return status;
    }
    return Status::Ok();
  }

 protected:
  Status Begin() override { return ExecScript("BEGIN IMMEDIATE"); }
  Status Commit() override { return ExecScript("COMMIT"); }
  Status Rollback() override { return ExecScript("ROLLBACK"); }

 private:
  static Status Error(int code, std::string_view message) {
    std::string text = "sqlite: " + std::string(message);
    switch (code & 0xff) {
      case SQLITE_CONSTRAINT:
        if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) return AlreadyExists(text);
        return FailedPrecondition(text);
      case SQLITE_BUSY:
      case SQLITE_LOCKED: return Aborted(text);
      case SQLITE_FULL:
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN: return Unavailable(text);
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB: return DataLoss(text);
      default: return Internal(text);
    }
  }

  StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = statements_.find(key); it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      return Error(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
    }
    statements_.emplace(std::move(key), stmt);
    return stmt;
  }

  Status Run(std::string_view sql, std::span<const Value> params, std::vector<Row>* rows) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return Internal("sqlite: statement expects " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                      " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i + 1);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) sqlite3_bind_null(stmt, index);
            else if constexpr (std::is_same_v<T, int64_t>) sqlite3_bind_int64(stmt, index, v);
            else if constexpr (std::is_same_v<T, double>) sqlite3_bind_double(stmt, index, v);
            else if constexpr (std::is_same_v<T, std::string>)
              sqlite3_bind_text(stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
            else sqlite3_bind_blob(stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
          },
          params[i].variant());
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status status = Error(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
        sqlite3_reset(stmt);
        return status;
      }
      if (rows == nullptr) continue;
      int columns = sqlite3_column_count(stmt);
      std::vector<Value> values;
      values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER: values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt, c)); break;
          case SQLITE_TEXT:
            values.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                                            sqlite3_column_bytes(stmt, c)));
            break;
          case SQLITE_BLOB: {
            auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, c));
            values.emplace_back(Blob(data, data + sqlite3_column_bytes(stmt, c)));
            break;
          }
          default: values.emplace_back(); break;
        }
      }
      rows->emplace_back(std::move(values));
    }
    sqlite3_reset(stmt);
    return Status::Ok();
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

StatusOr<std::unique_ptr<Connection>> OpenSqlite(std::string_view path) {
  sqlite3* db = nullptr;
  std::string file(path);
  if (file != ":memory:" && !file.empty()) {
    // O_EXCL: an existing file is never opened here. Closing a descriptor of a
    // file releases every POSIX lock this process holds on it, so opening and
    // closing a database another connection of this process has open would
    // silently drop that connection's SQLite locks.
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return Unavailable("sqlite: cannot open " + file + ": " + std::strerror(errno));
    }
  }
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Unavailable("sqlite: cannot open " + file + ": " + message);
  }
  sqlite3_busy_timeout(db, 10000);
  auto connection = std::make_unique<SqliteConnection>(db);
  RETURN_IF_ERROR(connection->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace ektp::store
