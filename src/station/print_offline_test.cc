// A print station prints 500 cards with central unreachable the whole time,
// then reconnects: central's ledger is exact, every record is printed,
// nothing is printed twice. Labelled `slow` (about 500 renders): the dev
// pass runs it, the sanitizer pass leaves it out (scripts/test.sh).
#include <set>
#include <thread>

#include "bio/synth.h"
#include "bio/template.h"
#include "blanks/ledger.h"
#include "card/output.h"
#include "central/print_feed.h"
#include "station/station_test_fixture.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using namespace std::chrono;

constexpr int kCards = 500;
constexpr int64_t kBlanks = 520;

// A resident's own synthetic prints (index fingers), so the pipeline finds no duplicates.
enrollment::Biometrics Prints(const bio::SynthGenerator& synth, uint64_t subject, Random& random) {
  enrollment::Biometrics biometrics = enrollment::testing::SampleBiometrics(0, 2000, random);
  biometrics.fingers.clear();
  for (int finger : {2, 7}) {
    auto bytes = bio::EncodeTemplate(
        bio::SynthGenerator::ToRecord(synth.Impression(synth.Master(subject, finger), subject, finger, 1), finger));
    EXPECT_OK(bytes.status());
    biometrics.fingers.push_back(
        {finger, crypto::Bytes(bytes->begin(), bytes->end()), enrollment::FingerException::kNone});
  }
  return biometrics;
}

// Syncs until `done` or a minute passes.
template <typename Done>
void SyncUntil(SyncClient& sync, Done done) {
  const auto deadline = steady_clock::now() + minutes(1);
  while (!done() && steady_clock::now() < deadline) {
    ASSERT_OK(sync.SyncOnce());
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(done());
}

TEST_F(StationTest, FiveHundredCardsPrintOfflineAndCentralsLedgerIsExactAfterwards) {
  RestartCentral(/*run_pipeline=*/true);
  const bio::SynthGenerator synth(11);
  for (int subject = 0; subject < kCards; ++subject) {
    EnrollmentRequest request = Request();
    request.biometrics = Prints(synth, subject, random_);
    ASSERT_OK(station_->Enroll(ani_, request).status());
  }
  SyncUntil(*sync_, [&] { return CentralCount("SELECT COUNT(*) FROM records WHERE state = 'print_ready'") == kCards; });

  // 520 blanks reach the station and its officer confirms them; central sends all 500 jobs.
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  blanks::BlankLedger ledger(*central_db_, clock_);
  ASSERT_OK(ledger.StockIn({1, 1000}, "gudang.pusat"));
  ASSERT_OK(ledger.Ship("35.21", {1, kBlanks}, "gudang.pusat"));
  ASSERT_OK(central::HandOverBlanks(*central_db_, clock_, *keys, identity_.station_id, {1, kBlanks}, "dukcapil"));
  SyncUntil(*sync_, [&] { return station_->Blanks()->expected == kBlanks; });
  const Operator officer{"budi", "Budi Santoso", Role::kPrintOfficer};
  ASSERT_OK(station_->ReceiveBlanks(officer, 1, kBlanks).status());
  SyncUntil(*sync_, [&] { return station_->PrintJobs()->size() == static_cast<size_t>(kCards); });

  // Central goes away for the whole print run.
  central_->Stop();
  auto files = OpenStationFiles(dir_ + "/station");
  ASSERT_OK(files.status());
  auto spool = card::SpoolOutput(dir_ + "/spool");
  std::filesystem::create_directories(dir_ + "/spool");
  std::set<int64_t> serials;
  for (int printed = 0; printed < kCards; ++printed) {
    auto card = station_->PrintNextCard(officer, *files->box_key, *spool);
    ASSERT_OK(card.status()) << "card " << printed;
    ASSERT_TRUE(serials.insert(card->serial).second) << "serial " << card->serial << " printed twice";
  }
  EXPECT_THAT(station_->PrintNextCard(officer, *files->box_key, *spool),
              StatusIs(StatusCode::kNotFound, ::testing::HasSubstr("no print job is waiting")));
  EXPECT_THAT(sync_->SyncOnce(), StatusIs(StatusCode::kUnavailable, ::testing::_));
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kPending), kCards);

  // Back online: every card reaches central once, and its ledger and records agree.
  RestartCentral(/*run_pipeline=*/true);
  SyncUntil(*sync_, [&] { return *station_->CountOutbox(OutboxState::kPending) == 0; });
  EXPECT_EQ(*station_->CountOutbox(OutboxState::kParked), 0);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'printed'"), kCards);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM print_jobs WHERE state = 'printed'"), kCards);
  EXPECT_EQ(CentralCount("SELECT COUNT(DISTINCT record_id) FROM blank_uses WHERE kind = 'consumed'"), kCards);
  EXPECT_EQ(CentralCount("SELECT COUNT(DISTINCT serial) FROM blank_uses WHERE kind = 'consumed'"), kCards);
  auto reconciled = ledger.Reconcile("35.21");
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->shipped, kBlanks);
  EXPECT_EQ(reconciled->received, kBlanks);
  EXPECT_EQ(reconciled->printed, kCards);
  EXPECT_EQ(reconciled->on_hand.at_stations, kBlanks - kCards);
  EXPECT_TRUE(reconciled->discrepancies.empty());
  EXPECT_EQ(*ledger.OnHandAtStation(identity_.station_id), kBlanks - kCards);
}

}  // namespace
}  // namespace ektp::station
