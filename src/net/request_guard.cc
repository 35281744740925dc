#include "net/request_guard.h"

#include <algorithm>

namespace ektp::net {
namespace {

struct Authority {
  std::string name;  // lower-case; IPv6 with its brackets
  std::string port;  // "" when absent
};

// "Name[:port]" or "[v6]:port". nullopt if malformed.
std::optional<Authority> ParseAuthority(std::string_view text) {
  if (text.empty()) return std::nullopt;
  Authority out;
  size_t name_end;
  if (text.front() == '[') {
    name_end = text.find(']');
    if (name_end == std::string_view::npos) return std::nullopt;
    ++name_end;
  } else {
    name_end = std::min(text.find(':'), text.size());
  }
  out.name = LowerAscii(text.substr(0, name_end));
  std::string_view rest = text.substr(name_end);
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() == 1) return std::nullopt;
    out.port = std::string(rest.substr(1));
    if (!std::all_of(out.port.begin(), out.port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
  }
  if (out.name.empty()) return std::nullopt;
  return out;
}

std::string DefaultPort(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

bool IsWildcard(std::string_view address) { return address == "0.0.0.0" || address == "::" || address == "[::]"; }

std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return LowerAscii(type);
}

Refusal Forbidden(std::string message) { return {403, PermissionDenied(std::move(message))}; }

}  // namespace

RequestGuard::RequestGuard(RequestGuardOptions options) : options_(std::move(options)) {
  for (std::string& host : options_.served_hosts) host = LowerAscii(host);
}

bool RequestGuard::Serves(std::string_view host_name) const {
  if (IsLoopbackHost(host_name)) return true;
  std::string bind = LowerAscii(options_.bind_address);
  if (!IsWildcard(bind) && (host_name == bind || host_name == "[" + bind + "]")) return true;
  return std::any_of(options_.served_hosts.begin(), options_.served_hosts.end(), [&](const std::string& served) {
    return host_name == served || host_name == "[" + served + "]";
  });
}

std::optional<Refusal> RequestGuard::Check(const HttpRequest& request, BodyKind body) const {
  const std::string host = request.header("host");
  auto authority = ParseAuthority(host);
  if (!authority) return Forbidden("the request has no valid Host header");
  if (!Serves(authority->name)) return Forbidden("the Host header names a host this server does not serve");

  if (request.headers.count("origin") > 0) {
    const std::string origin = request.header("origin");
    const std::string prefix = options_.scheme + "://";
    auto origin_authority = LowerAscii(origin).starts_with(prefix)
                                ? ParseAuthority(std::string_view(origin).substr(prefix.size()))
                                : std::nullopt;
    auto port_or_default = [&](const Authority& a) { return a.port.empty() ? DefaultPort(options_.scheme) : a.port; };
    if (!origin_authority || origin_authority->name != authority->name ||
        port_or_default(*origin_authority) != port_or_default(*authority)) {
      return Forbidden("cross-origin request refused: Origin is not this server's origin");
    }
  }

  const char* wanted = body == BodyKind::kJson        ? "application/json"
                       : body == BodyKind::kMultipart ? "multipart/form-data"
                                                      : nullptr;
  if (wanted != nullptr && MediaType(request.header("content-type")) != wanted) {
    return Refusal{415, InvalidArgument("Content-Type must be " + std::string(wanted))};
  }
  return std::nullopt;
}

}  // namespace ektp::net
