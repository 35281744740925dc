// Opening central's and a station's data directories for the administrative
// commands that work on them while no server needs to run.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "central/server.h"
#include "station/station.h"

namespace CLI {
class App;
}

namespace ektp::cli {

// --dir (required) and --db, as every central command on the database.
void AddDatabaseOptions(CLI::App& app, central::CentralOptions& options);

// A station's store, key and identity, opened from its data directory.
struct OpenedStation {
  std::unique_ptr<store::Connection> db;
  std::unique_ptr<crypto::SigningKey> key;
  std::unique_ptr<station::Station> station;  // over db and key, with the system clock
  std::optional<crypto::SealingKey> box_key;  // station-box.key; absent in a folder made before stations had one
};
StatusOr<OpenedStation> OpenStation(const std::string& dir);

}  // namespace ektp::cli
