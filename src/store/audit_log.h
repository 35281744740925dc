// Central's audit log: every record state transition and every decision, in
// one hash chain.
//
// Entry n stores hash_n = SHA-256(hash_{n-1} ‖ seq ‖ at ‖ actor ‖ action ‖
// subject ‖ detail), each field length-prefixed, with hash_0 = 64 zeros. The
// head row (audit_head) keeps the last seq and hash. Appending locks the
// head inside the caller's transaction, so the chain is one total order even
// with many writers and commits or rolls back together with the change it
// describes. Verify() recomputes the chain: an edited entry breaks its own
// hash, a deleted one leaves a gap in seq, a deleted tail no longer reaches
// the head.
//
// Someone who can write the database can still rewrite the table and the
// head consistently. Checkpoints close that: a checkpoint is the head (seq,
// hash) with the time, signed with central's Ed25519 key and kept outside the
// database (in every station's feed and in files). Verify(checkpoints) then
// also requires entry seq to exist with that hash, so truncating below a
// checkpoint or rewriting any entry at or before it is detected. What this
// proves and what it cannot is in docs/security.md.
//
// Thread-safety: like the Connection it uses (one thread at a time).
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/db.h"

namespace ektp::store {

struct AuditEntry {
  std::string actor;    // who: an operator, admin or a system component ("central.ingest")
  std::string action;   // what: "record.transition", "station.approve", ...
  std::string subject;  // on what: "record:42", "station:ST-352101-01"
  std::string detail;   // JSON object with the specifics
};

struct AuditVerification {
  int64_t entries = 0;      // entries checked
  std::string head_hash;    // the head's hash
  bool intact = true;
  int64_t broken_at = 0;    // first bad seq when !intact
  std::string problem;      // why, when !intact
  int64_t checkpoints = 0;  // checkpoints the chain was checked against
};

// The hash an entry at `seq` chained after `prev_hash` must have.
std::string AuditHash(const std::string& prev_hash, int64_t seq, const std::string& at, const AuditEntry& entry);

// The chain head at one moment, signed by central.
struct AuditCheckpoint {
  int64_t seq = 0;          // entries 1..seq are covered
  std::string hash;         // hash of entry seq (64 zeros for seq 0)
  std::string at;           // when it was signed, ISO 8601 UTC
  crypto::Bytes signature;  // central's Ed25519 signature of AuditCheckpointSignedText()
};

// "ektp-audit-checkpoint/1", seq, hash and at, each length-prefixed.
std::string AuditCheckpointSignedText(const AuditCheckpoint& checkpoint);
// kUnauthenticated naming the checkpoint unless `central_public_key` signed it.
Status VerifyAuditCheckpoint(const AuditCheckpoint& checkpoint, std::span<const uint8_t> central_public_key);
// {"seq": N, "hash": "...", "at": "...", "signature": "<base64>"}; the feed item
// body and one element of a checkpoint file.
nlohmann::json AuditCheckpointToJson(const AuditCheckpoint& checkpoint);
// kInvalidArgument naming the field.
StatusOr<AuditCheckpoint> AuditCheckpointFromJson(const nlohmann::json& json);
// A checkpoint file: a JSON array of checkpoints, as written by
// `ektp central audit checkpoint` and `ektp station audit checkpoints`.
StatusOr<std::vector<AuditCheckpoint>> ParseAuditCheckpointFile(std::string_view text);

class AuditLog {
 public:
  // `connection` and `clock` must outlive the log. The central schema must be applied.
  AuditLog(Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Appends `entries` in order. Runs in the caller's transaction when there
  // is one (recommended: the change and its audit commit together).
  Status Append(const std::vector<AuditEntry>& entries);
  Status Append(const AuditEntry& entry) { return Append(std::vector<AuditEntry>{entry}); }

  // Recomputes the chain up to the head as it was when called, and checks it
  // against every checkpoint (whose signatures the caller has verified): entry
  // cp.seq must exist and hash to cp.hash. Safe beside writers: entries they
  // append meanwhile are left to the next call. kOk with intact=false when it
  // is broken; an error only when the log cannot be read.
  StatusOr<AuditVerification> Verify(std::span<const AuditCheckpoint> checkpoints = {});

  // Signs the current head (read in the caller's transaction, if any) with
  // `central_key`, stamped with the clock's time.
  StatusOr<AuditCheckpoint> Checkpoint(const crypto::SigningKey& central_key);

 private:
  Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::store
