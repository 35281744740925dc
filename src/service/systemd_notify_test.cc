#include "service/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ektp::service {
namespace {

using ::testing::StartsWith;

// A datagram socket standing in for systemd's notification socket, named by
// NOTIFY_SOCKET (and the watchdog variables) while it lives.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::optional<int> watchdog_usec) {
    dir_ = std::filesystem::temp_directory_path() / ("ektp-notify-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    const std::string path = (dir_ / "notify").string();
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    if (watchdog_usec) {
      setenv("WATCHDOG_USEC", std::to_string(*watchdog_usec).c_str(), 1);
      setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    }
  }
  ~FakeSystemd() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    std::filesystem::remove_all(dir_);
  }

  // The next message, or "" after 5 s without one.
  std::string Receive() {
    char buffer[4096];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

TEST(SystemdNotifierTest, ReadyThenStoppingWithoutWatchdog) {
  FakeSystemd systemd(std::nullopt);
  SystemdNotifier notifier = SystemdNotifier::Ready("central listening on https://127.0.0.1:8443");
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=central listening on https://127.0.0.1:8443");
  notifier.Stopping();
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
  notifier.Stopping();  // idempotent: nothing more is sent
  SystemdNotifier::Ready("again").Stopping();
  EXPECT_THAT(systemd.Receive(), StartsWith("READY=1\n"));
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
}

TEST(SystemdNotifierTest, PingsTheWatchdogEveryHalfPeriodUntilStopping) {
  FakeSystemd systemd(20'000);  // 20 ms: a ping every 10 ms
  SystemdNotifier notifier = SystemdNotifier::Ready("station listening");
  EXPECT_EQ(notifier.watchdog_interval(), std::chrono::microseconds(10'000));
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=station listening");
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  notifier.Stopping();
  // Pings sent before the stop may still be queued; STOPPING=1 comes last.
  std::string message = systemd.Receive();
  while (message == "WATCHDOG=1") message = systemd.Receive();
  EXPECT_EQ(message, "STOPPING=1");
}

TEST(SystemdNotifierTest, AWatchdogForAnotherProcessIsNotPinged) {
  FakeSystemd systemd(20'000);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  SystemdNotifier notifier = SystemdNotifier::Ready("ready");
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
}

TEST(SystemdNotifierTest, OutsideSystemdEveryCallDoesNothing) {
  unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier = SystemdNotifier::Ready("ready");
  notifier.Stopping();
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
}

}  // namespace
}  // namespace ektp::service
