// Sync by removable media: the station's export of its outbox and its
// application of central's receipt (station.h, sync/media.h).
#include <limits>
#include <map>
#include <set>

#include "core/text.h"
#include "service/log.h"
#include "station/station.h"

namespace ektp::station {

namespace {

// Every pending packet of `station` whose envelope can travel; the others are
// parked with kDamagedPacketReason when `park_damaged`, skipped otherwise.
StatusOr<std::vector<std::pair<int64_t, sync::Packet>>> Exportable(Station& station, bool park_damaged) {
  ASSIGN_OR_RETURN(auto pending,
                   station.PendingPackets(std::numeric_limits<int>::max(), std::numeric_limits<size_t>::max()));
  std::vector<std::pair<int64_t, sync::Packet>> packets;
  packets.reserve(pending.size());
  for (auto& [sequence, packet] : pending) {
    if (!IsValidUtf8(packet.envelope_text)) {
      if (park_damaged) RETURN_IF_ERROR(station.Park(sequence, kDamagedPacketReason));
      service::LogWarn("sync.packet_parked", {{"sequence", sequence}, {"error", "envelope is not valid UTF-8"}});
      continue;
    }
    packets.emplace_back(sequence, std::move(packet));
  }
  return packets;
}

}  // namespace

StatusOr<sync::ExportManifest> Station::ExportCarryOver(Station& replaced, const std::string& dir) {
  const Identity& old = replaced.identity();
  if (old.station_id == identity_.station_id) {
    return FailedPrecondition("station " + old.station_id + " cannot carry over its own work; use `station export`");
  }
  if (old.central_sealing_key != identity_.central_sealing_key) {
    return FailedPrecondition("station " + old.station_id + " is registered with another central than " +
                              identity_.station_id + "; nothing was written");
  }
  ASSIGN_OR_RETURN(auto packets, Exportable(replaced, /*park_damaged=*/false));
  ASSIGN_OR_RETURN(sync::ExportManifest manifest,
                   sync::WriteExport(dir, old.station_id, FormatTimestamp(clock_.Now()), packets, key_,
                                     identity_.central_sealing_key, identity_.station_id));
  const std::string range = std::to_string(manifest.packets.front().sequence) + ".." +
                            std::to_string(manifest.packets.back().sequence);
  RETURN_IF_ERROR(Audit("", "carry_over_exported",
                        "station " + old.station_id + ": " + std::to_string(manifest.packets.size()) + " packets " + range));
  service::LogInfo("sync.carry_over_exported",
                   {{"from_station", old.station_id}, {"packets", manifest.packets.size()}, {"sequences", range}});
  return manifest;
}

StatusOr<sync::ExportManifest> Station::ExportCarryOverFromFolder(const std::string& from, const std::string& dir) {
  ASSIGN_OR_RETURN(sync::ExportManifest manifest,
                   sync::WriteCarryOverFromFolder(from, dir, FormatTimestamp(clock_.Now()), key_, identity_.station_id,
                                                  identity_.central_sealing_key));
  const std::string range = std::to_string(manifest.packets.front().sequence) + ".." +
                            std::to_string(manifest.packets.back().sequence);
  RETURN_IF_ERROR(Audit("", "carry_over_exported",
                        "station " + manifest.station_id + ": " + std::to_string(manifest.packets.size()) +
                            " packets " + range + " from a folder"));
  service::LogInfo("sync.carry_over_exported", {{"from_station", manifest.station_id},
                                                {"packets", manifest.packets.size()},
                                                {"sequences", range},
                                                {"source", "folder"}});
  return manifest;
}

StatusOr<sync::MirrorWrite> Station::WriteOutboxMirror(const std::string& dir, const sync::ExportManifest* known) {
  ASSIGN_OR_RETURN(auto packets, Exportable(*this, /*park_damaged=*/false));
  return sync::WriteMirror(dir, identity_.station_id, FormatTimestamp(clock_.Now()), packets, key_,
                           identity_.central_sealing_key, known);
}

StatusOr<std::vector<int64_t>> Station::PendingSequences() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sequence FROM outbox WHERE state = ? ORDER BY sequence",
                                        {std::string(OutboxStateName(OutboxState::kPending))}));
  std::vector<int64_t> sequences;
  sequences.reserve(rows.size());
  for (const store::Row& row : rows) sequences.push_back(row.Int(0));
  return sequences;
}

StatusOr<std::vector<Operator>> Station::Operators() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT username, full_name, role FROM operators WHERE disabled_at IS NULL "
                                        "ORDER BY username"));
  std::vector<Operator> operators;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(Role role, ParseRole(row.Text(2)));
    operators.push_back({row.Text(0), row.Text(1), role});
  }
  return operators;
}

StatusOr<sync::ExportManifest> Station::ExportOutbox(const std::string& dir) {
  ASSIGN_OR_RETURN(auto packets, Exportable(*this, /*park_damaged=*/true));
  ASSIGN_OR_RETURN(sync::ExportManifest manifest,
                   sync::WriteExport(dir, identity_.station_id, FormatTimestamp(clock_.Now()), packets, key_,
                                     identity_.central_sealing_key));
  const std::string range = std::to_string(manifest.packets.front().sequence) + ".." +
                            std::to_string(manifest.packets.back().sequence);
  RETURN_IF_ERROR(Audit("", "outbox_exported", std::to_string(manifest.packets.size()) + " packets " + range));
  service::LogInfo("sync.outbox_exported", {{"packets", manifest.packets.size()}, {"sequences", range}});
  return manifest;
}

StatusOr<ReceiptOutcome> Station::ImportReceipt(const sync::ImportReceipt& receipt) {
  ReceiptOutcome outcome;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    outcome = {};
    std::map<int64_t, std::string> queued;  // sequence -> content hash, of the sequences the receipt names
    std::set<int64_t> pending;
    for (const sync::PacketResult& result : receipt.verdicts.results) {
      ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT envelope, state FROM outbox WHERE sequence = ?", {result.sequence}));
      if (rows.empty()) continue;  // VerifyImportReceipt names it
      queued[result.sequence] = crypto::Sha256Hex(rows[0].Text(0));
      if (rows[0].Text(1) == OutboxStateName(OutboxState::kPending)) pending.insert(result.sequence);
    }
    RETURN_IF_ERROR(sync::VerifyImportReceipt(receipt, identity_.central_signing_key, identity_.station_id, queued));
    for (const sync::PacketResult& result : receipt.verdicts.results) {
      if (!pending.contains(result.sequence)) ++outcome.unchanged;
      else if (result.verdict == sync::Verdict::kRejected) ++outcome.parked;
      else ++outcome.acked;
    }
    RETURN_IF_ERROR(ApplyVerdicts(receipt.verdicts));
    return Audit("", "receipt_imported",
                 "manifest " + receipt.manifest_sha256.substr(0, 12) + ": " + std::to_string(outcome.acked) +
                     " acked, " + std::to_string(outcome.parked) + " parked");
  }));
  service::LogInfo("sync.receipt_imported", {{"acked", outcome.acked}, {"parked", outcome.parked},
                                             {"unchanged", outcome.unchanged}, {"cursor", receipt.verdicts.cursor}});
  return outcome;
}

StatusOr<FeedImportOutcome> Station::ImportFeed(const std::string& path, const crypto::SealingKey& box_key) {
  ASSIGN_OR_RETURN(sync::DiskFeed feed,
                   sync::ReadDiskFeed(path, box_key, identity_.central_signing_key, identity_.station_id));
  FeedImportOutcome outcome;
  for (const sync::FeedItem& item : feed.page.items) {
    ++outcome.items;
    ASSIGN_OR_RETURN(FeedItemOutcome applied, ApplyFeedItem(item.id, item.kind, item.body, item.signature));
    if (!applied.refusal.ok()) {
      ++outcome.refused;
      service::LogWarn("sync.feed_item_refused",
                       {{"feed_id", item.id}, {"kind", item.kind}, {"error", applied.refusal.ToString()}});
    }
  }
  ASSIGN_OR_RETURN(outcome.cursor, FeedCursor());
  service::LogInfo("sync.feed_imported", {{"items", outcome.items}, {"refused", outcome.refused},
                                          {"cursor", outcome.cursor}});
  return outcome;
}

}  // namespace ektp::station
