// Central's side of the down feed: queues signed items (sync/feed_items.h)
// for stations. The `feed` table it writes is what GET /api/v1/sync/down
// serves (central/ingest.h); item ids follow the order items are queued in.
#pragma once

#include <span>
#include <string>

#include "core/clock.h"
#include "store/db.h"
#include "sync/feed_items.h"

namespace ektp::pipeline {

struct QueuedFeedItem {
  std::string station_id;
  sync::FeedItem item;  // signed by sync::SignFeedItem; its id is ignored
};

// Queues the items in order, inside the caller's transaction if one is open.
Status QueueFeedItems(store::Connection& db, const Clock& clock, std::span<const QueuedFeedItem> items);

}  // namespace ektp::pipeline
