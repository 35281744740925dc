#include "central/media_import.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/status_matchers.h"
#include "enrollment/testing.h"
#include "store/testing.h"

namespace ektp::central {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;
namespace fs = std::filesystem;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

// A central store with one approved station, as ingest_test's.
struct Central {
  static std::unique_ptr<Central> Create(const std::string& backend, const Clock& clock,
                                         const crypto::SigningKey& station_key) {
    auto db = store::testing::TestDatabase::Create(backend);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    auto central = std::make_unique<Central>();
    central->db = std::move(*db);
    StationRegistry registry(central->db->connection(), clock);
    auto token = registry.CreateToken({"35.21.01", StationKind::kKecamatanOffice, {"enroll"}, hours(24)}, "admin");
    EXPECT_TRUE(token.ok());
    auto station = registry.Register(*token, station_key.public_key());
    EXPECT_TRUE(station.ok()) << station.status().ToString();
    EXPECT_OK(registry.Approve(station->id, "admin"));
    central->station_id = station->id;
    return central;
  }

  // What central holds, in a comparable form: records, inbox and feed.
  std::vector<std::string> Contents() {
    std::vector<std::string> rows;
    for (const char* sql :
         {"SELECT registration_number, application_kind, COALESCE(nik, ''), state, resident_json, station_id FROM "
          "records ORDER BY registration_number",
          "SELECT station_id, sequence, content_sha256, kind, envelope FROM inbox ORDER BY sequence",
          "SELECT station_id, kind, body FROM feed ORDER BY id",
          "SELECT r.registration_number, e.from_state, e.to_state FROM record_events e JOIN records r ON r.id = "
          "e.record_id ORDER BY e.id"}) {
      auto result = db->connection().Query(sql);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (!result.ok()) continue;
      for (const store::Row& row : *result) {
        std::string line = sql;
        for (size_t column = 0; column < row.size(); ++column) line += "|" + row.Text(column);
        rows.push_back(line);
      }
    }
    return rows;
  }

  int64_t Count(const std::string& table) {
    auto rows = db->connection().Query("SELECT COUNT(*) FROM " + table);
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  std::unique_ptr<store::testing::TestDatabase> db;
  std::string station_id;
};

class MediaImportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    central_ = Central::Create(GetParam(), clock_, station_key_);
    ASSERT_NE(central_, nullptr);
    dir_ = store::testing::MakeTempDir("ektp-import-test-");
    for (int64_t sequence = 1; sequence <= 3; ++sequence) packets_.push_back(Packet(sequence));
  }
  void TearDown() override { fs::remove_all(dir_); }

  sync::Packet Packet(int64_t sequence) {
    auto enrollment = enrollment::testing::SampleEnrollment(central_->station_id, sequence,
                                                            keys_.sealing.public_key(), random_, kToday, 2000);
    sync::Envelope envelope{sync::kEnvelopeVersion, central_->station_id, sequence, sync::PacketKind::kEnrollment,
                            "2026-11-24T02:00:00Z", enrollment::EnrollmentToJson(enrollment)};
    return sync::SignEnvelope(envelope, station_key_);
  }

  // `packets` numbered by their sequences, as the station's outbox gives them.
  static std::vector<std::pair<int64_t, sync::Packet>> Numbered(const std::vector<sync::Packet>& packets) {
    std::vector<std::pair<int64_t, sync::Packet>> numbered;
    for (const sync::Packet& packet : packets) {
      numbered.emplace_back(sync::ParseEnvelope(packet.envelope_text)->sequence, packet);
    }
    return numbered;
  }

  std::string Export(const std::vector<sync::Packet>& packets, const std::string& name = "export") {
    const std::string folder = dir_ + "/" + name;
    EXPECT_OK(sync::WriteExport(folder, central_->station_id, "2026-11-24T03:00:00Z", Numbered(packets), station_key_,
                                keys_.sealing.public_key())
                  .status());
    return folder;
  }

  StatusOr<sync::ImportReceipt> Import(const std::string& folder, Central& central) {
    return ImportExport(central.db->connection(), clock_, keys_, RegionRegistry::Default(), folder);
  }

  static std::vector<sync::Verdict> Verdicts(const sync::UploadResponse& response) {
    std::vector<sync::Verdict> verdicts;
    for (const auto& result : response.results) verdicts.push_back(result.verdict);
    return verdicts;
  }

  FakeClock clock_{sys_days(kToday) + hours(3)};
  SeededRandom random_{17};
  CentralKeys keys_{crypto::SigningKey::Generate(), crypto::SealingKey::Generate(), crypto::DataKey::Generate()};
  crypto::SigningKey station_key_ = crypto::SigningKey::Generate();
  std::unique_ptr<Central> central_;
  std::string dir_;
  std::vector<sync::Packet> packets_;
};

// The records an import makes are those a network upload of the same packets makes.
TEST_P(MediaImportTest, AnImportStoresWhatANetworkUploadOfTheSamePacketsStores) {
  auto receipt = Import(Export(packets_), *central_);
  ASSERT_OK(receipt.status());
  EXPECT_EQ(receipt->station_id, central_->station_id);
  EXPECT_EQ(receipt->verdicts.cursor, 3);
  EXPECT_EQ(Verdicts(receipt->verdicts), std::vector<sync::Verdict>(3, sync::Verdict::kAccepted));
  EXPECT_EQ(central_->Count("records"), 3);

  auto network = Central::Create(GetParam(), clock_, station_key_);
  ASSERT_NE(network, nullptr);
  ASSERT_EQ(network->station_id, central_->station_id);
  Ingest ingest(network->db->connection(), clock_, keys_, RegionRegistry::Default());
  auto answer = ingest.Upload(network->station_id, packets_);
  ASSERT_OK(answer.status());
  EXPECT_EQ(Verdicts(*answer), Verdicts(receipt->verdicts));
  EXPECT_EQ(network->Contents(), central_->Contents());
  EXPECT_FALSE(central_->Contents().empty());

  // The receipt the folder now holds is central's, for this station's packets.
  auto written = sync::ReadImportReceipt(dir_ + "/export/receipt.json");
  ASSERT_OK(written.status());
  std::map<int64_t, std::string> queued;
  for (const auto& packet : packets_) queued[sync::ParseEnvelope(packet.envelope_text)->sequence] = packet.ContentHash();
  EXPECT_OK(sync::VerifyImportReceipt(*written, keys_.signing.public_key(), central_->station_id, queued));
}

TEST_P(MediaImportTest, ImportingTwiceChangesNothing) {
  const std::string folder = Export(packets_);
  ASSERT_OK(Import(folder, *central_).status());
  const auto before = central_->Contents();
  auto again = Import(folder, *central_);
  ASSERT_OK(again.status());
  EXPECT_EQ(Verdicts(again->verdicts), std::vector<sync::Verdict>(3, sync::Verdict::kDuplicate));
  EXPECT_EQ(again->verdicts.cursor, 3);
  EXPECT_EQ(central_->Contents(), before);
}

// A packet that arrives by network and by disk, in either order, is one record.
TEST_P(MediaImportTest, APacketThatAlsoArrivesByNetworkIsADuplicate) {
  Ingest ingest(central_->db->connection(), clock_, keys_, RegionRegistry::Default());
  ASSERT_OK(ingest.Upload(central_->station_id, {packets_[0]}).status());
  auto receipt = Import(Export(packets_), *central_);
  ASSERT_OK(receipt.status());
  EXPECT_EQ(Verdicts(receipt->verdicts),
            (std::vector<sync::Verdict>{sync::Verdict::kDuplicate, sync::Verdict::kAccepted, sync::Verdict::kAccepted}));
  auto later = ingest.Upload(central_->station_id, packets_);
  ASSERT_OK(later.status());
  EXPECT_EQ(Verdicts(*later), std::vector<sync::Verdict>(3, sync::Verdict::kDuplicate));
  EXPECT_EQ(central_->Count("records"), 3);
  EXPECT_EQ(central_->Count("inbox"), 3);
}

// Refusals name the problem, change nothing and write no receipt.
TEST_P(MediaImportTest, ABadFolderIsRefusedByNameWithNothingChanged) {
  const std::string tampered = Export(packets_, "tampered");
  {
    std::fstream file(tampered + "/packets/000000000002.sealed", std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(40);
    const char byte = static_cast<char>(file.get());
    file.seekp(40);
    file.put(static_cast<char>(byte ^ 0x01));  // a fixed value would equal the random byte there 1 time in 256
  }
  EXPECT_THAT(Import(tampered, *central_),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("export file packets/000000000002.sealed is truncated or altered")));

  const std::string truncated = Export(packets_, "truncated");
  fs::remove(truncated + "/packets/000000000003.sealed");
  EXPECT_THAT(Import(truncated, *central_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("packets/000000000003.sealed is missing")));

  const std::string forged = dir_ + "/forged";
  ASSERT_OK(sync::WriteExport(forged, central_->station_id, "t", Numbered(packets_), crypto::SigningKey::Generate(),
                              keys_.sealing.public_key())
                .status());
  EXPECT_THAT(Import(forged, *central_), StatusIs(StatusCode::kUnauthenticated,
                                                  HasSubstr("is not signed by station " + central_->station_id)));

  const std::string unknown = dir_ + "/unknown";
  ASSERT_OK(sync::WriteExport(unknown, "ST-999999-01", "t", Numbered({packets_[0]}), station_key_, keys_.sealing.public_key())
                .status());
  EXPECT_THAT(Import(unknown, *central_), StatusIs(StatusCode::kNotFound, HasSubstr("ST-999999-01")));

  EXPECT_THAT(Import(dir_ + "/nothing-here", *central_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("manifest.json is missing")));

  for (const char* table : {"inbox", "records", "feed"}) EXPECT_EQ(central_->Count(table), 0) << table;
  for (const char* folder : {"tampered", "truncated", "forged", "unknown"}) {
    EXPECT_FALSE(fs::exists(dir_ + "/" + folder + "/receipt.json")) << folder;
  }
}

TEST_P(MediaImportTest, ARevokedStationsExportIsRefused) {
  ASSERT_OK(StationRegistry(central_->db->connection(), clock_).Revoke(central_->station_id, "admin", "laptop stolen"));
  EXPECT_THAT(Import(Export(packets_), *central_),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("only approved stations may upload")));
  EXPECT_EQ(central_->Count("inbox"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, MediaImportTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::central
