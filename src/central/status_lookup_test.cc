#include "central/status_lookup.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "central/server.h"
#include "core/resident_json.h"
#include "core/status_matchers.h"
#include "net/http_client.h"
#include "printing/print_queue.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::central {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using store::testing::TestDatabase;
using namespace std::chrono;

constexpr char kHolderNik[] = "3521014105090001";
constexpr char kOtherNik[] = "3521014105090002";

// Every key of the JSON body, in order.
std::vector<std::string> Keys(const std::string& json_text) {
  const nlohmann::json json = nlohmann::json::parse(json_text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  return keys;
}

class StatusLookupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    records_ = std::make_unique<store::RecordRepository>(db_->connection(), clock_);
    queue_ = std::make_unique<printing::PrintQueue>(db_->connection(), clock_);
  }

  // A record with `holder_nik` (when given) moved to `state` along the lifecycle.
  int64_t NewRecord(const std::string& registration, RecordState state, const std::string& holder_nik = "") {
    Resident resident;
    resident.name = "WARGA";
    resident.place_of_birth = "NGAWI";
    resident.birth_date = year_month_day{year(2009), month(5), day(1)};
    resident.sex = Sex::kFemale;
    resident.address = {"JL. RAYA NO. 1", 1, 2, "35.21.01.2001"};
    resident.occupation = "PELAJAR/MAHASISWA";
    store::Record record;
    record.registration_number = registration;
    record.resident_json = ResidentToJson(resident).dump();
    auto id = records_->Create(record, "central.ingest");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return 0;
    if (!holder_nik.empty()) {
      EXPECT_OK(records_->SetHolderNik(*id, holder_nik));
    }
    const RecordState path[] = {RecordState::kReceived, RecordState::kValidated,  RecordState::kDedupePending,
                                RecordState::kUnique,   RecordState::kPrintReady, RecordState::kPrinted,
                                RecordState::kDispatched, RecordState::kActivated};
    for (size_t step = 1; step < std::size(path) && path[step - 1] != state; ++step) {
      EXPECT_OK(records_->Transition(*id, path[step - 1], path[step], "test", ""));
      if (path[step] == RecordState::kPrintReady) {
        EXPECT_OK(queue_->Enqueue(*id, "central.pipeline"));
      }
    }
    clock_.Advance(minutes(1));
    return *id;
  }

  CardStatus Lookup(std::string_view nik, std::string_view receipt) {
    auto status = StatusLookup(db_->connection(), clock_).Lookup(nik, receipt);
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    return status.ok() ? *status : CardStatus{};
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)}) + hours(2)};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::RecordRepository> records_;
  std::unique_ptr<printing::PrintQueue> queue_;
};

TEST_P(StatusLookupTest, QueuedCardWithoutAPrintRateHasNoEstimate) {
  NewRecord("ST-1-000001", RecordState::kPrintReady, kOtherNik);
  NewRecord("ST-1-000002", RecordState::kPrintReady, kHolderNik);
  CardStatus status = Lookup(kHolderNik, "ST-1-000002");
  EXPECT_TRUE(status.found);
  EXPECT_EQ(status.stage, "print_ready");
  EXPECT_EQ(status.stage_label, "Menunggu pencetakan");
  EXPECT_EQ(status.location, "print_queue");
  EXPECT_EQ(status.location_label, "Dalam antrean cetak Disdukcapil Kabupaten Ngawi, urutan ke-2 dari 2");
  EXPECT_EQ(status.queue_position, 2);
  EXPECT_EQ(status.queue_length, 2);
  EXPECT_EQ(status.estimated_collection_date, std::nullopt);
  EXPECT_EQ(status.estimate_label, "belum dapat diperkirakan");
}

TEST_P(StatusLookupTest, EstimateFromQueuePositionAndRecentPrintRate) {
  // Two cards printed in the last 14 days: 1/7 per day.
  for (const char* printed : {"ST-1-000010", "ST-1-000011"}) NewRecord(printed, RecordState::kPrinted);
  NewRecord("ST-1-000001", RecordState::kPrintReady, kOtherNik);
  NewRecord("ST-1-000002", RecordState::kPrintReady, kHolderNik);
  CardStatus status = Lookup(kHolderNik, "ST-1-000002");
  ASSERT_TRUE(status.found);
  EXPECT_EQ(status.queue_position, 2);
  // ceil(2 / (1/7)) = 14 days to print, plus one day to collection: 2026-11-24 + 15.
  EXPECT_EQ(status.estimated_collection_date, "2026-12-09");
  EXPECT_EQ(status.estimate_label, "perkiraan dapat diambil mulai 2026-12-09");
}

TEST_P(StatusLookupTest, StagesAfterPrinting) {
  NewRecord("ST-1-000003", RecordState::kPrinted, kHolderNik);
  CardStatus printed = Lookup(kHolderNik, "ST-1-000003");
  EXPECT_EQ(printed.stage, "printed");
  EXPECT_EQ(printed.location, "print_office");
  EXPECT_EQ(printed.location_label, "Sudah dicetak di Disdukcapil Kabupaten Ngawi");
  EXPECT_EQ(printed.estimated_collection_date, "2026-11-25");
  EXPECT_EQ(printed.queue_position, std::nullopt);

  NewRecord("ST-1-000004", RecordState::kDispatched, kOtherNik);
  CardStatus dispatched = Lookup(kOtherNik, "ST-1-000004");
  EXPECT_EQ(dispatched.stage, "dispatched");
  EXPECT_EQ(dispatched.stage_label, "Kartu siap diambil");
  EXPECT_EQ(dispatched.location, "pickup_point");
  EXPECT_EQ(dispatched.estimate_label, "sudah dapat diambil");
  EXPECT_EQ(dispatched.estimated_collection_date, "2026-11-24");
}

TEST_P(StatusLookupTest, EarlyStageIsProcessingWithoutEstimate) {
  NewRecord("ST-1-000005", RecordState::kDedupePending, kHolderNik);
  CardStatus status = Lookup(kHolderNik, "ST-1-000005");
  EXPECT_TRUE(status.found);
  EXPECT_EQ(status.stage, "dedupe_pending");
  EXPECT_EQ(status.stage_label, "Data sedang diverifikasi di pusat");
  EXPECT_EQ(status.location, "processing");
  EXPECT_EQ(status.estimate_label, "belum dapat diperkirakan");
}

TEST_P(StatusLookupTest, MatchesTheCardsNikThenFallsBackToTheIssuedNik) {
  // The card carries holder_nik, which differs from the record's nik: holder_nik wins.
  int64_t replacement = NewRecord("ST-1-000006", RecordState::kPrintReady, kHolderNik);
  ASSERT_OK(records_->SetNik(replacement, kOtherNik));
  EXPECT_TRUE(Lookup(kHolderNik, "ST-1-000006").found);
  EXPECT_FALSE(Lookup(kOtherNik, "ST-1-000006").found);
  // No holder NIK yet: the record's own NIK.
  int64_t first = NewRecord("ST-1-000007", RecordState::kPrintReady);
  ASSERT_OK(records_->SetNik(first, "3521010101090003"));
  EXPECT_TRUE(Lookup("3521010101090003", "ST-1-000007").found);
  // No NIK at all: nothing matches, not even the placeholder.
  NewRecord("ST-1-000008", RecordState::kValidated);
  EXPECT_FALSE(Lookup("0000000000000000", "ST-1-000008").found);
  EXPECT_FALSE(Lookup("0000000000000000", "ST-9-999999").found);
}

TEST_P(StatusLookupTest, UnknownPairsLookAlikeAndShareTheShapeOfAKnownOne) {
  NewRecord("ST-1-000002", RecordState::kPrintReady, kHolderNik);
  const std::string known = CardStatusToJson(Lookup(kHolderNik, "ST-1-000002"));
  const std::string wrong_nik = CardStatusToJson(Lookup(kOtherNik, "ST-1-000002"));
  const std::string no_receipt = CardStatusToJson(Lookup(kHolderNik, "ST-1-999999"));
  EXPECT_EQ(wrong_nik, no_receipt) << "an existing receipt must not be told apart from a missing one";
  EXPECT_EQ(Keys(known), Keys(wrong_nik));
  auto unknown = nlohmann::json::parse(wrong_nik);
  EXPECT_EQ(unknown["found"], false);
  EXPECT_EQ(unknown["stage"], "unknown");
  EXPECT_EQ(unknown["stage_label"], "Data tidak ditemukan; periksa NIK dan nomor tanda terima");
  EXPECT_TRUE(unknown["queue_position"].is_null());
  EXPECT_EQ(unknown["estimate_label"], "belum dapat diperkirakan");
  EXPECT_EQ(nlohmann::json::parse(known)["queue_position"], 1);
}

TEST_P(StatusLookupTest, MalformedInputIsRefused) {
  StatusLookup lookup(db_->connection(), clock_);
  EXPECT_THAT(lookup.Lookup("35210141050900", "ST-1-000001"),
              StatusIs(StatusCode::kInvalidArgument, "nik must be 16 digits"));
  EXPECT_THAT(lookup.Lookup("352101410509000x", "ST-1-000001"),
              StatusIs(StatusCode::kInvalidArgument, "nik must be 16 digits"));
  EXPECT_THAT(lookup.Lookup(kHolderNik, ""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("receipt")));
  EXPECT_THAT(lookup.Lookup(kHolderNik, "ST-1' OR '1'='1"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("receipt")));
  EXPECT_THAT(lookup.Lookup(kHolderNik, std::string(65, 'A')), StatusIs(StatusCode::kInvalidArgument, HasSubstr("receipt")));
}

TEST(TokenBucketLimiterTest, BurstThenRefillPerClient) {
  FakeClock clock{sys_days(year_month_day{year(2026), month(11), day(24)})};
  TokenBucketLimiter limiter(clock, 3, seconds(2));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("10.0.0.1"), std::nullopt) << i;
  EXPECT_EQ(limiter.Acquire("10.0.0.1"), milliseconds(2000));
  EXPECT_EQ(limiter.Acquire("10.0.0.2"), std::nullopt) << "each address has its own bucket";
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(limiter.Acquire("10.0.0.1"), milliseconds(500));
  clock.Advance(milliseconds(500));
  EXPECT_EQ(limiter.Acquire("10.0.0.1"), std::nullopt);
  EXPECT_EQ(limiter.Acquire("10.0.0.1"), milliseconds(2000));
  // Refill stops at the capacity.
  clock.Advance(hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("10.0.0.1"), std::nullopt) << i;
  EXPECT_NE(limiter.Acquire("10.0.0.1"), std::nullopt);
}

TEST(TokenBucketLimiterTest, ForgettingClientsNeverHelpsAnEmptyBucketOverAFullOne) {
  FakeClock clock{sys_days(year_month_day{year(2026), month(11), day(24)})};
  TokenBucketLimiter limiter(clock, 1, seconds(10), /*max_clients=*/2);
  EXPECT_EQ(limiter.Acquire("a"), std::nullopt);
  clock.Advance(seconds(10));  // a is full again
  EXPECT_EQ(limiter.Acquire("b"), std::nullopt);
  EXPECT_EQ(limiter.Acquire("c"), std::nullopt);  // evicts a (full), keeps b (empty)
  EXPECT_EQ(limiter.Acquire("b"), milliseconds(10'000));
}

// The route through central's real HTTP server, on loopback.
class StatusRouteTest : public StatusLookupTest {
 protected:
  void StartServer() {
    dir_ = store::testing::MakeTempDir("ektp-status-route");
    CentralOptions options;
    options.data_dir = dir_;
    options.db_url = db_->url();
    options.plain_http = true;
    ASSERT_OK(InitCentral(options, {}));
    auto server = CentralServer::Create(options, clock_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_OK(server_->Start());
    auto client = net::HttpClient::Create(server_->base_url(), {});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }
  void TearDown() override {
    client_.reset();  // closes the kept-alive connection, so Stop() need not wait it out
    if (server_) server_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<CentralServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_P(StatusRouteTest, AnswersKnownAndUnknownAlikeAndRateLimits) {
  NewRecord("ST-1-000002", RecordState::kPrintReady, kHolderNik);
  StartServer();
  auto known = client_->Get(std::string("/api/v1/status?nik=") + kHolderNik + "&receipt=ST-1-000002");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_EQ(known->status, 200);
  EXPECT_EQ(known->header("cache-control"), "no-store");
  EXPECT_EQ(nlohmann::json::parse(known->body)["stage"], "print_ready");
  auto unknown = client_->Get(std::string("/api/v1/status?nik=") + kOtherNik + "&receipt=ST-1-000002");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 200);
  EXPECT_EQ(nlohmann::json::parse(unknown->body)["found"], false);
  EXPECT_EQ(Keys(unknown->body), Keys(known->body));
  auto malformed = client_->Get("/api/v1/status?nik=123&receipt=ST-1-000002");
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 400);
  EXPECT_THAT(nlohmann::json::parse(malformed->body)["error"].get<std::string>(), HasSubstr("nik must be 16 digits"));
  EXPECT_THAT(nlohmann::json::parse(malformed->body)["pesan"].get<std::string>(), HasSubstr("NIK harus tepat 16 angka"));

  // The default burst is 10 per address; three are spent.
  for (int i = 0; i < 7; ++i) {
    auto response = client_->Get(std::string("/api/v1/status?nik=") + kOtherNik + "&receipt=ST-1-00000" +
                                 std::to_string(i));
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200) << i;
  }
  auto limited = client_->Get(std::string("/api/v1/status?nik=") + kHolderNik + "&receipt=ST-1-000002");
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->header("retry-after"), "6");
  EXPECT_THAT(nlohmann::json::parse(limited->body)["error"].get<std::string>(), HasSubstr("retry after 6 s"));
  EXPECT_EQ(nlohmann::json::parse(limited->body)["pesan"], "Terlalu banyak pemeriksaan dari alamat ini. Coba lagi dalam 6 detik.");
  clock_.Advance(seconds(6));
  auto again = client_->Get(std::string("/api/v1/status?nik=") + kHolderNik + "&receipt=ST-1-000002");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, StatusLookupTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, StatusRouteTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::central
