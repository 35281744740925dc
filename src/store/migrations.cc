#include "store/migrations.h"

namespace ektp::store {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, "resident records, lifecycle events and NIK counters", R"sql(
CREATE TABLE records (
  id {{id}},
  registration_number TEXT NOT NULL UNIQUE,
  application_kind TEXT NOT NULL,
  nik TEXT UNIQUE,
  state TEXT NOT NULL,
  resident_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX records_state ON records (state);
CREATE TABLE record_events (
  id {{id}},
  record_id BIGINT NOT NULL REFERENCES records (id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  note TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX record_events_record ON record_events (record_id);
CREATE TABLE nik_counters (
  prefix TEXT PRIMARY KEY,
  last_sequence INTEGER NOT NULL
);
)sql"},
  };
  return migrations;
}

StatusOr<int> SchemaVersion(Connection& connection) {
  ASSIGN_OR_RETURN(auto rows, connection.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rows.at(0).Int(0));
}

Status ApplyMigrations(Connection& connection) {
  for (const Migration& migration : Migrations()) {
    RETURN_IF_ERROR(connection.Transact([&]() -> Status {
      if (connection.dialect() == Dialect::kPostgres) {
        RETURN_IF_ERROR(connection.Exec("SELECT pg_advisory_xact_lock(7368505)"));
      }
      RETURN_IF_ERROR(connection.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
          "applied_at TEXT NOT NULL)"));
      ASSIGN_OR_RETURN(int version, SchemaVersion(connection));
      if (version >= migration.version) return Status::Ok();
      RETURN_IF_ERROR(connection.ExecScript(migration.sql).WithContext(
          "migration " + std::to_string(migration.version) + " (" + std::string(migration.name) + ")"));
      return connection.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, "
                             "CAST(CURRENT_TIMESTAMP AS TEXT))",
                             {migration.version, migration.name});
    }));
  }
  return Status::Ok();
}

}  // namespace ektp::store
