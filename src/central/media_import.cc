#include "central/media_import.h"

#include <filesystem>

#include "central/print_feed.h"
#include "central/station_registry.h"
#include "central/sukets.h"
#include "service/log.h"

namespace ektp::central {

StatusOr<sync::ImportReceipt> ImportExport(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                                           const RegionRegistry& regions, const std::string& dir,
                                           std::string receipt_path) {
  if (receipt_path.empty()) receipt_path = (std::filesystem::path(dir) / sync::kReceiptFileName).string();
  ASSIGN_OR_RETURN(sync::ExportFolder folder, sync::ReadExportManifest(dir));
  const sync::ExportManifest& manifest = folder.manifest;
  StationRegistry registry(db, clock);
  ASSIGN_OR_RETURN(RegisteredStation station, registry.Get(manifest.station_id));
  ASSIGN_OR_RETURN(RegisteredStation signer, registry.Get(manifest.Signer()));
  RETURN_IF_ERROR(sync::VerifyExportManifest(manifest, signer.public_key, keys.sealing.public_key()));
  ASSIGN_OR_RETURN(std::vector<sync::Packet> packets, sync::OpenExportPackets(dir, manifest, keys.sealing));

  sync::ImportReceipt receipt{station.id, folder.manifest_sha256, FormatTimestamp(clock.Now()), {}};
  Ingest ingest(db, clock, keys, regions);
  int counts[3] = {0, 0, 0};  // by sync::Verdict
  for (size_t first = 0; first < packets.size(); first += kImportBatchPackets) {
    const size_t last = std::min(packets.size(), first + kImportBatchPackets);
    std::vector<sync::Packet> batch(packets.begin() + first, packets.begin() + last);
    ASSIGN_OR_RETURN(sync::UploadResponse response, manifest.carried_by.empty()
                                                        ? ingest.Upload(station.id, batch)
                                                        : ingest.CarryOver(station.id, manifest.carried_by, batch));
    for (sync::PacketResult& result : response.results) {
      ++counts[static_cast<int>(result.verdict)];
      if (result.verdict == sync::Verdict::kRejected) {
        service::LogWarn("central.packet_rejected",
                         {{"station", station.id}, {"sequence", result.sequence}, {"error", result.error}});
      }
      receipt.verdicts.results.push_back(std::move(result));
    }
    receipt.verdicts.cursor = response.cursor;
  }
  sync::SignImportReceipt(keys.signing, receipt);
  RETURN_IF_ERROR(sync::WriteImportReceipt(receipt_path, receipt));
  service::LogInfo("central.export_imported",
                   {{"station", station.id}, {"carried_by", manifest.carried_by}, {"packets", packets.size()}, {"accepted", counts[0]},
                    {"duplicate", counts[1]}, {"rejected", counts[2]}, {"cursor", receipt.verdicts.cursor}});
  return receipt;
}

StatusOr<size_t> ExportFeed(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                            const RegionRegistry& regions, std::string_view station_id, int64_t after,
                            const std::string& dir) {
  ASSIGN_OR_RETURN(RegisteredStation station, StationRegistry(db, clock).Get(station_id));
  if (station.status == StationStatus::kRevoked) return PermissionDenied("station " + station.id + " is revoked" + RevocationNote(station));
  if (station.box_public_key.empty()) {
    return FailedPrecondition("station " + station.id + " registered no X25519 box key; its feed cannot be sealed "
                              "to it and travels over the network only");
  }
  if (after < 0) return InvalidArgument("the feed cursor must be 0 or more, not " + std::to_string(after));
  // As a network read of the feed does; a failure there must not hold back the rest.
  if (auto queued = QueuePrintJobs(db, clock, keys, station); !queued.ok()) {
    service::LogWarn("central.print_jobs_failed", {{"station", station.id}, {"error", queued.status().ToString()}});
  }
  if (auto queued = QueueSuketTrust(db, clock, keys, station.id); !queued.ok()) {
    service::LogWarn("central.suket_trust_failed", {{"station", station.id}, {"error", queued.status().ToString()}});
  }
  Ingest ingest(db, clock, keys, regions);
  sync::DiskFeed feed{after, {}};
  while (feed.page.items.size() < static_cast<size_t>(kMaxDiskFeedItems)) {
    const int64_t from = feed.page.items.empty() ? after : feed.page.items.back().id;
    const int limit = std::min<int>(sync::kMaxFeedPageItems, kMaxDiskFeedItems - static_cast<int>(feed.page.items.size()));
    ASSIGN_OR_RETURN(std::vector<FeedItem> items, ingest.Feed(station.id, from, limit));
    if (items.empty()) break;
    for (FeedItem& item : items) feed.page.items.push_back(std::move(item));
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Unavailable("cannot create " + dir + ": " + error.message());
  const size_t count = feed.page.items.size();
  RETURN_IF_ERROR(sync::WriteDiskFeed((std::filesystem::path(dir) / sync::kFeedFileName).string(), std::move(feed),
                                      station.id, keys.signing, station.box_public_key));
  service::LogInfo("central.feed_exported", {{"station", station.id}, {"after", after}, {"items", count}});
  return count;
}

}  // namespace ektp::central
