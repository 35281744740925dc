#include "faultnet/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>

namespace ektp::faultnet {
namespace {

constexpr size_t kChunkBytes = 16 * 1024;
constexpr size_t kMaxDecisions = 100'000;
// How long a cut waits for the bytes before the cut to be acknowledged by the
// receiver before closing (closing with unread input sends RST, which would
// otherwise discard bytes still queued for sending).
constexpr auto kCutDrainTimeout = std::chrono::milliseconds(500);

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Closes `fd` so that the peer sees a TCP RST.
void AbortClose(int fd) {
  if (fd < 0) return;
  linger lin{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  close(fd);
}

void CloseFd(int fd) {
  if (fd >= 0) close(fd);
}

void Signal(int event_fd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(event_fd, &one, sizeof(one));
}

timespec ToTimespec(std::chrono::nanoseconds d) {
  if (d < std::chrono::nanoseconds::zero()) d = std::chrono::nanoseconds::zero();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  return timespec{static_cast<time_t>(secs.count()), static_cast<long>((d - secs).count())};
}

enum class Wait { kReady, kWoken, kTimeout };

// Waits until `fd` has `events` (or an error/hangup), `wake` is readable, or
// `deadline` passes. fd < 0 waits on `wake` alone.
Wait WaitFor(int fd, short events, int wake,
             std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
  while (true) {
    pollfd fds[2] = {{wake, POLLIN, 0}, {fd, events, 0}};
    nfds_t count = fd >= 0 ? 2 : 1;
    timespec ts;
    timespec* timeout = nullptr;
    if (deadline) {
      auto left = *deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) return Wait::kTimeout;
      ts = ToTimespec(left);
      timeout = &ts;
    }
    int rc = ppoll(fds, count, timeout, nullptr);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Wait::kWoken;  // cannot wait: treat as asked to stop
    }
    if (fds[0].revents != 0) return Wait::kWoken;
    if (count == 2 && fds[1].revents != 0) return Wait::kReady;
    if (rc == 0 && deadline) return Wait::kTimeout;
  }
}

// Sleeps until `deadline`; false if woken first.
bool SleepUntil(int wake, std::chrono::steady_clock::time_point deadline) {
  if (deadline <= std::chrono::steady_clock::now()) return true;
  return WaitFor(-1, 0, wake, deadline) == Wait::kTimeout;
}

enum class Io { kOk, kWoken, kError };

Io SendAll(int fd, const char* data, size_t size, int wake) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, wake) == Wait::kWoken) return Io::kWoken;
      continue;
    }
    return Io::kError;
  }
  return Io::kOk;
}

// Waits (bounded) until every byte sent on `fd` has been acknowledged.
void WaitUntilAcked(int fd) {
  auto deadline = std::chrono::steady_clock::now() + kCutDrainTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int unacked = 0;
    if (ioctl(fd, SIOCOUTQ, &unacked) != 0 || unacked == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool IsProbability(double p) { return p >= 0.0 && p <= 1.0; }  // false for NaN

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPass: return "pass";
    case FaultKind::kCutRequest: return "cut_request";
    case FaultKind::kCutResponse: return "cut_response";
    case FaultKind::kReset: return "reset";
    case FaultKind::kRefuse: return "refuse";
  }
  return "unknown";
}

Status FaultPlan::Validate() const {
  const std::pair<const char*, double> probs[] = {{"cut_request_prob", cut_request_prob},
                                                   {"cut_response_prob", cut_response_prob},
                                                   {"reset_prob", reset_prob},
                                                   {"refuse_prob", refuse_prob},
                                                   {"delay_prob", delay_prob}};
  for (const auto& [name, p] : probs) {
    if (!IsProbability(p)) return InvalidArgument(std::string(name) + " must be in [0, 1], got " + std::to_string(p));
  }
  double exclusive = cut_request_prob + cut_response_prob + reset_prob + refuse_prob;
  if (exclusive > 1.0 + 1e-9) {
    return InvalidArgument("cut_request_prob + cut_response_prob + reset_prob + refuse_prob must be <= 1, got " +
                           std::to_string(exclusive));
  }
  if (cut_min_bytes > cut_max_bytes) {
    return InvalidArgument("cut_min_bytes (" + std::to_string(cut_min_bytes) + ") exceeds cut_max_bytes (" +
                           std::to_string(cut_max_bytes) + ")");
  }
  if (delay < std::chrono::milliseconds::zero()) return InvalidArgument("delay must not be negative");
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// FaultChooser: SplitMix64, fully specified so schedules are stable everywhere.

FaultChooser::FaultChooser(uint64_t seed) : state_(seed) {}

uint64_t FaultChooser::NextWord() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double FaultChooser::NextUnit() { return static_cast<double>(NextWord() >> 11) * 0x1.0p-53; }

FaultDecision FaultChooser::Next(const FaultPlan& plan) {
  const double kind_draw = NextUnit();
  const uint64_t bytes_draw = NextWord();
  const double delay_draw = NextUnit();

  FaultDecision decision;
  decision.connection = count_++;
  double cumulative = 0;
  const std::pair<double, FaultKind> kinds[] = {{plan.cut_request_prob, FaultKind::kCutRequest},
                                                {plan.cut_response_prob, FaultKind::kCutResponse},
                                                {plan.reset_prob, FaultKind::kReset},
                                                {plan.refuse_prob, FaultKind::kRefuse}};
  for (const auto& [prob, kind] : kinds) {
    cumulative += prob;
    if (prob > 0 && kind_draw < cumulative) {
      decision.kind = kind;
      break;
    }
  }
  const uint64_t span = plan.cut_max_bytes - plan.cut_min_bytes;
  decision.after_bytes = plan.cut_min_bytes + (span == UINT64_MAX ? bytes_draw : bytes_draw % (span + 1));
  decision.delayed = delay_draw < plan.delay_prob;
  return decision;
}

// ---------------------------------------------------------------------------
// RateLimiter

RateLimiter::RateLimiter(uint64_t rate_bytes_per_sec, uint64_t burst_bytes) { SetRate(rate_bytes_per_sec, burst_bytes); }

void RateLimiter::SetRate(uint64_t rate_bytes_per_sec, uint64_t burst_bytes) {
  std::lock_guard lock(mu_);
  rate_ = rate_bytes_per_sec;
  if (rate_ == 0) {
    burst_ = Clock::duration::zero();
    return;
  }
  if (burst_bytes == 0) burst_bytes = std::clamp<uint64_t>(rate_ / 100, 1, 16 * 1024);
  burst_ = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(burst_bytes) / static_cast<double>(rate_)));
}

uint64_t RateLimiter::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

RateLimiter::Clock::time_point RateLimiter::Reserve(uint64_t bytes, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (rate_ == 0) return now;
  Clock::time_point start = std::max(next_free_, now - burst_);
  next_free_ = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate_)));
  return next_free_;
}

// ---------------------------------------------------------------------------
// FaultProxy

namespace {
enum class EndReason { kNone, kCut, kReset, kAbort, kDown, kStop };
}  // namespace

struct FaultProxy::Connection {
  int client = -1;
  int server = -1;
  int wake = -1;  // eventfd, readable once End() was called
  FaultDecision decision;
  std::chrono::milliseconds delay{0};
  std::thread owner;
  std::thread down_pump;
  std::atomic<bool> finished{false};

  std::mutex mu;
  EndReason end = EndReason::kNone;
  int cut_fd = -1;  // for kCut: the socket whose sent bytes must reach the peer

  ~Connection() { CloseFd(wake); }

  // Records the first reason the connection ends and wakes both pumps.
  // Returns false if it had already been ended.
  bool End(EndReason reason, int cut = -1) {
    std::lock_guard lock(mu);
    if (end != EndReason::kNone) return false;
    end = reason;
    cut_fd = cut;
    Signal(wake);
    return true;
  }
};

FaultProxy::FaultProxy(FaultProxyOptions options)
    : options_(std::move(options)), plan_(options_.plan), chooser_(options_.seed) {}

FaultProxy::~FaultProxy() { Stop(); }

Status FaultProxy::Start() {
  RETURN_IF_ERROR(options_.plan.Validate());
  if (options_.target_port == 0) return InvalidArgument("target port must be set");
  if (options_.target_host.empty()) return InvalidArgument("target host must be set");
  if (options_.connect_timeout <= std::chrono::milliseconds::zero()) {
    return InvalidArgument("connect timeout must be positive");
  }
  in_addr listen_addr{};
  if (inet_pton(AF_INET, options_.listen_host.c_str(), &listen_addr) != 1) {
    return InvalidArgument("listen host must be a numeric IPv4 address, got '" + options_.listen_host + "'");
  }
  {
    std::lock_guard lock(mu_);
    if (started_) return FailedPrecondition("fault proxy already started");
    started_ = true;
  }

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(Errno("socket"));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr = listen_addr;
  addr.sin_port = htons(options_.listen_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 128) != 0) {
    Status status = Unavailable(Errno("cannot listen on " + options_.listen_host + ":" +
                                      std::to_string(options_.listen_port)));
    close(fd);
    return status;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    Status status = Unavailable(Errno("eventfd"));
    close(fd);
    return status;
  }
  listen_fd_ = fd;
  wake_fd_ = wake;
  port_ = ntohs(addr.sin_port);
  up_limiter_.SetRate(options_.plan.rate_bytes_per_sec);
  down_limiter_.SetRate(options_.plan.rate_bytes_per_sec);
  acceptor_ = std::thread(&FaultProxy::AcceptLoop, this);
  return Status::Ok();
}

void FaultProxy::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  if (wake_fd_ >= 0) Signal(wake_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (auto& conn : connections_) conn->End(EndReason::kStop);
  }
  ReapFinished(/*all=*/true);
  CloseFd(listen_fd_);
  CloseFd(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

Status FaultProxy::SetPlan(const FaultPlan& plan) {
  RETURN_IF_ERROR(plan.Validate());
  std::lock_guard lock(mu_);
  if (plan.rate_bytes_per_sec != plan_.rate_bytes_per_sec) {
    up_limiter_.SetRate(plan.rate_bytes_per_sec);
    down_limiter_.SetRate(plan.rate_bytes_per_sec);
  }
  plan_ = plan;
  return Status::Ok();
}

FaultPlan FaultProxy::plan() const {
  std::lock_guard lock(mu_);
  return plan_;
}

void FaultProxy::SetDown(bool down) {
  std::lock_guard lock(mu_);
  down_ = down;
  if (!down) return;
  for (auto& conn : connections_) {
    if (!conn->finished && conn->End(EndReason::kDown)) ++stats_.cut_by_down;
  }
}

uint64_t FaultProxy::CutLive() {
  std::lock_guard lock(mu_);
  uint64_t cut = 0;
  for (auto& conn : connections_) {
    if (!conn->finished && conn->End(EndReason::kDown)) ++cut;
  }
  stats_.cut_live += cut;
  return cut;
}

bool FaultProxy::down() const {
  std::lock_guard lock(mu_);
  return down_;
}

Stats FaultProxy::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<FaultDecision> FaultProxy::decisions() const {
  std::lock_guard lock(mu_);
  return decisions_;
}

void FaultProxy::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    int rc = poll(fds, 2, 100);
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    ReapFinished(/*all=*/false);
    if (rc > 0 && (fds[1].revents & POLLIN) != 0) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        HandleAccepted(fd);
      } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // out of descriptors: back off, not spin
      }
    }
  }
}

void FaultProxy::HandleAccepted(int fd) {
  std::unique_lock lock(mu_);
  ++stats_.connections;
  if (down_) {
    ++stats_.rejected_while_down;
    lock.unlock();
    AbortClose(fd);
    return;
  }
  FaultDecision decision = chooser_.Next(plan_);
  if (decisions_.size() >= kMaxDecisions) decisions_.erase(decisions_.begin(), decisions_.begin() + kMaxDecisions / 10);
  decisions_.push_back(decision);
  if (decision.kind == FaultKind::kRefuse) {
    ++stats_.refused;
    lock.unlock();
    close(fd);
    return;
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    lock.unlock();
    AbortClose(fd);
    return;
  }
  SetNoDelay(fd);
  auto conn = std::make_unique<Connection>();
  conn->client = fd;
  conn->wake = wake;
  conn->decision = decision;
  conn->delay = plan_.delay;
  if (decision.delayed && plan_.delay > std::chrono::milliseconds::zero()) ++stats_.delayed;
  ++stats_.active;
  Connection* raw = conn.get();
  connections_.push_back(std::move(conn));
  raw->owner = std::thread(&FaultProxy::RunConnection, this, raw);
}

void FaultProxy::ReapFinished(bool all) {
  std::list<std::unique_ptr<Connection>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (all || (*it)->finished) done.splice(done.end(), connections_, it);
      it = next;
    }
  }
  for (auto& conn : done) {
    if (conn->owner.joinable()) conn->owner.join();
  }
}

void FaultProxy::RunConnection(Connection* conn) {
  // Connect to the target, giving up if the connection is ended meanwhile.
  bool woken = false;
  int server = -1;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  std::string port = std::to_string(options_.target_port);
  if (getaddrinfo(options_.target_host.c_str(), port.c_str(), &hints, &results) == 0) {
    auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
    for (addrinfo* ai = results; ai != nullptr && server < 0 && !woken; ai = ai->ai_next) {
      int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        server = fd;
        break;
      }
      if (errno == EINPROGRESS) {
        Wait w = WaitFor(fd, POLLOUT, conn->wake, deadline);
        int error = 0;
        socklen_t len = sizeof(error);
        if (w == Wait::kReady && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
          server = fd;
          break;
        }
        woken = w == Wait::kWoken;
      }
      close(fd);
    }
    freeaddrinfo(results);
  }

  if (server < 0) {
    AbortClose(conn->client);
    conn->client = -1;
    std::lock_guard lock(mu_);
    if (!woken) ++stats_.connect_failures;
    --stats_.active;
    conn->finished = true;
    return;
  }
  SetNoDelay(server);
  conn->server = server;
  conn->down_pump = std::thread(&FaultProxy::Pump, this, conn, Direction::kDown);
  Pump(conn, Direction::kUp);
  conn->down_pump.join();

  EndReason reason;
  int cut_fd;
  {
    std::lock_guard lock(conn->mu);
    reason = conn->end;
    cut_fd = conn->cut_fd;
  }
  switch (reason) {
    case EndReason::kNone:  // both directions reached EOF
      CloseFd(conn->client);
      CloseFd(conn->server);
      break;
    case EndReason::kCut:
      WaitUntilAcked(cut_fd);
      CloseFd(conn->client);
      CloseFd(conn->server);
      break;
    case EndReason::kReset:
    case EndReason::kAbort:
    case EndReason::kDown:
    case EndReason::kStop:
      AbortClose(conn->client);
      AbortClose(conn->server);
      break;
  }
  conn->client = conn->server = -1;
  std::lock_guard lock(mu_);
  --stats_.active;
  conn->finished = true;
}

void FaultProxy::Pump(Connection* conn, Direction direction) {
  const bool up = direction == Direction::kUp;
  const int src = up ? conn->client : conn->server;
  const int dst = up ? conn->server : conn->client;
  RateLimiter& limiter = up ? up_limiter_ : down_limiter_;
  const FaultKind kind = conn->decision.kind;
  const bool limited = up ? (kind == FaultKind::kCutRequest || kind == FaultKind::kReset) : kind == FaultKind::kCutResponse;
  const uint64_t limit = conn->decision.after_bytes;
  const bool delayed = conn->decision.delayed && conn->delay > std::chrono::milliseconds::zero();
  uint64_t forwarded = 0;
  std::vector<char> buffer(kChunkBytes);

  while (true) {
    if (WaitFor(src, POLLIN, conn->wake) != Wait::kReady) return;
    ssize_t n = recv(src, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      conn->End(EndReason::kAbort);  // the peer reset: pass the reset on
      return;
    }
    if (n == 0) {  // EOF: half-close towards the other peer; the other direction goes on
      shutdown(dst, SHUT_WR);
      return;
    }
    uint64_t take = static_cast<uint64_t>(n);
    bool fire = false;
    if (limited && forwarded + take > limit) {
      take = limit - forwarded;
      fire = true;
    }
    if (take > 0) {
      if (delayed && !SleepUntil(conn->wake, std::chrono::steady_clock::now() + conn->delay)) return;
      if (!SleepUntil(conn->wake, limiter.Reserve(take))) return;
      Io io = SendAll(dst, buffer.data(), take, conn->wake);
      if (io == Io::kWoken) return;
      if (io == Io::kError) {
        conn->End(EndReason::kAbort);
        return;
      }
      std::lock_guard lock(mu_);
      (up ? stats_.bytes_client_to_server : stats_.bytes_server_to_client) += take;
    }
    forwarded += take;
    if (fire) {
      // Count before any peer can observe the fault. The owner closes the
      // sockets only after this pump returns.
      const bool reset = kind == FaultKind::kReset;
      if (conn->End(reset ? EndReason::kReset : EndReason::kCut, dst)) {
        std::lock_guard lock(mu_);
        ++(reset ? stats_.reset : up ? stats_.cut_request : stats_.cut_response);
      }
      if (!reset) shutdown(dst, SHUT_WR);  // the receiver sees exactly `limit` bytes, then EOF
      return;
    }
  }
}

}  // namespace ektp::faultnet
