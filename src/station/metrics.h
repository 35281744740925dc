// What an operator of a station sees on GET /metrics besides the HTTP
// server's own families (docs/operations.md, "Metrics", lists every name),
// taken at each scrape from the station's database by its indexes:
//   ektp_station_outbox_packets{state}               pending and parked packets
//   ektp_station_outbox_oldest_pending_age_seconds   0 when nothing is pending
//   ektp_station_last_sync_timestamp_seconds         the last complete sync pass,
//                                                    kept across restarts; absent before the first
//   ektp_station_blanks{state}                       expected, on_hand, used, spoiled (0 where
//                                                    the station does not print)
// and, with an outbox mirror (outbox_mirror.h), from its status:
//   ektp_station_mirror_last_written_timestamp_seconds   the last successful write; absent before one
//   ektp_station_mirror_packets                          pending packets the mirror listed then
//   ektp_station_mirror_failing                          1 while writes fail (the reason: sync status), else 0
//   ektp_station_mirror_failures                         failed writes since the process started
//
// Thread-safety: as `station` (the caller serialises).
#pragma once

#include "core/clock.h"
#include "service/metrics.h"
#include "station/outbox_mirror.h"
#include "station/station.h"

namespace ektp::station {

Status CollectStationMetrics(Station& station, const Clock& clock, service::MetricsRegistry& registry);
void CollectMirrorMetrics(const MirrorStatus& mirror, service::MetricsRegistry& registry);

}  // namespace ektp::station
