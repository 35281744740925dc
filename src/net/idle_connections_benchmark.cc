// Not a test: how long GET /healthz takes while N plain TCP connections are
// held open without sending a byte (slow or idle clients). Prints one JSON
// object per N. Usage: idle_connections_benchmark [N ...] (default 0 9 100)
// The server runs with its defaults (HttpServerOptions{}), in this process,
// except the per-peer connection cap, lifted because every client here is
// 127.0.0.1 (with the cap of 100, the 101st connection is refused at once).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/testing.h"
#include "service/metrics.h"

int main(int argc, char** argv) {
  using namespace ektp::net;
  std::vector<int> counts;
  for (int arg_idx = 1; arg_idx < argc; ++arg_idx) counts.push_back(std::atoi(argv[arg_idx]));
  if (counts.empty()) counts = {0, 9, 100};
  for (int idle : counts) {
    ektp::service::MetricsRegistry metrics;
    HttpServerOptions options;
    options.metrics = &metrics;
    options.max_connections_per_peer = 10'000;
    HttpServer server(options);
    if (!server.Start().ok()) return 1;
    std::vector<int> fds;
    for (int conn_idx = 0; conn_idx < idle; ++conn_idx) {
      fds.push_back(ektp::net::testing::ConnectLoopback(server.port()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server has accepted them
    HttpClientOptions client_options;
    client_options.read_timeout = std::chrono::seconds(60);
    auto client = HttpClient::Create(server.base_url(), client_options);
    auto start = std::chrono::steady_clock::now();
    auto res = (*client)->Get("/healthz");
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"idle_connections\": %d, \"healthz_status\": %d, \"healthz_ms\": %.1f}\n", idle,
                res.ok() ? res->status : 0, ms);
    std::fflush(stdout);
    for (int fd : fds) close(fd);
  }
  return 0;
}
