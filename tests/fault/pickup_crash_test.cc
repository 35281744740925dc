// Hand-over crashes: kill -9 the collecting station at seeded random moments
// while an operator checks each resident's fingerprints and hands the card
// over, with central unreachable the whole time. No card is activated twice
// and none is lost: every card ends activated with exactly one card_activated
// packet in the outbox, and its templates deleted.
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "card/testing.h"
#include "central/server.h"
#include "core/nik.h"
#include "core/status_matchers.h"
#include "enrollment/testing.h"
#include "harness.h"
#include "station/server.h"

namespace ektp::fault {
namespace {

using namespace std::chrono;

constexpr int kCards = 200;
constexpr int kKillRounds = 8;
// Cards a kill round finishes at most before it waits the last few
// milliseconds to its kill (WaitToKill). With the two or so cards done in
// that wait and the one the kill cuts, the kill rounds leave cards for the
// last round however fast the machine is.
constexpr int kCardsPerKillRound = kCards / kKillRounds - 4;
constexpr int64_t kFirstSerial = 7000001;

// The cards central's feed would bring (dispatched here), applied to the
// station's database before it serves, and an operator to hand them over.
void GiveTheStationCardsToCollect(const std::string& central_dir, const std::string& station_dir) {
  auto keys = central::LoadCentralKeys(central_dir);
  ASSERT_OK(keys.status());
  auto files = station::OpenStationFiles(station_dir);
  ASSERT_OK(files.status());
  ASSERT_TRUE(files->box_key.has_value());
  station::Station station(*files->db, SystemClock::Instance(), files->key, files->identity);
  for (int i = 0; i < kCards; ++i) {
    card::Card card = card::testing::SampleCard();
    card.data.resident.nik = FormatNik("35.21.01", card.data.resident.birth_date, card.data.resident.sex, i + 1);
    card.data.registration_number = files->identity.station_id + "-" + std::to_string(200000 + i);
    auto chip = card::EncodeChip(card, keys->signing);
    ASSERT_OK(chip.status());
    const crypto::Bytes printed = card::EncodeCardToPrint({*chip, card.face_jpeg, card.signature_image});
    const sync::FeedItem item = sync::SignFeedItem(
        {sync::FeedKind::kCardToCollect,
         sync::CardToCollectBody{card.data.registration_number, kFirstSerial + i, "dispatch-print",
                                 "ST-PRINT", crypto::Seal(files->box_key->public_key(), printed)}},
        keys->signing);
    auto applied = station.ApplyFeedItem(i + 1, item.kind, item.body, item.signature);
    ASSERT_OK(applied.status());
    ASSERT_OK(applied->refusal);
  }
  ASSERT_OK(station.AddOperator({"ani", "Ani Rahayu", station::Role::kOperator}, "kata-sandi-1",
                                crypto::PasswordStrength::kFast));
}

TEST(FaultPickupCrash, KillNineBetweenCheckAndHandOverActivatesEachCardOnce) {
  Cluster cluster("pickup-crash");
  ASSERT_OK(cluster.InitCentral());
  {
    auto central = cluster.StartCentral();
    ASSERT_OK(central.status());
    ASSERT_OK(cluster.AddStation("kecamatan", (*central)->url(), true, "enroll").status());
  }  // central is gone from here on
  GiveTheStationCardsToCollect(cluster.central_dir(), cluster.station_dir("kecamatan"));
  // The holder's own fingers: other impressions of the chip's two fingers (card/testing.cc).
  const nlohmann::json holder = {
      {"fingers",
       {{{"position", 2}, {"template", crypto::Base64Encode(enrollment::testing::FvcTemplate(1, 101, 2))}},
        {{"position", 7}, {"template", crypto::Base64Encode(enrollment::testing::FvcTemplate(1, 102, 2))}}}}};

  SeededRandom random(Seed());
  std::set<int> answered;     // cards the operator was told were handed over
  std::atomic<int> next{0};   // the card the operator works on
  int kills = 0;
  for (int round = 0; next < kCards && round <= kKillRounds; ++round) {
    auto station = cluster.StartStation("kecamatan", "https://127.0.0.1:9", Seed() + round);
    ASSERT_OK(station.status()) << "round " << round;
    auto client = Enroller::Client((*station)->url());
    ASSERT_OK(client.status());
    auto login = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"kata-sandi-1"})", "application/json");
    ASSERT_TRUE(login.ok() && login->status == 200) << (login.ok() ? login->body : login.status().ToString());
    const net::HttpHeaders auth = {
        {"authorization", "Bearer " + nlohmann::json::parse(login->body)["token"].get<std::string>()}};
    std::atomic<bool> stop{false}, stopped{false};
    std::string failure;
    const int round_start = next;
    auto collect = [&] {
      while (!stop.load() && next < kCards) {
        const std::string serial = blanks::FormatSerial(kFirstSerial + next);
        auto check = (*client)->Post("/api/v1/pickup/cards/" + serial + "/check", holder.dump(), "application/json", auth);
        if (!check.ok()) return;  // cut by the kill
        const bool handed_over_before = check->status == 409 && check->body.find("was handed over") != std::string::npos;
        if (!handed_over_before) {
          if (check->status != 200 || !nlohmann::json::parse(check->body)["passed"].get<bool>()) {
            failure = "check of " + serial + ": " + std::to_string(check->status) + " " + check->body;
            return;
          }
          auto hand_over = (*client)->Post("/api/v1/pickup/cards/" + serial + "/hand-over", "{}", "application/json", auth);
          if (!hand_over.ok()) return;  // cut by the kill: activated or not, the next round finds out
          if (hand_over->status == 200) {
            answered.insert(next);
          } else if (hand_over->status != 409 || hand_over->body.find("was handed over") == std::string::npos) {
            failure = "hand-over of " + serial + ": " + std::to_string(hand_over->status) + " " + hand_over->body;
            return;
          }
        }
        ++next;
      }
    };
    std::thread counter([&] {
      collect();
      stopped = true;
    });
    if (round < kKillRounds) {
      WaitToKill(milliseconds(10 + random.Uniform(100) * TimeoutScale()), next, round_start + kCardsPerKillRound,
                 stopped);
      // A few milliseconds more, so that the kill lands inside a request, not between two.
      std::this_thread::sleep_for(milliseconds(random.Uniform(3) * TimeoutScale()));
      (*station)->Kill();
      ++kills;
    } else {
      while (next < kCards && failure.empty()) std::this_thread::sleep_for(milliseconds(20));
    }
    stop = true;
    counter.join();
    ASSERT_EQ(failure, "") << "round " << round << "\n" << LogTail(cluster.log("kecamatan"));
  }
  EXPECT_EQ(kills, kKillRounds);
  ASSERT_EQ(next.load(), kCards);

  auto files = station::OpenStationFiles(cluster.station_dir("kecamatan"));
  ASSERT_OK(files.status());
  auto cards = files->db->Query(
      "SELECT COUNT(*), SUM(CASE WHEN state = 'activated' THEN 1 ELSE 0 END), SUM(LENGTH(sealed_card)) "
      "FROM cards_to_collect");
  ASSERT_OK(cards.status());
  EXPECT_EQ((*cards)[0].Int(0), kCards);
  EXPECT_EQ((*cards)[0].Int(1), kCards);
  EXPECT_EQ((*cards)[0].Int(2), 0);  // no card's templates are kept once it is handed over
  auto packets = files->db->Query("SELECT COUNT(*), COUNT(DISTINCT reference) FROM outbox WHERE kind = 'card_activated'");
  ASSERT_OK(packets.status());
  EXPECT_EQ((*packets)[0].Int(0), kCards);
  EXPECT_EQ((*packets)[0].Int(1), kCards);
  std::cout << "kills " << kills << ", hand-overs answered " << answered.size() << " of " << kCards << "\n";
}

}  // namespace
}  // namespace ektp::fault
