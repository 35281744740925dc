#include "sync/media.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/status_matchers.h"
#include "store/testing.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kStation[] = "ST-352101-01";
constexpr char kResidentName[] = "Siti Nurhaliza Binti Ahmad";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteAll(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class MediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = store::testing::MakeTempDir("ektp-media-test-");
    dir_ = root_ + "/export";
    for (int64_t sequence = 1; sequence <= 3; ++sequence) {
      Envelope envelope{kEnvelopeVersion, kStation, sequence, PacketKind::kEnrollment, "2026-11-24T02:00:00Z",
                        nlohmann::json{{"resident", {{"name", kResidentName}, {"nik", "3521014507000001"}}}}.dump()};
      packets_.emplace_back(sequence, SignEnvelope(envelope, station_key_));
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  StatusOr<ExportManifest> Export() {
    return WriteExport(dir_, kStation, "2026-11-24T03:00:00Z", packets_, station_key_, central_sealing_.public_key());
  }

  // Reads, verifies and opens the folder as central does.
  StatusOr<std::vector<Packet>> Open() {
    ASSIGN_OR_RETURN(ExportFolder folder, ReadExportManifest(dir_));
    RETURN_IF_ERROR(VerifyExportManifest(folder.manifest, station_key_.public_key(), central_sealing_.public_key()));
    return OpenExportPackets(dir_, folder.manifest, central_sealing_);
  }

  std::string root_, dir_;
  crypto::SigningKey station_key_ = crypto::SigningKey::Generate();
  crypto::SealingKey central_sealing_ = crypto::SealingKey::Generate();
  std::vector<std::pair<int64_t, Packet>> packets_;
};

TEST_F(MediaTest, CentralOpensTheVeryPacketsTheStationExported) {
  auto manifest = Export();
  ASSERT_OK(manifest.status());
  ASSERT_EQ(manifest->packets.size(), 3u);
  EXPECT_EQ(manifest->packets[1].sequence, 2);
  EXPECT_EQ(manifest->packets[1].kind, "enrollment");
  EXPECT_EQ(manifest->packets[1].packet_sha256, packets_[1].second.ContentHash());
  EXPECT_TRUE(fs::exists(dir_ + "/packets/000000000002.sealed"));
  auto opened = Open();
  ASSERT_OK(opened.status());
  ASSERT_EQ(opened->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*opened)[i].envelope_text, packets_[i].second.envelope_text);
    EXPECT_EQ((*opened)[i].signature, packets_[i].second.signature);
  }
}

// Whoever finds the disk reads no demographics: every file is sealed whole.
TEST_F(MediaTest, TheFolderRevealsNoPersonalData) {
  ASSERT_OK(Export().status());
  int files = 0;
  for (const auto& file : fs::recursive_directory_iterator(dir_)) {
    if (!file.is_regular_file()) continue;
    ++files;
    std::string data = ReadAll(file.path().string());
    EXPECT_EQ(data.find("Siti"), std::string::npos) << file.path();
    EXPECT_EQ(data.find("3521014507000001"), std::string::npos) << file.path();
    EXPECT_EQ(data.find("resident"), std::string::npos) << file.path();
  }
  EXPECT_EQ(files, 4);  // three packets and the manifest
}

TEST_F(MediaTest, ExportNeedsPacketsAndAnEmptyFolder) {
  EXPECT_THAT(WriteExport(dir_, kStation, "t", {}, station_key_, central_sealing_.public_key()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("nothing to export")));
  ASSERT_OK(Export().status());
  EXPECT_THAT(Export(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is not empty")));
}

TEST_F(MediaTest, ATamperedPacketFileIsRefusedByName) {
  ASSERT_OK(Export().status());
  const std::string path = dir_ + "/packets/000000000002.sealed";
  std::string data = ReadAll(path);
  data[data.size() / 2] ^= 1;
  WriteAll(path, data);
  EXPECT_THAT(Open(), StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("export file packets/000000000002.sealed is truncated or altered")));
}

TEST_F(MediaTest, AResealedPacketWithAnEditedManifestFailsTheStationSignature) {
  ASSERT_OK(Export().status());
  // Anyone can seal to central's public key: an attacker replaces a packet and
  // writes its hash into the manifest, but cannot sign the manifest.
  const std::string path = dir_ + "/packets/000000000002.sealed";
  crypto::Bytes forged = crypto::Seal(central_sealing_.public_key(), crypto::AsBytes(PacketToJson(packets_[0].second).dump()));
  WriteAll(path, std::string(forged.begin(), forged.end()));
  auto manifest = nlohmann::json::parse(ReadAll(dir_ + "/manifest.json"));
  manifest["packets"][1]["sha256"] = crypto::Sha256Hex(forged);
  WriteAll(dir_ + "/manifest.json", manifest.dump());
  EXPECT_THAT(Open(), StatusIs(StatusCode::kUnauthenticated,
                               HasSubstr("export manifest is not signed by station ST-352101-01's key")));
}

TEST_F(MediaTest, AManifestSignedByAnotherKeyIsRefused) {
  auto manifest = WriteExport(dir_, kStation, "t", packets_, crypto::SigningKey::Generate(),
                              central_sealing_.public_key());
  ASSERT_OK(manifest.status());
  EXPECT_THAT(Open(), StatusIs(StatusCode::kUnauthenticated, HasSubstr("forged or edited")));
}

TEST_F(MediaTest, ATruncatedExportIsRefusedByName) {
  ASSERT_OK(Export().status());
  // A copy cut short: the last packet file is half written.
  const std::string path = dir_ + "/packets/000000000003.sealed";
  std::string data = ReadAll(path);
  WriteAll(path, data.substr(0, data.size() / 2));
  EXPECT_THAT(Open(), StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("export file packets/000000000003.sealed is truncated or altered")));
  // ... or missing altogether.
  fs::remove(path);
  EXPECT_THAT(Open(), StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("export file packets/000000000003.sealed is missing or unreadable")));
  // A manifest cut short does not parse.
  std::string manifest = ReadAll(dir_ + "/manifest.json");
  WriteAll(dir_ + "/manifest.json", manifest.substr(0, manifest.size() / 2));
  EXPECT_THAT(ReadExportManifest(dir_), StatusIs(StatusCode::kInvalidArgument,
                                                 HasSubstr("export manifest is not a JSON object (truncated")));
  fs::remove(dir_ + "/manifest.json");
  EXPECT_THAT(ReadExportManifest(dir_), StatusIs(StatusCode::kInvalidArgument, HasSubstr("manifest.json is missing")));
}

TEST_F(MediaTest, AFileTheManifestDoesNotListIsRefused) {
  ASSERT_OK(Export().status());
  WriteAll(dir_ + "/packets/000000000009.sealed", "extra");
  EXPECT_THAT(Open(), StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("export file packets/000000000009.sealed is not in the manifest")));
}

TEST_F(MediaTest, AnExportSealedToAnotherCentralIsRefused) {
  ASSERT_OK(WriteExport(dir_, kStation, "t", packets_, station_key_, crypto::SealingKey::Generate().public_key())
                .status());
  EXPECT_THAT(Open(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("sealed to another central's key")));
}

// The rolling outbox mirror (issue 18, item 3): an export folder kept equal
// to the pending outbox on a second device.
class MirrorTest : public MediaTest {
 protected:
  void SetUp() override {
    MediaTest::SetUp();
    fs::create_directory(dir_);  // the disk's folder, made once by the admin
  }
  StatusOr<MirrorWrite> Mirror(const std::vector<std::pair<int64_t, Packet>>& packets,
                               const ExportManifest* known = nullptr) {
    return WriteMirror(dir_, kStation, "2026-11-24T03:00:00Z", packets, station_key_, central_sealing_.public_key(),
                       known);
  }
  std::pair<int64_t, Packet> NewPacket(int64_t sequence) {
    Envelope envelope{kEnvelopeVersion, kStation, sequence, PacketKind::kEnrollment, "2026-11-24T04:00:00Z",
                      nlohmann::json{{"resident", {{"name", kResidentName}}}}.dump()};
    return {sequence, SignEnvelope(envelope, station_key_)};
  }
  std::vector<int64_t> OpenedSequences() {
    std::vector<int64_t> sequences;
    auto opened = Open();
    EXPECT_OK(opened.status());
    if (!opened.ok()) return sequences;
    for (const Packet& packet : *opened) sequences.push_back(nlohmann::json::parse(packet.envelope_text)["seq"]);
    return sequences;
  }
};

TEST_F(MirrorTest, TheMirrorFollowsThePendingOutboxAndRewritesOnlyWhatChanged) {
  auto first = Mirror(packets_);
  ASSERT_OK(first.status());
  EXPECT_EQ(first->sealed, 3u);
  EXPECT_EQ(OpenedSequences(), (std::vector<int64_t>{1, 2, 3}));  // central opens it as an export
  const std::string file2 = ReadAll(dir_ + "/packets/000000000002.sealed");

  // 1 acknowledged, 4 enrolled: one file sealed, two kept byte for byte, one deleted.
  std::vector<std::pair<int64_t, Packet>> next = {packets_[1], packets_[2], NewPacket(4)};
  auto second = Mirror(next, &first->manifest);
  ASSERT_OK(second.status());
  EXPECT_EQ(second->sealed, 1u);
  EXPECT_EQ(second->reused, 2u);
  EXPECT_EQ(second->removed, 1u);
  EXPECT_FALSE(fs::exists(dir_ + "/packets/000000000001.sealed"));
  EXPECT_EQ(ReadAll(dir_ + "/packets/000000000002.sealed"), file2);
  EXPECT_EQ(OpenedSequences(), (std::vector<int64_t>{2, 3, 4}));

  // After a restart (no known manifest) the files are checked against the
  // folder's manifest: a damaged one is sealed again, the rest kept, and a
  // leftover of a write cut short is deleted.
  std::string damaged = ReadAll(dir_ + "/packets/000000000003.sealed");
  damaged[damaged.size() / 2] ^= 1;
  WriteAll(dir_ + "/packets/000000000003.sealed", damaged);
  WriteAll(dir_ + "/packets/000000000005.sealed", "cut short");
  auto third = Mirror(next);
  ASSERT_OK(third.status());
  EXPECT_EQ(third->sealed, 1u);
  EXPECT_EQ(third->reused, 2u);
  EXPECT_EQ(third->removed, 1u);
  EXPECT_EQ(OpenedSequences(), (std::vector<int64_t>{2, 3, 4}));

  // Everything acknowledged: a signed manifest listing nothing.
  auto empty = Mirror({});
  ASSERT_OK(empty.status());
  EXPECT_EQ(empty->removed, 3u);
  EXPECT_TRUE(fs::is_empty(dir_ + "/packets"));
  EXPECT_EQ(OpenedSequences(), std::vector<int64_t>{});
}

TEST_F(MirrorTest, AnotherDiskMountedInThePlaceOfTheMirrorGetsEveryPacket) {
  auto first = Mirror(packets_);
  ASSERT_OK(first.status());
  // The operator swaps the USB disk: an empty one, then an older mirror of this station.
  fs::rename(dir_, root_ + "/disk-a");
  fs::create_directory(dir_);
  auto fresh = Mirror(packets_, &first->manifest);
  ASSERT_OK(fresh.status());
  EXPECT_EQ(fresh->sealed, 3u);
  EXPECT_EQ(OpenedSequences(), (std::vector<int64_t>{1, 2, 3}));

  std::vector<std::pair<int64_t, Packet>> more = {packets_[0], packets_[1], packets_[2], NewPacket(4)};
  auto on_b = Mirror(more, &fresh->manifest);
  ASSERT_OK(on_b.status());
  fs::rename(dir_, root_ + "/disk-b");
  fs::rename(root_ + "/disk-a", dir_);  // disk A is back, one packet behind
  auto on_a = Mirror(more, &on_b->manifest);
  ASSERT_OK(on_a.status());
  EXPECT_EQ(on_a->sealed, 1u);
  EXPECT_EQ(on_a->reused, 3u);
  EXPECT_EQ(OpenedSequences(), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST_F(MirrorTest, TheMirrorRevealsNoPersonalData) {
  ASSERT_OK(Mirror(packets_).status());
  int files = 0;
  for (const auto& file : fs::recursive_directory_iterator(dir_)) {
    if (!file.is_regular_file()) continue;
    ++files;
    std::string data = ReadAll(file.path().string());
    EXPECT_EQ(data.find("Siti"), std::string::npos) << file.path();
    EXPECT_EQ(data.find("3521014507000001"), std::string::npos) << file.path();
  }
  EXPECT_EQ(files, 5);  // three packets, the manifest and the marker
}

TEST_F(MirrorTest, AnUnpluggedDiskIsUnavailableAndAForeignFolderIsNeverOverwritten) {
  EXPECT_THAT(WriteMirror(root_ + "/unplugged/ektp-mirror", kStation, "t", packets_, station_key_,
                          central_sealing_.public_key()),
              StatusIs(StatusCode::kUnavailable, HasSubstr("does not exist (is the disk plugged in and mounted?)")));
  EXPECT_FALSE(fs::exists(root_ + "/unplugged"));  // the mount point is not filled on the station's own disk

  WriteAll(dir_ + "/holiday.jpg", "photo");
  EXPECT_THAT(Mirror(packets_), StatusIs(StatusCode::kFailedPrecondition,
                                         HasSubstr("is not empty and is not an outbox mirror")));
  fs::remove(dir_ + "/holiday.jpg");
  ASSERT_OK(WriteMirror(dir_, "ST-352101-02", "t", {}, station_key_, central_sealing_.public_key()).status());
  EXPECT_THAT(Mirror(packets_), StatusIs(StatusCode::kFailedPrecondition,
                                         HasSubstr("holds another outbox mirror ('ektp-outbox-mirror-v1 "
                                                   "ST-352101-02'), not station ST-352101-01's")));
}

TEST_F(MirrorTest, AReplacementCarriesTheMirrorOverWithoutOpeningItAndRefusesATamperedFile) {
  ASSERT_OK(Mirror(packets_).status());
  const crypto::SigningKey replacement = crypto::SigningKey::Generate();
  const std::string out = root_ + "/carry-over";
  auto carried = WriteCarryOverFromFolder(dir_, out, "2026-11-25T01:00:00Z", replacement, "ST-352101-02",
                                          central_sealing_.public_key());
  ASSERT_OK(carried.status());
  EXPECT_EQ(carried->carried_by, "ST-352101-02");
  auto folder = ReadExportManifest(out);
  ASSERT_OK(folder.status());
  EXPECT_EQ(folder->manifest.station_id, kStation);
  ASSERT_OK(VerifyExportManifest(folder->manifest, replacement.public_key(), central_sealing_.public_key()));
  auto opened = OpenExportPackets(out, folder->manifest, central_sealing_);
  ASSERT_OK(opened.status());
  ASSERT_EQ(opened->size(), 3u);
  EXPECT_EQ((*opened)[2].signature, packets_[2].second.signature);  // the old station's own signatures

  std::string data = ReadAll(dir_ + "/packets/000000000002.sealed");
  data[data.size() / 2] ^= 1;
  WriteAll(dir_ + "/packets/000000000002.sealed", data);
  EXPECT_THAT(WriteCarryOverFromFolder(dir_, root_ + "/carry-over-2", "t", replacement, "ST-352101-02",
                                       central_sealing_.public_key()),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("file packets/000000000002.sealed of " + dir_ + " is truncated or altered")));
  EXPECT_FALSE(fs::exists(root_ + "/carry-over-2"));
  EXPECT_THAT(WriteCarryOverFromFolder(out, root_ + "/carry-over-3", "t", replacement, "ST-352101-03",
                                       central_sealing_.public_key()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is already a carry-over")));
  EXPECT_THAT(WriteCarryOverFromFolder(dir_, root_ + "/carry-over-4", "t", replacement, "ST-352101-02",
                                       crypto::SealingKey::Generate().public_key()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("sealed to another central")));
}

class ReceiptTest : public ::testing::Test {
 protected:
  ImportReceipt Receipt() {
    ImportReceipt receipt{kStation, "ab12", "2026-11-25T01:00:00Z", {}};
    receipt.verdicts.cursor = 2;
    receipt.verdicts.results = {{1, Verdict::kAccepted, "", "hash-1"}, {2, Verdict::kDuplicate, "", "hash-2"}};
    SignImportReceipt(central_key_, receipt);
    return receipt;
  }
  crypto::SigningKey central_key_ = crypto::SigningKey::Generate();
  std::map<int64_t, std::string> queued_ = {{1, "hash-1"}, {2, "hash-2"}, {3, "hash-3"}};
};

TEST_F(ReceiptTest, AReceiptSurvivesItsFileAndVerifies) {
  std::string dir = store::testing::MakeTempDir("ektp-receipt-test-");
  ASSERT_OK(WriteImportReceipt(dir + "/receipt.json", Receipt()));
  auto read = ReadImportReceipt(dir + "/receipt.json");
  fs::remove_all(dir);
  ASSERT_OK(read.status());
  EXPECT_EQ(read->manifest_sha256, "ab12");
  ASSERT_EQ(read->verdicts.results.size(), 2u);
  EXPECT_EQ(read->verdicts.results[1].verdict, Verdict::kDuplicate);
  EXPECT_OK(VerifyImportReceipt(*read, central_key_.public_key(), kStation, queued_));
}

TEST_F(ReceiptTest, AnotherStationsOrAForgedReceiptIsRefused) {
  EXPECT_THAT(VerifyImportReceipt(Receipt(), central_key_.public_key(), "ST-352101-02", queued_),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("the receipt is for station ST-352101-01, not this station ST-352101-02")));
  ImportReceipt edited = Receipt();
  edited.verdicts.results[0].verdict = Verdict::kRejected;
  EXPECT_THAT(VerifyImportReceipt(edited, central_key_.public_key(), kStation, queued_),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("the receipt is not signed by central")));
  // A network upload answer is not a receipt, though central signed the same verdicts.
  ImportReceipt answer = Receipt();
  SignUploadResponse(central_key_, kStation, answer.manifest_sha256 + "@" + answer.imported_at, answer.verdicts);
  EXPECT_THAT(VerifyImportReceipt(answer, central_key_.public_key(), kStation, queued_),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("not signed by central")));
}

TEST_F(ReceiptTest, AVerdictOnContentTheStationNeverQueuedIsRefused) {
  std::map<int64_t, std::string> other = {{1, "hash-1"}, {2, "other"}};
  EXPECT_THAT(VerifyImportReceipt(Receipt(), central_key_.public_key(), kStation, other),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("the verdict for sequence 2 is for content sha256")));
  EXPECT_THAT(VerifyImportReceipt(Receipt(), central_key_.public_key(), kStation, {{1, "hash-1"}}),
              StatusIs(StatusCode::kUnauthenticated,
                       HasSubstr("the receipt has a verdict for sequence 2, which this station never queued")));
}

TEST_F(ReceiptTest, AMalformedReceiptIsRefusedByName) {
  EXPECT_THAT(ParseImportReceipt("{\"v\":1,\"station\":"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(ParseImportReceipt(R"({"v":2,"station":"x","manifest_sha256":"","imported_at":""})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("receipt version 2")));
}

}  // namespace
}  // namespace ektp::sync
