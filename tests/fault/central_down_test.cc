// Central down: a station records 500 enrollments while central is not
// running; when central starts, all 500 arrive exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "harness.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;

TEST(FaultCentralDown, FiveHundredEnrollmentsArriveExactlyOnceWhenCentralStarts) {
  constexpr int kEnrollments = 500;
  Cluster cluster("central-down");
  auto started = cluster.StartCentralAndAddStation();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const int central_port = started->central->port();
  const std::string central_url = started->central->url();
  const std::string station_id = started->station_id;

  // Central goes away before the station opens; its port is refused from now on.
  started->central->Terminate();
  started->central.reset();

  auto station = cluster.StartStation("station", central_url, Seed());
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  Enroller enroller(Seed());
  auto counter = enroller.OpenCounter((*station)->url());
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  auto& [session, client] = *counter;
  std::set<std::string> receipts;
  for (int i = 0; i < kEnrollments; ++i) {
    auto registration = enroller.Enroll(*client, session);
    ASSERT_TRUE(registration.ok()) << "enrollment " << i << ": " << registration.status().ToString();
    receipts.insert(*registration);
  }
  ASSERT_EQ(receipts.size(), static_cast<size_t>(kEnrollments));

  // Everything waits in the outbox; the station has tried and failed to reach central.
  auto before = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->pending, kEnrollments);
  EXPECT_EQ(before->acked, 0);
  EXPECT_EQ(before->registrations, receipts);
  auto status = client->Get("/api/v1/sync/status", {{"authorization", "Bearer " + session}});
  ASSERT_TRUE(status.ok());
  auto sync = nlohmann::json::parse(status->body);
  EXPECT_EQ(sync["pending"], kEnrollments);
  EXPECT_EQ(sync["last_success"], "");
  EXPECT_THAT(sync["last_error"].get<std::string>(), ::testing::HasSubstr("UNAVAILABLE"));
  auto empty = ReadCentralState(cluster.central_dir());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->inbox, 0);
  EXPECT_EQ(empty->records, 0);

  // Central comes back on the address the station knows.
  auto central = cluster.StartCentral(central_port);
  ASSERT_TRUE(central.ok()) << "central could not take its port back: " << central.status().ToString();
  Status drained = WaitFor(
      [&]() -> Status {
        ASSIGN_OR_RETURN(StationState state, CheckStation(cluster.station_dir("station")));
        if (state.acked != kEnrollments) return Unavailable(std::to_string(state.acked) + " acked");
        return Status::Ok();
      },
      seconds(120 * TimeoutScale()));
  ASSERT_OK(drained) << LogTail(cluster.log("station"));

  auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), station_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, receipts);
  auto after = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->acked, kEnrollments);
  EXPECT_EQ(after->pending, 0);
  EXPECT_EQ(after->parked, 0);
  auto state = ReadCentralState(cluster.central_dir());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->records, kEnrollments);
  EXPECT_EQ(state->inbox, kEnrollments);
  EXPECT_EQ(state->biometrics, kEnrollments);
  EXPECT_EQ(state->feed, kEnrollments);  // one validation result per record, no more

  // The validation results come back down the feed to the operator.
  ASSERT_OK(WaitFor(
      [&]() -> Status {
        auto status = client->Get("/api/v1/enrollments/" + *receipts.rbegin(),
                                     {{"authorization", "Bearer " + session}});
        if (!status.ok()) return status.status();
        if (status->body.find("\"validated\"") == std::string::npos) return Unavailable(status->body);
        return Status::Ok();
      },
      seconds(30 * TimeoutScale())));
  (*station)->Terminate();
  (*central)->Terminate();
}

}  // namespace
}  // namespace ektp::fault
