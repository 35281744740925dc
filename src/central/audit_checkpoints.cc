#include "central/audit_checkpoints.h"

#include <nlohmann/json.hpp>

namespace ektp::central {

StatusOr<store::AuditCheckpoint> PublishAuditCheckpoint(store::Connection& db, const Clock& clock,
                                                        const crypto::SigningKey& central_key) {
  store::AuditCheckpoint checkpoint;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(checkpoint, store::AuditLog(db, clock).Checkpoint(central_key));
    const std::string body = store::AuditCheckpointToJson(checkpoint).dump();
    const crypto::Bytes signature = central_key.Sign(body);
    ASSIGN_OR_RETURN(auto stations, db.Query("SELECT id FROM stations WHERE status = 'approved' ORDER BY id"));
    for (const store::Row& station : stations) {
      RETURN_IF_ERROR(db.Exec("INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES (?, ?, ?, ?, ?)",
                              {station.Text(0), kAuditCheckpointFeedKind, body, signature, checkpoint.at}));
    }
    return Status::Ok();
  }));
  return checkpoint;
}

}  // namespace ektp::central
