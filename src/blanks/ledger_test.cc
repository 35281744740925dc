#include "blanks/ledger.h"

#include <thread>

#include "core/status_matchers.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::blanks {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using store::testing::TestDatabase;
using namespace std::chrono;

constexpr char kSitubondo[] = "35.12";
constexpr char kNgawi[] = "35.21";
constexpr char kStationA[] = "ST-351201-01";      // Disdukcapil Situbondo, prints
constexpr char kStationB[] = "ST-351202-01";      // Situbondo, prints
constexpr char kNgawiStation[] = "ST-352101-01";  // Ngawi, prints
constexpr char kEnrollOnly[] = "ST-351203-01";    // Situbondo, cannot print
constexpr char kRevoked[] = "ST-351204-01";       // Situbondo, revoked

class BlankLedgerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(GetParam());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    db_ = std::move(*created);
    ledger_ = std::make_unique<BlankLedger>(db(), clock_);
    AddStation(kStationA, "35.12.01", "enroll,print", "approved");
    AddStation(kStationB, "35.12.02", "print", "approved");
    AddStation(kNgawiStation, "35.21.01", "enroll,print", "approved");
    AddStation(kEnrollOnly, "35.12.03", "enroll", "approved");
    AddStation(kRevoked, "35.12.04", "print", "revoked");
  }

  store::Connection& db() { return db_->connection(); }

  // A station row as central's registry writes it (central/station_registry.cc).
  void AddStation(const std::string& id, const std::string& kecamatan, const std::string& capabilities,
                  const std::string& status) {
    ASSERT_OK(db().Exec("INSERT INTO stations (id, kecamatan_code, kind, capabilities, public_key, status, "
                        "registered_at) VALUES (?, ?, 'disdukcapil_office', ?, ?, ?, '2026-11-01T00:00:00Z')",
                        {id, kecamatan, capabilities, store::Blob(32, 7), status}));
  }

  int64_t NewRecord(const std::string& registration) {
    store::Record record;
    record.registration_number = registration;
    record.resident_json = "{}";
    auto id = store::RecordRepository(db(), clock_).Create(record, "test");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  int64_t Count(const std::string& sql) {
    auto rows = db().Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->at(0).Int(0) : -1;
  }
  int64_t AuditEntries() { return Count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'blanks.%'"); }

  // Everything the ledger holds, as one comparable text.
  std::string Snapshot() {
    std::string out;
    for (const char* sql : {"SELECT first_serial, last_serial, place, regency_code, station_id FROM blank_stock "
                            "ORDER BY first_serial",
                            "SELECT serial, kind, station_id, reason FROM blank_uses ORDER BY serial",
                            "SELECT kind, first_serial, last_serial FROM blank_movements ORDER BY id",
                            "SELECT first_serial, last_serial FROM blank_batches ORDER BY first_serial",
                            "SELECT station_id, event_id FROM blank_station_events ORDER BY station_id, event_id",
                            "SELECT seq, action FROM audit_log ORDER BY seq"}) {
      auto rows = db().Query(sql);
      EXPECT_TRUE(rows.ok()) << rows.status().ToString();
      if (!rows.ok()) continue;
      for (const store::Row& row : *rows) {
        for (size_t i = 0; i < row.size(); ++i) out += row.Text(i) + "|";
        out += "\n";
      }
      out += "--\n";
    }
    return out;
  }

  // 1-1000 in national stock; 1-400 shipped to Situbondo; 1-100 handed to
  // and received by station A.
  void StockStationA() {
    ASSERT_OK(ledger_->StockIn({1, 1000}, "gudang.pusat", "DO-2026-001"));
    ASSERT_OK(ledger_->Ship(kSitubondo, {1, 400}, "gudang.pusat", "SJ-1"));
    ASSERT_OK(ledger_->HandOver(kStationA, {1, 100}, "dukcapil.situbondo"));
    ASSERT_EQ(*ledger_->Receive(kStationA, "recv-1", {1, 100}), Applied::kApplied);
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)}) + hours(1)};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<BlankLedger> ledger_;
};

TEST_P(BlankLedgerTest, BlanksTravelFromNationalStockToAPrintedCard) {
  StockStationA();
  const int64_t record = NewRecord("ST-351201-01-000001");
  EXPECT_EQ(*ledger_->Consume(kStationA, "print-1", 1, record), Applied::kApplied);

  EXPECT_EQ(*ledger_->NationalStock(), 600);
  OnHand on_hand = *ledger_->OnHandInRegency(kSitubondo);
  EXPECT_EQ(on_hand.in_store, 300);
  EXPECT_EQ(on_hand.in_transit, 0);
  EXPECT_EQ(on_hand.at_stations, 99);
  EXPECT_EQ(on_hand.total(), 399);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 99);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationB), 0);

  Location printed = *ledger_->Locate(1);
  EXPECT_EQ(printed.place, "consumed");
  EXPECT_EQ(printed.station_id, kStationA);
  EXPECT_EQ(printed.record_id, record);
  EXPECT_EQ(ledger_->Locate(2)->description, "at station ST-351201-01");
  EXPECT_EQ(ledger_->Locate(200)->description, "in the stock of regency 35.12");
  EXPECT_EQ(ledger_->Locate(900)->description, "in national stock");
  EXPECT_EQ(ledger_->Locate(1001)->place, "unknown");

  auto actions = db().Query("SELECT actor, action, subject FROM audit_log ORDER BY seq");
  ASSERT_TRUE(actions.ok());
  std::vector<std::string> got;
  for (const auto& row : *actions) got.push_back(row.Text(0) + " " + row.Text(1) + " " + row.Text(2));
  EXPECT_THAT(got, ::testing::Contains("gudang.pusat blanks.stock_in blanks:0000000001-0000001000"));
  EXPECT_THAT(got, ::testing::Contains("gudang.pusat blanks.ship blanks:0000000001-0000000400"));
  EXPECT_THAT(got, ::testing::Contains("dukcapil.situbondo blanks.hand_over blanks:0000000001-0000000100"));
  EXPECT_THAT(got, ::testing::Contains("station:ST-351201-01 blanks.receive blanks:0000000001-0000000100"));
  EXPECT_THAT(got, ::testing::Contains("station:ST-351201-01 blanks.consume blanks:0000000001"));
}

TEST_P(BlankLedgerTest, StockIsKeptAsRangesNotOneRowPerBlank) {
  ASSERT_OK(ledger_->StockIn({1, 10'000}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kSitubondo, {1, 10'000}, "gudang.pusat"));
  ASSERT_OK(ledger_->HandOver(kStationA, {1, 10'000}, "dukcapil.situbondo"));
  ASSERT_OK(ledger_->Receive(kStationA, "recv-1", {1, 10'000}).status());
  for (int64_t serial = 1; serial <= 3; ++serial) {
    ASSERT_OK(ledger_->Consume(kStationA, "print-" + std::to_string(serial), serial,
                               NewRecord("R-" + std::to_string(serial)))
                  .status());
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blank_stock"), 1);  // 4-10000 at the station
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blank_uses"), 3);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 9'997);
}

TEST_P(BlankLedgerTest, ARangeEntersNationalStockOnce) {
  ASSERT_OK(ledger_->StockIn({1001, 2000}, "gudang.pusat"));
  const std::string before = Snapshot();
  EXPECT_THAT(ledger_->StockIn({1500, 2500}, "gudang.pusat"),
              StatusIs(StatusCode::kAlreadyExists,
                       HasSubstr("serials 0000001500-0000002500 overlap range 0000001001-0000002000, which entered "
                                 "national stock on 2026-11-24T01:00:00Z")));
  EXPECT_THAT(ledger_->StockIn({1, 1001}, "gudang.pusat"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("overlap range 0000001001-0000002000")));
  EXPECT_THAT(ledger_->StockIn({1001, 2000}, "gudang.pusat"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("serials 0000001001-0000002000 overlap")));
  EXPECT_EQ(Snapshot(), before);
  // Even once the range has left national stock and been printed on.
  ASSERT_OK(ledger_->Ship(kSitubondo, {1001, 2000}, "gudang.pusat"));
  EXPECT_THAT(ledger_->StockIn({2000, 2000}, "gudang.pusat"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("serials 0000002000 overlap")));
  // Adjacent ranges are fine.
  EXPECT_OK(ledger_->StockIn({1, 1000}, "gudang.pusat"));
  EXPECT_OK(ledger_->StockIn({2001, 2001}, "gudang.pusat"));
  EXPECT_EQ(*ledger_->NationalStock(), 1001);
}

TEST_P(BlankLedgerTest, ASerialIsConsumedAtMostOnce) {
  StockStationA();
  const int64_t first = NewRecord("R-1");
  const int64_t second = NewRecord("R-2");
  ASSERT_OK(ledger_->Consume(kStationA, "print-1", 7, first).status());
  const std::string before = Snapshot();
  EXPECT_THAT(ledger_->Consume(kStationA, "print-2", 7, second),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("station ST-351201-01 cannot print on serial 0000000007: serial 0000000007 is "
                                 "already consumed at station ST-351201-01 for record " +
                                 std::to_string(first))));
  // Spoiling a printed serial is the same reuse.
  EXPECT_THAT(ledger_->Spoil(kStationA, "spoil-1", 7, SpoilReason::kPrinterJam, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000007 is already consumed")));
  EXPECT_EQ(Snapshot(), before);
  // And so is printing on a spoiled one.
  ASSERT_OK(ledger_->Spoil(kStationA, "spoil-2", 8, SpoilReason::kMisprint, "tinta luntur", second).status());
  EXPECT_THAT(ledger_->Consume(kStationA, "print-3", 8, second),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000008 is already spoiled at station ST-351201-01 (misprint)")));
  // A record is printed on one serial.
  EXPECT_THAT(ledger_->Consume(kStationA, "print-4", 9, first),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("record " + std::to_string(first) + " was already printed on serial 0000000007")));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blank_uses"), 2);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 98);
}

TEST_P(BlankLedgerTest, AMisprintedCardSpoilsItsSerialAndTheRecordPrintsOnAnother) {
  StockStationA();
  const int64_t record = NewRecord("R-1");
  const int64_t other = NewRecord("R-2");
  ASSERT_OK(ledger_->Consume(kStationA, "print-1-7", 7, record).status());
  const std::string before = Snapshot();
  // Only the station's printed card of that record can be misprinted.
  EXPECT_THAT(ledger_->Misprint(kStationA, "misprint-7", 7, other, ""),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("station ST-351201-01 cannot report serial 0000000007 misprinted: it is not the "
                                 "card this station printed for record " + std::to_string(other))));
  EXPECT_THAT(ledger_->Misprint(kStationB, "misprint-7", 7, record, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("it is not the card this station printed")));
  EXPECT_THAT(ledger_->Misprint(kStationA, "misprint-8", 8, record, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("cannot report serial 0000000008 misprinted")));
  EXPECT_EQ(Snapshot(), before);

  EXPECT_EQ(*ledger_->Misprint(kStationA, "misprint-7", 7, record, "foto bergeser"), Applied::kApplied);
  EXPECT_EQ(*ledger_->Misprint(kStationA, "misprint-7", 7, record, "foto bergeser"), Applied::kDuplicate);
  Location spoiled = *ledger_->Locate(7);
  EXPECT_EQ(spoiled.place, "spoiled");
  EXPECT_EQ(spoiled.reason, "misprint");
  EXPECT_EQ(spoiled.record_id, record);
  ASSERT_OK(ledger_->Consume(kStationA, "print-1-8", 8, record).status());
  auto reconciled = ledger_->Reconcile(kSitubondo);
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->printed, 1);
  EXPECT_EQ(reconciled->spoiled[0], 1);  // misprint
  EXPECT_TRUE(reconciled->discrepancies.empty());
  // The serial stays used: it can neither be printed on nor misprinted again under another event.
  EXPECT_THAT(ledger_->Consume(kStationA, "print-2-7", 7, other),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000007 is already spoiled")));
  EXPECT_THAT(ledger_->Misprint(kStationA, "misprint-7b", 7, record, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("it is not the card this station printed")));
}

TEST_P(BlankLedgerTest, AnUncollectedCardIsVoidedAndTheRegencyStillBalances) {
  StockStationA();
  const int64_t record = NewRecord("R-1");
  const int64_t other = NewRecord("R-2");
  ASSERT_OK(ledger_->Consume(kStationA, "print-1-7", 7, record).status());
  const std::string before = Snapshot();
  EXPECT_THAT(ledger_->VoidUncollected(kStationB, "return-7", 7, other),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("station ST-351202-01 cannot void serial 0000000007 as uncollected: it is not the "
                                 "printed card of record " + std::to_string(other))));
  EXPECT_THAT(ledger_->VoidUncollected(kStationB, "return-8", 8, record),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("cannot void serial 0000000008 as uncollected")));
  EXPECT_THAT(ledger_->Spoil(kStationA, "spoil-9", 9, SpoilReason::kUncollected, ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a station does not spoil a blank as uncollected")));
  EXPECT_EQ(Snapshot(), before);

  // The collecting station (not the printer) returns the card: the printed serial becomes spoiled, uncollected.
  EXPECT_EQ(*ledger_->VoidUncollected(kStationB, "return-7", 7, record), Applied::kApplied);
  EXPECT_EQ(*ledger_->VoidUncollected(kStationB, "return-7", 7, record), Applied::kDuplicate);
  Location voided = *ledger_->Locate(7);
  EXPECT_EQ(voided.place, "spoiled");
  EXPECT_EQ(voided.reason, "uncollected");
  EXPECT_EQ(voided.record_id, record);
  auto reconciled = ledger_->Reconcile(kSitubondo);
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->printed, 0);
  EXPECT_EQ(reconciled->spoiled[3], 1);  // uncollected
  EXPECT_EQ(reconciled->spoiled_total(), 1);
  EXPECT_EQ(reconciled->on_hand.at_stations, 99);
  EXPECT_TRUE(reconciled->discrepancies.empty());
  EXPECT_THAT(ledger_->VoidUncollected(kStationB, "return-7b", 7, record),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("it is not the printed card of record")));
}

TEST_P(BlankLedgerTest, NoHoldersStockGoesNegative) {
  ASSERT_OK(ledger_->StockIn({1, 100}, "gudang.pusat"));
  std::string before = Snapshot();
  // National stock holds 100: shipping 101 is refused whole.
  EXPECT_THAT(ledger_->Ship(kSitubondo, {1, 101}, "gudang.pusat"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("cannot ship 0000000001-0000000101 to regency 35.12: serial 0000000101 is not in the ledger (it never entered national stock), "
                                 "not in national stock")));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_OK(ledger_->Ship(kSitubondo, {1, 50}, "gudang.pusat"));
  EXPECT_THAT(ledger_->Ship(kNgawi, {40, 60}, "gudang.pusat"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000040 is in the stock of regency 35.12, not in national stock")));
  // The regency holds 50: handing over 51 is refused.
  before = Snapshot();
  EXPECT_THAT(ledger_->HandOver(kStationA, {1, 51}, "dukcapil.situbondo"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("cannot hand over 0000000001-0000000051 to station ST-351201-01: serial 0000000051 "
                                 "is in national stock, not in the stock of regency 35.12")));
  EXPECT_EQ(Snapshot(), before);
  // A station holding nothing consumes nothing.
  const int64_t record = NewRecord("R-1");
  before = Snapshot();
  EXPECT_THAT(ledger_->Consume(kStationB, "print-1", 1, record),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000001 is in the stock of regency 35.12, not at station ST-351202-01")));
  EXPECT_THAT(ledger_->ReturnToNational(kSitubondo, {45, 55}, "gudang.pusat"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("cannot return 0000000045-0000000055 from regency 35.12 to national stock: serial "
                                 "0000000051 is in national stock")));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(*ledger_->NationalStock(), 50);
  EXPECT_EQ(ledger_->OnHandInRegency(kSitubondo)->total(), 50);
}

TEST_P(BlankLedgerTest, AStationUsesOnlySerialsShippedToItsRegencyAndHandedToIt) {
  ASSERT_OK(ledger_->StockIn({1, 1000}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kSitubondo, {1, 100}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kNgawi, {101, 200}, "gudang.pusat"));
  const std::string before = Snapshot();
  // Situbondo's blanks cannot go to a Ngawi station, nor national stock to any station.
  EXPECT_THAT(ledger_->HandOver(kNgawiStation, {1, 10}, "dukcapil.ngawi"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000001 is in the stock of regency 35.12, not in the stock of regency "
                                 "35.21")));
  EXPECT_THAT(ledger_->HandOver(kStationA, {500, 510}, "dukcapil.situbondo"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000500 is in national stock")));
  // A station cannot confirm or print blanks that were not handed to it.
  EXPECT_THAT(ledger_->Receive(kStationA, "recv-1", {1, 10}),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("station ST-351201-01 cannot confirm receipt of 0000000001-0000000010: serial "
                                 "0000000001 is in the stock of regency 35.12, not on its way to station "
                                 "ST-351201-01")));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_OK(ledger_->HandOver(kStationB, {1, 10}, "dukcapil.situbondo"));
  EXPECT_THAT(ledger_->Receive(kStationA, "recv-1", {1, 10}),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000001 is on its way to station ST-351202-01 (receipt not confirmed)")));
  const int64_t record = NewRecord("R-1");
  // Not yet received: the station cannot print on it either.
  EXPECT_THAT(ledger_->Consume(kStationB, "print-1", 1, record),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000001 is on its way to station ST-351202-01")));
  ASSERT_OK(ledger_->Receive(kStationB, "recv-1", {1, 10}).status());
  EXPECT_THAT(ledger_->Consume(kStationA, "print-1", 1, record),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0000000001 is at station ST-351202-01, not at station ST-351201-01")));
  EXPECT_THAT(ledger_->ReturnToRegency(kStationA, "ret-1", {1, 10}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("at station ST-351202-01")));
  // Stations that may not print, or are revoked, get none.
  EXPECT_THAT(ledger_->HandOver(kEnrollOnly, {11, 20}, "dukcapil.situbondo"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("station ST-351203-01 has no print capability (it has: enroll)")));
  EXPECT_THAT(ledger_->HandOver(kRevoked, {11, 20}, "dukcapil.situbondo"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("station ST-351204-01 is revoked")));
  EXPECT_THAT(ledger_->HandOver("ST-999999-01", {11, 20}, "dukcapil.situbondo"),
              StatusIs(StatusCode::kNotFound, HasSubstr("station ST-999999-01 is not registered")));
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationB), 10);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 0);
}

TEST_P(BlankLedgerTest, AStationEventIsAppliedOnceByItsId) {
  ASSERT_OK(ledger_->StockIn({1, 100}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kSitubondo, {1, 100}, "gudang.pusat"));
  ASSERT_OK(ledger_->HandOver(kStationA, {1, 50}, "dukcapil.situbondo"));
  const int64_t record = NewRecord("R-1");

  EXPECT_EQ(*ledger_->Receive(kStationA, "ST-351201-01:41", {1, 50}), Applied::kApplied);
  EXPECT_EQ(*ledger_->Consume(kStationA, "ST-351201-01:42", 3, record), Applied::kApplied);
  EXPECT_EQ(*ledger_->Spoil(kStationA, "ST-351201-01:43", 4, SpoilReason::kPrinterJam, "kertas terlipat"),
            Applied::kApplied);
  const std::string applied = Snapshot();
  const int64_t audited = AuditEntries();
  auto spoil_audit = db().Query("SELECT detail FROM audit_log WHERE action = 'blanks.spoil'");
  ASSERT_TRUE(spoil_audit.ok());
  ASSERT_EQ(spoil_audit->size(), 1u);
  EXPECT_THAT(spoil_audit->at(0).Text(0), HasSubstr("\"reason\":\"printer_jam\""));
  EXPECT_THAT(spoil_audit->at(0).Text(0), Not(HasSubstr("kertas")));  // the free note stays out of the chain

  // The station sends them all again (its outbox resends after a cut).
  EXPECT_EQ(*ledger_->Receive(kStationA, "ST-351201-01:41", {1, 50}), Applied::kDuplicate);
  EXPECT_EQ(*ledger_->Consume(kStationA, "ST-351201-01:42", 3, record), Applied::kDuplicate);
  EXPECT_EQ(*ledger_->Spoil(kStationA, "ST-351201-01:43", 4, SpoilReason::kPrinterJam, "kertas terlipat"),
            Applied::kDuplicate);
  EXPECT_EQ(Snapshot(), applied);
  EXPECT_EQ(AuditEntries(), audited);

  // The same id for another event is refused, not taken for a replay.
  EXPECT_THAT(ledger_->Consume(kStationA, "ST-351201-01:42", 5, record),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("event ST-351201-01:42 of station ST-351201-01 was already applied with other "
                                 "content")));
  // Event ids are per station.
  ASSERT_OK(ledger_->HandOver(kStationB, {51, 60}, "dukcapil.situbondo"));
  EXPECT_EQ(*ledger_->Receive(kStationB, "ST-351201-01:41", {51, 60}), Applied::kApplied);
  EXPECT_THAT(ledger_->Receive(kStationA, "bad id!", {1, 50}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("station event id")));
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 48);
}

TEST_P(BlankLedgerTest, ReturnsGoBackUpTheChain) {
  StockStationA();
  EXPECT_EQ(*ledger_->ReturnToRegency(kStationA, "ret-1", {91, 100}), Applied::kApplied);
  EXPECT_EQ(ledger_->Locate(95)->description, "in the stock of regency 35.12");
  ASSERT_OK(ledger_->ReturnToNational(kSitubondo, {91, 400}, "gudang.pusat", "BA-retur-7"));
  EXPECT_EQ(*ledger_->NationalStock(), 910);
  ASSERT_OK(ledger_->Ship(kNgawi, {91, 100}, "gudang.pusat"));
  EXPECT_EQ(ledger_->OnHandInRegency(kNgawi)->in_store, 10);
  EXPECT_EQ(ledger_->OnHandInRegency(kSitubondo)->total(), 90);
}

TEST_P(BlankLedgerTest, ReconciliationCountsEveryMovementAndNamesWhatIsMissing) {
  ASSERT_OK(ledger_->StockIn({1, 1000}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kSitubondo, {1, 300}, "gudang.pusat", "SJ-1"));  // two instalments
  ASSERT_OK(ledger_->Ship(kSitubondo, {301, 500}, "gudang.pusat", "SJ-2"));
  ASSERT_OK(ledger_->HandOver(kStationA, {1, 100}, "dukcapil.situbondo"));
  ASSERT_OK(ledger_->HandOver(kStationB, {101, 150}, "dukcapil.situbondo"));
  clock_.Advance(hours(2));
  ASSERT_OK(ledger_->HandOver(kStationB, {201, 220}, "dukcapil.situbondo"));
  ASSERT_OK(ledger_->Receive(kStationA, "recv-1", {1, 100}).status());
  ASSERT_OK(ledger_->Receive(kStationB, "recv-1", {101, 120}).status());  // 30 + 20 still unconfirmed
  for (int64_t serial = 1; serial <= 5; ++serial) {
    ASSERT_OK(ledger_->Consume(kStationA, "print-" + std::to_string(serial), serial,
                               NewRecord("R-" + std::to_string(serial)))
                  .status());
  }
  ASSERT_OK(ledger_->Spoil(kStationA, "spoil-1", 6, SpoilReason::kMisprint, "").status());
  ASSERT_OK(ledger_->Spoil(kStationA, "spoil-2", 7, SpoilReason::kPrinterJam, "").status());
  ASSERT_OK(ledger_->Spoil(kStationA, "spoil-3", 8, SpoilReason::kPrinterJam, "").status());
  ASSERT_OK(ledger_->Spoil(kStationB, "spoil-1", 101, SpoilReason::kDamagedInTransit, "kotak basah").status());
  ASSERT_OK(ledger_->ReturnToRegency(kStationA, "ret-1", {91, 100}).status());
  ASSERT_OK(ledger_->ReturnToNational(kSitubondo, {451, 500}, "gudang.pusat"));
  ASSERT_OK(ledger_->Ship(kNgawi, {501, 600}, "gudang.pusat"));  // another regency's, not counted

  RegencyReconciliation r = *ledger_->Reconcile(kSitubondo);
  EXPECT_EQ(r.regency_name, "Kabupaten Situbondo");
  EXPECT_EQ(r.shipments, 2);
  EXPECT_EQ(r.shipped, 500);
  EXPECT_EQ(r.returned_to_national, 50);
  EXPECT_EQ(r.handed_over, 170);
  EXPECT_EQ(r.received, 120);
  EXPECT_EQ(r.printed, 5);
  EXPECT_EQ(r.spoiled, (std::array<int64_t, 4>{1, 1, 2, 0}));  // misprint, damaged in transit, printer jam, uncollected
  EXPECT_EQ(r.returned_by_stations, 10);
  EXPECT_EQ(r.on_hand.in_store, 290);  // 500 - 50 - 170 + 10
  EXPECT_EQ(r.on_hand.in_transit, 50);
  EXPECT_EQ(r.on_hand.at_stations, 82 + 19);
  ASSERT_EQ(r.stations.size(), 2u);
  const StationReconciliation& a = r.stations[0];
  EXPECT_EQ(a.station_id, kStationA);
  EXPECT_EQ(a.handed_over, 100);
  EXPECT_EQ(a.received, 100);
  EXPECT_EQ(a.printed, 5);
  EXPECT_EQ(a.spoiled_total(), 3);
  EXPECT_EQ(a.returned, 10);
  EXPECT_EQ(a.on_hand, 82);
  const StationReconciliation& b = r.stations[1];
  EXPECT_EQ(b.station_id, kStationB);
  EXPECT_EQ(b.handed_over, 70);
  EXPECT_EQ(b.received, 20);
  EXPECT_EQ(b.in_transit, 50);
  EXPECT_EQ(b.on_hand, 19);

  ASSERT_EQ(r.discrepancies.size(), 1u);
  EXPECT_EQ(r.discrepancies[0].code, "awaiting_receipt");
  EXPECT_EQ(r.discrepancies[0].station_id, kStationB);
  EXPECT_EQ(r.discrepancies[0].quantity, 50);
  EXPECT_EQ(r.discrepancies[0].detail,
            "50 blanks handed over to station ST-351202-01 are not confirmed received (serials "
            "0000000121-0000000150, 0000000201-0000000220, oldest handed over 2026-11-24T01:00:00Z)");
  EXPECT_THAT(r.discrepancies[0].pesan, HasSubstr("belum dikonfirmasi diterima"));

  EXPECT_THAT(ledger_->Reconcile("35"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regency code")));
  EXPECT_THAT(ledger_->Reconcile("35.99"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not exist")));
}

TEST_P(BlankLedgerTest, ReconciliationNamesStockChangedOutsideTheLedger) {
  StockStationA();
  ASSERT_TRUE(ledger_->Reconcile(kSitubondo)->discrepancies.empty());
  // Someone with database access takes station A's blanks out of the books.
  ASSERT_OK(db().Exec("DELETE FROM blank_stock WHERE station_id = ?", {kStationA}));
  RegencyReconciliation r = *ledger_->Reconcile(kSitubondo);
  ASSERT_EQ(r.discrepancies.size(), 1u);
  EXPECT_EQ(r.discrepancies[0].code, "out_of_balance");
  EXPECT_EQ(r.discrepancies[0].station_id, kStationA);
  EXPECT_EQ(r.discrepancies[0].quantity, 100);
  EXPECT_EQ(r.discrepancies[0].detail,
            "station ST-351201-01: the movements leave 0 in transit and 100 on hand, the stock holds 0 and 0");
}

TEST_P(BlankLedgerTest, BadInputIsRefusedAndChangesNothing) {
  StockStationA();
  const std::string before = Snapshot();
  EXPECT_THAT(ledger_->StockIn({10, 9}, "gudang.pusat"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("serial range 10-9 must have 1 <= first <= last")));
  EXPECT_THAT(ledger_->StockIn({0, 9}, "gudang.pusat"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("serial range 0-9")));
  EXPECT_THAT(ledger_->StockIn({kMaxSerial, kMaxSerial + 1}, "gudang.pusat"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("<= 9999999999")));
  EXPECT_THAT(ledger_->StockIn({2000, 2001}, ""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("must be named")));
  EXPECT_THAT(ledger_->Ship("35.12.01", {500, 501}, "gudang.pusat"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'35.12.01' is not a regency code")));
  EXPECT_THAT(ledger_->Consume(kStationA, "print-1", 2, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must name its record")));
  EXPECT_THAT(ledger_->Consume(kStationA, "print-1", 2, 999),
              StatusIs(StatusCode::kNotFound, HasSubstr("record 999 does not exist")));
  EXPECT_THAT(ledger_->Spoil(kStationA, "spoil-1", 2, SpoilReason::kMisprint, std::string(501, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("note is longer than 500")));
  EXPECT_THAT(ledger_->Receive("ST-000000-09", "recv-9", {1, 1}),
              StatusIs(StatusCode::kNotFound, HasSubstr("station ST-000000-09 is not registered")));
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(BlankLedgerTest, ARefusalInsideTheCallersTransactionWritesNothing) {
  StockStationA();
  const int64_t record = NewRecord("R-1");
  const std::string before = Snapshot();
  // An ingest batch: one event is refused, the batch goes on and commits.
  ASSERT_OK(db().Transact([&]() -> Status {
    EXPECT_THAT(ledger_->Consume(kStationA, "print-1", 300, record),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000300 is in the stock of regency 35.12")));
    EXPECT_THAT(ledger_->Receive(kStationA, "recv-2", {50, 150}),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000050 is at station ST-351201-01")));
    EXPECT_THAT(ledger_->StockIn({900, 1100}, "gudang.pusat"),
                StatusIs(StatusCode::kAlreadyExists, HasSubstr("overlap range 0000000001-0000001000")));
    return Status::Ok();
  }));
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(BlankLedgerTest, ConcurrentStationsCannotUseOneSerialTwice) {
  StockStationA();
  constexpr int kWriters = 6;
  std::vector<int64_t> records;
  std::vector<std::unique_ptr<store::Connection>> connections;
  for (int i = 0; i < kWriters; ++i) {
    records.push_back(NewRecord("R-" + std::to_string(i)));
    auto connection = db_->Connect();
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    connections.push_back(std::move(*connection));
  }
  std::vector<Status> results(kWriters);
  {
    std::vector<std::jthread> writers;
    for (int i = 0; i < kWriters; ++i) {
      writers.emplace_back([&, i] {
        BlankLedger ledger(*connections[i], clock_);
        results[i] = ledger.Consume(kStationA, "print-" + std::to_string(i), 42, records[i]).status();
      });
    }
  }
  int applied = 0;
  for (const Status& result : results) {
    if (result.ok()) {
      ++applied;
    } else {
      EXPECT_THAT(result, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("serial 0000000042 is already consumed")));
    }
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blank_uses WHERE serial = 42"), 1);
  EXPECT_EQ(*ledger_->OnHandAtStation(kStationA), 99);
}

INSTANTIATE_TEST_SUITE_P(Backends, BlankLedgerTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

TEST(BlankSerialTest, SerialsAreTenDigits) {
  EXPECT_EQ(FormatSerial(12345), "0000012345");
  EXPECT_EQ(FormatRange({1, 1}), "0000000001");
  EXPECT_EQ(FormatRange({1, 20}), "0000000001-0000000020");
  EXPECT_EQ(*ParseSerial("0000012345"), 12345);
  EXPECT_EQ(*ParseSerial("9999999999"), kMaxSerial);
  EXPECT_THAT(ParseSerial("0"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("serials start at 1")));
  EXPECT_THAT(ParseSerial("12a"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("1-10 digits")));
  EXPECT_THAT(ParseSerial("12345678901"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("1-10 digits")));
  EXPECT_THAT(ParseSerial(""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("1-10 digits")));
}

TEST(SpoilReasonTest, TheFixedSetParsesAndNothingElse) {
  for (SpoilReason reason : kSpoilReasons) EXPECT_EQ(*ParseSpoilReason(SpoilReasonName(reason)), reason);
  EXPECT_EQ(SpoilReasonLabel(SpoilReason::kPrinterJam), "printer macet");
  EXPECT_THAT(ParseSpoilReason("lost"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("'lost' is not one of misprint, damaged_in_transit, printer_jam")));
}

}  // namespace
}  // namespace ektp::blanks
