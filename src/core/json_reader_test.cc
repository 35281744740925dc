#include "core/json_reader.h"

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;

TEST(JsonReaderTest, ReadsFieldsAndNamesEachProblemByItsPath) {
  auto document = JsonDocument::ParseObject(
      R"({"s":"a\"b\u00e9","n":-42,"big":1e30,"items":[{"p":1},{"p":"x"}],"sub":{"k":[1,2]},"list":[1]})", "doc");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  JsonObject root = (*document)->root();
  EXPECT_EQ(*root.String("s"), "a\"b\xc3\xa9");
  EXPECT_EQ(*root.Int("n"), -42);
  EXPECT_EQ(*root.StringOr("absent", "fallback"), "fallback");
  EXPECT_EQ(*root.StringOr("s", "fallback"), "a\"b\xc3\xa9");
  EXPECT_EQ(*root.Value("sub"), nlohmann::json::parse(R"({"k":[1,2]})"));

  EXPECT_THAT(root.String("absent"), StatusIs(StatusCode::kInvalidArgument, "doc.absent is missing"));
  EXPECT_THAT(root.String("n"), StatusIs(StatusCode::kInvalidArgument, "doc.n has the wrong type"));
  EXPECT_THAT(root.StringOr("n", ""), StatusIs(StatusCode::kInvalidArgument, "doc.n has the wrong type"));
  EXPECT_THAT(root.Int("s"), StatusIs(StatusCode::kInvalidArgument, "doc.s has the wrong type"));
  EXPECT_THAT(root.Int("big"), StatusIs(StatusCode::kInvalidArgument, "doc.big has the wrong type"));
  EXPECT_THAT(root.Objects("list"), StatusIs(StatusCode::kInvalidArgument, "doc.list[0] has the wrong type"));
  EXPECT_THAT(root.Value("absent"), StatusIs(StatusCode::kInvalidArgument, "doc.absent is missing"));

  auto items = root.Objects("items");
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ(*(*items)[0].Int("p"), 1);
  EXPECT_THAT((*items)[1].Int("p"), StatusIs(StatusCode::kInvalidArgument, "doc.items[1].p has the wrong type"));
}

TEST(JsonReaderTest, RefusesWhatIsNotOneJsonObject) {
  for (std::string_view text : {"", "[]", "\"s\"", "{", R"({"a":1} {"b":2})", R"({"a":"\ud800"})", "{\"a\":\"\xff\"}"}) {
    EXPECT_THAT(JsonDocument::ParseObject(text, "doc"), StatusIs(StatusCode::kInvalidArgument, "doc is not a JSON object"))
        << text;
  }
}

}  // namespace
}  // namespace ektp
