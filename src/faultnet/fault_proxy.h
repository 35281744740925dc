// FaultProxy: a fault-injecting TCP proxy for fault tests and link benchmarks.
//
// The proxy listens on a local port and forwards every accepted connection to
// one target host:port, in both directions. For each accepted connection it
// draws one FaultDecision from a seeded generator according to the current
// FaultPlan, so the schedule of faults is a pure function of (seed, plan,
// connection order). Faults:
//
//   kPass         bytes are forwarded unchanged until either side closes.
//   kCutRequest   the first `after_bytes` bytes of the client->server stream
//                 reach the server, then the server sees EOF (FIN) and the
//                 client sees EOF or ECONNRESET. The cut fires only when the
//                 client sends more than `after_bytes` bytes; a shorter stream
//                 passes untouched and no fault is counted.
//   kCutResponse  the same on the server->client stream: the server has
//                 received the whole request (it is forwarded unchanged) and
//                 the client receives exactly the first `after_bytes` bytes
//                 of the response, then EOF or ECONNRESET.
//   kReset        once the client->server stream passes `after_bytes` bytes,
//                 both sockets are closed with SO_LINGER 0, so both peers see
//                 a TCP RST (ECONNRESET).
//   kRefuse       the connection is accepted and closed at once, before
//                 anything is forwarded; the target never sees it.
//
// Independently of the kind, a connection is `delayed` with probability
// `delay_prob`: each chunk it forwards, in either direction, waits `delay`
// first. And every byte forwarded, by any connection, passes through one
// token bucket per direction of `rate_bytes_per_sec`, so the proxy models a
// single link of that bandwidth shared by all its connections.
//
// SetDown(true) simulates a link outage: existing connections are closed with
// RST and new ones are accepted and reset at once, until SetDown(false).
// CutLive() cuts the connections that are open right now, wherever they are
// in their streams, and leaves the link up: a kept-alive connection (a
// station's to central) is cut between or inside its requests, which the
// per-connection decisions, drawn once at accept, reach only when its byte
// count crosses the drawn point.
//
// Threads: one acceptor thread, plus two per live connection. Every public
// method is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace ektp::faultnet {

enum class FaultKind { kPass, kCutRequest, kCutResponse, kReset, kRefuse };

// "pass", "cut_request", "cut_response", "reset", "refuse".
std::string_view FaultKindName(FaultKind kind);

struct FaultPlan {
  // Probabilities of the exclusive kinds; each in [0, 1] and their sum <= 1.
  // The rest of the probability mass is kPass.
  double cut_request_prob = 0;
  double cut_response_prob = 0;
  double reset_prob = 0;
  double refuse_prob = 0;
  // Cut and reset points are drawn uniformly from [min, max] bytes.
  uint64_t cut_min_bytes = 0;
  uint64_t cut_max_bytes = 4096;
  // Probability that a connection is delayed, and the wait before each chunk.
  double delay_prob = 0;
  std::chrono::milliseconds delay{0};
  // Bandwidth of the link in bytes per second, in each direction; 0 = unlimited.
  uint64_t rate_bytes_per_sec = 0;

  // InvalidArgument if a probability is outside [0, 1], the exclusive ones sum
  // to more than 1, cut_min_bytes > cut_max_bytes or delay is negative.
  Status Validate() const;
};

// What the proxy decided for one connection.
struct FaultDecision {
  uint64_t connection = 0;  // 0-based, in accept order (connections rejected while down are not numbered)
  FaultKind kind = FaultKind::kPass;
  uint64_t after_bytes = 0;  // meaningful for kCutRequest, kCutResponse, kReset
  bool delayed = false;

  bool operator==(const FaultDecision&) const = default;
};

// The deterministic generator behind the schedule: the n-th call to Next()
// depends only on the seed and the plans passed to the n calls so far.
// Every call consumes exactly three draws, whatever the plan.
// Not thread-safe; FaultProxy serialises its use.
class FaultChooser {
 public:
  explicit FaultChooser(uint64_t seed);
  // REQUIRES: plan.Validate().ok()
  FaultDecision Next(const FaultPlan& plan);

 private:
  uint64_t NextWord();
  double NextUnit();  // uniform in [0, 1)

  uint64_t state_;
  uint64_t count_ = 0;
};

// A token bucket shaped as a serial link: Reserve(n) books n bytes on the link
// and returns when they will have passed. An idle link banks at most
// `burst_bytes` of credit (default: 10 ms worth, at most 16 KiB, at least 1).
// Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_bytes_per_sec == 0 means unlimited.
  explicit RateLimiter(uint64_t rate_bytes_per_sec = 0, uint64_t burst_bytes = 0);
  // Changes the rate; bookings already made are kept, new ones use the new rate.
  void SetRate(uint64_t rate_bytes_per_sec, uint64_t burst_bytes = 0);
  uint64_t rate() const;
  // The time at which `bytes` will have crossed the link when booked at `now`.
  // Returns `now` when unlimited. Callers wait until the returned time.
  Clock::time_point Reserve(uint64_t bytes, Clock::time_point now = Clock::now());

 private:
  mutable std::mutex mu_;
  uint64_t rate_ = 0;
  Clock::duration burst_{};
  Clock::time_point next_free_{};
};

struct FaultProxyOptions {
  std::string listen_host = "127.0.0.1";  // numeric IPv4 address
  uint16_t listen_port = 0;               // 0 = pick a free port; see FaultProxy::port()
  std::string target_host = "127.0.0.1";  // name or address; resolved at each connection
  uint16_t target_port = 0;               // REQUIRED: non-zero
  uint64_t seed = 1;
  FaultPlan plan;
  std::chrono::milliseconds connect_timeout{5000};  // to the target; on failure the client is reset
};

struct Stats {
  uint64_t connections = 0;  // accepted, all kinds, including those rejected while down
  uint64_t active = 0;       // currently forwarding
  uint64_t bytes_client_to_server = 0;  // delivered to the target
  uint64_t bytes_server_to_client = 0;  // delivered to clients
  // Faults actually injected (a cut whose point the stream never reached is not counted).
  uint64_t cut_request = 0;
  uint64_t cut_response = 0;
  uint64_t reset = 0;
  uint64_t refused = 0;
  uint64_t delayed = 0;              // connections whose chunks were delayed
  uint64_t rejected_while_down = 0;  // new connections reset because the link was down
  uint64_t cut_by_down = 0;          // live connections reset by SetDown(true)
  uint64_t cut_live = 0;             // live connections reset by CutLive()
  uint64_t connect_failures = 0;     // target unreachable; the client was reset

  uint64_t faults() const { return cut_request + cut_response + reset + refused; }
};

class FaultProxy {
 public:
  explicit FaultProxy(FaultProxyOptions options);
  // Calls Stop().
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Validates the options, binds and starts accepting.
  // InvalidArgument for bad options, Unavailable if the port cannot be bound,
  // FailedPrecondition if called twice.
  Status Start();
  // The bound port. REQUIRES: Start() succeeded.
  uint16_t port() const { return port_; }

  // Closes the listener and every connection (with RST) and joins all threads.
  // Idempotent; Start() cannot be called again afterwards.
  void Stop();

  // Replaces the plan for connections accepted from now on; the rate limit
  // changes at once for all connections. InvalidArgument if !plan.Validate().ok().
  Status SetPlan(const FaultPlan& plan);
  FaultPlan plan() const;

  // down == true: resets every live connection and resets new ones on accept.
  // down == false: forwards new connections again.
  void SetDown(bool down);
  bool down() const;

  // Resets (RST to both peers) every connection forwarding now, mid-stream or
  // idle between kept-alive requests; new connections are accepted as usual.
  // Returns how many were cut.
  uint64_t CutLive();

  Stats stats() const;
  // Decisions in accept order (the most recent 100,000).
  std::vector<FaultDecision> decisions() const;

 private:
  struct Connection;
  enum class Direction { kUp, kDown };

  void AcceptLoop();
  void RunConnection(Connection* conn);
  void Pump(Connection* conn, Direction direction);
  void ReapFinished(bool all);
  void HandleAccepted(int fd);

  const FaultProxyOptions options_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd; readable once Stop() was called
  std::thread acceptor_;

  mutable std::mutex mu_;  // guards everything below
  bool started_ = false;
  bool stopping_ = false;
  bool down_ = false;
  FaultPlan plan_;
  FaultChooser chooser_;
  Stats stats_;
  std::vector<FaultDecision> decisions_;
  std::list<std::unique_ptr<Connection>> connections_;

  RateLimiter up_limiter_;
  RateLimiter down_limiter_;
};

}  // namespace ektp::faultnet
