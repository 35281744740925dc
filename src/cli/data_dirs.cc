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
  ASSIGN_OR_RETURN(opened.db, store::Open(station::StationDbUrl(dir), store::Schema::kStation));
  ASSIGN_OR_RETURN(station::Identity identity, station::Station::LoadIdentity(*opened.db));
  ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::SigningKey::Load(dir + "/station.key"));
  opened.key = std::make_unique<crypto::SigningKey>(std::move(key));
  opened.station = std::make_unique<station::Station>(*opened.db, SystemClock::Instance(), *opened.key, identity);
  return opened;
}

}  // namespace ektp::cli
