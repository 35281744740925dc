// Plain HTTP request and response values shared by HttpServer and HttpClient.
// They carry no library types, so including them is cheap.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::net {

// One part of a multipart/form-data body.
struct MultipartPart {
  std::string name;          // the form field name
  std::string filename;      // empty when the part is not a file
  std::string content_type;  // empty when the part gave none
  std::string content;       // raw bytes
};

// Header names are stored lower-cased; look them up with header().
using HttpHeaders = std::multimap<std::string, std::string>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query string
  std::map<std::string, std::string> path_params;  // from ":name" segments of the route pattern
  std::multimap<std::string, std::string> query_params;
  HttpHeaders headers;
  std::string body;  // empty for multipart/form-data bodies; see `parts`
  std::vector<MultipartPart> parts;  // multipart/form-data only; ordered by name, then body order
  std::string remote_addr;           // peer IP address
  int remote_port = 0;               // peer TCP port

  // The first value of header `name` (case-insensitive), or "" if absent.
  std::string header(std::string_view name) const;
  // The first value of query parameter `name`, or "" if absent.
  std::string query(std::string_view name) const;
  // The first part named `name`, or nullptr.
  const MultipartPart* part(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  HttpHeaders headers;  // extra headers; names lower-cased by the client

  // The first value of header `name` (case-insensitive), or "" if absent.
  std::string header(std::string_view name) const;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string json_body);
  // {"error": "<message>", "pesan": "<pesan>", "status": <status>}: `message`
  // precise, in English, for logs and programs; `pesan` for the person
  // reading, in Bahasa Indonesia, GeneralPesan(status) when empty.
  static HttpResponse JsonError(int status, std::string_view message, std::string_view pesan = {});
};

// A general sentence in Bahasa Indonesia for an HTTP error status, for
// refusals that have no more specific one ("Terlalu banyak permintaan ...").
std::string_view GeneralPesan(int status);

// `text` safe inside HTML text and double-quoted attributes.
std::string HtmlEscape(std::string_view text);

// The one mapping from a Status code to an HTTP status, for every server:
// InvalidArgument 400, Unauthenticated 401, PermissionDenied 403, NotFound 404,
// AlreadyExists / FailedPrecondition / Aborted 409 (a conflict with the
// current state; Aborted: try again), ResourceExhausted 413, Unimplemented
// 501, Unavailable 503, everything else (DataLoss, Internal) 500.
int HttpStatusFor(const Status& status);

// Lower-cases ASCII letters (HTTP header names).
std::string LowerAscii(std::string_view s);

// Sets SIGPIPE to ignored, once per process, so a write to a socket the peer
// closed fails with EPIPE instead of killing the process (OpenSSL writes with
// write(2), which cannot pass MSG_NOSIGNAL). HttpServer::Start() and
// HttpClient::Create() call it.
void IgnoreSigpipe();

// True for "localhost", 127.0.0.0/8 and ::1 (with or without brackets).
bool IsLoopbackHost(std::string_view host);

}  // namespace ektp::net
