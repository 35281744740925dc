#include "net/request_guard.h"

#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::net {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

HttpRequest Request(std::string host, std::string content_type = "application/json", std::string origin = "") {
  HttpRequest request;
  request.method = "POST";
  if (!host.empty()) request.headers.emplace("host", host);
  if (!content_type.empty()) request.headers.emplace("content-type", content_type);
  if (!origin.empty()) request.headers.emplace("origin", origin);
  return request;
}

RequestGuard Guard() { return RequestGuard({"https", "10.1.2.3", {"Central.ektp.go.id"}}); }

TEST(RequestGuardTest, SameOriginRequestsToServedNamesPass) {
  RequestGuard guard = Guard();
  EXPECT_EQ(guard.Check(Request("central.ektp.go.id"), BodyKind::kJson), std::nullopt);
  EXPECT_EQ(guard.Check(Request("central.ektp.go.id:8443", "application/json; charset=utf-8",
                                "https://central.ektp.go.id:8443"),
                        BodyKind::kJson),
            std::nullopt);
  EXPECT_EQ(guard.Check(Request("CENTRAL.ektp.go.id:443", "", "https://central.ektp.go.id"), BodyKind::kNone),
            std::nullopt);
  EXPECT_EQ(guard.Check(Request("10.1.2.3:8443", "multipart/form-data; boundary=x"), BodyKind::kMultipart),
            std::nullopt);
  EXPECT_EQ(guard.Check(Request("localhost:1"), BodyKind::kJson), std::nullopt);
  EXPECT_EQ(guard.Check(Request("127.0.0.1:1"), BodyKind::kJson), std::nullopt);
  EXPECT_EQ(guard.Check(Request("[::1]:1"), BodyKind::kJson), std::nullopt);
}

TEST(RequestGuardTest, UnservedOrMissingHostIsRefused) {
  RequestGuard guard = Guard();
  for (const char* host : {"", "evil.example", "evil.example:443", "central.ektp.go.id.evil.example", ":443",
                           "central.ektp.go.id:x"}) {
    auto refusal = guard.Check(Request(host), BodyKind::kJson);
    ASSERT_TRUE(refusal.has_value()) << host;
    EXPECT_EQ(refusal->http_status, 403);
    EXPECT_THAT(refusal->status, StatusIs(StatusCode::kPermissionDenied, HasSubstr("Host"))) << host;
  }
}

TEST(RequestGuardTest, WildcardBindAddressIsNotAName) {
  RequestGuard guard({"http", "0.0.0.0", {}});
  EXPECT_TRUE(guard.Check(Request("0.0.0.0:80"), BodyKind::kNone).has_value());
  EXPECT_EQ(guard.Check(Request("localhost:80"), BodyKind::kNone), std::nullopt);
}

TEST(RequestGuardTest, CrossOriginIsRefused) {
  RequestGuard guard = Guard();
  for (const char* origin : {"https://evil.example", "http://central.ektp.go.id:8443", "https://central.ektp.go.id:9000",
                             "https://central.ektp.go.id", "null", "central.ektp.go.id:8443"}) {
    auto refusal = guard.Check(Request("central.ektp.go.id:8443", "application/json", origin), BodyKind::kJson);
    ASSERT_TRUE(refusal.has_value()) << origin;
    EXPECT_EQ(refusal->http_status, 403);
    EXPECT_THAT(refusal->status, StatusIs(StatusCode::kPermissionDenied, HasSubstr("cross-origin"))) << origin;
  }
}

TEST(RequestGuardTest, WrongContentTypeIsRefused) {
  RequestGuard guard = Guard();
  struct Case {
    const char* content_type;
    BodyKind body;
    const char* wanted;
  };
  for (const Case& c : {Case{"text/plain", BodyKind::kJson, "application/json"},
                        Case{"", BodyKind::kJson, "application/json"},
                        Case{"application/x-www-form-urlencoded", BodyKind::kJson, "application/json"},
                        Case{"application/json", BodyKind::kMultipart, "multipart/form-data"},
                        Case{"text/plain", BodyKind::kMultipart, "multipart/form-data"}}) {
    auto refusal = guard.Check(Request("localhost", c.content_type), c.body);
    ASSERT_TRUE(refusal.has_value()) << c.content_type;
    EXPECT_EQ(refusal->http_status, 415);
    EXPECT_THAT(refusal->status, StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.wanted)));
  }
}

}  // namespace
}  // namespace ektp::net
