#include "store/audit_log.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace ektp::store {
namespace {

const std::string kGenesisHash(64, '0');
constexpr int64_t kVerifyPage = 5000;
// Entries per multi-row INSERT (8 parameters each, well under both backends' limits).
constexpr size_t kColumns = 8;
constexpr size_t kRowsPerInsert = 200;

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string AuditHash(const std::string& prev_hash, int64_t seq, const std::string& at, const AuditEntry& entry) {
  const std::string seq_text = std::to_string(seq);
  std::string message;
  for (const std::string* field : {&prev_hash, &seq_text, &at, &entry.actor, &entry.action, &entry.subject,
                                   &entry.detail}) {
    AppendField(message, *field);
  }
  return crypto::Sha256Hex(message);
}

Status AuditLog::Append(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  const std::string at = FormatTimestamp(clock_.Now());
  return db_.Transact([&]() -> Status {
    const std::string lock = db_.dialect() == Dialect::kPostgres ? " FOR UPDATE" : "";
    ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, hash FROM audit_head WHERE singleton = 1" + lock));
    if (head.empty()) return DataLoss("audit_head row is missing");
    int64_t seq = head[0].Int(0);
    std::string hash = head[0].Text(1);
    std::vector<Value> rows;
    for (const AuditEntry& entry : entries) {
      ++seq;
      const std::string prev = hash;
      hash = AuditHash(prev, seq, at, entry);
      rows.insert(rows.end(), {seq, at, entry.actor, entry.action, entry.subject, entry.detail, prev, hash});
    }
    for (size_t first = 0; first < rows.size(); first += kColumns * kRowsPerInsert) {
      const size_t count = std::min(rows.size() - first, kColumns * kRowsPerInsert) / kColumns;
      std::string sql = "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ";
      for (size_t i = 0; i < count; ++i) sql += i == 0 ? "(?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?)";
      RETURN_IF_ERROR(db_.Exec(sql, std::span<const Value>(rows).subspan(first, count * kColumns)));
    }
    return db_.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE singleton = 1", {seq, hash});
  });
}

StatusOr<AuditVerification> AuditLog::Verify() {
  AuditVerification result;
  auto broken = [&result](int64_t seq, std::string problem) {
    result.intact = false;
    result.broken_at = seq;
    result.problem = std::move(problem);
    return result;
  };
  ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, hash FROM audit_head WHERE singleton = 1"));
  if (head.empty()) return broken(0, "the audit head row is missing");
  const int64_t head_seq = head[0].Int(0);
  result.head_hash = head[0].Text(1);

  int64_t expected_seq = 1;
  std::string hash = kGenesisHash;
  while (true) {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT seq, at, actor, action, subject, detail, prev_hash, hash "
                                          "FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
                                          {expected_seq, kVerifyPage}));
    for (const Row& row : rows) {
      const int64_t seq = row.Int(0);
      if (seq != expected_seq) {
        return broken(expected_seq, "entry " + std::to_string(expected_seq) + " is missing (deleted?); the next is " +
                                        std::to_string(seq));
      }
      if (row.Text(6) != hash) {
        return broken(seq, "entry " + std::to_string(seq) + " does not chain to the entry before it");
      }
      AuditEntry entry{row.Text(2), row.Text(3), row.Text(4), row.Text(5)};
      hash = AuditHash(hash, seq, row.Text(1), entry);
      if (row.Text(7) != hash) {
        return broken(seq, "entry " + std::to_string(seq) + " does not match its hash (edited?)");
      }
      ++result.entries;
      ++expected_seq;
    }
    if (static_cast<int64_t>(rows.size()) < kVerifyPage) break;
  }
  if (result.entries != head_seq || hash != result.head_hash) {
    return broken(result.entries + 1, "the log ends at entry " + std::to_string(result.entries) +
                                          " but the head says " + std::to_string(head_seq) +
                                          " (entries deleted from the end?)");
  }
  return result;
}

}  // namespace ektp::store
