#include "store/audit_log.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include <nlohmann/json.hpp>

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

std::string AuditCheckpointSignedText(const AuditCheckpoint& checkpoint) {
  std::string text;
  const std::string seq = std::to_string(checkpoint.seq);
  for (std::string_view field : {std::string_view("ektp-audit-checkpoint/1"), std::string_view(seq),
                                 std::string_view(checkpoint.hash), std::string_view(checkpoint.at)}) {
    AppendField(text, field);
  }
  return text;
}

Status VerifyAuditCheckpoint(const AuditCheckpoint& checkpoint, std::span<const uint8_t> central_public_key) {
  if (!crypto::Verify(central_public_key, AuditCheckpointSignedText(checkpoint), checkpoint.signature).ok()) {
    return Unauthenticated("audit checkpoint of entry " + std::to_string(checkpoint.seq) + " signed at " +
                           checkpoint.at + " is not signed by central's key");
  }
  return Status::Ok();
}

nlohmann::json AuditCheckpointToJson(const AuditCheckpoint& checkpoint) {
  return {{"seq", checkpoint.seq},
          {"hash", checkpoint.hash},
          {"at", checkpoint.at},
          {"signature", crypto::Base64Encode(checkpoint.signature)}};
}

StatusOr<AuditCheckpoint> AuditCheckpointFromJson(const nlohmann::json& json) {
  auto field = [&json](const char* name, nlohmann::json::value_t type) -> StatusOr<const nlohmann::json*> {
    auto it = json.is_object() ? json.find(name) : json.end();
    if (it == json.end() || it->type() != type) {
      return InvalidArgument(std::string("audit checkpoint field '") + name + "' is missing or has the wrong type");
    }
    return &*it;
  };
  AuditCheckpoint checkpoint;
  auto seq = json.is_object() ? json.find("seq") : json.end();
  if (seq == json.end() || !seq->is_number_integer() || (seq->is_number_unsigned() && seq->get<uint64_t>() > INT64_MAX) ||
      seq->get<int64_t>() < 0) {
    return InvalidArgument("audit checkpoint field 'seq' is missing or not a non-negative integer");
  }
  checkpoint.seq = seq->get<int64_t>();
  ASSIGN_OR_RETURN(const nlohmann::json* hash, field("hash", nlohmann::json::value_t::string));
  checkpoint.hash = hash->get<std::string>();
  if (checkpoint.hash.size() != 64) return InvalidArgument("audit checkpoint field 'hash' is not a SHA-256 hex digest");
  ASSIGN_OR_RETURN(const nlohmann::json* at, field("at", nlohmann::json::value_t::string));
  checkpoint.at = at->get<std::string>();
  ASSIGN_OR_RETURN(const nlohmann::json* signature, field("signature", nlohmann::json::value_t::string));
  auto decoded = crypto::Base64Decode(signature->get<std::string>());
  if (!decoded.ok()) return InvalidArgument("audit checkpoint field 'signature' is not base64");
  checkpoint.signature = std::move(*decoded);
  return checkpoint;
}

StatusOr<std::vector<AuditCheckpoint>> ParseAuditCheckpointFile(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_array()) {
    return InvalidArgument("a checkpoint file must be a JSON array of checkpoints");
  }
  std::vector<AuditCheckpoint> checkpoints;
  for (const nlohmann::json& item : json) {
    auto checkpoint = AuditCheckpointFromJson(item);
    if (!checkpoint.ok()) {
      return checkpoint.status().WithContext("checkpoint " + std::to_string(checkpoints.size() + 1));
    }
    checkpoints.push_back(std::move(*checkpoint));
  }
  return checkpoints;
}

StatusOr<AuditCheckpoint> AuditLog::Checkpoint(const crypto::SigningKey& central_key) {
  ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, hash FROM audit_head WHERE singleton = 1"));
  if (head.empty()) return DataLoss("audit_head row is missing");
  AuditCheckpoint checkpoint{head[0].Int(0), head[0].Text(1), FormatTimestamp(clock_.Now()), {}};
  checkpoint.signature = central_key.Sign(AuditCheckpointSignedText(checkpoint));
  return checkpoint;
}

StatusOr<AuditVerification> AuditLog::Verify(std::span<const AuditCheckpoint> checkpoints) {
  AuditVerification result;
  // seq -> the checkpoints that vouch for that entry.
  std::multimap<int64_t, const AuditCheckpoint*> pinned;
  for (const AuditCheckpoint& checkpoint : checkpoints) pinned.emplace(checkpoint.seq, &checkpoint);
  result.checkpoints = static_cast<int64_t>(checkpoints.size());
  auto rewritten = [](const AuditCheckpoint& checkpoint) {
    return "entry " + std::to_string(checkpoint.seq) + " does not have the hash the checkpoint signed at " +
           checkpoint.at + " gives it (it or an entry before it was rewritten)";
  };
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
  for (auto [it, end] = pinned.equal_range(0); it != end; ++it) {
    if (it->second->hash != hash) return broken(0, rewritten(*it->second));
  }
  while (true) {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT seq, at, actor, action, subject, detail, prev_hash, hash "
                                          "FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
                                          {expected_seq, head_seq, kVerifyPage}));
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
      for (auto [it, end] = pinned.equal_range(seq); it != end; ++it) {
        if (it->second->hash != hash) return broken(seq, rewritten(*it->second));
      }
      ++result.entries;
      ++expected_seq;
    }
    if (static_cast<int64_t>(rows.size()) < kVerifyPage) break;
  }
  if (!pinned.empty() && pinned.rbegin()->first > result.entries) {
    const AuditCheckpoint& latest = *pinned.rbegin()->second;
    return broken(result.entries + 1, "the log ends at entry " + std::to_string(result.entries) +
                                          " but the checkpoint signed at " + latest.at + " vouches for entry " +
                                          std::to_string(latest.seq) + " (entries deleted from the end?)");
  }
  if (result.entries != head_seq || hash != result.head_hash) {
    return broken(result.entries + 1, "the log ends at entry " + std::to_string(result.entries) +
                                          " but the head says " + std::to_string(head_seq) +
                                          " (entries deleted from the end?)");
  }
  // Entries past the head read above are either appended since (their head
  // update commits with them, so the head read after them covers them) or
  // were inserted without moving the head.
  ASSIGN_OR_RETURN(auto last, db_.Query("SELECT MAX(seq) FROM audit_log"));
  ASSIGN_OR_RETURN(auto head_now, db_.Query("SELECT seq FROM audit_head WHERE singleton = 1"));
  const int64_t last_seq = last.empty() || last[0].IsNull(0) ? 0 : last[0].Int(0);
  if (head_now.empty() || last_seq > head_now[0].Int(0)) {
    return broken(head_seq + 1, "entry " + std::to_string(last_seq) + " is past the head (entry " +
                                    std::to_string(head_now.empty() ? 0 : head_now[0].Int(0)) +
                                    "): it was not appended through the log");
  }
  return result;
}

}  // namespace ektp::store
