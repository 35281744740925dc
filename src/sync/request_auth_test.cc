#include "sync/request_auth.h"

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RequestAuthTest, SignedRequestVerifiesAndTamperingIsCaught) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  TimePoint now = std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(24)});
  RequestSignature signature = SignRequest(key, "ST-1", "POST", "/api/v1/sync/up", "{}", now);
  EXPECT_OK(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{}", now + std::chrono::minutes(3)));
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{ }", now),
              StatusIs(StatusCode::kUnauthenticated, "request signature: signature does not verify"));
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/api/v1/sync/up", "{}", now + std::chrono::hours(30)),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("differs from central's by 30 hours")));
  signature.timestamp = "yesterday";
  EXPECT_THAT(VerifyRequest(signature, key.public_key(), "POST", "/", "{}", now),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("is not YYYY-MM-DD")));
}

}  // namespace
}  // namespace ektp::sync
