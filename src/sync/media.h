// Sync by removable media ("sneakernet"): a station's pending packets carried
// to central in a folder (a USB disk), and central's signed receipt carried
// back. docs/sync-format.md ("Removable media") specifies the folder, the
// manifest and the receipt; keep the two in step. This is the only part of
// sync/ that touches files.
//
// The folder:
//   manifest.json                      the station-signed ExportManifest
//   packets/<sequence, 12 digits>.sealed
//                                      one packet each: its network JSON
//                                      {"envelope", "signature"} sealed to
//                                      central's X25519 key (crypto::Seal)
//   receipt.json                       central's signed ImportReceipt, once imported
//   feed.sealed                        central's feed for the station
//                                      (`central export-feed`), a signed
//                                      page sealed to the station's X25519 key
// Packets are sealed whole, so whoever finds the disk reads no demographics,
// NIKs or names; biometrics inside are sealed a second time, as on the
// network. Central opens each file to the very packet bytes the network
// carries and ingests them the same way (central/media_import.h), so a packet
// that arrives both ways is one record.
//
// Thread-safety: functions only; concurrent calls on one folder are not safe.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "crypto/crypto.h"
#include "sync/feed.h"
#include "sync/packet.h"

namespace ektp::sync {

inline constexpr std::string_view kManifestFileName = "manifest.json";
inline constexpr std::string_view kReceiptFileName = "receipt.json";
inline constexpr std::string_view kExportPacketsDir = "packets";
inline constexpr std::string_view kFeedFileName = "feed.sealed";

// "packets/000000000042.sealed": the file of packet `sequence`, relative to
// the folder. Central derives every path from the manifest's sequences, never
// from names written on the disk.
std::string ExportPacketPath(int64_t sequence);

struct ExportEntry {
  int64_t sequence = 0;
  std::string kind;           // PacketKindName of the envelope
  std::string file_sha256;    // hex SHA-256 of the sealed file's bytes
  std::string packet_sha256;  // Packet::ContentHash() of the packet inside
};

struct ExportManifest {
  std::string station_id;     // the station whose packets these are
  // "" for a station's own export. Otherwise a carry-over: the replacement
  // station that read these packets of the revoked `station_id` from its
  // backup, vouches for them and signs the manifest (central/ingest.h, CarryOver).
  std::string carried_by;
  std::string created_at;     // ISO 8601 UTC, the signing station's clock
  crypto::Bytes sealed_to;    // central's X25519 public key the packets are sealed to
  std::vector<ExportEntry> packets;  // sequences increasing
  crypto::Bytes signature;    // the signer's, over ExportManifestSignedText()

  // The station that signs the manifest: carried_by, else station_id.
  const std::string& Signer() const { return carried_by.empty() ? station_id : carried_by; }
};

// "ektp-export-manifest/1", station (for a carry-over:
// "ektp-carry-over-manifest/1", station, carried_by), then created_at, base64
// sealed_to, number of packets, then per packet: sequence, kind, file_sha256,
// packet_sha256.
std::string ExportManifestSignedText(const ExportManifest& manifest);
nlohmann::json ExportManifestToJson(const ExportManifest& manifest);
// kInvalidArgument naming the field when malformed.
StatusOr<ExportManifest> ParseExportManifest(std::string_view text);

// Writes `packets` (sequence -> packet, in sequence order, all of
// `station_id`, envelopes valid UTF-8) to `dir`, sealed
// to `central_sealing_key`, then the manifest signed with `station_key`
// (the key of `carried_by` for a carry-over, of `station_id` otherwise);
// each file is fsynced before the manifest is renamed into place, so a folder
// with a manifest is whole. kFailedPrecondition when `dir` exists and is not
// empty, or `packets` is empty; kUnavailable when a write fails.
StatusOr<ExportManifest> WriteExport(const std::string& dir, std::string_view station_id, std::string_view created_at,
                                     const std::vector<std::pair<int64_t, Packet>>& packets,
                                     const crypto::SigningKey& station_key,
                                     std::span<const uint8_t> central_sealing_key, std::string_view carried_by = {});

// The rolling outbox mirror (docs/sync-format.md, "Outbox mirror"): an
// export folder on a second device (a USB disk) that a station rewrites
// whenever its pending outbox changes, so that it always lists exactly the
// packets central has not yet acknowledged. It is an export folder in every
// respect (central imports it as one) plus the marker file kMirrorMarkerFileName,
// which names the station, so that a folder holding another station's mirror,
// an export or anything else is never overwritten.
inline constexpr std::string_view kMirrorMarkerFileName = "EKTP-OUTBOX-MIRROR.txt";

// What one WriteMirror did.
struct MirrorWrite {
  ExportManifest manifest;  // the manifest now in the folder
  size_t sealed = 0;        // packet files sealed and written by this call
  size_t reused = 0;        // packet files of the previous manifest kept as they were
  size_t removed = 0;       // files deleted: packets no longer pending, leftovers of an interrupted write
};

// Makes `dir` list exactly `packets` (in sequence order, all of `station_id`,
// envelopes valid UTF-8; empty: a manifest with no packet), durably: new
// packet files are written and fsynced, then the manifest signed with
// `station_key` is written to a temporary file, fsynced and renamed over the
// old one (a reader sees the old manifest or the whole new one), and only then
// are files the new manifest does not list deleted. A packet file of the
// previous manifest is kept, not sealed again, when its sequence and packet
// content hash are unchanged: when `known` (the manifest this caller last
// wrote to `dir`) is still the folder's manifest, its files are trusted as on
// disk; otherwise (no `known`, or another disk or an older mirror mounted in
// its place) each file the folder's own manifest lists is kept only if its
// bytes still hash to the listed SHA-256.
// `dir` must exist (it is never created, so that an unplugged disk's mount
// point is not filled on the station's own disk): kUnavailable when it does
// not, or a write fails (retry later). kFailedPrecondition when `dir` is a
// mirror of another station, or is neither empty nor a mirror.
StatusOr<MirrorWrite> WriteMirror(const std::string& dir, std::string_view station_id, std::string_view created_at,
                                  const std::vector<std::pair<int64_t, Packet>>& packets,
                                  const crypto::SigningKey& station_key, std::span<const uint8_t> central_sealing_key,
                                  const ExportManifest* known = nullptr);

// A carry-over folder (as WriteExport with `carried_by`) made from the export
// folder or outbox mirror `from` of the revoked station, without opening a
// packet: every file its manifest lists is checked against the listed SHA-256
// and copied byte for byte to `dir` (new or empty), and the same entries are
// listed in a new manifest naming `carried_by` and signed with its key.
// Central then verifies each packet's own signature with the old station's
// key (Ingest::CarryOver); the old manifest's own signature is not checked
// here (the replacement does not hold the old station's public key).
// Refused before anything is written: kInvalidArgument naming the file when
// one is missing, altered or truncated, or the manifest is missing or malformed;
// kFailedPrecondition when `from` is itself a carry-over, is the
// replacement's own, is sealed to a central other than `central_sealing_key`,
// lists no packet, or `dir` is not empty.
StatusOr<ExportManifest> WriteCarryOverFromFolder(const std::string& from, const std::string& dir,
                                                  std::string_view created_at, const crypto::SigningKey& carrier_key,
                                                  std::string_view carried_by,
                                                  std::span<const uint8_t> central_sealing_key);

// The manifest of the folder `dir` as written, not yet verified, with the
// hex SHA-256 of its bytes. kInvalidArgument when there is none, or it is
// malformed or larger than 16 MiB.
struct ExportFolder {
  ExportManifest manifest;
  std::string manifest_sha256;
};
StatusOr<ExportFolder> ReadExportManifest(const std::string& dir);

// kUnauthenticated unless `station_public_key` (the key of manifest.Signer())
// signed the manifest;
// kInvalidArgument when its packets are sealed to a key other than
// `central_sealing_key` (another central's export).
Status VerifyExportManifest(const ExportManifest& manifest, std::span<const uint8_t> station_public_key,
                            std::span<const uint8_t> central_sealing_key);

// Every packet of a verified manifest, opened, in manifest order. Refuses
// the whole folder (kInvalidArgument naming the file) when a file is
// missing, extra, altered or truncated (its SHA-256 is not the manifest's),
// does not open with `central_sealing`, or holds a packet other than the
// manifest says (another content hash, station or sequence).
StatusOr<std::vector<Packet>> OpenExportPackets(const std::string& dir, const ExportManifest& manifest,
                                                const crypto::SealingKey& central_sealing);

// Central's answer to an import: its verdict on every packet of the folder,
// as for a network upload, bound to the station and to the manifest.
struct ImportReceipt {
  std::string station_id;
  std::string manifest_sha256;  // ExportFolder::manifest_sha256 of the folder imported
  std::string imported_at;      // ISO 8601 UTC, central's clock
  UploadResponse verdicts;      // cursor, results; signature: central's, over ImportReceiptSignedText()
};

// VerdictsSignedText("ektp-import-receipt/1", station, "<manifest_sha256>@<imported_at>", verdicts).
std::string ImportReceiptSignedText(const ImportReceipt& receipt);
void SignImportReceipt(const crypto::SigningKey& central_key, ImportReceipt& receipt);
// The station's check before it settles anything: kFailedPrecondition when
// the receipt is for another station (naming both); kUnauthenticated unless
// central signed it and every verdict names a packet of `queued` (sequence
// -> content hash of this station's outbox) with that content hash.
Status VerifyImportReceipt(const ImportReceipt& receipt, std::span<const uint8_t> central_public_key,
                           std::string_view station_id, const std::map<int64_t, std::string>& queued);

nlohmann::json ImportReceiptToJson(const ImportReceipt& receipt);
// kInvalidArgument naming what is malformed.
StatusOr<ImportReceipt> ParseImportReceipt(std::string_view text);

// The receipt file: written durably (fsync, then renamed into place), and
// read back (kInvalidArgument when missing, malformed or over 16 MiB).
Status WriteImportReceipt(const std::string& path, const ImportReceipt& receipt);
StatusOr<ImportReceipt> ReadImportReceipt(const std::string& path);

// Central's feed carried down on a disk: the items after the station's feed
// cursor `after`, as a feed page (sync/feed.h) signed for the binding
// DiskFeedBinding(after) in place of a request signature, sealed whole to
// the station's X25519 box key (feed items hold NIKs and record states).
std::string DiskFeedBinding(int64_t after);  // "disk-feed:after=<after>"
struct DiskFeed {
  int64_t after = 0;
  FeedPage page;
};
// Signs `feed.page` with `central_key` and writes it sealed to
// `station_box_key` at `path`, durably. kUnavailable when the write fails.
Status WriteDiskFeed(const std::string& path, DiskFeed feed, std::string_view station_id,
                     const crypto::SigningKey& central_key, std::span<const uint8_t> station_box_key);
// Opens and verifies a disk feed: kInvalidArgument when the file is missing,
// damaged, or not sealed to `box_key`; kUnauthenticated unless central
// signed the page for this station and the cursor it names (VerifyFeedPage).
StatusOr<DiskFeed> ReadDiskFeed(const std::string& path, const crypto::SealingKey& box_key,
                                std::span<const uint8_t> central_public_key, std::string_view station_id);

}  // namespace ektp::sync
