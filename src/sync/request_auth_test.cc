#include "sync/request_auth.h"

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TimePoint Now() {
  return std::chrono::sys_days(
      std::chrono::year_month_day{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(24)});
}

TEST(RequestAuthTest, SignedRequestVerifiesAndTamperingIsCaught) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  TimePoint now = Now();
  RequestSignature signature = SignRequest(key, "ST-1", "POST", "/api/v1/sync/up", "{}", now);
  EXPECT_OK(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{}", now + std::chrono::minutes(3)));
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{ }", now),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("request signature does not verify for POST "
                                                               "/api/v1/sync/up")));
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{}", now + std::chrono::hours(30)),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("differs from central's by 30 hours")));
  signature.timestamp = "yesterday";
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/", "{}", now),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("is not a YYYY-MM-DDTHH:MM:SSZ time")));
}

// Found by request_timestamp_fuzzer: a year past 2262 overflowed the
// nanosecond time point (undefined behaviour) instead of being refused.
TEST(RequestAuthTest, TimestampsOutsideTheRepresentableRangeAreRefused) {
  const crypto::SigningKey key = crypto::SigningKey::FromSeed(crypto::Bytes(32, 2));
  const TimePoint now = std::chrono::sys_days(std::chrono::year(2026) / 11 / 24);
  RequestSignature signature = SignRequest(key, "ST-352101-01", "POST", "/api/v1/sync/up", "{}", now);
  for (const char* timestamp : {"9415-11-26T03:00:00Z", "1969-12-31T23:59:59Z", "-999-01-01T00:00:00Z"}) {
    signature.timestamp = timestamp;
    EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{}", now),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("time from 1970 to 2200")))
        << timestamp;
  }
}

TEST(RequestAuthTest, TargetIsCanonicalAndCoversTheQuery) {
  EXPECT_EQ(RequestTarget("/api/v1/sync/down", {}), "/api/v1/sync/down");
  EXPECT_EQ(RequestTarget("/api/v1/sync/down", {{"limit", "200"}, {"after", "17"}}),
            "/api/v1/sync/down?after=17&limit=200");
  EXPECT_EQ(RequestTarget("/x", {{"q", "a b&c=d/é"}}), "/x?q=a%20b%26c%3Dd%2F%C3%A9");

  crypto::SigningKey key = crypto::SigningKey::Generate();
  std::string target = RequestTarget("/api/v1/sync/down", {{"after", "17"}, {"limit", "200"}});
  RequestSignature signature = SignRequest(key, "ST-1", "GET", target, "", Now());
  EXPECT_OK(VerifyRequest(signature, key.public_key(), "GET", target, "", Now()));
  // A proxy that moves the cursor, drops the query or adds a parameter breaks the signature.
  for (const QueryParams& changed : std::vector<QueryParams>{
           {{"after", "0"}, {"limit", "200"}}, {}, {{"after", "17"}, {"limit", "200"}, {"x", "1"}}}) {
    std::string other = RequestTarget("/api/v1/sync/down", changed);
    EXPECT_THAT(VerifyRequest(signature, key.public_key(), "GET", other, "", Now()),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not verify for GET " + other)));
  }
}

}  // namespace
}  // namespace ektp::sync
