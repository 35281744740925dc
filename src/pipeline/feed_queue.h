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
//
// Feed ids become visible in id order, because a station reads `id > its
// cursor` and never looks behind its cursor again. SQLite has one writer at a
// time (BEGIN IMMEDIATE), so its ids commit in order. PostgreSQL draws ids
// from a sequence at insert but shows rows at commit, so two transactions
// queuing at once could commit out of id order, and a station reading between
// the two commits would step over the lower id for good (its records stayed
// `validated` there while central had decided them). On PostgreSQL the insert
// therefore first takes a transaction-scoped advisory lock, held until
// commit: transactions that queue feed items commit one after another, in id
// order, from that point on. A deadlock with a lock taken in the other order
// is detected by PostgreSQL and the transaction retried
// (store::Connection::Transact, kAborted).
Status QueueFeedItems(store::Connection& db, const Clock& clock, std::span<const QueuedFeedItem> items);

}  // namespace ektp::pipeline
