// Station crashes: kill -9 the station process at seeded random moments
// while operators enroll and the sync thread uploads. Every enrollment whose
// receipt was returned arrives at central exactly once, nothing arrives
// half-written, and the station's database stays consistent.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "core/status_matchers.h"
#include "harness.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;

TEST(FaultStationCrash, KillNineDuringEnrollmentAndSyncLosesAndDuplicatesNothing) {
  const int kKills = LongMode() ? 500 : 50;
  Cluster cluster("station-crash");
  auto started = cluster.StartCentralAndAddStation();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto& [central, station_id] = *started;
  const std::string central_url = central->url();

  SeededRandom random(Seed());
  Enroller enroller(Seed() + 1);
  std::string session;
  std::set<std::string> receipts;  // registration numbers whose receipt reached the operator
  int unanswered = 0;              // requests cut by a kill: stored or not, no receipt was given
  int sync_rounds = 0;             // rounds in which central received packets before the kill
  for (int round = 0; round < kKills; ++round) {
    auto station = cluster.StartStation("station", central_url, Seed() + round);
    ASSERT_TRUE(station.ok()) << "round " << round << ": " << station.status().ToString();
    if (session.empty()) {
      auto login = enroller.Login((*station)->url());
      ASSERT_TRUE(login.ok()) << login.status().ToString();
      session = *login;
    }
    auto inbox_before = ReadCentralState(cluster.central_dir());
    ASSERT_TRUE(inbox_before.ok());

    // Three rounds in four an operator enrolls as fast as the station
    // answers; in the others the station only syncs its backlog.
    const bool enrolling = random.Uniform(4) != 0;
    // The window stretches with slower builds (ASan), so the kills still
    // spread over start-up, enrollment and sync.
    const auto kill_after = milliseconds(30 + random.Uniform(400) * TimeoutScale());
    std::atomic<bool> stop{false};
    std::vector<std::string> got;
    std::string failure;
    bool cut = false;
    std::thread writer([&] {
      if (!enrolling) return;
      auto client = Enroller::Client((*station)->url());
      if (!client.ok()) return;
      while (!stop.load()) {
        auto registration = enroller.Enroll(**client, session);
        if (registration.ok()) {
          got.push_back(*registration);
        } else {
          // After the kill the in-flight request fails in transport; anything else is a bug.
          if (registration.status().code() == StatusCode::kUnavailable) {
            cut = true;
          } else {
            failure = registration.status().ToString();
          }
          return;
        }
      }
    });
    std::this_thread::sleep_for(kill_after);
    (*station)->Kill();
    stop = true;
    writer.join();
    ASSERT_EQ(failure, "") << "round " << round;
    unanswered += cut ? 1 : 0;
    for (const std::string& registration : got) {
      ASSERT_TRUE(receipts.insert(registration).second) << "registration " << registration << " was issued twice";
    }
    auto inbox_after = ReadCentralState(cluster.central_dir());
    ASSERT_TRUE(inbox_after.ok());
    if (inbox_after->inbox > inbox_before->inbox) ++sync_rounds;

    // The killed station's database is always consistent.
    auto state = CheckStation(cluster.station_dir("station"));
    ASSERT_TRUE(state.ok()) << "after kill " << round + 1 << ": " << state.status().ToString();
    for (const std::string& registration : got) {
      ASSERT_TRUE(state->registrations.count(registration)) << "receipted " << registration << " was lost";
    }
  }
  std::printf("kills: %d, receipts: %zu, requests cut by a kill: %d, rounds with uploads before the kill: %d\n",
              kKills, receipts.size(), unanswered, sync_rounds);
  EXPECT_GT(sync_rounds, 0) << "no kill happened while the station was uploading";

  // A last, undisturbed run drains the outbox.
  auto station = cluster.StartStation("station", central_url, Seed() + kKills);
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  int64_t enrollments = 0;
  ASSERT_OK(WaitFor(
      [&]() -> Status {
        ASSIGN_OR_RETURN(StationState state, CheckStation(cluster.station_dir("station")));
        enrollments = state.enrollments;
        if (state.pending > 0) return Unavailable(std::to_string(state.pending) + " pending");
        return Status::Ok();
      },
      seconds(180 * TimeoutScale())))
      << LogTail(cluster.log("station"));

  auto final_state = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(final_state.ok()) << final_state.status().ToString();
  EXPECT_EQ(final_state->parked, 0) << "central refused a packet that the station retried after a crash";
  EXPECT_EQ(final_state->acked, final_state->enrollments);
  // Only a request cut by a kill can have been stored without a receipt.
  EXPECT_LE(final_state->enrollments - static_cast<int64_t>(receipts.size()), unanswered);
  auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), station_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, final_state->registrations);
  for (const std::string& registration : receipts) {
    EXPECT_TRUE(arrived->count(registration)) << "receipted " << registration << " never reached central";
  }
  (*station)->Terminate();
  central->Terminate();
}

}  // namespace
}  // namespace ektp::fault
