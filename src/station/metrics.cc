#include "station/metrics.h"

namespace ektp::station {

Status CollectStationMetrics(Station& station, const Clock& clock, service::MetricsRegistry& registry) {
  for (OutboxState state : {OutboxState::kPending, OutboxState::kParked}) {
    ASSIGN_OR_RETURN(int64_t packets, station.CountOutbox(state));
    registry
        .GetGauge("ektp_station_outbox_packets", "Outbox packets waiting for central (pending) or refused (parked)",
                  {{"state", std::string(OutboxStateName(state))}})
        .Set(static_cast<double>(packets));
  }
  ASSIGN_OR_RETURN(std::optional<TimePoint> oldest, station.OldestPendingAt());
  const auto age = oldest ? std::chrono::duration_cast<std::chrono::seconds>(clock.Now() - *oldest)
                          : std::chrono::seconds(0);
  registry
      .GetGauge("ektp_station_outbox_oldest_pending_age_seconds",
                "Age of the oldest packet waiting for central (0 when none is pending)")
      .Set(static_cast<double>(std::max<int64_t>(age.count(), 0)));
  ASSIGN_OR_RETURN(std::optional<TimePoint> last_sync, station.LastSyncSuccess());
  if (last_sync) {
    registry
        .GetGauge("ektp_station_last_sync_timestamp_seconds",
                  "End of the last complete sync pass with central, Unix time (kept across restarts)")
        .Set(static_cast<double>(UnixSeconds(*last_sync)));
  }
  ASSIGN_OR_RETURN(BlankCounts blanks, station.Blanks());
  const std::pair<const char*, int64_t> by_state[] = {
      {"expected", blanks.expected}, {"on_hand", blanks.on_hand}, {"used", blanks.used}, {"spoiled", blanks.spoiled}};
  for (const auto& [state, count] : by_state) {
    registry.GetGauge("ektp_station_blanks", "Blank cards at this station by state", {{"state", state}})
        .Set(static_cast<double>(count));
  }
  return Status::Ok();
}

void CollectMirrorMetrics(const MirrorStatus& mirror, service::MetricsRegistry& registry) {
  if (auto written = ParseTimestamp(mirror.last_written_at); written.ok()) {
    registry
        .GetGauge("ektp_station_mirror_last_written_timestamp_seconds",
                  "Last successful write of the outbox mirror on its second device, Unix time")
        .Set(static_cast<double>(UnixSeconds(*written)));
  }
  registry.GetGauge("ektp_station_mirror_packets", "Pending packets the outbox mirror listed at its last write")
      .Set(static_cast<double>(mirror.packets));
  registry.GetGauge("ektp_station_mirror_failing", "1 while writing the outbox mirror fails (see sync status), else 0")
      .Set(mirror.error.empty() ? 0.0 : 1.0);
  registry.GetGauge("ektp_station_mirror_failures", "Failed writes of the outbox mirror since the station started")
      .Set(static_cast<double>(mirror.failures));
}

}  // namespace ektp::station
