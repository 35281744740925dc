// What an operator of central sees on GET /metrics besides the HTTP server's
// own families (docs/operations.md, "Metrics", lists every name).
//
// Taken at each scrape from the database, each by an index (no scan of
// record_events or the inbox):
//   ektp_central_records{state}                          records by lifecycle state
//   ektp_pipeline_queue_depth{stage}                     jobs ready or leased
//   ektp_pipeline_dead_jobs{stage}                       jobs that failed every attempt
//   ektp_central_adjudication_backlog                    open adjudication cases
//   ektp_central_station_last_sync_timestamp_seconds{station}
//   ektp_central_station_sync_lag_seconds{station}       now - last sync
// Counted as they happen: ektp_central_packets_total{verdict} and
// ektp_central_ingested_total{kind} (CountUpload).
//
// Thread-safety: CollectCentralMetrics may run concurrently on different
// connections; CountUpload is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "service/metrics.h"
#include "store/db.h"
#include "sync/packet.h"

namespace ektp::central {

Status CollectCentralMetrics(store::Connection& db, const Clock& clock, service::MetricsRegistry& registry);

// Counts an upload's verdicts, and its accepted packets by kind, in the
// default registry; logs each rejected packet (central.packet_rejected).
void CountUpload(std::string_view station_id, const std::vector<sync::Packet>& packets,
                 const sync::UploadResponse& response);

}  // namespace ektp::central
