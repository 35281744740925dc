#include "net/http_types.h"

#include <arpa/inet.h>
#include <csignal>
#include <mutex>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

namespace ektp::net {
namespace {

std::string FirstHeader(const HttpHeaders& headers, std::string_view name) {
  auto it = headers.find(LowerAscii(name));
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (LowerAscii(host) == "localhost") return true;
  std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string HttpRequest::header(std::string_view name) const { return FirstHeader(headers, name); }

std::string HttpRequest::query(std::string_view name) const {
  auto it = query_params.find(std::string(name));
  return it == query_params.end() ? std::string() : it->second;
}

const MultipartPart* HttpRequest::part(std::string_view name) const {
  for (const MultipartPart& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string HttpResponse::header(std::string_view name) const { return FirstHeader(headers, name); }

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse res;
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = std::move(body);
  return res;
}

HttpResponse HttpResponse::Json(int status, std::string json_body) {
  HttpResponse res;
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(json_body);
  return res;
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kOk:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string_view GeneralPesan(int status) {
  switch (status) {
    case 400: return "Permintaan tidak sah. Periksa isian, lalu coba lagi.";
    case 401: return "Anda belum masuk atau sesi sudah berakhir. Silakan masuk lagi.";
    case 403: return "Anda tidak berwenang untuk tindakan ini.";
    case 404: return "Alamat atau data yang diminta tidak ditemukan.";
    case 405: return "Tindakan ini tidak tersedia di alamat ini.";
    case 408: return "Permintaan terlalu lama tidak selesai. Coba lagi.";
    case 409: return "Tindakan tidak dapat dilakukan pada keadaan data saat ini.";
    case 413: return "Kiriman terlalu besar.";
    case 415: return "Jenis kiriman tidak didukung.";
    case 429: return "Terlalu banyak permintaan. Tunggu sebentar, lalu coba lagi.";
    case 503: return "Layanan sedang tidak tersedia. Coba lagi beberapa saat lagi.";
    default:
      return status >= 500 ? "Terjadi gangguan pada layanan. Coba lagi beberapa saat lagi."
                           : "Permintaan tidak dapat diproses. Coba lagi.";
  }
}

HttpResponse HttpResponse::JsonError(int status, std::string_view message, std::string_view pesan) {
  nlohmann::ordered_json body;
  body["error"] = message;
  body["pesan"] = pesan.empty() ? GeneralPesan(status) : pesan;
  body["status"] = status;
  return Json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace ektp::net
