#include "central/media_import.h"

#include <filesystem>

#include "central/station_registry.h"
#include "service/log.h"

namespace ektp::central {

StatusOr<sync::ImportReceipt> ImportExport(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                                           const RegionRegistry& regions, const std::string& dir,
                                           std::string receipt_path) {
  if (receipt_path.empty()) receipt_path = (std::filesystem::path(dir) / sync::kReceiptFileName).string();
  ASSIGN_OR_RETURN(sync::ExportFolder folder, sync::ReadExportManifest(dir));
  const sync::ExportManifest& manifest = folder.manifest;
  auto station = StationRegistry(db, clock).Get(manifest.station_id);
  if (!station.ok()) return station.status().WithContext("the export's station " + manifest.station_id);
  RETURN_IF_ERROR(sync::VerifyExportManifest(manifest, station->public_key, keys.sealing.public_key()));
  ASSIGN_OR_RETURN(std::vector<sync::Packet> packets, sync::OpenExportPackets(dir, manifest, keys.sealing));

  sync::ImportReceipt receipt{station->id, folder.manifest_sha256, FormatTimestamp(clock.Now()), {}};
  Ingest ingest(db, clock, keys, regions);
  int counts[3] = {0, 0, 0};  // by sync::Verdict
  for (size_t first = 0; first < packets.size(); first += kImportBatchPackets) {
    const size_t last = std::min(packets.size(), first + kImportBatchPackets);
    std::vector<sync::Packet> batch(packets.begin() + first, packets.begin() + last);
    ASSIGN_OR_RETURN(sync::UploadResponse response, ingest.Upload(station->id, batch));
    for (sync::PacketResult& result : response.results) {
      ++counts[static_cast<int>(result.verdict)];
      if (result.verdict == sync::Verdict::kRejected) {
        service::LogWarn("central.packet_rejected",
                         {{"station", station->id}, {"sequence", result.sequence}, {"error", result.error}});
      }
      receipt.verdicts.results.push_back(std::move(result));
    }
    receipt.verdicts.cursor = response.cursor;
  }
  sync::SignImportReceipt(keys.signing, receipt);
  RETURN_IF_ERROR(sync::WriteImportReceipt(receipt_path, receipt));
  service::LogInfo("central.export_imported",
                   {{"station", station->id}, {"packets", packets.size()}, {"accepted", counts[0]},
                    {"duplicate", counts[1]}, {"rejected", counts[2]}, {"cursor", receipt.verdicts.cursor}});
  return receipt;
}

}  // namespace ektp::central
