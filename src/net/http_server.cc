#include "net/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "net/log.h"
#include "net/metrics.h"

namespace ektp::net {
namespace {

// The route of the request being handled on this worker thread, from the
// dispatcher to the logger callback (httplib runs both on the same thread).
struct RequestScope {
  const std::string* route = nullptr;
  std::chrono::steady_clock::time_point start;
  bool started = false;
};
thread_local RequestScope t_scope;

const std::string kUnmatched = "unmatched";

struct Segment {
  bool is_param = false;
  std::string text;  // literal text, or the parameter name
};

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    segments.emplace_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                             : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

struct Route {
  std::string method;
  std::string pattern;
  std::vector<Segment> segments;
  HttpHandler handler;

  bool MatchPath(const std::vector<std::string>& path_segments,
                 std::map<std::string, std::string>* params) const {
    if (path_segments.size() != segments.size()) return false;
    for (size_t seg_idx = 0; seg_idx < segments.size(); ++seg_idx) {
      const Segment& seg = segments[seg_idx];
      if (seg.is_param) {
        if (path_segments[seg_idx].empty()) return false;
        if (params != nullptr) (*params)[seg.text] = path_segments[seg_idx];
      } else if (seg.text != path_segments[seg_idx]) {
        return false;
      }
    }
    return true;
  }
};

std::string_view ReasonFor(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no route for this path";
    case 405: return "method not allowed for this path";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 500: return "internal server error";
    case 503: return "service unavailable";
    default: return "request failed";
  }
}

void ToHttplib(const HttpResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [name, value] : in.headers) {
    if (LowerAscii(name) == "content-type" || LowerAscii(name) == "content-length") continue;
    out.set_header(name, value);
  }
  out.set_content(in.body, in.content_type);
}

void SetSocketOptions(int sock) {
  int yes = 1;
  // SO_REUSEADDR only: SO_REUSEPORT (httplib's default) would let a second
  // server bind the same port silently.
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  MetricsRegistry* metrics;
  std::vector<Route> routes;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  // Set when Stop() begins; /readyz then answers 503 and responses close their connection.
  std::atomic<bool> draining{false};
  Gauge* in_flight = nullptr;          // ektp_http_requests_in_flight, shared by the registry's servers
  std::atomic<int> handling{0};        // requests in this server's handlers
  bool started = false;
  bool tls = false;
  int port = -1;

  void AddRoute(std::string_view method, std::string_view pattern, HttpHandler handler) {
    Route route;
    route.method = std::string(method);
    route.pattern = std::string(pattern);
    for (std::string& text : SplitPath(pattern)) {
      Segment seg;
      if (text.size() > 1 && text.front() == ':') {
        seg.is_param = true;
        seg.text = text.substr(1);
      } else {
        seg.text = std::move(text);
      }
      route.segments.push_back(std::move(seg));
    }
    route.handler = std::move(handler);
    routes.push_back(std::move(route));
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    t_scope.route = nullptr;
    t_scope.start = std::chrono::steady_clock::now();
    t_scope.started = true;

    std::string method = req.method == "HEAD" ? "GET" : req.method;
    std::vector<std::string> path_segments = SplitPath(req.path);
    const Route* found = nullptr;
    std::string allowed;
    for (const Route& route : routes) {
      if (!route.MatchPath(path_segments, nullptr)) continue;
      if (route.method == method) {
        found = &route;
        break;
      }
      if (allowed.find(route.method) == std::string::npos) {
        allowed += (allowed.empty() ? "" : ", ") + route.method;
      }
    }
    if (found == nullptr) {
      if (!allowed.empty()) {
        HttpResponse out = HttpResponse::JsonError(405, ReasonFor(405));
        out.headers.emplace("Allow", allowed);
        ToHttplib(out, res);
      } else {
        ToHttplib(HttpResponse::JsonError(404, ReasonFor(404)), res);
      }
      return;
    }
    t_scope.route = &found->pattern;

    HttpRequest in;
    in.method = req.method;
    in.path = req.path;
    found->MatchPath(path_segments, &in.path_params);
    in.query_params.insert(req.params.begin(), req.params.end());
    for (const auto& [name, value] : req.headers) in.headers.emplace(LowerAscii(name), value);
    in.remote_addr = req.remote_addr;
    in.remote_port = req.remote_port;
    if (req.is_multipart_form_data()) {
      for (const auto& [name, file] : req.files) {
        in.parts.push_back(MultipartPart{file.name, file.filename, file.content_type, file.content});
      }
    } else {
      in.body = req.body;
    }

    in_flight->Add(1);
    ++handling;
    struct InFlight {
      Impl* impl;
      ~InFlight() {
        impl->in_flight->Add(-1);
        --impl->handling;
      }
    } in_flight_scope{this};
    try {
      ToHttplib(found->handler(in), res);
    } catch (const std::exception& e) {
      LogError("http.handler_exception", {{"route", found->pattern}, {"what", e.what()}});
      ToHttplib(HttpResponse::JsonError(500, ReasonFor(500)), res);
    } catch (...) {
      LogError("http.handler_exception", {{"route", found->pattern}});
      ToHttplib(HttpResponse::JsonError(500, ReasonFor(500)), res);
    }
    // Tells the client not to send its next request on this connection: the
    // server is about to close it.
    if (draining) res.set_header("Connection", "close");
  }

  void Record(const httplib::Request& req, const httplib::Response& res) {
    const std::string& route = t_scope.route != nullptr ? *t_scope.route : kUnmatched;
    double seconds = 0;
    if (t_scope.started) {
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scope.start).count();
    }
    t_scope = RequestScope{};

    metrics
        ->GetCounter("ektp_http_requests_total", "HTTP requests served, by method, route pattern and status.",
                     {{"method", req.method}, {"route", route}, {"code", std::to_string(res.status)}})
        .Increment();
    metrics
        ->GetHistogram("ektp_http_request_duration_seconds",
                       "Time spent handling HTTP requests, by method and route pattern.",
                       DefaultLatencyBuckets(), {{"method", req.method}, {"route", route}})
        .Observe(seconds);
    Log(res.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "http.request",
        {{"method", req.method},
         {"route", route},
         {"status", res.status},
         {"duration_ms", seconds * 1000.0},
         {"remote", req.remote_addr},
         {"bytes_in", req.body.size()},
         {"bytes_out", res.body.size()}});
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->metrics = impl_->options.metrics != nullptr ? impl_->options.metrics : &MetricsRegistry::Default();
  impl_->in_flight = &impl_->metrics->GetGauge("ektp_http_requests_in_flight",
                                               "HTTP requests being handled right now.");
  // Built-in endpoints come first so they cannot be shadowed.
  impl_->AddRoute("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::Text(200, "ok\n"); });
  impl_->AddRoute("GET", "/readyz", [impl = impl_.get()](const HttpRequest&) {
    if (impl->draining) return HttpResponse::Text(503, "not ready: draining (the server is shutting down)\n");
    Status ready = impl->options.readiness ? impl->options.readiness() : Status::Ok();
    if (ready.ok()) return HttpResponse::Text(200, "ready\n");
    return HttpResponse::Text(503, "not ready: " + ready.ToString() + "\n");
  });
  impl_->AddRoute("GET", "/metrics", [impl = impl_.get()](const HttpRequest&) {
    HttpResponse res;
    res.content_type = std::string(MetricsRegistry::kContentType);
    res.body = impl->metrics->Exposition();
    return res;
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string_view method, std::string_view pattern, HttpHandler handler) {
  impl_->AddRoute(method, pattern, std::move(handler));
}

Status HttpServer::Start() {
  Impl& impl = *impl_;
  if (impl.started) return FailedPrecondition("HTTP server already started");
  IgnoreSigpipe();
  const HttpServerOptions& opt = impl.options;
  impl.tls = !opt.tls_cert_path.empty() || !opt.tls_key_path.empty();
  if (impl.tls) {
    if (opt.tls_cert_path.empty() || opt.tls_key_path.empty()) {
      return InvalidArgument("TLS needs both a certificate and a key file");
    }
    auto server = std::make_unique<httplib::SSLServer>(opt.tls_cert_path.c_str(), opt.tls_key_path.c_str());
    if (!server->is_valid()) {
      return InvalidArgument("cannot load TLS certificate " + opt.tls_cert_path + " with key " +
                             opt.tls_key_path);
    }
    // No TLS 1.3 session tickets: clients pin and reconnect rarely, and tickets
    // arriving after the handshake only cost a round of reads.
    SSL_CTX_set_num_tickets(server->ssl_context(), 0);
    impl.server = std::move(server);
  } else {
    if (!IsLoopbackHost(opt.bind_address) && !opt.allow_plain_http_off_loopback) {
      return InvalidArgument("plain HTTP on " + opt.bind_address +
                             " is not allowed: configure a TLS certificate, or bind to loopback for development");
    }
    impl.server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl.server;
  int threads = opt.threads > 0 ? opt.threads : 1;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server.set_socket_options(SetSocketOptions);
  server.set_tcp_nodelay(true);  // avoid 40 ms Nagle/delayed-ACK stalls on kept-alive connections
  server.set_payload_max_length(opt.max_body_bytes);
  server.set_read_timeout(opt.read_timeout);
  server.set_write_timeout(opt.write_timeout);
  server.set_keep_alive_timeout(opt.keep_alive_timeout.count());
  server.set_keep_alive_max_count(static_cast<size_t>(std::max(1, opt.max_requests_per_connection)));

  auto dispatch = [&impl](const httplib::Request& req, httplib::Response& res) { impl.Dispatch(req, res); };
  const std::string any = ".*";
  server.Get(any, dispatch);
  server.Post(any, httplib::Server::Handler(dispatch));
  server.Put(any, httplib::Server::Handler(dispatch));
  server.Patch(any, httplib::Server::Handler(dispatch));
  server.Delete(any, httplib::Server::Handler(dispatch));
  server.Options(any, dispatch);
  size_t max_body = opt.max_body_bytes;
  server.set_error_handler(httplib::Server::HandlerWithResponse([max_body](const httplib::Request&,
                                                                         httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message(ReasonFor(res.status));
    if (res.status == 413) message = "request body exceeds " + std::to_string(max_body) + " bytes";
    HttpResponse out = HttpResponse::JsonError(res.status, message);
    res.set_content(out.body, out.content_type);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_logger([&impl](const httplib::Request& req, const httplib::Response& res) { impl.Record(req, res); });

  errno = 0;
  int port = -1;
  if (opt.port == 0) {
    port = server.bind_to_any_port(opt.bind_address);
  } else if (server.bind_to_port(opt.bind_address, opt.port)) {
    port = opt.port;
  }
  if (port <= 0) {
    int err = errno;
    impl.server.reset();
    return Unavailable("cannot bind " + opt.bind_address + ":" + std::to_string(opt.port) +
                       (err != 0 ? std::string(": ") + std::strerror(err) : std::string()));
  }
  impl.port = port;
  impl.listen_returned = false;
  impl.draining = false;
  impl.thread = std::thread([&impl] {
    impl.server->listen_after_bind();
    impl.listen_returned = true;
  });
  // Wait until the accept loop runs, so a prompt Stop() cannot miss it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && !impl.listen_returned && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server.is_running()) {
    server.stop();
    impl.thread.join();
    impl.server.reset();
    return Unavailable("HTTP server on " + opt.bind_address + ":" + std::to_string(port) +
                       " did not start accepting");
  }
  impl.started = true;
  LogInfo("http.server_started",
          {{"address", opt.bind_address}, {"port", port}, {"tls", impl.tls}, {"threads", threads}});
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.started) return;
  auto start = std::chrono::steady_clock::now();
  impl.draining = true;
  LogInfo("http.server_draining", {{"port", impl.port},
                                   {"in_flight", impl.handling.load()},
                                   {"drain_delay_ms", impl.options.drain_delay.count()}});
  if (impl.options.drain_delay.count() > 0) std::this_thread::sleep_for(impl.options.drain_delay);
  // Closes the listener; listen_after_bind() returns once the workers have
  // finished the requests they are handling.
  impl.server->stop();
  if (impl.thread.joinable()) impl.thread.join();
  impl.server.reset();
  impl.started = false;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LogInfo("http.server_stopped", {{"port", impl.port}, {"drain_ms", seconds * 1000.0}});
}

int HttpServer::port() const { return impl_->port; }

std::string HttpServer::base_url() const {
  std::string host = impl_->options.bind_address;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace ektp::net
