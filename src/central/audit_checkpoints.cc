#include "central/audit_checkpoints.h"

#include "pipeline/feed_queue.h"

namespace ektp::central {

StatusOr<store::AuditCheckpoint> PublishAuditCheckpoint(store::Connection& db, const Clock& clock,
                                                        const crypto::SigningKey& central_key) {
  store::AuditCheckpoint checkpoint;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(checkpoint, store::AuditLog(db, clock).Checkpoint(central_key));
    const sync::FeedItem item = sync::SignFeedItem({sync::FeedKind::kAuditCheckpoint, checkpoint}, central_key);
    ASSIGN_OR_RETURN(auto stations, db.Query("SELECT id FROM stations WHERE status = 'approved' ORDER BY id"));
    std::vector<pipeline::QueuedFeedItem> items;
    for (const store::Row& station : stations) items.push_back({station.Text(0), item});
    return pipeline::QueueFeedItems(db, clock, items);
  }));
  return checkpoint;
}

}  // namespace ektp::central
