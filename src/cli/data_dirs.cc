#include "cli/data_dirs.h"

#include <CLI/CLI.hpp>

#include "station/server.h"

namespace ektp::cli {

void AddDatabaseOptions(CLI::App& app, central::CentralOptions& options) {
  app.add_option("--dir", options.data_dir, "central's data directory")->required();
  app.add_option("--db", options.db_url, "database URL (default: SQLite in the data directory)");
}

StatusOr<OpenedStation> OpenStation(const std::string& dir) {
  OpenedStation opened;
  ASSIGN_OR_RETURN(station::StationFiles files, station::OpenStationFiles(dir));
  opened.db = std::move(files.db);
  opened.key = std::make_unique<crypto::SigningKey>(std::move(files.key));
  opened.box_key = std::move(files.box_key);
  opened.station = std::make_unique<station::Station>(*opened.db, SystemClock::Instance(), *opened.key, files.identity);
  return opened;
}

}  // namespace ektp::cli
