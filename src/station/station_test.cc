// Station and central together in one process over loopback HTTPS.
#include "station/server.h"
#include "station/station_test_fixture.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "card/card.h"
#include "card/testing.h"
#include "faultnet/fault_proxy.h"
#include "central/audit_checkpoints.h"
#include "central/hand_over.h"
#include "central/print_feed.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "core/status_matchers.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "service/log.h"
#include "store/audit_log.h"
#include "store/record_repository.h"
#include "net/tls.h"
#include "store/testing.h"
#include "suket/suket.h"
#include "sync/feed.h"
#include "sync/request_auth.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

TEST_F(StationTest, InitRegistersTheStationsX25519KeyAndKeepsItsSecretBeside) {
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  ASSERT_TRUE(files->box_key.has_value());
  central::StationRegistry registry(*central_db_, clock_);
  auto registered = registry.Get(identity_.station_id);
  ASSERT_OK(registered.status());
  EXPECT_EQ(registered->box_public_key, files->box_key->public_key());
  // What is sealed to the registered key opens with the file's secret.
  const crypto::Bytes secret = {'j', 'o', 'b'};
  auto opened = files->box_key->Open(crypto::Seal(registered->box_public_key, secret));
  ASSERT_OK(opened.status());
  EXPECT_EQ(*opened, secret);
  EXPECT_EQ(std::filesystem::status(dir_ + "/station/station-box.key").permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
}

TEST_F(StationTest, EnrollOfflineThenSyncDeliversExactlyOnceAndFeedsBack) {
  EXPECT_TRUE(identity_.station_id.starts_with("ST-352101-"));
  central_->Stop();  // the link is down: enrollment still completes
  std::vector<std::string> registrations;
  for (int i = 0; i < 5; ++i) {
    auto receipt = station_->Enroll(ani_, Request());
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
    registrations.push_back(receipt->registration_number);
  }
  EXPECT_EQ(registrations[0], identity_.station_id + "-000001");
  EXPECT_THAT(sync_->SyncOnce(), StatusIs(StatusCode::kUnavailable, ::testing::_));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 5);
  EXPECT_EQ(station_->Outbox(OutboxState::kPending, 10)->front().attempts, 1);

  ASSERT_OK(central_->Start());
  // The restarted server listens on a new ephemeral port; tell the station.
  Identity moved = identity_;
  moved.central_urls = {"https://127.0.0.1:1", central_->base_url()};  // the first is dead: failover
  Station station(*station_db_, clock_, *key_, moved);
  SyncOptions options;
  std::ifstream in(dir_ + "/station/central-cert.pem");
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
  SyncClient sync(station, clock_, random_, *key_, options);
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(*station.CountOutbox(OutboxState::kAcked), 5);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 5);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'validated'"), 5);
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(registrations[2])), "validated");
  ASSERT_OK(sync.SyncOnce());  // nothing more to send; nothing doubles
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 5);
}

TEST_F(StationTest, AnEnrollmentsStatusIsTypedFromQueuedToItsRecordsStateAtCentral) {
  auto receipt = station_->Enroll(ani_, Request());
  ASSERT_OK(receipt.status());
  auto queued = station_->GetEnrollmentStatus(receipt->registration_number);
  ASSERT_OK(queued.status());
  EXPECT_EQ(queued->stage, EnrollmentStage::kQueued);
  EXPECT_EQ(EnrollmentStatusName(*queued), "queued");

  ASSERT_OK(sync_->SyncOnce());
  auto reported = station_->GetEnrollmentStatus(receipt->registration_number);
  ASSERT_OK(reported.status());
  EXPECT_EQ(reported->stage, EnrollmentStage::kAtCentral);
  EXPECT_EQ(reported->record_state, RecordState::kValidated);
  EXPECT_EQ(EnrollmentStatusName(*reported), "validated");

  // A stored status that is neither "queued" nor a record state is named, not passed on.
  ASSERT_OK(station_db_->Exec("UPDATE enrollments SET status = 'hilang' WHERE registration_number = ?",
                              {receipt->registration_number}));
  EXPECT_THAT(station_->GetEnrollmentStatus(receipt->registration_number),
              StatusIs(StatusCode::kDataLoss, HasSubstr("has unknown status 'hilang'")));
}

// Issue 5's end-to-end path: station enrollment, sync, central's pipeline,
// and the outcome back at the station: print_ready with a new NIK, or
// adjudication for a planted duplicate (another name, another impression of
// a resident's fingers).
TEST_F(StationTest, EnrollmentsReachPrintReadyAdjudicationAndTheirPrintStationAsSealedJobs) {
  RestartCentral(/*run_pipeline=*/true);
  Station& station = *station_;
  SyncClient& sync = *sync_;

  std::vector<std::string> residents;
  for (int subject : {0, 1, 2}) {
    EnrollmentRequest request = Request();
    request.biometrics = enrollment::testing::SampleBiometrics(subject, 4000, random_);
    auto receipt = station.Enroll(ani_, request);
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
    residents.push_back(receipt->registration_number);
  }
  EnrollmentRequest planted = Request();
  planted.biometrics.fingers = {{2, enrollment::testing::FvcTemplate(1, 101, 2), enrollment::FingerException::kNone},
                                {7, enrollment::testing::FvcTemplate(2, 101, 2), enrollment::FingerException::kNone}};
  auto duplicate = station.Enroll(ani_, planted);
  ASSERT_TRUE(duplicate.ok()) << duplicate.status().ToString();

  auto settled = [&] {
    for (const std::string& registration : residents) {
      if (EnrollmentStatusName(*station.GetEnrollmentStatus(registration)) != "print_ready") return false;
    }
    return EnrollmentStatusName(*station.GetEnrollmentStatus(duplicate->registration_number)) == "adjudication";
  };
  const auto deadline = steady_clock::now() + seconds(60);
  while (!settled() && steady_clock::now() < deadline) {
    ASSERT_OK(sync.SyncOnce());
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::set<std::string> niks;
  for (const std::string& registration : residents) {
    auto status = station.GetEnrollmentStatus(registration);
    ASSERT_OK(status.status());
    EXPECT_EQ(EnrollmentStatusName(*status), "print_ready") << registration << ": " << status->reason;
    EXPECT_EQ(status->nik.size(), 16u);
    EXPECT_TRUE(status->nik.starts_with("3521")) << status->nik;
    niks.insert(status->nik);
  }
  EXPECT_EQ(niks.size(), 3u);
  auto suspect = station.GetEnrollmentStatus(duplicate->registration_number);
  ASSERT_OK(suspect.status());
  EXPECT_EQ(EnrollmentStatusName(*suspect), "adjudication");
  EXPECT_EQ(suspect->reason, "duplicate suspect: fingerprints match 1 resident(s) on record");
  EXPECT_EQ(suspect->nik, "");
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM adjudications WHERE status = 'open'"), 1);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM print_queue"), 3);

  // No blanks at the station: no print jobs yet.
  ASSERT_OK(sync.SyncOnce());
  ASSERT_OK(station.PrintJobs().status());
  EXPECT_TRUE(station.PrintJobs()->empty());
  // Central ships two blanks to the regency and hands them to the station; the station learns of
  // them through its feed and its print officer confirms them. Only then does central send jobs:
  // two for the blanks and the margin beyond them, so all three, in print order.
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  blanks::BlankLedger ledger(*central_db_, clock_);
  ASSERT_OK(ledger.StockIn({1000001, 1000002}, "admin"));
  ASSERT_OK(ledger.Ship("35.21", {1000001, 1000002}, "admin"));
  ASSERT_OK(central::HandOverBlanks(*central_db_, clock_, *keys, identity_.station_id, {1000001, 1000002}, "admin"));
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(station.Blanks()->expected, 2);
  EXPECT_TRUE(station.PrintJobs()->empty());
  const Operator officer{"budi", "Budi Santoso", Role::kPrintOfficer};
  EXPECT_THAT(station.ReceiveBlanks(ani_, 1000001, 1000002),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("an operator may not print")));
  EXPECT_THAT(station.ReceiveBlanks(officer, 1000001, 1000003),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("blank 0001000003 was never handed over")));
  auto received = station.ReceiveBlanks(officer, 1000001, 1000002);
  ASSERT_OK(received.status());
  EXPECT_EQ(*received, 2);
  EXPECT_THAT(station.ReceiveBlanks(officer, 1000002, 1000002),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("blank 0001000002 was received here already")));
  ASSERT_OK(sync.SyncOnce());  // the receipt goes up; the feed read after it brings the jobs
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(*ledger.OnHandAtStation(identity_.station_id), 2);
  auto jobs = station.PrintJobs();
  ASSERT_OK(jobs.status());
  ASSERT_EQ(jobs->size(), 3u);
  for (size_t i = 0; i < residents.size(); ++i) EXPECT_EQ((*jobs)[i].registration_number, residents[i]);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM print_jobs WHERE state = 'reserved'"), 3);

  // Each job opens only with the station's X25519 key, and holds the chip central signed for that resident.
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  auto sealed = station_db_->Query("SELECT sealed_card FROM print_jobs WHERE job_id = ?", {(*jobs)[0].job_id});
  ASSERT_OK(sealed.status());
  auto opened = files->box_key->Open((*sealed)[0].Bytes(0));
  ASSERT_OK(opened.status());
  auto card = card::OpenCardToPrint(*opened, keys->signing.public_key());
  ASSERT_OK(card.status());
  EXPECT_EQ(card->card.data.resident.nik, station.GetEnrollmentStatus(residents[0])->nik);
  EXPECT_EQ(card->card.data.registration_number, residents[0]);
  EXPECT_EQ(card->card.data.issuing_regency, "35.21");
  EXPECT_EQ(card->card.data.fingers.size(), 2u);

  // Central withdraws one job; the station will not print it. Its record is still print_ready, so
  // the next top-up reserves it again, as a new job at the end of the order.
  auto record = store::RecordRepository(*central_db_, clock_).FindByRegistration(residents[1]);
  ASSERT_OK(record.status());
  auto withdrew = central::WithdrawPrintJob(*central_db_, clock_, *keys, record->id, "adjudication reversed", "sari");
  ASSERT_OK(withdrew.status());
  EXPECT_TRUE(*withdrew);
  ASSERT_OK(sync.SyncOnce());
  jobs = station.PrintJobs();
  ASSERT_OK(jobs.status());
  ASSERT_EQ(jobs->size(), 4u);
  EXPECT_EQ((*jobs)[1].state, HeldPrintJobState::kWithdrawn);
  EXPECT_EQ((*jobs)[1].withdrawn_reason, "adjudication reversed");
  EXPECT_EQ((*jobs)[0].state, HeldPrintJobState::kPending);
  EXPECT_EQ((*jobs)[3].registration_number, residents[1]);
  EXPECT_EQ((*jobs)[3].state, HeldPrintJobState::kPending);

  // The officer prints, offline from here on: the withdrawn job is skipped, each card takes the
  // lowest blank, and with both blanks used the next job waits for blanks.
  auto spool = card::SpoolOutput(dir_ + "/spool");
  std::filesystem::create_directories(dir_ + "/spool");
  auto first = station.PrintNextCard(officer, *files->box_key, *spool);
  ASSERT_OK(first.status());
  EXPECT_EQ(first->registration_number, residents[0]);
  EXPECT_EQ(first->serial, 1000001);
  auto second = station.PrintNextCard(officer, *files->box_key, *spool);
  ASSERT_OK(second.status());
  EXPECT_EQ(second->registration_number, residents[2]);
  EXPECT_EQ(second->serial, 1000002);
  EXPECT_THAT(station.PrintNextCard(officer, *files->box_key, *spool),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no blank card is on hand")));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/spool/0001000001/chip.bin"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/spool/0001000002/front.png"));
  EXPECT_EQ(station.Blanks()->used, 2);

  // Back online: central's ledger and records agree with what was printed.
  ASSERT_OK(sync.SyncOnce());
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(residents[0])), "printed");
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(residents[2])), "printed");
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(residents[1])), "print_ready");
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM print_jobs WHERE state = 'printed'"), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM print_jobs WHERE state = 'reserved'"), 1);
  auto reconciled = ledger.Reconcile("35.21");
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->printed, 2);
  EXPECT_EQ(reconciled->received, 2);
  EXPECT_EQ(reconciled->on_hand.total(), 0);
  EXPECT_TRUE(reconciled->discrepancies.empty());

  // The first card came out wrong. Its blank is spoiled as a misprint and its job prints again, first,
  // on the next blank; the record goes back to print_ready at central, then printed on the new serial.
  ASSERT_OK(ledger.StockIn({1000003, 1000004}, "admin"));
  ASSERT_OK(ledger.Ship("35.21", {1000003, 1000004}, "admin"));
  ASSERT_OK(central::HandOverBlanks(*central_db_, clock_, *keys, identity_.station_id, {1000003, 1000004}, "admin"));
  ASSERT_OK(sync.SyncOnce());
  ASSERT_OK(station.ReceiveBlanks(officer, 1000003, 1000004).status());
  EXPECT_THAT(station.RecordMisprint(officer, 1000003, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("blank 0001000003 holds no card printed at station")));
  EXPECT_THAT(station.RecordMisprint(ani_, 1000001, ""),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("an operator may not print")));
  EXPECT_THAT(station.RecordMisprint(officer, 1000001, std::string(501, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the note is 501 bytes; at most 500")));
  ASSERT_OK(station.RecordMisprint(officer, 1000001, "foto bergeser"));
  EXPECT_EQ(station.Blanks()->spoiled, 1);
  auto reprinted = station.PrintNextCard(officer, *files->box_key, *spool);
  ASSERT_OK(reprinted.status());
  EXPECT_EQ(reprinted->registration_number, residents[0]);
  EXPECT_EQ(reprinted->serial, 1000003);
  ASSERT_OK(sync.SyncOnce());
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(residents[0])), "printed");
  EXPECT_EQ(CentralCount("SELECT serial FROM print_jobs WHERE record_id = " + std::to_string(
                             store::RecordRepository(*central_db_, clock_).FindByRegistration(residents[0])->id) +
                         " AND state = 'printed'"),
            1000003);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM record_events WHERE to_state = 'print_ready' AND from_state = 'printed'"),
            1);
  reconciled = ledger.Reconcile("35.21");
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->printed, 2);
  EXPECT_EQ(reconciled->spoiled[0], 1);
  EXPECT_EQ(reconciled->on_hand.total(), 1);
  EXPECT_TRUE(reconciled->discrepancies.empty());

  // Dispatch: the two printed cards go, in one manifest, to the station where their residents
  // enrolled (this one). Central moves them to dispatched and sends each card, as printed, sealed
  // to the collecting station.
  auto manifests = station.DispatchPrintedCards(officer);
  ASSERT_OK(manifests.status());
  ASSERT_EQ(manifests->size(), 1u);
  EXPECT_EQ((*manifests)[0].manifest_id, "dispatch-0001000002");
  EXPECT_EQ((*manifests)[0].to_station, identity_.station_id);
  ASSERT_EQ((*manifests)[0].cards.size(), 2u);
  EXPECT_EQ((*manifests)[0].cards[0].registration_number, residents[2]);
  EXPECT_EQ((*manifests)[0].cards[1].serial, 1000003);
  EXPECT_TRUE(station.DispatchPrintedCards(officer)->empty());
  ASSERT_OK(sync.SyncOnce());
  ASSERT_OK(sync.SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'dispatched'"), 2);
  EXPECT_EQ(EnrollmentStatusName(*station.GetEnrollmentStatus(residents[0])), "dispatched");
  auto to_collect = station.CardsToCollect();
  ASSERT_OK(to_collect.status());
  ASSERT_EQ(to_collect->size(), 2u);
  auto delivered = station_db_->Query("SELECT sealed_card FROM cards_to_collect WHERE registration_number = ?",
                                      {residents[0]});
  ASSERT_OK(delivered.status());
  auto opened_card = files->box_key->Open((*delivered)[0].Bytes(0));
  ASSERT_OK(opened_card.status());
  auto collected = card::OpenCardToPrint(*opened_card, keys->signing.public_key());
  ASSERT_OK(collected.status());
  auto printed_chip = central_db_->Query("SELECT chip FROM print_jobs WHERE serial = 1000003");
  ASSERT_OK(printed_chip.status());
  EXPECT_EQ(collected->chip, (*printed_chip)[0].Bytes(0));
  EXPECT_EQ(collected->card.data.registration_number, residents[0]);

  // An earlier card of residents[0]'s NIK is active (made by hand at central): activation replaces it.
  const std::string nik0 = station.GetEnrollmentStatus(residents[0])->nik;
  store::RecordRepository central_records(*central_db_, clock_);
  store::Record earlier_card;
  earlier_card.registration_number = "MANUAL-000001";
  earlier_card.resident_json = store::RecordRepository(*central_db_, clock_).FindByRegistration(residents[0])->resident_json;
  auto earlier_id = central_records.Create(earlier_card, "admin");
  ASSERT_OK(earlier_id.status());
  ASSERT_OK(central_records.SetHolderNik(*earlier_id, nik0));
  RecordState at = RecordState::kReceived;
  for (RecordState next : {RecordState::kValidated, RecordState::kDedupePending, RecordState::kUnique,
                           RecordState::kPrintReady, RecordState::kPrinted, RecordState::kDispatched,
                           RecordState::kActivated}) {
    ASSERT_OK(central_records.Transition(*earlier_id, at, next, "admin", "an earlier card"));
    at = next;
  }

  // Hand-over with central unreachable. The counter finds each card by NIK, serial or registration number.
  central_->Stop();
  // First, Sukets, offline: one for residents[0] and its renewal; each verifies here with the trust
  // bundle and revocation list central sent down the feed, and the QR of the PDF holds the token.
  const crypto::Bytes face = card::testing::SampleCard().face_jpeg;
  EXPECT_THAT(station.IssueSuket(officer, residents[0], face),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("may not issue a Suket")));
  auto suket = station.IssueSuket(ani_, residents[0], face);
  ASSERT_OK(suket.status());
  EXPECT_EQ(suket->serial, "SKT-" + identity_.station_id + "-000001");
  EXPECT_EQ(suket->replaces, "");
  auto scanned = suket::ReadToken(suket->pdf);
  ASSERT_OK(scanned.status());
  EXPECT_EQ(*scanned, suket->token);
  auto renewed = station.IssueSuket(ani_, residents[0], face);
  ASSERT_OK(renewed.status());
  EXPECT_EQ(renewed->replaces, suket->serial);
  auto offline_check = station.VerifySuket(renewed->token);
  ASSERT_OK(offline_check.status());
  EXPECT_EQ(offline_check->outcome, suket::Outcome::kValid) << offline_check->message;
  crypto::Bytes altered(renewed->token.begin(), renewed->token.end());
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(station.VerifySuket(std::string(altered.begin(), altered.end()))->outcome, suket::Outcome::kNotGenuine);

  auto found = station.FindCardAtCounter(nik0);
  ASSERT_OK(found.status());
  EXPECT_EQ(found->card.serial, 1000003);
  EXPECT_EQ(found->state, CollectState::kWaiting);
  EXPECT_EQ(station.FindCardAtCounter("1000003")->card.registration_number, residents[0]);
  EXPECT_EQ(station.FindCardAtCounter(residents[2])->card.serial, 1000002);
  EXPECT_THAT(station.FindCardAtCounter("3521019999999999"),
              StatusIs(StatusCode::kNotFound, HasSubstr("no card for '3521019999999999' was dispatched to station")));
  const std::vector<card::ChipFinger> wrong_fingers = {{2, enrollment::testing::FvcTemplate(1, 105, 2)},
                                                       {7, enrollment::testing::FvcTemplate(2, 105, 2)}};
  const std::vector<card::ChipFinger> holder_fingers = {{2, enrollment::testing::FvcTemplate(1, 101, 2)},
                                                        {7, enrollment::testing::FvcTemplate(2, 101, 2)}};
  const Operator sri{"sri", "Sri Wahyuni", Role::kSupervisor};
  // A wrong finger fails and is counted; the card is not handed over without a passing check.
  auto wrong = station.CheckCollectorFingerprints(ani_, *files->box_key, 1000003, wrong_fingers);
  ASSERT_OK(wrong.status());
  EXPECT_FALSE(wrong->passed);
  EXPECT_EQ(wrong->fingers, 2);
  EXPECT_EQ(wrong->attempt, 1);
  EXPECT_LT(wrong->score, wrong->threshold);
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 1000003, {}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("has no passing fingerprint check")));
  EXPECT_THAT(station.OverrideFingerprintCheck(sri, 1000003, "jari luka"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("has 1 failed fingerprint checks")));
  EXPECT_THAT(station.CheckCollectorFingerprints(ani_, *files->box_key, 1000003, {{4, holder_fingers[0].template_bytes}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("none of the live fingers is one the card holds (finger positions 2, 7)")));
  EXPECT_THAT(station.CheckCollectorFingerprints(ani_, *files->box_key, 1000003, {{2, {1, 2, 3}}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("live finger 2")));
  EXPECT_THAT(station.CheckCollectorFingerprints(officer, *files->box_key, 1000003, holder_fingers),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("may not hand cards over")));
  // The holder's own fingers pass; the card is handed over and activated, and its templates are deleted here.
  auto passed = station.CheckCollectorFingerprints(ani_, *files->box_key, 1000003, holder_fingers);
  ASSERT_OK(passed.status());
  EXPECT_TRUE(passed->passed) << passed->score << " < " << passed->threshold;
  EXPECT_EQ(passed->attempt, 2);
  auto handed = station.HandOverCard(ani_, *files->box_key, 1000003, {});
  ASSERT_OK(handed.status());
  EXPECT_EQ(handed->hand_over.basis, sync::HandOverBasis::kFingerprint);
  EXPECT_EQ(handed->hand_over.nik, nik0);
  EXPECT_THAT(handed->free_service_notice, HasSubstr("GRATIS"));
  EXPECT_THAT(handed->complaint_channel, HasSubstr("lapor.go.id"));
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 1000003, {}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("card 0001000003 was handed over at")));
  EXPECT_THAT(station.CheckCollectorFingerprints(ani_, *files->box_key, 1000003, holder_fingers),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("was handed over at")));
  auto kept = station_db_->Query("SELECT LENGTH(sealed_card) FROM cards_to_collect WHERE serial = 1000003");
  ASSERT_OK(kept.status());
  EXPECT_EQ((*kept)[0].Int(0), 0);

  // residents[2]'s card: a delegate without the old KTP, or with someone else's, is refused; after
  // three failed checks a supervisor (not an operator) overrides with a reason.
  const std::string nik2 = station.GetEnrollmentStatus(residents[2])->nik;
  HandOverRequest delegated{Delegate{"Siti Aminah", "3521014101850003", "spouse"}, std::nullopt};
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 1000002, delegated),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("needs the holder's old KTP, surrendered")));
  delegated.surrendered = SurrenderedKtp{nik0, "OLD-1"};
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 1000002, delegated),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not the card holder's")));
  delegated.delegate->relation = "friend";
  delegated.surrendered = SurrenderedKtp{nik2, "OLD-1"};
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 1000002, delegated),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("relation 'friend' is not one of")));
  EXPECT_THAT(station.HandOverCard(ani_, *files->box_key, 2000000, {}),
              StatusIs(StatusCode::kNotFound, HasSubstr("no card on blank 0002000000 was dispatched to station")));
  for (int i = 0; i < 3; ++i) {
    auto failed = station.CheckCollectorFingerprints(ani_, *files->box_key, 1000002, wrong_fingers);
    ASSERT_OK(failed.status());
    EXPECT_FALSE(failed->passed);
    EXPECT_EQ(failed->override_allowed, i == 2);
  }
  EXPECT_THAT(station.OverrideFingerprintCheck(ani_, 1000002, "jari luka"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("a supervisor must log in")));
  EXPECT_THAT(station.OverrideFingerprintCheck(sri, 1000002, ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("an override needs a reason")));
  ASSERT_OK(station.OverrideFingerprintCheck(sri, 1000002, "sidik jari aus; dicocokkan dengan foto dan KK"));
  auto overridden = station.HandOverCard(ani_, *files->box_key, 1000002, {});
  ASSERT_OK(overridden.status());
  EXPECT_EQ(overridden->hand_over.basis, sync::HandOverBasis::kOverride);

  // Back online: both records are activated at central, the earlier card is replaced, and every
  // check, override and hand-over is on record for the integrity report.
  RestartCentral(/*run_pipeline=*/true);
  ASSERT_OK(sync_->SyncOnce());
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(residents[0])), "activated");
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(residents[2])), "activated");
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'activated'"), 2);
  EXPECT_EQ(central_records.Get(*earlier_id)->state, RecordState::kReplaced);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM hand_over_events WHERE kind = 'fingerprint_checked'"), 5);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM hand_over_events WHERE kind = 'fingerprint_checked' AND outcome = 'failed'"), 4);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM hand_over_events WHERE kind = 'pickup_override' AND operator = 'sri'"), 1);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM hand_over_events WHERE kind = 'card_activated'"), 2);
  // Both Sukets of residents[0] are revoked at central (the renewal replaced the first, activation
  // the second); the next feed read brings the new revocation list, and the station says so offline.
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM sukets WHERE revoked_at IS NOT NULL"), 2);
  ASSERT_OK(sync_->SyncOnce());
  auto revoked = station_->VerifySuket(renewed->token);
  ASSERT_OK(revoked.status());
  EXPECT_EQ(revoked->outcome, suket::Outcome::kRevoked);
  EXPECT_EQ(revoked->reason, suket::Reason::kSuketRevoked);
  // Anyone can fetch the two documents from central and verify offline, or ask central online.
  net::HttpClientOptions pinned;
  std::ifstream cert(dir_ + "/station/central-cert.pem");
  pinned.pinned_cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
  auto public_client = net::HttpClient::Create(central_->base_url(), pinned);
  ASSERT_OK(public_client.status());
  auto bundle_answer = (*public_client)->Get("/api/v1/suket/trust-bundle");
  auto list_answer = (*public_client)->Get("/api/v1/suket/revocations");
  ASSERT_OK(bundle_answer.status());
  ASSERT_OK(list_answer.status());
  ASSERT_EQ(bundle_answer->status, 200);
  auto bundle = suket::DecodeTrustBundle(crypto::AsBytes(bundle_answer->body), keys->signing.public_key());
  ASSERT_OK(bundle.status());
  auto list = suket::DecodeRevocationList(crypto::AsBytes(list_answer->body), *bundle);
  ASSERT_OK(list.status());
  EXPECT_EQ(suket::Verify(renewed->token, *bundle, *list, clock_.Now()).reason, suket::Reason::kSuketRevoked);
  auto online = (*public_client)->Post("/api/v1/suket/verify", nlohmann::json{{"token", suket->token}}.dump(),
                                       "application/json");
  ASSERT_OK(online.status());
  ASSERT_EQ(online->status, 200) << online->body;
  EXPECT_EQ(nlohmann::json::parse(online->body)["outcome"], "revoked");
  std::string query;
  for (unsigned char c : suket->token) {
    char escaped[4];
    std::snprintf(escaped, sizeof(escaped), "%%%02X", c);
    query += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(escaped);
  }
  auto page = (*public_client)->Get("/suket/verify?token=" + query);
  ASSERT_OK(page.status());
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_THAT(page->body, HasSubstr("<p class=\"suket_revoked\">"));
  EXPECT_THAT(page->body, HasSubstr("Nomor Suket: " + suket->serial));
  online = (*public_client)->Post("/api/v1/suket/verify", R"({"token":"HC1:not a suket"})", "application/json");
  ASSERT_OK(online.status());
  EXPECT_EQ(nlohmann::json::parse(online->body)["reason"], "wrong_prefix");

  auto report = central::ComputeIntegrityReport(*central_db_);
  ASSERT_OK(report.status());
  ASSERT_EQ(report->operators.size(), 1u);
  EXPECT_EQ(report->operators[0].operator_name, "ani");
  EXPECT_EQ(report->operators[0].failed_checks.events, 4);
  EXPECT_EQ(report->operators[0].failed_checks.out_of, 5);
  EXPECT_EQ(report->operators[0].overrides.events, 1);
  EXPECT_EQ(report->operators[0].overrides.out_of, 2);
}

TEST_F(StationTest, APrintOfficerSpoilsOnlyBlanksOnHandAndEachSpoilageGoesUp) {
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  const sync::FeedItem handed = sync::SignFeedItem(
      {sync::FeedKind::kBlanksHandedOver, sync::BlanksHandedOverBody{41, 43, "2026-11-24T01:00:00Z"}}, keys->signing);
  auto applied = station_->ApplyFeedItem(1, handed.kind, handed.body, handed.signature);
  ASSERT_OK(applied.status());
  ASSERT_OK(applied->refusal);
  const Operator officer{"budi", "Budi Santoso", Role::kPrintOfficer};
  EXPECT_THAT(station_->SpoilBlank(officer, 41, "printer_jam", ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("blank 0000000041 is not on hand at station")));
  ASSERT_OK(station_->ReceiveBlanks(officer, 41, 43).status());
  EXPECT_THAT(station_->SpoilBlank(officer, 41, "lost", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("spoilage reason 'lost' is not one of")));
  ASSERT_OK(station_->SpoilBlank(officer, 41, "damaged_in_transit", "retak di sudut"));
  EXPECT_THAT(station_->SpoilBlank(officer, 41, "printer_jam", ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("(spoiled)")));
  EXPECT_THAT(station_->SpoilBlank(officer, 44, "printer_jam", ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("(never handed over here)")));
  auto blanks = station_->Blanks();
  ASSERT_OK(blanks.status());
  EXPECT_EQ(blanks->on_hand, 2);
  EXPECT_EQ(blanks->spoiled, 1);
  auto kinds = station_db_->Query("SELECT kind FROM outbox ORDER BY sequence");
  ASSERT_OK(kinds.status());
  ASSERT_EQ(kinds->size(), 2u);
  EXPECT_EQ((*kinds)[0].Text(0), "blanks_received");
  EXPECT_EQ((*kinds)[1].Text(0), "blank_spoiled");
}

// A print officer works through the station's API: confirm blanks, print, record a misprint and a
// spoiled blank. The job and the blanks arrive as central's feed items would.
TEST_F(StationTest, APrintOfficerPrintsThroughTheApi) {
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  const card::Card card = card::testing::SampleCard();
  auto chip = card::EncodeChip(card, keys->signing);
  ASSERT_OK(chip.status());
  const crypto::Bytes to_print = card::EncodeCardToPrint({*chip, card.face_jpeg, card.signature_image});
  const sync::FeedItem job = sync::SignFeedItem(
      {sync::FeedKind::kPrintJob,
       sync::PrintJobBody{7, card.data.registration_number, false, "2026-11-24T01:00:00Z",
                          crypto::Seal(files->box_key->public_key(), to_print), identity_.station_id}},
      keys->signing);
  const sync::FeedItem handed = sync::SignFeedItem(
      {sync::FeedKind::kBlanksHandedOver, sync::BlanksHandedOverBody{41, 43, "2026-11-24T01:00:00Z"}}, keys->signing);
  for (const auto& [id, item] : {std::pair{1, &handed}, std::pair{2, &job}}) {
    auto applied = station_->ApplyFeedItem(id, item->kind, item->body, item->signature);
    ASSERT_OK(applied.status());
    ASSERT_OK(applied->refusal);
  }
  ASSERT_OK(station_->AddOperator({"budi", "Budi Santoso", Role::kPrintOfficer}, "kata-sandi-2",
                                  crypto::PasswordStrength::kFast));
  StationOptions options;
  options.data_dir = dir_ + "/station";
  options.run_sync = false;
  options.print_output = dir_ + "/cards";
  auto server = StationServer::Create(options, clock_);
  ASSERT_OK(server.status());
  ASSERT_OK((*server)->Start());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  auto login = [&](const std::string& user, const std::string& password) {
    auto answer = (*client)->Post("/api/v1/login", nlohmann::json{{"username", user}, {"password", password}}.dump(),
                                  "application/json");
    EXPECT_TRUE(answer.ok() && answer->status == 200);
    return net::HttpHeaders{{"authorization", "Bearer " + nlohmann::json::parse(answer->body)["token"].get<std::string>()}};
  };
  const net::HttpHeaders officer = login("budi", "kata-sandi-2");
  auto post = [&](const std::string& path, const std::string& body) {
    auto answer = (*client)->Post(path, body, "application/json", officer);
    EXPECT_TRUE(answer.ok());
    return answer.ok() ? *answer : net::HttpResponse{};
  };

  auto refused = (*client)->Get("/api/v1/print/jobs", login("ani", "kata-sandi-1"));
  ASSERT_OK(refused.status());
  EXPECT_EQ(refused->status, 403);
  EXPECT_THAT(refused->body, HasSubstr("an operator may not print cards"));
  auto answer = post("/api/v1/print/next", "");
  EXPECT_EQ(answer.status, 409);
  EXPECT_THAT(answer.body, HasSubstr("no blank card is on hand"));
  answer = post("/api/v1/print/blanks/receive", R"({"first_serial":41,"last_serial":"0000000043"})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(answer.body, HasSubstr("body field 'first_serial' must be a string"));
  answer = post("/api/v1/print/blanks/receive", R"({"first_serial":"0000000041","last_serial":"0000000043"})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["received"], 3);

  answer = post("/api/v1/print/next", "");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["serial"], "0000000041");
  EXPECT_EQ(nlohmann::json::parse(answer.body)["registration_number"], card.data.registration_number);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/cards/0000000041/front.png"));
  answer = post("/api/v1/print/cards/0000000042/misprint", "{}");
  EXPECT_EQ(answer.status, 409);
  EXPECT_THAT(answer.body, HasSubstr("blank 0000000042 holds no card printed at station"));
  answer = post("/api/v1/print/cards/0000000041/misprint", R"({"note":"foto bergeser"})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto jobs = (*client)->Get("/api/v1/print/jobs", officer);
  ASSERT_OK(jobs.status());
  EXPECT_EQ(nlohmann::json::parse(jobs->body)["jobs"][0]["state"], "pending");
  answer = post("/api/v1/print/next", "");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["serial"], "0000000042");

  answer = post("/api/v1/print/blanks/0000000043/spoil", R"({"reason":"hilang"})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(answer.body, HasSubstr("spoilage reason 'hilang' is not one of"));
  answer = post("/api/v1/print/blanks/0000000043/spoil", R"({"reason":"printer_jam"})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  answer = post("/api/v1/print/blanks/0000000043/spoil", R"({"reason":"printer_jam"})");
  EXPECT_EQ(answer.status, 409);
  auto blanks = (*client)->Get("/api/v1/print/blanks", officer);
  ASSERT_OK(blanks.status());
  EXPECT_EQ(nlohmann::json::parse(blanks->body),
            nlohmann::json::parse(R"({"expected":0,"on_hand":0,"used":1,"spoiled":2})"));
  answer = post("/api/v1/print/dispatch", "");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["manifests"],
            nlohmann::json::parse(R"([{"manifest_id":"dispatch-0000000042","to_station":")" + identity_.station_id +
                                  R"(","cards":[{"registration_number":"35.21.01-A-000007","serial":"0000000042"}]}])"));
  auto kinds = station_db_->Query("SELECT kind FROM outbox ORDER BY sequence");
  ASSERT_OK(kinds.status());
  std::vector<std::string> sent;
  for (const store::Row& row : *kinds) sent.push_back(row.Text(0));
  EXPECT_THAT(sent, ::testing::ElementsAre("blanks_received", "card_printed", "card_misprinted", "card_printed",
                                           "blank_spoiled", "cards_dispatched"));
  (*server)->Stop();
}

// The sample card, printed and sealed to `box_key`, as central's card_to_collect feed item on `serial`.
sync::FeedItem CardToCollectItem(const crypto::SigningKey& central_key, const crypto::SealingKey& box_key,
                                 const std::string& registration_number, int64_t serial) {
  const card::Card card = card::testing::SampleCard();
  auto chip = card::EncodeChip(card, central_key);
  EXPECT_TRUE(chip.ok());
  const crypto::Bytes printed = card::EncodeCardToPrint({chip.ok() ? *chip : crypto::Bytes{}, card.face_jpeg,
                                                        card.signature_image});
  return sync::SignFeedItem({sync::FeedKind::kCardToCollect,
                             sync::CardToCollectBody{registration_number, serial,
                                                     "dispatch-" + blanks::FormatSerial(serial), "ST-PRINT",
                                                     crypto::Seal(box_key.public_key(), printed)}},
                            central_key);
}

// A card dispatched here is found, checked and handed over through the counter's routes; a
// supervisor's override needs the supervisor's own session.
TEST_F(StationTest, AnOperatorHandsACardOverThroughTheApi) {
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  const card::Card card = card::testing::SampleCard();
  const sync::FeedItem to_collect = CardToCollectItem(keys->signing, *files->box_key, card.data.registration_number, 42);
  auto applied = station_->ApplyFeedItem(1, to_collect.kind, to_collect.body, to_collect.signature);
  ASSERT_OK(applied.status());
  ASSERT_OK(applied->refusal);
  ASSERT_OK(station_->AddOperator({"sri", "Sri Wahyuni", Role::kSupervisor}, "kata-sandi-3",
                                  crypto::PasswordStrength::kFast));
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  const net::HttpHeaders ani = LoginOverApi(**client, "ani", "kata-sandi-1");
  const net::HttpHeaders sri = LoginOverApi(**client, "sri", "kata-sandi-3");
  auto post = [&](const std::string& path, const nlohmann::json& body, const net::HttpHeaders& who) {
    auto answer = (*client)->Post(path, body.dump(), "application/json", who);
    EXPECT_TRUE(answer.ok());
    return answer.ok() ? *answer : net::HttpResponse{};
  };
  auto found = (*client)->Get("/api/v1/pickup/cards/" + card.data.registration_number, ani);
  ASSERT_OK(found.status());
  ASSERT_EQ(found->status, 200) << found->body;
  EXPECT_EQ(nlohmann::json::parse(found->body)["serial"], "0000000042");
  EXPECT_EQ(nlohmann::json::parse(found->body)["state"], "waiting");

  auto fingers = [](int finger) {
    return nlohmann::json{{"fingers", {{{"position", 2}, {"template", crypto::Base64Encode(enrollment::testing::FvcTemplate(1, finger, 3))}}}}};
  };
  auto answer = post("/api/v1/pickup/cards/0000000042/check", nlohmann::json{{"fingers", "none"}}, ani);
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(nlohmann::json::parse(answer.body)["error"].get<std::string>(), HasSubstr("body must be"));
  EXPECT_EQ(nlohmann::json::parse(answer.body)["pesan"], "Data belum benar. Periksa dan perbaiki isian, lalu kirim lagi.");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    answer = post("/api/v1/pickup/cards/0000000042/check", fingers(108), ani);
    ASSERT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(nlohmann::json::parse(answer.body)["passed"], false);
    EXPECT_EQ(nlohmann::json::parse(answer.body)["override_allowed"], attempt == 3);
  }
  answer = post("/api/v1/pickup/cards/0000000042/hand-over", nlohmann::json::object(), ani);
  EXPECT_EQ(answer.status, 409);
  EXPECT_THAT(answer.body, HasSubstr("Permohonan tidak dapat diproses"));
  answer = post("/api/v1/pickup/cards/0000000042/override", {{"reason", "jari luka"}}, ani);
  EXPECT_EQ(answer.status, 403);
  EXPECT_THAT(answer.body, HasSubstr("a supervisor must log in"));
  answer = post("/api/v1/pickup/cards/0000000042/override", {{"reason", "jari luka; wajah cocok dengan foto"}}, sri);
  ASSERT_EQ(answer.status, 200) << answer.body;
  answer = post("/api/v1/pickup/cards/0000000042/hand-over", {{"surrendered_ktp", {{"nik", card.data.resident.nik}, {"serial", "OLD-9"}}}}, ani);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto receipt = nlohmann::json::parse(answer.body);
  EXPECT_EQ(receipt["hand_over"]["basis"], "override");
  EXPECT_EQ(receipt["hand_over"]["surrendered_ktp"]["serial"], "OLD-9");
  EXPECT_EQ(receipt["holder_name"], "SITI RAHAYU");
  EXPECT_THAT(receipt["free_service_notice"].get<std::string>(), HasSubstr("GRATIS"));
  // The packets wait in the outbox: three checks, the override and the activation.
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 5);
  answer = post("/api/v1/pickup/cards/0000000042/hand-over", nlohmann::json::object(), ani);
  EXPECT_EQ(answer.status, 409);
  EXPECT_THAT(answer.body, HasSubstr("card 0000000042 was handed over at"));
}

// A card waiting longer than PickupPolicy::keep_uncollected (90 days) is returned and voided by a
// supervisor through the API: its templates and images are deleted and a card_returned packet
// goes up. A card that arrived later stays; an operator may not return cards.
TEST_F(StationTest, ASupervisorReturnsCardsNeverCollectedThroughTheApi) {
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  const card::Card card = card::testing::SampleCard();
  auto deliver = [&](int64_t feed_id, const std::string& registration, int64_t serial) {
    const sync::FeedItem to_collect = CardToCollectItem(keys->signing, *files->box_key, registration, serial);
    auto applied = station_->ApplyFeedItem(feed_id, to_collect.kind, to_collect.body, to_collect.signature);
    ASSERT_OK(applied.status());
    ASSERT_OK(applied->refusal);
  };
  deliver(1, card.data.registration_number, 42);
  clock_.Advance(hours(24 * 60));
  deliver(2, "ST-352101-01-000077", 43);
  clock_.Advance(hours(24 * 30));
  ASSERT_OK(station_->AddOperator({"sri", "Sri Wahyuni", Role::kSupervisor}, "kata-sandi-3",
                                  crypto::PasswordStrength::kFast));
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  auto post_returns = [&](const net::HttpHeaders& who) {
    auto answer = (*client)->Post("/api/v1/pickup/returns", "", "application/json", who);
    EXPECT_TRUE(answer.ok());
    return answer.ok() ? *answer : net::HttpResponse{};
  };
  auto sealed_size = [&](int64_t serial) {
    auto rows = station_db_->Query("SELECT LENGTH(sealed_card) FROM cards_to_collect WHERE serial = ?", {serial});
    EXPECT_TRUE(rows.ok() && rows->size() == 1u);
    return rows.ok() && rows->size() == 1u ? (*rows)[0].Int(0) : -1;
  };

  // 90 days after card 42 arrived it is not yet due; the next second it is.
  EXPECT_THAT(station_->ReturnUncollectedCards(ani_),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("a supervisor must log in and do it")));
  auto answer = post_returns(LoginOverApi(**client, "ani", "kata-sandi-1"));
  EXPECT_EQ(answer.status, 403);
  const net::HttpHeaders sri = LoginOverApi(**client, "sri", "kata-sandi-3");
  answer = post_returns(sri);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["returned"], nlohmann::json::array());
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 0);
  clock_.Advance(seconds(1));
  answer = post_returns(sri);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto returned = nlohmann::json::parse(answer.body)["returned"];
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0]["serial"], "0000000042");
  EXPECT_EQ(returned[0]["registration_number"], card.data.registration_number);

  EXPECT_EQ(sealed_size(42), 0);
  EXPECT_GT(sealed_size(43), 0);
  auto found = station_->FindCardAtCounter("42");
  ASSERT_OK(found.status());
  EXPECT_EQ(found->state, CollectState::kReturned);
  EXPECT_EQ(found->returned_at, FormatTimestamp(clock_.Now()));
  EXPECT_EQ(station_->FindCardAtCounter("43")->state, CollectState::kWaiting);
  auto packets = station_db_->Query("SELECT kind, envelope FROM outbox ORDER BY sequence");
  ASSERT_OK(packets.status());
  ASSERT_EQ(packets->size(), 1u);
  EXPECT_EQ((*packets)[0].Text(0), "card_returned");
  auto envelope = sync::ParseEnvelope((*packets)[0].Text(1));
  ASSERT_OK(envelope.status());
  auto body = sync::CardReturnedFromJson(envelope->body);
  ASSERT_OK(body.status());
  EXPECT_EQ(body->event_id, "return-0000000042");
  EXPECT_EQ(body->serial, 42);
  EXPECT_EQ(body->reason, "card uncollected, returned and voided");
  EXPECT_EQ(body->by, "sri");
  auto audit = station_db_->Query("SELECT COUNT(*) FROM audit WHERE action = 'pickup.return_uncollected'");
  ASSERT_OK(audit.status());
  EXPECT_EQ((*audit)[0].Int(0), 1);
  // A returned card is not handed over, nor returned twice.
  const Operator supervisor{"sri", "Sri Wahyuni", Role::kSupervisor};
  EXPECT_THAT(station_->HandOverCard(supervisor, *files->box_key, 42, {}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("card 0000000042 was never collected; it was returned")));
  EXPECT_TRUE(station_->ReturnUncollectedCards(supervisor)->empty());
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 1);
}

TEST_F(StationTest, PermanentRejectionIsParkedWithTheReason) {
  auto receipt = station_->Enroll(ani_, Request());
  ASSERT_TRUE(receipt.ok());
  // Corrupt the stored packet (e.g. a disk error): central will refuse it for good.
  ASSERT_OK(station_db_->Exec("UPDATE outbox SET envelope = replace(envelope, '\"v\":1', '\"v\":1 ') WHERE sequence = 1"));
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(sync_->SyncOnce());
  auto parked = station_->Outbox(OutboxState::kParked, 10);
  ASSERT_TRUE(parked.ok());
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ((*parked)[0].reference, receipt->registration_number);
  EXPECT_THAT((*parked)[0].last_error, HasSubstr("signature does not verify"));
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(receipt->registration_number)), "parked");
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kAcked), 1);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 1);
}

// Issue 11, item 3: a packet the station cannot send, or central refuses even
// alone, is parked with its reason and never blocks the packets behind it.
TEST_F(StationTest, DamagedStoredPacketIsParkedAndTheRestDelivered) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_db_->Exec("UPDATE outbox SET envelope = replace(envelope, '\"v\":1', '\"v\":1' || "
                              "CAST(X'C3' AS TEXT)) WHERE sequence = 2"));
  ASSERT_OK(sync_->SyncOnce());
  auto parked = station_->Outbox(OutboxState::kParked, 10);
  ASSERT_TRUE(parked.ok());
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ((*parked)[0].sequence, 2);
  EXPECT_THAT((*parked)[0].last_error, HasSubstr("the stored packet is damaged"));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kAcked), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 2);
}

TEST_F(StationTest, PacketCentralRefusesEvenAloneIsParkedAndTheRestDelivered) {
  central_->Stop();
  central_options_.max_body_bytes = 64 * 1024;
  auto central = central::CentralServer::Create(central_options_, clock_);
  ASSERT_TRUE(central.ok()) << central.status().ToString();
  central_ = std::move(*central);
  ASSERT_OK(central_->Start());
  Identity identity = identity_;
  identity.central_urls = {central_->base_url()};
  Station station(*station_db_, clock_, *key_, identity);
  SyncOptions options;
  std::ifstream in(dir_ + "/station/central-cert.pem");
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
  SyncClient sync(station, clock_, random_, *key_, options);

  ASSERT_OK(station.Enroll(ani_, Request()).status());
  EnrollmentRequest large = Request();
  large.biometrics = enrollment::testing::SampleBiometrics(4, 200 * 1024, random_);
  ASSERT_OK(station.Enroll(ani_, large).status());
  ASSERT_OK(station.Enroll(ani_, Request()).status());
  for (int pass = 0; pass < 3 && *station.CountOutbox(OutboxState::kPending) > 0; ++pass) ASSERT_OK(sync.SyncOnce());
  auto parked = station.Outbox(OutboxState::kParked, 10);
  ASSERT_TRUE(parked.ok());
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ((*parked)[0].sequence, 2);
  EXPECT_THAT((*parked)[0].last_error, HasSubstr("central refuses this packet (HTTP 413)"));
  EXPECT_EQ(*station.CountOutbox(OutboxState::kAcked), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 2);
}

TEST_F(StationTest, CaptureChecksRejectBadInputBeforeAnythingIsStored) {
  EnrollmentRequest request = Request();
  request.biometrics.fingers[0].template_bytes.resize(25);
  EXPECT_THAT(station_->Enroll(ani_, request),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("finger 2 (telunjuk kanan): template is unreadable")));
  request = Request();
  request.resident.address.rt = 0;
  EXPECT_THAT(station_->Enroll(ani_, request), StatusIs(StatusCode::kInvalidArgument, HasSubstr("address.rt")));
  EXPECT_THAT(station_->Enroll({"budi", "Budi", Role::kPrintOfficer}, Request()),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("print officer")));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 0);
}

TEST_F(StationTest, RevokedStationKeepsItsOutbox) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  central::StationRegistry registry(*central_db_, clock_);
  ASSERT_OK(registry.Revoke(identity_.station_id, "admin", "test"));
  EXPECT_THAT(sync_->SyncOnce(), StatusIs(StatusCode::kPermissionDenied, HasSubstr("is revoked")));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 1);
}

// Issue 18: `station init` checks what it can before it spends the token, so
// a short admin password costs nothing; a second init on a registered folder
// points to `station operator add`.
TEST_F(StationTest, InitValidatesBeforeSpendingTheTokenAndPointsToOperatorAdd) {
  central::StationRegistry registry(*central_db_, clock_);
  auto token = registry.CreateToken({"35.21.02", central::StationKind::kMobileVan, {"enroll"}, hours(24)}, "admin");
  ASSERT_OK(token.status());
  const std::string dir = dir_ + "/second";
  InitOptions init{dir, central_->base_url(), *token, "", "admin", "short"};
  EXPECT_THAT(InitStation(init, clock_),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("first admin admin: password must have at least 8 characters; nothing was "
                                 "registered")));
  init.admin_password = "long-enough-1";
  init.admin_username = "Admin!";
  EXPECT_THAT(InitStation(init, clock_), StatusIs(StatusCode::kInvalidArgument, HasSubstr("username must be")));
  init.admin_username = "admin";
  init.central_url = "central.example:8443";
  EXPECT_THAT(InitStation(init, clock_), StatusIs(StatusCode::kInvalidArgument, HasSubstr("must start with https://")));
  EXPECT_FALSE(std::filesystem::exists(dir)) << "a refused init leaves no folder behind";

  init.central_url = central_->base_url();
  auto identity = InitStation(init, clock_);  // the same token: it was not spent
  ASSERT_OK(identity.status());
  EXPECT_THAT(InitStation(init, clock_),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(dir + " already holds station " + identity->station_id +
                                 " (registered before; the token is not needed again). To add an operator there run "
                                 "`ektp station operator add --dir " + dir)));
}

// Issue 18: a station registered but not yet approved says so from its first
// pass (not only once it has something to upload), retries every idle
// interval rather than backing off, and syncs on the pass after approval.
TEST_F(StationTest, UnapprovedStationShowsWaitingForApprovalAndSyncsOnceApproved) {
  central::StationRegistry registry(*central_db_, clock_);
  auto token = registry.CreateToken({"35.21.02", central::StationKind::kMobileVan, {"enroll"}, hours(24)}, "admin");
  ASSERT_OK(token.status());
  InitOptions init{dir_ + "/pending", central_->base_url(), *token, "", "", ""};
  ASSERT_OK(InitStation(init, clock_).status());
  auto files = OpenStationFiles(init.data_dir);
  ASSERT_OK(files.status());
  Station pending(*files->db, clock_, files->key, files->identity);
  SyncOptions options;
  std::ifstream cert(init.data_dir + "/central-cert.pem");
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
  options.idle_interval = milliseconds(700);
  options.initial_backoff = milliseconds(20'000);
  options.max_backoff = milliseconds(60'000);
  SyncClient sync(pending, clock_, random_, files->key, options);

  const std::string id = files->identity.station_id;
  EXPECT_THAT(sync.SyncOnce(), StatusIs(StatusCode::kFailedPrecondition,
                                        HasSubstr("is waiting for approval at central; ask the admin to run "
                                                  "`ektp central station approve " + id + "`")));
  EXPECT_TRUE(sync.status().waiting_for_approval);
  EXPECT_THAT(sync.status().last_error, HasSubstr("waiting for approval"));

  // Run sleeps the idle interval while waiting; the admin approves during the
  // second sleep and the next pass succeeds.
  std::vector<milliseconds> sleeps;
  std::stop_source stop;
  sync.Run(stop.get_token(), [&](milliseconds delay) {
    sleeps.push_back(delay);
    if (sleeps.size() == 2) {
      ASSERT_OK(registry.Approve(id, "admin"));
    }
    if (sleeps.size() == 3) stop.request_stop();
  });
  EXPECT_THAT(sleeps, ::testing::ElementsAre(milliseconds(700), milliseconds(700), milliseconds(700)));
  EXPECT_FALSE(sync.status().waiting_for_approval);
  EXPECT_EQ(sync.status().last_error, "");
  EXPECT_NE(sync.status().last_success, "");
}

// Issue 16: a station whose link was down long enough for its backoff to
// grow syncs within one idle interval of the link's return, instead of
// sleeping out the backoff: records showed `validated` at a station long
// after central had decided them, and it caught up at once only when
// restarted (a fresh backoff).
TEST_F(StationTest, AfterAnOutageTheStationSyncsWithinAnIdleIntervalOfTheLinksReturn) {
  faultnet::FaultProxyOptions link_options;
  link_options.target_port = static_cast<uint16_t>(central_->port());
  faultnet::FaultProxy link(link_options);
  ASSERT_OK(link.Start());
  link.SetDown(true);
  Identity via_link = identity_;
  via_link.central_urls = {"https://127.0.0.1:" + std::to_string(link.port())};
  Station station(*station_db_, clock_, *key_, via_link);
  ASSERT_OK(station.Enroll(ani_, Request()).status());
  SyncOptions options;
  std::ifstream cert(dir_ + "/station/central-cert.pem");
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
  options.idle_interval = milliseconds(500);
  options.initial_backoff = milliseconds(60'000);
  options.max_backoff = milliseconds(60'000);
  SyncClient sync(station, clock_, random_, *key_, options);

  // The first pass fails on the dead link; the link returns during the first
  // sleep; the pass after it succeeds, and the idle sleep after that ends the run.
  std::vector<milliseconds> sleeps;
  std::stop_source stop;
  sync.Run(stop.get_token(), [&](milliseconds delay) {
    sleeps.push_back(delay);
    if (sleeps.size() == 1) link.SetDown(false);
    if (sync.status().consecutive_failures == 0 || sleeps.size() > 300) stop.request_stop();
  });
  EXPECT_EQ(sync.status().last_error, "");
  ASSERT_EQ(sleeps.size(), 2u) << "slept " << ::testing::PrintToString(sleeps);
  EXPECT_LE(sleeps[0], milliseconds(500)) << "the station slept out its backoff after the link had returned";
  EXPECT_EQ(sleeps[1], milliseconds(500));  // idle, after the successful pass
  auto pending = station.PendingPackets(10, 1 << 20);
  ASSERT_OK(pending.status());
  EXPECT_TRUE(pending->empty());
}

// Issue 18: SQLite serves one central. A second server on the same folder is
// refused naming the folder; a folder without keys names `central init`; a
// port already taken fails before the pipeline starts.
TEST_F(StationTest, CentralRefusesASecondServerOnItsFolderAndNamesTheNextStep) {
  auto second = central::CentralServer::Create(central_options_, clock_);
  ASSERT_OK(second.status());
  EXPECT_THAT((*second)->Start(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("another `ektp central serve` is already using " + central_options_.data_dir)));

  central::CentralOptions empty;
  empty.data_dir = dir_ + "/not-initialised";
  EXPECT_THAT(central::CentralServer::Create(empty, clock_).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("signing.key does not exist; run `ektp central init --dir " + empty.data_dir + "`")));

  central::CentralOptions other;
  other.data_dir = dir_ + "/other-central";
  other.port = central_->port();
  ASSERT_OK(central::InitCentral(other, {}));
  auto taken = central::CentralServer::Create(other, clock_);
  ASSERT_OK(taken.status());
  service::CapturedLogs logs;
  EXPECT_THAT((*taken)->Start(), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot bind")));
  for (const std::string& line : logs.lines()) EXPECT_THAT(line, ::testing::Not(HasSubstr("pipeline.start")));
}

// A well-formed certificate that is not central's (an impostor's, or central's
// before it was re-keyed): the handshake is refused on the pin, naming the
// certificate central presented, and nothing is sent.
TEST_F(StationTest, WrongPinnedCertificateIsRefused) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  auto impostor = net::GenerateSelfSigned({});
  ASSERT_OK(impostor);
  std::ifstream in(dir_ + "/station/central-cert.pem");
  const std::string central_pem(std::istreambuf_iterator<char>(in), {});
  auto central_fingerprint = net::CertificateSha256(central_pem);
  ASSERT_OK(central_fingerprint);
  ASSERT_NE(*net::CertificateSha256(impostor->cert_pem), *central_fingerprint);
  SyncOptions options;
  options.pinned_cert_pem = impostor->cert_pem;
  SyncClient sync(*station_, clock_, random_, *key_, options);
  EXPECT_THAT(sync.SyncOnce(),
              StatusIs(StatusCode::kUnauthenticated,
                       HasSubstr("server certificate verification failed: the server presented certificate sha256:" +
                                 *central_fingerprint + ", which is not the pinned certificate")));
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 0);
}

TEST_F(StationTest, OperatorApiOverHttp) {
  auto server = StartOperatorServer();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_TRUE(client.ok());

  auto login = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"salah-sekali"})", "application/json");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->status, 401);
  EXPECT_THAT(login->body, HasSubstr("kata sandi salah"));
  login = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"kata-sandi-1"})", "application/json");
  ASSERT_EQ(login->status, 200) << login->body;
  std::string token = nlohmann::json::parse(login->body)["token"];
  net::HttpHeaders auth = {{"authorization", "Bearer " + token}};

  EnrollmentRequest request = Request();
  nlohmann::json application = {{"kind", "first_card"},
                                {"resident", ResidentToJson(request.resident)},
                                {"finger_exceptions", {{"5", "amputated"}}}};
  std::vector<net::MultipartPart> parts = EnrollmentParts(request, application);
  for (net::MultipartPart& part : ExceptionParts(SupervisorSession())) parts.push_back(std::move(part));
  auto created = (*client)->PostMultipart("/api/v1/enrollments", parts, auth);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 400);
  EXPECT_THAT(created->body, HasSubstr("header Idempotency-Key is missing"));
  auth.emplace("idempotency-key", "counter-3-application-0001");
  created = (*client)->PostMultipart("/api/v1/enrollments", parts, auth);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201) << created->body;
  std::string registration = nlohmann::json::parse(created->body)["registration_number"];
  auto receipt = (*client)->Get("/api/v1/enrollments/" + registration + "/receipt", auth);
  ASSERT_EQ(receipt->status, 200);
  EXPECT_THAT(receipt->body, HasSubstr(registration));
  EXPECT_THAT(receipt->body, HasSubstr("Tanda Terima"));

  // A refusal of the application names its field, as the live check does.
  EnrollmentRequest too_young = Request();
  too_young.resident.birth_date = std::chrono::year_month_day{std::chrono::year{2015}, std::chrono::January,
                                                               std::chrono::day{1}};
  too_young.resident.marital_status = MaritalStatus::kBelumKawin;
  auth.find("idempotency-key")->second = "counter-3-application-0003";
  auto young = (*client)->PostMultipart(
      "/api/v1/enrollments",
      EnrollmentParts(too_young, {{"kind", "first_card"}, {"resident", ResidentToJson(too_young.resident)}}), auth);
  ASSERT_TRUE(young.ok());
  ASSERT_EQ(young->status, 409) << young->body;
  EXPECT_EQ(nlohmann::json::parse(young->body)["field"], "birth_date") << young->body;

  parts[3].content.resize(20);
  auth.find("idempotency-key")->second = "counter-3-application-0002";
  auto bad = (*client)->PostMultipart("/api/v1/enrollments", parts, auth);
  ASSERT_EQ(bad->status, 400);
  auto error = nlohmann::json::parse(bad->body);
  EXPECT_THAT(error["error"].get<std::string>(), HasSubstr("finger 2 (telunjuk kanan): template is unreadable"));
  EXPECT_THAT(error["pesan"].get<std::string>(), HasSubstr("Data belum benar"));

  auto outbox = (*client)->Get("/api/v1/outbox?state=pending", auth);
  ASSERT_EQ(outbox->status, 200);
  EXPECT_EQ(nlohmann::json::parse(outbox->body)["entries"].size(), 1u);
  EXPECT_EQ((*client)->Get("/api/v1/outbox", {})->status, 401);
  (*server)->Stop();
}

TEST_F(StationTest, CentralsBrowserReachableRoutesAreGuardedAlike) {
  net::HttpClientOptions options;
  std::ifstream in(dir_ + "/station/central-cert.pem");
  options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
  auto client = net::HttpClient::Create(central_->base_url(), options);
  ASSERT_TRUE(client.ok());
  const std::string body = R"({"token": "x", "public_key": "AAAA"})";
  auto cross = (*client)->Post("/api/v1/stations/register", body, "application/json",
                               {{"origin", "https://evil.example"}});
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross->status, 403);
  EXPECT_THAT(cross->body, HasSubstr("cross-origin request refused"));
  auto form = (*client)->Post("/api/v1/stations/register", body, "text/plain");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->status, 415);
  EXPECT_THAT(form->body, HasSubstr("Content-Type must be application/json"));
  auto rebound = (*client)->Get("/api/v1/status?nik=3521010101010001&receipt=ST-1",
                                {{"host", "evil.example:" + std::to_string(central_->port())}});
  ASSERT_TRUE(rebound.ok());
  EXPECT_EQ(rebound->status, 403);
  EXPECT_THAT(rebound->body, HasSubstr("Host header names a host this server does not serve"));
  auto own = (*client)->Get("/api/v1/status?nik=3521010101010001&receipt=ST-1",
                            {{"origin", central_->base_url()}});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->status, 200) << own->body;
  // A name in central's certificate (`central init --hostname`) is served without --served-host.
  auto certified = (*client)->Get("/api/v1/status?nik=3521010101010001&receipt=ST-1",
                                  {{"host", "central.example:" + std::to_string(central_->port())}});
  ASSERT_TRUE(certified.ok());
  EXPECT_EQ(certified->status, 200) << certified->body;
}

// Login and enrollment hardening (issue 11, items 6 and 9).

class StationLoginTest : public StationTest {
 protected:
  // A station whose password checks are counted, with the policy under test.
  Station& Counted(LoginPolicy policy = {}) {
    policy.strength = crypto::PasswordStrength::kFast;
    policy.verify_password = [this](std::string_view hash, std::string_view password) {
      verified_hashes_.push_back(std::string(hash));
      return crypto::VerifyPassword(hash, password);
    };
    counted_ = std::make_unique<Station>(*station_db_, clock_, *key_, identity_, policy);
    return *counted_;
  }

  int64_t AuditCount(const std::string& where) {
    auto rows = station_db_->Query("SELECT COUNT(*) FROM audit WHERE " + where);
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  std::vector<std::string> verified_hashes_;
  std::unique_ptr<Station> counted_;
};

TEST_F(StationLoginTest, WrongPasswordsBackOffAndRefuseEvenTheRightOne) {
  Station& station = Counted();
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(station.Login("ani", "salah-" + std::to_string(i), "10.0.0.7"),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong username or password")));
  }
  // The fifth failure blocks the account for first_delay (30 s), right password or not.
  EXPECT_THAT(station.Login("ani", "kata-sandi-1", "10.0.0.8"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("retry after 30 s")));
  clock_.Advance(seconds(29));
  EXPECT_THAT(station.Login("ani", "kata-sandi-1", "10.0.0.8"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("retry after 1 s")));
  clock_.Advance(seconds(1));
  // The sixth failure doubles the delay.
  EXPECT_THAT(station.Login("ani", "salah-lagi", "10.0.0.7"), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_THAT(station.Login("ani", "kata-sandi-1", "10.0.0.8"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("retry after 60 s")));
  // 100 more guesses while blocked: none is verified.
  const size_t verified_before = verified_hashes_.size();
  for (int i = 0; i < 100; ++i) {
    EXPECT_THAT(station.Login("ani", "tebak-" + std::to_string(i), "10.0.0.9"),
                StatusIs(StatusCode::kResourceExhausted, ::testing::_));
  }
  EXPECT_EQ(verified_hashes_.size(), verified_before);
  clock_.Advance(seconds(60));
  auto token = station.Login("ani", "kata-sandi-1", "10.0.0.8");
  ASSERT_OK(token.status());
  // Success clears the account's counter: five more failures before back-off again.
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(station.Login("ani", "salah", "10.0.0.7"), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  }
  ASSERT_OK(station.Login("ani", "kata-sandi-1", "10.0.0.8").status());
}

TEST_F(StationLoginTest, ManyUsernamesFromOneAddressBackOffThatAddress) {
  Station& station = Counted();
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(station.Login("user" + std::to_string(i), "salah-sekali", "10.0.0.66"),
                StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  }
  EXPECT_THAT(station.Login("ani", "kata-sandi-1", "10.0.0.66"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("retry after 30 s")));
  ASSERT_OK(station.Login("ani", "kata-sandi-1", "10.0.0.67").status());
  // The counters are in the database: a restarted station keeps them.
  Station restarted(*station_db_, clock_, *key_, identity_, {});
  EXPECT_THAT(restarted.Login("ani", "kata-sandi-1", "10.0.0.66"),
              StatusIs(StatusCode::kResourceExhausted, ::testing::_));
}

TEST_F(StationLoginTest, FailedLoginsAreAuditedWithoutThePassword) {
  Station& station = Counted();
  EXPECT_FALSE(station.Login("ani", "rahasia-salah-1", "10.0.0.7").ok());
  EXPECT_FALSE(station.Login("rahasia-di-kolom-nama", "rahasia-salah-2", "10.0.0.7").ok());
  EXPECT_EQ(AuditCount("action = 'login_failed' AND operator = 'ani' AND subject = 'from 10.0.0.7'"), 1);
  EXPECT_EQ(AuditCount("action = 'login_failed' AND operator = '' AND subject = 'from 10.0.0.7; unknown username'"),
            1);
  EXPECT_EQ(AuditCount("operator || action || subject LIKE '%rahasia%'"), 0);
  ASSERT_OK(station.Login("ani", "kata-sandi-1", "10.0.0.7").status());
  EXPECT_EQ(AuditCount("action = 'login' AND operator = 'ani'"), 1);
}

TEST_F(StationLoginTest, UnknownUsernameIsVerifiedAgainstADummyHash) {
  Station& station = Counted();
  EXPECT_THAT(station.Login("tidak.ada", "kata-sandi-1", "10.0.0.7"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong username or password")));
  ASSERT_EQ(verified_hashes_.size(), 1u);
  EXPECT_TRUE(verified_hashes_[0].starts_with("$argon2id$")) << verified_hashes_[0];
  EXPECT_THAT(station.Login("ani", "salah-sekali", "10.0.0.7"), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  ASSERT_EQ(verified_hashes_.size(), 2u);
  EXPECT_NE(verified_hashes_[1], verified_hashes_[0]);
  // The dummy has the operators' cost parameters (everything before the salt).
  auto params = [](const std::string& hash) { return hash.substr(0, hash.rfind('$', hash.rfind('$') - 1)); };
  EXPECT_EQ(params(verified_hashes_[0]), params(verified_hashes_[1]));
}

TEST_F(StationLoginTest, SessionExpiresAfterTwelveHoursAndLogoutRevokesIt) {
  Station& station = Counted();
  auto token = station.Login("ani", "kata-sandi-1", "10.0.0.7");
  ASSERT_OK(token.status());
  clock_.Advance(hours(12) - seconds(1));
  ASSERT_OK(station.Authenticate(*token).status());
  clock_.Advance(seconds(2));
  EXPECT_THAT(station.Authenticate(*token), StatusIs(StatusCode::kUnauthenticated, HasSubstr("session expired")));

  auto second = station.Login("ani", "kata-sandi-1", "10.0.0.7");
  ASSERT_OK(second.status());
  ASSERT_OK(station.Logout(*second));
  EXPECT_THAT(station.Authenticate(*second), StatusIs(StatusCode::kUnauthenticated, HasSubstr("not logged in")));
  EXPECT_THAT(station.Logout(*second), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_EQ(AuditCount("action = 'logout' AND operator = 'ani'"), 1);
}

TEST_F(StationLoginTest, RetriedEnrollmentWithTheSameKeyReturnsTheFirstReceipt) {
  EnrollmentRequest request = Request();
  auto first = station_->Enroll(ani_, request, "counter-3-application-0001");
  ASSERT_OK(first.status());
  EXPECT_FALSE(first->replayed);
  clock_.Advance(minutes(5));
  auto retry = station_->Enroll(ani_, request, "counter-3-application-0001");
  ASSERT_OK(retry.status());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->registration_number, first->registration_number);
  EXPECT_EQ(retry->captured_at, first->captured_at);
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 1);

  EXPECT_THAT(station_->Enroll(ani_, Request(), "counter-3-application-0001"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("Idempotency-Key counter-3-application-0001 was already used for a different "
                                 "application")));
  EXPECT_THAT(station_->Enroll(ani_, Request(), "short"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Idempotency-Key must be 16-128 characters")));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 1);

  // Kept 30 days: after that the key is purged (at the next enrollment) and means nothing.
  clock_.Advance(kIdempotencyRetention + hours(1));
  ASSERT_OK(station_->Enroll(ani_, Request(), "counter-3-application-0002").status());
  auto late = station_->Enroll(ani_, request, "counter-3-application-0001");
  ASSERT_OK(late.status());
  EXPECT_FALSE(late->replayed);
  EXPECT_NE(late->registration_number, first->registration_number);
}

class StationApiGuardTest : public StationLoginTest {
 protected:
  void StartServer(LoginPolicy policy) {
    ASSERT_OK(station_->AddOperator({"budi", "Budi Santoso", Role::kOperator}, "kata-sandi-2",
                                    crypto::PasswordStrength::kFast));
    StationOptions options;
    options.data_dir = dir_ + "/station";
    options.run_sync = false;
    options.served_hosts = {"stasiun.kecamatan.test"};
    policy.strength = crypto::PasswordStrength::kFast;
    options.login = std::move(policy);
    auto server = StationServer::Create(options, clock_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_OK(server_->Start());
    net::HttpClientOptions client_options;
    client_options.read_timeout = seconds(5);
    auto client = net::HttpClient::Create(server_->base_url(), client_options);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    StationLoginTest::TearDown();
  }

  net::HttpResponse PostLogin(const std::string& username, const std::string& password, net::HttpHeaders headers = {},
                              const std::string& content_type = "application/json") {
    auto response = client_->Post("/api/v1/login",
                                  nlohmann::json{{"username", username}, {"password", password}}.dump(), content_type,
                                  headers);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : net::HttpResponse{};
  }

  std::string Token(const net::HttpResponse& login) {
    auto json = nlohmann::json::parse(login.body, nullptr, false);
    return json.is_object() ? json.value("token", "") : "";
  }

  std::unique_ptr<StationServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(StationApiGuardTest, BackOffIsAnswered429WithRetryAfterAndLogoutRevokes) {
  StartServer({});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PostLogin("ani", "salah-sekali").status, 401);
  auto refused = PostLogin("ani", "kata-sandi-1");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("retry-after"), "30");
  EXPECT_THAT(refused.body, HasSubstr("Terlalu banyak percobaan masuk yang gagal. Tunggu 30 detik"));

  auto login = PostLogin("budi", "kata-sandi-2");
  ASSERT_EQ(login.status, 200) << login.body;
  net::HttpHeaders auth = {{"authorization", "Bearer " + Token(login)}};
  EXPECT_EQ(client_->Get("/api/v1/outbox", auth)->status, 200);
  auto logout = client_->Post("/api/v1/logout", "", "", auth);
  ASSERT_TRUE(logout.ok());
  EXPECT_EQ(logout->status, 200) << logout->body;
  EXPECT_EQ(client_->Get("/api/v1/outbox", auth)->status, 401);
  EXPECT_EQ(client_->Post("/api/v1/logout", "", "", auth)->status, 401);
}

TEST_F(StationApiGuardTest, CrossOriginWrongHostAndWrongContentTypeAreRefused) {
  StartServer({});
  auto cross = PostLogin("ani", "kata-sandi-1", {{"origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_THAT(cross.body, HasSubstr("cross-origin request refused"));
  auto form = PostLogin("ani", "kata-sandi-1", {}, "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415);
  EXPECT_THAT(form.body, HasSubstr("Content-Type must be application/json"));
  auto rebound = PostLogin("ani", "kata-sandi-1", {{"host", "evil.example:" + std::to_string(server_->port())}});
  EXPECT_EQ(rebound.status, 403);
  EXPECT_THAT(rebound.body, HasSubstr("Host header names a host this server does not serve"));
  EXPECT_EQ(AuditCount("action LIKE 'login%'"), 0) << "a refused request reached the login";

  const std::string own = "stasiun.kecamatan.test:" + std::to_string(server_->port());
  auto same_origin = PostLogin("ani", "kata-sandi-1", {{"host", own}, {"origin", "http://" + own}});
  ASSERT_EQ(same_origin.status, 200) << same_origin.body;
  net::HttpHeaders auth = {{"authorization", "Bearer " + Token(same_origin)}, {"origin", "https://evil.example"}};
  auto enroll = client_->PostMultipart("/api/v1/enrollments", {{"application", "", "application/json", "{}"}}, auth);
  ASSERT_TRUE(enroll.ok());
  EXPECT_EQ(enroll->status, 403);
  auto as_json = client_->Post("/api/v1/enrollments", "{}", "application/json",
                               {{"authorization", "Bearer " + Token(same_origin)}});
  ASSERT_TRUE(as_json.ok());
  EXPECT_EQ(as_json->status, 415);
  EXPECT_THAT(as_json->body, HasSubstr("Content-Type must be multipart/form-data"));
}

TEST_F(StationApiGuardTest, OtherOperatorsAreServedWhileALoginHashes) {
  std::promise<void> entered;
  std::shared_future<void> release_future;
  std::promise<void> release;
  release_future = release.get_future().share();
  LoginPolicy policy;
  policy.verify_password = [&](std::string_view hash, std::string_view password) {
    if (password == "tunggu-dulu-1") {
      entered.set_value();
      release_future.wait();
    }
    return crypto::VerifyPassword(hash, password);
  };
  StartServer(policy);
  auto login = PostLogin("budi", "kata-sandi-2");
  ASSERT_EQ(login.status, 200);
  net::HttpHeaders auth = {{"authorization", "Bearer " + Token(login)}};

  std::thread slow([&] {
    auto other = net::HttpClient::Create(server_->base_url(), {});
    if (other.ok()) {
      (void)(*other)->Post("/api/v1/login", R"({"username":"ani","password":"tunggu-dulu-1"})", "application/json");
    }
  });
  entered.get_future().wait();
  // The login is inside its password check now. The bound is generous: the
  // request needs milliseconds; under the station-wide lock it would wait forever.
  const auto start = steady_clock::now();
  auto outbox = client_->Get("/api/v1/outbox", auth);
  const auto took = steady_clock::now() - start;
  release.set_value();
  slow.join();
  ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
  EXPECT_EQ(outbox->status, 200);
  EXPECT_LT(took, seconds(2));
}

// Issue 11, items 3 and 7 over HTTP: accented Latin names are accepted, other
// input gets a 400 naming the problem (never a 500), and nothing is stored.
TEST_F(StationTest, EnrollmentInputIsWhatItClaimsToBe) {
  auto server = StartOperatorServer();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_TRUE(client.ok());
  auto login = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"kata-sandi-1"})", "application/json");
  ASSERT_EQ(login->status, 200) << login->body;
  net::HttpHeaders auth = {{"authorization", "Bearer " + nlohmann::json::parse(login->body)["token"].get<std::string>()}};

  EnrollmentRequest request = Request();
  auto as_string = [](const crypto::Bytes& b) { return std::string(b.begin(), b.end()); };
  auto parts_for = [&](const nlohmann::json& application) {
    return std::vector<net::MultipartPart>{
        {"application", "", "application/json", application.dump()},
        {"face", "face.jpg", "image/jpeg", as_string(request.biometrics.face_jpeg)},
        {"signature", "ttd.png", "image/png", as_string(request.biometrics.signature_image)},
        {"finger_2", "f2.iso", "application/octet-stream", as_string(request.biometrics.fingers[0].template_bytes)},
    };
  };
  auto application_with = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json application = {{"kind", "first_card"}, {"resident", ResidentToJson(request.resident)}};
    change(application);
    return application;
  };
  int application_count = 0;
  auto post = [&](const std::vector<net::MultipartPart>& parts) {
    net::HttpHeaders headers = auth;
    headers.emplace("idempotency-key", "input-test-application-" + std::to_string(++application_count));
    auto sent = (*client)->PostMultipart("/api/v1/enrollments", parts, headers);
    EXPECT_TRUE(sent.ok());
    return sent.ok() ? *sent : net::HttpResponse{};
  };
  auto error_of = [](const net::HttpResponse& response) {
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    return json.is_object() ? json.value("error", "") + " | " + json.value("pesan", "") : response.body;
  };

  for (const char* name : {"S\u00DATI NURHALIZA", "J\u00C9R\u00D4ME"}) {
    auto created = post(parts_for(application_with([&](auto& a) { a["resident"]["name"] = name; })));
    EXPECT_EQ(created.status, 201) << name << ": " << created.body;
  }
  ASSERT_EQ(*station_->CountOutbox(OutboxState::kPending), 2);

  struct Case {
    std::vector<net::MultipartPart> parts;
    std::string error;
  };
  std::vector<Case> cases;
  cases.push_back({parts_for(application_with([](auto& a) { a["resident"]["name"] = "\u0418\u0412\u0410\u041D"; })),
                   "name: character '\u0418' (U+0418) is not allowed"});
  cases.push_back({parts_for(application_with([](auto& a) { a["resident"]["address"]["street"] = "JL. \u202EMAWAR"; })),
                   "address.street: contains the invisible format character U+202E"});
  cases.push_back({parts_for(application_with([](auto& a) { a["resident"]["occupation"] = "GURU\u200B"; })),
                   "occupation: contains the invisible format character U+200B"});
  cases.push_back({parts_for(application_with([](auto& a) { a["resident"]["place_of_birth"] = "NGAWI\u0085"; })),
                   "place_of_birth: contains the control character U+0085"});
  cases.push_back({parts_for(application_with([](auto& a) { a["finger_exceptions"] = {{"11", "amputated"}}; })),
                   "application.finger_exceptions.11: finger position must be 1 to 10"});
  cases.push_back({parts_for(application_with([](auto& a) { a["priority"] = "urgent"; })),
                   "application.priority is not a known field"});
  cases.push_back({parts_for(application_with([](auto& a) { a["resident"]["nickname"] = "SARI"; })),
                   "resident.nickname: unknown field"});
  auto twice = parts_for(application_with([](auto&) {}));
  twice.push_back(twice[0]);
  cases.push_back({twice, "part 'application' is given more than once"});
  twice = parts_for(application_with([](auto&) {}));
  twice.push_back({"finger_2", "f2b.iso", "application/octet-stream", twice[3].content});
  cases.push_back({twice, "part 'finger_2' is given more than once"});
  auto unknown = parts_for(application_with([](auto&) {}));
  unknown.push_back({"finger_11", "f11.iso", "application/octet-stream", unknown[3].content});
  cases.push_back({unknown, "part 'finger_11' is not one of application, face, signature, finger_1..finger_10"});
  auto fake = parts_for(application_with([](auto&) {}));
  fake[1].content = std::string("\xFF\xD8<script>not a photo</script>\xFF\xD9");
  cases.push_back({fake, "face photo: not a readable JPEG image ("});
  for (const Case& c : cases) {
    auto refused = post(c.parts);
    EXPECT_EQ(refused.status, 400) << c.error << ": " << refused.body;
    EXPECT_THAT(error_of(refused), HasSubstr(c.error));
    EXPECT_THAT(error_of(refused), HasSubstr("Data belum benar"));
  }
  // A refused resident field is said to the operator in Bahasa Indonesia with
  // the form's label (core/refusal_pesan.h), the English only in `error`.
  const std::pair<std::function<void(nlohmann::json&)>, std::string> kSaid[] = {
      {[](auto& a) { a["resident"]["place_of_birth"] = ""; }, "Data belum benar: Tempat lahir wajib diisi."},
      {[](auto& a) { a["resident"]["address"]["rt"] = 1000; }, "Data belum benar: RT harus angka 1 sampai 999."},
      {[](auto& a) { a["resident"]["name"] = "\u0418\u0412\u0410\u041D"; },
       "Data belum benar: Nama lengkap tidak boleh berisi karakter '\u0418'."},
  };
  for (const auto& [change, pesan] : kSaid) {
    auto refused = post(parts_for(application_with(change)));
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_THAT(nlohmann::json::parse(refused.body).value("pesan", ""), ::testing::StartsWith(pesan));
  }
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 2);
  (*server)->Stop();
}

// A central that is not central: a real HTTP server on loopback that answers
// in central's format. Nothing it says settles a packet or moves the feed.
class FakeCentralTest : public StationTest {
 protected:
  enum class Lie {
    kUnsigned,          // "accepted", with no valid signature
    kReplayed,          // signed by central's key, but for another request
    kOtherPacket,       // signed by central's key for this request, about other content
  };

  void SetUp() override {
    StationTest::SetUp();
    auto keys = central::LoadCentralKeys(central_options_.data_dir);
    ASSERT_OK(keys.status());
    central_keys_ = std::make_unique<central::CentralKeys>(std::move(*keys));
    fake_.Handle("POST", "/api/v1/sync/up", [this](const net::HttpRequest& request) {
      ++uploads_;
      auto packets = sync::ParseUploadBody(request.body);
      if (!packets.ok()) return net::HttpResponse::JsonError(400, packets.status().message());
      sync::UploadResponse answer;
      for (const sync::Packet& packet : *packets) {
        int64_t sequence = sync::ParseEnvelope(packet.envelope_text)->sequence;
        answer.results.push_back({sequence, sync::Verdict::kAccepted, "",
                                  lie_ == Lie::kOtherPacket ? std::string(64, 'a') : packet.ContentHash()});
        answer.cursor = sequence;
      }
      if (lie_ == Lie::kUnsigned) {
        answer.signature = crypto::Bytes(64, 0);
      } else {
        std::string request_signature = lie_ == Lie::kReplayed ? "a-recorded-request" : request.header("x-ektp-signature");
        sync::SignUploadResponse(central_keys_->signing, identity_.station_id, request_signature, answer);
      }
      return net::HttpResponse::Json(200, sync::UploadResponseToJson(answer).dump());
    });
    fake_.Handle("GET", "/api/v1/sync/down", [this](const net::HttpRequest&) {
      // A genuine item (central's own signature over its body) in a page
      // signed for another request: a replay of a recorded answer.
      std::string body = R"({"registration_number":")" + identity_.station_id +
                         R"(-000001","state":"print_ready","reason":""})";
      sync::FeedPage page{{{7, "record_status", body, central_keys_->signing.Sign(body)}}, {}};
      sync::SignFeedPage(central_keys_->signing, identity_.station_id, "a-recorded-request", page);
      return net::HttpResponse::Json(200, sync::FeedPageToJson(page).dump());
    });
    ASSERT_OK(fake_.Start());
    Identity faked = identity_;
    faked.central_urls = {fake_.base_url()};
    faked_station_ = std::make_unique<Station>(*station_db_, clock_, *key_, faked);
  }

  void TearDown() override {
    fake_.Stop();
    StationTest::TearDown();
  }

  Status SyncWithFake(bool allow_plain_http = true) {
    SyncOptions options;
    options.allow_plain_http = allow_plain_http;
    SyncClient sync(*faked_station_, clock_, random_, *key_, options);
    return sync.SyncOnce();
  }

  std::unique_ptr<central::CentralKeys> central_keys_;
  net::HttpServer fake_{net::HttpServerOptions{}};
  std::atomic<int> uploads_{0};
  Lie lie_ = Lie::kUnsigned;
  std::unique_ptr<Station> faked_station_;
};

TEST_F(FakeCentralTest, PlainHttpCentralIsRefusedWithoutTheDevelopmentFlag) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  EXPECT_THAT(SyncWithFake(false), StatusIs(StatusCode::kFailedPrecondition,
                                            HasSubstr("is plain HTTP; use https:// (plain HTTP needs the development "
                                                      "flag --insecure-plain-http)")));
  EXPECT_EQ(uploads_, 0);
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 1);
}

TEST_F(FakeCentralTest, AcceptedFromAFakeCentralLeavesEveryPacketPending) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(station_->Enroll(ani_, Request()).status());
  lie_ = Lie::kUnsigned;
  EXPECT_THAT(SyncWithFake(), StatusIs(StatusCode::kUnauthenticated,
                                       HasSubstr("the upload answer is not signed by central for this request")));
  lie_ = Lie::kReplayed;
  EXPECT_THAT(SyncWithFake(), StatusIs(StatusCode::kUnauthenticated,
                                       HasSubstr("the upload answer is not signed by central for this request")));
  lie_ = Lie::kOtherPacket;
  EXPECT_THAT(SyncWithFake(), StatusIs(StatusCode::kUnauthenticated,
                                       HasSubstr("the verdict for sequence 1 is for content sha256 aaaaaaaaaaaa")));
  EXPECT_EQ(uploads_, 3);
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), 3);
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kAcked), 0);
  auto entries = station_->Outbox(OutboxState::kPending, 10);
  ASSERT_OK(entries);
  EXPECT_EQ((*entries)[0].attempts, 3);
  EXPECT_THAT((*entries)[0].last_error, HasSubstr("is for content sha256"));

  // The real central still gets and acknowledges every packet.
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kAcked), 3);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 3);
}

TEST_F(FakeCentralTest, ReplayedFeedPageAppliesNothing) {
  auto receipt = station_->Enroll(ani_, Request());
  ASSERT_OK(receipt.status());
  ASSERT_OK(sync_->SyncOnce());
  ASSERT_OK(station_->FeedCursor());
  int64_t cursor = *station_->FeedCursor();
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(receipt->registration_number)), "validated");
  EXPECT_THAT(SyncWithFake(), StatusIs(StatusCode::kUnauthenticated,
                                       HasSubstr("the feed page is not signed by central for this request")));
  EXPECT_EQ(*station_->FeedCursor(), cursor);
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(receipt->registration_number)), "validated");
  EXPECT_TRUE(station_->RefusedFeedItems()->empty());
}

// An item in central's feed that central's key did not sign (someone wrote
// central's database): central serves it in a genuine page; the station
// refuses it, keeps it as refused with the reason, and moves on.
TEST_F(StationTest, ForgedFeedItemIsRefusedKeptWithItsReasonAndNotFetchedAgain) {
  auto receipt = station_->Enroll(ani_, Request());
  ASSERT_OK(receipt.status());
  ASSERT_OK(sync_->SyncOnce());
  ASSERT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(receipt->registration_number)), "validated");
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  std::string forged = R"({"registration_number":")" + receipt->registration_number +
                       R"(","state":"print_ready","reason":"","nik":"3521010101900001"})";
  std::string genuine = R"({"registration_number":")" + receipt->registration_number +
                        R"(","state":"dedupe_pending","reason":""})";
  for (const auto& [body, signature] : {std::pair{forged, crypto::SigningKey::Generate().Sign(forged)},
                                        std::pair{genuine, keys->signing.Sign(genuine)}}) {
    ASSERT_OK(central_db_->Exec("INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES "
                                "(?, 'record_status', ?, ?, '2026-11-24T02:00:00Z')",
                                {identity_.station_id, body, signature}));
  }
  auto ids = central_db_->Query("SELECT MAX(id) FROM feed");
  ASSERT_OK(ids);
  const int64_t last = (*ids)[0].Int(0);

  ASSERT_OK(sync_->SyncOnce());
  auto status = station_->GetEnrollmentStatus(receipt->registration_number);
  EXPECT_EQ(EnrollmentStatusName(*status), "dedupe_pending");  // the genuine item after it applied
  EXPECT_EQ(status->nik, "");                   // the forged one did not
  auto refused = station_->RefusedFeedItems();
  ASSERT_OK(refused);
  ASSERT_EQ(refused->size(), 1u);
  EXPECT_EQ((*refused)[0].feed_id, last - 1);
  EXPECT_EQ((*refused)[0].kind, "record_status");
  EXPECT_EQ((*refused)[0].reason, "feed item " + std::to_string(last - 1) +
                                      " (record_status) is not signed by central's key; it was not applied");
  EXPECT_EQ(*station_->FeedCursor(), last);
  // The next pass asks after it and succeeds: no retry loop.
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(station_->RefusedFeedItems()->size(), 1u);
}

// During a rolling upgrade central may send kinds or versions this station
// does not know. Each is kept with its reason, shown in the sync status, and
// never stops the feed; a later version applies what it has learned to read.
TEST_F(StationTest, FeedItemsFromANewerCentralAreKeptShownAndAppliedAfterAnUpgrade) {
  auto receipt = station_->Enroll(ani_, Request());
  ASSERT_OK(receipt.status());
  ASSERT_OK(sync_->SyncOnce());
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  const std::string reg = receipt->registration_number;
  const std::pair<std::string, std::string> items[] = {
      {"suket_revoked", R"({"v":1,"suket":"x"})"},
      {"record_status", R"({"v":2,"registration_number":")" + reg + R"(","state":"printed"})"},
      {"record_status", R"({"registration_number":")" + reg + R"(","state":17})"},
      {"record_status", R"({"v":1,"registration_number":")" + reg + R"(","state":"dedupe_pending","reason":""})"},
  };
  for (const auto& [kind, body] : items) {
    ASSERT_OK(central_db_->Exec("INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES "
                                "(?, ?, ?, ?, '2026-11-24T02:00:00Z')",
                                {identity_.station_id, kind, body, keys->signing.Sign(body)}));
  }
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(reg)), "dedupe_pending");
  auto refused = station_->RefusedFeedItems();
  ASSERT_OK(refused.status());
  ASSERT_EQ(refused->size(), 3u);
  EXPECT_EQ((*refused)[0].code, "UNIMPLEMENTED");
  EXPECT_THAT((*refused)[0].reason, HasSubstr("(suket_revoked): feed item kind 'suket_revoked' is not known"));
  EXPECT_EQ((*refused)[1].code, "UNIMPLEMENTED");
  EXPECT_THAT((*refused)[1].reason, HasSubstr("version 2 is newer than this version of ektp reads (1)"));
  EXPECT_EQ((*refused)[2].code, "INVALID_ARGUMENT");
  EXPECT_THAT((*refused)[2].reason, HasSubstr("body field 'state' must be a string"));
  EXPECT_EQ(*station_->RetryKeptFeedItems(), 0);  // this build still cannot read them

  // An item an older station version kept, in a kind this version reads.
  const std::string learned = R"({"registration_number":")" + reg + R"(","state":"print_ready","nik":"3521014107090001"})";
  ASSERT_OK(station_db_->Exec("INSERT INTO feed_applied (feed_id, kind, applied_at, refused_reason, refused_code, body, "
                              "signature) VALUES (100000, 'record_status', 't', 'not known', 'UNIMPLEMENTED', ?, ?)",
                              {learned, keys->signing.Sign(learned)}));
  EXPECT_EQ(*station_->RetryKeptFeedItems(), 1);
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(reg)), "print_ready");
  EXPECT_EQ(station_->GetEnrollmentStatus(reg)->nik, "3521014107090001");
  EXPECT_EQ(station_->RefusedFeedItems()->size(), 3u);

  // The operator sees what was kept, and why.
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  auto login = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"kata-sandi-1"})", "application/json");
  ASSERT_OK(login.status());
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string token = nlohmann::json::parse(login->body)["token"];
  auto status = (*client)->Get("/api/v1/sync/status", {{"authorization", "Bearer " + token}});
  ASSERT_OK(status.status());
  auto shown = nlohmann::json::parse(status->body)["refused_feed_items"];
  ASSERT_EQ(shown.size(), 3u);
  EXPECT_EQ(shown[0]["kind"], "suket_revoked");
  EXPECT_EQ(shown[0]["code"], "UNIMPLEMENTED");
  EXPECT_THAT(shown[2]["reason"].get<std::string>(), HasSubstr("must be a string"));
}

TEST_F(StationTest, SyncDownRefusesBadCursorAndLimitByNameAndAChangedQuery) {
  auto client = net::HttpClient::Create(central_->base_url(), [&] {
    net::HttpClientOptions options;
    std::ifstream in(dir_ + "/station/central-cert.pem");
    options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
    return options;
  }());
  ASSERT_OK(client.status());
  auto get = [&](const std::string& signed_target, const std::string& sent_target) {
    sync::RequestSignature signature =
        sync::SignRequest(*key_, identity_.station_id, "GET", signed_target, "", clock_.Now());
    auto response = (*client)->Get(sent_target, {{"x-ektp-station", signature.station_id},
                                                 {"x-ektp-timestamp", signature.timestamp},
                                                 {"x-ektp-signature", signature.signature_base64}});
    EXPECT_OK(response.status());
    return response.ok() ? *response : net::HttpResponse{};
  };
  EXPECT_EQ(get("/api/v1/sync/down?after=0&limit=5", "/api/v1/sync/down?after=0&limit=5").status, 200);
  const std::pair<std::string, std::string> bad[] = {
      {"after=abc&limit=5", "query parameter 'after' must be a decimal integer"},
      {"after=-1&limit=5", "query parameter 'after' must be a decimal integer"},
      {"after=%2B1&limit=5", "query parameter 'after' must be a decimal integer"},
      {"after=1x&limit=5", "query parameter 'after' must be a decimal integer"},
      {"after=99999999999999999999&limit=5", "query parameter 'after' is out of range"},
      {"after=0&limit=0", "query parameter 'limit' is out of range (an integer from 1 to 500)"},
      {"after=0&limit=501", "query parameter 'limit' is out of range"},
      {"after=0&limit=", "query parameter 'limit' must be a decimal integer"},
      {"after=0&after=1", "query parameter 'after' is given more than once"},
  };
  for (const auto& [query, error] : bad) {
    net::HttpResponse response = get("/api/v1/sync/down?" + query, "/api/v1/sync/down?" + query);
    EXPECT_EQ(response.status, 400) << query << ": " << response.body;
    EXPECT_THAT(response.body, HasSubstr(error)) << query;
  }
  // A query changed after signing (a proxy rewinding the cursor) is refused.
  net::HttpResponse moved = get("/api/v1/sync/down?after=9&limit=5", "/api/v1/sync/down?after=0&limit=5");
  EXPECT_EQ(moved.status, 401);
  EXPECT_THAT(moved.body, HasSubstr("request signature does not verify for GET /api/v1/sync/down?after=0&limit=5"));
}

// Central's signed audit checkpoints reach the station, which keeps them; a
// checkpoint whose own signature is not central's is refused.
TEST_F(StationTest, AuditCheckpointsReachTheStationAndAreKept) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(sync_->SyncOnce());
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  auto published = central::PublishAuditCheckpoint(*central_db_, clock_, keys->signing);
  ASSERT_OK(published.status());
  EXPECT_EQ(published->seq, CentralCount("SELECT seq FROM audit_head"));
  EXPECT_GE(published->seq, 2);  // at least the record's two transitions
  store::AuditCheckpoint forged = *published;
  forged.signature = crypto::SigningKey::Generate().Sign(store::AuditCheckpointSignedText(forged));
  std::string body = store::AuditCheckpointToJson(forged).dump();
  ASSERT_OK(central_db_->Exec("INSERT INTO feed (station_id, kind, body, signature, created_at) VALUES "
                              "(?, 'audit_checkpoint', ?, ?, '2026-11-24T02:00:00Z')",
                              {identity_.station_id, body, keys->signing.Sign(body)}));
  ASSERT_OK(sync_->SyncOnce());
  auto kept = station_->AuditCheckpoints();
  ASSERT_OK(kept.status());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].seq, published->seq);
  EXPECT_EQ((*kept)[0].hash, published->hash);
  EXPECT_OK(store::VerifyAuditCheckpoint((*kept)[0], identity_.central_signing_key));
  auto refused = station_->RefusedFeedItems();
  ASSERT_EQ(refused->size(), 1u);
  EXPECT_THAT((*refused)[0].reason,
              HasSubstr("(audit_checkpoint): audit checkpoint of entry " + std::to_string(published->seq) + " signed at"));
  EXPECT_THAT((*refused)[0].reason, HasSubstr("is not signed by central's key"));
  auto verified = store::AuditLog(*central_db_, clock_).Verify(*kept);
  ASSERT_OK(verified.status());
  EXPECT_TRUE(verified->intact) << verified->problem;
  EXPECT_EQ(verified->checkpoints, 1);
}

}  // namespace
}  // namespace ektp::station

namespace ektp::station {
namespace {

TEST(OutboxStateTest, NamesRoundTripAndAnUnknownNameIsRefused) {
  for (OutboxState state : kAllOutboxStates) EXPECT_EQ(*ParseOutboxState(OutboxStateName(state)), state);
  EXPECT_THAT(ParseOutboxState("sent"),
              ::ektp::testing::StatusIs(StatusCode::kInvalidArgument,
                                        "outbox state 'sent' is not pending, acked, parked or awaiting_review"));
}

}  // namespace
}  // namespace ektp::station
