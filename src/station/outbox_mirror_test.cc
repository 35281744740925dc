// The rolling outbox mirror (issue 18, item 3): a van's disk dies between
// syncs, and the copy of its outbox on a USB disk brings every unsynced
// enrollment to central once; an unplugged disk never holds up an enrollment.
#include <chrono>
#include <thread>

#include "station/station_test_fixture.h"

#include "central/media_import.h"
#include "core/resident_json.h"
#include "enrollment/testing.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class OutboxMirrorTest : public StationTest {
 protected:
  void SetUp() override {
    StationTest::SetUp();
    usb_ = dir_ + "/usb/ektp-mirror";
  }

  // The station's server (operator API, no sync) keeping its mirror in usb_.
  StatusOr<std::unique_ptr<StationServer>> StartMirroringServer() {
    StationOptions options;
    options.data_dir = dir_ + "/station";
    options.run_sync = false;
    options.outbox_mirror = usb_;
    options.mirror_check_interval = std::chrono::milliseconds(20);
    ASSIGN_OR_RETURN(auto server, StationServer::Create(options, clock_));
    RETURN_IF_ERROR(server->Start());
    ASSIGN_OR_RETURN(client_, net::HttpClient::Create(server->base_url(), {}));
    auth_ = LoginOverApi(*client_, "ani", "kata-sandi-1");
    return server;
  }

  // Enrolls over the operator API as the console does; the registration number.
  std::string EnrollOverApi(const std::string& idempotency_key) {
    EnrollmentRequest request = Request();
    names_.push_back(request.resident.name);
    const std::vector<net::MultipartPart> parts =
        EnrollmentParts(request, {{"kind", "first_card"}, {"resident", ResidentToJson(request.resident)}});
    net::HttpHeaders headers = auth_;
    headers.emplace("idempotency-key", idempotency_key);
    auto created = client_->PostMultipart("/api/v1/enrollments", parts, headers);
    EXPECT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : created.status().ToString());
    if (!created.ok() || created->status != 201) return "";
    return nlohmann::json::parse(created->body)["registration_number"].get<std::string>();
  }

  nlohmann::json MirrorStatus() {
    auto answer = client_->Get("/api/v1/sync/status", auth_);
    if (!answer.ok() || answer->status != 200) return {};
    return nlohmann::json::parse(answer->body).value("mirror", nlohmann::json::object());
  }

  // Polls the sync status until `done` holds for its "mirror" (at most 10 s).
  nlohmann::json WaitForMirror(const std::function<bool(const nlohmann::json&)>& done) {
    nlohmann::json mirror;
    for (int attempt = 0; attempt < 500; ++attempt) {
      mirror = MirrorStatus();
      if (done(mirror)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return mirror;
  }

  std::string usb_;
  std::unique_ptr<net::HttpClient> client_;
  net::HttpHeaders auth_;
  std::vector<std::string> names_;
};

TEST_F(OutboxMirrorTest, AVanWhoseDiskDiesLosesNothingAndCentralStoresEachEnrollmentOnce) {
  fs::create_directories(usb_);
  auto server = StartMirroringServer();
  ASSERT_OK(server.status());
  // Two enrollments reach central over the network; three more are not synced.
  std::vector<std::string> registrations;
  for (int i = 0; i < 2; ++i) registrations.push_back(EnrollOverApi("van-7-application-000" + std::to_string(i)));
  ASSERT_OK(sync_->SyncOnce());
  ASSERT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 2);
  for (int i = 2; i < 5; ++i) registrations.push_back(EnrollOverApi("van-7-application-000" + std::to_string(i)));

  // The mirror follows the outbox, and the answer to an enrollment waited for
  // it: the acknowledged two dropped out, the three unsynced are in it.
  nlohmann::json mirror = MirrorStatus();
  EXPECT_EQ(mirror.value("packets", -1), 3) << mirror.dump();
  EXPECT_EQ(mirror.value("error", "?"), "");
  EXPECT_EQ(mirror.value("last_written_at", ""), FormatTimestamp(clock_.Now()));
  auto listed = sync::ReadExportManifest(usb_);
  ASSERT_OK(listed.status());
  ASSERT_EQ(listed->manifest.packets.size(), 3u);
  EXPECT_EQ(listed->manifest.packets.front().sequence, 3);
  EXPECT_FALSE(fs::exists(usb_ + "/" + sync::ExportPacketPath(1)));

  // Whoever picks up the USB disk reads no name of any resident.
  for (const auto& file : fs::recursive_directory_iterator(usb_)) {
    if (!file.is_regular_file()) continue;
    const std::string bytes = ReadAll(file.path().string());
    for (const std::string& name : names_) EXPECT_EQ(bytes.find(name), std::string::npos) << file.path() << " " << name;
  }

  // The disk dies: the station's folder is gone.
  (*server)->Stop();
  server->reset();
  sync_.reset();
  station_.reset();
  station_db_.reset();
  fs::remove_all(dir_ + "/station");

  // At central: revoke the lost station, register its replacement on a new machine.
  clock_.Advance(std::chrono::minutes(5));
  central::StationRegistry registry(*central_db_, clock_);
  ASSERT_OK(registry.Revoke(identity_.station_id, "admin", "disk died"));
  auto token = registry.CreateToken(
      {"35.21.01", central::StationKind::kKecamatanOffice, {"enroll", "print"}, std::chrono::hours(24)}, "admin");
  ASSERT_OK(token.status());
  auto replacement_identity =
      InitStation({dir_ + "/station-2", central_->base_url(), *token, "", "admin", "admin-pass-1"}, clock_);
  ASSERT_OK(replacement_identity.status());
  ASSERT_OK(registry.Approve(replacement_identity->station_id, "admin"));
  ASSERT_OK(registry.Replace(identity_.station_id, replacement_identity->station_id, "admin"));

  // On the new machine: the mirror, carried over without opening a packet.
  auto files = OpenStationFiles(dir_ + "/station-2");
  ASSERT_OK(files.status());
  Station replacement(*files->db, clock_, files->key, files->identity);
  auto carried = replacement.ExportCarryOverFromFolder(usb_, dir_ + "/carry-over");
  ASSERT_OK(carried.status());
  EXPECT_EQ(carried->packets.size(), 3u);

  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  auto imported = central::ImportExport(*central_db_, clock_, *keys, RegionRegistry::Default(), dir_ + "/carry-over");
  ASSERT_OK(imported.status());
  ASSERT_EQ(imported->verdicts.results.size(), 3u);
  for (const sync::PacketResult& result : imported->verdicts.results) EXPECT_EQ(result.verdict, sync::Verdict::kAccepted);
  // Again: every packet a duplicate, nothing stored twice.
  auto again = central::ImportExport(*central_db_, clock_, *keys, RegionRegistry::Default(), dir_ + "/carry-over",
                                     dir_ + "/receipt-2.json");
  ASSERT_OK(again.status());
  for (const sync::PacketResult& result : again->verdicts.results) EXPECT_EQ(result.verdict, sync::Verdict::kDuplicate);

  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 5);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 5);
  for (const std::string& registration : registrations) {
    EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE registration_number = '" + registration + "'"), 1)
        << registration;
  }
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM carried_over"), 3);

  // The lost station's key opens nothing any more: the mirror as it is, imported directly, is refused.
  EXPECT_THAT(central::ImportExport(*central_db_, clock_, *keys, RegionRegistry::Default(), usb_,
                                    dir_ + "/receipt-3.json"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("is revoked")));
}

TEST_F(OutboxMirrorTest, AnUnpluggedDiskNeverHoldsUpAnEnrollmentAndItsErrorIsVisibleUntilItReturns) {
  auto server = StartMirroringServer();  // usb_ does not exist: the disk is not plugged in
  ASSERT_OK(server.status());
  const std::string registration = EnrollOverApi("van-7-application-0000");
  EXPECT_FALSE(registration.empty());
  nlohmann::json mirror = WaitForMirror([](const nlohmann::json& m) { return !m.value("error", "").empty(); });
  EXPECT_THAT(mirror.value("error", ""), HasSubstr("mirror folder " + usb_ + " does not exist (is the disk plugged in"));
  EXPECT_EQ(mirror.value("error_since", ""), FormatTimestamp(clock_.Now()));
  EXPECT_EQ(mirror.value("last_written_at", "?"), "");
  EXPECT_FALSE(fs::exists(dir_ + "/usb"));  // nothing written in the mount point's place
  auto metrics = client_->Get("/metrics");
  ASSERT_OK(metrics.status());
  EXPECT_THAT(metrics->body, HasSubstr("ektp_station_mirror_failing 1"));

  // A second enrollment while unplugged is not held up either.
  EXPECT_FALSE(EnrollOverApi("van-7-application-0001").empty());

  // The disk is plugged in again: the next attempt writes both.
  fs::create_directories(usb_);
  mirror = WaitForMirror([](const nlohmann::json& m) { return m.value("packets", 0) == 2; });
  EXPECT_EQ(mirror.value("packets", 0), 2) << mirror.dump();
  EXPECT_EQ(mirror.value("error", "?"), "");
  EXPECT_EQ(mirror.value("error_since", "?"), "");
  auto listed = sync::ReadExportManifest(usb_);
  ASSERT_OK(listed.status());
  EXPECT_EQ(listed->manifest.packets.size(), 2u);
  metrics = client_->Get("/metrics");
  ASSERT_OK(metrics.status());
  EXPECT_THAT(metrics->body, HasSubstr("ektp_station_mirror_failing 0"));
  EXPECT_THAT(metrics->body, HasSubstr("ektp_station_mirror_packets 2"));
  (*server)->Stop();
}

TEST_F(OutboxMirrorTest, ATamperedMirrorIsRefusedByNameBeforeAnythingIsWritten) {
  fs::create_directories(usb_);
  auto server = StartMirroringServer();
  ASSERT_OK(server.status());
  EnrollOverApi("van-7-application-0000");
  EnrollOverApi("van-7-application-0001");
  ASSERT_EQ(WaitForMirror([](const nlohmann::json& m) { return m.value("packets", 0) == 2; }).value("packets", 0), 2);
  (*server)->Stop();

  const std::string path = usb_ + "/" + sync::ExportPacketPath(2);
  std::string bytes = ReadAll(path);
  bytes[bytes.size() / 3] ^= 0x20;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  auto token = central::StationRegistry(*central_db_, clock_)
                   .CreateToken({"35.21.01", central::StationKind::kKecamatanOffice, {"enroll"}, std::chrono::hours(24)},
                                "admin");
  ASSERT_OK(token.status());
  auto identity = InitStation({dir_ + "/station-2", central_->base_url(), *token, "", "admin", "admin-pass-1"}, clock_);
  ASSERT_OK(identity.status());
  auto files = OpenStationFiles(dir_ + "/station-2");
  ASSERT_OK(files.status());
  Station replacement(*files->db, clock_, files->key, files->identity);
  EXPECT_THAT(replacement.ExportCarryOverFromFolder(usb_, dir_ + "/carry-over"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("file packets/000000000002.sealed of " + usb_ + " is truncated or altered")));
  EXPECT_FALSE(fs::exists(dir_ + "/carry-over"));
}

}  // namespace
}  // namespace ektp::station
