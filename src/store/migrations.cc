#include "store/migrations.h"

namespace ektp::store {

namespace {

const std::vector<Migration> kCentralMigrations = {
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
    {2, "stations, registration tokens, the sync inbox and the per-station feed", R"sql(
CREATE TABLE registration_tokens (
  token_sha256 TEXT PRIMARY KEY,
  district_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  station_id TEXT
);
CREATE TABLE stations (
  id TEXT PRIMARY KEY,
  district_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  public_key {{blob}} NOT NULL,
  status TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  approved_at TEXT,
  approved_by TEXT,
  revoked_at TEXT,
  revoked_by TEXT,
  revoked_reason TEXT,
  cursor BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE inbox (
  station_id TEXT NOT NULL REFERENCES stations (id),
  sequence BIGINT NOT NULL,
  content_sha256 TEXT NOT NULL,
  kind TEXT NOT NULL,
  envelope TEXT NOT NULL,
  signature {{blob}} NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (station_id, sequence)
);
CREATE TABLE record_biometrics (
  record_id BIGINT PRIMARY KEY REFERENCES records (id),
  biometrics {{blob}} NOT NULL
);
ALTER TABLE records ADD COLUMN station_id TEXT;
ALTER TABLE records ADD COLUMN failure_reason TEXT;
CREATE TABLE feed (
  id {{id}},
  station_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  signature {{blob}} NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX feed_station ON feed (station_id, id);
)sql"},
    {3, "the hash-chained audit log (store/audit_log.h)", R"sql(
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (singleton, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
)sql"},
    {4, "central pipeline: stage work queues, the NIK a card carries, the gallery log, adjudication cases", R"sql(
CREATE TABLE pipeline_jobs (
  id {{id}},
  stage TEXT NOT NULL,
  record_id BIGINT NOT NULL REFERENCES records (id),
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  run_after_ms BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until_ms BIGINT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (stage, record_id)
);
CREATE INDEX pipeline_jobs_claim ON pipeline_jobs (stage, status, run_after_ms, id);
ALTER TABLE records ADD COLUMN holder_nik TEXT;
ALTER TABLE records ADD COLUMN previous_nik TEXT;
CREATE INDEX records_holder_nik ON records (holder_nik);
CREATE TABLE pipeline_locks (
  name TEXT PRIMARY KEY
);
INSERT INTO pipeline_locks (name) VALUES ('dedupe');
CREATE TABLE gallery_log (
  seq {{id}},
  subject_id TEXT NOT NULL,
  record_id BIGINT REFERENCES records (id),
  subject {{blob}},
  at TEXT NOT NULL
);
CREATE INDEX gallery_log_subject ON gallery_log (subject_id, seq);
CREATE TABLE adjudications (
  record_id BIGINT PRIMARY KEY REFERENCES records (id),
  suspicion TEXT NOT NULL,
  candidates TEXT NOT NULL,
  status TEXT NOT NULL,
  decision TEXT,
  candidate_nik TEXT,
  decided_by TEXT,
  decided_at TEXT,
  decision_note TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX adjudications_status ON adjudications (status, record_id);
)sql"},
    {5, "the print-ready queue per regency: queue entries, urgent cases, policies, Suket holders (printing/)", R"sql(
CREATE TABLE print_queue (
  record_id BIGINT PRIMARY KEY REFERENCES records (id),
  regency_code TEXT NOT NULL,
  ready_at TEXT NOT NULL,
  first_card_at_17 INTEGER NOT NULL,
  enqueued_by TEXT NOT NULL
);
CREATE INDEX print_queue_regency ON print_queue (regency_code, ready_at, record_id);
CREATE TABLE print_urgent_reasons (
  code TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at TEXT NOT NULL
);
CREATE TABLE print_urgent_requests (
  id {{id}},
  record_id BIGINT NOT NULL REFERENCES records (id),
  reason TEXT NOT NULL,
  evidence TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  status TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  decision_note TEXT
);
CREATE UNIQUE INDEX print_urgent_requests_open ON print_urgent_requests (record_id)
  WHERE status IN ('pending', 'approved');
CREATE INDEX print_urgent_requests_status ON print_urgent_requests (status, id);
CREATE TABLE print_policies (
  regency_code TEXT PRIMARY KEY,
  first_card_at_17 INTEGER NOT NULL,
  suket_holders INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE suket_holders (
  record_id BIGINT PRIMARY KEY REFERENCES records (id),
  issued_at TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX record_events_to_state ON record_events (to_state, at);
)sql"},
    {6, "matcher shards' search results (pipeline/shards.h)", R"sql(
CREATE TABLE shard_searches (
  record_id BIGINT NOT NULL REFERENCES records (id),
  shard INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  candidates TEXT NOT NULL,
  gallery_position BIGINT NOT NULL,
  gallery_subjects BIGINT NOT NULL,
  searched_at TEXT NOT NULL,
  PRIMARY KEY (record_id, shard_count, shard)
);
)sql"},
    {7, "lz4 instead of pglz for the large columns on PostgreSQL (a quarter of ingest's database CPU)", R"sql(
{{postgres:ALTER TABLE inbox ALTER COLUMN envelope SET COMPRESSION lz4;}}
{{postgres:ALTER TABLE record_biometrics ALTER COLUMN biometrics SET COMPRESSION lz4;}}
)sql"},
    {8, "the blank-card ledger: manufacturer batches, stock ranges by holder, movements, used serials, station events (blanks/ledger.h)", R"sql(
CREATE TABLE blank_ledger_lock (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1)
);
INSERT INTO blank_ledger_lock (singleton) VALUES (1);
CREATE TABLE blank_batches (
  first_serial BIGINT PRIMARY KEY,
  last_serial BIGINT NOT NULL,
  entered_at TEXT NOT NULL
);
CREATE TABLE blank_movements (
  id {{id}},
  kind TEXT NOT NULL,
  first_serial BIGINT NOT NULL,
  last_serial BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  regency_code TEXT NOT NULL,
  station_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  reference TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX blank_movements_regency ON blank_movements (regency_code, kind);
CREATE TABLE blank_stock (
  first_serial BIGINT PRIMARY KEY,
  last_serial BIGINT NOT NULL,
  place TEXT NOT NULL,
  regency_code TEXT NOT NULL,
  station_id TEXT NOT NULL,
  since TEXT NOT NULL
);
CREATE INDEX blank_stock_holder ON blank_stock (regency_code, place, station_id);
CREATE TABLE blank_uses (
  serial BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  regency_code TEXT NOT NULL,
  station_id TEXT NOT NULL,
  record_id BIGINT REFERENCES records (id),
  reason TEXT NOT NULL,
  note TEXT NOT NULL,
  event_id TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE UNIQUE INDEX blank_uses_printed_record ON blank_uses (record_id) WHERE kind = 'consumed';
CREATE INDEX blank_uses_regency ON blank_uses (regency_code, station_id);
CREATE TABLE blank_station_events (
  station_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  content TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (station_id, event_id)
);
)sql"},
    {9, "print stations: each station's X25519 key for sealed print jobs; print jobs reserved for a print station (printing/print_jobs.h)", R"sql(
ALTER TABLE stations ADD COLUMN box_public_key {{blob}};
CREATE TABLE print_jobs (
  id {{id}},
  record_id BIGINT NOT NULL REFERENCES records (id),
  station_id TEXT NOT NULL REFERENCES stations (id),
  state TEXT NOT NULL,
  urgent INTEGER NOT NULL,
  reserved_at TEXT NOT NULL,
  printed_at TEXT,
  serial BIGINT,
  withdrawn_at TEXT,
  withdrawn_reason TEXT,
  printed_after_withdrawal INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX print_jobs_one_reserved ON print_jobs (record_id) WHERE state = 'reserved';
CREATE INDEX print_jobs_station ON print_jobs (station_id, state);
)sql"},
    {10, "each print job keeps the chip blob central signed for it, for the card's dispatch (central/print_feed.h)", R"sql(
ALTER TABLE print_jobs ADD COLUMN chip {{blob}};
)sql"},
    {12, "millisecond times of record events and pipeline jobs (NULL in rows written before; docs/pipeline.md)", R"sql(
ALTER TABLE record_events ADD COLUMN at_ms BIGINT;
ALTER TABLE pipeline_jobs ADD COLUMN created_ms BIGINT;
ALTER TABLE pipeline_jobs ADD COLUMN updated_ms BIGINT;
)sql"},
    {13, "what stations report of card hand-overs: fingerprint checks, overrides, activations (central/hand_over.h)", R"sql(
CREATE TABLE hand_over_events (
  station_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  registration_number TEXT NOT NULL,
  serial BIGINT NOT NULL,
  operator TEXT NOT NULL,
  outcome TEXT NOT NULL,
  body TEXT NOT NULL,
  at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (station_id, event_id)
);
CREATE INDEX hand_over_events_operator ON hand_over_events (station_id, operator, kind);
)sql"},
    {15, "Sukets stations issued and their revocation; the trust bundle and revocation list central last signed (central/sukets.h)", R"sql(
CREATE TABLE sukets (
  serial TEXT PRIMARY KEY,
  registration_number TEXT NOT NULL,
  nik TEXT,
  station_id TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  replaces TEXT,
  revoked_at TEXT,
  revoked_reason TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX sukets_registration ON sukets (registration_number);
CREATE INDEX sukets_nik ON sukets (nik);
CREATE INDEX sukets_revoked ON sukets (revoked_at);
CREATE TABLE suket_publications (
  kind TEXT PRIMARY KEY,
  sequence BIGINT NOT NULL,
  content_sha256 TEXT NOT NULL,
  body {{blob}} NOT NULL,
  published_at TEXT NOT NULL
);
CREATE TABLE suket_trust_sent (
  station_id TEXT PRIMARY KEY,
  bundle_sequence BIGINT NOT NULL,
  list_sequence BIGINT NOT NULL
);
)sql"},
    {16, "central's console accounts, their sessions and login back-off (accounts/accounts.h); when each station was last heard from", R"sql(
CREATE TABLE operators (
  username TEXT PRIMARY KEY,
  full_name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);
CREATE TABLE sessions (
  token_sha256 TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES operators (username),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE login_throttle (
  scope TEXT NOT NULL,
  subject TEXT NOT NULL,
  failures INTEGER NOT NULL,
  last_failure_unix BIGINT NOT NULL,
  blocked_until_unix BIGINT NOT NULL,
  PRIMARY KEY (scope, subject)
);
ALTER TABLE stations ADD COLUMN last_contact_at TEXT;
)sql"},
    {17, "a stolen or broken station's replacement, and the packets it carried over from the old station's backup (central/ingest.h)", R"sql(
CREATE TABLE station_replacements (
  replaced_station_id TEXT PRIMARY KEY REFERENCES stations (id),
  replacement_station_id TEXT NOT NULL UNIQUE REFERENCES stations (id),
  authorized_by TEXT NOT NULL,
  authorized_at TEXT NOT NULL
);
CREATE TABLE carried_over (
  station_id TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  content_sha256 TEXT NOT NULL,
  carried_by TEXT NOT NULL REFERENCES stations (id),
  carried_at TEXT NOT NULL,
  PRIMARY KEY (station_id, sequence),
  FOREIGN KEY (station_id, sequence) REFERENCES inbox (station_id, sequence)
);
)sql"},
    {19, "supervisors' review decisions carried in enrollment packets (central/enrollment_oversight.h)", R"sql(
CREATE TABLE enrollment_reviews (
  registration_number TEXT PRIMARY KEY,
  station_id TEXT NOT NULL,
  operator TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX enrollment_reviews_station ON enrollment_reviews (station_id, reviewer);
)sql"},
    {20, "stations' home areas and where each enrollment was captured, flagged when far from home (central/enrollment_oversight.h)", R"sql(
CREATE TABLE station_home_areas (
  station_id TEXT PRIMARY KEY,
  lat DOUBLE PRECISION NOT NULL,
  lon DOUBLE PRECISION NOT NULL,
  radius_km DOUBLE PRECISION NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);
CREATE TABLE enrollment_locations (
  registration_number TEXT PRIMARY KEY,
  station_id TEXT NOT NULL,
  lat DOUBLE PRECISION NOT NULL,
  lon DOUBLE PRECISION NOT NULL,
  accuracy_m DOUBLE PRECISION NOT NULL,
  distance_km DOUBLE PRECISION,
  far INTEGER NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX enrollment_locations_far ON enrollment_locations (station_id, far);
)sql"},
    {21, "one name for the kecamatan a station serves: kecamatan_code", R"sql(
ALTER TABLE registration_tokens RENAME COLUMN district_code TO kecamatan_code;
ALTER TABLE stations RENAME COLUMN district_code TO kecamatan_code;
)sql"},
    {23, "operators revoked at central, per station: their packets captured from then on are refused (central/operator_revocations.h)", R"sql(
CREATE TABLE operator_revocations (
  station_id TEXT NOT NULL REFERENCES stations (id),
  username TEXT NOT NULL,
  reason TEXT NOT NULL,
  revoked_by TEXT NOT NULL,
  revoked_at TEXT NOT NULL,
  PRIMARY KEY (station_id, username)
);
)sql"},
    {24, "each captured finger's capture quality as the station recorded it (enrollment body version 3)", R"sql(
CREATE TABLE enrollment_finger_quality (
  registration_number TEXT NOT NULL,
  position INTEGER NOT NULL,
  score INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (registration_number, position)
);
)sql"},
    {25, "per enrollment, the fingers declared missing or unusable and who approved them, for the exception rates of the integrity report (enrollment body version 4; central/enrollment_oversight.h)", R"sql(
CREATE TABLE enrollment_exception_counts (
  registration_number TEXT PRIMARY KEY,
  station_id TEXT NOT NULL,
  operator TEXT NOT NULL,
  fingers INTEGER NOT NULL,
  approver TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX enrollment_exception_counts_operator ON enrollment_exception_counts (station_id, operator);
)sql"},
    {26, "why each adjudication case was opened, as a kind and its facts, so that a console says it in its own language (pipeline/adjudication.h)", R"sql(
ALTER TABLE adjudications ADD COLUMN suspicion_facts TEXT NOT NULL DEFAULT '{}';
)sql"},
};

const std::vector<Migration> kStationMigrations = {
    {1, "identity, operators, sessions, enrollments, outbox and feed cursor", R"sql(
CREATE TABLE identity (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  station_id TEXT NOT NULL,
  district_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  central_urls TEXT NOT NULL,
  central_signing_key {{blob}} NOT NULL,
  central_sealing_key {{blob}} NOT NULL,
  registered_at TEXT NOT NULL
);
CREATE TABLE operators (
  username TEXT PRIMARY KEY,
  full_name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);
CREATE TABLE sessions (
  token_sha256 TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES operators (username),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE enrollments (
  local_sequence INTEGER PRIMARY KEY,
  registration_number TEXT NOT NULL UNIQUE,
  operator TEXT NOT NULL,
  application_kind TEXT NOT NULL,
  resident_json TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE outbox (
  sequence INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  reference TEXT NOT NULL,
  envelope TEXT NOT NULL,
  signature {{blob}} NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at TEXT NOT NULL,
  settled_at TEXT
);
CREATE INDEX outbox_state ON outbox (state, sequence);
CREATE TABLE feed_applied (
  feed_id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  applied_at TEXT NOT NULL
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  operator TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  at TEXT NOT NULL
);
)sql"},
    {2, "the NIK central gave each enrollment's card", R"sql(
ALTER TABLE enrollments ADD COLUMN nik TEXT;
)sql"},
    {3, "login back-off counters and enrollment idempotency keys", R"sql(
CREATE TABLE login_throttle (
  scope TEXT NOT NULL,
  subject TEXT NOT NULL,
  failures INTEGER NOT NULL,
  last_failure_unix BIGINT NOT NULL,
  blocked_until_unix BIGINT NOT NULL,
  PRIMARY KEY (scope, subject)
);
CREATE TABLE enrollment_keys (
  idempotency_key TEXT PRIMARY KEY,
  request_sha256 TEXT NOT NULL,
  registration_number TEXT NOT NULL REFERENCES enrollments (registration_number),
  created_at TEXT NOT NULL
);
CREATE INDEX enrollment_keys_created ON enrollment_keys (created_at);
)sql"},
    {4, "feed items refused with their reason, and central's signed audit checkpoints", R"sql(
ALTER TABLE feed_applied ADD COLUMN refused_reason TEXT;
CREATE TABLE audit_checkpoints (
  feed_id BIGINT PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  at TEXT NOT NULL,
  signature {{blob}} NOT NULL,
  received_at TEXT NOT NULL
);
)sql"},
    {5, "refused feed items keep their body, signature and refusal code", R"sql(
ALTER TABLE feed_applied ADD COLUMN refused_code TEXT;
ALTER TABLE feed_applied ADD COLUMN body TEXT;
ALTER TABLE feed_applied ADD COLUMN signature {{blob}};
)sql"},
    {6, "print jobs central sealed to this print station, and what became of each (station/print_jobs.cc)", R"sql(
CREATE TABLE print_jobs (
  job_id INTEGER PRIMARY KEY,
  registration_number TEXT NOT NULL,
  urgent INTEGER NOT NULL,
  reserved_at TEXT NOT NULL,
  sealed_card BLOB NOT NULL,
  state TEXT NOT NULL,
  serial INTEGER,
  printed_at TEXT,
  withdrawn_reason TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX print_jobs_order ON print_jobs (state, urgent, reserved_at);
)sql"},
    {7, "the print station's blank cards, one row per serial, and a refused print job's reason (station/print_jobs.cc)", R"sql(
CREATE TABLE blanks (
  serial INTEGER PRIMARY KEY,
  state TEXT NOT NULL,
  job_id INTEGER,
  handed_over_at TEXT NOT NULL,
  received_at TEXT,
  used_at TEXT,
  spoil_reason TEXT
);
CREATE INDEX blanks_state ON blanks (state, serial);
ALTER TABLE print_jobs ADD COLUMN refused_reason TEXT;
)sql"},
    {8, "where each printed card is collected and its dispatch manifest; cards dispatched here for collection (station/print_jobs.cc, station/feed_applier.cc)", R"sql(
ALTER TABLE print_jobs ADD COLUMN collect_at TEXT;
ALTER TABLE print_jobs ADD COLUMN manifest_id TEXT;
CREATE TABLE cards_to_collect (
  registration_number TEXT PRIMARY KEY,
  serial INTEGER NOT NULL,
  manifest_id TEXT NOT NULL,
  from_station TEXT NOT NULL,
  sealed_card BLOB NOT NULL,
  received_at TEXT NOT NULL
);
)sql"},
    {9, "card hand-over: each card's checks, override and hand-over; sealed_card is emptied once handed over (station/pickup.cc)", R"sql(
ALTER TABLE cards_to_collect ADD COLUMN state TEXT NOT NULL DEFAULT 'waiting';
ALTER TABLE cards_to_collect ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards_to_collect ADD COLUMN failed_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards_to_collect ADD COLUMN passed_check_at TEXT;
ALTER TABLE cards_to_collect ADD COLUMN override_by TEXT;
ALTER TABLE cards_to_collect ADD COLUMN handed_over_at TEXT;
ALTER TABLE cards_to_collect ADD COLUMN hand_over TEXT;
CREATE INDEX cards_to_collect_serial ON cards_to_collect (serial);
)sql"},
    {11, "Sukets this station issued; central's newest Suket trust bundle and revocation list (station/suket.cc)", R"sql(
CREATE TABLE sukets (
  serial TEXT PRIMARY KEY,
  registration_number TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  token TEXT NOT NULL,
  replaces TEXT,
  issued_by TEXT NOT NULL
);
CREATE INDEX sukets_registration ON sukets (registration_number, issued_at);
CREATE TABLE suket_trust (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  trust_bundle BLOB NOT NULL,
  revocation_list BLOB NOT NULL,
  bundle_sequence INTEGER NOT NULL,
  list_sequence INTEGER NOT NULL,
  received_at TEXT NOT NULL
);
)sql"},
    {12, "cards never collected: when each was returned and voided (station/pickup.cc)", R"sql(
ALTER TABLE cards_to_collect ADD COLUMN returned_at TEXT;
)sql"},
    {14, "the end of the last complete sync pass, kept across restarts (station/sync_client.cc)", R"sql(
CREATE TABLE sync_state (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_success_at TEXT NOT NULL
);
)sql"},
    {15, "supervisor review before upload: each enrollment's review, and the reviewer's copy sealed to station-box.key until the decision (station/review.cc)", R"sql(
CREATE TABLE enrollment_reviews (
  registration_number TEXT PRIMARY KEY REFERENCES enrollments (registration_number),
  review_copy BLOB,
  state TEXT NOT NULL,
  reviewer TEXT,
  decided_at TEXT,
  reason TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX enrollment_reviews_state ON enrollment_reviews (state, created_at);
)sql"},
    {16, "where each enrollment was captured, when the station had a GPS fix", R"sql(
ALTER TABLE enrollments ADD COLUMN location_json TEXT;
)sql"},
    {17, "one name for the kecamatan this station serves: kecamatan_code", R"sql(
ALTER TABLE identity RENAME COLUMN district_code TO kecamatan_code;
)sql"},
    {20, "operators' and supervisors' own fingerprints, sealed to station-box.key, for fingerprint login and the self-enrollment check (station/operator_fingerprints.cc)", R"sql(
CREATE TABLE operator_fingerprints (
  username TEXT PRIMARY KEY REFERENCES operators (username),
  positions TEXT NOT NULL,
  sealed_templates BLOB NOT NULL,
  enrolled_by TEXT NOT NULL,
  enrolled_at TEXT NOT NULL
);
)sql"},
};

}  // namespace

const std::vector<Migration>& Migrations(Schema schema) {
  return schema == Schema::kCentral ? kCentralMigrations : kStationMigrations;
}

StatusOr<int> SchemaVersion(Connection& connection) {
  ASSIGN_OR_RETURN(auto rows, connection.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rows.at(0).Int(0));
}

Status ApplyMigrations(Connection& connection, Schema schema) {
  for (const Migration& migration : Migrations(schema)) {
    RETURN_IF_ERROR(connection.Transact([&]() -> Status {
      if (connection.dialect() == Dialect::kPostgres) {
        RETURN_IF_ERROR(connection.Exec("SELECT pg_advisory_xact_lock(7368505)"));
      }
      RETURN_IF_ERROR(connection.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
          "applied_at TEXT NOT NULL)"));
      ASSIGN_OR_RETURN(auto applied, connection.Query("SELECT COUNT(*) FROM schema_migrations WHERE version = ?",
                                                      {migration.version}));
      if (applied[0].Int(0) > 0) return Status::Ok();
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
