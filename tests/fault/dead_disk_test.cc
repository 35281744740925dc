// A van's disk dies between syncs (issue 18, item 3), with real ektp
// processes on loopback: the station keeps its outbox mirror on a "USB disk"
// (`station serve --outbox-mirror`), is killed with SIGKILL right after its
// last enrollment is answered, and its folder is deleted. The replacement
// carries the mirror over with the CLI (`station carry-over --from`), and
// central then holds every enrollment exactly once, also after a replay.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"
#include "harness.h"
#include "sync/media.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;

TEST(FaultDeadDisk, TheOutboxMirrorBringsEveryUnsyncedEnrollmentToCentralOnce) {
  Cluster cluster("dead-disk");
  Enroller enroller(Seed());
  auto started = cluster.StartCentralAndAddStation("van");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const std::string central_url = started->central->url();
  const std::string old_id = started->station_id;
  const std::string mirror = cluster.dir() + "/usb/ektp-mirror";
  std::filesystem::create_directories(mirror);
  const std::vector<std::string> mirrored = {"--outbox-mirror", mirror};

  // Two enrollments reach central over the network.
  std::set<std::string> expected;
  {
    auto station = cluster.StartStation("van", central_url, Seed(), mirrored);
    ASSERT_TRUE(station.ok()) << station.status().ToString();
    auto counter = enroller.OpenCounter((*station)->url());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    for (int i = 0; i < 2; ++i) {
      auto registration = enroller.Enroll(*counter->client, counter->session);
      ASSERT_TRUE(registration.ok()) << registration.status().ToString();
      expected.insert(*registration);
    }
    ASSERT_OK(WaitFor(
        [&]() -> Status {
          ASSIGN_OR_RETURN(StationState state, CheckStation(cluster.station_dir("van")));
          return state.acked == 2 ? Status::Ok() : Unavailable(std::to_string(state.acked) + " acked");
        },
        seconds(30 * TimeoutScale())))
        << LogTail(cluster.log("van"));
    (*station)->Terminate();
  }
  // Three more out of reach; the disk dies the moment the last one is answered.
  {
    auto station = cluster.StartStation("van", "https://127.0.0.1:1", Seed(), mirrored);
    ASSERT_TRUE(station.ok()) << station.status().ToString();
    auto counter = enroller.OpenCounter((*station)->url());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    for (int i = 0; i < 3; ++i) {
      auto registration = enroller.Enroll(*counter->client, counter->session);
      ASSERT_TRUE(registration.ok()) << registration.status().ToString();
      expected.insert(*registration);
    }
    (*station)->Kill();
  }
  std::filesystem::remove_all(cluster.station_dir("van"));
  auto listed = sync::ReadExportManifest(mirror);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->manifest.packets.size(), 3u);  // the acknowledged two dropped out

  // Revoke, replace, carry the mirror over, import.
  std::this_thread::sleep_for(milliseconds(1100));  // packet times are whole seconds: all before the revocation
  ASSERT_OK(cluster.Revoke(old_id));
  auto new_id = cluster.AddStation("new", central_url);
  ASSERT_TRUE(new_id.ok()) << new_id.status().ToString();
  CliResult replaced =
      RunEktp({"central", "station", "replace", old_id, "--by", *new_id, "--dir", cluster.central_dir()},
              cluster.log("central-cli"));
  ASSERT_EQ(replaced.exit_code, 0) << LogTail(cluster.log("central-cli"));
  const std::string carry = cluster.dir() + "/usb/carry-over";
  CliResult carried = RunEktp(
      {"station", "carry-over", "--dir", cluster.station_dir("new"), "--from", mirror, "--to", carry},
      cluster.log("new-cli"));
  ASSERT_EQ(carried.exit_code, 0) << LogTail(cluster.log("new-cli"));
  EXPECT_THAT(carried.out, HasSubstr("3 packet(s) of " + old_id + ", sequences 3..5"));
  EXPECT_THAT(carried.out, HasSubstr("the mirror holds no operator accounts"));

  CliResult imported = RunEktp({"central", "import", carry, "--dir", cluster.central_dir()}, cluster.log("central-cli"));
  ASSERT_EQ(imported.exit_code, 0) << LogTail(cluster.log("central-cli"));
  EXPECT_THAT(imported.out, HasSubstr("3 packet(s), 3 accepted, 0 duplicate, 0 rejected; cursor 5"));
  std::filesystem::remove(carry + "/receipt.json");
  CliResult replayed = RunEktp({"central", "import", carry, "--dir", cluster.central_dir()}, cluster.log("central-cli"));
  ASSERT_EQ(replayed.exit_code, 0) << LogTail(cluster.log("central-cli"));
  EXPECT_THAT(replayed.out, HasSubstr("3 packet(s), 0 accepted, 3 duplicate, 0 rejected; cursor 5"));

  auto arrived = CheckCentralHoldsExactlyOnce(cluster.central_dir(), old_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, expected);
  EXPECT_EQ(expected.size(), 5u);
}

}  // namespace
}  // namespace ektp::fault
