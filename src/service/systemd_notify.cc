#include "service/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

namespace ektp::service {

SystemdNotifier SystemdNotifier::Ready(std::string_view status) {
  uint64_t watchdog_usec = 0;
  // 0: do not unset the environment, so child processes are not affected.
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0) watchdog_usec = 0;
  sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str());
  return SystemdNotifier(std::chrono::microseconds(watchdog_usec / 2));
}

SystemdNotifier::SystemdNotifier(std::chrono::microseconds interval) : interval_(interval) {
  if (interval_.count() <= 0) return;
  watchdog_ = std::make_unique<Watchdog>();
  thread_ = std::thread([watchdog = watchdog_.get(), interval = interval_] {
    std::unique_lock lock(watchdog->mutex);
    while (!watchdog->wake.wait_for(lock, interval, [watchdog] { return watchdog->stop; })) {
      sd_notify(0, "WATCHDOG=1");
    }
  });
}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : interval_(other.interval_),
      stopped_(other.stopped_),
      watchdog_(std::move(other.watchdog_)),
      thread_(std::move(other.thread_)) {
  other.stopped_ = true;
}

SystemdNotifier::~SystemdNotifier() { StopWatchdog(); }

void SystemdNotifier::Stopping() {
  if (stopped_) return;
  stopped_ = true;
  StopWatchdog();
  sd_notify(0, "STOPPING=1");
}

void SystemdNotifier::StopWatchdog() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(watchdog_->mutex);
    watchdog_->stop = true;
  }
  watchdog_->wake.notify_all();
  thread_.join();
}

}  // namespace ektp::service
