// PostgreSQL backend over libpq. Statements are prepared once per connection;
// parameters go as text except byte strings, which go as binary; results come
// back as text and are typed by their column's type OID.
#include <libpq-fe.h>

#include <cstring>
#include <unordered_map>

#include "store/db.h"
#include "store/dialect.h"

namespace ektp::store {
namespace {

constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

Blob DecodeBytea(const char* text, int length) {
  Blob out;
  if (length >= 2 && text[0] == '\\' && text[1] == 'x') {
    out.reserve((length - 2) / 2);
    for (int i = 2; i + 1 < length; i += 2) out.push_back(static_cast<uint8_t>(HexValue(text[i]) * 16 + HexValue(text[i + 1])));
  }
  return out;
}

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status ExecScript(std::string_view sql) override {
    RETURN_IF_ERROR(EnsureConnected());
    std::string expanded = internal::ExpandTokens(sql, Dialect::kPostgres);
    Result result(PQexec(conn_, expanded.c_str()));
    return Check(result.get());
  }

 protected:
  Status Begin() override { return ExecScript("BEGIN"); }
  Status Commit() override {
    RETURN_IF_ERROR(EnsureConnected());
    Result result(PQexec(conn_, "COMMIT"));
    RETURN_IF_ERROR(Check(result.get()));
    if (std::strcmp(PQcmdStatus(result.get()), "ROLLBACK") == 0) {
      return Aborted("postgres: transaction was rolled back by an earlier error");
    }
    return Status::Ok();
  }
  Status Rollback() override { return ExecScript("ROLLBACK"); }

 private:
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    if (in_transaction()) return Unavailable("postgres: connection lost inside a transaction");
    PQreset(conn_);
    prepared_.clear();
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Unavailable(std::string("postgres: cannot reconnect: ") + PQerrorMessage(conn_));
    }
    return Status::Ok();
  }

  Status Check(PGresult* result) {
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return Status::Ok();
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    std::string message = "postgres: " + std::string(PQresultErrorMessage(result));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (sqlstate == "23505") return AlreadyExists(message);
    if (sqlstate.starts_with("23")) return FailedPrecondition(message);
    if (sqlstate == "40001" || sqlstate == "40P01") return Aborted(message);
    if (sqlstate.starts_with("08") || sqlstate.starts_with("57") || sqlstate.starts_with("53") ||
        PQstatus(conn_) != CONNECTION_OK) {
      return Unavailable(message);
    }
    if (sqlstate.starts_with("22")) return InvalidArgument(message);
    return Internal(message);
  }

  StatusOr<std::string> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
    std::string name = "ektp_" + std::to_string(prepared_.size() + 1);
    std::string numbered = internal::NumberPlaceholders(sql);
    Result result(PQprepare(conn_, name.c_str(), numbered.c_str(), 0, nullptr));
    RETURN_IF_ERROR(Check(result.get()));
    prepared_.emplace(std::move(key), name);
    return name;
  }

  Status Run(std::string_view sql, std::span<const Value> params, std::vector<Row>* rows) override {
    RETURN_IF_ERROR(EnsureConnected());
    ASSIGN_OR_RETURN(std::string name, Prepare(sql));
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size());
    std::vector<int> formats(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& v = params[i].variant();
      if (std::holds_alternative<std::monostate>(v)) {
        values[i] = nullptr;
      } else if (auto* b = std::get_if<Blob>(&v)) {
        values[i] = reinterpret_cast<const char*>(b->data());
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;
      } else {
        if (auto* s = std::get_if<std::string>(&v)) texts[i] = *s;
        else if (auto* n = std::get_if<int64_t>(&v)) texts[i] = std::to_string(*n);
        else texts[i] = std::to_string(std::get<double>(v));
        values[i] = texts[i].c_str();
        lengths[i] = static_cast<int>(texts[i].size());
      }
    }
    Result result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(),
                                 formats.data(), 0));
    RETURN_IF_ERROR(Check(result.get()));
    if (rows == nullptr) return Status::Ok();
    int columns = PQnfields(result.get());
    int count = PQntuples(result.get());
    rows->reserve(count);
    for (int r = 0; r < count; ++r) {
      std::vector<Value> row;
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result.get(), r, c)) {
          row.emplace_back();
          continue;
        }
        const char* text = PQgetvalue(result.get(), r, c);
        int length = PQgetlength(result.get(), r, c);
        switch (PQftype(result.get(), c)) {
          case kInt2Oid:
          case kInt4Oid:
          case kInt8Oid: row.emplace_back(static_cast<int64_t>(std::strtoll(text, nullptr, 10))); break;
          case kBoolOid: row.emplace_back(int64_t{text[0] == 't' ? 1 : 0}); break;
          case kFloat4Oid:
          case kFloat8Oid:
          case kNumericOid: row.emplace_back(std::strtod(text, nullptr)); break;
          case kByteaOid: row.emplace_back(DecodeBytea(text, length)); break;
          default: row.emplace_back(std::string(text, length)); break;
        }
      }
      rows->emplace_back(std::move(row));
    }
    return Status::Ok();
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace

StatusOr<std::unique_ptr<Connection>> OpenPostgres(std::string_view conninfo) {
  std::string info(conninfo);
  PGconn* conn = PQconnectdb(info.c_str());
  if (conn == nullptr) return Unavailable("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Unavailable("postgres: cannot connect: " + message);
  }
  auto connection = std::make_unique<PostgresConnection>(conn);
  RETURN_IF_ERROR(connection->ExecScript("SET client_min_messages = warning"));
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace ektp::store
