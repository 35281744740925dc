// Test helpers: assert the specific error, never merely "not ok".
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status.h"

namespace ektp {
// Lets GoogleTest print a Status readably in failure messages.
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
template <typename T>
void PrintTo(const StatusOr<T>& status_or, std::ostream* os) { *os << status_or.status().ToString(); }
}  // namespace ektp

namespace ektp::testing {

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("status code ") + std::string(::ektp::StatusCodeName(code))) {
  const ::ektp::Status& status = ::ektp::internal::AsStatus(arg);
  if (status.code() != code) {
    *result_listener << "got " << status.ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(message_matcher, status.message(), result_listener);
}

MATCHER(IsOk, "is OK") {
  const ::ektp::Status& status = ::ektp::internal::AsStatus(arg);
  if (!status.ok()) *result_listener << "got " << status.ToString();
  return status.ok();
}

}  // namespace ektp::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::ektp::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::ektp::testing::IsOk())
