// Sync by removable media (issue 19, item 1): a station with no link exports
// its outbox to a folder, central imports it, and the receipt comes back.
#include "station/station_test_fixture.h"

#include "central/media_import.h"
#include "core/refusal_pesan.h"
#include "enrollment/testing.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

class MediaSyncTest : public StationTest {
 protected:
  void SetUp() override {
    StationTest::SetUp();
    auto keys = central::LoadCentralKeys(central_options_.data_dir);
    ASSERT_OK(keys.status());
    central_keys_ = std::make_unique<central::CentralKeys>(std::move(*keys));
  }

  StatusOr<sync::ImportReceipt> CentralImport(const std::string& folder) {
    return central::ImportExport(*central_db_, clock_, *central_keys_, RegionRegistry::Default(), folder);
  }

  // The outbox by state, as "pending=N acked=N parked=N awaiting_review=N".
  std::string OutboxCounts(Station& station) {
    std::string counts;
    for (OutboxState state : kAllOutboxStates) {
      counts += std::string(counts.empty() ? "" : " ") + std::string(OutboxStateName(state)) + "=" +
                std::to_string(*station.CountOutbox(state));
    }
    return counts;
  }

  std::unique_ptr<central::CentralKeys> central_keys_;
};

TEST_F(MediaSyncTest, AStationWithNoLinkSyncsByDiskAndTheReceiptAcksItsOutbox) {
  central_->Stop();  // no link at all
  std::vector<std::string> registrations;
  for (int i = 0; i < 3; ++i) {
    auto receipt = station_->Enroll(ani_, Request());
    ASSERT_OK(receipt.status());
    registrations.push_back(receipt->registration_number);
  }
  EXPECT_THAT(sync_->SyncOnce(), StatusIs(StatusCode::kUnavailable, ::testing::_));

  const std::string usb = dir_ + "/usb";
  auto manifest = station_->ExportOutbox(usb);
  ASSERT_OK(manifest.status());
  EXPECT_EQ(manifest->packets.size(), 3u);
  EXPECT_EQ(OutboxCounts(*station_), "pending=3 acked=0 parked=0 awaiting_review=0");  // pending until the receipt

  auto imported = CentralImport(usb);
  ASSERT_OK(imported.status());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'validated'"), 3);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE registration_number = '" + registrations[1] + "'"), 1);

  auto receipt = sync::ReadImportReceipt(usb + "/receipt.json");
  ASSERT_OK(receipt.status());
  auto outcome = station_->ImportReceipt(*receipt);
  ASSERT_OK(outcome.status());
  EXPECT_EQ(outcome->acked, 3);
  EXPECT_EQ(outcome->unchanged, 0);
  EXPECT_EQ(OutboxCounts(*station_), "pending=0 acked=3 parked=0 awaiting_review=0");
  // Applying it again changes nothing.
  auto again = station_->ImportReceipt(*receipt);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->unchanged, 3);
  EXPECT_EQ(again->acked, 0);

  // When the link returns, the network has nothing left to send, and the feed
  // brings the records' states as after a network sync.
  RestartCentral(/*run_pipeline=*/false);
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 3);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 3);
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(registrations[2])), "validated");
}

TEST_F(MediaSyncTest, APacketThatArrivesByDiskAndByNetworkIsOneRecord) {
  for (int i = 0; i < 2; ++i) ASSERT_OK(station_->Enroll(ani_, Request()).status());
  const std::string usb = dir_ + "/usb";
  ASSERT_OK(station_->ExportOutbox(usb).status());
  ASSERT_OK(sync_->SyncOnce());  // the link came back before the disk reached central
  EXPECT_EQ(OutboxCounts(*station_), "pending=0 acked=2 parked=0 awaiting_review=0");

  auto imported = CentralImport(usb);
  ASSERT_OK(imported.status());
  for (const auto& result : imported->verdicts.results) EXPECT_EQ(result.verdict, sync::Verdict::kDuplicate);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 2);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 2);
  auto outcome = station_->ImportReceipt(*imported);
  ASSERT_OK(outcome.status());
  EXPECT_EQ(outcome->unchanged, 2);
  EXPECT_EQ(OutboxCounts(*station_), "pending=0 acked=2 parked=0 awaiting_review=0");
}

// A packet that cannot travel is parked with the network's reasons: one
// damaged in the store is parked at export, and one central refuses is parked
// by the receipt; the rest are delivered.
TEST_F(MediaSyncTest, PacketsThatCannotBeDeliveredAreParkedAsByTheNetwork) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_db_->Exec("UPDATE outbox SET envelope = replace(envelope, '\"v\":1', '\"v\":1 ') WHERE sequence = 1"));
  ASSERT_OK(station_db_->Exec("UPDATE outbox SET envelope = replace(envelope, '\"v\":1', '\"v\":1' || "
                              "CAST(X'C3' AS TEXT)) WHERE sequence = 2"));
  const std::string usb = dir_ + "/usb";
  auto manifest = station_->ExportOutbox(usb);
  ASSERT_OK(manifest.status());
  ASSERT_EQ(manifest->packets.size(), 2u);
  EXPECT_EQ(manifest->packets[1].sequence, 3);
  EXPECT_EQ(OutboxCounts(*station_), "pending=2 acked=0 parked=1 awaiting_review=0");

  auto receipt = CentralImport(usb);
  ASSERT_OK(receipt.status());
  ASSERT_OK(station_->ImportReceipt(*receipt).status());
  EXPECT_EQ(OutboxCounts(*station_), "pending=0 acked=1 parked=2 awaiting_review=0");
  auto parked = station_->Outbox(OutboxState::kParked, 10);
  ASSERT_OK(parked.status());
  ASSERT_EQ(parked->size(), 2u);
  EXPECT_THAT((*parked)[0].last_error, HasSubstr("the stored packet is damaged"));  // newest first: sequence 2
  EXPECT_TRUE(RefusalPesan((*parked)[0].last_error).has_value()) << "the operator is told it in Bahasa Indonesia";
  EXPECT_THAT((*parked)[1].last_error, HasSubstr("signature does not verify"));
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 1);
}

// Bad input: another station's folder imported as this station's receipt, and
// an edited receipt, are refused by name with nothing changed.
TEST_F(MediaSyncTest, AnotherStationsOrAnEditedReceiptIsRefusedWithNothingChanged) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_->Enroll(ani_, Request()).status());

  // Another station of the same kecamatan exports its own work; central imports it.
  central::StationRegistry registry(*central_db_, clock_);
  auto token = registry.CreateToken({"35.21.01", central::StationKind::kKecamatanOffice, {"enroll"},
                                     std::chrono::hours(1)}, "admin");
  ASSERT_OK(token.status());
  crypto::SigningKey other_key = crypto::SigningKey::Generate();
  auto other = registry.Register(*token, other_key.public_key());
  ASSERT_OK(other.status());
  ASSERT_OK(registry.Approve(other->id, "admin"));
  std::vector<std::pair<int64_t, sync::Packet>> packets;
  for (int64_t sequence = 1; sequence <= 2; ++sequence) {
    auto enrollment = enrollment::testing::SampleEnrollment(other->id, sequence, central_keys_->sealing.public_key(),
                                                            random_, clock_.TodayWib(), 2000);
    packets.emplace_back(sequence, sync::SignEnvelope({sync::kEnvelopeVersion, other->id, sequence,
                                                       sync::PacketKind::kEnrollment, "2026-11-24T02:00:00Z",
                                                       enrollment::EnrollmentToJson(enrollment)},
                                                      other_key));
  }
  const std::string other_usb = dir_ + "/other-usb";
  ASSERT_OK(sync::WriteExport(other_usb, other->id, "2026-11-24T03:00:00Z", packets, other_key,
                              central_keys_->sealing.public_key())
                .status());
  auto other_receipt = CentralImport(other_usb);
  ASSERT_OK(other_receipt.status());

  EXPECT_THAT(station_->ImportReceipt(*other_receipt),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("the receipt is for station " + other->id +
                                                                  ", not this station " + identity_.station_id)));
  // Relabelled as this station's, it no longer carries central's signature.
  sync::ImportReceipt relabelled = *other_receipt;
  relabelled.station_id = identity_.station_id;
  EXPECT_THAT(station_->ImportReceipt(relabelled),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("the receipt is not signed by central")));
  EXPECT_EQ(OutboxCounts(*station_), "pending=2 acked=0 parked=0 awaiting_review=0");

  // This station's own receipt, with a verdict edited, is refused too.
  const std::string usb = dir_ + "/usb";
  ASSERT_OK(station_->ExportOutbox(usb).status());
  auto receipt = CentralImport(usb);
  ASSERT_OK(receipt.status());
  sync::ImportReceipt edited = *receipt;
  edited.verdicts.results[0].verdict = sync::Verdict::kRejected;
  edited.verdicts.results[0].error = "forged";
  EXPECT_THAT(station_->ImportReceipt(edited),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("the receipt is not signed by central")));
  EXPECT_EQ(OutboxCounts(*station_), "pending=2 acked=0 parked=0 awaiting_review=0");
  ASSERT_OK(station_->ImportReceipt(*receipt).status());
  EXPECT_EQ(OutboxCounts(*station_), "pending=0 acked=2 parked=0 awaiting_review=0");
}

// Feed items travel back the same way: sealed to the station's box key and
// signed by central for the cursor the station named.
TEST_F(MediaSyncTest, CentralsFeedComesBackOnTheDiskAndOnlyThisStationCanApplyIt) {
  central_->Stop();
  auto enrolled = station_->Enroll(ani_, Request());
  ASSERT_OK(enrolled.status());
  const std::string usb = dir_ + "/usb";
  ASSERT_OK(station_->ExportOutbox(usb).status());
  ASSERT_OK(CentralImport(usb).status());
  ASSERT_OK(station_->ImportReceipt(*sync::ReadImportReceipt(usb + "/receipt.json")).status());
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(enrolled->registration_number)), "sent");

  auto written = central::ExportFeed(*central_db_, clock_, *central_keys_, RegionRegistry::Default(),
                                     identity_.station_id, *station_->FeedCursor(), usb);
  ASSERT_OK(written.status());
  EXPECT_GE(*written, 1u);  // the validation result, and the Suket trust
  const std::string feed = usb + "/feed.sealed";
  std::ifstream in(feed, std::ios::binary);
  const std::string sealed{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(sealed.find(enrolled->registration_number), std::string::npos);

  // Another station's box key does not open it.
  EXPECT_THAT(station_->ImportFeed(feed, crypto::SealingKey::Generate()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not open with this station's box key")));
  EXPECT_EQ(*station_->FeedCursor(), 0);

  auto box_key = crypto::SealingKey::Load(dir_ + "/station/station-box.key");
  ASSERT_OK(box_key.status());
  auto applied = station_->ImportFeed(feed, *box_key);
  ASSERT_OK(applied.status());
  EXPECT_EQ(applied->items, static_cast<int>(*written));
  EXPECT_EQ(applied->refused, 0);
  EXPECT_EQ(EnrollmentStatusName(*station_->GetEnrollmentStatus(enrolled->registration_number)), "validated");
  const int64_t cursor = *station_->FeedCursor();
  EXPECT_EQ(applied->cursor, cursor);
  ASSERT_OK(station_->ImportFeed(feed, *box_key).status());  // again: nothing changes
  EXPECT_EQ(*station_->FeedCursor(), cursor);

  // A feed sealed to this station but not signed by central applies nothing.
  sync::DiskFeed forged{cursor, {{{cursor + 1, "record_status", "{}", {}}}, {}}};
  ASSERT_OK(sync::WriteDiskFeed(feed, forged, identity_.station_id, crypto::SigningKey::Generate(),
                                box_key->public_key()));
  EXPECT_THAT(station_->ImportFeed(feed, *box_key),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("the feed page is not signed by central")));
  EXPECT_EQ(*station_->FeedCursor(), cursor);
}

}  // namespace
}  // namespace ektp::station
