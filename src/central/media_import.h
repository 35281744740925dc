// Central's side of sync by removable media (sync/media.h): a station's
// export folder ingested exactly as a network upload of the same packets
// (Ingest::Upload), answered with a signed receipt file.
//
// Nothing is ingested unless the whole folder checks out first: the manifest
// is signed by the station it names (registered here), its packets are sealed
// to this central, and every file listed is there, unaltered, and holds the
// packet the manifest names. Then the packets go through Ingest::Upload in
// batches of kImportBatchPackets, so each gets the verdict the network would
// give it: importing a folder again, or a packet that also came by network,
// is a duplicate and changes nothing.
//
// A carry-over folder (manifest.carried_by set: a replacement station's copy
// of a revoked station's unsynced packets, `ektp station carry-over`) is
// verified with the carrier's key and goes through Ingest::CarryOver instead.
//
// Thread-safety: as the Connection it uses.
#pragma once

#include <string>

#include "central/ingest.h"
#include "core/clock.h"
#include "core/region.h"
#include "store/db.h"
#include "sync/media.h"

namespace ektp::central {

inline constexpr size_t kImportBatchPackets = 64;

// Imports the export folder `dir` and writes central's signed receipt to
// `receipt_path` (default: <dir>/receipt.json), which the station applies
// with `ektp station import-receipt`. Refusals change nothing and write no
// receipt: kInvalidArgument naming the file for a missing, extra, altered or
// truncated file or a malformed manifest; kUnauthenticated for a manifest not
// signed by its station; kNotFound for an unknown station; kPermissionDenied
// for one pending or revoked. kUnavailable when the database or the receipt
// write fails (the batches stored before stay stored; importing again
// completes it).
StatusOr<sync::ImportReceipt> ImportExport(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                                           const RegionRegistry& regions, const std::string& dir,
                                           std::string receipt_path = "");

// At most this many feed items go into one disk feed; the station gets the
// rest with the next one (from its new cursor) or over the network.
inline constexpr int kMaxDiskFeedItems = 5000;

// Writes the feed items of `station_id` after `after` (the station's feed
// cursor, which `station export` prints) to <dir>/feed.sealed, signed and
// sealed to the station's X25519 box key (sync::WriteDiskFeed), for
// `ektp station import-feed`. Before reading the feed it tops up the
// station's print jobs and Suket trust, as a network read does. Returns how
// many items it wrote (possibly none). kNotFound for an unknown station;
// kPermissionDenied for a revoked one; kFailedPrecondition for one without
// a box key.
StatusOr<size_t> ExportFeed(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                            const RegionRegistry& regions, std::string_view station_id, int64_t after,
                            const std::string& dir);

}  // namespace ektp::central
