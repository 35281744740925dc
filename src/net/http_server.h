// HttpServer: an HTTP/1.1 (optionally HTTPS) server on Boost.Beast/Asio, with
// routing, request metrics, one structured log line per request, and the
// built-in endpoints
//   GET /healthz  200 "ok" while the process serves (answered on the I/O
//                 thread, so busy handlers do not delay it)
//   GET /readyz   200 "ready", or 503 with the readiness Status as the body;
//                 503 "draining" once Stop() has begun
//   GET /metrics  the MetricsRegistry in Prometheus text format 0.0.4
//
// Route patterns are literal paths whose segments may be ":name"
// placeholders: "/stations/:id/feed" matches "/stations/ST-01/feed" with
// path_params["id"] == "ST-01". A placeholder matches one non-empty segment
// (no '/'). Matching is exact (no prefix match, a trailing '/' matters).
// Literal routes and placeholder routes may overlap; the first registered
// match wins. A path that matches with another method gets 405.
//
// Model: one I/O thread accepts, reads and writes every connection
// asynchronously; handlers run on a pool of `threads` workers once their
// request is complete. An idle or slow connection therefore holds no thread,
// only its buffers, and is bounded by deadlines and connection caps:
//   - the request line and headers must arrive within header_timeout (the
//     first request of a connection) or keep_alive_timeout (later ones), and
//     be at most max_header_bytes (431 otherwise): a slow-loris sender is cut;
//   - the body must arrive within body_timeout of its headers;
//   - the body limit of the matched route (RouteOptions) is checked against
//     Content-Length before a byte of the body is read, and enforced while a
//     chunked body streams: either way 413, the handler never runs, and the
//     connection closes after the rest of the body is discarded unread;
//   - bodies being received or handled reserve their size (Content-Length,
//     or the route limit for chunked) from max_buffered_body_bytes; a request
//     that does not fit gets 503 with Retry-After;
//   - at most max_connections connections in total and
//     max_connections_per_peer from one peer address; further connections
//     are closed at once.
// docs/operations.md states the memory this bounds.
//
// Every response is counted in
//   ektp_http_requests_total{method, route, code}
//   ektp_http_request_duration_seconds{method, route}
// and the requests being handled right now in the gauge
//   ektp_http_requests_in_flight
// where `route` is the matched pattern ("unmatched" otherwise), and logged as
// event "http.request" with method, route, status, duration and peer address.
// Raw paths, query strings and bodies are never logged or used as labels, so
// PII in them does not leak. Connections: gauge ektp_http_connections_open,
// counter ektp_http_connections_refused_total{reason} ("total_cap", "peer_cap").
//
// multipart/form-data bodies are parsed strictly (net/multipart.h) into
// HttpRequest::parts before the handler runs; a malformed one gets 400.
//
// Errors the server produces itself (400, 404, 405, 413, 431, 500, 503) have a
// JSON body {"error": "...", "status": N}. A handler that throws gets a 500.
//
// Thread-safety: Handle() REQUIRES the server not started. Start() and Stop()
// are called from one controlling thread. Handlers run concurrently on the
// worker pool and must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_types.h"

namespace ektp::service {
class MetricsRegistry;
}  // namespace ektp::service

namespace ektp::net {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // Address to bind. Default loopback only; "0.0.0.0" for all interfaces.
  std::string bind_address = "127.0.0.1";
  // 0 picks an ephemeral port; HttpServer::port() tells which.
  int port = 0;
  // TLS: both set for HTTPS, both empty for plain HTTP. PEM files.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Plain HTTP is for development on loopback: without TLS, Start() refuses a
  // non-loopback bind_address unless this is set. Default false.
  bool allow_plain_http_off_loopback = false;
  // The body limit of routes registered without one (RouteOptions). Default 64 KiB.
  size_t max_body_bytes = 64 * 1024;
  // The bodies being received or handled at once, in total (see the model
  // above). Default 256 MiB.
  size_t max_buffered_body_bytes = 256 * 1024 * 1024;
  // Request line plus headers; larger gets 431. Default 16 KiB.
  size_t max_header_bytes = 16 * 1024;
  // Open connections, in total and from one peer address. Defaults 1000, 100.
  int max_connections = 1000;
  int max_connections_per_peer = 100;
  // Worker threads that run handlers. Connections hold no worker. Default 8.
  int threads = 8;
  // A new connection's TLS handshake, request line and headers must arrive
  // within this. Default 10 s.
  std::chrono::milliseconds header_timeout{10'000};
  // A request body must arrive within this of its headers. Default 60 s.
  std::chrono::milliseconds body_timeout{60'000};
  // A response must be written within this. Default 10 s.
  std::chrono::milliseconds write_timeout{10'000};
  // How long an idle keep-alive connection is kept: the next request's
  // headers must arrive within this. Default 5 s.
  std::chrono::seconds keep_alive_timeout{5};
  // Requests served on one connection before the server closes it. Default 1000.
  int max_requests_per_connection = 1000;
  // Decides /readyz: OK → 200, otherwise 503 naming the reason. May be called
  // concurrently. Not called while draining (see Stop()). Default: always ready.
  std::function<Status()> readiness;
  // How long Stop() keeps accepting after draining begins, so that a load
  // balancer polling /readyz sees 503 and takes the server out of rotation
  // before its listener closes. Default 0: the listener closes at once, and
  // clients that connect afterwards are refused (and fail over).
  std::chrono::milliseconds drain_delay{0};
  // Where request metrics go and what /metrics serves. Not owned; must
  // outlive the server. Default (nullptr): MetricsRegistry::Default().
  service::MetricsRegistry* metrics = nullptr;
  // Called on each GET /metrics with an empty registry to fill with figures
  // taken at scrape time (queue depths from the database, ...); its families
  // are served after those of `metrics`, so their names must differ. An error
  // is logged (`http.metrics_collect_failed`) and what was filled is still
  // served, with ektp_metrics_collect_success 0 (1 otherwise). May be called
  // concurrently. Default: none. Build info and process metrics
  // (service/process_metrics.h) are always added.
  std::function<Status(service::MetricsRegistry&)> collect_metrics;
};

struct RouteOptions {
  // Larger request bodies get 413 before the handler runs. 0 (the default):
  // HttpServerOptions::max_body_bytes.
  size_t max_body_bytes = 0;
  // A route clients poll (a sync feed, /metrics): its successful requests
  // are logged at debug instead of info. Default false.
  bool poll = false;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  // Stops the server if it is running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for `method` ("GET", "POST", "PUT", "PATCH",
  // "DELETE") and `pattern` (see above). GET routes also answer HEAD.
  // REQUIRES: not started; `pattern` starts with '/'.
  void Handle(std::string_view method, std::string_view pattern, HttpHandler handler, RouteOptions options = {});

  // Binds and starts serving on background threads. Returns kUnavailable
  // naming the address if it cannot bind, kInvalidArgument if the TLS
  // files cannot be loaded or plain HTTP is asked for off loopback,
  // kFailedPrecondition if already started.
  Status Start();

  // Graceful stop, in this order:
  //  1. draining: /readyz answers 503 "draining" and every response carries
  //     "Connection: close", so clients do not reuse their connections;
  //  2. after drain_delay, the listener closes (new connections are refused);
  //  3. connections waiting for a request's headers are closed; requests
  //     being received or handled finish and their responses are sent with
  //     "Connection: close" (a body still arriving may take up to body_timeout);
  //  4. the I/O and worker threads are joined.
  // Idempotent; the server may be started again afterwards.
  void Stop();

  // The bound port. REQUIRES: Start() succeeded.
  int port() const;
  // "http://127.0.0.1:8443" or "https://...". REQUIRES: Start() succeeded.
  std::string base_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ektp::net
