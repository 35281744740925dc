#include "faultnet/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::faultnet {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// ----- loopback helpers ------------------------------------------------------

std::string Pattern(size_t size, uint32_t seed = 1) {
  std::string data(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : data) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

void SendAllOrIgnore(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

struct ReadResult {
  std::string data;
  int error = 0;  // 0: clean EOF; otherwise the errno that ended the read (EAGAIN: timed out)
};

// Reads until EOF, error or the 5 s receive timeout, or until `limit` bytes.
ReadResult ReadUntilClosed(int fd, size_t limit = SIZE_MAX) {
  ReadResult result;
  char buffer[8192];
  while (result.data.size() < limit) {
    ssize_t n = recv(fd, buffer, std::min(sizeof(buffer), limit - result.data.size()), 0);
    if (n > 0) {
      result.data.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return result;
    } else if (errno != EINTR) {
      result.error = errno;
      return result;
    }
  }
  return result;
}

// A blocking client socket connected to 127.0.0.1:port, with 5 s I/O timeouts.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Send(std::string_view data) { SendAllOrIgnore(fd_, data); }
  void CloseWrite() { shutdown(fd_, SHUT_WR); }
  ReadResult Read(size_t limit = SIZE_MAX) { return ReadUntilClosed(fd_, limit); }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// A loopback TCP server running `handler` on each accepted connection in its
// own thread; `handler` may record what it received with Record().
class TestServer {
 public:
  using Handler = std::function<void(int fd, TestServer& server)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      while (true) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          return;
        }
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        std::lock_guard lock(mu_);
        ++accepted_;
        workers_.emplace_back([this, fd] {
          handler_(fd, *this);
          close(fd);
        });
      }
    });
  }

  ~TestServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (std::thread& worker : workers_) worker.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  void Record(std::string data) {
    std::lock_guard lock(mu_);
    recorded_.push_back(std::move(data));
  }
  std::vector<std::string> recorded() {
    std::lock_guard lock(mu_);
    return recorded_;
  }
  int accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }

  // Echoes every byte until EOF, then closes.
  static void Echo(int fd, TestServer&) {
    char buffer[8192];
    while (true) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      SendAllOrIgnore(fd, std::string_view(buffer, static_cast<size_t>(n)));
    }
  }
  // Records everything received until EOF or error.
  static void Sink(int fd, TestServer& server) { server.Record(ReadUntilClosed(fd).data); }

 private:
  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<std::string> recorded_;
  int accepted_ = 0;
};

// Polls `predicate` until it holds or 5 s pass.
bool Eventually(const std::function<bool()>& predicate) {
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(Ms(2));
  }
  return predicate();
}

std::unique_ptr<FaultProxy> StartProxy(uint16_t target_port, const FaultPlan& plan, uint64_t seed = 1) {
  FaultProxyOptions options;
  options.target_port = target_port;
  options.plan = plan;
  options.seed = seed;
  auto proxy = std::make_unique<FaultProxy>(options);
  Status status = proxy->Start();
  EXPECT_OK(status);
  EXPECT_NE(proxy->port(), 0);
  return proxy;
}

// ----- plan, chooser, limiter ------------------------------------------------

TEST(FaultPlanTest, ValidateRejectsBadPlans) {
  EXPECT_OK(FaultPlan{}.Validate());
  FaultPlan too_much;
  too_much.cut_request_prob = 0.7;
  too_much.reset_prob = 0.5;
  EXPECT_THAT(too_much.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("must be <= 1")));
  FaultPlan negative;
  negative.refuse_prob = -0.1;
  EXPECT_THAT(negative.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("refuse_prob")));
  FaultPlan delay_above_one;
  delay_above_one.delay_prob = 1.5;
  EXPECT_THAT(delay_above_one.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("delay_prob")));
  FaultPlan inverted;
  inverted.cut_min_bytes = 10;
  inverted.cut_max_bytes = 5;
  EXPECT_THAT(inverted.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("cut_min_bytes")));
}

FaultPlan MixedPlan() {
  FaultPlan plan;
  plan.cut_request_prob = 0.2;
  plan.cut_response_prob = 0.2;
  plan.reset_prob = 0.2;
  plan.refuse_prob = 0.2;
  plan.cut_min_bytes = 0;
  plan.cut_max_bytes = 150;
  plan.delay_prob = 0.5;
  return plan;
}

TEST(FaultChooserTest, SameSeedSameScheduleDifferentSeedDifferentSchedule) {
  FaultPlan plan = MixedPlan();
  FaultChooser a(42), b(42), c(43);
  std::vector<FaultDecision> seq_a, seq_b, seq_c;
  for (int i = 0; i < 1000; ++i) {
    seq_a.push_back(a.Next(plan));
    seq_b.push_back(b.Next(plan));
    seq_c.push_back(c.Next(plan));
  }
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_NE(seq_a, seq_c);
  std::map<FaultKind, int> kinds;
  int delayed = 0;
  for (size_t i = 0; i < seq_a.size(); ++i) {
    EXPECT_EQ(seq_a[i].connection, i);
    EXPECT_LE(seq_a[i].after_bytes, 150u);
    ++kinds[seq_a[i].kind];
    delayed += seq_a[i].delayed;
  }
  // Deterministic for this seed; the bounds only document that the mix follows the plan.
  for (FaultKind kind : {FaultKind::kPass, FaultKind::kCutRequest, FaultKind::kCutResponse, FaultKind::kReset,
                         FaultKind::kRefuse}) {
    EXPECT_GT(kinds[kind], 140) << FaultKindName(kind);
    EXPECT_LT(kinds[kind], 260) << FaultKindName(kind);
  }
  EXPECT_GT(delayed, 400);
  EXPECT_LT(delayed, 600);
}

TEST(FaultChooserTest, CertainAndImpossibleProbabilities) {
  FaultPlan always_reset;
  always_reset.reset_prob = 1;
  always_reset.cut_min_bytes = always_reset.cut_max_bytes = 7;
  FaultChooser chooser(1);
  for (int i = 0; i < 100; ++i) {
    FaultDecision d = chooser.Next(always_reset);
    EXPECT_EQ(d.kind, FaultKind::kReset);
    EXPECT_EQ(d.after_bytes, 7u);
    EXPECT_FALSE(d.delayed);
  }
}

TEST(RateLimiterTest, BooksBytesOnOneSerialLink) {
  RateLimiter limiter(1'000'000);  // 1 MB/s; idle credit 10 ms (10,000 bytes)
  auto t0 = RateLimiter::Clock::time_point() + std::chrono::hours(1);
  RateLimiter::Clock::time_point done;
  for (int i = 0; i < 10; ++i) done = limiter.Reserve(10'000, t0);
  // 100,000 bytes take 100 ms, minus the 10 ms of idle credit.
  EXPECT_EQ(std::chrono::duration_cast<Ms>(done - t0), Ms(90));
  // After a long idle period only the burst is banked, not the whole gap.
  auto later = t0 + std::chrono::seconds(10);
  EXPECT_EQ(std::chrono::duration_cast<Ms>(limiter.Reserve(20'000, later) - later), Ms(10));
}

TEST(RateLimiterTest, ZeroRateIsUnlimited) {
  RateLimiter limiter(0);
  auto now = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.Reserve(1'000'000'000, now), now);
}

// ----- the proxy ---------------------------------------------------------------

TEST(FaultProxyTest, StartValidatesOptions) {
  FaultProxyOptions no_target;
  FaultProxy proxy(no_target);
  EXPECT_THAT(proxy.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("target port")));

  FaultProxyOptions bad_host;
  bad_host.target_port = 9;
  bad_host.listen_host = "localhost";
  FaultProxy proxy2(bad_host);
  EXPECT_THAT(proxy2.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("numeric IPv4")));

  FaultProxyOptions ok;
  ok.target_port = 9;
  FaultProxy proxy3(ok);
  ASSERT_OK(proxy3.Start());
  EXPECT_THAT(proxy3.Start(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already started")));
}

TEST(FaultProxyTest, SetPlanRejectsInvalidPlanAndKeepsTheOldOne) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  FaultPlan bad;
  bad.cut_response_prob = 2;
  EXPECT_THAT(proxy->SetPlan(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("cut_response_prob")));
  EXPECT_EQ(proxy->plan().cut_response_prob, 0);
}

TEST(FaultProxyTest, PassThroughDeliversBytesIntactBothWays) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  const std::string payload = Pattern(1 << 20);
  Client client(proxy->port());
  ASSERT_TRUE(client.connected());
  std::thread sender([&] {
    client.Send(payload);
    client.CloseWrite();
  });
  ReadResult echoed = client.Read();
  sender.join();
  EXPECT_EQ(echoed.error, 0);
  EXPECT_TRUE(echoed.data == payload) << "echoed " << echoed.data.size() << " bytes";

  Stats stats = proxy->stats();
  EXPECT_EQ(stats.connections, 1u);
  EXPECT_EQ(stats.bytes_client_to_server, payload.size());
  EXPECT_EQ(stats.bytes_server_to_client, payload.size());
  EXPECT_EQ(stats.faults(), 0u);
  EXPECT_TRUE(Eventually([&] { return proxy->stats().active == 0; }));
  ASSERT_EQ(proxy->decisions().size(), 1u);
  EXPECT_EQ(proxy->decisions()[0].kind, FaultKind::kPass);
}

TEST(FaultProxyTest, CutMidRequestDeliversExactlyThePrefixThenEof) {
  TestServer server(TestServer::Sink);
  FaultPlan plan;
  plan.cut_request_prob = 1;
  plan.cut_min_bytes = plan.cut_max_bytes = 1000;
  auto proxy = StartProxy(server.port(), plan);
  const std::string request = Pattern(5000);

  Client client(proxy->port());
  ASSERT_TRUE(client.connected());
  client.Send(request);
  ReadResult reply = client.Read();
  EXPECT_EQ(reply.data, "");
  EXPECT_THAT(reply.error, AnyOf(0, ECONNRESET));

  ASSERT_TRUE(Eventually([&] { return server.recorded().size() == 1; }));
  EXPECT_TRUE(server.recorded()[0] == request.substr(0, 1000)) << "server got " << server.recorded()[0].size();
  Stats stats = proxy->stats();
  EXPECT_EQ(stats.cut_request, 1u);
  EXPECT_EQ(stats.bytes_client_to_server, 1000u);
}

TEST(FaultProxyTest, CutMidResponseAfterTheServerGotTheWholeRequest) {
  // The server reads a 3000-byte request in full, records it, then answers 5000 bytes.
  const std::string request = Pattern(3000, 2);
  const std::string response = Pattern(5000, 3);
  TestServer server([&](int fd, TestServer& self) {
    ReadResult got = ReadUntilClosed(fd, request.size());
    self.Record(got.data);
    SendAllOrIgnore(fd, response);
  });
  FaultPlan plan;
  plan.cut_response_prob = 1;
  plan.cut_min_bytes = plan.cut_max_bytes = 1234;
  auto proxy = StartProxy(server.port(), plan);

  Client client(proxy->port());
  ASSERT_TRUE(client.connected());
  client.Send(request);
  ReadResult reply = client.Read();
  EXPECT_TRUE(reply.data == response.substr(0, 1234)) << "client got " << reply.data.size();
  EXPECT_THAT(reply.error, AnyOf(0, ECONNRESET));

  ASSERT_TRUE(Eventually([&] { return server.recorded().size() == 1; }));
  EXPECT_TRUE(server.recorded()[0] == request);
  // The request's byte count is updated by the other direction's thread, so it may lag the client.
  EXPECT_TRUE(Eventually([&] { return proxy->stats().bytes_client_to_server == request.size(); }));
  Stats stats = proxy->stats();
  EXPECT_EQ(stats.cut_response, 1u);
  EXPECT_EQ(stats.bytes_server_to_client, 1234u);
}

TEST(FaultProxyTest, CutPointBeyondTheStreamIsNotAFault) {
  TestServer server(TestServer::Echo);
  FaultPlan plan;
  plan.cut_response_prob = 1;
  plan.cut_min_bytes = plan.cut_max_bytes = 10'000;
  auto proxy = StartProxy(server.port(), plan);
  Client client(proxy->port());
  client.Send("short");
  client.CloseWrite();
  ReadResult reply = client.Read();
  EXPECT_EQ(reply.data, "short");
  EXPECT_EQ(reply.error, 0);
  EXPECT_EQ(proxy->stats().cut_response, 0u);
}

TEST(FaultProxyTest, ResetGivesTheClientEconnreset) {
  TestServer server(TestServer::Echo);
  FaultPlan plan;
  plan.reset_prob = 1;
  plan.cut_min_bytes = plan.cut_max_bytes = 0;
  auto proxy = StartProxy(server.port(), plan);
  Client client(proxy->port());
  ASSERT_TRUE(client.connected());
  client.Send("hello");
  ReadResult reply = client.Read();
  EXPECT_EQ(reply.data, "");
  EXPECT_EQ(reply.error, ECONNRESET);
  EXPECT_TRUE(Eventually([&] { return proxy->stats().reset == 1; }));
  EXPECT_EQ(proxy->stats().bytes_client_to_server, 0u);
}

TEST(FaultProxyTest, RefuseClosesBeforeReachingTheTarget) {
  TestServer server(TestServer::Echo);
  FaultPlan plan;
  plan.refuse_prob = 1;
  auto proxy = StartProxy(server.port(), plan);
  Client client(proxy->port());
  ASSERT_TRUE(client.connected());
  ReadResult reply = client.Read();
  EXPECT_EQ(reply.data, "");
  EXPECT_EQ(reply.error, 0);
  Stats stats = proxy->stats();
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.connections, 1u);
  EXPECT_EQ(server.accepted(), 0);
}

TEST(FaultProxyTest, SetDownCutsLiveConnectionsAndRejectsNewOnesUntilUp) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  Client live(proxy->port());
  live.Send("ping");
  EXPECT_EQ(live.Read(4).data, "ping");

  proxy->SetDown(true);
  EXPECT_TRUE(proxy->down());
  ReadResult cut = live.Read();
  EXPECT_EQ(cut.data, "");
  EXPECT_EQ(cut.error, ECONNRESET);

  Client rejected(proxy->port());
  ASSERT_TRUE(rejected.connected());  // the listener stays open; the connection is reset at once
  ReadResult refused = rejected.Read();
  EXPECT_EQ(refused.data, "");
  EXPECT_EQ(refused.error, ECONNRESET);
  Stats stats = proxy->stats();
  EXPECT_EQ(stats.cut_by_down, 1u);
  EXPECT_EQ(stats.rejected_while_down, 1u);
  EXPECT_EQ(server.accepted(), 1);

  proxy->SetDown(false);
  Client again(proxy->port());
  again.Send("pong");
  again.CloseWrite();
  EXPECT_EQ(again.Read().data, "pong");
}

TEST(FaultProxyTest, CutLiveResetsKeptAliveConnectionsAndLeavesTheLinkUp) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  // Two kept-alive connections: one idle between exchanges, one with a reply still unread.
  Client idle(proxy->port());
  idle.Send("ping");
  EXPECT_EQ(idle.Read(4).data, "ping");
  Client busy(proxy->port());
  busy.Send("half");
  EXPECT_EQ(busy.Read(4).data, "half");

  EXPECT_EQ(proxy->CutLive(), 2u);
  EXPECT_FALSE(proxy->down());
  ReadResult idle_cut = idle.Read();
  EXPECT_EQ(idle_cut.data, "");
  EXPECT_EQ(idle_cut.error, ECONNRESET);
  ReadResult busy_cut = busy.Read();
  EXPECT_EQ(busy_cut.data, "");
  EXPECT_EQ(busy_cut.error, ECONNRESET);
  EXPECT_EQ(proxy->stats().cut_live, 2u);
  EXPECT_EQ(proxy->stats().cut_by_down, 0u);

  // A new connection passes at once, and a second cut finds only it.
  Client again(proxy->port());
  again.Send("pong");
  EXPECT_EQ(again.Read(4).data, "pong");
  EXPECT_EQ(proxy->CutLive(), 1u);
  EXPECT_EQ(again.Read().error, ECONNRESET);
  EXPECT_EQ(proxy->stats().cut_live, 3u);
}

// One connection after another, each sending 200 bytes and reading the echo.
struct Outcome {
  std::string data;
  int error;
};
std::vector<Outcome> RunSequentialConnections(FaultProxy& proxy, int count) {
  std::vector<Outcome> outcomes;
  const std::string message = Pattern(200, 9);
  for (int i = 0; i < count; ++i) {
    Client client(proxy.port());
    client.Send(message);
    client.CloseWrite();
    ReadResult r = client.Read();
    outcomes.push_back({r.data, r.error});
  }
  return outcomes;
}

TEST(FaultProxyTest, SameSeedGivesTheSameFaultSequence) {
  TestServer server(TestServer::Echo);
  FaultPlan plan = MixedPlan();
  plan.delay_prob = 0;
  auto first = StartProxy(server.port(), plan, /*seed=*/7);
  auto second = StartProxy(server.port(), plan, /*seed=*/7);
  auto other = StartProxy(server.port(), plan, /*seed=*/8);
  const int kConnections = 20;
  std::vector<Outcome> outcomes = RunSequentialConnections(*first, kConnections);
  RunSequentialConnections(*second, kConnections);
  RunSequentialConnections(*other, kConnections);

  std::vector<FaultDecision> expected;
  FaultChooser chooser(7);
  for (int i = 0; i < kConnections; ++i) expected.push_back(chooser.Next(plan));
  EXPECT_EQ(first->decisions(), expected);
  EXPECT_EQ(second->decisions(), expected);
  EXPECT_NE(other->decisions(), expected);

  // What each client saw follows from its decision.
  const std::string message = Pattern(200, 9);
  for (int i = 0; i < kConnections; ++i) {
    const FaultDecision& d = expected[i];
    const Outcome& o = outcomes[i];
    switch (d.kind) {
      case FaultKind::kPass:
        EXPECT_TRUE(o.data == message && o.error == 0) << i;
        break;
      case FaultKind::kRefuse:
        EXPECT_TRUE(o.data.empty()) << i;
        break;
      case FaultKind::kCutResponse:
        EXPECT_TRUE(o.data == message.substr(0, d.after_bytes)) << i << " got " << o.data.size();
        break;
      case FaultKind::kReset:
        EXPECT_EQ(o.error, ECONNRESET) << i;
        break;
      case FaultKind::kCutRequest:
        EXPECT_LE(o.data.size(), d.after_bytes) << i;
        break;
    }
  }
  Stats a = first->stats(), b = second->stats();
  EXPECT_EQ(a.refused, b.refused);
  EXPECT_EQ(a.cut_response, b.cut_response);
  EXPECT_EQ(a.reset, b.reset);
}

TEST(FaultProxyTest, DelayAddsLatencyPerChunk) {
  TestServer server(TestServer::Echo);
  FaultPlan plan;
  plan.delay_prob = 1;
  plan.delay = Ms(50);
  auto proxy = StartProxy(server.port(), plan);
  Client client(proxy->port());
  auto start = SteadyClock::now();
  client.Send("ping");
  EXPECT_EQ(client.Read(4).data, "ping");
  auto elapsed = SteadyClock::now() - start;
  // One chunk each way, each waiting 50 ms first.
  EXPECT_GE(elapsed, Ms(100));
  EXPECT_EQ(proxy->stats().delayed, 1u);
}

TEST(FaultProxyTest, RateLimitBoundsThroughput) {
  TestServer server(TestServer::Echo);
  FaultPlan plan;
  plan.rate_bytes_per_sec = 1'000'000;
  auto proxy = StartProxy(server.port(), plan);
  const std::string payload = Pattern(100'000, 5);
  Client client(proxy->port());
  auto start = SteadyClock::now();
  std::thread sender([&] {
    client.Send(payload);
    client.CloseWrite();
  });
  ReadResult echoed = client.Read();
  sender.join();
  auto elapsed = SteadyClock::now() - start;
  EXPECT_TRUE(echoed.data == payload);
  // 100 KB at 1 MB/s needs ~90 ms in each direction (they overlap); only the lower bound is asserted.
  EXPECT_GE(elapsed, Ms(80));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  Stats stats = proxy->stats();
  EXPECT_EQ(stats.bytes_client_to_server, payload.size());
  EXPECT_EQ(stats.bytes_server_to_client, payload.size());
}

TEST(FaultProxyTest, UnreachableTargetResetsTheClient) {
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  // Bound but not listening: connections are refused, and the port cannot be
  // handed out again (say, to the proxy itself) while the test runs.
  uint16_t dead_port = ntohs(addr.sin_port);

  auto proxy = StartProxy(dead_port, FaultPlan{});
  Client client(proxy->port());
  ReadResult reply = client.Read();
  EXPECT_EQ(reply.data, "");
  EXPECT_EQ(reply.error, ECONNRESET);
  EXPECT_TRUE(Eventually([&] { return proxy->stats().connect_failures == 1; }));
  close(probe);
}

TEST(FaultProxyTest, StopClosesLiveConnectionsAndIsIdempotent) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  Client client(proxy->port());
  client.Send("ping");
  EXPECT_EQ(client.Read(4).data, "ping");
  auto start = SteadyClock::now();
  proxy->Stop();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(2));
  ReadResult after = client.Read();
  EXPECT_EQ(after.error, ECONNRESET);
  EXPECT_EQ(proxy->stats().active, 0u);
  proxy->Stop();
}

TEST(FaultProxyTest, ManyConcurrentConnections) {
  TestServer server(TestServer::Echo);
  auto proxy = StartProxy(server.port(), FaultPlan{});
  std::vector<std::thread> clients;
  std::atomic<int> intact{0};
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      const std::string payload = Pattern(50'000, 100 + i);
      Client client(proxy->port());
      std::thread sender([&] {
        client.Send(payload);
        client.CloseWrite();
      });
      ReadResult r = client.Read();
      sender.join();
      if (r.data == payload && r.error == 0) ++intact;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(intact.load(), 16);
  EXPECT_EQ(proxy->stats().bytes_client_to_server, 16u * 50'000);
}

}  // namespace
}  // namespace ektp::faultnet
