// Versioned schema migrations, embedded in the binary and applied at open.
//
// Each migration runs in its own transaction together with the row that
// records it in schema_migrations, so a crash leaves either all of it or
// none. Concurrent openers are serialised (PostgreSQL: an advisory lock;
// SQLite: BEGIN IMMEDIATE). Migrations only ever add: a binary one version
// older keeps working on a newer schema, which rolling upgrades rely on.
#pragma once

#include <string_view>
#include <vector>

#include "store/db.h"

namespace ektp::store {

struct Migration {
  int version;  // unique and increasing in the list; gaps allowed
  std::string_view name;
  std::string_view sql;  // may use {{id}} and {{blob}}
};

const std::vector<Migration>& Migrations(Schema schema);

// Applies, in list order, every migration of `schema` whose version the
// database has not recorded, even one below its highest (work merged from
// branches developed in parallel may number below a migration already
// applied).
Status ApplyMigrations(Connection& connection, Schema schema);

// The highest applied version, 0 for an empty database.
StatusOr<int> SchemaVersion(Connection& connection);

}  // namespace ektp::store
