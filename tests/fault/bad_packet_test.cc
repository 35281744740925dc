// Bad packets against a real central process: the test plays a station
// (its own key, registered with a one-time token and approved with the CLI)
// and sends tampered, wrongly signed, revoked, replayed, oversized and
// truncated input. Each is refused with its specific error, and central's
// state (inbox, records, biometrics, feed, events, cursors) does not change.
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "enrollment/testing.h"
#include "harness.h"
#include "sync/packet.h"
#include "sync/request_auth.h"

namespace ektp::fault {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono;

struct FakeStation {
  std::string id;
  crypto::SigningKey key = crypto::SigningKey::Generate();
};

class FaultBadPacket : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.InitCentral());
    auto central = cluster_.StartCentral();
    ASSERT_TRUE(central.ok()) << central.status().ToString();
    central_ = std::move(*central);
    std::ifstream in(cluster_.central_dir() + "/tls-cert.pem");
    net::HttpClientOptions options;
    options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
    auto client = net::HttpClient::Create(central_->url(), options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    ASSERT_NO_FATAL_FAILURE(Register(&station_, /*approve=*/true));
  }

  void TearDown() override {
    client_.reset();
    if (central_) central_->Terminate();
  }

  // Registers `station` over HTTP with a token from the CLI, like `station init` does.
  void Register(FakeStation* station, bool approve) {
    auto token = cluster_.CreateToken();
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    nlohmann::json request = {{"token", *token}, {"public_key", crypto::Base64Encode(station->key.public_key())}};
    auto response = client_->Post("/api/v1/stations/register", request.dump(), "application/json");
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 200) << response->body;
    auto json = nlohmann::json::parse(response->body);
    station->id = json["station_id"];
    auto sealing = crypto::Base64Decode(json["central_sealing_key"].get<std::string>());
    ASSERT_TRUE(sealing.ok());
    sealing_key_ = *sealing;
    if (approve) {
      ASSERT_OK(cluster_.Approve(station->id));
    }
  }

  enrollment::Enrollment Sample(const FakeStation& station, int64_t sequence) {
    return enrollment::testing::SampleEnrollment(station.id, sequence, sealing_key_, random_,
                                                 SystemClock::Instance().TodayWib(), 2048);
  }

  sync::Packet Pack(const FakeStation& station, int64_t sequence, const enrollment::Enrollment& e,
                    const crypto::SigningKey* key = nullptr) {
    sync::Envelope envelope{sync::kEnvelopeVersion, station.id, sequence, sync::PacketKind::kEnrollment,
                            FormatTimestamp(SystemClock::Instance().Now()), enrollment::EnrollmentToJson(e)};
    return sync::SignEnvelope(envelope, key ? *key : station.key);
  }

  sync::Packet Good(const FakeStation& station, int64_t sequence) { return Pack(station, sequence, Sample(station, sequence)); }

  static std::string Body(const std::vector<sync::Packet>& packets) {
    nlohmann::json list = nlohmann::json::array();
    for (const sync::Packet& packet : packets) list.push_back(sync::PacketToJson(packet));
    return nlohmann::json{{"packets", list}}.dump();
  }

  // Headers a station sends: its id, the time and its signature of the request.
  static net::HttpHeaders Signed(const std::string& station_id, const crypto::SigningKey& key, std::string_view method,
                                 std::string_view path, std::string_view body,
                                 TimePoint now = SystemClock::Instance().Now()) {
    sync::RequestSignature signature = sync::SignRequest(key, station_id, method, path, body, now);
    return {{"x-ektp-station", signature.station_id},
            {"x-ektp-timestamp", signature.timestamp},
            {"x-ektp-signature", signature.signature_base64}};
  }

  net::HttpResponse Upload(const FakeStation& station, const std::string& body) {
    auto response = client_->Post("/api/v1/sync/up", body, "application/json",
                                   Signed(station.id, station.key, "POST", "/api/v1/sync/up", body));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : net::HttpResponse{};
  }

  // The single verdict of a one-packet upload: {seq, verdict, error}.
  static nlohmann::json Verdict(const net::HttpResponse& response) {
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status != 200 || !json.is_object() || json["results"].size() != 1) return {{"http", response.body}};
    return json["results"][0];
  }

  static std::string Error(const net::HttpResponse& response) {
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    return json.is_object() ? json.value("error", response.body) : response.body;
  }

  CentralState State() {
    auto state = ReadCentralState(cluster_.central_dir());
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : CentralState{};
  }

  // Stores packets 1..n from `station` and checks they were accepted; keeps
  // the exact request in seeded_ for replays.
  void StoreGood(const FakeStation& station, int n) {
    seeded_.packets.clear();
    for (int sequence = 1; sequence <= n; ++sequence) seeded_.packets.push_back(Good(station, sequence));
    seeded_.body = Body(seeded_.packets);
    seeded_.headers = Signed(station.id, station.key, "POST", "/api/v1/sync/up", seeded_.body);
    auto sent = client_->Post("/api/v1/sync/up", seeded_.body, "application/json", seeded_.headers);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    const net::HttpResponse& response = *sent;
    ASSERT_EQ(response.status, 200) << response.body;
    auto json = nlohmann::json::parse(response.body);
    EXPECT_EQ(json["cursor"], n);
    for (const auto& result : json["results"]) EXPECT_EQ(result["verdict"], "accepted") << result.dump();
  }

  struct Request {
    std::vector<sync::Packet> packets;
    std::string body;
    net::HttpHeaders headers;
  };
  Request seeded_;
  Cluster cluster_{"bad-packet"};
  std::unique_ptr<Process> central_;
  std::unique_ptr<net::HttpClient> client_;
  crypto::Bytes sealing_key_;
  SeededRandom random_{::ektp::fault::Seed()};
  FakeStation station_;
};

TEST_F(FaultBadPacket, TamperedPacketIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 2));
  const CentralState before = State();

  // A proxy changes the resident's name inside a signed packet.
  enrollment::Enrollment e = Sample(station_, 3);
  sync::Packet packet = Pack(station_, 3, e);
  size_t at = packet.envelope_text.find(e.resident.name);
  ASSERT_NE(at, std::string::npos);
  packet.envelope_text[at] = packet.envelope_text[at] == 'X' ? 'Y' : 'X';
  nlohmann::json verdict = Verdict(Upload(station_, Body({packet})));
  EXPECT_EQ(verdict.value("verdict", ""), "rejected") << verdict.dump();
  EXPECT_EQ(verdict.value("seq", 0), 3);
  EXPECT_EQ(verdict.value("error", ""), "UNAUTHENTICATED: packet signature: signature does not verify");
  EXPECT_EQ(State(), before);

  // The request body changed after the station signed the request.
  std::string body = Body({Good(station_, 3)});
  net::HttpHeaders headers = Signed(station_.id, station_.key, "POST", "/api/v1/sync/up", body);
  body.back() = ' ';
  body += "}";
  auto response = client_->Post("/api/v1/sync/up", body, "application/json", headers);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(Error(*response), "UNAUTHENTICATED: request signature does not verify for POST /api/v1/sync/up: the "
                              "method, target (path and query), timestamp or body differs from what the station signed");
  EXPECT_EQ(State(), before);

  // Not JSON at all, and a packet without its signature.
  response = client_->Post("/api/v1/sync/up", "{\"packets\": [", "application/json",
                           Signed(station_.id, station_.key, "POST", "/api/v1/sync/up", "{\"packets\": ["));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(Error(*response), HasSubstr("body must be {\"packets\": [...]}"));
  nlohmann::json unsigned_packet = {{"packets", {{{"envelope", packet.envelope_text}}}}};
  auto rejected = Upload(station_, unsigned_packet.dump());
  EXPECT_EQ(rejected.status, 400);
  EXPECT_THAT(Error(rejected), HasSubstr("packet must be an object with string fields envelope and signature"));
  EXPECT_EQ(State(), before);
}

TEST_F(FaultBadPacket, WrongStationKeyIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 1));
  const CentralState before = State();
  crypto::SigningKey stolen = crypto::SigningKey::Generate();

  // A request signed with a key that is not the station's.
  std::string body = Body({Pack(station_, 2, Sample(station_, 2), &stolen)});
  auto response = client_->Post("/api/v1/sync/up", body, "application/json",
                                Signed(station_.id, stolen, "POST", "/api/v1/sync/up", body));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(Error(*response), "UNAUTHENTICATED: request signature does not verify for POST /api/v1/sync/up: the "
                              "method, target (path and query), timestamp or body differs from what the station signed");
  EXPECT_EQ(State(), before);

  // A correctly signed request carrying a packet signed by another key.
  nlohmann::json verdict = Verdict(Upload(station_, body));
  EXPECT_EQ(verdict.value("verdict", ""), "rejected") << verdict.dump();
  EXPECT_EQ(verdict.value("error", ""), "UNAUTHENTICATED: packet signature: signature does not verify");
  EXPECT_EQ(State(), before);

  // An unknown station, and no station headers at all.
  response = client_->Post("/api/v1/sync/up", body, "application/json",
                           Signed("ST-352101-99", stolen, "POST", "/api/v1/sync/up", body));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_THAT(Error(*response), HasSubstr("ST-352101-99"));
  response = client_->Post("/api/v1/sync/up", body, "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(Error(*response), "UNAUTHENTICATED: missing X-Ektp-Station header");
  EXPECT_EQ(State(), before);
}

TEST_F(FaultBadPacket, RevokedAndUnapprovedStationsAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 1));
  ASSERT_OK(cluster_.Revoke(station_.id));
  FakeStation pending;
  ASSERT_NO_FATAL_FAILURE(Register(&pending, /*approve=*/false));
  const CentralState before = State();

  auto response = Upload(station_, Body({Good(station_, 2)}));
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(Error(response), ::testing::MatchesRegex("PERMISSION_DENIED: station " + station_.id +
                                                       " is revoked; only approved stations may upload \\(revoked at "
                                                       "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: laptop stolen\\)"));
  auto down = client_->Get("/api/v1/sync/down?after=0",
                           Signed(station_.id, station_.key, "GET", "/api/v1/sync/down?after=0", ""));
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 403);
  EXPECT_THAT(Error(*down), ::testing::MatchesRegex("PERMISSION_DENIED: station " + station_.id +
                                                    " is revoked \\(revoked at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: "
                                                    "laptop stolen\\)"));

  response = Upload(pending, Body({Good(pending, 1)}));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(Error(response), "PERMISSION_DENIED: station " + pending.id +
                                 " is pending; only approved stations may upload");
  EXPECT_EQ(State(), before);
}

TEST_F(FaultBadPacket, ReplayedPacketsAreRefusedOrDeduplicated) {
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 2));
  const CentralState before = State();

  // The whole signed request captured on the wire and sent again: each packet
  // is a duplicate, stored once, and the cursor stays.
  auto replay = client_->Post("/api/v1/sync/up", seeded_.body, "application/json", seeded_.headers);
  ASSERT_TRUE(replay.ok());
  ASSERT_EQ(replay->status, 200) << replay->body;
  auto json = nlohmann::json::parse(replay->body);
  EXPECT_EQ(json["cursor"], 2);
  ASSERT_EQ(json["results"].size(), 2u);
  for (const auto& result : json["results"]) EXPECT_EQ(result["verdict"], "duplicate") << result.dump();
  EXPECT_EQ(State(), before);

  // A sequence already used, with other content (a restored backup, a forged resend).
  nlohmann::json verdict = Verdict(Upload(station_, Body({Good(station_, 1)})));
  EXPECT_EQ(verdict.value("verdict", ""), "rejected") << verdict.dump();
  EXPECT_EQ(verdict.value("seq", 0), 1);
  EXPECT_THAT(verdict.value("error", ""), HasSubstr("ALREADY_EXISTS: sequence 1 was already used for other content"));
  EXPECT_EQ(State(), before);

  // Another approved station replays this station's packet as its own.
  FakeStation other;
  ASSERT_NO_FATAL_FAILURE(Register(&other, /*approve=*/true));
  const CentralState with_other = State();
  verdict = Verdict(Upload(other, Body({seeded_.packets[0]})));
  EXPECT_EQ(verdict.value("verdict", ""), "rejected") << verdict.dump();
  EXPECT_EQ(verdict.value("error", ""), "UNAUTHENTICATED: packet signature: signature does not verify");
  EXPECT_EQ(State(), with_other);

  // A captured request replayed two days later.
  std::string body = Body({Good(station_, 3)});
  auto stale = client_->Post("/api/v1/sync/up", body, "application/json",
                             Signed(station_.id, station_.key, "POST", "/api/v1/sync/up", body,
                                    SystemClock::Instance().Now() - hours(49)));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, 401);
  EXPECT_EQ(Error(*stale), "UNAUTHENTICATED: station clock differs from central's by 49 hours; set the station's "
                           "date and time");
  EXPECT_EQ(State(), with_other);
}

TEST_F(FaultBadPacket, OversizedBodyAndEnvelopeAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 1));
  const CentralState before = State();

  // A body over central's 32 MiB limit is refused before it is read.
  std::string huge(33 * 1024 * 1024, ' ');
  auto response = client_->Post("/api/v1/sync/up", huge, "application/json",
                                Signed(station_.id, station_.key, "POST", "/api/v1/sync/up", huge));
  if (response.ok()) {
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(Error(*response), "request body exceeds 33554432 bytes");
  } else {
    // Central may close the connection before the client has written the whole body.
    EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
  }
  EXPECT_EQ(State(), before);

  // A signed envelope over the 2 MiB packet limit, in a body central accepts.
  enrollment::Enrollment e = Sample(station_, 2);
  e.resident.name = std::string(sync::kMaxEnvelopeBytes, 'A');
  sync::Packet big = Pack(station_, 2, e);
  nlohmann::json verdict = Verdict(Upload(station_, Body({big})));
  EXPECT_EQ(verdict.value("verdict", ""), "rejected") << verdict.dump().substr(0, 300);
  EXPECT_EQ(verdict.value("error", ""), "RESOURCE_EXHAUSTED: envelope is " + std::to_string(big.envelope_text.size()) +
                                            " bytes; the limit is " + std::to_string(sync::kMaxEnvelopeBytes));
  EXPECT_EQ(State(), before);
}

TEST_F(FaultBadPacket, TruncatedTemplateIsRefusedAtCaptureAndFailsValidationAtCentral) {
  // At the station, where templates enter: refused with an operator-readable
  // error, nothing stored, nothing sent.
  auto station_id = cluster_.AddStation("station", central_->url());
  ASSERT_TRUE(station_id.ok()) << station_id.status().ToString();
  auto station = cluster_.StartStation("station", central_->url(), ::ektp::fault::Seed());
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  Enroller enroller(::ektp::fault::Seed());
  auto counter = enroller.OpenCounter((*station)->url());
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  const CentralState before = State();
  crypto::Bytes truncated = enrollment::testing::FvcTemplate(1, 102, 1);
  ASSERT_GT(truncated.size(), 100u);
  truncated.resize(truncated.size() / 2);
  auto refused = enroller.EnrollWithFinger(*counter->client, counter->session, truncated);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 400);
  auto error = nlohmann::json::parse(refused->body);
  EXPECT_THAT(error["error"].get<std::string>(), HasSubstr("finger 2 (telunjuk kanan): template is"));
  EXPECT_THAT(error["pesan"].get<std::string>(), HasSubstr("Data belum benar"));
  auto station_state = CheckStation(cluster_.station_dir("station"));
  ASSERT_TRUE(station_state.ok()) << station_state.status().ToString();
  EXPECT_EQ(station_state->enrollments, 0);
  (*station)->Terminate();
  EXPECT_EQ(State(), before);

  // At central, from a station that skipped the capture check: the packet is
  // authentic, so it is kept as evidence, but the record is failed_validation
  // with the reason, no biometrics enter the gallery, and the station hears
  // the reason down its feed (issue 3, item 7).
  ASSERT_NO_FATAL_FAILURE(StoreGood(station_, 1));
  const CentralState seeded = State();
  enrollment::Enrollment e = Sample(station_, 2);
  enrollment::Biometrics biometrics = enrollment::testing::SampleBiometrics(2, 2048, random_);
  biometrics.fingers[0].template_bytes = truncated;
  e.sealed_biometrics = crypto::Seal(sealing_key_, enrollment::SerializeBiometrics(biometrics));
  nlohmann::json verdict = Verdict(Upload(station_, Body({Pack(station_, 2, e)})));
  EXPECT_EQ(verdict.value("verdict", ""), "accepted") << verdict.dump();
  CentralState after = State();
  EXPECT_EQ(after.inbox, seeded.inbox + 1);
  EXPECT_EQ(after.records, seeded.records + 1);
  EXPECT_EQ(after.biometrics, seeded.biometrics);
  EXPECT_EQ(after.feed, seeded.feed + 1);
  auto feed = client_->Get("/api/v1/sync/down?after=0&limit=10",
                           Signed(station_.id, station_.key, "GET", "/api/v1/sync/down?after=0&limit=10", ""));
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->status, 200) << feed->body;
  auto items = nlohmann::json::parse(feed->body)["items"];
  // The two verdicts, then central's Suket trust bundle and revocation list, queued at this first read.
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2]["kind"], "suket_trust");
  auto result = nlohmann::json::parse(items[1]["body"].get<std::string>());
  EXPECT_EQ(result["registration_number"], e.registration_number);
  EXPECT_EQ(result["state"], "failed_validation");
  EXPECT_THAT(result["reason"].get<std::string>(), HasSubstr("finger 2 (telunjuk kanan): template is"));
}

TEST_F(FaultBadPacket, FieldsOfTheWrongTypeAreRefusedByName) {
  // Registration: a token that is not a string.
  const CentralState before = State();
  auto response = client_->Post("/api/v1/stations/register", R"({"token": 12345, "public_key": "AAAA"})",
                                "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(Error(*response), "INVALID_ARGUMENT: body must be {\"token\": ..., \"public_key\": <base64>}");
  EXPECT_EQ(State(), before);

  // The station's operator API: login and enrollment fields of the wrong type.
  auto station_id = cluster_.AddStation("station", central_->url());
  ASSERT_TRUE(station_id.ok()) << station_id.status().ToString();
  auto station = cluster_.StartStation("station", central_->url(), ::ektp::fault::Seed());
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  auto client = Enroller::Client((*station)->url());
  ASSERT_TRUE(client.ok());
  auto login = (*client)->Post("/api/v1/login", R"({"username": ["admin"], "password": 1})", "application/json");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->status, 400);
  EXPECT_EQ(Error(*login), "INVALID_ARGUMENT: body must be {\"username\": <string>, \"password\": <string>} or "
                          "{\"username\": <string>, \"fingerprint\": {\"position\": <1-10>, \"template\": "
                          "<base64>}}");

  Enroller enroller(::ektp::fault::Seed());
  auto session = enroller.Login((*station)->url());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  net::HttpHeaders auth = {{"authorization", "Bearer " + *session}};
  auto enroll = [&](const std::string& application) {
    auto sent = (*client)->PostMultipart("/api/v1/enrollments", {{"application", "", "application/json", application}},
                                         auth);
    EXPECT_TRUE(sent.ok());
    return sent.ok() ? *sent : net::HttpResponse{};
  };
  auto bad = enroll(R"({"kind": 1, "resident": {}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Error(bad), "INVALID_ARGUMENT: application.kind must be a string");
  bad = enroll(R"({"kind": "lost", "previous_nik": 3521010101010001, "resident": {}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Error(bad), "INVALID_ARGUMENT: application.previous_nik must be a string");
  bad = enroll(R"({"finger_exceptions": {"5": true}, "resident": {}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Error(bad), "INVALID_ARGUMENT: application.finger_exceptions.5 must be a string");
  bad = enroll(R"({"finger_exceptions": ["5"], "resident": {}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Error(bad), "INVALID_ARGUMENT: application.finger_exceptions must be an object of finger position to "
                        "exception code");
  auto state = CheckStation(cluster_.station_dir("station"));
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->enrollments, 0);
  (*station)->Terminate();
}

}  // namespace
}  // namespace ektp::fault
