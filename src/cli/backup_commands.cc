// `ektp backup-key create`, `ektp station backup|restore`, `ektp central backup|restore`.
#include <iostream>

#include <CLI/CLI.hpp>

#include "backup/backup.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"
#include "station/server.h"

namespace ektp::cli {
namespace {

int BackUp(const Args& args, const backup::Layout& layout, const char* name, const char* help) {
  CLI::App app(help, name);
  std::string dir, to, public_key_path;
  app.add_option("--dir", dir, "the data directory to back up (its server may be running)")->required();
  app.add_option("--to", to, "folder for the backup file, e.g. a USB disk")->required();
  app.add_option("--key", public_key_path, "the admin's backup public key (the .pub of `ektp backup-key create`)")
      ->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto public_key = backup::LoadBackupPublicKey(public_key_path);
  if (!public_key.ok()) return Fail(public_key.status());
  auto file = backup::Backup(layout, dir, *public_key, to, SystemClock::Instance());
  if (!file.ok()) {
    if (layout.label == "central" && file.status().code() == StatusCode::kFailedPrecondition) {
      return Fail(FailedPrecondition(file.status().message() +
                                     " (a central on PostgreSQL: back up its database with pg_dump, "
                                     "docs/operations.md \"Backups\")"));
    }
    return Fail(file.status());
  }
  std::cout << "backup written to " << *file << " (sealed to " << public_key_path << ")\n";
  return kExitOk;
}

// Sets *dir to the folder restored into.
int RestoreInto(const Args& args, const backup::Layout& layout, const char* name, const char* help,
                std::string* dir_out = nullptr) {
  CLI::App app(help, name);
  std::string dir, from, key_path;
  app.add_option("--from", from, "a backup file, or a folder (its newest backup is used)")->required();
  app.add_option("--key", key_path, "the admin's backup secret key (from `ektp backup-key create`)")->required();
  app.add_option("--dir", dir, "the data directory to restore into; must hold no database")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto key = crypto::SealingKey::Load(key_path);
  if (!key.ok()) return Fail(key.status());
  auto file = backup::FindBackup(layout, from);
  if (!file.ok()) return Fail(file.status());
  auto restored = backup::Restore(layout, *file, *key, dir);
  if (!restored.ok()) return Fail(restored.status());
  std::cout << "restored " << *file << " into " << dir << ":";
  for (const std::string& restored_file : *restored) std::cout << " " << restored_file;
  std::cout << "\n";
  if (dir_out != nullptr) *dir_out = dir;
  return kExitOk;
}

}  // namespace

int BackupKeyCreate(const Args& args) {
  CLI::App app("Create the admin's backup key pair", "backup-key create");
  std::string out;
  app.add_option("--out", out, "secret key file to write (keep it off the machines that back up); FILE.pub beside")
      ->required();
  if (auto exit = Parse(app, args)) return *exit;
  if (Status status = backup::CreateBackupKey(out); !status.ok()) return Fail(status);
  std::cout << "backup secret key: " << out << " (keep it safe and apart: without it no backup can be restored)\n"
            << "backup public key: " << out << ".pub (give it to `ektp station backup` / `central backup` --key)\n";
  return kExitOk;
}

int StationBackup(const Args& args) {
  return BackUp(args, backup::kStationLayout, "station backup",
                "Back up a station's folder (database, keys), sealed to the admin's backup key");
}

int StationRestore(const Args& args) {
  std::string dir;
  int exit = RestoreInto(args, backup::kStationLayout, "station restore",
                         "Restore a station's folder from a backup; it then signs and syncs as before", &dir);
  if (exit != kExitOk || dir.empty()) return exit;  // empty after --help
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  station::Station& station = *opened->station;
  std::cout << "station " << station.identity().station_id << ":";
  for (station::OutboxState state : station::kAllOutboxStates) {
    auto count = station.CountOutbox(state);
    std::cout << " " << station::OutboxStateName(state) << " " << (count.ok() ? *count : -1);
  }
  std::cout << "; pending packets go to central at the next `ektp station serve`\n";
  return kExitOk;
}

int CentralBackup(const Args& args) {
  return BackUp(args, backup::kCentralLayout, "central backup",
                "Back up a central's folder on SQLite (database, keys, certificate), sealed to the admin's backup key");
}

int CentralRestore(const Args& args) {
  return RestoreInto(args, backup::kCentralLayout, "central restore", "Restore a central's folder from a backup");
}

}  // namespace ektp::cli
