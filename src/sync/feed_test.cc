#include "sync/feed.h"

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

class FeedPageTest : public ::testing::Test {
 protected:
  FeedPage Page() {
    FeedPage page;
    for (int64_t id : {4, 9}) {
      std::string body = R"({"registration_number":"ST-1-00000)" + std::to_string(id) + R"(","state":"validated"})";
      page.items.push_back({id, "validation_result", body, central_.Sign(body)});
    }
    SignFeedPage(central_, "ST-1", "request-a", page);
    return page;
  }

  crypto::SigningKey central_ = crypto::SigningKey::Generate();
};

TEST_F(FeedPageTest, SignedPageRoundTripsAndVerifies) {
  auto parsed = ParseFeedPage(FeedPageToJson(Page()).dump());
  ASSERT_OK(parsed);
  ASSERT_EQ(parsed->items.size(), 2u);
  EXPECT_EQ(parsed->items[1].id, 9);
  EXPECT_OK(crypto::Verify(central_.public_key(), parsed->items[1].body, parsed->items[1].signature));
  EXPECT_OK(VerifyFeedPage(*parsed, central_.public_key(), "ST-1", "request-a", 3));
}

TEST_F(FeedPageTest, ForgedReplayedOrReorderedPagesAreRefused) {
  FeedPage page = Page();
  auto not_signed = StatusIs(StatusCode::kUnauthenticated, HasSubstr("not signed by central for this request"));
  EXPECT_THAT(VerifyFeedPage(page, central_.public_key(), "ST-1", "request-b", 3), not_signed);  // replayed
  EXPECT_THAT(VerifyFeedPage(page, central_.public_key(), "ST-2", "request-a", 3), not_signed);  // another station
  EXPECT_THAT(VerifyFeedPage(page, crypto::SigningKey::Generate().public_key(), "ST-1", "request-a", 3), not_signed);
  FeedPage dropped = page;
  dropped.items.pop_back();
  EXPECT_THAT(VerifyFeedPage(dropped, central_.public_key(), "ST-1", "request-a", 3), not_signed);
  FeedPage edited = page;
  edited.items[0].body[edited.items[0].body.size() - 3] = 'X';
  EXPECT_THAT(VerifyFeedPage(edited, central_.public_key(), "ST-1", "request-a", 3), not_signed);
  EXPECT_THAT(VerifyFeedPage(page, central_.public_key(), "ST-1", "request-a", 4),
              StatusIs(StatusCode::kInvalidArgument, "feed item 4 does not follow 4"));
}

TEST_F(FeedPageTest, MalformedAnswersAreRefusedByName) {
  EXPECT_THAT(ParseFeedPage(R"({"items": []})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(R"(must be {"items": [...], "signature")")));
  EXPECT_THAT(ParseFeedPage(R"({"items": [{"id": "x", "kind": 1}], "signature": ""})"),
              StatusIs(StatusCode::kInvalidArgument,
                       "feed item 0 must have integer id and string kind, body and signature"));
  EXPECT_THAT(ParseFeedPage(R"({"items": [], "signature": "!"})"),
              StatusIs(StatusCode::kInvalidArgument, "feed answer signature is not base64"));
}

}  // namespace
}  // namespace ektp::sync
