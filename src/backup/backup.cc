#include "backup/backup.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ektp::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPublicKeyPrefix = "ektp-backup-public-v1 ";
constexpr std::string_view kFormat = "ektp-backup-v1 ";
constexpr std::string_view kSuffix = ".ektp-backup";
constexpr size_t kCopyBlock = 64 * 1024;

std::string Path(const std::string& dir, std::string_view name) { return (fs::path(dir) / name).string(); }

// A consistent copy of the SQLite database `source` into `target` (a new
// file), page by page, while other connections keep writing.
Status CopyDatabase(const std::string& source, const std::string& target) {
  sqlite3* from = nullptr;
  sqlite3* to = nullptr;
  auto close = [&] {
    sqlite3_close(from);
    sqlite3_close(to);
  };
  if (sqlite3_open_v2(source.c_str(), &from, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_open_v2(target.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(from != nullptr && sqlite3_errcode(from) != SQLITE_OK ? from : to);
    close();
    return Unavailable("cannot open " + source + " for a backup: " + error);
  }
  sqlite3_busy_timeout(from, 5000);
  sqlite3_backup* copy = sqlite3_backup_init(to, "main", from, "main");
  if (copy == nullptr) {
    std::string error = sqlite3_errmsg(to);
    close();
    return Unavailable("cannot back up " + source + ": " + error);
  }
  int rc;
  while ((rc = sqlite3_backup_step(copy, 256)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (rc != SQLITE_OK) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sqlite3_backup_finish(copy);
  std::string error = sqlite3_errmsg(to);
  close();
  if (rc != SQLITE_DONE) return Unavailable("backup of " + source + " failed: " + error);
  return Status::Ok();
}

Status WriteText(crypto::SealedStreamWriter& out, std::string_view text) { return out.Write(crypto::AsBytes(text)); }

Status WriteFile(crypto::SealedStreamWriter& out, std::string_view name, const std::string& path) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  if (error) return FailedPrecondition("cannot read " + path + ": " + error.message());
  RETURN_IF_ERROR(WriteText(out, std::string(name) + "\n" + std::to_string(size) + "\n"));
  std::ifstream in(path, std::ios::binary);
  crypto::Bytes block(kCopyBlock);
  uintmax_t left = size;
  while (left > 0) {
    const size_t take = static_cast<size_t>(std::min<uintmax_t>(left, block.size()));
    in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(take));
    if (!in) return Unavailable("cannot read " + path + " (it changed during the backup?)");
    RETURN_IF_ERROR(out.Write(std::span(block).first(take)));
    left -= take;
  }
  return Status::Ok();
}

StatusOr<std::string> ReadLine(crypto::SealedStreamReader& in) {
  std::string line;
  uint8_t c = 0;
  while (true) {
    RETURN_IF_ERROR(in.Read(std::span(&c, 1)));
    if (c == '\n') return line;
    if (line.size() >= 256) return DataLoss("the backup's file list is damaged");
    line.push_back(static_cast<char>(c));
  }
}

bool Allowed(const Layout& layout, std::string_view name) {
  auto in = [&](const std::vector<std::string>& names) { return std::find(names.begin(), names.end(), name) != names.end(); };
  return name == layout.database || in(layout.files) || in(layout.optional_files);
}

}  // namespace

// station-box.key is absent in folders made before stations had one;
// central-cert.pem when central is reached over plain HTTP (development).
const Layout kStationLayout{"station", "station.db", {"station.key"}, {"station-box.key", "central-cert.pem"}};
const Layout kCentralLayout{"central", "central.db",
                            {"signing.key", "sealing.key", "biometrics.key", "tls-cert.pem", "tls-key.pem"}, {}};

Status CreateBackupKey(const std::string& secret_path) {
  if (fs::exists(secret_path)) {
    return FailedPrecondition(secret_path + " already exists; a new key would not open the backups made for it");
  }
  crypto::SealingKey key = crypto::SealingKey::Generate();
  RETURN_IF_ERROR(key.Save(secret_path));
  std::ofstream(secret_path + ".pub") << kPublicKeyPrefix << crypto::Base64Encode(key.public_key()) << "\n";
  return Status::Ok();
}

StatusOr<crypto::Bytes> LoadBackupPublicKey(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return InvalidArgument("cannot read the backup public key " + path);
  auto key = line.starts_with(kPublicKeyPrefix) ? crypto::Base64Decode(line.substr(kPublicKeyPrefix.size()))
                                                 : StatusOr<crypto::Bytes>(InvalidArgument("no prefix"));
  if (!key.ok() || key->size() != crypto::kBoxPublicKeySize) {
    return InvalidArgument(path + " is not a backup public key (the .pub file `ektp backup-key create` writes)");
  }
  return key;
}

StatusOr<std::string> Backup(const Layout& layout, const std::string& data_dir, std::span<const uint8_t> public_key,
                             const std::string& to_dir, const Clock& clock) {
  const std::string database = Path(data_dir, layout.database);
  if (!fs::exists(database)) {
    return FailedPrecondition(database + " does not exist; is " + data_dir + " a " + layout.label + "'s folder?");
  }
  for (const std::string& name : layout.files) {
    if (!fs::exists(Path(data_dir, name))) return FailedPrecondition(Path(data_dir, name) + " does not exist");
  }
  std::error_code error;
  fs::create_directories(to_dir, error);
  if (error) return Unavailable("cannot create " + to_dir + ": " + error.message());
  std::string stamp = FormatTimestamp(clock.Now());
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  const std::string file = Path(to_dir, layout.label + "-" + stamp + std::string(kSuffix));
  if (fs::exists(file)) return FailedPrecondition(file + " already exists; back up again in a second");
  const std::string partial = file + ".partial";
  // The copy stays beside the database (the same folder, the same protection) until it is sealed.
  const std::string copy = Path(data_dir, ".backup-copy.db");
  fs::remove(copy, error);
  Status status = CopyDatabase(database, copy);
  if (status.ok()) {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    ::chmod(partial.c_str(), 0600);
    crypto::SealedStreamWriter sealed(public_key, out);
    status = [&]() -> Status {
      RETURN_IF_ERROR(WriteText(sealed, std::string(kFormat) + layout.label + "\n"));
      RETURN_IF_ERROR(WriteFile(sealed, layout.database, copy));
      for (const std::string& name : layout.files) RETURN_IF_ERROR(WriteFile(sealed, name, Path(data_dir, name)));
      for (const std::string& name : layout.optional_files) {
        if (fs::exists(Path(data_dir, name))) RETURN_IF_ERROR(WriteFile(sealed, name, Path(data_dir, name)));
      }
      RETURN_IF_ERROR(WriteText(sealed, "end\n"));
      RETURN_IF_ERROR(sealed.Finish());
      out.close();
      return out ? Status::Ok() : Unavailable("cannot write " + partial);
    }();
  }
  fs::remove(copy, error);
  if (status.ok()) {
    fs::rename(partial, file, error);
    if (error) status = Unavailable("cannot rename " + partial + ": " + error.message());
  }
  if (!status.ok()) {
    fs::remove(partial, error);
    return status;
  }
  return file;
}

StatusOr<std::string> FindBackup(const Layout& layout, const std::string& path) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) return path;
  if (!fs::is_directory(path, error)) return NotFound(path + " is neither a backup file nor a folder");
  std::string newest;
  for (const auto& entry : fs::directory_iterator(path, error)) {
    const std::string name = entry.path().filename().string();
    // Names hold a fixed-width UTC time, so the greatest name is the newest.
    if (name.starts_with(layout.label + "-") && name.ends_with(kSuffix) && name > fs::path(newest).filename().string()) {
      newest = entry.path().string();
    }
  }
  if (newest.empty()) return NotFound("no " + layout.label + "-*" + std::string(kSuffix) + " in " + path);
  return newest;
}

StatusOr<std::vector<std::string>> Restore(const Layout& layout, const std::string& file,
                                           const crypto::SealingKey& key, const std::string& data_dir) {
  if (fs::exists(Path(data_dir, layout.database))) {
    return FailedPrecondition(data_dir + " already holds " + layout.database +
                              "; restore into an empty folder (move this one away first)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound("cannot read " + file);
  ASSIGN_OR_RETURN(crypto::SealedStreamReader sealed, crypto::SealedStreamReader::Open(key, in));
  ASSIGN_OR_RETURN(std::string header, ReadLine(sealed));
  if (header != std::string(kFormat) + layout.label) {
    return InvalidArgument(file + " is not a " + layout.label + " backup (it says '" + header.substr(0, 64) + "')");
  }
  std::error_code error;
  fs::create_directories(data_dir, error);
  if (error) return Unavailable("cannot create " + data_dir + ": " + error.message());
  fs::permissions(data_dir, fs::perms::owner_all, error);
  std::vector<std::string> names;
  auto discard = [&] {
    for (const std::string& name : names) fs::remove(Path(data_dir, name + ".restoring"), error);
  };
  Status status = [&]() -> Status {
    while (true) {
      ASSIGN_OR_RETURN(std::string name, ReadLine(sealed));
      if (name == "end") break;
      if (!Allowed(layout, name) || std::find(names.begin(), names.end(), name) != names.end()) {
        return DataLoss(file + " holds an unexpected file '" + name.substr(0, 64) + "'");
      }
      ASSIGN_OR_RETURN(std::string size_text, ReadLine(sealed));
      uint64_t size = 0;
      if (size_text.empty() || size_text.size() > 15 ||
          !std::all_of(size_text.begin(), size_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return DataLoss(file + ": the size of " + name + " is damaged");
      }
      size = std::stoull(size_text);
      names.push_back(name);
      const std::string target = Path(data_dir, name + ".restoring");
      std::ofstream out(target, std::ios::binary | std::ios::trunc);
      ::chmod(target.c_str(), 0600);
      crypto::Bytes block(kCopyBlock);
      while (size > 0) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(size, block.size()));
        RETURN_IF_ERROR(sealed.Read(std::span(block).first(take)));
        out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(take));
        size -= take;
      }
      out.close();
      if (!out) return Unavailable("cannot write " + target);
    }
    RETURN_IF_ERROR(sealed.ExpectEnd());
    if (std::find(names.begin(), names.end(), layout.database) == names.end()) {
      return DataLoss(file + " holds no " + layout.database);
    }
    for (const std::string& name : layout.files) {
      if (std::find(names.begin(), names.end(), name) == names.end()) return DataLoss(file + " holds no " + name);
    }
    return Status::Ok();
  }();
  if (!status.ok()) {
    discard();
    return status;
  }
  for (const std::string& name : names) {
    fs::rename(Path(data_dir, name + ".restoring"), Path(data_dir, name), error);
    if (error) return Unavailable("cannot move " + name + " into place in " + data_dir + ": " + error.message());
  }
  return names;
}

}  // namespace ektp::backup
