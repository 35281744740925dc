// A station enrolls, is backed up, loses its folder, is restored and syncs:
// nothing lost, nothing duplicated; and a central on SQLite is backed up
// while it serves and restored.
#include "backup/backup.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "central/server.h"
#include "central/station_registry.h"
#include "core/status_matchers.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "station/server.h"
#include "store/testing.h"

namespace ektp::backup {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

const Layout& kStation = kStationLayout;
const Layout& kCentral = kCentralLayout;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::MakeTempDir("ektp-backup-test-");
    central_options_.data_dir = dir_ + "/central";
    central_options_.run_pipeline = false;
    ASSERT_OK(central::InitCentral(central_options_, {}));
    auto central = central::CentralServer::Create(central_options_, clock_);
    ASSERT_OK(central.status());
    central_ = std::move(*central);
    ASSERT_OK(central_->Start());
    auto db = store::Open(central::CentralDbUrl(central_options_), store::Schema::kCentral);
    ASSERT_OK(db.status());
    central_db_ = std::move(*db);
    central::StationRegistry registry(*central_db_, clock_);
    auto token = registry.CreateToken({"35.21.01", central::StationKind::kMobileVan, {"enroll"}, hours(24)}, "admin");
    ASSERT_OK(token.status());
    auto identity = station::InitStation({station_dir(), central_->base_url(), *token, "", "", ""}, clock_);
    ASSERT_OK(identity.status());
    ASSERT_OK(registry.Approve(identity->station_id, "admin"));
    ASSERT_OK(CreateBackupKey(dir_ + "/admin-backup.key"));
    auto public_key = LoadBackupPublicKey(dir_ + "/admin-backup.key.pub");
    ASSERT_OK(public_key.status());
    public_key_ = *public_key;
  }

  void TearDown() override {
    if (central_) central_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string station_dir() const { return dir_ + "/station"; }

  // Enrolls `count` residents at the station in its folder, then syncs when asked.
  void Enroll(int count, bool sync) {
    auto files = station::OpenStationFiles(station_dir());
    ASSERT_OK(files.status());
    station::Station station(*files->db, clock_, files->key, files->identity);
    if (!added_operator_) {
      ASSERT_OK(station.AddOperator(ani_, "kata-sandi-1", crypto::PasswordStrength::kFast));
      added_operator_ = true;
    }
    for (int i = 0; i < count; ++i) {
      station::EnrollmentRequest request;
      request.resident = SyntheticResident(RegionRegistry::Default(), "35.21", random_, clock_.TodayWib());
      request.biometrics = enrollment::testing::SampleBiometrics(3, 4000, random_);
      ASSERT_OK(station.Enroll(ani_, request).status());
    }
    if (!sync) return;
    station::SyncOptions options;
    std::ifstream cert(station_dir() + "/central-cert.pem");
    options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
    station::SyncClient client(station, clock_, random_, files->key, options);
    ASSERT_OK(client.SyncOnce());
    ASSERT_EQ(*station.CountOutbox(station::OutboxState::kPending), 0);
  }

  int64_t CentralCount(const std::string& sql) {
    auto rows = central_db_->Query(sql);
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)}) + hours(2)};
  SeededRandom random_{11};
  std::string dir_;
  central::CentralOptions central_options_;
  std::unique_ptr<central::CentralServer> central_;
  std::unique_ptr<store::Connection> central_db_;
  crypto::Bytes public_key_;
  station::Operator ani_{"ani", "Ani Rahayu", station::Role::kOperator};
  bool added_operator_ = false;
};

// Issue 18's test: enroll, back up, destroy the station's folder, restore, sync.
TEST_F(BackupTest, RestoredStationLosesNothingDuplicatesNothingAndStillSigns) {
  Enroll(2, /*sync=*/true);
  Enroll(1, /*sync=*/false);  // waits in the outbox when the backup is taken
  auto file = Backup(kStation, station_dir(), public_key_, dir_ + "/usb", clock_);
  ASSERT_OK(file.status());
  EXPECT_THAT(*file, HasSubstr(dir_ + "/usb/station-2026-11-24T02-00-00Z.ektp-backup"));
  EXPECT_EQ(std::filesystem::status(*file).permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  EXPECT_FALSE(std::filesystem::exists(station_dir() + "/.backup-copy.db"));

  std::filesystem::remove_all(station_dir());  // the van's disk dies
  auto key = crypto::SealingKey::Load(dir_ + "/admin-backup.key");
  ASSERT_OK(key.status());
  auto found = FindBackup(kStation, dir_ + "/usb");
  ASSERT_OK(found.status());
  EXPECT_EQ(*found, *file);
  auto restored = Restore(kStation, *found, *key, station_dir());
  ASSERT_OK(restored.status());
  EXPECT_THAT(*restored, ::testing::UnorderedElementsAre("station.db", "station.key", "station-box.key",
                                                         "central-cert.pem"));
  EXPECT_EQ(std::filesystem::status(station_dir() + "/station.key").permissions(), std::filesystem::perms::owner_read |
                                                                                       std::filesystem::perms::owner_write);

  // The pending enrollment goes up once; a new one is signed by the restored key and accepted.
  Enroll(1, /*sync=*/true);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 4);
  EXPECT_EQ(CentralCount("SELECT COUNT(DISTINCT registration_number) FROM records"), 4);
  auto files = station::OpenStationFiles(station_dir());
  ASSERT_OK(files.status());
  station::Station station(*files->db, clock_, files->key, files->identity);
  EXPECT_EQ(*station.CountOutbox(station::OutboxState::kAcked), 4);
  EXPECT_EQ(*station.CountOutbox(station::OutboxState::kParked), 0);
}

TEST_F(BackupTest, RestoreRefusesAnotherKeyAnOccupiedFolderAndADamagedFileWritingNothing) {
  Enroll(1, /*sync=*/false);
  auto file = Backup(kStation, station_dir(), public_key_, dir_ + "/usb", clock_);
  ASSERT_OK(file.status());
  auto key = crypto::SealingKey::Load(dir_ + "/admin-backup.key");
  ASSERT_OK(key.status());

  EXPECT_THAT(Restore(kStation, *file, crypto::SealingKey::Generate(), dir_ + "/other"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not open with this key")));
  EXPECT_THAT(Restore(kStation, *file, *key, station_dir()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already holds station.db; restore into an empty")));
  EXPECT_THAT(Restore(kCentral, *file, *key, dir_ + "/other"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a central backup")));

  std::string bytes;
  {
    std::ifstream in(*file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir_ + "/cut.ektp-backup", std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  EXPECT_THAT(Restore(kStation, dir_ + "/cut.ektp-backup", *key, dir_ + "/cut"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/cut"));

  EXPECT_THAT(FindBackup(kStation, dir_ + "/nothing-here"), StatusIs(StatusCode::kNotFound, HasSubstr("neither")));
  EXPECT_THAT(LoadBackupPublicKey(dir_ + "/admin-backup.key"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a backup public key")));
  EXPECT_THAT(CreateBackupKey(dir_ + "/admin-backup.key"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already exists")));
}

TEST_F(BackupTest, CentralOnSqliteIsBackedUpWhileServingAndRestores) {
  Enroll(2, /*sync=*/true);
  auto file = Backup(kCentral, central_options_.data_dir, public_key_, dir_ + "/offsite", clock_);
  ASSERT_OK(file.status());
  auto key = crypto::SealingKey::Load(dir_ + "/admin-backup.key");
  ASSERT_OK(key.status());
  central::CentralOptions restored;
  restored.data_dir = dir_ + "/central-restored";
  restored.run_pipeline = false;
  ASSERT_OK(Restore(kCentral, *file, *key, restored.data_dir).status());
  auto server = central::CentralServer::Create(restored, clock_);
  ASSERT_OK(server.status());
  ASSERT_OK((*server)->Start());
  auto db = store::Open(central::CentralDbUrl(restored), store::Schema::kCentral);
  ASSERT_OK(db.status());
  auto rows = (*db)->Query("SELECT COUNT(*) FROM records");
  ASSERT_OK(rows.status());
  EXPECT_EQ((*rows)[0].Int(0), 2);
  (*server)->Stop();
}

}  // namespace
}  // namespace ektp::backup
