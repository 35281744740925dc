#include "store/db.h"

#include <charconv>

#include "store/migrations.h"

namespace ektp::store {

int64_t Row::Int(size_t column) const {
  const auto& v = values_.at(column).variant();
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double Row::Real(size_t column) const {
  const auto& v = values_.at(column).variant();
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

std::string Row::Text(size_t column) const {
  const auto& v = values_.at(column).variant();
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  if (auto* b = std::get_if<Blob>(&v)) return std::string(b->begin(), b->end());
  return "";
}

Blob Row::Bytes(size_t column) const {
  const auto& v = values_.at(column).variant();
  if (auto* b = std::get_if<Blob>(&v)) return *b;
  if (auto* s = std::get_if<std::string>(&v)) return Blob(s->begin(), s->end());
  return {};
}

Status InsertRows(Connection& db, std::string_view head, size_t columns, std::span<const Value> values,
                  std::string_view tail, std::vector<Row>* returned) {
  std::string tuple = "(";
  for (size_t col = 0; col < columns; ++col) tuple += col == 0 ? "?" : ", ?";
  tuple += ")";
  const size_t rows = values.size() / columns;
  for (size_t done = 0; done < rows;) {
    size_t chunk = 32;
    while (chunk > rows - done) chunk /= 2;
    std::string sql(head);
    for (size_t row = 0; row < chunk; ++row) sql += (row == 0 ? "" : ", ") + tuple;
    sql += tail;
    auto part = values.subspan(done * columns, chunk * columns);
    if (returned == nullptr) {
      RETURN_IF_ERROR(db.Exec(sql, part));
    } else {
      ASSIGN_OR_RETURN(auto inserted, db.Query(sql, part));
      for (Row& row : inserted) returned->push_back(std::move(row));
    }
    done += chunk;
  }
  return Status::Ok();
}

Status Connection::Transact(const std::function<Status()>& body) {
  if (depth_ > 0) return body();
  constexpr int kAttempts = 5;
  Status status;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    RETURN_IF_ERROR(Begin());
    ++depth_;
    status = body();
    --depth_;
    if (status.ok()) status = Commit();
    if (status.ok()) return status;
    (void)Rollback();
    if (status.code() != StatusCode::kAborted) return status;
  }
  return status;
}

StatusOr<std::unique_ptr<Connection>> Open(std::string_view url, Schema schema) {
  std::unique_ptr<Connection> connection;
  if (url.starts_with("sqlite:")) {
    ASSIGN_OR_RETURN(connection, OpenSqlite(url.substr(7)));
  } else if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    ASSIGN_OR_RETURN(connection, OpenPostgres(url));
  } else if (url.starts_with("pg:")) {
    ASSIGN_OR_RETURN(connection, OpenPostgres(url.substr(3)));
  } else {
    return InvalidArgument("database URL '" + std::string(url) +
                           "' must start with sqlite:, postgresql:// or pg:");
  }
  RETURN_IF_ERROR(ApplyMigrations(*connection, schema));
  return connection;
}

}  // namespace ektp::store
