// Publishing central's audit checkpoints (store/audit_log.h) outside its
// database: each checkpoint goes down the feed of every approved station,
// which keeps it (station/station.h), and `ektp central audit checkpoint`
// also writes it to a file. docs/security.md says what they prove.
#pragma once

#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/audit_log.h"
#include "store/db.h"

namespace ektp::central {

// Signs the audit head with `central_key` and appends the checkpoint as an
// "audit_checkpoint" feed item (sync/feed_items.h) for every approved station, in one transaction. Returns it.
StatusOr<store::AuditCheckpoint> PublishAuditCheckpoint(store::Connection& db, const Clock& clock,
                                                        const crypto::SigningKey& central_key);

}  // namespace ektp::central
