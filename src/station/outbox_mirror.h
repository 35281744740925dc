// The rolling outbox mirror: a copy of the station's unsynced outbox kept on a
// second device (a USB disk), so that a van whose disk dies between syncs
// loses no enrollment (docs/operations.md, "An outbox mirror on a second
// device"; the folder is an export folder, docs/sync-format.md, "Outbox
// mirror"). The packets in it are sealed to central, so the disk reveals no
// personal data; a replacement station carries them to central
// (`ektp station carry-over --from <mirror>`), or central imports the folder
// as it is.
//
// The mirror never holds up an operator: a missing, full or read-only disk
// makes Refresh fail quietly (a warning in the log when the failure starts or
// changes, the error in status(), `GET /api/v1/sync/status` and /metrics), and
// the next Refresh tries again.
//
// Thread-safety: Refresh from one thread at a time (the server's mirror
// thread); status() from any thread.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "station/station.h"
#include "sync/media.h"

namespace ektp::station {

struct MirrorStatus {
  std::string dir;
  std::string last_written_at;  // ISO 8601 UTC of the last successful write since start; "" before one
  int64_t packets = 0;          // pending packets the mirror listed at that write
  std::string error;            // why the last attempt failed; "" when it succeeded (or none was made)
  std::string error_since;      // ISO 8601 UTC: when the attempts started failing; "" when not failing
  int64_t failures = 0;         // failed attempts since start
};

class OutboxMirror {
 public:
  // `station` (its own store connection) and `clock` must outlive this.
  OutboxMirror(Station& station, const Clock& clock, std::string dir);

  // Rewrites the mirror when the pending outbox differs from what it last
  // wrote, or the last attempt failed; otherwise only reads the pending
  // sequences. Returns whether the mirror now matches the outbox.
  bool Refresh();
  MirrorStatus status() const;

 private:
  Station& station_;
  const Clock& clock_;
  const std::string dir_;
  // What the last successful write listed; empty after a failure, so that the
  // next write checks the folder's files again.
  std::optional<sync::ExportManifest> written_;
  std::vector<int64_t> written_sequences_;
  mutable std::mutex mu_;  // guards status_
  MirrorStatus status_;
};

}  // namespace ektp::station
