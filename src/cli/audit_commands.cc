// `ektp central audit verify`: recomputes central's hash-chained audit log.
#include <iostream>

#include <CLI/CLI.hpp>

#include "central/server.h"
#include "cli/commands.h"
#include "store/audit_log.h"

namespace ektp::cli {

int CentralAuditVerify(const Args& args) {
  CLI::App app("Verify central's hash-chained audit log; exit 1 if an entry was edited or deleted",
               "central audit verify");
  central::CentralOptions options;
  app.add_option("--dir", options.data_dir, "central's data directory")->required();
  app.add_option("--db", options.db_url, "database URL (default: SQLite in the data directory)");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
  if (!db.ok()) return Fail(db.status());
  auto verification = store::AuditLog(**db, SystemClock::Instance()).Verify();
  if (!verification.ok()) return Fail(verification.status());
  if (!verification->intact) {
    return Fail(DataLoss("audit log broken at entry " + std::to_string(verification->broken_at) + ": " +
                         verification->problem));
  }
  std::cout << "audit log intact: " << verification->entries << " entries, head " << verification->head_hash << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
