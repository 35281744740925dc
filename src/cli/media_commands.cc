// `ektp station export`, `ektp central import` and `ektp station
// import-receipt`: sync by removable media for stations without a link
// (sync/media.h; docs/operations.md, "Sync by removable media").
#include <filesystem>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "central/media_import.h"
#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"

namespace ektp::cli {

int StationExport(const Args& args) {
  CLI::App app("Write the station's pending outbox to a folder (a USB disk) for `central import`: the signed packets, "
               "sealed to central, and a signed manifest",
               "station export");
  std::string dir, to;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--to", to, "the folder to write (new or empty)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  auto manifest = opened->station->ExportOutbox(to);
  if (!manifest.ok()) return Fail(manifest.status());
  auto feed_cursor = opened->station->FeedCursor();
  if (!feed_cursor.ok()) return Fail(feed_cursor.status());
  std::cout << manifest->packets.size() << " packet(s), sequences " << manifest->packets.front().sequence << ".."
            << manifest->packets.back().sequence << ", exported to " << to << "\n"
            << "feed cursor " << *feed_cursor << ": at central, `ektp central export-feed --station "
            << opened->station->identity().station_id << " --after " << *feed_cursor << " --to " << to
            << "` writes the feed for `ektp station import-feed`\n"
            << "Bawa folder ini ke pusat (`ektp central import`), lalu terapkan tanda terimanya di sini dengan "
               "`ektp station import-receipt`. Paket tetap menunggu sampai tanda terima atau sinkronisasi jaringan.\n";
  return kExitOk;
}

int StationCarryOver(const Args& args) {
  CLI::App app("Write a revoked (stolen or broken) station's unsynced work to a folder for `central import`: its "
               "packets as it signed them, sealed to central, with a manifest signed by this replacement station. "
               "The source is the old station's outbox mirror (backup.outbox_mirror) or its folder restored from "
               "a backup (`ektp station restore`)",
               "station carry-over");
  std::string dir, from, to;
  app.add_option("--dir", dir, "this (replacement) station's data directory")->required();
  app.add_option("--from", from,
                 "the old station's outbox mirror, or its folder restored from its backup; only read")
      ->required();
  app.add_option("--to", to, "the folder to write (new or empty)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto replacement = OpenStation(dir);
  if (!replacement.ok()) return Fail(replacement.status());
  const std::string& new_id = replacement->station->identity().station_id;
  // A folder with a manifest and no database is a mirror (or an export of it).
  const bool from_folder = std::filesystem::exists(std::filesystem::path(from) / sync::kManifestFileName) &&
                           !std::filesystem::exists(std::filesystem::path(from) / "station.db");
  std::optional<OpenedStation> old;
  StatusOr<sync::ExportManifest> manifest = [&]() -> StatusOr<sync::ExportManifest> {
    if (from_folder) return replacement->station->ExportCarryOverFromFolder(from, to);
    ASSIGN_OR_RETURN(old, OpenStation(from));
    return replacement->station->ExportCarryOver(*old->station, to);
  }();
  if (!manifest.ok()) return Fail(manifest.status());
  const std::string& old_id = manifest->station_id;
  std::cout << manifest->packets.size() << " packet(s) of " << old_id << ", sequences "
            << manifest->packets.front().sequence << ".." << manifest->packets.back().sequence << ", written to " << to
            << "\nat central: `ektp central import " << to << "` (after `ektp central station replace " << old_id
            << " --by " << new_id << "`)\n";
  if (from_folder) {
    std::cout << "the mirror holds no operator accounts: add " << old_id << "'s operators here anew with "
              << "`ektp station operator add --dir " << dir << " ...`, each with a new password\n";
    return kExitOk;
  }
  auto operators = old->station->Operators();
  if (!operators.ok()) return Fail(operators.status());
  std::cout << "operator accounts of " << old_id << " to reissue here, each with a new password:\n";
  for (const station::Operator& op : *operators) {
    std::cout << "  ektp station operator add --dir " << dir << " --username " << op.username << " --name \"" << op.full_name
              << "\" --role "
              << station::RoleName(op.role) << "\n";
  }
  return kExitOk;
}

int CentralImport(const Args& args) {
  CLI::App app("Ingest a station's export folder exactly as a network upload, and write central's signed receipt "
               "into it",
               "central import");
  central::CentralOptions options;
  std::string folder, receipt_path;
  AddDatabaseOptions(app, options);
  app.add_option("folder", folder, "the export folder (from `station export --to`)")->required();
  app.add_option("--receipt", receipt_path, "write the receipt here instead of <folder>/receipt.json");
  if (auto exit = Parse(app, args)) return *exit;
  auto keys = central::LoadCentralKeys(options.data_dir);
  if (!keys.ok()) return Fail(keys.status());
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto receipt =
      central::ImportExport(**db, SystemClock::Instance(), *keys, RegionRegistry::Default(), folder, receipt_path);
  if (!receipt.ok()) return Fail(receipt.status());
  int counts[3] = {0, 0, 0};
  for (const sync::PacketResult& result : receipt->verdicts.results) ++counts[static_cast<int>(result.verdict)];
  std::cout << "station " << receipt->station_id << ": " << receipt->verdicts.results.size() << " packet(s), "
            << counts[0] << " accepted, " << counts[1] << " duplicate, " << counts[2] << " rejected; cursor "
            << receipt->verdicts.cursor << "\nreceipt written to "
            << (receipt_path.empty() ? folder + "/" + std::string(sync::kReceiptFileName) : receipt_path) << "\n";
  return kExitOk;
}

int StationImportReceipt(const Args& args) {
  CLI::App app("Apply central's signed receipt for an export: the packets it stored are acked, those it refused "
               "parked with the reason",
               "station import-receipt");
  std::string dir, path;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("receipt", path, "the receipt file (<export folder>/receipt.json)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  auto receipt = sync::ReadImportReceipt(path);
  if (!receipt.ok()) return Fail(receipt.status());
  auto outcome = opened->station->ImportReceipt(*receipt);
  if (!outcome.ok()) return Fail(outcome.status());
  std::cout << outcome->acked << " packet(s) acked, " << outcome->parked << " parked, " << outcome->unchanged
            << " settled already\n";
  if (outcome->parked > 0) std::cout << "Paket yang ditolak pusat: lihat `ektp station outbox --state parked`.\n";
  return kExitOk;
}

int CentralExportFeed(const Args& args) {
  CLI::App app("Write a station's feed after its cursor to a folder (<folder>/feed.sealed), signed and sealed to the "
               "station, for `station import-feed`",
               "central export-feed");
  central::CentralOptions options;
  std::string station_id, to;
  int64_t after = 0;
  AddDatabaseOptions(app, options);
  app.add_option("--station", station_id, "the station's id")->required();
  app.add_option("--after", after, "the station's feed cursor (printed by `station export`)")->required();
  app.add_option("--to", to, "the folder to write feed.sealed into (the export folder)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto keys = central::LoadCentralKeys(options.data_dir);
  if (!keys.ok()) return Fail(keys.status());
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto written =
      central::ExportFeed(**db, SystemClock::Instance(), *keys, RegionRegistry::Default(), station_id, after, to);
  if (!written.ok()) return Fail(written.status());
  std::cout << *written << " feed item(s) after " << after << " for " << station_id << " written to " << to << "/"
            << sync::kFeedFileName << "\n";
  return kExitOk;
}

int StationImportFeed(const Args& args) {
  CLI::App app("Apply the feed central wrote to a disk (`central export-feed`), as if it came over the network",
               "station import-feed");
  std::string dir, path;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("feed", path, "the feed file (<folder>/feed.sealed)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  if (!opened->box_key) {
    return Fail(FailedPrecondition(dir + " has no station-box.key; this station's feed comes over the network only"));
  }
  auto outcome = opened->station->ImportFeed(path, *opened->box_key);
  if (!outcome.ok()) return Fail(outcome.status());
  std::cout << outcome->items << " feed item(s) read, " << outcome->refused << " refused (kept with the reason); "
            << "feed cursor " << outcome->cursor << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
