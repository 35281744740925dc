// Encrypted backups of a data directory (a station's or a SQLite central's):
// a consistent online copy of its SQLite database (SQLite's backup API, while
// the server runs) and its key files, in one file sealed to the admin's
// backup key (crypto::SealedStreamWriter). Only the holder of the backup
// key's secret half can read or restore it; the machine that makes backups
// holds the public half only.
//
// Backup file (inside the sealed stream):
//   "ektp-backup-v1 <label>\n", then per file "<name>\n<size>\n<bytes>",
//   then "end\n".
// Thread-safety: the functions share no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"

namespace ektp::backup {

// What one kind of data directory keeps: `label` ("station", "central") names
// the backups; `database` is the SQLite file; `files` the other files, all
// required unless listed in `optional_files`.
struct Layout {
  std::string label;
  std::string database;
  std::vector<std::string> files;
  std::vector<std::string> optional_files;
};

// A station's folder (station/server.h) and a central's on SQLite (central/server.h).
extern const Layout kStationLayout;
extern const Layout kCentralLayout;

// Writes a new backup key pair: the secret to `secret_path` (mode 0600; the
// admin keeps it off the machines that back up) and the public half to
// `secret_path + ".pub"`. kFailedPrecondition if `secret_path` exists.
Status CreateBackupKey(const std::string& secret_path);
// The public half from a ".pub" file; kInvalidArgument naming the file if it
// is not one.
StatusOr<crypto::Bytes> LoadBackupPublicKey(const std::string& path);

// Backs up `data_dir` into a new file `<to_dir>/<label>-<UTC time>.ektp-backup`
// (mode 0600, written under a temporary name and renamed once complete) and
// returns its path. The database copy is consistent while servers write it.
// kFailedPrecondition if a required file is missing.
StatusOr<std::string> Backup(const Layout& layout, const std::string& data_dir, std::span<const uint8_t> public_key,
                             const std::string& to_dir, const Clock& clock);

// The newest `<label>-*.ektp-backup` in `dir`, or `path` itself if it is a
// file; kNotFound if there is none.
StatusOr<std::string> FindBackup(const Layout& layout, const std::string& path);

// Restores the backup `file` into `data_dir` (created 0700 if missing), which
// must not hold layout.database (kFailedPrecondition). Nothing is written
// unless the whole backup opens and checks out (kUnauthenticated: another
// key; kDataLoss: damaged or truncated; kInvalidArgument: another label).
// Returns the names of the files restored.
StatusOr<std::vector<std::string>> Restore(const Layout& layout, const std::string& file,
                                           const crypto::SealingKey& key, const std::string& data_dir);

}  // namespace ektp::backup
