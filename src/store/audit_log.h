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
// the head. (Someone who can rewrite the whole table and the head can forge a
// new chain; publishing the head hash elsewhere closes that.)
//
// Thread-safety: like the Connection it uses (one thread at a time).
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
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
};

// The hash an entry at `seq` chained after `prev_hash` must have.
std::string AuditHash(const std::string& prev_hash, int64_t seq, const std::string& at, const AuditEntry& entry);

class AuditLog {
 public:
  // `connection` and `clock` must outlive the log. The central schema must be applied.
  AuditLog(Connection& connection, const Clock& clock) : db_(connection), clock_(clock) {}

  // Appends `entries` in order. Runs in the caller's transaction when there
  // is one (recommended: the change and its audit commit together).
  Status Append(const std::vector<AuditEntry>& entries);
  Status Append(const AuditEntry& entry) { return Append(std::vector<AuditEntry>{entry}); }

  // Recomputes the whole chain. kOk with intact=false when it is broken;
  // an error only when the log cannot be read.
  StatusOr<AuditVerification> Verify();

 private:
  Connection& db_;
  const Clock& clock_;
};

}  // namespace ektp::store
