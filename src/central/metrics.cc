#include "central/metrics.h"

#include <map>

#include "core/lifecycle.h"
#include "pipeline/work_queue.h"
#include "service/log.h"

namespace ektp::central {

Status CollectCentralMetrics(store::Connection& db, const Clock& clock, service::MetricsRegistry& registry) {
  // Every state is served, 0 when no record is in it, so a series never vanishes.
  std::map<std::string, int64_t> by_state;
  for (RecordState state : kAllRecordStates) by_state[std::string(RecordStateName(state))] = 0;
  ASSIGN_OR_RETURN(auto states, db.Query("SELECT state, COUNT(*) FROM records GROUP BY state"));
  for (const store::Row& row : states) by_state[row.Text(0)] = row.Int(1);
  for (const auto& [state, count] : by_state) {
    registry.GetGauge("ektp_central_records", "Records at central by lifecycle state", {{"state", state}})
        .Set(static_cast<double>(count));
  }

  for (std::string_view stage : {pipeline::kDemographicsStage, pipeline::kDedupeStage}) {
    int64_t jobs[3] = {};
    const pipeline::JobStatus statuses[] = {pipeline::JobStatus::kReady, pipeline::JobStatus::kLeased,
                                            pipeline::JobStatus::kDead};
    for (size_t status_idx = 0; status_idx < std::size(statuses); ++status_idx) {
      const std::vector<store::Value> params = {std::string(stage), std::string(JobStatusName(statuses[status_idx]))};
      ASSIGN_OR_RETURN(auto rows, db.Query("SELECT COUNT(*) FROM pipeline_jobs WHERE stage = ? AND status = ?", params));
      jobs[status_idx] = rows.at(0).Int(0);
    }
    const service::Labels labels = {{"stage", std::string(stage)}};
    registry.GetGauge("ektp_pipeline_queue_depth", "Pipeline jobs waiting or being worked on, by stage", labels)
        .Set(static_cast<double>(jobs[0] + jobs[1]));
    registry.GetGauge("ektp_pipeline_dead_jobs", "Pipeline jobs that failed every attempt (ektp central pipeline retry)",
                      labels)
        .Set(static_cast<double>(jobs[2]));
  }

  ASSIGN_OR_RETURN(auto open, db.Query("SELECT COUNT(*) FROM adjudications WHERE status = 'open'"));
  registry.GetGauge("ektp_central_adjudication_backlog", "Adjudication cases waiting for a decision")
      .Set(static_cast<double>(open.at(0).Int(0)));

  const TimePoint now = clock.Now();
  ASSIGN_OR_RETURN(auto stations, db.Query("SELECT id, last_contact_at FROM stations WHERE last_contact_at IS NOT NULL "
                                           "ORDER BY id"));
  for (const store::Row& row : stations) {
    auto last = ParseTimestamp(row.Text(1));
    if (!last.ok()) continue;  // written by this code only; a bad one shows as a missing series
    const service::Labels labels = {{"station", row.Text(0)}};
    registry
        .GetGauge("ektp_central_station_last_sync_timestamp_seconds",
                  "When the station last made a signed sync request (written at most once a minute), Unix time", labels)
        .Set(static_cast<double>(UnixSeconds(*last)));
    registry
        .GetGauge("ektp_central_station_sync_lag_seconds", "Seconds since the station last made a signed sync request",
                  labels)
        .Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(now - *last).count()));
  }

  return Status::Ok();
}

void CountUpload(std::string_view station_id, const std::vector<sync::Packet>& packets,
                 const sync::UploadResponse& response) {
  service::MetricsRegistry& registry = service::MetricsRegistry::Default();
  std::map<int64_t, std::string_view> kinds;  // by sequence
  for (const sync::Packet& packet : packets) {
    if (auto envelope = sync::ParseEnvelope(packet.envelope_text); envelope.ok()) {
      kinds[envelope->sequence] = sync::PacketKindName(envelope->kind);
    }
  }
  for (const sync::PacketResult& result : response.results) {
    registry
        .GetCounter("ektp_central_packets_total", "Packets received from stations by verdict",
                    {{"verdict", std::string(sync::VerdictName(result.verdict))}})
        .Increment();
    if (result.verdict == sync::Verdict::kRejected) {
      service::LogWarn("central.packet_rejected",
                       {{"station", station_id}, {"sequence", result.sequence}, {"error", result.error}});
      continue;
    }
    if (result.verdict != sync::Verdict::kAccepted) continue;
    auto kind = kinds.find(result.sequence);
    registry
        .GetCounter("ektp_central_ingested_total", "Packets stored at central, by kind (its rate is the ingest rate)",
                    {{"kind", std::string(kind == kinds.end() ? "unknown" : kind->second)}})
        .Increment();
  }
}

}  // namespace ektp::central
