// A thin SQL connection interface with two backends: SQLite (embedded, WAL,
// synchronous=FULL) and PostgreSQL (libpq).
//
// SQL is written once with `?` placeholders; the PostgreSQL backend rewrites
// them to $1, $2, .... Migration scripts may use the tokens {{id}} (an
// auto-increment primary key) and {{blob}} (a byte string column) which each
// backend expands.
//
// Errors map to Status codes callers can act on: a unique-constraint
// violation is kAlreadyExists, a lost connection is kUnavailable, a
// serialization failure or deadlock is kAborted (retry the transaction).
//
// Thread-safety: a Connection is thread-compatible (one thread at a time).
// Open one connection per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace ektp::store {

using Blob = std::vector<uint8_t>;

class Value {
 public:
  using Variant = std::variant<std::monostate, int64_t, double, std::string, Blob>;
  Value() = default;
  Value(std::nullptr_t) {}
  Value(int v) : v_(int64_t{v}) {}
  Value(int64_t v) : v_(v) {}
  Value(double v) : v_(v) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Blob v) : v_(std::move(v)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  const Variant& variant() const { return v_; }

 private:
  Variant v_;
};

// One result row. Accessors convert where it is lossless (an integer column
// read as text gives its decimal form) and REQUIRE the column index to exist.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t column) const { return values_.at(column).is_null(); }
  int64_t Int(size_t column) const;      // 0 for NULL
  double Real(size_t column) const;      // 0 for NULL
  std::string Text(size_t column) const;  // "" for NULL
  Blob Bytes(size_t column) const;        // empty for NULL

 private:
  std::vector<Value> values_;
};

enum class Dialect { kSqlite, kPostgres };

// Central and each station keep different databases with their own schemas.
enum class Schema { kCentral, kStation };

class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // Runs one statement.
  Status Exec(std::string_view sql, std::span<const Value> params) { return Run(sql, params, nullptr); }
  Status Exec(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Exec(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Runs one statement and returns its rows.
  StatusOr<std::vector<Row>> Query(std::string_view sql, std::span<const Value> params) {
    std::vector<Row> rows;
    RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }
  StatusOr<std::vector<Row>> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Runs several statements separated by ';' (no parameters).
  virtual Status ExecScript(std::string_view sql) = 0;

  // Runs `body` in one transaction: commits if it returns OK, rolls back
  // otherwise and returns its Status. A transaction that fails with kAborted
  // (deadlock, serialization, SQLite busy) is retried up to 5 times, so
  // `body` must be safe to run again. Nested calls join the outer transaction.
  Status Transact(const std::function<Status()>& body);

  bool in_transaction() const { return depth_ > 0; }

 protected:
  // Runs one statement of the backend's dialect; appends its rows to `rows` unless it is null.
  virtual Status Run(std::string_view sql, std::span<const Value> params, std::vector<Row>* rows) = 0;
  // Starts a write transaction (SQLite: BEGIN IMMEDIATE).
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

 private:
  int depth_ = 0;
};

// Inserts rows of `columns` values each (`values` holds them row after row)
// with multi-row INSERTs of at most 32 rows, in chunks of 32, 16, ..., 1 rows
// so that few distinct statements are prepared; rows are inserted in order.
// `head` is "INSERT INTO t (a, b) VALUES "; `tail` may add a RETURNING clause,
// whose rows are appended to `returned`.
Status InsertRows(Connection& db, std::string_view head, size_t columns, std::span<const Value> values,
                  std::string_view tail = "", std::vector<Row>* returned = nullptr);

// Opens a database by URL:
//   sqlite:/path/to/file.db   (created if missing, mode 0600)
//   sqlite::memory:
//   postgresql://user@host:port/dbname?...   (any libpq connection URI)
//   pg:host=/run/x port=5432 dbname=ektp      (libpq keyword/value form)
// and applies the embedded migrations of `schema` (migrations.h).
StatusOr<std::unique_ptr<Connection>> Open(std::string_view url, Schema schema);

// Backend constructors without migrations, for tests and tools.
StatusOr<std::unique_ptr<Connection>> OpenSqlite(std::string_view path);
StatusOr<std::unique_ptr<Connection>> OpenPostgres(std::string_view conninfo);

}  // namespace ektp::store
