#include "net/http_server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "net/multipart.h"
#include "service/log.h"
#include "service/metrics.h"
#include "service/process_metrics.h"

namespace ektp::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const std::string kUnmatched = "unmatched";
// After a refusal whose body was left unread, the rest of it is read and
// discarded for at most this long, so the client sees the answer instead of
// a reset.
constexpr std::chrono::seconds kDiscardTimeout{2};

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
  size_t max_body_bytes = 0;
  bool on_io_thread = false;  // trivial built-ins only
  bool poll = false;          // RouteOptions::poll

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
    case 431: return "request headers too large";
    case 500: return "internal server error";
    case 503: return "service unavailable";
    default: return "request failed";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); a '%' not
// followed by two hex digits stays as it is.
std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t pos = 0; pos < in.size(); ++pos) {
    if (in[pos] == '%' && pos + 2 < in.size()) {
      int high = HexValue(in[pos + 1]);
      int low = HexValue(in[pos + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        pos += 2;
        continue;
      }
    }
    out += plus_is_space && in[pos] == '+' ? ' ' : in[pos];
  }
  return out;
}

void ParseQuery(std::string_view query, std::multimap<std::string, std::string>* params) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    params->emplace(PercentDecode(pair.substr(0, eq), true),
                    eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true));
  }
}

// Body bytes reserved from HttpServerOptions::max_buffered_body_bytes.
class BodyBudget {
 public:
  explicit BodyBudget(size_t capacity) : capacity_(capacity) {}
  bool TryReserve(size_t bytes) {
    size_t used = used_.load();
    do {
      if (bytes > capacity_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void Release(size_t bytes) { used_ -= bytes; }

 private:
  const size_t capacity_;
  std::atomic<size_t> used_{0};
};

}  // namespace

// Shared by the sessions; lives as long as the HttpServer.
struct HttpServer::Impl {
  HttpServerOptions options;
  service::MetricsRegistry* metrics;
  std::vector<Route> routes;
  service::Gauge* in_flight = nullptr;         // ektp_http_requests_in_flight, shared by the registry's servers
  service::Gauge* connections_open = nullptr;  // ektp_http_connections_open
  std::atomic<int> handling{0};       // requests in this server's handlers
  // Set when Stop() begins: /readyz answers 503 and responses close their connection.
  std::atomic<bool> draining{false};
  bool started = false;
  bool tls = false;
  int port = -1;

  // Present while started.
  std::unique_ptr<asio::io_context> io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> io_work;
  std::unique_ptr<asio::thread_pool> workers;
  std::unique_ptr<asio::ssl::context> ssl;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<BodyBudget> budget;
  std::thread io_thread;
  // Set on the I/O thread once Stop() has closed the listener: connections
  // about to wait for a request close instead.
  bool closing_idle = false;

  // Open connections, by id, and per peer address. Guarded by `mu`.
  struct SessionEntry {
    std::function<void()> close_if_idle;  // run on the I/O thread
  };
  std::mutex mu;
  std::condition_variable sessions_gone;
  std::map<uint64_t, SessionEntry> sessions;
  std::map<std::string, int> per_peer;
  uint64_t next_session_id = 0;

  void AddRoute(std::string_view method, std::string_view pattern, HttpHandler handler, RouteOptions route_options) {
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
    route.max_body_bytes = route_options.max_body_bytes;
    route.poll = route_options.poll;
    routes.push_back(std::move(route));
  }

  size_t BodyLimit(const Route* route) const {
    return route != nullptr && route->max_body_bytes > 0 ? route->max_body_bytes : options.max_body_bytes;
  }

  // The route for `method` and `path`, or nullptr and `*allowed` lists the
  // methods the path has (empty: no route at all).
  const Route* Match(std::string_view method, const std::vector<std::string>& path_segments,
                     std::string* allowed) const {
    std::string wanted = method == "HEAD" ? "GET" : std::string(method);
    for (const Route& route : routes) {
      if (!route.MatchPath(path_segments, nullptr)) continue;
      if (route.method == wanted) return &route;
      if (allowed->find(route.method) == std::string::npos) {
        *allowed += (allowed->empty() ? "" : ", ") + route.method;
      }
    }
    return nullptr;
  }

  HttpResponse RunHandler(const Route& route, const HttpRequest& request) {
    in_flight->Add(1);
    ++handling;
    HttpResponse out;
    try {
      out = route.handler(request);
    } catch (const std::exception& e) {
      service::LogError("http.handler_exception", {{"route", route.pattern}, {"what", e.what()}});
      out = HttpResponse::JsonError(500, ReasonFor(500));
    } catch (...) {
      service::LogError("http.handler_exception", {{"route", route.pattern}});
      out = HttpResponse::JsonError(500, ReasonFor(500));
    }
    in_flight->Add(-1);
    --handling;
    return out;
  }

  void Record(const std::string& method, const std::string& route, bool poll, int status, Clock::time_point start,
              const std::string& remote, size_t bytes_in, size_t bytes_out) {
    const Clock::duration elapsed = Clock::now() - start;
    double seconds = std::chrono::duration<double>(elapsed).count();
    metrics
        ->GetCounter("ektp_http_requests_total", "HTTP requests served, by method, route pattern and status.",
                     {{"method", method}, {"route", route}, {"code", std::to_string(status)}})
        .Increment();
    metrics
        ->GetHistogram("ektp_http_request_duration_seconds",
                       "Time spent handling HTTP requests, by method and route pattern.",
                       service::DefaultLatencyBuckets(), {{"method", method}, {"route", route}})
        .Observe(seconds);
    const service::LogLevel level = status >= 500              ? service::LogLevel::kWarn
                                    : poll && status < 400 ? service::LogLevel::kDebug
                                                           : service::LogLevel::kInfo;
    service::Log(level, "http.request",
        {{"method", method},
         {"route", route},
         {"status", status},
         {"duration_ms", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count())},
         {"remote", remote},
         {"bytes_in", bytes_in},
         {"bytes_out", bytes_out}});
  }

  void CountRefused(std::string_view reason) {
    metrics
        ->GetCounter("ektp_http_connections_refused_total",
                     "Connections closed on accept because a connection cap was reached, by cap.",
                     {{"reason", std::string(reason)}})
        .Increment();
  }

  // Registers a connection from `peer`; std::nullopt (and counted) if a cap is reached.
  std::optional<uint64_t> AdmitSession(const std::string& peer) {
    std::lock_guard lock(mu);
    if (static_cast<int>(sessions.size()) >= options.max_connections) {
      CountRefused("total_cap");
      return std::nullopt;
    }
    int& from_peer = per_peer[peer];
    if (from_peer >= options.max_connections_per_peer) {
      if (from_peer == 0) per_peer.erase(peer);
      CountRefused("peer_cap");
      return std::nullopt;
    }
    ++from_peer;
    uint64_t id = next_session_id++;
    sessions.emplace(id, SessionEntry{});
    connections_open->Add(1);
    return id;
  }

  void RemoveSession(uint64_t id, const std::string& peer) {
    std::lock_guard lock(mu);
    sessions.erase(id);
    if (--per_peer[peer] <= 0) per_peer.erase(peer);
    connections_open->Add(-1);
    if (sessions.empty()) sessions_gone.notify_all();
  }

  void Accept();
};

namespace {

// One connection. Lives on the I/O thread; only the handler runs elsewhere
// (on the worker pool), and its result is posted back. Owned by shared_ptrs
// held by its pending operations; it unregisters itself when destroyed.
// `Impl` is HttpServer::Impl (private, so named by HttpServer::Impl::Accept).
template <class Impl, class Stream>
class Session : public std::enable_shared_from_this<Session<Impl, Stream>> {
 public:
  Session(Impl& impl, uint64_t id, std::string peer, int peer_port, Stream stream)
      : impl_(impl),
        id_(id),
        peer_(std::move(peer)),
        peer_port_(peer_port),
        stream_(std::move(stream)),
        buffer_(impl.options.max_header_bytes + 8192) {}

  ~Session() {
    ReleaseBody();
    impl_.RemoveSession(id_, peer_);
  }

  void Run() {
    {
      std::lock_guard lock(impl_.mu);
      impl_.sessions[id_].close_if_idle = [weak = this->weak_from_this()] {
        if (auto self = weak.lock(); self != nullptr && self->waiting_for_headers_) self->Close();
      };
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ReadHeaders();
    } else {
      beast::get_lowest_layer(stream_).expires_after(impl_.options.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->ReadHeaders();
      });
    }
  }

 private:
  beast::tcp_stream& Socket() { return beast::get_lowest_layer(stream_); }

  void ReadHeaders() {
    if (impl_.closing_idle) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(impl_.options.max_header_bytes));
    // The route's limit is applied once the headers name the route. (Not boost::none: Boost 1.74
    // compares Content-Length against the optional, and any value is greater than none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    Socket().expires_after(served_ == 0 ? impl_.options.header_timeout
                                        : std::chrono::milliseconds(impl_.options.keep_alive_timeout));
    waiting_for_headers_ = true;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeaders(ec); });
  }

  void OnHeaders(beast::error_code ec) {
    waiting_for_headers_ = false;
    start_ = Clock::now();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Refuse(431, "request line and headers exceed " + std::to_string(impl_.options.max_header_bytes) +
                             " bytes");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Refuse(400, "malformed request: " + ec.message());
    }
    if (ec) return Close();  // closed, reset or timed out while idle or sending headers
    const auto& header = parser_->get();
    method_ = std::string(header.method_string());
    std::string_view target(header.target().data(), header.target().size());
    if (!target.starts_with("/")) return Refuse(400, "request target must be a path");
    size_t question = target.find('?');
    path_ = PercentDecode(target.substr(0, question), false);
    query_ = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    path_segments_ = SplitPath(path_);
    allowed_.clear();
    route_ = impl_.Match(method_, path_segments_, &allowed_);
    size_t limit = impl_.BodyLimit(route_);
    if (parser_->content_length().has_value() && *parser_->content_length() > limit) {
      return Refuse(413, "request body exceeds " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    size_t reserve = parser_->chunked() ? limit : parser_->content_length().value_or(0);
    if (reserve > 0 && !impl_.budget->TryReserve(reserve)) {
      return Refuse(503, "the server is receiving too many request bodies; retry later");
    }
    reserved_ = reserve;
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      continue_.emplace(http::status::continue_, header.version());
      Socket().expires_after(impl_.options.write_timeout);
      http::async_write(stream_, *continue_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Socket().expires_after(impl_.options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(413, "request body exceeds " + std::to_string(impl_.BodyLimit(route_)) + " bytes");
    }
    if (ec) return Close();  // the client went away or was too slow: nobody to answer
    keep_alive_ = parser_->keep_alive();
    auto message = parser_->release();
    bytes_in_ = message.body().size();
    if (route_ == nullptr) {
      ReleaseBody();
      if (allowed_.empty()) return Respond(HttpResponse::JsonError(404, ReasonFor(404)));
      HttpResponse out = HttpResponse::JsonError(405, ReasonFor(405));
      out.headers.emplace("Allow", allowed_);
      return Respond(std::move(out));
    }
    HttpRequest request;
    request.method = method_;
    request.path = path_;
    route_->MatchPath(path_segments_, &request.path_params);
    ParseQuery(query_, &request.query_params);
    for (const auto& field : message) {
      request.headers.emplace(LowerAscii(std::string_view(field.name_string().data(), field.name_string().size())),
                              std::string(field.value()));
    }
    request.remote_addr = peer_;
    request.remote_port = peer_port_;
    std::string content_type = request.header("content-type");
    if (LowerAscii(content_type).starts_with("multipart/form-data")) {
      auto boundary = MultipartBoundary(content_type);
      auto parts = boundary.ok() ? ParseMultipart(message.body(), *boundary) : boundary.status();
      if (!parts.ok()) {
        ReleaseBody();
        return Respond(HttpResponse::JsonError(400, "malformed multipart body: " + parts.status().message()));
      }
      request.parts = std::move(parts).value();
      std::stable_sort(request.parts.begin(), request.parts.end(),
                       [](const MultipartPart& a, const MultipartPart& b) { return a.name < b.name; });
    } else {
      request.body = std::move(message.body());
    }
    if (route_->on_io_thread) return Respond(impl_.RunHandler(*route_, request));
    asio::post(*impl_.workers, [self = this->shared_from_this(), request = std::move(request)]() mutable {
      HttpResponse out = self->impl_.RunHandler(*self->route_, request);
      request = HttpRequest();  // frees the body before the budget is released
      asio::post(*self->impl_.io, [self, out = std::move(out)]() mutable {
        self->ReleaseBody();
        self->Respond(std::move(out));
      });
    });
  }

  // Answers without reading the body (if any) and closes the connection.
  void Refuse(int status, const std::string& message) {
    keep_alive_ = false;
    discard_rest_ = true;
    HttpResponse out = HttpResponse::JsonError(status, message);
    if (status == 503) out.headers.emplace("Retry-After", "1");
    Respond(std::move(out));
  }

  void Respond(HttpResponse out) {
    ++served_;
    bool keep_alive = keep_alive_ && !impl_.draining && served_ < impl_.options.max_requests_per_connection;
    response_.emplace(static_cast<http::status>(out.status), 11);
    for (const auto& [name, value] : out.headers) {
      std::string lower = LowerAscii(name);
      if (lower == "content-type" || lower == "content-length" || lower == "connection") continue;
      response_->insert(name, value);
    }
    response_->set(http::field::content_type, out.content_type);
    status_ = out.status;
    bytes_out_ = out.body.size();
    response_->body() = std::move(out.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    if (method_ == "HEAD") response_->body().clear();  // Content-Length still names the GET body's size
    Socket().expires_after(impl_.options.write_timeout);
    http::async_write(stream_, *response_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      self->OnWritten(ec, keep_alive);
    });
  }

  void OnWritten(beast::error_code ec, bool keep_alive) {
    impl_.Record(method_.empty() ? std::string("-") : method_, route_ != nullptr ? route_->pattern : kUnmatched,
                 route_ != nullptr && route_->poll, status_, start_, peer_, bytes_in_, bytes_out_);
    response_.reset();
    route_ = nullptr;
    bytes_in_ = 0;
    if (ec) return Close();
    if (!keep_alive) return discard_rest_ ? DiscardThenClose() : Close();
    ReadHeaders();
  }

  // Reads and drops what the client still sends (the body of a refused
  // request) for at most kDiscardTimeout, then closes.
  void DiscardThenClose() {
    beast::error_code ignored;
    Socket().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!discard_buffer_) discard_buffer_ = std::make_unique<std::array<char, 4096>>();
    Socket().expires_after(kDiscardTimeout);
    DiscardMore();
  }
  void DiscardMore() {
    Socket().async_read_some(asio::buffer(*discard_buffer_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->Close();
                               self->DiscardMore();
                             });
  }

  void Close() {
    beast::error_code ignored;
    Socket().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close();
  }

  void ReleaseBody() {
    if (reserved_ == 0) return;
    impl_.budget->Release(reserved_);
    reserved_ = 0;
  }

  Impl& impl_;
  const uint64_t id_;
  const std::string peer_;
  const int peer_port_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  std::unique_ptr<std::array<char, 4096>> discard_buffer_;
  bool waiting_for_headers_ = false;
  bool keep_alive_ = false;
  bool discard_rest_ = false;
  int served_ = 0;
  // The request being served.
  Clock::time_point start_;
  std::string method_;
  std::string path_;
  std::string query_;
  std::vector<std::string> path_segments_;
  std::string allowed_;
  const Route* route_ = nullptr;
  size_t reserved_ = 0;
  int status_ = 0;
  size_t bytes_in_ = 0;
  size_t bytes_out_ = 0;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Out of descriptors or similar: retry shortly instead of spinning.
      service::LogWarn("http.accept_failed", {{"error", ec.message()}});
      auto timer = std::make_shared<asio::steady_timer>(*io, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) {
        if (acceptor->is_open()) Accept();
      });
      return;
    }
    beast::error_code endpoint_ec;
    tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
    std::string peer = endpoint_ec ? std::string("unknown") : remote.address().to_string();
    std::optional<uint64_t> id = AdmitSession(peer);
    if (id.has_value()) {
      socket.set_option(tcp::no_delay(true), endpoint_ec);  // no Nagle/delayed-ACK stalls on kept-alive connections
      beast::tcp_stream stream(std::move(socket));
      if (tls) {
        std::make_shared<Session<Impl, beast::ssl_stream<beast::tcp_stream>>>(
            *this, *id, peer, remote.port(), beast::ssl_stream<beast::tcp_stream>(std::move(stream), *ssl))
            ->Run();
      } else {
        std::make_shared<Session<Impl, beast::tcp_stream>>(*this, *id, peer, remote.port(), std::move(stream))->Run();
      }
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->metrics = impl_->options.metrics != nullptr ? impl_->options.metrics : &service::MetricsRegistry::Default();
  impl_->in_flight = &impl_->metrics->GetGauge("ektp_http_requests_in_flight",
                                               "HTTP requests being handled right now.");
  impl_->connections_open = &impl_->metrics->GetGauge("ektp_http_connections_open", "HTTP connections open.");
  // Built-in endpoints come first so they cannot be shadowed.
  constexpr RouteOptions kPolled{.poll = true};
  impl_->AddRoute("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::Text(200, "ok\n"); }, kPolled);
  impl_->routes.back().on_io_thread = true;
  impl_->AddRoute(
      "GET", "/readyz",
      [impl = impl_.get()](const HttpRequest&) {
        if (impl->draining) return HttpResponse::Text(503, "not ready: draining (the server is shutting down)\n");
        Status ready = impl->options.readiness ? impl->options.readiness() : Status::Ok();
        if (ready.ok()) return HttpResponse::Text(200, "ready\n");
        return HttpResponse::Text(503, "not ready: " + ready.ToString() + "\n");
      },
      kPolled);
  impl_->AddRoute(
      "GET", "/metrics",
      [impl = impl_.get()](const HttpRequest&) {
        HttpResponse res;
        res.content_type = std::string(service::MetricsRegistry::kContentType);
        service::MetricsRegistry scraped;
        service::AddProcessMetrics(scraped);
        if (impl->options.collect_metrics) {
          Status collected = impl->options.collect_metrics(scraped);
          if (!collected.ok()) service::LogWarn("http.metrics_collect_failed", {{"error", collected.ToString()}});
          scraped
              .GetGauge("ektp_metrics_collect_success",
                        "1 if the figures taken at this scrape were all collected, 0 if some failed (see the log)")
              .Set(collected.ok() ? 1 : 0);
        }
        res.body = impl->metrics->Exposition() + scraped.Exposition();
        return res;
      },
      kPolled);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string_view method, std::string_view pattern, HttpHandler handler,
                        RouteOptions options) {
  impl_->AddRoute(method, pattern, std::move(handler), options);
}

Status HttpServer::Start() {
  Impl& impl = *impl_;
  if (impl.started) return FailedPrecondition("HTTP server already started");
  IgnoreSigpipe();
  const HttpServerOptions& opt = impl.options;
  impl.tls = !opt.tls_cert_path.empty() || !opt.tls_key_path.empty();
  std::unique_ptr<asio::ssl::context> ssl;
  if (impl.tls) {
    if (opt.tls_cert_path.empty() || opt.tls_key_path.empty()) {
      return InvalidArgument("TLS needs both a certificate and a key file");
    }
    ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::no_compression);
    beast::error_code ec;
    ssl->use_certificate_chain_file(opt.tls_cert_path, ec);
    if (!ec) ssl->use_private_key_file(opt.tls_key_path, asio::ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ssl->native_handle()) != 1) {
      return InvalidArgument("cannot load TLS certificate " + opt.tls_cert_path + " with key " + opt.tls_key_path);
    }
    // No TLS 1.3 session tickets: clients pin and reconnect rarely, and tickets
    // arriving after the handshake only cost a round of reads.
    SSL_CTX_set_num_tickets(ssl->native_handle(), 0);
    // An idle TLS connection keeps no read/write buffers.
    SSL_CTX_set_mode(ssl->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  } else if (!IsLoopbackHost(opt.bind_address) && !opt.allow_plain_http_off_loopback) {
    return InvalidArgument("plain HTTP on " + opt.bind_address +
                           " is not allowed: configure a TLS certificate, or bind to loopback for development");
  }

  auto io = std::make_unique<asio::io_context>(1);
  auto acceptor = std::make_unique<tcp::acceptor>(*io);
  std::string where = opt.bind_address + ":" + std::to_string(opt.port);
  beast::error_code ec;
  tcp::resolver resolver(*io);
  auto endpoints = resolver.resolve(opt.bind_address, std::to_string(opt.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Unavailable("cannot bind " + where + ": " + (ec ? ec.message() : std::string("no such address")));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor->open(endpoint.protocol(), ec);
  // SO_REUSEADDR only: SO_REUSEPORT would let a second server bind the same port silently.
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot bind " + where + ": " + ec.message());

  int threads = opt.threads > 0 ? opt.threads : 1;
  impl.port = acceptor->local_endpoint().port();
  impl.draining = false;
  impl.closing_idle = false;
  impl.io = std::move(io);
  impl.io_work.emplace(impl.io->get_executor());
  impl.acceptor = std::move(acceptor);
  impl.ssl = std::move(ssl);
  impl.workers = std::make_unique<asio::thread_pool>(static_cast<size_t>(threads));
  impl.budget = std::make_unique<BodyBudget>(opt.max_buffered_body_bytes);
  impl.Accept();
  impl.io_thread = std::thread([&impl] { impl.io->run(); });
  impl.started = true;
  service::LogInfo("http.server_started",
          {{"address", opt.bind_address}, {"port", impl.port}, {"tls", impl.tls}, {"threads", threads}});
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.started) return;
  auto start = Clock::now();
  impl.draining = true;
  service::LogInfo("http.server_draining", {{"port", impl.port},
                                   {"in_flight", impl.handling.load()},
                                   {"drain_delay_ms", impl.options.drain_delay.count()}});
  if (impl.options.drain_delay.count() > 0) std::this_thread::sleep_for(impl.options.drain_delay);
  std::promise<void> listener_closed;
  asio::post(*impl.io, [&impl, &listener_closed] {
    beast::error_code ignored;
    impl.acceptor->close(ignored);
    impl.closing_idle = true;
    std::vector<std::function<void()>> closers;
    {
      std::lock_guard lock(impl.mu);
      for (auto& [id, entry] : impl.sessions) {
        if (entry.close_if_idle) closers.push_back(entry.close_if_idle);
      }
    }
    for (auto& close_if_idle : closers) close_if_idle();
    listener_closed.set_value();
  });
  listener_closed.get_future().wait();
  {
    std::unique_lock lock(impl.mu);
    impl.sessions_gone.wait(lock, [&impl] { return impl.sessions.empty(); });
  }
  impl.io_work.reset();
  impl.io->stop();
  impl.io_thread.join();
  impl.workers->join();
  impl.acceptor.reset();
  impl.workers.reset();
  impl.io.reset();
  impl.ssl.reset();
  impl.budget.reset();
  impl.started = false;
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  service::LogInfo("http.server_stopped", {{"port", impl.port}, {"drain_ms", static_cast<int64_t>(seconds * 1000.0)}});
}

int HttpServer::port() const { return impl_->port; }

std::string HttpServer::base_url() const {
  std::string host = impl_->options.bind_address;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace ektp::net
