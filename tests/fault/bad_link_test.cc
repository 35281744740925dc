// Bad links: station -> fault-injecting TCP proxy -> central. The proxy cuts
// connections mid-request and mid-response, resets them, refuses them,
// delays them and goes down for a while; nothing is lost and nothing is
// duplicated.
#include <atomic>
#include <fstream>
#include <thread>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "faultnet/fault_proxy.h"
#include "net/http_server.h"
#include "harness.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;

// A counter from central's /metrics, or -1.
int64_t CentralMetric(const std::string& central_url, const std::string& central_dir, const std::string& series) {
  std::ifstream in(central_dir + "/tls-cert.pem");
  net::HttpClientOptions options;
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
  auto client = net::HttpClient::Create(central_url, options);
  if (!client.ok()) return -1;
  auto response = (*client)->Get("/metrics");
  if (!response.ok()) return -1;
  size_t at = response->body.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atoll(response->body.c_str() + at + series.size() + 2);
}

TEST(FaultBadLink, CutsResetsDelaysAndOutagesLoseAndDuplicateNothing) {
  const int kEnrollments = LongMode() ? 2000 : 200;
  Cluster cluster("bad-link");
  auto started = cluster.StartCentralAndAddStation();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto& [central, station_id] = *started;

  // Two plans take turns. Neither lets a connection pass untouched: the
  // station keeps its connection alive across batches and feed polls, so
  // every connection is eventually cut or reset.
  //  - upstream: cuts mid-request and resets at a point within a few
  //    batches (8 packets are about 40 KB);
  //  - downstream: cuts mid-response within the first few KB the client
  //    receives (TLS handshake, verdicts, feed), after central has read and
  //    stored the whole batch, so the station must resend what central holds.
  faultnet::FaultPlan upstream;
  upstream.cut_request_prob = 0.45;
  upstream.reset_prob = 0.35;
  upstream.refuse_prob = 0.2;
  upstream.cut_max_bytes = 96 * 1024;
  upstream.delay_prob = 0.3;
  upstream.delay = milliseconds(15);
  faultnet::FaultPlan downstream;
  downstream.cut_response_prob = 0.8;
  downstream.reset_prob = 0.1;
  downstream.refuse_prob = 0.1;
  downstream.cut_max_bytes = 6 * 1024;
  downstream.delay_prob = 0.3;
  downstream.delay = milliseconds(15);
  faultnet::FaultProxyOptions options;
  options.target_port = static_cast<uint16_t>(central->port());
  options.seed = Seed();
  options.plan = upstream;
  faultnet::FaultProxy proxy(options);
  ASSERT_OK(proxy.Start());
  int turn = 0;
  auto next_plan = [&] { ASSERT_OK(proxy.SetPlan(++turn % 2 == 0 ? upstream : downstream)); };

  auto station = cluster.StartStation("station", "https://127.0.0.1:" + std::to_string(proxy.port()), Seed());
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  Enroller enroller(Seed());
  auto counter = enroller.OpenCounter((*station)->url());
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  auto& [session, client] = *counter;
  std::set<std::string> receipts;
  for (int i = 0; i < kEnrollments; ++i) {
    if (i % 25 == 24) next_plan();
    if (i == kEnrollments / 2) proxy.SetDown(true);  // an outage in the middle, live connections reset
    if (i == kEnrollments / 2 + 40) {
      // The outage lasts until the station has met it (a connection refused
      // or cut), however fast the enrollments above were.
      ASSERT_OK(WaitFor(
          [&] {
            faultnet::Stats seen = proxy.stats();
            return seen.rejected_while_down + seen.cut_by_down > 0 ? Status::Ok()
                                                                     : Unavailable("the station has not met the outage");
          },
          seconds(20 * TimeoutScale())));
      proxy.SetDown(false);
    }
    auto registration = enroller.Enroll(*client, session);
    ASSERT_TRUE(registration.ok()) << "enrollment " << i << ": " << registration.status().ToString();
    receipts.insert(*registration);
  }
  proxy.SetDown(false);

  // The faults keep coming while the outbox drains.
  auto deadline = steady_clock::now() + seconds(180 * TimeoutScale());
  Status drained = Unavailable("not checked");
  for (int poll = 1; steady_clock::now() < deadline; ++poll) {
    auto state = CheckStation(cluster.station_dir("station"));
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    drained = state->pending == 0 ? Status::Ok() : Unavailable(std::to_string(state->pending) + " pending");
    if (drained.ok()) break;
    if (poll % 5 == 0) next_plan();
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_OK(drained) << LogTail(cluster.log("station"));

  faultnet::Stats stats = proxy.stats();
  std::printf("proxy: %llu connections, %llu cut mid-request, %llu cut mid-response, %llu reset, %llu refused, "
              "%llu delayed, %llu reset by the outage; central saw %lld duplicate packets\n",
              (unsigned long long)stats.connections, (unsigned long long)stats.cut_request,
              (unsigned long long)stats.cut_response, (unsigned long long)stats.reset,
              (unsigned long long)stats.refused, (unsigned long long)stats.delayed,
              (unsigned long long)(stats.rejected_while_down + stats.cut_by_down),
              (long long)CentralMetric(central->url(), cluster.central_dir(),
                                       "ektp_central_packets_total{verdict=\"duplicate\"}"));
  // The link really was bad: every kind of fault happened.
  EXPECT_GT(stats.cut_request, 0u);
  EXPECT_GT(stats.cut_response, 0u);
  EXPECT_GT(stats.reset, 0u);
  EXPECT_GT(stats.delayed, 0u);
  EXPECT_GT(stats.rejected_while_down + stats.cut_by_down, 0u);

  auto state = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->acked, kEnrollments);
  EXPECT_EQ(state->parked, 0);
  EXPECT_EQ(state->registrations, receipts);
  auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), station_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, receipts);
  auto central_state = ReadCentralState(cluster.central_dir());
  ASSERT_TRUE(central_state.ok());
  EXPECT_EQ(central_state->records, kEnrollments);
  EXPECT_EQ(central_state->feed, kEnrollments);
  (*station)->Terminate();
  proxy.Stop();
  central->Terminate();
}

// Whatever comes back over the link (a broken central, a captive portal in
// front of a plain-HTTP development URL), the station keeps running, keeps
// its outbox and retries.
TEST(FaultBadLink, GarbageAnswersFromCentralDoNotStopTheStation) {
  Cluster cluster("garbage");
  auto started = cluster.StartCentralAndAddStation();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto& [central, station_id] = *started;
  central->Terminate();

  // A fake central whose answers have the right shape but fields of the wrong type.
  net::HttpServerOptions options;
  net::HttpServer fake(options);
  std::atomic<int> uploads{0}, feeds{0};
  fake.Handle("POST", "/api/v1/sync/up", [&](const net::HttpRequest&) {
    ++uploads;
    return net::HttpResponse::Json(400, R"({"error": 5})");
  });
  fake.Handle("GET", "/api/v1/sync/down", [&](const net::HttpRequest&) {
    ++feeds;
    return net::HttpResponse::Json(200, R"({"items": [{"id": "x", "kind": 1}]})");
  });
  ASSERT_OK(fake.Start());
  auto station = cluster.StartStation("station", fake.base_url(), Seed(), {"--insecure-plain-http"});
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  Enroller enroller(Seed());
  auto counter = enroller.OpenCounter((*station)->url());
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  auto& [session, client] = *counter;
  // The first passes have nothing to send and pull the malformed feed.
  ASSERT_OK(WaitFor([&] { return feeds >= 2 ? Status::Ok() : Unavailable("waiting for feed pulls"); },
                    seconds(20 * TimeoutScale())))
      << LogTail(cluster.log("station"));
  ASSERT_TRUE((*station)->Alive()) << LogTail(cluster.log("station"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(enroller.Enroll(*client, session).ok());
  ASSERT_OK(WaitFor([&] { return uploads >= 3 ? Status::Ok() : Unavailable("waiting for uploads"); },
                    seconds(20 * TimeoutScale())));
  ASSERT_TRUE((*station)->Alive()) << LogTail(cluster.log("station"));
  auto status = client->Get("/api/v1/sync/status", {{"authorization", "Bearer " + session}});
  ASSERT_TRUE(status.ok()) << status.status().ToString() << LogTail(cluster.log("station"));
  auto sync = nlohmann::json::parse(status->body);
  EXPECT_EQ(sync["pending"], 3);
  EXPECT_THAT(sync["last_error"].get<std::string>(), ::testing::HasSubstr("UNAVAILABLE"));

  EXPECT_EQ(sync["parked"], 0);
  fake.Stop();
  (*station)->Terminate();
}

}  // namespace
}  // namespace ektp::fault
