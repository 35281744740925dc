// Strict multipart/form-data parser (RFC 7578 over RFC 2046) for request
// bodies. Internal to net: HttpServer fills HttpRequest::parts with it.
//
// Accepted: a body that starts with "--<boundary>\r\n" (no preamble), parts
// of header lines ending in CRLF, a blank line, the content, then
// "\r\n--<boundary>" followed by "\r\n" (another part) or "--" (the end),
// optionally a final CRLF and nothing else. Every part needs
// `Content-Disposition: form-data; name="..."`; `filename` and
// `Content-Type` are optional; other part headers are ignored.
// Limits: at most kMaxMultipartParts parts, kMaxPartHeaderBytes of headers per part.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/http_types.h"

namespace ektp::net {

inline constexpr size_t kMaxMultipartParts = 64;
inline constexpr size_t kMaxPartHeaderBytes = 8 * 1024;

// The boundary of a `multipart/form-data; boundary=...` Content-Type value
// (quoted or not, 1..70 characters). kInvalidArgument naming the problem
// otherwise.
StatusOr<std::string> MultipartBoundary(std::string_view content_type);

// The parts of `body` in body order. kInvalidArgument naming the first
// problem (and the part's index) for anything malformed.
StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary);

}  // namespace ektp::net
