// A retried enrollment is never a second enrollment: the station is killed
// between committing an enrollment and answering it (the test-only
// EKTP_TEST_CRASH_AFTER_ENROLL_COMMIT makes it exit there), and the client
// retries the same application with the same Idempotency-Key.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "harness.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;

std::string RegistrationOf(const net::HttpResponse& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  return json.is_object() ? json.value("registration_number", "") : "";
}

TEST(FaultEnrollRetry, KillBetweenCommitAndAnswerThenRetryGivesTheOneEnrollmentsReceipt) {
  Cluster cluster("enroll-retry");
  auto started = cluster.StartCentralAndAddStation();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto& [central, station_id] = *started;
  const std::string central_url = central->url();

  ASSERT_EQ(setenv("EKTP_TEST_CRASH_AFTER_ENROLL_COMMIT", "1", 1), 0);
  auto crashing = cluster.StartStation("station", central_url, Seed());
  unsetenv("EKTP_TEST_CRASH_AFTER_ENROLL_COMMIT");
  ASSERT_TRUE(crashing.ok()) << crashing.status().ToString();
  Enroller enroller(Seed());
  auto counter = enroller.OpenCounter((*crashing)->url());
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  auto& [session, client] = *counter;
  const Enroller::Application application = enroller.NewApplication();
  auto cut = Enroller::Send(*client, session, application);
  ASSERT_FALSE(cut.ok()) << "the station answered " << cut->status << " instead of dying after its commit";
  ASSERT_OK(WaitFor([&]() -> Status { return (*crashing)->Alive() ? Unavailable("still running") : Status::Ok(); },
                    seconds(10 * TimeoutScale())));
  auto committed = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_EQ(committed->enrollments, 1) << "the enrollment was not committed before the crash";

  // The counter application retries the same application with the same key.
  auto station = cluster.StartStation("station", central_url, Seed() + 1);
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  auto reconnected = Enroller::Client((*station)->url());
  ASSERT_TRUE(reconnected.ok());
  client = std::move(*reconnected);
  auto retried = Enroller::Send(*client, session, application);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  ASSERT_EQ(retried->status, 200) << retried->body;
  const std::string registration = RegistrationOf(*retried);
  EXPECT_EQ(committed->registrations, std::set<std::string>{registration});
  auto again = Enroller::Send(*client, session, application);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(RegistrationOf(*again), registration);

  // The same key with another application is refused by name and stores nothing.
  Enroller::Application other = enroller.NewApplication();
  other.idempotency_key = application.idempotency_key;
  auto conflict = Enroller::Send(*client, session, other);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, 409);
  EXPECT_THAT(conflict->body, HasSubstr("Idempotency-Key " + application.idempotency_key +
                                        " was already used for a different application"));

  ASSERT_OK(WaitFor(
      [&]() -> Status {
        ASSIGN_OR_RETURN(StationState state, CheckStation(cluster.station_dir("station")));
        if (state.pending > 0) return Unavailable(std::to_string(state.pending) + " pending");
        return Status::Ok();
      },
      seconds(60 * TimeoutScale())))
      << LogTail(cluster.log("station"));
  auto final_state = CheckStation(cluster.station_dir("station"));
  ASSERT_TRUE(final_state.ok()) << final_state.status().ToString();
  EXPECT_EQ(final_state->enrollments, 1);
  EXPECT_EQ(final_state->acked, 1);
  auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), station_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, std::set<std::string>{registration}) << "central's one record is not the receipted one";
  (*station)->Terminate();
  central->Terminate();
}

}  // namespace
}  // namespace ektp::fault
