#include "pipeline/feed_queue.h"

#include <vector>

namespace ektp::pipeline {

namespace {

// The advisory lock that orders feed ids on PostgreSQL (feed_queue.h).
constexpr int64_t kFeedOrderLock = 7368506;

}  // namespace

Status QueueFeedItems(store::Connection& db, const Clock& clock, std::span<const QueuedFeedItem> items) {
  if (items.empty()) return Status::Ok();
  const std::string now = FormatTimestamp(clock.Now());
  std::vector<store::Value> rows;
  rows.reserve(items.size() * 5);
  for (const QueuedFeedItem& queued : items) {
    rows.insert(rows.end(), {queued.station_id, queued.item.kind, queued.item.body, store::Blob(queued.item.signature),
                             now});
  }
  // One multi-row INSERT numbers its rows in order.
  auto insert = [&] {
    return store::InsertRows(db, "INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES ", 5, rows);
  };
  if (db.dialect() != store::Dialect::kPostgres) return insert();
  return db.Transact([&]() -> Status {
    RETURN_IF_ERROR(db.Query("SELECT pg_advisory_xact_lock(?)", {kFeedOrderLock}).status());
    return insert();
  });
}

}  // namespace ektp::pipeline
