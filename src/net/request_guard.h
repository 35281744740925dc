// RequestGuard: the checks a route reachable from a web browser makes before
// its handler reads the request, so that a page from another origin cannot log
// in, enroll or act with an operator's session, and a DNS-rebound name cannot
// reach a server on loopback. The web console is served by the same servers,
// from the same origin, so it passes every check.
//
// Check() refuses, in this order:
//   Host          absent, or its name (port ignored, case-insensitive) is none
//                 of: a loopback name (localhost, 127.0.0.0/8, ::1), the bind
//                 address (unless it is the wildcard 0.0.0.0 or ::), a name in
//                 `served_hosts`                                         -> 403
//   Origin        present and not this server's own origin, that is not
//                 "<scheme>://<Host>" (default ports 80/443 may be left out;
//                 "null" is never our origin)                            -> 403
//   Content-Type  for kJson routes not application/json, for kMultipart
//                 routes not multipart/form-data (parameters such as
//                 "; charset=utf-8" or the boundary are allowed)         -> 415
// A request without Origin (curl, the station's own sync client, a browser's
// same-origin GET) is not refused for that: browsers send Origin on every
// cross-origin POST, which is what the check is for.
//
// Thread-safety: immutable after construction; Check() may be called
// concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http_types.h"

namespace ektp::net {

struct RequestGuardOptions {
  // "http" or "https": the scheme the server is reached by.
  std::string scheme = "http";
  // The server's bind address; a host name check passes for it unless it is
  // a wildcard.
  std::string bind_address = "127.0.0.1";
  // Further names (or addresses) clients use to reach the server, e.g.
  // "central.ektp.go.id" or "10.1.2.3". Compared case-insensitively, without port.
  std::vector<std::string> served_hosts;
};

// What a route's body must be.
enum class BodyKind { kNone, kJson, kMultipart };

struct Refusal {
  int http_status = 403;  // 403 (Host, Origin) or 415 (Content-Type)
  Status status;          // kPermissionDenied or kInvalidArgument, naming the header
};

class RequestGuard {
 public:
  explicit RequestGuard(RequestGuardOptions options);

  // nullopt when the request may proceed.
  std::optional<Refusal> Check(const HttpRequest& request, BodyKind body) const;

 private:
  bool Serves(std::string_view host_name) const;
  RequestGuardOptions options_;
};

}  // namespace ektp::net
