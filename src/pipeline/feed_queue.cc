#include "pipeline/feed_queue.h"

#include <vector>

namespace ektp::pipeline {

Status QueueFeedItems(store::Connection& db, const Clock& clock, std::span<const QueuedFeedItem> items) {
  const std::string now = FormatTimestamp(clock.Now());
  std::vector<store::Value> rows;
  rows.reserve(items.size() * 5);
  for (const QueuedFeedItem& queued : items) {
    rows.insert(rows.end(), {queued.station_id, queued.item.kind, queued.item.body, store::Blob(queued.item.signature),
                             now});
  }
  // One multi-row INSERT numbers its rows in order.
  return store::InsertRows(db, "INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES ", 5, rows);
}

}  // namespace ektp::pipeline
