#include "printing/print_queue.h"
#include "printing/print_jobs.h"
#include "printing/testing.h"

#include <nlohmann/json.hpp>

#include "core/resident_json.h"
#include "core/status_matchers.h"
#include "store/audit_log.h"
#include "store/record_repository.h"
#include "store/testing.h"

namespace ektp::printing {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using store::testing::TestDatabase;
using namespace std::chrono;

constexpr char kNgawi[] = "35.21";       // Kabupaten Ngawi
constexpr char kNgawiVillage[] = "35.21.01.2001";
constexpr char kOtherVillage[] = "35.02.01.2001";  // Kabupaten Ponorogo

class PrintQueueTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    records_ = std::make_unique<store::RecordRepository>(db_->connection(), clock_);
    queue_ = std::make_unique<PrintQueue>(db_->connection(), clock_);
  }

  // A record through received → validated → dedupe_pending → unique.
  int64_t NewUniqueRecord(const std::string& registration, ApplicationKind kind, year_month_day born,
                          const std::string& village = kNgawiVillage) {
    auto id = testing::CreateUniqueRecord(*records_, registration, kind, born, village);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  Status MakePrintReady(int64_t id) { return testing::MakePrintReady(db_->connection(), *records_, *queue_, id); }

  int64_t NewQueued(const std::string& registration, ApplicationKind kind = ApplicationKind::kLost,
                    year_month_day born = year_month_day{year(1990), month(5), day(4)},
                    const std::string& village = kNgawiVillage) {
    int64_t id = NewUniqueRecord(registration, kind, born, village);
    EXPECT_OK(MakePrintReady(id));
    clock_.Advance(hours(1));
    return id;
  }

  std::vector<std::string> Order(const std::string& regency = kNgawi) {
    auto entries = queue_->List(regency);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    std::vector<std::string> out;
    if (!entries.ok()) return out;
    for (const QueueEntry& entry : *entries) out.push_back(entry.registration_number);
    return out;
  }

  std::vector<std::string> AuditActions() {
    auto rows = db_->connection().Query("SELECT action FROM audit_log WHERE action LIKE 'print.%' ORDER BY seq");
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    for (const auto& row : *rows) out.push_back(row.Text(0));
    return out;
  }

  FakeClock clock_{sys_days(year_month_day{year(2026), month(11), day(24)}) + hours(1)};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::RecordRepository> records_;
  std::unique_ptr<PrintQueue> queue_;
};

TEST_P(PrintQueueTest, OldestPrintReadyFirstWithItsWaitingTime) {
  // Created in one order, print_ready in another: the queue follows print_ready.
  int64_t a = NewUniqueRecord("ST-A-1", ApplicationKind::kLost, year_month_day{year(1990), month(1), day(1)});
  int64_t b = NewUniqueRecord("ST-A-2", ApplicationKind::kLost, year_month_day{year(1990), month(1), day(1)});
  ASSERT_OK(MakePrintReady(b));
  clock_.Advance(minutes(30));
  ASSERT_OK(MakePrintReady(a));

  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].registration_number, "ST-A-2");
  EXPECT_EQ((*entries)[0].position, 1);
  EXPECT_EQ((*entries)[0].ready_at, "2026-11-24T01:00:00Z");
  EXPECT_EQ((*entries)[0].explanation, "menunggu sejak 2026-11-24T01:00:00Z");
  ASSERT_EQ((*entries)[0].reasons.size(), 1u);
  EXPECT_EQ((*entries)[0].reasons[0].code, "waiting");
  EXPECT_EQ((*entries)[1].registration_number, "ST-A-1");
  EXPECT_EQ((*entries)[1].position, 2);
  EXPECT_EQ((*entries)[1].ready_at, "2026-11-24T01:30:00Z");

  auto second_page = queue_->List(kNgawi, 1, 1);
  ASSERT_TRUE(second_page.ok());
  ASSERT_EQ(second_page->size(), 1u);
  EXPECT_EQ((*second_page)[0].record_id, a);
  EXPECT_EQ((*second_page)[0].position, 2);
}

TEST_P(PrintQueueTest, EnqueueRefusesRecordsThatAreNotPrintReady) {
  int64_t id = NewUniqueRecord("ST-B-1", ApplicationKind::kFirstCard, year_month_day{year(2009), month(1), day(1)});
  EXPECT_THAT(queue_->Enqueue(id, "central.pipeline"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is unique, not print_ready")));
  EXPECT_THAT(queue_->Enqueue(id + 100, "central.pipeline"), StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
  EXPECT_TRUE(Order().empty());
}

TEST_P(PrintQueueTest, EnqueueInsideTheCallersTransactionRollsBackWithIt) {
  int64_t id = NewUniqueRecord("ST-B-2", ApplicationKind::kLost, year_month_day{year(1990), month(1), day(1)});
  Status status = db_->connection().Transact([&]() -> Status {
    RETURN_IF_ERROR(records_->Transition(id, RecordState::kUnique, RecordState::kPrintReady, "central.pipeline", ""));
    RETURN_IF_ERROR(queue_->Enqueue(id, "central.pipeline"));
    return Unavailable("the pipeline failed after enqueueing");
  });
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable, "the pipeline failed after enqueueing"));
  EXPECT_EQ(records_->Get(id)->state, RecordState::kUnique);
  EXPECT_THAT(queue_->Position(id), StatusIs(StatusCode::kNotFound, HasSubstr("never queued")));
}

TEST_P(PrintQueueTest, EnqueueRefusesARecordWithoutAnAddress) {
  store::Record record;
  record.registration_number = "ST-B-3";
  record.resident_json = R"({"name":"BUDI"})";
  auto id = records_->Create(record, "test");
  ASSERT_TRUE(id.ok());
  for (auto [from, to] : {std::pair{RecordState::kReceived, RecordState::kValidated},
                          {RecordState::kValidated, RecordState::kDedupePending},
                          {RecordState::kDedupePending, RecordState::kUnique},
                          {RecordState::kUnique, RecordState::kPrintReady}}) {
    ASSERT_OK(records_->Transition(*id, from, to, "test", ""));
  }
  EXPECT_THAT(queue_->Enqueue(*id, "central.pipeline"),
              StatusIs(StatusCode::kDataLoss, "resident_json has no address.village_code"));
}

TEST_P(PrintQueueTest, EachRegencyHasItsOwnQueueFromTheDomicile) {
  NewQueued("NGAWI-1");
  NewQueued("PONOROGO-1", ApplicationKind::kLost, year_month_day{year(1990), month(1), day(1)}, kOtherVillage);
  NewQueued("NGAWI-2");
  EXPECT_THAT(Order(kNgawi), ElementsAre("NGAWI-1", "NGAWI-2"));
  EXPECT_THAT(Order("35.02"), ElementsAre("PONOROGO-1"));
  EXPECT_THAT(queue_->List("35"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regency code")));
  EXPECT_THAT(queue_->List("35.21.01"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regency code")));
}

TEST_P(PrintQueueTest, PrintedRecordsLeaveAndAReprintKeepsItsPlace) {
  int64_t first = NewQueued("ST-C-1");
  NewQueued("ST-C-2");
  ASSERT_OK(records_->Transition(first, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  EXPECT_THAT(Order(), ElementsAre("ST-C-2"));
  EXPECT_THAT(queue_->Position(first), StatusIs(StatusCode::kNotFound, HasSubstr("no longer waiting")));

  // The blank was spoiled: back to print_ready, enqueued again, same place.
  clock_.Advance(hours(5));
  ASSERT_OK(db_->connection().Transact([&]() -> Status {
    RETURN_IF_ERROR(records_->Transition(first, RecordState::kPrinted, RecordState::kPrintReady, "print:ST-1",
                                         "blank spoiled"));
    return queue_->Enqueue(first, "central.pipeline");
  }));
  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok());
  EXPECT_THAT(Order(), ElementsAre("ST-C-1", "ST-C-2"));
  EXPECT_EQ((*entries)[0].ready_at, "2026-11-24T01:00:00Z");
}

TEST_P(PrintQueueTest, ApprovedUrgentCaseGoesFirstAndIsExplained) {
  NewQueued("ST-D-1");
  NewQueued("ST-D-2");
  int64_t late = NewQueued("ST-D-3");

  auto request = queue_->RequestUrgent(late, kTravelAbroad, "tiket + visa no. X123", "ani");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  // Pending is not yet urgent.
  EXPECT_THAT(Order(), ElementsAre("ST-D-1", "ST-D-2", "ST-D-3"));
  EXPECT_THAT(queue_->ApproveUrgent(*request, "ani"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("another supervisor must decide it")));
  clock_.Advance(minutes(10));
  ASSERT_OK(queue_->ApproveUrgent(*request, "sari"));
  EXPECT_THAT(queue_->ApproveUrgent(*request, "joko"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already approved by sari")));

  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok());
  EXPECT_THAT(Order(), ElementsAre("ST-D-3", "ST-D-1", "ST-D-2"));
  EXPECT_EQ((*entries)[0].explanation,
            "mendesak: perjalanan ke luar negeri, disetujui oleh sari pada 2026-11-24T04:10:00Z; "
            "lalu menunggu sejak 2026-11-24T03:00:00Z");
  ASSERT_EQ((*entries)[0].reasons.size(), 2u);
  EXPECT_EQ((*entries)[0].reasons[0].code, "urgent");
  EXPECT_EQ((*entries)[0].reasons[0].detail, "travel_abroad");
  EXPECT_EQ((*entries)[0].reasons[0].by, "sari");

  auto stored = queue_->GetUrgent(*request);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, UrgentStatus::kApproved);
  EXPECT_EQ(stored->requested_by, "ani");
  EXPECT_EQ(stored->evidence, "tiket + visa no. X123");
  EXPECT_EQ(stored->registration_number, "ST-D-3");

  // Both actors are in the hash chain, and the chain holds.
  EXPECT_THAT(AuditActions(), ElementsAre("print.urgent_request", "print.urgent_approve"));
  auto rows = db_->connection().Query(
      "SELECT actor, subject, detail FROM audit_log WHERE action LIKE 'print.urgent%' ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Text(0), "ani");
  EXPECT_EQ((*rows)[0].Text(1), "record:" + std::to_string(late));
  EXPECT_EQ((*rows)[0].Text(2).find("X123"), std::string::npos) << "evidence text stays out of the chain";
  EXPECT_EQ((*rows)[1].Text(0), "sari");
  auto verification = store::AuditLog(db_->connection(), clock_).Verify();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->intact) << verification->problem;
}

TEST_P(PrintQueueTest, UrgentRequestsAreChecked) {
  int64_t id = NewQueued("ST-E-1");
  EXPECT_THAT(queue_->RequestUrgent(id, "holiday", "tiket", "ani"),
              StatusIs(StatusCode::kInvalidArgument, "unknown urgent reason 'holiday'"));
  EXPECT_THAT(queue_->RequestUrgent(id, kSeafarer, "", "ani"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("evidence")));
  EXPECT_THAT(queue_->RequestUrgent(id, kSeafarer, "buku pelaut", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("requester")));
  EXPECT_THAT(queue_->RequestUrgent(id + 100, kSeafarer, "buku pelaut", "ani"),
              StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
  auto first = queue_->RequestUrgent(id, kSeafarer, "buku pelaut", "ani");
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(queue_->RequestUrgent(id, kDisasterVictim, "surat desa", "budi"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("already has urgent request")));
  // A rejected request leaves the order alone and allows a new request.
  ASSERT_OK(queue_->RejectUrgent(*first, "sari", "buku pelaut kedaluwarsa"));
  EXPECT_EQ(queue_->GetUrgent(*first)->decision_note, "buku pelaut kedaluwarsa");
  auto second = queue_->RequestUrgent(id, kDisasterVictim, "surat keterangan desa", "budi");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto pending = queue_->ListUrgent(UrgentStatus::kPending);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, *second);
  EXPECT_THAT(queue_->ApproveUrgent(*second + 100, "sari"), StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));

  ASSERT_OK(records_->Transition(id, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  int64_t other = NewQueued("ST-E-2");
  ASSERT_OK(records_->Transition(other, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  EXPECT_THAT(queue_->RequestUrgent(other, kSeafarer, "buku pelaut", "ani"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is printed")));
  EXPECT_THAT(AuditActions(),
              ElementsAre("print.urgent_request", "print.urgent_reject", "print.urgent_request"));
}

TEST_P(PrintQueueTest, OtherUrgentReasonsCanBeConfigured) {
  NewQueued("ST-F-1");
  int64_t id = NewQueued("ST-F-2");
  EXPECT_THAT(queue_->RequestUrgent(id, "medical_abroad", "surat rujukan RS", "ani"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown urgent reason")));
  ASSERT_OK(queue_->AddUrgentReason("medical_abroad", "berobat ke luar negeri", "admin"));
  EXPECT_THAT(queue_->AddUrgentReason("medical_abroad", "lagi", "admin"), StatusIs(StatusCode::kAlreadyExists, HasSubstr("medical_abroad")));
  EXPECT_THAT(queue_->AddUrgentReason("seafarer", "pelaut", "admin"), StatusIs(StatusCode::kAlreadyExists, HasSubstr("built in")));
  EXPECT_THAT(queue_->AddUrgentReason("Berobat!", "x", "admin"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("a-z")));
  auto reasons = queue_->UrgentReasons();
  ASSERT_TRUE(reasons.ok());
  ASSERT_EQ(reasons->size(), 5u);
  EXPECT_EQ(reasons->back().code, "medical_abroad");
  EXPECT_FALSE(reasons->back().built_in);

  auto request = queue_->RequestUrgent(id, "medical_abroad", "surat rujukan RS", "ani");
  ASSERT_TRUE(request.ok());
  ASSERT_OK(queue_->ApproveUrgent(*request, "sari"));
  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].registration_number, "ST-F-2");
  EXPECT_THAT((*entries)[0].explanation, HasSubstr("mendesak: berobat ke luar negeri, disetujui oleh sari"));
}

TEST_P(PrintQueueTest, PolicyPrioritisesFirstCardsAtSeventeenDecidedWhenReady) {
  NewQueued("LOST-17", ApplicationKind::kLost, year_month_day{year(2009), month(3), day(1)});
  NewQueued("FIRST-30", ApplicationKind::kFirstCard, year_month_day{year(1996), month(3), day(1)});
  // 17 on the day it became print_ready (turns 18 a week later).
  NewQueued("FIRST-17", ApplicationKind::kFirstCard, year_month_day{year(2008), month(12), day(1)});
  clock_.Advance(days(10));
  // Now 18: applied and ready after the birthday, so not "at 17".
  NewQueued("FIRST-18", ApplicationKind::kFirstCard, year_month_day{year(2008), month(12), day(1)});

  EXPECT_THAT(Order(), ElementsAre("LOST-17", "FIRST-30", "FIRST-17", "FIRST-18"));
  ASSERT_OK(queue_->SetPolicy(kNgawi, QueuePolicy{.first_card_at_17 = true}, "kadis"));
  EXPECT_THAT(Order(), ElementsAre("FIRST-17", "LOST-17", "FIRST-30", "FIRST-18"));
  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].explanation,
            "kartu pertama usia 17 tahun (prioritas kebijakan); lalu menunggu sejak 2026-11-24T03:00:00Z");
  EXPECT_THAT(AuditActions(), ElementsAre("print.policy_set"));
  auto policy = queue_->Policy(kNgawi);
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->first_card_at_17);
  EXPECT_FALSE(policy->suket_holders);
}

TEST_P(PrintQueueTest, NationalPolicyAppliesWhereARegencyHasNone) {
  ASSERT_OK(queue_->SetPolicy(kNationalPolicy, QueuePolicy{.first_card_at_17 = true, .suket_holders = true}, "kemendagri"));
  ASSERT_OK(queue_->SetPolicy("35.02", QueuePolicy{}, "kadis-ponorogo"));
  EXPECT_TRUE(queue_->Policy(kNgawi)->first_card_at_17);
  EXPECT_TRUE(queue_->Policy(kNgawi)->suket_holders);
  EXPECT_FALSE(queue_->Policy("35.02")->first_card_at_17);
  EXPECT_THAT(queue_->SetPolicy("35.21.01", QueuePolicy{}, "x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regency code")));
}

TEST_P(PrintQueueTest, PolicyPrioritisesValidSuketHolders) {
  NewQueued("PLAIN");
  int64_t valid = NewQueued("SUKET-VALID");
  int64_t expired = NewQueued("SUKET-EXPIRED");
  int64_t revoked = NewQueued("SUKET-REVOKED");
  auto& db = db_->connection();
  ASSERT_OK(db.Exec("INSERT INTO suket_holders (record_id, issued_at, valid_until, revoked_at) VALUES "
                    "(?, '2026-10-01T00:00:00Z', '2027-04-01T00:00:00Z', NULL), "
                    "(?, '2026-01-01T00:00:00Z', '2026-07-01T00:00:00Z', NULL), "
                    "(?, '2026-10-01T00:00:00Z', '2027-04-01T00:00:00Z', '2026-11-01T00:00:00Z')",
                    {valid, expired, revoked}));
  EXPECT_THAT(Order(), ElementsAre("PLAIN", "SUKET-VALID", "SUKET-EXPIRED", "SUKET-REVOKED"));
  ASSERT_OK(queue_->SetPolicy(kNgawi, QueuePolicy{.suket_holders = true}, "kadis"));
  EXPECT_THAT(Order(), ElementsAre("SUKET-VALID", "PLAIN", "SUKET-EXPIRED", "SUKET-REVOKED"));
  EXPECT_THAT(queue_->List(kNgawi)->at(0).explanation, HasSubstr("pemegang Suket (prioritas kebijakan); lalu"));
}

TEST_P(PrintQueueTest, TiersCombineUrgentThenPolicyThenWaiting) {
  NewQueued("PLAIN");
  int64_t urgent_first = NewQueued("URGENT-FIRST-17", ApplicationKind::kFirstCard,
                                   year_month_day{year(2009), month(2), day(2)});
  NewQueued("FIRST-17", ApplicationKind::kFirstCard, year_month_day{year(2009), month(2), day(2)});
  int64_t urgent = NewQueued("URGENT");
  ASSERT_OK(queue_->SetPolicy(kNgawi, QueuePolicy{.first_card_at_17 = true}, "kadis"));
  for (int64_t id : {urgent, urgent_first}) {
    auto request = queue_->RequestUrgent(id, kStudyAbroad, "LoA universitas", "ani");
    ASSERT_TRUE(request.ok());
    ASSERT_OK(queue_->ApproveUrgent(*request, "sari"));
  }
  EXPECT_THAT(Order(), ElementsAre("URGENT-FIRST-17", "URGENT", "FIRST-17", "PLAIN"));
  auto entries = queue_->List(kNgawi);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].explanation,
            "mendesak: studi ke luar negeri, disetujui oleh sari pada 2026-11-24T05:00:00Z; "
            "lalu kartu pertama usia 17 tahun (prioritas kebijakan); lalu menunggu sejak 2026-11-24T02:00:00Z");

  auto position = queue_->Position(urgent);
  ASSERT_TRUE(position.ok()) << position.status().ToString();
  EXPECT_EQ(position->regency_code, kNgawi);
  EXPECT_EQ(position->position, 2);
  EXPECT_EQ(position->queued, 4);
  auto absent = queue_->PositionIn("35.02", urgent);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->position, 0);
  EXPECT_EQ(absent->queued, 0);
}

TEST_P(PrintQueueTest, PrintRateCountsRecentPrintsOfTheRegency) {
  EXPECT_EQ(*queue_->PrintRatePerDay(kNgawi), 0.0);
  int64_t old = NewQueued("OLD");
  ASSERT_OK(records_->Transition(old, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  clock_.Advance(days(20));
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(NewQueued("R-" + std::to_string(i)));
  int64_t elsewhere = NewQueued("PONOROGO", ApplicationKind::kLost, year_month_day{year(1990), month(1), day(1)},
                                kOtherVillage);
  for (int64_t id : {ids[0], ids[1], ids[2], elsewhere}) {
    ASSERT_OK(records_->Transition(id, RecordState::kPrintReady, RecordState::kPrinted, "print:ST-1", ""));
  }
  // 3 in Ngawi in the last 14 days (OLD is 20 days back; PONOROGO is another regency).
  EXPECT_DOUBLE_EQ(*queue_->PrintRatePerDay(kNgawi), 3.0 / 14.0);
  EXPECT_DOUBLE_EQ(*queue_->PrintRatePerDay(kNgawi, hours(24)), 3.0);
  EXPECT_THAT(queue_->PrintRatePerDay(kNgawi, hours(0)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("positive")));
}

TEST(RegencyOfResidentJsonTest, TakesTheDomicileVillagesRegency) {
  EXPECT_EQ(*RegencyOfResidentJson(R"({"address":{"village_code":"35.21.01.2001"}})"), "35.21");
  EXPECT_THAT(RegencyOfResidentJson(R"({"address":{"village_code":"35.21.01"}})"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("not a village code")));
  EXPECT_THAT(RegencyOfResidentJson("not json"), StatusIs(StatusCode::kDataLoss, HasSubstr("address.village_code")));
}

// Print jobs (print_jobs.h) reserve the queue's records for print stations.
class PrintJobsTest : public PrintQueueTest {
 protected:
  void SetUp() override {
    PrintQueueTest::SetUp();
    if (HasFatalFailure()) return;
    jobs_ = std::make_unique<PrintJobs>(db_->connection(), clock_);
    for (const char* id : {"ST-352101-01", "ST-352102-01"}) {
      ASSERT_OK(db_->connection().Exec(
          "INSERT INTO stations (id, kecamatan_code, kind, capabilities, public_key, status, registered_at) "
          "VALUES (?, '35.21.01', 'disdukcapil_office', 'print', ?, 'approved', '2026-11-01T00:00:00Z')",
          {std::string(id), store::Blob(32, 1)}));
    }
  }

  std::vector<std::string> Registrations(const StatusOr<std::vector<PrintJob>>& jobs) {
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    std::vector<std::string> out;
    if (jobs.ok()) {
      for (const PrintJob& job : *jobs) out.push_back(job.registration_number);
    }
    return out;
  }

  std::unique_ptr<PrintJobs> jobs_;
};

TEST_P(PrintJobsTest, ReservesInPrintOrderUpToCapacityAndNeverForTwoStations) {
  for (int i = 1; i <= 5; ++i) NewQueued("ST-J-" + std::to_string(i));
  EXPECT_THAT(Registrations(jobs_->TopUp("ST-352101-01", kNgawi, 3)), ElementsAre("ST-J-1", "ST-J-2", "ST-J-3"));
  EXPECT_THAT(Registrations(jobs_->TopUp("ST-352102-01", kNgawi, 5)), ElementsAre("ST-J-4", "ST-J-5"));
  EXPECT_THAT(Registrations(jobs_->TopUp("ST-352101-01", kNgawi, 3)), ElementsAre());
  EXPECT_THAT(Registrations(jobs_->TopUp("ST-352101-01", kNgawi, 4)), ElementsAre());  // nothing left unreserved
  EXPECT_THAT(jobs_->TopUp("ST-352101-01", kNgawi, -1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("capacity -1 is negative")));
  EXPECT_EQ(Registrations(jobs_->ForStation("ST-352101-01", PrintJobState::kReserved)).size(), 3u);
  EXPECT_THAT(AuditActions(), ElementsAre("print.jobs_reserve", "print.jobs_reserve"));
}

TEST_P(PrintJobsTest, AnApprovedUrgentCaseIsReservedEvenWhenTheStationIsFull) {
  NewQueued("ST-U-1");
  NewQueued("ST-U-2");
  int64_t late = NewQueued("ST-U-3");
  EXPECT_THAT(Registrations(jobs_->TopUp("ST-352101-01", kNgawi, 2)), ElementsAre("ST-U-1", "ST-U-2"));
  auto request = queue_->RequestUrgent(late, kSeafarer, "buku pelaut no. 77", "ani");
  ASSERT_OK(request.status());
  ASSERT_OK(queue_->ApproveUrgent(*request, "sari"));
  auto topped = jobs_->TopUp("ST-352101-01", kNgawi, 2);
  EXPECT_THAT(Registrations(topped), ElementsAre("ST-U-3"));
  ASSERT_EQ(topped->size(), 1u);
  EXPECT_TRUE((*topped)[0].urgent);
}

TEST_P(PrintJobsTest, APrintedReportMovesTheRecordOnceAndOnlyForItsStation) {
  int64_t record = NewQueued("ST-P-1");
  auto reserved = jobs_->TopUp("ST-352101-01", kNgawi, 1);
  ASSERT_OK(reserved.status());
  ASSERT_EQ(reserved->size(), 1u);
  const int64_t job = (*reserved)[0].id;
  EXPECT_THAT(jobs_->MarkPrinted(job, "ST-352102-01", 42, "2026-11-24T05:00:00Z"),
              StatusIs(StatusCode::kNotFound, HasSubstr("is not reserved for station ST-352102-01")));
  auto printed = jobs_->MarkPrinted(job, "ST-352101-01", 42, "2026-11-24T05:00:00Z");
  ASSERT_OK(printed.status());
  EXPECT_EQ(printed->state, PrintJobState::kPrinted);
  EXPECT_EQ(printed->serial, 42);
  EXPECT_EQ(records_->Get(record)->state, RecordState::kPrinted);
  EXPECT_THAT(Order(), ElementsAre());
  // The same report again (a resent packet) changes nothing; another serial is refused.
  ASSERT_OK(jobs_->MarkPrinted(job, "ST-352101-01", 42, "2026-11-24T05:00:00Z").status());
  EXPECT_THAT(jobs_->MarkPrinted(job, "ST-352101-01", 43, "2026-11-24T05:01:00Z"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already printed on blank 42, not 43")));
  EXPECT_EQ(records_->Events(record)->size(), 6u);  // created, 3 to unique, print_ready, printed
}

TEST_P(PrintJobsTest, AJobPrintedAfterItsWithdrawalIsFlaggedAndTheRecordStays) {
  int64_t record = NewQueued("ST-W-1");
  auto reserved = jobs_->TopUp("ST-352101-01", kNgawi, 1);
  ASSERT_OK(reserved.status());
  auto withdrawn = jobs_->Withdraw(record, "adjudication reversed", "sari");
  ASSERT_OK(withdrawn.status());
  ASSERT_TRUE(withdrawn->has_value());
  EXPECT_EQ((*withdrawn)->state, PrintJobState::kWithdrawn);
  EXPECT_FALSE(jobs_->Withdraw(record, "again", "sari")->has_value());

  auto printed = jobs_->MarkPrinted((*reserved)[0].id, "ST-352101-01", 7, "2026-11-24T05:00:00Z");
  ASSERT_OK(printed.status());
  EXPECT_EQ(printed->state, PrintJobState::kWithdrawn);
  EXPECT_TRUE(printed->printed_after_withdrawal);
  EXPECT_EQ(printed->serial, 7);
  EXPECT_EQ(records_->Get(record)->state, RecordState::kPrintReady);
  EXPECT_THAT(AuditActions(), ElementsAre("print.jobs_reserve", "print.job_withdraw", "print.job_printed_after_withdrawal"));
}

INSTANTIATE_TEST_SUITE_P(Backends, PrintJobsTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, PrintQueueTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::printing
