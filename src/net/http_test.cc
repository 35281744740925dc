// HttpServer + HttpClient over loopback, plain and TLS with a pinned certificate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/status_matchers.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/testing.h"
#include "net/tls.h"
#include "service/log.h"
#include "service/metrics.h"

namespace ektp::net {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Raw loopback connections, for what HttpClient cannot send.
int RawConnect(int port) {
  int fd = testing::ConnectLoopback(port);
  EXPECT_GE(fd, 0) << "connecting to port " << port;
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

// Everything the server sends until it closes the connection (or 5 s pass).
std::string ReadUntilClosed(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t got = recv(fd, buf, sizeof(buf), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// Peak resident set size of this process in KiB (VmHWM).
long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  }
  return -1;
}

long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

class HttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/http_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(*dir_);
    for (const char* name : {"a", "b"}) {
      auto material = GenerateSelfSigned({});
      ASSERT_OK(material);
      ASSERT_OK(WriteCertificateAndKey(*material, *dir_ + "/" + name + ".crt", *dir_ + "/" + name + ".key"));
      (name[0] == 'a' ? cert_a_ : cert_b_) = new std::string(material->cert_pem);
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete cert_a_;
    delete cert_b_;
  }

  HttpServerOptions Options() {
    HttpServerOptions options;
    options.metrics = &metrics_;
    return options;
  }
  HttpServerOptions TlsOptions() {
    HttpServerOptions options = Options();
    options.tls_cert_path = *dir_ + "/a.crt";
    options.tls_key_path = *dir_ + "/a.key";
    return options;
  }

  static void AddEcho(HttpServer& server) {
    server.Handle("POST", "/echo/:id", [](const HttpRequest& req) {
      nlohmann::json out;
      out["id"] = req.path_params.at("id");
      out["body"] = req.body;
      out["q"] = req.query("q");
      out["x"] = req.header("X-Test");
      out["method"] = req.method;
      return HttpResponse::Json(201, out.dump());
    });
  }

  static std::unique_ptr<HttpClient> Client(const std::string& url, HttpClientOptions options = {}) {
    auto client = HttpClient::Create(url, std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static std::string* dir_;
  static std::string* cert_a_;
  static std::string* cert_b_;
  service::MetricsRegistry metrics_;
};

std::string* HttpTest::dir_ = nullptr;
std::string* HttpTest::cert_a_ = nullptr;
std::string* HttpTest::cert_b_ = nullptr;

TEST_F(HttpTest, PlainRoundTripWithPathQueryAndHeaders) {
  HttpServer server(Options());
  AddEcho(server);
  ASSERT_OK(server.Start());
  EXPECT_GT(server.port(), 0);
  auto client = Client(server.base_url());
  auto res = client->Post("/echo/ST-01?q=v%20w", "hello", "text/plain", {{"X-Test", "yes"}});
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->content_type, "application/json");
  auto json = nlohmann::json::parse(res->body);
  EXPECT_EQ(json["id"], "ST-01");
  EXPECT_EQ(json["body"], "hello");
  EXPECT_EQ(json["q"], "v w");
  EXPECT_EQ(json["x"], "yes");
  EXPECT_EQ(json["method"], "POST");
}

TEST_F(HttpTest, HttpsRoundTripWithPinnedCertificate) {
  HttpServer server(TlsOptions());
  AddEcho(server);
  ASSERT_OK(server.Start());
  EXPECT_TRUE(server.base_url().starts_with("https://127.0.0.1:"));
  HttpClientOptions options;
  options.pinned_cert_pem = *cert_a_;
  auto client = Client(server.base_url(), options);
  for (int request_idx = 0; request_idx < 3; ++request_idx) {  // also over the kept-alive connection
    auto res = client->Post("/echo/7", "secret", "text/plain");
    ASSERT_OK(res);
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(nlohmann::json::parse(res->body)["body"], "secret");
  }
  // "localhost" is in the SAN too.
  auto by_name = Client("https://localhost:" + std::to_string(server.port()), options);
  auto res = by_name->Get("/healthz");
  ASSERT_OK(res);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(HttpTest, KeptAliveConnectionIsReused) {
  for (bool tls : {false, true}) {
    HttpServer server(tls ? TlsOptions() : Options());
    std::mutex mu;
    std::set<int> ports;
    server.Handle("POST", "/up", [&](const HttpRequest& req) {
      std::lock_guard lock(mu);
      ports.insert(req.remote_port);
      return HttpResponse::Text(200, "ok");
    });
    ASSERT_OK(server.Start());
    HttpClientOptions options;
    options.pinned_cert_pem = *cert_a_;
    auto client = Client(server.base_url(), options);
    for (int request_idx = 0; request_idx < 50; ++request_idx) {
      ASSERT_OK(client->Post("/up", std::string(20000, 'x'), "application/octet-stream"));
    }
    EXPECT_EQ(ports.size(), 1u) << (tls ? "https" : "http") << ": one connection for all requests";
  }
}

TEST_F(HttpTest, DifferentCertificateIsRefused) {
  HttpServer server(TlsOptions());
  ASSERT_OK(server.Start());
  HttpClientOptions options;
  options.pinned_cert_pem = *cert_b_;
  auto client = Client(server.base_url(), options);
  auto res = client->Get("/healthz");
  EXPECT_THAT(res, StatusIs(StatusCode::kUnauthenticated,
                            HasSubstr("server certificate verification failed: the server presented certificate "
                                      "sha256:" + *CertificateSha256(*cert_a_))));
}

TEST_F(HttpTest, HostNotInCertificateIsRefused) {
  HttpServerOptions server_options = TlsOptions();
  server_options.bind_address = "127.0.0.2";  // on loopback, but not in the certificate's SAN
  HttpServer server(server_options);
  ASSERT_OK(server.Start());
  HttpClientOptions options;
  options.pinned_cert_pem = *cert_a_;
  auto client = Client(server.base_url(), options);
  EXPECT_THAT(client->Get("/healthz"),
              StatusIs(StatusCode::kUnauthenticated,
                       HasSubstr("certificate verification failed: the certificate does not name host 127.0.0.2")));
}

TEST_F(HttpTest, HttpsNeedsAPin) {
  EXPECT_THAT(HttpClient::Create("https://127.0.0.1:1", {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs a pinned server certificate")));
  HttpClientOptions options;
  options.pinned_cert_pem = "garbage";
  EXPECT_THAT(HttpClient::Create("https://127.0.0.1:1", options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a PEM certificate")));
  EXPECT_THAT(HttpClient::Create("ftp://x", {}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("http://")));
  EXPECT_THAT(HttpClient::Create("http://x:99999", {}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(HttpClient::Create("http://x:80/api", {}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("path")));
}

TEST_F(HttpTest, PlainHttpIsForLoopbackOnly) {
  EXPECT_THAT(HttpClient::Create("http://10.0.0.5:8080", {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("plain http to http://10.0.0.5:8080 is not allowed")));
  HttpClientOptions client_options;
  client_options.allow_plain_http_off_loopback = true;
  EXPECT_OK(HttpClient::Create("http://10.0.0.5:8080", client_options));
  EXPECT_OK(HttpClient::Create("http://localhost:8080", {}));
  EXPECT_OK(HttpClient::Create("http://[::1]:8080", {}));
  EXPECT_OK(HttpClient::Create("http://127.0.0.9:8080", {}));

  HttpServerOptions options = Options();
  options.bind_address = "0.0.0.0";
  HttpServer server(options);
  EXPECT_THAT(server.Start(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("plain HTTP on 0.0.0.0 is not allowed")));
}

TEST_F(HttpTest, TrustOnFirstUseFetchesTheServerCertificate) {
  HttpServer server(TlsOptions());
  ASSERT_OK(server.Start());
  auto pem = FetchServerCertificatePem(server.base_url());
  ASSERT_OK(pem);
  EXPECT_EQ(*CertificateSha256(*pem), *CertificateSha256(*cert_a_));
  HttpClientOptions options;
  options.pinned_cert_pem = *pem;
  auto res = Client(server.base_url(), options)->Get("/healthz");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(FetchServerCertificatePem("http://127.0.0.1:1"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("non-https")));
}

TEST_F(HttpTest, OversizedBodyGets413Json) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  HttpServer server(options);
  bool called = false;
  server.Handle("POST", "/upload", [&called](const HttpRequest&) {
    called = true;
    return HttpResponse::Text(200, "ok");
  });
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto small = client->Post("/upload", std::string(1024, 'x'), "application/octet-stream");
  ASSERT_OK(small);
  EXPECT_EQ(small->status, 200);
  called = false;
  auto res = client->Post("/upload", std::string(4096, 'x'), "application/octet-stream");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->content_type, "application/json");
  auto json = nlohmann::json::parse(res->body);
  EXPECT_EQ(json["status"], 413);
  EXPECT_EQ(json["error"], "request body exceeds 1024 bytes");
  EXPECT_FALSE(called);
}

TEST_F(HttpTest, MetricsCountRequestsByRoutePattern) {
  HttpServer server(Options());
  AddEcho(server);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  ASSERT_OK(client->Post("/echo/1", "", "text/plain"));
  ASSERT_OK(client->Post("/echo/2", "", "text/plain"));
  ASSERT_OK(client->Get("/nope"));
  auto res = client->Get("/metrics");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->content_type, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(res->body, HasSubstr("# TYPE ektp_http_requests_total counter\n"));
  EXPECT_THAT(res->body,
              HasSubstr("ektp_http_requests_total{code=\"201\",method=\"POST\",route=\"/echo/:id\"} 2\n"));
  EXPECT_THAT(res->body,
              HasSubstr("ektp_http_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1\n"));
  EXPECT_THAT(res->body, HasSubstr("ektp_http_request_duration_seconds_count{method=\"POST\",route=\"/echo/:id\"} 2\n"));
}

TEST_F(HttpTest, HealthzAndReadyz) {
  std::atomic<bool> ready{false};
  HttpServerOptions options = Options();
  options.readiness = [&ready]() -> Status {
    if (!ready) return FailedPrecondition("database migrations pending");
    return Status::Ok();
  };
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto health = client->Get("/healthz");
  ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto not_ready = client->Get("/readyz");
  ASSERT_OK(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("database migrations pending"));
  ready = true;
  auto now_ready = client->Get("/readyz");
  ASSERT_OK(now_ready);
  EXPECT_EQ(now_ready->status, 200);
}

TEST_F(HttpTest, MultipartPartsAreExposed) {
  HttpServer server(Options());
  std::vector<MultipartPart> seen;
  server.Handle("POST", "/enrollments", [&seen](const HttpRequest& req) {
    seen = req.parts;
    const MultipartPart* photo = req.part("photo");
    return HttpResponse::Text(200, photo != nullptr ? std::to_string(photo->content.size()) : "none");
  });
  ASSERT_OK(server.Start());
  std::string jpeg("\xFF\xD8\xFF\xE0\0\x10JFIF\0binary\r\n--x", 20);
  auto res = Client(server.base_url())
                 ->PostMultipart("/enrollments", {{"demographics", "", "application/json", "{\"a\":1}"},
                                                  {"photo", "face.jpg", "image/jpeg", jpeg}});
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, std::to_string(jpeg.size()));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].name, "demographics");
  EXPECT_EQ(seen[0].filename, "");
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].content, "{\"a\":1}");
  EXPECT_EQ(seen[1].name, "photo");
  EXPECT_EQ(seen[1].filename, "face.jpg");
  EXPECT_EQ(seen[1].content_type, "image/jpeg");
  EXPECT_EQ(seen[1].content, jpeg);
}

TEST_F(HttpTest, UnknownPathIs404AndWrongMethodIs405) {
  HttpServer server(Options());
  AddEcho(server);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto missing = client->Get("/echo");
  ASSERT_OK(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"], "no route for this path");
  auto wrong = client->Get("/echo/1");
  ASSERT_OK(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("Allow"), "POST");
}

TEST_F(HttpTest, HandlerExceptionIs500) {
  HttpServer server(Options());
  server.Handle("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bug"); });
  ASSERT_OK(server.Start());
  auto res = Client(server.base_url())->Get("/boom");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"], "internal server error");
}

TEST_F(HttpTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    HttpServer server(Options());
    ASSERT_OK(server.Start());
    port = server.port();
  }
  auto client = Client("http://127.0.0.1:" + std::to_string(port));
  EXPECT_THAT(client->Post("/x?nik=1", "b", "text/plain"),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("POST http://127.0.0.1:" + std::to_string(port) + "/x: cannot connect")));
}

TEST_F(HttpTest, SlowServerIsReadTimeout) {
  HttpServer server(Options());
  server.Handle("GET", "/slow", [](const HttpRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    return HttpResponse::Text(200, "late");
  });
  ASSERT_OK(server.Start());
  HttpClientOptions options;
  options.read_timeout = std::chrono::milliseconds(150);
  auto res = Client(server.base_url(), options)->Get("/slow");
  EXPECT_THAT(res, StatusIs(StatusCode::kUnavailable, HasSubstr("no response within the read timeout of 150 ms")));
}

// A peer that accepts, reads the request and closes without answering.
class SilentCloser {
 public:
  SilentCloser() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 4);
    thread_ = std::thread([this] {
      int conn = accept(listen_fd_, nullptr, nullptr);
      if (conn < 0) return;
      // Read the whole request (the test's body is "payload"), so the reset
      // comes after the request and before any response, never while sending.
      std::string received;
      char buf[4096];
      while (received.find("payload") == std::string::npos) {
        ssize_t n = read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        received.append(buf, static_cast<size_t>(n));
      }
      linger lin{1, 0};  // close with RST
      setsockopt(conn, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
      close(conn);
    });
  }
  ~SilentCloser() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpTest, ResetBeforeResponseIsUnavailable) {
  SilentCloser peer;
  auto client = Client("http://127.0.0.1:" + std::to_string(peer.port()));
  EXPECT_THAT(client->Post("/batch", "payload", "application/json"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("connection closed or reset before a complete response")));
}

TEST_F(HttpTest, ConcurrentClientsAreServed) {
  HttpServerOptions options = Options();
  options.threads = 8;  // one worker per kept-alive connection
  HttpServer server(options);
  AddEcho(server);
  ASSERT_OK(server.Start());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < 6; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      auto client = HttpClient::Create(server.base_url(), {});
      if (!client.ok()) return;
      for (int request_idx = 0; request_idx < 20; ++request_idx) {
        auto res = (*client)->Post("/echo/" + std::to_string(thread_idx), "x", "text/plain");
        if (res.ok() && res->status == 201) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 120);
}

TEST_F(HttpTest, StopWaitsAtMostTheKeepAliveTimeout) {
  HttpServerOptions options = Options();
  options.keep_alive_timeout = std::chrono::seconds(1);
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  ASSERT_OK(client->Get("/healthz"));
  auto start = std::chrono::steady_clock::now();
  server.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  EXPECT_THAT(client->Get("/healthz"), StatusIs(StatusCode::kUnavailable, HasSubstr("GET http://127.0.0.1:")));
}

// Graceful stop (rolling restarts rely on it): the listener closes first,
// so new clients are refused and fail over, while a request already being
// handled finishes and gets its answer, told to close its connection.
TEST_F(HttpTest, StopFinishesTheRequestInFlightAfterClosingTheListener) {
  HttpServer server(Options());
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  server.Handle("POST", "/ingest", [&entered, released](const HttpRequest& req) {
    entered.set_value();
    released.wait();
    return HttpResponse::Text(200, "stored " + req.body);
  });
  ASSERT_OK(server.Start());
  const std::string url = server.base_url();
  auto in_flight = std::async(std::launch::async, [url] { return Client(url)->Post("/ingest", "batch-1", "text/plain"); });
  entered.get_future().wait();
  std::thread stopper([&server] { server.Stop(); });
  // Stop() has closed the listener once a new connection is refused. (A
  // connection caught in the listen backlog as it closes is reset instead.)
  Status refused = Unavailable("not checked");
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto res = Client(url)->Get("/healthz");
    refused = res.status();
    if (!res.ok() && res.status().message().find("cannot connect") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("cannot connect")));
  EXPECT_EQ(metrics_.GetGauge("ektp_http_requests_in_flight", "").value(), 1);
  release.set_value();
  auto answered = in_flight.get();
  stopper.join();
  ASSERT_OK(answered);
  EXPECT_EQ(answered->status, 200);
  EXPECT_EQ(answered->body, "stored batch-1");
  EXPECT_EQ(answered->header("connection"), "close");
  EXPECT_EQ(metrics_.GetGauge("ektp_http_requests_in_flight", "").value(), 0);
}

// With a drain delay the server keeps accepting for a while after Stop()
// begins, answering /readyz with 503 so a load balancer stops sending to it.
TEST_F(HttpTest, ReadyzSaysDrainingDuringTheDrainDelay) {
  HttpServerOptions options = Options();
  options.drain_delay = std::chrono::milliseconds(1500);
  options.keep_alive_timeout = std::chrono::seconds(1);  // `client` stays idle through the drain
  options.readiness = [] { return Status::Ok(); };
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto before = client->Get("/readyz");
  ASSERT_OK(before);
  EXPECT_EQ(before->status, 200);
  EXPECT_EQ(before->header("connection"), "");
  std::thread stopper([&server] { server.Stop(); });
  StatusOr<HttpResponse> draining = Unavailable("not checked");
  for (int attempt = 0; attempt < 100; ++attempt) {
    draining = Client(server.base_url())->Get("/readyz");
    if (!draining.ok() || draining->status != 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  ASSERT_OK(draining);
  EXPECT_EQ(draining->status, 503);
  EXPECT_EQ(draining->body, "not ready: draining (the server is shutting down)\n");
  EXPECT_EQ(draining->header("connection"), "close");
  EXPECT_THAT(client->Get("/readyz"), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot connect")));
  // Started again, it is ready again.
  ASSERT_OK(server.Start());
  auto again = Client(server.base_url())->Get("/readyz");
  ASSERT_OK(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpTest, ConnectionClosedWhileIdleIsReopened) {
  for (bool tls : {false, true}) {
    HttpServerOptions options = tls ? TlsOptions() : Options();
    options.keep_alive_timeout = std::chrono::seconds(1);
    HttpServer server(options);
    ASSERT_OK(server.Start());
    HttpClientOptions client_options;
    if (tls) client_options.pinned_cert_pem = *cert_a_;
    auto client = Client(server.base_url(), client_options);
    ASSERT_OK(client->Get("/healthz"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // the server drops the idle connection
    auto res = client->Post("/none", "x", "text/plain");
    ASSERT_OK(res) << (tls ? "https" : "http");
    EXPECT_EQ(res->status, 404);
  }
}

TEST_F(HttpTest, BindConflictIsUnavailableNamingTheAddress) {
  HttpServer first(Options());
  ASSERT_OK(first.Start());
  HttpServerOptions options = Options();
  options.port = first.port();
  HttpServer second(options);
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable,
                                       HasSubstr("cannot bind 127.0.0.1:" + std::to_string(first.port()))));
}

TEST_F(HttpTest, BadTlsFilesAreInvalidArgument) {
  HttpServerOptions options = Options();
  options.tls_cert_path = *dir_ + "/missing.crt";
  options.tls_key_path = *dir_ + "/a.key";
  HttpServer server(options);
  EXPECT_THAT(server.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing.crt")));
}

TEST_F(HttpTest, OneLogLinePerRequestWithoutPathOrQuery) {
  service::CapturedLogs logs;
  {
    HttpServer server(Options());
    AddEcho(server);
    ASSERT_OK(server.Start());
    ASSERT_OK(Client(server.base_url())->Post("/echo/3171012345678901?nama=Siti", "Jl. Merdeka 1", "text/plain"));
  }
  int request_lines = 0;
  for (const std::string& line : logs.lines()) {
    EXPECT_THAT(line, Not(HasSubstr("3171012345678901")));
    EXPECT_THAT(line, Not(HasSubstr("Siti")));
    EXPECT_THAT(line, Not(HasSubstr("Merdeka")));
    auto json = nlohmann::json::parse(line);
    if (json["event"] != "http.request") continue;
    ++request_lines;
    EXPECT_EQ(json["route"], "/echo/:id");
    EXPECT_EQ(json["method"], "POST");
    EXPECT_EQ(json["status"], 201);
    EXPECT_EQ(json["remote"], "127.0.0.1");
  }
  EXPECT_EQ(request_lines, 1);
}

TEST_F(HttpTest, StopIsIdempotentAndRestartable) {
  HttpServer server(Options());
  ASSERT_OK(server.Start());
  EXPECT_THAT(server.Start(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already started")));
  server.Stop();
  server.Stop();
  ASSERT_OK(server.Start());
  auto res = Client(server.base_url())->Get("/healthz");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpTest, IdleConnectionsDoNotDelayHealthzOrHandlers) {
  HttpServerOptions options = Options();
  options.threads = 2;
  HttpServer server(options);
  AddEcho(server);
  ASSERT_OK(server.Start());
  constexpr int kIdle = 20;  // > threads: each would hold a worker in a thread-per-connection server
  std::vector<int> idle;
  for (int conn_idx = 0; conn_idx < kIdle; ++conn_idx) idle.push_back(RawConnect(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted by now
  auto client = Client(server.base_url());
  auto start = std::chrono::steady_clock::now();
  auto health = client->Get("/healthz");
  ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);
  auto echo = client->Post("/echo/1", "signed batch", "application/json");
  ASSERT_OK(echo);
  EXPECT_EQ(echo->status, 201);
  // Bound: 2 s for both (about 1 ms each on an idle machine; the httplib
  // server took the 10 s read timeout).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (int fd : idle) close(fd);
}

TEST_F(HttpTest, SlowLorisHeaderSenderIsDisconnected) {
  HttpServerOptions options = Options();
  options.header_timeout = std::chrono::milliseconds(300);
  HttpServer server(options);
  ASSERT_OK(server.Start());
  int fd = RawConnect(server.port());
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  ASSERT_TRUE(SendAll(fd, request));
  // One more header byte every 50 ms, each well within any per-read timeout.
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!SendAll(fd, "a")) {
      cut = true;
      break;
    }
    char byte;
    if (recv(fd, &byte, 1, MSG_DONTWAIT) == 0) {  // orderly close by the server
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "the server still reads a header that has trickled for 3 s";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  close(fd);
}

TEST_F(HttpTest, RouteBodyLimitRefusesLengthAndChunkedBodiesWithoutTheHandler) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1 << 20;
  HttpServer server(options);
  std::atomic<int> login_calls{0};
  server.Handle("POST", "/login", [&](const HttpRequest&) {
    ++login_calls;
    return HttpResponse::Text(200, "ok");
  }, RouteOptions{.max_body_bytes = 1024});
  server.Handle("POST", "/upload", [](const HttpRequest& req) {
    return HttpResponse::Text(200, std::to_string(req.body.size()));
  });
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto fits = client->Post("/login", std::string(1024, 'x'), "application/json");
  ASSERT_OK(fits);
  EXPECT_EQ(fits->status, 200);
  auto by_length = client->Post("/login", std::string(1025, 'x'), "application/json");
  ASSERT_OK(by_length);
  EXPECT_EQ(by_length->status, 413);
  EXPECT_EQ(nlohmann::json::parse(by_length->body)["error"], "request body exceeds 1024 bytes");
  // Large enough that the client is still sending when the 413 is written.
  auto large = Client(server.base_url())->Post("/login", std::string(4 << 20, 'x'), "application/json");
  ASSERT_OK(large);
  EXPECT_EQ(large->status, 413);
  auto other_route = Client(server.base_url())->Post("/upload", std::string(4096, 'x'), "application/octet-stream");
  ASSERT_OK(other_route);
  EXPECT_EQ(other_route->body, "4096");

  int fd = RawConnect(server.port());
  std::string chunked = "POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int chunk_idx = 0; chunk_idx < 4; ++chunk_idx) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(SendAll(fd, chunked));
  std::string answer = ReadUntilClosed(fd);
  close(fd);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 413 "));
  EXPECT_THAT(answer, HasSubstr("{\"error\":\"request body exceeds 1024 bytes\",\"pesan\":\"Kiriman terlalu besar.\","
                                "\"status\":413}"));
  EXPECT_EQ(login_calls.load(), 1);
}

// A 150 MB chunked upload to a route limited to 1 MiB: the server answers 413
// once 1 MiB has streamed in, and the process's peak RSS grows by less than
// 32 MiB (the httplib server read all 150 MB into memory first).
TEST_F(HttpTest, ChunkedUploadPastTheLimitIs413WithBoundedMemory) {
  HttpServer server(Options());
  std::atomic<bool> called{false};
  server.Handle("POST", "/api/v1/sync/up", [&](const HttpRequest&) {
    called = true;
    return HttpResponse::Text(401, "unauthenticated");
  }, RouteOptions{.max_body_bytes = 1 << 20});
  ASSERT_OK(server.Start());
  {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";  // resets VmHWM to the current RSS
  }
  long baseline_kib = RssKib();
  int fd = RawConnect(server.port());
  constexpr size_t kBodyBytes = 150'000'000;
  std::atomic<size_t> sent{0};
  std::thread sender([&] {
    if (!SendAll(fd, "POST /api/v1/sync/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'z') + "\r\n";
    while (sent < kBodyBytes) {
      if (!SendAll(fd, chunk)) return;  // the server closed the connection
      sent += 0x10000;
    }
    SendAll(fd, "0\r\n\r\n");
  });
  std::string answer = ReadUntilClosed(fd);
  shutdown(fd, SHUT_RDWR);
  sender.join();
  close(fd);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 413 "));
  EXPECT_THAT(answer, HasSubstr("request body exceeds 1048576 bytes"));
  EXPECT_FALSE(called);
  long growth_kib = PeakRssKib() - baseline_kib;
  EXPECT_LT(growth_kib, 32 * 1024) << "sent " << sent << " bytes";
}

TEST_F(HttpTest, HeadersPastTheLimitGet431) {
  HttpServerOptions options = Options();
  options.max_header_bytes = 1024;
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto res = Client(server.base_url())->Get("/healthz", {{"X-Big", std::string(2000, 'h')}});
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 431);
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"], "request line and headers exceed 1024 bytes");
}

TEST_F(HttpTest, ConnectionsPastThePerPeerCapAreClosedAtOnce) {
  HttpServerOptions options = Options();
  options.max_connections_per_peer = 3;
  HttpServer server(options);
  ASSERT_OK(server.Start());
  std::vector<int> held;
  for (int conn_idx = 0; conn_idx < 3; ++conn_idx) held.push_back(RawConnect(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int extra = RawConnect(server.port());
  ASSERT_TRUE(SendAll(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(ReadUntilClosed(extra), "");
  close(extra);
  EXPECT_THAT(metrics_.Exposition(), HasSubstr("ektp_http_connections_refused_total{reason=\"peer_cap\"} 1\n"));
  for (int fd : held) close(fd);
  StatusOr<HttpResponse> res = Unavailable("not tried");
  for (int attempt = 0; attempt < 50; ++attempt) {  // until the server has seen the closes
    res = Client(server.base_url())->Get("/healthz");
    if (res.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpTest, BodiesPastTheBufferedBudgetGet503) {
  HttpServerOptions options = Options();
  options.max_buffered_body_bytes = 2048;
  HttpServer server(options);
  AddEcho(server);
  ASSERT_OK(server.Start());
  auto client = Client(server.base_url());
  auto fits = client->Post("/echo/1", std::string(2048, 'x'), "text/plain");
  ASSERT_OK(fits);
  EXPECT_EQ(fits->status, 201);
  auto res = client->Post("/echo/1", std::string(2049, 'x'), "text/plain");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->header("Retry-After"), "1");
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"],
            "the server is receiving too many request bodies; retry later");
}

TEST_F(HttpTest, MalformedMultipartIs400WithoutTheHandler) {
  HttpServer server(Options());
  bool called = false;
  server.Handle("POST", "/enrollments", [&called](const HttpRequest&) {
    called = true;
    return HttpResponse::Text(200, "ok");
  });
  ASSERT_OK(server.Start());
  auto res = Client(server.base_url())
                 ->Post("/enrollments", "--xyz\r\nContent-Type: text/plain\r\n\r\nno name\r\n--xyz--\r\n",
                        "multipart/form-data; boundary=xyz");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"],
            "malformed multipart body: multipart part 1: the part has no Content-Disposition");
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ektp::net

namespace ektp::net {
namespace {

// Both servers answer through this one table; a code that changes its answer
// changes what stations and consoles do with it (retry, fix input, log in).
TEST(HttpStatusForTest, EachStatusCodeHasOneHttpStatus) {
  const std::pair<StatusCode, int> expected[] = {
      {StatusCode::kInvalidArgument, 400}, {StatusCode::kUnauthenticated, 401}, {StatusCode::kPermissionDenied, 403},
      {StatusCode::kNotFound, 404},        {StatusCode::kAlreadyExists, 409},   {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kAborted, 409},         {StatusCode::kResourceExhausted, 413}, {StatusCode::kUnimplemented, 501},
      {StatusCode::kUnavailable, 503},     {StatusCode::kDataLoss, 500},        {StatusCode::kInternal, 500},
  };
  for (const auto& [code, http] : expected) {
    EXPECT_EQ(HttpStatusFor(Status(code, "x")), http) << StatusCodeName(code);
  }
}

}  // namespace
}  // namespace ektp::net

namespace ektp::net {
namespace {

TEST_F(HttpTest, MetricsServesBuildInfoProcessFiguresAndTheCollectorsFigures) {
  HttpServerOptions options = Options();
  int calls = 0;
  options.collect_metrics = [&calls](service::MetricsRegistry& registry) {
    registry.GetGauge("ektp_test_queue_depth", "test").Set(7 + calls++);
    return Status::Ok();
  };
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto first = Client(server.base_url())->Get("/metrics");
  auto second = Client(server.base_url())->Get("/metrics");
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_THAT(first->body, HasSubstr("\nektp_test_queue_depth 7\n"));
  EXPECT_THAT(second->body, HasSubstr("\nektp_test_queue_depth 8\n"));  // taken at each scrape
  EXPECT_THAT(first->body, HasSubstr("ektp_metrics_collect_success 1\n"));
  EXPECT_THAT(first->body, HasSubstr("ektp_build_info{commit=\""));
  EXPECT_THAT(first->body, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(first->body, HasSubstr("\nprocess_open_fds "));
}

TEST_F(HttpTest, AFailedCollectorIsLoggedAndShownAsCollectSuccessZero) {
  service::CapturedLogs logs;
  HttpServerOptions options = Options();
  options.collect_metrics = [](service::MetricsRegistry& registry) {
    registry.GetGauge("ektp_test_partial", "test").Set(1);
    return Unavailable("database is down");
  };
  HttpServer server(options);
  ASSERT_OK(server.Start());
  auto res = Client(server.base_url())->Get("/metrics");
  ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("ektp_metrics_collect_success 0\n"));
  EXPECT_THAT(res->body, HasSubstr("\nektp_test_partial 1\n"));
  server.Stop();
  bool logged = false;
  for (const std::string& line : logs.lines()) {
    logged |= line.find("\"http.metrics_collect_failed\"") != std::string::npos &&
              line.find("database is down") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST_F(HttpTest, PolledRoutesLogAtDebugOthersAtInfoWithIntegerDurations) {
  service::CapturedLogs logs;
  service::SetLogLevel(service::LogLevel::kDebug);
  {
    HttpServer server(Options());
    server.Handle("GET", "/feed", [](const HttpRequest&) { return HttpResponse::Text(200, "items\n"); },
                  RouteOptions{.poll = true});
    server.Handle("GET", "/broken-feed", [](const HttpRequest&) { return HttpResponse::Text(404, "gone\n"); },
                  RouteOptions{.poll = true});
    AddEcho(server);
    ASSERT_OK(server.Start());
    auto client = Client(server.base_url());
    ASSERT_OK(client->Get("/metrics"));
    ASSERT_OK(client->Get("/feed"));
    ASSERT_OK(client->Get("/broken-feed"));
    ASSERT_OK(client->Post("/echo/1", "x", "text/plain"));
  }
  service::SetLogLevel(service::LogLevel::kInfo);
  std::map<std::string, std::string> level_by_route;
  for (const std::string& line : logs.lines()) {
    auto json = nlohmann::json::parse(line);
    if (json["event"] != "http.request") continue;
    level_by_route[json["route"]] = json["level"];
    EXPECT_TRUE(json["duration_ms"].is_number_integer()) << line;
  }
  EXPECT_EQ(level_by_route["/metrics"], "debug");
  EXPECT_EQ(level_by_route["/feed"], "debug");
  EXPECT_EQ(level_by_route["/broken-feed"], "info");  // a failing poll stays visible
  EXPECT_EQ(level_by_route["/echo/:id"], "info");
}

}  // namespace
}  // namespace ektp::net
