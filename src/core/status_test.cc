#include "core/status.h"

#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

StatusOr<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgument(std::to_string(value) + " is odd");
  return value / 2;
}

StatusOr<int> Quarter(int value) {
  ASSIGN_OR_RETURN(int half, Half(value));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int value) {
  RETURN_IF_ERROR(Half(value));
  return Status::Ok();
}

TEST(StatusTest, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, "3 is odd"));
  EXPECT_THAT(CheckEven(5), StatusIs(StatusCode::kInvalidArgument, "5 is odd"));
  EXPECT_TRUE(CheckEven(4).ok());
}

TEST(StatusTest, ToStringNamesTheCode) {
  EXPECT_EQ(Unavailable("central is down").ToString(), "UNAVAILABLE: central is down");
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_THAT(NotFound("x").WithContext("record 7"), StatusIs(StatusCode::kNotFound, "record 7: x"));
}

TEST(StatusTest, StatusOrFromOkStatusIsAnInternalError) {
  StatusOr<int> broken{Status::Ok()};
  EXPECT_THAT(broken, StatusIs(StatusCode::kInternal, HasSubstr("without a value")));
}

}  // namespace
}  // namespace ektp
