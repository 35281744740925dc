// Print station crashes: kill -9 the station process at seeded random moments
// while its print officer prints a batch, with central unreachable the whole
// time. Every job is printed exactly once, on its own blank; a card cut off
// mid-print resumes on the blank it had; the spool holds each card once,
// whole; and one card_printed packet per card waits in the outbox.
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "card/testing.h"
#include "central/server.h"
#include "core/nik.h"
#include "core/status_matchers.h"
#include "harness.h"
#include "station/server.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;

constexpr int kJobs = 80;
// Rounds that end in a kill -9; the round after them prints what is left.
constexpr int kKillRounds = 12;
// Cards a kill round prints at most before it waits the last few
// milliseconds to its kill (WaitToKill). With the card or two printed in
// that wait and the one the kill cuts, the kill rounds leave jobs for the
// last round however fast the machine is.
constexpr int kCardsPerKillRound = kJobs / kKillRounds - 4;
constexpr int64_t kFirstSerial = 5000001;

// The print jobs and blanks central's feed would bring, applied to the
// station's database before it serves: kJobs cards and kJobs + 6 blanks,
// which the admin confirms as received.
void GiveTheStationJobsAndBlanks(const std::string& central_dir, const std::string& station_dir) {
  auto keys = central::LoadCentralKeys(central_dir);
  ASSERT_OK(keys.status());
  auto files = station::OpenStationFiles(station_dir);
  ASSERT_OK(files.status());
  ASSERT_TRUE(files->box_key.has_value());
  station::Station station(*files->db, SystemClock::Instance(), files->key, files->identity);
  int64_t feed_id = 1;
  auto apply = [&](const sync::TypedFeedItem& typed) {
    const sync::FeedItem item = sync::SignFeedItem(typed, keys->signing);
    auto applied = station.ApplyFeedItem(feed_id++, item.kind, item.body, item.signature);
    ASSERT_OK(applied.status());
    ASSERT_OK(applied->refusal);
  };
  apply({sync::FeedKind::kBlanksHandedOver,
         sync::BlanksHandedOverBody{kFirstSerial, kFirstSerial + kJobs + 5, "2026-12-06T01:00:00Z"}});
  for (int job = 1; job <= kJobs; ++job) {
    card::Card card = card::testing::SampleCard();
    Resident& resident = card.data.resident;
    resident.nik = FormatNik("35.21.01", resident.birth_date, resident.sex, job);
    card.data.registration_number = files->identity.station_id + "-" + std::to_string(100000 + job);
    auto chip = card::EncodeChip(card, keys->signing);
    ASSERT_OK(chip.status());
    const crypto::Bytes to_print = card::EncodeCardToPrint({*chip, card.face_jpeg, card.signature_image});
    apply({sync::FeedKind::kPrintJob,
           sync::PrintJobBody{job, card.data.registration_number, false, "2026-12-06T01:00:00Z",
                              crypto::Seal(files->box_key->public_key(), to_print), files->identity.station_id}});
  }
  const station::Operator admin{"admin", "Admin", station::Role::kAdmin};
  ASSERT_OK(station.ReceiveBlanks(admin, kFirstSerial, kFirstSerial + kJobs + 5).status());
}

TEST(FaultPrintCrash, KillNineMidBatchPrintsEachJobOnceOnItsOwnBlank) {
  Cluster cluster("print-crash");
  ASSERT_OK(cluster.InitCentral());
  std::string station_id;
  {
    auto central = cluster.StartCentral();
    ASSERT_OK(central.status());
    auto added = cluster.AddStation("printer", (*central)->url(), true, "enroll,print");
    ASSERT_OK(added.status());
    station_id = *added;
  }  // central is gone from here on: the station never reaches it
  GiveTheStationJobsAndBlanks(cluster.central_dir(), cluster.station_dir("printer"));
  const std::string spool = cluster.dir() + "/spool";
  const std::string unreachable = "https://127.0.0.1:9";

  SeededRandom random(Seed());
  Enroller enroller(Seed());
  std::set<std::string> answered_serials;  // serials the officer was told were printed
  std::atomic<int> printed{0};
  // The station answered that no job waits: a card whose answer a kill cut off was printed all the same.
  std::atomic<bool> batch_done{false};
  int kills = 0;
  for (int round = 0; !batch_done && printed < kJobs && round <= kKillRounds; ++round) {
    auto station = cluster.StartStation("printer", unreachable, Seed() + round, {"--print-output", spool});
    ASSERT_OK(station.status()) << "round " << round;
    auto counter = enroller.OpenCounter((*station)->url());
    ASSERT_OK(counter.status());
    const net::HttpHeaders auth = {{"authorization", "Bearer " + counter->session}};
    std::atomic<bool> stop{false}, stopped{false};
    std::string failure;
    const int round_start = printed;
    auto print = [&] {
      while (!stop.load() && printed < kJobs) {
        auto answer = counter->client->Post("/api/v1/print/next", "", "application/json", auth);
        if (!answer.ok()) return;  // cut by the kill
        if (answer->status == 404 && answer->body.find("no print job is waiting") != std::string::npos) {
          batch_done = true;
          return;
        }
        if (answer->status != 200) {
          failure = std::to_string(answer->status) + " " + answer->body;
          return;
        }
        const std::string serial = nlohmann::json::parse(answer->body)["serial"];
        if (!answered_serials.insert(serial).second) failure = "serial " + serial + " was answered twice";
        ++printed;
      }
    };
    std::thread officer([&] {
      print();
      stopped = true;
    });
    // Printing a card is mostly rendering it, so most kills land between taking a blank and
    // recording the card printed.
    if (round < kKillRounds) {
      WaitToKill(milliseconds(20 + random.Uniform(400) * TimeoutScale()), printed, round_start + kCardsPerKillRound,
                 stopped);
      // A few milliseconds more, so that the kill lands inside a request, not between two.
      std::this_thread::sleep_for(milliseconds(random.Uniform(30) * TimeoutScale()));
      (*station)->Kill();
      ++kills;
    } else {
      while (!batch_done && printed < kJobs && failure.empty()) std::this_thread::sleep_for(milliseconds(20));
    }
    stop = true;
    officer.join();
    ASSERT_EQ(failure, "") << "round " << round << "\n" << LogTail(cluster.log("printer"));
  }
  EXPECT_EQ(kills, kKillRounds);

  // The station's own record, after a last clean start to print what the kills left.
  auto files = station::OpenStationFiles(cluster.station_dir("printer"));
  ASSERT_OK(files.status());
  station::Station station(*files->db, SystemClock::Instance(), files->key, files->identity);
  const station::Operator admin{"admin", "Admin", station::Role::kAdmin};
  auto output = card::SpoolOutput(spool);
  while (true) {
    auto more = station.PrintNextCard(admin, *files->box_key, *output);
    if (!more.ok()) {
      ASSERT_EQ(more.status().code(), StatusCode::kNotFound) << more.status().ToString();
      break;
    }
  }
  auto jobs = station.PrintJobs();
  ASSERT_OK(jobs.status());
  ASSERT_EQ(jobs->size(), static_cast<size_t>(kJobs));
  std::set<int64_t> serials;
  for (const station::HeldPrintJob& job : *jobs) {
    EXPECT_EQ(job.state, station::HeldPrintJobState::kPrinted) << job.registration_number;
    EXPECT_TRUE(serials.insert(job.serial).second) << "serial " << job.serial << " printed twice";
  }
  // The blanks used are exactly those serials, the lowest ones, none lost in a crash.
  EXPECT_EQ(*serials.begin(), kFirstSerial);
  EXPECT_EQ(*serials.rbegin(), kFirstSerial + kJobs - 1);
  auto blanks = station.Blanks();
  ASSERT_OK(blanks.status());
  EXPECT_EQ(blanks->used, kJobs);
  EXPECT_EQ(blanks->on_hand, 6);
  // Each card is in the spool once, whole, and nothing else is.
  int folders = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spool)) {
    ++folders;
    const std::string serial = entry.path().filename();
    ASSERT_OK(blanks::ParseSerial(serial).status()) << serial;
    EXPECT_TRUE(serials.contains(*blanks::ParseSerial(serial))) << serial;
    for (const char* file : {"front.png", "back.png", "card.pdf", "chip.bin"}) {
      EXPECT_TRUE(std::filesystem::exists(entry.path() / file)) << serial << "/" << file;
    }
  }
  EXPECT_EQ(folders, kJobs);
  auto packets = files->db->Query("SELECT COUNT(*), COUNT(DISTINCT reference) FROM outbox WHERE kind = 'card_printed'");
  ASSERT_OK(packets.status());
  EXPECT_EQ((*packets)[0].Int(0), kJobs);
  EXPECT_EQ((*packets)[0].Int(1), kJobs);
  std::cout << "kills " << kills << ", cards answered " << answered_serials.size() << " of " << kJobs << "\n";
}

}  // namespace
}  // namespace ektp::fault
