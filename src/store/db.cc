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
