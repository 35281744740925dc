// A stolen station, replaced as docs/operations.md ("A stolen or broken
// station") says, with real ektp processes on loopback: the old station's
// later packets are refused with the revocation's reason and its earlier
// records stay; the replacement carries over the unsynced work from the old
// station's backup, which arrives once (idempotent on replay) with its
// provenance recorded; what the thief made after the revocation is refused
// even on the carry-over path.
#include <chrono>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "harness.h"
#include "store/db.h"
#include "sync/media.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;

// Packet times are whole seconds: this keeps "before" and "after" the revocation apart.
void NextSecond() { std::this_thread::sleep_for(milliseconds(1100)); }

class FaultStolenStation : public ::testing::Test {
 protected:
  // Starts the station `name` (against `central_url`), enrolls `count` residents and stops it.
  std::set<std::string> EnrollAt(const std::string& name, const std::string& central_url, int count) {
    auto station = cluster_.StartStation(name, central_url, Seed());
    EXPECT_TRUE(station.ok()) << station.status().ToString();
    if (!station.ok()) return {};
    auto counter = enroller_.OpenCounter((*station)->url());
    EXPECT_TRUE(counter.ok()) << counter.status().ToString();
    if (!counter.ok()) return {};
    std::set<std::string> registrations;
    for (int i = 0; i < count; ++i) {
      auto registration = enroller_.Enroll(*counter->client, counter->session);
      EXPECT_TRUE(registration.ok()) << registration.status().ToString();
      if (registration.ok()) registrations.insert(*registration);
    }
    (*station)->Terminate();
    return registrations;
  }

  CliResult Central(std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", cluster_.central_dir()});
    return RunEktp(args, cluster_.log("central-cli"));
  }

  StatusOr<std::unique_ptr<store::Connection>> CentralDb() {
    return store::OpenSqlite(cluster_.central_dir() + "/central.db");
  }

  Cluster cluster_{"stolen-station"};
  Enroller enroller_{Seed()};
};

TEST_F(FaultStolenStation, RevokeReplaceAndCarryOverTheBackupsUnsyncedWork) {
  auto started = cluster_.StartCentralAndAddStation("old");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const std::string central_url = started->central->url();
  const std::string old_id = started->station_id;
  const std::string offline = "https://127.0.0.1:1";  // nothing listens there: the station keeps its outbox

  // Two enrollments reach central over the network.
  std::set<std::string> synced;
  {
    auto station = cluster_.StartStation("old", central_url, Seed());
    ASSERT_TRUE(station.ok()) << station.status().ToString();
    auto counter = enroller_.OpenCounter((*station)->url());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    for (int i = 0; i < 2; ++i) {
      auto registration = enroller_.Enroll(*counter->client, counter->session);
      ASSERT_TRUE(registration.ok()) << registration.status().ToString();
      synced.insert(*registration);
    }
    ASSERT_OK(WaitFor(
        [&]() -> Status {
          ASSIGN_OR_RETURN(StationState state, CheckStation(cluster_.station_dir("old")));
          return state.acked == 2 ? Status::Ok() : Unavailable(std::to_string(state.acked) + " acked");
        },
        seconds(30 * TimeoutScale())))
        << LogTail(cluster_.log("old"));
    (*station)->Terminate();
  }
  // Two more while the van has no link, then the nightly backup.
  const std::set<std::string> unsynced = EnrollAt("old", offline, 2);
  ASSERT_EQ(unsynced.size(), 2u);
  const std::string key = cluster_.dir() + "/backup.key";
  ASSERT_EQ(RunEktp({"backup-key", "create", "--out", key}, cluster_.log("admin-cli")).exit_code, 0);
  ASSERT_EQ(RunEktp({"station", "backup", "--dir", cluster_.station_dir("old"), "--to", cluster_.dir() + "/backups",
                     "--key", key + ".pub"},
                    cluster_.log("admin-cli"))
                .exit_code,
            0)
      << LogTail(cluster_.log("admin-cli"));

  // The laptop is stolen; the admin revokes its key.
  NextSecond();
  ASSERT_OK(cluster_.Revoke(old_id));
  NextSecond();
  auto before_thief = ReadCentralState(cluster_.central_dir());
  ASSERT_TRUE(before_thief.ok()) << before_thief.status().ToString();
  EXPECT_EQ(before_thief->records, 2);
  EXPECT_THAT(before_thief->stations, HasSubstr(old_id + "=revoked"));

  // The thief enrolls with the stolen station: its packets are refused over
  // the network, naming the revocation, and central changes nothing.
  const std::set<std::string> forged = EnrollAt("old", offline, 1);
  ASSERT_EQ(forged.size(), 1u);
  {
    auto station = cluster_.StartStation("old", central_url, Seed());
    ASSERT_TRUE(station.ok()) << station.status().ToString();
    auto counter = enroller_.OpenCounter((*station)->url());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    std::string last_error;
    ASSERT_OK(WaitFor(
        [&]() -> Status {
          auto status = counter->client->Get("/api/v1/sync/status", {{"authorization", "Bearer " + counter->session}});
          if (!status.ok()) return status.status();
          last_error = nlohmann::json::parse(status->body).value("last_error", "");
          return last_error.find("revoked") != std::string::npos ? Status::Ok() : Unavailable(last_error);
        },
        seconds(30 * TimeoutScale())));
    EXPECT_THAT(last_error, HasSubstr("station " + old_id + " is revoked"));
    EXPECT_THAT(last_error, HasSubstr(" (revoked at "));
    EXPECT_THAT(last_error, HasSubstr(": laptop stolen)"));
    (*station)->Terminate();
  }
  // By removable media too.
  CliResult exported =
      RunEktp({"station", "export", "--dir", cluster_.station_dir("old"), "--to", cluster_.dir() + "/thief-usb"},
              cluster_.log("old-cli"));
  ASSERT_EQ(exported.exit_code, 0) << LogTail(cluster_.log("old-cli"));
  EXPECT_NE(Central({"central", "import", cluster_.dir() + "/thief-usb"}).exit_code, 0);
  EXPECT_THAT(LogTail(cluster_.log("central-cli"), 3), HasSubstr("is revoked; only approved stations may upload"));
  auto after_thief = ReadCentralState(cluster_.central_dir());
  ASSERT_TRUE(after_thief.ok());
  EXPECT_EQ(*after_thief, *before_thief);

  // A replacement for the same office; before central names it the
  // replacement, its carry-over is refused.
  auto new_id = cluster_.AddStation("new", central_url);
  ASSERT_TRUE(new_id.ok()) << new_id.status().ToString();
  const std::string restored = cluster_.dir() + "/old-restored";
  ASSERT_EQ(RunEktp({"station", "restore", "--from", cluster_.dir() + "/backups", "--key", key, "--dir", restored},
                    cluster_.log("admin-cli"))
                .exit_code,
            0)
      << LogTail(cluster_.log("admin-cli"));
  const std::string carry = cluster_.dir() + "/carry-over";
  CliResult carried = RunEktp(
      {"station", "carry-over", "--dir", cluster_.station_dir("new"), "--from", restored, "--to", carry},
      cluster_.log("new-cli"));
  ASSERT_EQ(carried.exit_code, 0) << LogTail(cluster_.log("new-cli"));
  EXPECT_THAT(carried.out, HasSubstr("2 packet(s) of " + old_id + ", sequences 3..4"));
  EXPECT_THAT(carried.out, HasSubstr("ektp station operator add --dir " + cluster_.station_dir("new") +
                                     " --username admin --name "));
  EXPECT_NE(Central({"central", "import", carry}).exit_code, 0);
  EXPECT_THAT(LogTail(cluster_.log("central-cli"), 3),
              HasSubstr("station " + *new_id + " is not the registered replacement of station " + old_id));

  CliResult replaced = Central({"central", "station", "replace", old_id, "--by", *new_id});
  ASSERT_EQ(replaced.exit_code, 0) << LogTail(cluster_.log("central-cli"));

  // The backup's unsynced work arrives once, still the old station's.
  CliResult imported = Central({"central", "import", carry});
  ASSERT_EQ(imported.exit_code, 0) << LogTail(cluster_.log("central-cli"));
  EXPECT_THAT(imported.out, HasSubstr("2 packet(s), 2 accepted, 0 duplicate, 0 rejected; cursor 4"));
  std::set<std::string> expected = synced;
  expected.insert(unsynced.begin(), unsynced.end());
  auto arrived = CheckCentralHoldsExactlyOnce(cluster_.central_dir(), old_id);
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, expected);

  // Replayed: duplicates, nothing changes.
  auto before_replay = ReadCentralState(cluster_.central_dir());
  ASSERT_TRUE(before_replay.ok());
  std::filesystem::remove(carry + "/receipt.json");
  CliResult replayed = Central({"central", "import", carry});
  ASSERT_EQ(replayed.exit_code, 0) << LogTail(cluster_.log("central-cli"));
  EXPECT_THAT(replayed.out, HasSubstr("2 packet(s), 0 accepted, 2 duplicate, 0 rejected; cursor 4"));
  auto after_replay = ReadCentralState(cluster_.central_dir());
  ASSERT_TRUE(after_replay.ok());
  EXPECT_EQ(*after_replay, *before_replay);
  EXPECT_EQ(after_replay->records, 4);

  // Provenance: each carried packet names its carrier; each record its station and operator; the audit log both.
  auto db = CentralDb();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto provenance = (*db)->Query("SELECT sequence, carried_by FROM carried_over WHERE station_id = ? ORDER BY sequence",
                                 {old_id});
  ASSERT_TRUE(provenance.ok()) << provenance.status().ToString();
  ASSERT_EQ(provenance->size(), 2u);
  EXPECT_EQ((*provenance)[0].Int(0), 3);
  EXPECT_EQ((*provenance)[1].Int(0), 4);
  EXPECT_EQ((*provenance)[1].Text(1), *new_id);
  for (const std::string& registration : unsynced) {
    auto created = (*db)->Query("SELECT r.station_id, e.actor FROM records r JOIN record_events e ON e.record_id = r.id "
                                "WHERE r.registration_number = ? ORDER BY e.id LIMIT 1",
                                {registration});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_EQ(created->size(), 1u);
    EXPECT_EQ((*created)[0].Text(0), old_id);
    EXPECT_EQ((*created)[0].Text(1), "station:" + old_id + "/op:admin");
  }
  auto audited = (*db)->Query("SELECT actor, detail FROM audit_log WHERE action = 'station.carried_over'");
  ASSERT_TRUE(audited.ok()) << audited.status().ToString();
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].Text(0), "station:" + *new_id);
  EXPECT_THAT((*audited)[0].Text(1), HasSubstr("[3,4]"));

  // The thief's machine handed over as if it were the backup: what was made
  // after the revocation is refused on the carry-over path too.
  const std::string poisoned = cluster_.dir() + "/carry-over-from-thief";
  ASSERT_EQ(RunEktp({"station", "carry-over", "--dir", cluster_.station_dir("new"), "--from",
                     cluster_.station_dir("old"), "--to", poisoned},
                    cluster_.log("new-cli"))
                .exit_code,
            0)
      << LogTail(cluster_.log("new-cli"));
  CliResult refused = Central({"central", "import", poisoned});
  ASSERT_EQ(refused.exit_code, 0) << LogTail(cluster_.log("central-cli"));
  EXPECT_THAT(refused.out, HasSubstr("3 packet(s), 0 accepted, 2 duplicate, 1 rejected; cursor 4"));
  auto receipt = sync::ReadImportReceipt(poisoned + "/receipt.json");
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  ASSERT_EQ(receipt->verdicts.results.size(), 3u);
  EXPECT_EQ(receipt->verdicts.results[2].sequence, 5);
  EXPECT_THAT(receipt->verdicts.results[2].error,
              HasSubstr("packet 5 of station " + old_id + " was created at "));
  EXPECT_THAT(receipt->verdicts.results[2].error, HasSubstr("not before the station was revoked at "));
  auto final_state = ReadCentralState(cluster_.central_dir());
  ASSERT_TRUE(final_state.ok());
  EXPECT_EQ(final_state->records, 4);
  EXPECT_EQ(final_state->inbox, 4);
}

}  // namespace
}  // namespace ektp::fault
