#include "sync/feed_items.h"

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

const RecordStatusBody kPrintReady{"ST-3521-01-000007", RecordState::kPrintReady, "", "3521014107090001"};

TEST(FeedItemsTest, RecordStatusRoundTripsSignedAndVersioned) {
  crypto::SigningKey central = crypto::SigningKey::Generate();
  FeedItem item = SignFeedItem({FeedKind::kRecordStatus, kPrintReady}, central);
  EXPECT_EQ(item.kind, "record_status");
  EXPECT_OK(crypto::Verify(central.public_key(), item.body, item.signature));
  EXPECT_EQ(nlohmann::json::parse(item.body)["v"], 1);
  EXPECT_EQ(nlohmann::json::parse(item.body)["state"], "print_ready");
  auto back = DecodeFeedItem(item.kind, item.body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, FeedKind::kRecordStatus);
  EXPECT_EQ(std::get<RecordStatusBody>(back->body), kPrintReady);
}

TEST(FeedItemsTest, ValidationResultSharesTheRecordStatusBodyAndOldBodiesAreVersionOne) {
  // As centrals wrote it before bodies carried a version, without a NIK.
  auto back = DecodeFeedItem("validation_result",
                             R"({"registration_number":"ST-1-000001","state":"failed_validation","reason":"bad village"})");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, FeedKind::kValidationResult);
  const auto& body = std::get<RecordStatusBody>(back->body);
  EXPECT_EQ(body.state, RecordState::kFailedValidation);
  EXPECT_EQ(body.reason, "bad village");
  EXPECT_EQ(body.nik, "");
}

TEST(FeedItemsTest, AuditCheckpointRoundTrips) {
  crypto::SigningKey central = crypto::SigningKey::Generate();
  store::AuditCheckpoint checkpoint{42, std::string(64, 'a'), "2026-12-05T00:00:00Z", central.Sign("x")};
  FeedItem item = SignFeedItem({FeedKind::kAuditCheckpoint, checkpoint}, central);
  EXPECT_EQ(item.kind, "audit_checkpoint");
  auto back = DecodeFeedItem(item.kind, item.body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto& decoded = std::get<store::AuditCheckpoint>(back->body);
  EXPECT_EQ(decoded.seq, 42);
  EXPECT_EQ(decoded.hash, checkpoint.hash);
  EXPECT_EQ(decoded.signature, checkpoint.signature);
}

TEST(FeedItemsTest, PrintJobAndItsWithdrawalRoundTrip) {
  crypto::SigningKey central = crypto::SigningKey::Generate();
  PrintJobBody job{17, "ST-352101-01-000001", true, "2026-12-05T01:00:00Z", {1, 2, 3, 250}, "ST-352101-01"};
  FeedItem item = SignFeedItem({FeedKind::kPrintJob, job}, central);
  EXPECT_EQ(item.kind, "print_job");
  EXPECT_OK(crypto::Verify(central.public_key(), item.body, item.signature));
  auto back = DecodeFeedItem(item.kind, item.body);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->kind, FeedKind::kPrintJob);
  EXPECT_EQ(std::get<PrintJobBody>(back->body), job);

  PrintJobWithdrawnBody withdrawn{17, "ST-352101-01-000001", "adjudication reversed"};
  FeedItem taken = SignFeedItem({FeedKind::kPrintJobWithdrawn, withdrawn}, central);
  EXPECT_EQ(taken.kind, "print_job_withdrawn");
  auto taken_back = DecodeFeedItem(taken.kind, taken.body);
  ASSERT_OK(taken_back.status());
  EXPECT_EQ(std::get<PrintJobWithdrawnBody>(taken_back->body), withdrawn);

  EXPECT_THAT(DecodeFeedItem("print_job", R"({"job_id":0,"registration_number":"r","urgent":false,"reserved_at":"t","sealed_card":"AQ=="})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'job_id' must be a positive integer"));
  EXPECT_THAT(DecodeFeedItem("print_job", R"({"job_id":1,"registration_number":"r","urgent":1,"reserved_at":"t","sealed_card":"AQ=="})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'urgent' must be true or false"));
  EXPECT_THAT(DecodeFeedItem("print_job", R"({"job_id":1,"registration_number":"r","urgent":false,"reserved_at":"t","sealed_card":"!"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'sealed_card' must be non-empty base64"));
}

TEST(FeedItemsTest, ASuketTrustUpdateRoundTrips) {
  crypto::SigningKey central = crypto::SigningKey::Generate();
  SuketTrustBody trust{{1, 2, 3}, {4, 5}};
  FeedItem item = SignFeedItem({FeedKind::kSuketTrust, trust}, central);
  EXPECT_EQ(item.kind, "suket_trust");
  auto back = DecodeFeedItem(item.kind, item.body);
  ASSERT_OK(back.status());
  EXPECT_EQ(std::get<SuketTrustBody>(back->body), trust);
  EXPECT_THAT(DecodeFeedItem("suket_trust", R"({"trust_bundle":"AQ==","revocation_list":""})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'revocation_list' must be non-empty base64"));
}

TEST(FeedItemsTest, ACardToCollectRoundTrips) {
  crypto::SigningKey central = crypto::SigningKey::Generate();
  CardToCollectBody card{"ST-352101-01-000001", 1000003, "dispatch-0001000002", "ST-352100-01", {9, 8, 7}};
  FeedItem item = SignFeedItem({FeedKind::kCardToCollect, card}, central);
  EXPECT_EQ(item.kind, "card_to_collect");
  auto back = DecodeFeedItem(item.kind, item.body);
  ASSERT_OK(back.status());
  EXPECT_EQ(std::get<CardToCollectBody>(back->body), card);
  EXPECT_THAT(DecodeFeedItem("card_to_collect", R"({"registration_number":"r","serial":1,"from_station":"s","sealed_card":"AQ=="})"),
              StatusIs(StatusCode::kInvalidArgument, "body has no 'manifest_id'"));
}

// During a rolling upgrade a station meets kinds and versions from a newer
// central: kUnimplemented, so it keeps them instead of guessing.
TEST(FeedItemsTest, UnknownKindOrNewerVersionIsUnimplemented) {
  EXPECT_THAT(DecodeFeedItem("suket_revoked", "{}"),
              StatusIs(StatusCode::kUnimplemented, "feed item kind 'suket_revoked' is not known to this version of ektp"));
  EXPECT_THAT(DecodeFeedItem("record_status", R"({"v":2,"registration_number":"r","state":"printed"})"),
              StatusIs(StatusCode::kUnimplemented,
                       "feed item kind 'record_status' version 2 is newer than this version of ektp reads (1)"));
}

TEST(FeedItemsTest, MalformedBodiesAreRefusedNamingTheField) {
  EXPECT_THAT(DecodeFeedItem("record_status", "[1]"), StatusIs(StatusCode::kInvalidArgument, "body is not a JSON object"));
  EXPECT_THAT(DecodeFeedItem("record_status", R"({"state":"printed"})"),
              StatusIs(StatusCode::kInvalidArgument, "body has no 'registration_number'"));
  EXPECT_THAT(DecodeFeedItem("record_status", R"({"registration_number":"r","state":7})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'state' must be a string"));
  EXPECT_THAT(DecodeFeedItem("record_status", R"({"registration_number":"r","state":"lost_in_post"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'state' is 'lost_in_post', not a record state"));
  EXPECT_THAT(DecodeFeedItem("record_status", R"({"v":"1","registration_number":"r","state":"printed"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'v' must be a positive integer"));
  EXPECT_THAT(DecodeFeedItem("audit_checkpoint", R"({"seq":-1})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'seq'")));
}

}  // namespace
}  // namespace ektp::sync
