// HttpClient: requests to one server, "http://host:port" or
// "https://host:port", over cpp-httplib.
//
// TLS uses certificate pinning: the client trusts exactly the one server
// certificate given as PEM (central's self-signed certificate, see tls.h),
// and checks that the URL's host is in its subjectAltName. No system CA is
// trusted. A server presenting any other certificate is refused with
// kUnauthenticated and a message naming certificate verification.
//
// How the pin is obtained (registration): `ektp station init` calls
// FetchServerCertificatePem() on first contact (trust on first use), and
// compares CertificateSha256() of the result with the fingerprint the admin
// gave out of band whenever one is given. The PEM is then stored on the
// station and passed here as `pinned_cert_pem` on every later start.
//
// Errors (the client never retries; retry policy belongs to the caller):
//   kUnavailable       cannot connect (refused, unreachable, connect timeout),
//                      TLS handshake failure, send failure, read timeout,
//                      connection closed or reset before a full response.
//   kUnauthenticated   the server's certificate does not match the pin or host.
//   kInvalidArgument   bad base URL or pinned certificate (from Create()).
// Any HTTP status, including 4xx and 5xx, is a successful HttpResponse.
// A kept-alive connection the server closed while idle is noticed and
// reopened before sending; a request is never sent twice.
//
// Thread-safety: thread-safe; concurrent requests on one client are
// serialized (one connection, kept alive between requests).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_types.h"

namespace ektp::net {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // https only: the one trusted server certificate, as PEM text.
  // REQUIRED for https URLs (unless insecure_skip_verify).
  std::string pinned_cert_pem;
  // https only: no certificate or host check at all. Only for
  // FetchServerCertificatePem-style probing and tests; never in production.
  bool insecure_skip_verify = false;
  // http:// is for development on loopback: Create() refuses an http URL
  // whose host is not loopback unless this is set. Default false.
  bool allow_plain_http_off_loopback = false;
  // Reuse the connection between requests. Default on.
  bool keep_alive = true;
};

class HttpClient {
 public:
  // Parses `base_url` ("http://host:port" or "https://host:port"; no path)
  // and loads the pin. kInvalidArgument on a bad URL, a bad/missing pin, or
  // plain http off loopback (see allow_plain_http_off_loopback).
  static StatusOr<std::unique_ptr<HttpClient>> Create(std::string_view base_url, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `path` starts with '/' and may carry a query string. `headers` are extra
  // request headers.
  StatusOr<HttpResponse> Get(std::string_view path, const HttpHeaders& headers = {});
  StatusOr<HttpResponse> Post(std::string_view path, std::string_view body, std::string_view content_type,
                              const HttpHeaders& headers = {});

  // multipart/form-data POST of `parts`.
  StatusOr<HttpResponse> PostMultipart(std::string_view path, const std::vector<MultipartPart>& parts,
                                       const HttpHeaders& headers = {});

  const std::string& base_url() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Connects to `https_base_url` without verifying anything and returns the
// certificate the server presents, as PEM. For trust on first use; compare
// its CertificateSha256() with an out-of-band fingerprint when there is one.
// kUnavailable if the server cannot be reached or the handshake fails;
// kInvalidArgument if the URL is not https.
StatusOr<std::string> FetchServerCertificatePem(std::string_view https_base_url,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace ektp::net
