#include "sync/request_auth.h"

#include <cstdio>
#include <ctime>

namespace ektp::sync {
namespace {

std::string SignedText(std::string_view method, std::string_view target, std::string_view timestamp,
                       std::string_view body) {
  return std::string(method) + "\n" + std::string(target) + "\n" + std::string(timestamp) + "\n" +
         crypto::Sha256Hex(body);
}

void AppendEncoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// Parses "YYYY-MM-DDTHH:MM:SSZ" with a year from 1970 to 2200 (TimePoint's
// nanoseconds cannot hold times much past 2262).
bool ParseTimestamp(const std::string& text, TimePoint* out) {
  std::tm tm{};
  char zone = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &zone) != 7 ||
      zone != 'Z' || tm.tm_year < 1970 || tm.tm_year > 2200) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace

std::string RequestTarget(std::string_view path, const QueryParams& query) {
  std::string target(path);
  char separator = '?';
  for (const auto& [key, value] : query) {
    target += separator;
    separator = '&';
    AppendEncoded(target, key);
    target += '=';
    AppendEncoded(target, value);
  }
  return target;
}

RequestSignature SignRequest(const crypto::SigningKey& key, std::string_view station_id, std::string_view method,
                             std::string_view target, std::string_view body, TimePoint now) {
  RequestSignature signature{std::string(station_id), FormatTimestamp(now), ""};
  signature.signature_base64 = crypto::Base64Encode(key.Sign(SignedText(method, target, signature.timestamp, body)));
  return signature;
}

Status VerifyRequest(const RequestSignature& signature, std::span<const uint8_t> station_public_key,
                     std::string_view method, std::string_view target, std::string_view body, TimePoint now) {
  TimePoint sent;
  if (!ParseTimestamp(signature.timestamp, &sent)) {
    return Unauthenticated("X-Ektp-Timestamp '" + signature.timestamp + "' is not a YYYY-MM-DDTHH:MM:SSZ time from 1970 to 2200");
  }
  auto skew = sent > now ? sent - now : now - sent;
  if (skew > kMaxClockSkew) {
    return Unauthenticated("station clock differs from central's by " +
                           std::to_string(std::chrono::duration_cast<std::chrono::hours>(skew).count()) +
                           " hours; set the station's date and time");
  }
  auto raw = crypto::Base64Decode(signature.signature_base64);
  if (!raw.ok()) return Unauthenticated("X-Ektp-Signature is not base64");
  if (!crypto::Verify(station_public_key, SignedText(method, target, signature.timestamp, body), *raw).ok()) {
    return Unauthenticated("request signature does not verify for " + std::string(method) + " " +
                           std::string(target) + ": the method, target (path and query), timestamp or body differs "
                           "from what the station signed");
  }
  return Status::Ok();
}

}  // namespace ektp::sync
