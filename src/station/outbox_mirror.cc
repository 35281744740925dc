#include "station/outbox_mirror.h"

#include "service/log.h"

namespace ektp::station {

OutboxMirror::OutboxMirror(Station& station, const Clock& clock, std::string dir)
    : station_(station), clock_(clock), dir_(std::move(dir)) {
  status_.dir = dir_;
}

bool OutboxMirror::Refresh() {
  auto sequences = station_.PendingSequences();
  const bool failing = [&] {
    std::lock_guard lock(mu_);
    return !status_.error.empty();
  }();
  if (sequences.ok() && written_ && !failing && *sequences == written_sequences_) return true;
  StatusOr<sync::MirrorWrite> written =
      sequences.ok() ? station_.WriteOutboxMirror(dir_, written_ ? &*written_ : nullptr)
                     : StatusOr<sync::MirrorWrite>(sequences.status());
  const std::string now = FormatTimestamp(clock_.Now());
  std::lock_guard lock(mu_);
  if (!written.ok()) {
    written_.reset();
    ++status_.failures;
    const std::string error = written.status().ToString();
    if (error != status_.error) {
      service::LogWarn("station.mirror_failed", {{"dir", dir_}, {"error", error}});
    }
    if (status_.error.empty()) status_.error_since = now;
    status_.error = error;
    return false;
  }
  if (!status_.error.empty()) {
    service::LogInfo("station.mirror_recovered", {{"dir", dir_}, {"failing_since", status_.error_since}});
  }
  service::LogDebug("station.mirror_written", {{"dir", dir_},
                                               {"packets", written->manifest.packets.size()},
                                               {"sealed", written->sealed},
                                               {"removed", written->removed}});
  // The sequences read before the write: if the outbox changed meanwhile,
  // the next Refresh sees a difference and writes again.
  written_sequences_ = std::move(*sequences);
  status_.packets = static_cast<int64_t>(written->manifest.packets.size());
  written_ = std::move(written->manifest);
  status_.error.clear();
  status_.error_since.clear();
  status_.last_written_at = now;
  return true;
}

MirrorStatus OutboxMirror::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace ektp::station
