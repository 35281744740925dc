#include "store/dialect.h"

namespace ektp::store::internal {
namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

}  // namespace

std::string ExpandTokens(std::string_view sql, Dialect dialect) {
  std::string out(sql);
  bool pg = dialect == Dialect::kPostgres;
  ReplaceAll(out, "{{id}}", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
  ReplaceAll(out, "{{blob}}", pg ? "BYTEA" : "BLOB");
  constexpr std::string_view kPostgresOnly = "{{postgres:";
  for (size_t start = out.find(kPostgresOnly); start != std::string::npos; start = out.find(kPostgresOnly, start)) {
    size_t end = out.find("}}", start);
    if (end == std::string::npos) break;  // unterminated: left for the database to refuse
    std::string kept = pg ? out.substr(start + kPostgresOnly.size(), end - start - kPostgresOnly.size()) : "";
    out.replace(start, end + 2 - start, kept);
    start += kept.size();
  }
  return out;
}

std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      out += "$" + std::to_string(next++);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace ektp::store::internal
