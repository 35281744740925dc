#include "net/multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::net {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MultipartTest, ParsesPartsInBodyOrder) {
  std::string body =
      "--b1\r\nContent-Disposition: form-data; name=\"demographics\"\r\nContent-Type: application/json\r\n\r\n"
      "{\"a\":1}\r\n--b1\r\ncontent-disposition: form-data; name=photo; filename=\"face \\\"1\\\".jpg\"\r\n\r\n"
      "\xFF\xD8\r\n--b\r\n--b1--\r\n";
  auto parts = ParseMultipart(body, "b1");
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "demographics");
  EXPECT_EQ((*parts)[0].content_type, "application/json");
  EXPECT_EQ((*parts)[0].content, "{\"a\":1}");
  EXPECT_EQ((*parts)[1].name, "photo");
  EXPECT_EQ((*parts)[1].filename, "face \"1\".jpg");
  EXPECT_EQ((*parts)[1].content_type, "");
  EXPECT_EQ((*parts)[1].content, "\xFF\xD8\r\n--b");
}

TEST(MultipartTest, BoundaryComesFromTheContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b\""), "a b");
  EXPECT_THAT(MultipartBoundary("multipart/form-data"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("has no boundary")));
  EXPECT_THAT(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 to 70 characters")));
  EXPECT_THAT(MultipartBoundary("multipart/form-data; boundary=\"abc"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unterminated quoted value")));
  EXPECT_THAT(MultipartBoundary("multipart/form-data; boundary=a; boundary=b"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'boundary' is repeated")));
}

TEST(MultipartTest, MalformedBodiesAreRefusedByName) {
  const std::string part = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n";
  struct Case {
    std::string body;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"preamble\r\n" + part + "--b--", "does not start with its boundary"},
           {part + "--b", "multipart part 2: the boundary line does not end in CRLF"},
           {part + "--b--trailing", "data after its closing boundary"},
           {"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end", "part 1: no boundary after its content"},
           {"--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nv\r\n--b--", "not form-data"},
           {"--b\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--b--", "has no name"},
           {"--b\r\n\r\nv\r\n--b--", "part 1: the part has no headers"},
           {"--b\r\nContent-Disposition: form-data; name=\"x\"\r\nContent-Disposition: form-data; name=\"y\"\r\n\r\n"
            "v\r\n--b--",
            "Content-Disposition is repeated"},
           {"--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-" + std::string(9000, 'h') + "\r\n\r\nv\r\n--b--",
            "headers unterminated or longer than 8192 bytes"},
           {"--b\r\nbroken header\r\n\r\nv\r\n--b--", "a header line has no name"},
       }) {
    EXPECT_THAT(ParseMultipart(c.body, "b"), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.body;
  }
  std::string many;
  for (size_t part_idx = 0; part_idx <= kMaxMultipartParts; ++part_idx) many += part;
  EXPECT_THAT(ParseMultipart(many + "--b--", "b"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than 64 parts")));
}

}  // namespace
}  // namespace ektp::net
