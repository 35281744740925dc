#include "net/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>

#include "net/tls.h"

namespace ektp::net {
namespace {

struct ParsedUrl {
  bool https = false;
  std::string host;
  int port = 0;
};

StatusOr<ParsedUrl> ParseBaseUrl(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.https = true;
    rest = url.substr(8);
  } else {
    return InvalidArgument("base URL '" + std::string(url) + "' must start with http:// or https://");
  }
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos || rest.find('?') != std::string_view::npos) {
    return InvalidArgument("base URL '" + std::string(url) + "' must not have a path");
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {  // [ipv6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("base URL '" + std::string(url) + "' is malformed");
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (after.starts_with(":")) port_text = after.substr(1);
    else if (!after.empty()) return InvalidArgument("base URL '" + std::string(url) + "' is malformed");
  } else {
    size_t colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgument("base URL '" + std::string(url) + "' has no host");
  if (port_text.empty()) {
    out.port = out.https ? 443 : 80;
  } else {
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || out.port <= 0 || out.port > 65535) {
      return InvalidArgument("base URL '" + std::string(url) + "' has a bad port");
    }
  }
  return out;
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

StatusOr<std::string> DerOf(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return Internal("cannot encode certificate");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

StatusOr<std::string> PinnedDer(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  ERR_clear_error();
  if (!cert) return InvalidArgument("pinned server certificate is not a PEM certificate");
  return DerOf(cert.get());
}

std::string PathForMessage(std::string_view path) {
  return std::string(path.substr(0, path.find('?')));  // query strings may carry PII
}

}  // namespace

struct HttpClient::Impl {
  std::string base_url;
  ParsedUrl url;
  HttpClientOptions options;
  std::string pinned_der;
  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* ssl = nullptr;  // == client.get() for https
  std::mutex mu;
  // Written by the verify callback during a request (under `mu`).
  std::string presented_fingerprint;
  bool pin_mismatch = false;

  // OpenSSL chain verification replaced by an exact pin comparison. httplib
  // checks the resulting verify code and then the host name against the SAN.
  static int VerifyPinned(X509_STORE_CTX* store_ctx, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
    self->pin_mismatch = false;
    if (leaf == nullptr) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNSPECIFIED);
      return 0;
    }
    StatusOr<std::string> der = DerOf(leaf);
    if (!der.ok() || *der != self->pinned_der) {
      self->pin_mismatch = true;
      if (der.ok()) {
        StatusOr<std::string> fp = CertificateSha256Der(*der);
        self->presented_fingerprint = fp.ok() ? *fp : "";
      }
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_UNTRUSTED);
      return 0;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_NOT_YET_VALID);
      return 0;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_HAS_EXPIRED);
      return 0;
    }
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
    return 1;
  }

  template <typename Send>
  StatusOr<HttpResponse> Run(std::string_view method, std::string_view path, Send send) {
    std::lock_guard lock(mu);
    DropStaleConnection();
    pin_mismatch = false;
    presented_fingerprint.clear();
    auto start = std::chrono::steady_clock::now();
    httplib::Result result = send();
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (result) {
      HttpResponse out;
      out.status = result->status;
      out.body = std::move(result->body);
      out.content_type.clear();
      for (const auto& [name, value] : result->headers) {
        std::string lower = LowerAscii(name);
        if (lower == "content-type" && out.content_type.empty()) out.content_type = value;
        out.headers.emplace(std::move(lower), value);
      }
      return out;
    }
    std::string what = std::string(method) + " " + base_url + PathForMessage(path) + ": ";
    auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
    switch (result.error()) {
      case httplib::Error::Connection:
        return Unavailable(what + "cannot connect (connection refused, host unreachable or connect timeout after " +
                           ms(options.connect_timeout) + ")");
      case httplib::Error::ConnectionTimeout:
        return Unavailable(what + "connect timed out after " + ms(options.connect_timeout));
      case httplib::Error::BindIPAddress:
        return Unavailable(what + "cannot bind the local address");
      case httplib::Error::Write:
        return Unavailable(what + "connection lost while sending the request");
      case httplib::Error::Read:
        if (elapsed + std::chrono::milliseconds(50) >= options.read_timeout) {
          return Unavailable(what + "no response within the read timeout of " + ms(options.read_timeout));
        }
        return Unavailable(what + "connection closed or reset before a complete response");
      case httplib::Error::SSLConnection:
        return Unavailable(what + "TLS handshake failed");
      case httplib::Error::SSLServerVerification: {
        long code = ssl != nullptr ? ssl->get_openssl_verify_result() : X509_V_OK;
        if (pin_mismatch) {
          return Unauthenticated(what + "server certificate verification failed: the server presented certificate sha256:" +
                                 presented_fingerprint + ", which is not the pinned certificate");
        }
        if (code != X509_V_OK) {
          return Unauthenticated(what + "server certificate verification failed: " +
                                 X509_verify_cert_error_string(code));
        }
        return Unauthenticated(what + "server certificate verification failed: the certificate does not name host " +
                               url.host);
      }
      case httplib::Error::SSLLoadingCerts:
        return Internal(what + "cannot set up the pinned certificate");
      case httplib::Error::Canceled:
        return Unavailable(what + "request canceled");
      default:
        return Unavailable(what + "request failed (" + httplib::to_string(result.error()) + ")");
    }
  }

  // A kept-alive connection whose peer has shut it down (FIN seen) is closed
  // here, so the next send opens a fresh one instead of failing. httplib's own
  // check misses this under TLS, where a close_notify record precedes the FIN
  // and looks like data. POLLIN alone is not enough: TLS 1.3 session tickets
  // also arrive between requests.
  void DropStaleConnection() {
    if (!client->is_socket_open()) return;
    pollfd pfd{client->socket(), POLLRDHUP, 0};
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) client->stop();
  }

  httplib::Headers ToHeaders(const HttpHeaders& headers) {
    return httplib::Headers(headers.begin(), headers.end());
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url, HttpClientOptions options) {
  IgnoreSigpipe();
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->url, ParseBaseUrl(base_url));
  impl->base_url = std::string(base_url);
  if (impl->base_url.ends_with("/")) impl->base_url.pop_back();
  impl->options = std::move(options);
  const HttpClientOptions& opt = impl->options;
  if (impl->url.https) {
    auto ssl = std::make_unique<httplib::SSLClient>(impl->url.host, impl->url.port);
    if (!ssl->is_valid()) return Internal("cannot create a TLS client context");
    if (opt.insecure_skip_verify) {
      ssl->enable_server_certificate_verification(false);
    } else {
      if (opt.pinned_cert_pem.empty()) {
        return InvalidArgument("https URL " + impl->base_url + " needs a pinned server certificate");
      }
      ASSIGN_OR_RETURN(impl->pinned_der, PinnedDer(opt.pinned_cert_pem));
      ssl->enable_server_certificate_verification(true);
      SSL_CTX_set_cert_verify_callback(ssl->ssl_context(), &Impl::VerifyPinned, impl.get());
    }
    impl->ssl = ssl.get();
    impl->client = std::move(ssl);
  } else {
    if (!IsLoopbackHost(impl->url.host) && !opt.allow_plain_http_off_loopback) {
      return InvalidArgument("plain http to " + impl->base_url +
                             " is not allowed: use https with a pinned certificate (http is for loopback only)");
    }
    impl->client = std::make_unique<httplib::ClientImpl>(impl->url.host, impl->url.port);
  }
  httplib::ClientImpl& client = *impl->client;
  client.set_connection_timeout(opt.connect_timeout);
  client.set_read_timeout(opt.read_timeout);
  client.set_write_timeout(opt.write_timeout);
  client.set_keep_alive(opt.keep_alive);
  client.set_tcp_nodelay(true);  // headers and body go in separate writes
  client.set_follow_location(false);
  client.set_decompress(true);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

StatusOr<HttpResponse> HttpClient::Get(std::string_view path, const HttpHeaders& headers) {
  std::string p(path);
  httplib::Headers h = impl_->ToHeaders(headers);
  return impl_->Run("GET", path, [&] { return impl_->client->Get(p, h); });
}

StatusOr<HttpResponse> HttpClient::Post(std::string_view path, std::string_view body, std::string_view content_type,
                                        const HttpHeaders& headers) {
  std::string p(path);
  std::string ct(content_type);
  httplib::Headers h = impl_->ToHeaders(headers);
  return impl_->Run("POST", path, [&] { return impl_->client->Post(p, h, body.data(), body.size(), ct); });
}

StatusOr<HttpResponse> HttpClient::PostMultipart(std::string_view path, const std::vector<MultipartPart>& parts,
                                                 const HttpHeaders& headers) {
  std::string p(path);
  httplib::Headers h = impl_->ToHeaders(headers);
  httplib::MultipartFormDataItems items;
  for (const MultipartPart& part : parts) {
    items.push_back(httplib::MultipartFormData{part.name, part.content, part.filename, part.content_type});
  }
  return impl_->Run("POST", path, [&] { return impl_->client->Post(p, h, items); });
}

const std::string& HttpClient::base_url() const { return impl_->base_url; }

namespace {

// A connected TCP socket or an error, with a timeout on connect.
StatusOr<int> ConnectTcp(const ParsedUrl& url, std::chrono::milliseconds timeout, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  int rc = getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &addrs);
  if (rc != 0) return Unavailable(what + "cannot resolve host: " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    int sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (sock < 0) continue;
    int flags = fcntl(sock, F_GETFL, 0);
    fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    int c = connect(sock, ai->ai_addr, ai->ai_addrlen);
    if (c != 0 && errno == EINPROGRESS) {
      pollfd pfd{sock, POLLOUT, 0};
      int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
      if (ready == 0) {
        last_error = "connect timed out";
      } else {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) c = 0;
        else last_error = std::strerror(err);
      }
    } else if (c != 0) {
      last_error = std::strerror(errno);
    }
    if (c == 0) {
      fcntl(sock, F_SETFL, flags);
      timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
      setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      freeaddrinfo(addrs);
      return sock;
    }
    close(sock);
  }
  freeaddrinfo(addrs);
  return Unavailable(what + "cannot connect: " + last_error);
}

}  // namespace

StatusOr<std::string> FetchServerCertificatePem(std::string_view https_base_url, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(ParsedUrl url, ParseBaseUrl(https_base_url));
  if (!url.https) return InvalidArgument("cannot fetch a certificate from non-https URL " + std::string(https_base_url));
  std::string what = "fetching the certificate of " + std::string(https_base_url) + ": ";
  ASSIGN_OR_RETURN(int sock, ConnectTcp(url, timeout, what));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    close(sock);
    return Internal(what + "cannot create a TLS context");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // trust on first use: inspect, don't verify
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, sock);
  SSL_set_tlsext_host_name(ssl, url.host.c_str());
  Status status;
  std::string pem;
  if (SSL_connect(ssl) != 1) {
    status = Unavailable(what + "TLS handshake failed");
  } else {
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert) {
      status = Unavailable(what + "the server presented no certificate");
    } else {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(bio, cert.get());
      char* data = nullptr;
      long len = BIO_get_mem_data(bio, &data);
      pem.assign(data, static_cast<size_t>(len));
      BIO_free(bio);
    }
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(sock);
  if (!status.ok()) return status;
  return pem;
}

}  // namespace ektp::net
