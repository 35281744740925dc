#include "sync/media.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace ektp::sync {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxManifestBytes = 16 * 1024 * 1024;
// A sealed packet: its JSON (base64 signature, escaped envelope) plus the box.
constexpr size_t kMaxSealedPacketBytes = 2 * kMaxEnvelopeBytes + 4096;

std::string ErrnoText() { return std::strerror(errno); }

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + ErrnoText());
  int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return Unavailable("cannot sync " + path + ": " + ErrnoText());
  return Status::Ok();
}

// Writes `data` to `path` and fsyncs it; kUnavailable naming the file on failure.
Status WriteDurably(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot write " + path + ": " + ErrnoText());
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string error = ErrnoText();
      ::close(fd);
      return Unavailable("cannot write " + path + ": " + error);
    }
    written += static_cast<size_t>(n);
  }
  int synced = ::fsync(fd);
  std::string error = synced != 0 ? ErrnoText() : "";
  if (::close(fd) != 0 && synced == 0) return Unavailable("cannot write " + path + ": " + ErrnoText());
  if (synced != 0) return Unavailable("cannot sync " + path + ": " + error);
  return Status::Ok();
}

// Writes `path` through a temporary file renamed into place, so a reader sees
// the old file or the whole new one.
Status ReplaceDurably(const std::string& path, std::string_view data) {
  const std::string temporary = path + ".tmp";
  RETURN_IF_ERROR(WriteDurably(temporary, data));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return Unavailable("cannot write " + path + ": " + ErrnoText());
  }
  return FsyncPath(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string());
}

// The whole file; kInvalidArgument naming `what` when missing or over `max_bytes`.
StatusOr<std::string> ReadLimited(const std::string& path, size_t max_bytes, std::string_view what) {
  std::error_code error;
  auto size = fs::file_size(path, error);
  if (error) return InvalidArgument(std::string(what) + " " + path + " is missing: " + error.message());
  if (size > max_bytes) {
    return InvalidArgument(std::string(what) + " " + path + " is " + std::to_string(size) +
                           " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(size, '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(size))) {
    return InvalidArgument("cannot read " + std::string(what) + " " + path);
  }
  return data;
}

std::string Base64(std::span<const uint8_t> bytes) { return crypto::Base64Encode(bytes); }

// The JSON object of a version 1 document; kInvalidArgument naming `what` otherwise.
StatusOr<nlohmann::json> ParseVersion1(std::string_view text, const std::string& what) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return InvalidArgument(what + " is not a JSON object (truncated or damaged)");
  auto version = json.find("v");
  if (version == json.end() || !version->is_number_integer()) return InvalidArgument(what + " has no version (v)");
  if (*version != 1) {
    return InvalidArgument(what + " version " + version->dump() + " is not one this build reads (1)");
  }
  return json;
}

StatusOr<crypto::Bytes> DecodeBase64Field(const nlohmann::json& json, const char* field, std::string_view doc) {
  auto decoded = crypto::Base64Decode(json.at(field).get<std::string>());
  if (!decoded.ok()) return InvalidArgument(std::string(doc) + "." + field + " is not base64");
  return std::move(*decoded);
}

}  // namespace

std::string ExportPacketPath(int64_t sequence) {
  char name[32];
  std::snprintf(name, sizeof(name), "%012lld.sealed", static_cast<long long>(sequence));
  return std::string(kExportPacketsDir) + "/" + name;
}

std::string ExportManifestSignedText(const ExportManifest& manifest) {
  std::string text;
  if (manifest.carried_by.empty()) {
    AppendSignedField(text, "ektp-export-manifest/1");
    AppendSignedField(text, manifest.station_id);
  } else {
    AppendSignedField(text, "ektp-carry-over-manifest/1");
    AppendSignedField(text, manifest.station_id);
    AppendSignedField(text, manifest.carried_by);
  }
  AppendSignedField(text, manifest.created_at);
  AppendSignedField(text, Base64(manifest.sealed_to));
  AppendSignedField(text, std::to_string(manifest.packets.size()));
  for (const ExportEntry& entry : manifest.packets) {
    AppendSignedField(text, std::to_string(entry.sequence));
    AppendSignedField(text, entry.kind);
    AppendSignedField(text, entry.file_sha256);
    AppendSignedField(text, entry.packet_sha256);
  }
  return text;
}

nlohmann::json ExportManifestToJson(const ExportManifest& manifest) {
  nlohmann::json packets = nlohmann::json::array();
  for (const ExportEntry& entry : manifest.packets) {
    packets.push_back({{"seq", entry.sequence},
                       {"kind", entry.kind},
                       {"sha256", entry.file_sha256},
                       {"packet_sha256", entry.packet_sha256}});
  }
  nlohmann::json json = {{"v", 1},
                         {"station", manifest.station_id},
                         {"created_at", manifest.created_at},
                         {"sealed_to", Base64(manifest.sealed_to)},
                         {"packets", std::move(packets)},
                         {"signature", Base64(manifest.signature)}};
  if (!manifest.carried_by.empty()) json["carried_by"] = manifest.carried_by;
  return json;
}

StatusOr<ExportManifest> ParseExportManifest(std::string_view text) {
  ASSIGN_OR_RETURN(nlohmann::json json, ParseVersion1(text, "the export manifest"));
  ExportManifest manifest;
  try {
    manifest.station_id = json.at("station").get<std::string>();
    manifest.created_at = json.at("created_at").get<std::string>();
    manifest.carried_by = json.value("carried_by", std::string());
    ASSIGN_OR_RETURN(manifest.sealed_to, DecodeBase64Field(json, "sealed_to", "manifest"));
    ASSIGN_OR_RETURN(manifest.signature, DecodeBase64Field(json, "signature", "manifest"));
    for (const auto& item : json.at("packets")) {
      ExportEntry entry{item.at("seq").get<int64_t>(), item.at("kind").get<std::string>(),
                        item.at("sha256").get<std::string>(), item.at("packet_sha256").get<std::string>()};
      if (entry.sequence < 1 || (!manifest.packets.empty() && entry.sequence <= manifest.packets.back().sequence)) {
        return InvalidArgument("export manifest sequences must be 1 or more and increasing; " +
                               std::to_string(entry.sequence) + " is not");
      }
      manifest.packets.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("the export manifest is malformed: ") + e.what());
  }
  return manifest;
}

StatusOr<ExportManifest> WriteExport(const std::string& dir, std::string_view station_id, std::string_view created_at,
                                     const std::vector<std::pair<int64_t, Packet>>& packets, const crypto::SigningKey& station_key,
                                     std::span<const uint8_t> central_sealing_key, std::string_view carried_by) {
  if (packets.empty()) return FailedPrecondition("nothing to export: the outbox has no pending packet");
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_empty(dir, error)) {
    return FailedPrecondition("export folder " + dir + " is not empty; export to a new or empty folder");
  }
  const std::string packets_dir = (fs::path(dir) / kExportPacketsDir).string();
  fs::create_directories(packets_dir, error);
  if (error) return Unavailable("cannot create " + packets_dir + ": " + error.message());
  ExportManifest manifest{std::string(station_id), std::string(carried_by), std::string(created_at),
                          crypto::Bytes(central_sealing_key.begin(), central_sealing_key.end()), {}, {}};
  for (const auto& [sequence, packet] : packets) {
    // Read leniently, as central does: a damaged envelope still travels, and
    // ingest refuses it alone.
    const auto claimed = nlohmann::json::parse(packet.envelope_text, nullptr, false);
    const nlohmann::json kind = claimed.is_object() ? claimed.value("kind", nlohmann::json()) : nlohmann::json();
    crypto::Bytes sealed = crypto::Seal(central_sealing_key, crypto::AsBytes(PacketToJson(packet).dump()));
    std::string_view sealed_text(reinterpret_cast<const char*>(sealed.data()), sealed.size());
    RETURN_IF_ERROR(WriteDurably((fs::path(dir) / ExportPacketPath(sequence)).string(), sealed_text));
    manifest.packets.push_back(
        {sequence, kind.is_string() ? kind.get<std::string>() : "", crypto::Sha256Hex(sealed), packet.ContentHash()});
  }
  RETURN_IF_ERROR(FsyncPath(packets_dir));
  manifest.signature = station_key.Sign(ExportManifestSignedText(manifest));
  RETURN_IF_ERROR(ReplaceDurably((fs::path(dir) / kManifestFileName).string(),
                                 ExportManifestToJson(manifest).dump(2) + "\n"));
  return manifest;
}

StatusOr<ExportFolder> ReadExportManifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kManifestFileName).string();
  ASSIGN_OR_RETURN(std::string text, ReadLimited(path, kMaxManifestBytes, "export manifest"));
  auto manifest = ParseExportManifest(text);
  if (!manifest.ok()) return manifest.status().WithContext(path);
  return ExportFolder{std::move(*manifest), crypto::Sha256Hex(text)};
}

Status VerifyExportManifest(const ExportManifest& manifest, std::span<const uint8_t> station_public_key,
                            std::span<const uint8_t> central_sealing_key) {
  if (!crypto::Verify(station_public_key, ExportManifestSignedText(manifest), manifest.signature).ok()) {
    return Unauthenticated("the export manifest is not signed by station " + manifest.Signer() +
                           "'s key (forged or edited); nothing was imported");
  }
  if (!std::ranges::equal(manifest.sealed_to, central_sealing_key)) {
    return InvalidArgument("the export of station " + manifest.station_id +
                           " is sealed to another central's key; nothing was imported");
  }
  return Status::Ok();
}

StatusOr<std::vector<Packet>> OpenExportPackets(const std::string& dir, const ExportManifest& manifest,
                                                const crypto::SealingKey& central_sealing) {
  std::set<std::string> listed;
  for (const ExportEntry& entry : manifest.packets) listed.insert(ExportPacketPath(entry.sequence));
  std::error_code error;
  for (const auto& file : fs::directory_iterator(fs::path(dir) / kExportPacketsDir, error)) {
    std::string relative = std::string(kExportPacketsDir) + "/" + file.path().filename().string();
    if (!listed.contains(relative)) {
      return InvalidArgument("export file " + relative + " is not in the manifest; nothing was imported");
    }
  }
  std::vector<Packet> packets;
  for (const ExportEntry& entry : manifest.packets) {
    const std::string relative = ExportPacketPath(entry.sequence);
    const auto refuse = [&](std::string_view why) {
      return InvalidArgument("export file " + relative + " " + std::string(why) + "; nothing was imported");
    };
    auto sealed = ReadLimited((fs::path(dir) / relative).string(), kMaxSealedPacketBytes, "export file");
    if (!sealed.ok()) return refuse("is missing or unreadable (the export is incomplete): " + sealed.status().message());
    if (crypto::Sha256Hex(*sealed) != entry.file_sha256) {
      return refuse("is truncated or altered: its sha256 is not the manifest's " + entry.file_sha256.substr(0, 12) +
                    "...");
    }
    auto opened = central_sealing.Open(crypto::AsBytes(*sealed));
    if (!opened.ok()) return refuse("does not open with central's sealing key");
    auto json = nlohmann::json::parse(opened->begin(), opened->end(), nullptr, false);
    const auto envelope = json.is_object() ? json.find("envelope") : json.end();
    const auto signature = json.is_object() ? json.find("signature") : json.end();
    if (envelope == json.end() || signature == json.end() || !envelope->is_string() || !signature->is_string()) {
      return refuse("does not hold a packet {envelope, signature}");
    }
    auto signature_bytes = crypto::Base64Decode(signature->get<std::string>());
    if (!signature_bytes.ok()) return refuse("holds a packet whose signature is not base64");
    Packet packet{envelope->get<std::string>(), std::move(*signature_bytes)};
    if (packet.ContentHash() != entry.packet_sha256) return refuse("holds another packet than the manifest names");
    // Read leniently: a kind or version this central does not know, or a
    // malformed envelope, is ingest's to refuse for that packet alone, as on
    // the network.
    const auto claimed = nlohmann::json::parse(packet.envelope_text, nullptr, false);
    if (claimed.is_object() && (claimed.value("station", nlohmann::json()) != manifest.station_id ||
                                claimed.value("seq", nlohmann::json()) != entry.sequence ||
                                claimed.value("kind", nlohmann::json("")) != entry.kind)) {
      return refuse("holds a packet of another station, sequence or kind than the manifest names");
    }
    packets.push_back(std::move(packet));
  }
  return packets;
}

namespace {

constexpr std::string_view kMirrorMarkerFormat = "ektp-outbox-mirror-v1 ";

std::string MirrorMarkerText(std::string_view station_id) {
  const std::string id(station_id);
  return std::string(kMirrorMarkerFormat) + id + "\n" +
         "This folder is the rolling copy of ektp station " + id + "'s outbox: the enrollments and other work\n"
         "central has not yet acknowledged. Every packet is sealed to central's key; nothing here can be read\n"
         "without central. Do not edit it. To bring the work to central if the station is lost, see\n"
         "docs/operations.md, \"An outbox mirror on a second device\".\n";
}

// The folder's mirror marker names `station_id`; writes the marker into an
// empty folder. kFailedPrecondition for any other folder.
Status ClaimMirrorFolder(const std::string& dir, std::string_view station_id) {
  const std::string marker = (fs::path(dir) / kMirrorMarkerFileName).string();
  std::error_code error;
  if (!fs::exists(marker, error)) {
    if (!fs::is_empty(dir, error)) {
      return FailedPrecondition("mirror folder " + dir + " is not empty and is not an outbox mirror (no " +
                                std::string(kMirrorMarkerFileName) + "); give the mirror an empty folder of its own");
    }
    return WriteDurably(marker, MirrorMarkerText(station_id));
  }
  std::ifstream in(marker);
  std::string first;
  std::getline(in, first);
  if (first != std::string(kMirrorMarkerFormat) + std::string(station_id)) {
    return FailedPrecondition("mirror folder " + dir + " holds another outbox mirror ('" + first.substr(0, 64) +
                              "'), not station " + std::string(station_id) + "'s; give each station its own folder");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<MirrorWrite> WriteMirror(const std::string& dir, std::string_view station_id, std::string_view created_at,
                                  const std::vector<std::pair<int64_t, Packet>>& packets,
                                  const crypto::SigningKey& station_key, std::span<const uint8_t> central_sealing_key,
                                  const ExportManifest* known) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return Unavailable("mirror folder " + dir + " does not exist (is the disk plugged in and mounted?)");
  }
  RETURN_IF_ERROR(ClaimMirrorFolder(dir, station_id));
  const std::string packets_dir = (fs::path(dir) / kExportPacketsDir).string();
  fs::create_directory(packets_dir, error);
  if (error) return Unavailable("cannot create " + packets_dir + ": " + error.message());

  // The files that may be kept: sequence -> entry. `known` is trusted only if
  // the folder still holds that very manifest (not another disk mounted in
  // its place, nor an older mirror of this station); otherwise each file is
  // checked against the folder's own manifest.
  std::map<int64_t, ExportEntry> previous;
  auto folder = ReadExportManifest(dir);
  const bool trusted = known != nullptr && folder.ok() && folder->manifest.signature == known->signature;
  if (folder.ok() && folder->manifest.station_id == station_id && folder->manifest.carried_by.empty() &&
      std::ranges::equal(folder->manifest.sealed_to, central_sealing_key)) {
    for (const ExportEntry& entry : folder->manifest.packets) previous.emplace(entry.sequence, entry);
  }

  MirrorWrite result;
  result.manifest = {std::string(station_id), "", std::string(created_at),
                     crypto::Bytes(central_sealing_key.begin(), central_sealing_key.end()), {}, {}};
  for (const auto& [sequence, packet] : packets) {
    const std::string path = (fs::path(dir) / ExportPacketPath(sequence)).string();
    const std::string content_hash = packet.ContentHash();
    if (auto kept = previous.find(sequence); kept != previous.end() && kept->second.packet_sha256 == content_hash) {
      auto bytes = trusted ? StatusOr<std::string>(std::string()) : ReadLimited(path, kMaxSealedPacketBytes, "mirror file");
      if (trusted || (bytes.ok() && crypto::Sha256Hex(*bytes) == kept->second.file_sha256)) {
        result.manifest.packets.push_back(kept->second);
        ++result.reused;
        continue;
      }
    }
    const auto claimed = nlohmann::json::parse(packet.envelope_text, nullptr, false);
    const nlohmann::json kind = claimed.is_object() ? claimed.value("kind", nlohmann::json()) : nlohmann::json();
    crypto::Bytes sealed = crypto::Seal(central_sealing_key, crypto::AsBytes(PacketToJson(packet).dump()));
    RETURN_IF_ERROR(WriteDurably(path, std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size())));
    result.manifest.packets.push_back(
        {sequence, kind.is_string() ? kind.get<std::string>() : "", crypto::Sha256Hex(sealed), content_hash});
    ++result.sealed;
  }
  RETURN_IF_ERROR(FsyncPath(packets_dir));
  result.manifest.signature = station_key.Sign(ExportManifestSignedText(result.manifest));
  RETURN_IF_ERROR(ReplaceDurably((fs::path(dir) / kManifestFileName).string(),
                                 ExportManifestToJson(result.manifest).dump(2) + "\n"));

  // Now that the manifest no longer names them: packets central acknowledged
  // (or that were parked), and files of a write cut short.
  std::set<std::string> listed;
  for (const ExportEntry& entry : result.manifest.packets) {
    listed.insert(fs::path(ExportPacketPath(entry.sequence)).filename().string());
  }
  for (const auto& file : fs::directory_iterator(packets_dir, error)) {
    if (listed.contains(file.path().filename().string())) continue;
    if (fs::remove(file.path(), error)) ++result.removed;
  }
  if (result.removed > 0) RETURN_IF_ERROR(FsyncPath(packets_dir));
  return result;
}

StatusOr<ExportManifest> WriteCarryOverFromFolder(const std::string& from, const std::string& dir,
                                                  std::string_view created_at, const crypto::SigningKey& carrier_key,
                                                  std::string_view carried_by,
                                                  std::span<const uint8_t> central_sealing_key) {
  ASSIGN_OR_RETURN(ExportFolder folder, ReadExportManifest(from));
  const ExportManifest& old = folder.manifest;
  if (!old.carried_by.empty()) {
    return FailedPrecondition(from + " is already a carry-over (by station " + old.carried_by +
                              "); import it at central as it is");
  }
  if (old.station_id == carried_by) {
    return FailedPrecondition("station " + old.station_id + " cannot carry over its own work; use `station export`");
  }
  if (!std::ranges::equal(old.sealed_to, central_sealing_key)) {
    return FailedPrecondition("the packets in " + from + " are sealed to another central than station " +
                              std::string(carried_by) + "'s; nothing was written");
  }
  if (old.packets.empty()) {
    return FailedPrecondition("nothing to carry over: " + from + " lists no packet of station " + old.station_id +
                              " (central had acknowledged all its work)");
  }
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_empty(dir, error)) {
    return FailedPrecondition("carry-over folder " + dir + " is not empty; write to a new or empty folder");
  }
  // Every file checks out before anything is written.
  auto read_listed = [&](const ExportEntry& entry) -> StatusOr<std::string> {
    const std::string relative = ExportPacketPath(entry.sequence);
    auto bytes = ReadLimited((fs::path(from) / relative).string(), kMaxSealedPacketBytes, "file");
    if (!bytes.ok()) {
      return InvalidArgument("file " + relative + " of " + from + " is missing or unreadable: " +
                             bytes.status().message() + "; nothing was written");
    }
    if (crypto::Sha256Hex(*bytes) != entry.file_sha256) {
      return InvalidArgument("file " + relative + " of " + from + " is truncated or altered: its sha256 is not the "
                             "manifest's " + entry.file_sha256.substr(0, 12) + "...; nothing was written");
    }
    return bytes;
  };
  for (const ExportEntry& entry : old.packets) RETURN_IF_ERROR(read_listed(entry).status());

  const std::string packets_dir = (fs::path(dir) / kExportPacketsDir).string();
  fs::create_directories(packets_dir, error);
  if (error) return Unavailable("cannot create " + packets_dir + ": " + error.message());
  for (const ExportEntry& entry : old.packets) {
    ASSIGN_OR_RETURN(std::string bytes, read_listed(entry));  // again: the disk may have changed meanwhile
    RETURN_IF_ERROR(WriteDurably((fs::path(dir) / ExportPacketPath(entry.sequence)).string(), bytes));
  }
  RETURN_IF_ERROR(FsyncPath(packets_dir));
  ExportManifest manifest{old.station_id, std::string(carried_by), std::string(created_at), old.sealed_to,
                          old.packets, {}};
  manifest.signature = carrier_key.Sign(ExportManifestSignedText(manifest));
  RETURN_IF_ERROR(ReplaceDurably((fs::path(dir) / kManifestFileName).string(),
                                 ExportManifestToJson(manifest).dump(2) + "\n"));
  return manifest;
}

std::string ImportReceiptSignedText(const ImportReceipt& receipt) {
  return VerdictsSignedText("ektp-import-receipt/1", receipt.station_id,
                            receipt.manifest_sha256 + "@" + receipt.imported_at, receipt.verdicts);
}

void SignImportReceipt(const crypto::SigningKey& central_key, ImportReceipt& receipt) {
  receipt.verdicts.signature = central_key.Sign(ImportReceiptSignedText(receipt));
}

Status VerifyImportReceipt(const ImportReceipt& receipt, std::span<const uint8_t> central_public_key,
                           std::string_view station_id, const std::map<int64_t, std::string>& queued) {
  if (receipt.station_id != station_id) {
    return FailedPrecondition("the receipt is for station " + receipt.station_id + ", not this station " +
                              std::string(station_id) + "; nothing was applied");
  }
  if (!crypto::Verify(central_public_key, ImportReceiptSignedText(receipt), receipt.verdicts.signature).ok()) {
    return Unauthenticated("the receipt is not signed by central (forged or edited); nothing was applied");
  }
  return CheckVerdictsMatch(receipt.verdicts, queued, "the receipt", "this station never queued");
}

nlohmann::json ImportReceiptToJson(const ImportReceipt& receipt) {
  nlohmann::json json = UploadResponseToJson(receipt.verdicts);
  json["v"] = 1;
  json["station"] = receipt.station_id;
  json["manifest_sha256"] = receipt.manifest_sha256;
  json["imported_at"] = receipt.imported_at;
  return json;
}

StatusOr<ImportReceipt> ParseImportReceipt(std::string_view text) {
  ASSIGN_OR_RETURN(nlohmann::json json, ParseVersion1(text, "the receipt"));
  ImportReceipt receipt;
  try {
    receipt.station_id = json.at("station").get<std::string>();
    receipt.manifest_sha256 = json.at("manifest_sha256").get<std::string>();
    receipt.imported_at = json.at("imported_at").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("the receipt is malformed: ") + e.what());
  }
  ASSIGN_OR_RETURN(receipt.verdicts, UploadResponseFromJson(json));
  return receipt;
}

Status WriteImportReceipt(const std::string& path, const ImportReceipt& receipt) {
  return ReplaceDurably(path, ImportReceiptToJson(receipt).dump(2) + "\n");
}

StatusOr<ImportReceipt> ReadImportReceipt(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadLimited(path, kMaxManifestBytes, "receipt"));
  auto receipt = ParseImportReceipt(text);
  if (!receipt.ok()) return receipt.status().WithContext(path);
  return receipt;
}

std::string DiskFeedBinding(int64_t after) { return "disk-feed:after=" + std::to_string(after); }

Status WriteDiskFeed(const std::string& path, DiskFeed feed, std::string_view station_id,
                     const crypto::SigningKey& central_key, std::span<const uint8_t> station_box_key) {
  SignFeedPage(central_key, station_id, DiskFeedBinding(feed.after), feed.page);
  const nlohmann::json json = {{"v", 1}, {"after", feed.after}, {"page", FeedPageToJson(feed.page)}};
  crypto::Bytes sealed = crypto::Seal(station_box_key, crypto::AsBytes(json.dump()));
  return ReplaceDurably(path, std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()));
}

StatusOr<DiskFeed> ReadDiskFeed(const std::string& path, const crypto::SealingKey& box_key,
                                std::span<const uint8_t> central_public_key, std::string_view station_id) {
  ASSIGN_OR_RETURN(std::string sealed, ReadLimited(path, kMaxManifestBytes * 4, "feed file"));
  auto opened = box_key.Open(crypto::AsBytes(sealed));
  if (!opened.ok()) {
    return InvalidArgument("feed file " + path + " does not open with this station's box key (another station's, "
                           "or damaged); nothing was applied");
  }
  ASSIGN_OR_RETURN(nlohmann::json json,
                   ParseVersion1(std::string_view(reinterpret_cast<const char*>(opened->data()), opened->size()),
                                 "feed file " + path));
  DiskFeed feed;
  try {
    feed.after = json.at("after").get<int64_t>();
    auto page = ParseFeedPage(json.at("page").dump());
    if (!page.ok()) return page.status().WithContext("feed file " + path);
    feed.page = std::move(*page);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("feed file " + path + " is malformed: " + e.what());
  }
  RETURN_IF_ERROR(VerifyFeedPage(feed.page, central_public_key, station_id, DiskFeedBinding(feed.after), feed.after)
                      .WithContext("feed file " + path));
  return feed;
}

}  // namespace ektp::sync
