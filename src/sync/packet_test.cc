#include "sync/packet.h"

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

Envelope Sample() {
  Envelope e;
  e.station_id = "ST-3521-01";
  e.sequence = 7;
  e.created_at = "2026-11-24T01:02:03Z";
  e.body = R"({"registration_number":"ST-3521-01-000007"})";
  return e;
}

TEST(PacketTest, SignedPacketVerifies) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Packet packet = SignEnvelope(Sample(), key);
  auto envelope = VerifyPacket(packet, key.public_key());
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  EXPECT_EQ(envelope->station_id, "ST-3521-01");
  EXPECT_EQ(envelope->sequence, 7);
  EXPECT_EQ(envelope->body, Sample().body);
  EXPECT_EQ(packet.ContentHash().size(), 64u);
}

TEST(PacketTest, TamperedOrForeignPacketIsRefused) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Packet packet = SignEnvelope(Sample(), key);
  Packet tampered = packet;
  tampered.envelope_text.replace(tampered.envelope_text.find("000007"), 6, "000008");
  EXPECT_THAT(VerifyPacket(tampered, key.public_key()),
              StatusIs(StatusCode::kUnauthenticated, "packet signature: signature does not verify"));
  EXPECT_THAT(VerifyPacket(packet, crypto::SigningKey::Generate().public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not verify")));
}

TEST(PacketTest, OversizedAndMalformedEnvelopes) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Envelope big = Sample();
  big.body = std::string(kMaxEnvelopeBytes, 'x');
  EXPECT_THAT(VerifyPacket(SignEnvelope(big, key), key.public_key()),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("the limit is 2097152")));
  EXPECT_THAT(ParseEnvelope("not json"), StatusIs(StatusCode::kInvalidArgument, "envelope is not a JSON object"));
  EXPECT_THAT(ParseEnvelope(R"({"v":2})"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("version 2 is not supported")));
  EXPECT_THAT(ParseEnvelope(R"({"v":1,"station":"x","seq":0})"),
              StatusIs(StatusCode::kInvalidArgument, "envelope.seq must be at least 1"));
  EXPECT_THAT(ParseEnvelope(R"({"v":1,"station":5})"), StatusIs(StatusCode::kInvalidArgument, "envelope.station has the wrong type"));
}

// A kind or kind version central does not know is refused for that packet
// with kUnimplemented (the station parks it), never guessed at.
TEST(PacketTest, KindsAndTheirVersionsAreDeclaredOnce) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  auto text = SignEnvelope(Sample(), key).envelope_text;
  EXPECT_EQ(nlohmann::json::parse(text)["kind"], "enrollment");
  EXPECT_EQ(nlohmann::json::parse(text)["kind_v"], PacketKindVersion(PacketKind::kEnrollment));
  EXPECT_THAT(ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"pizza"})"),
              StatusIs(StatusCode::kUnimplemented, "packet kind 'pizza' is not known to this central"));
  EXPECT_THAT(ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","kind_v":5})"),
              StatusIs(StatusCode::kUnimplemented,
                       "packet kind 'enrollment' version 5 is newer than this central reads (4)"));
  // Enrollment body versions 1 (before location and review), 2 (before
  // finger_quality) and 3 (before finger_exceptions) are still read.
  auto version3 = ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","kind_v":3,"created_at":"t","body":"{}"})");
  ASSERT_TRUE(version3.ok()) << version3.status().ToString();
  auto version2 = ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","kind_v":2,"created_at":"t","body":"{}"})");
  ASSERT_TRUE(version2.ok()) << version2.status().ToString();
  auto version1 = ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","kind_v":1,"created_at":"t","body":"{}"})");
  ASSERT_TRUE(version1.ok()) << version1.status().ToString();
  EXPECT_EQ(version1->kind, PacketKind::kEnrollment);
  EXPECT_THAT(ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","kind_v":0})"),
              StatusIs(StatusCode::kInvalidArgument, "envelope.kind_v must be at least 1"));
  // Envelopes signed before kinds had versions are version 1.
  auto unversioned = ParseEnvelope(R"({"v":1,"station":"x","seq":1,"kind":"enrollment","created_at":"t","body":"{}"})");
  ASSERT_TRUE(unversioned.ok()) << unversioned.status().ToString();
  EXPECT_EQ(unversioned->kind, PacketKind::kEnrollment);
}

TEST(PacketTest, JsonFormsRoundTrip) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Packet packet = SignEnvelope(Sample(), key);
  auto back = ParseUploadBody(nlohmann::json{{"packets", {PacketToJson(packet), PacketToJson(packet)}}}.dump());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].envelope_text, packet.envelope_text);
  EXPECT_EQ((*back)[1].signature, packet.signature);
  EXPECT_THAT(ParseUploadBody(R"({"packets":[{"envelope":1,"signature":""}]})"),
              StatusIs(StatusCode::kInvalidArgument, "packet must be an object with string fields envelope and signature"));
  EXPECT_THAT(ParseUploadBody(R"({"packets":[{"envelope":"e","signature":"!"}]})"),
              StatusIs(StatusCode::kInvalidArgument, "not valid base64"));
  for (std::string_view body : {"", "[]", R"({"packets":{}})", R"({"packets":[1]})", R"({"pakets":[]})"}) {
    EXPECT_THAT(ParseUploadBody(body), StatusIs(StatusCode::kInvalidArgument, R"(body must be {"packets": [...]})"))
        << body;
  }

  UploadResponse response{5, {{5, Verdict::kAccepted, "", "aa"}, {6, Verdict::kRejected, "conflict", "bb"}}, {1, 2}};
  auto parsed = UploadResponseFromJson(UploadResponseToJson(response));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->cursor, 5);
  ASSERT_EQ(parsed->results.size(), 2u);
  EXPECT_EQ(parsed->results[1].verdict, Verdict::kRejected);
  EXPECT_EQ(parsed->results[1].error, "conflict");
  EXPECT_EQ(parsed->results[1].content_sha256, "bb");
  EXPECT_EQ(parsed->signature, (crypto::Bytes{1, 2}));
  // The old unsigned form is not an answer.
  EXPECT_THAT(UploadResponseFromJson(nlohmann::json::parse(R"({"cursor":5,"results":[{"seq":5,"verdict":"accepted"}]})")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("upload response is malformed")));
}

class SignedVerdictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int64_t sequence : {7, 8}) {
      Envelope envelope = Sample();
      envelope.sequence = sequence;
      Packet packet = SignEnvelope(envelope, station_);
      sent_.emplace(sequence, packet.ContentHash());
      response_.results.push_back({sequence, Verdict::kAccepted, "", packet.ContentHash()});
    }
    response_.cursor = 8;
    SignUploadResponse(central_, "ST-3521-01", "request-1", response_);
  }

  Status Check(const UploadResponse& response, std::string_view request = "request-1") {
    return VerifyUploadResponse(response, central_.public_key(), "ST-3521-01", request, sent_);
  }

  crypto::SigningKey central_ = crypto::SigningKey::Generate();
  crypto::SigningKey station_ = crypto::SigningKey::Generate();
  std::map<int64_t, std::string> sent_;
  UploadResponse response_;
};

TEST_F(SignedVerdictTest, CentralsAnswerForThisRequestVerifies) {
  EXPECT_OK(Check(response_));
  auto parsed = UploadResponseFromJson(UploadResponseToJson(response_));
  ASSERT_OK(parsed);
  EXPECT_OK(Check(*parsed));
}

TEST_F(SignedVerdictTest, UnsignedForgedOrReplayedAnswersAreRefused) {
  auto not_signed = StatusIs(StatusCode::kUnauthenticated, HasSubstr("not signed by central for this request"));
  UploadResponse unsigned_answer = response_;
  unsigned_answer.signature.clear();
  EXPECT_THAT(Check(unsigned_answer), not_signed);
  UploadResponse other_key = response_;
  SignUploadResponse(crypto::SigningKey::Generate(), "ST-3521-01", "request-1", other_key);
  EXPECT_THAT(Check(other_key), not_signed);
  EXPECT_THAT(Check(response_, "request-2"), not_signed);  // recorded for another request
  UploadResponse flipped = response_;
  flipped.results[1].verdict = Verdict::kDuplicate;
  EXPECT_THAT(Check(flipped), not_signed);
}

TEST_F(SignedVerdictTest, VerdictSignedForAnotherPacketIsRefused) {
  UploadResponse other_content = response_;
  other_content.results[0].content_sha256 = std::string(64, 'a');
  SignUploadResponse(central_, "ST-3521-01", "request-1", other_content);
  EXPECT_THAT(Check(other_content), StatusIs(StatusCode::kUnauthenticated,
                                             HasSubstr("the verdict for sequence 7 is for content sha256 aaaaaaaaaaaa")));
  UploadResponse other_sequence = response_;
  other_sequence.results[0].sequence = 9;
  SignUploadResponse(central_, "ST-3521-01", "request-1", other_sequence);
  EXPECT_THAT(Check(other_sequence),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("verdict for sequence 9, which this request did not send")));
}

}  // namespace
}  // namespace ektp::sync
