// SystemdNotifier: the sd_notify(3) protocol of a `Type=notify` systemd
// service (packaging/ektp-central.service, packaging/ektp-station.service).
//
//   auto notifier = service::SystemdNotifier::Ready("listening on https://...");
//   WaitForStopSignal();
//   notifier.Stopping();
//   server->Stop();
//
// Ready() sends READY=1 (call it only once the process serves: listening, its
// database migrated) and, when systemd set a watchdog for this process
// (WATCHDOG_USEC and WATCHDOG_PID, sd_watchdog_enabled(3)), starts a thread
// that sends WATCHDOG=1 every half period until Stopping() or destruction.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
//
// Thread-safety: Stopping() and the destructor from the thread that called
// Ready(). Errors of the notification socket are ignored: a service must not
// stop because its supervisor cannot be told something.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace ektp::service {

class SystemdNotifier {
 public:
  static SystemdNotifier Ready(std::string_view status);

  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;
  SystemdNotifier(const SystemdNotifier&) = delete;
  ~SystemdNotifier();

  // Sends STOPPING=1 and stops the watchdog pings (the stop that follows may
  // take as long as TimeoutStopSec allows). Idempotent.
  void Stopping();

  // The watchdog ping period: half of WATCHDOG_USEC; zero if no watchdog.
  std::chrono::microseconds watchdog_interval() const { return interval_; }

 private:
  explicit SystemdNotifier(std::chrono::microseconds interval);
  void StopWatchdog();

  std::chrono::microseconds interval_{0};
  bool stopped_ = false;
  // Shared with the watchdog thread; heap-held so the notifier can move.
  struct Watchdog {
    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false;
  };
  std::unique_ptr<Watchdog> watchdog_;
  std::thread thread_;
};

}  // namespace ektp::service
