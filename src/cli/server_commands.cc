// `ektp central ...` and `ektp station ...`: init, serve and administration.
#include <fstream>
#include <iterator>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "central/console_api.h"
#include "central/server.h"
#include "central/station_registry.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/data_dirs.h"
#include "net/tls.h"
#include "service/config_schema.h"
#include "service/log.h"
#include "service/systemd_notify.h"
#include "store/audit_log.h"
#include "station/server.h"

namespace ektp::cli {
namespace {

StatusOr<std::unique_ptr<store::Connection>> OpenCentralDb(const std::string& dir, const std::string& db_url) {
  central::CentralOptions options;
  options.data_dir = dir;
  options.db_url = db_url;
  return store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
}

}  // namespace

int CentralInit(const Args& args) {
  CLI::App app("Create central's keys, TLS certificate and database", "central init");
  central::CentralOptions options;
  std::vector<std::string> hostnames;
  app.add_option("--dir", options.data_dir, "data directory")->required();
  app.add_option("--db", options.db_url, "database URL (default: SQLite in the data directory)");
  app.add_option("--hostname", hostnames, "extra DNS names or IPs for the TLS certificate");
  if (auto exit = Parse(app, args)) return *exit;
  if (Status status = central::InitCentral(options, hostnames); !status.ok()) return Fail(status);
  std::ifstream in(options.data_dir + "/tls-cert.pem");
  std::string pem((std::istreambuf_iterator<char>(in)), {});
  auto fingerprint = net::CertificateSha256(pem);
  std::cout << "central initialised in " << options.data_dir << "\n"
            << "TLS certificate fingerprint (give it to station installers): "
            << (fingerprint.ok() ? *fingerprint : "?") << "\n";
  return kExitOk;
}

namespace {

// A deployment's fixed ports (the README's and the packaged configs'); the
// options structs default to 0 (a free port) for tests.
constexpr int kCentralPort = 8443;
constexpr int kStationPort = 8080;

// Under `serve`'s "<who> listening on <url>" line (which scripts read up to
// its end): on a loopback address, the hint that other machines cannot reach it.
void WarnIfLoopbackOnly(const std::string& bind_address, std::string_view reached_by) {
  if (bind_address == "127.0.0.1" || bind_address == "localhost" || bind_address == "::1") {
    std::cerr << "note: bound to the loopback address " << bind_address << " only; for " << reached_by
              << " on other machines, add --bind 0.0.0.0 (or set listen.address)\n";
  }
}

// The log level key of every serving command, filling `level` ("info" by default).
void AddLogLevel(service::ConfigSchema& schema, std::string* level) {
  schema.Add("log.level", "--log-level", "lowest level logged: debug, info, warn or error", level);
}

// Applies the level AddLogLevel filled; kInvalidArgument naming the accepted ones.
Status ApplyLogLevel(const std::string& text) {
  service::LogLevel level;
  if (!service::ParseLogLevel(text, &level)) {
    return InvalidArgument("--log-level (log.level) must be debug, info, warn or error, not '" + text + "'");
  }
  service::SetLogLevel(level);
  return Status::Ok();
}

// The settings of `ektp central serve`; defaults are CentralOptions' but the
// port, kCentralPort.
service::ConfigSchema CentralServeSchema(central::CentralOptions& options, std::string& log_level) {
  options.port = kCentralPort;
  service::ConfigSchema schema("central serve");
  schema.Add("central.data_dir", "--dir", "data directory (from `central init`); required", &options.data_dir)
      .Add("central.db", "--db", "database URL; empty: SQLite in the data directory", &options.db_url)
      .Secret()
      .Add("listen.address", "--bind",
           "address to listen on; 0.0.0.0 (every interface) for stations on other machines", &options.bind_address)
      .Add("listen.port", "--port", "port (0 picks a free one)", &options.port)
      .Add("listen.plain_http", "--plain-http", "serve without TLS (localhost development only)", &options.plain_http)
      .Add("listen.threads", "--threads", "worker threads", &options.threads)
      .Add("listen.served_hosts", "--served-host",
           "names browsers reach central by, besides localhost, the bind address and the names in its certificate "
           "(Host check; the flag repeats)",
           &options.served_hosts)
      .Add("pipeline.disabled", "--no-pipeline", "do not run the processing pipeline's workers in this process",
           service::Negated{&options.run_pipeline})
      .Add("pipeline.max_records_per_second", "--pipeline-rate",
           "at most this many records per second through the pipeline (0: no limit)",
           &options.pipeline.max_records_per_second)
      .Add("pipeline.dedupe_workers", "--dedupe-workers",
           "dedupe worker threads: their gallery searches run in parallel, their decisions one at a time",
           &options.pipeline.dedupe_workers)
      .Add("pipeline.matcher_shards", "--matcher-shards",
           "de-duplicate with n `ektp central matcher --shard k/n` processes (0: an in-process gallery)",
           &options.pipeline.dedupe.matcher_shards);
  AddLogLevel(schema, &log_level);
  return schema;
}

}  // namespace

int CentralServe(const Args& args) {
  CLI::App app("Run central's API server", "central serve");
  central::CentralOptions options;
  std::string log_level = "info";
  service::ConfigSchema schema = CentralServeSchema(options, log_level);
  auto validate = [&options, &log_level]() -> Status {
    RETURN_IF_ERROR(ApplyLogLevel(log_level));
    if (options.data_dir.empty()) return InvalidArgument("--dir (or central.data_dir in --config) is required");
    if (options.plain_http && options.bind_address != "127.0.0.1" && options.bind_address != "localhost") {
      return InvalidArgument("--plain-http is for localhost development only; bind to 127.0.0.1");
    }
    return Status::Ok();
  };
  if (auto exit = ParseConfigured(app, args, schema, validate)) return *exit;
  auto server = central::CentralServer::Create(options, SystemClock::Instance());
  if (!server.ok()) return Fail(server.status());
  if (Status status = (*server)->Start(); !status.ok()) return Fail(status);
  std::cout << "central listening on " << (*server)->base_url() << std::endl;
  WarnIfLoopbackOnly(options.bind_address, "stations");
  auto systemd = service::SystemdNotifier::Ready("central listening on " + (*server)->base_url());
  WaitForStopSignal();
  systemd.Stopping();
  (*server)->Stop();
  return kExitOk;
}

int CentralTokenCreate(const Args& args) {
  CLI::App app("Create a one-time registration token for a new station", "central token create");
  std::string dir, db_url, kind = "kecamatan_office", capabilities = "enroll", admin = "admin";
  central::TokenRequest request;
  int hours = 72;
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL (default: SQLite in the data directory)");
  app.add_option("--kecamatan", request.kecamatan_code, "kecamatan code the station serves, e.g. 35.21.01")->required();
  app.add_option("--kind", kind, "kecamatan_office, disdukcapil_office or mobile_van")->capture_default_str();
  app.add_option("--capabilities", capabilities, "comma list of enroll, print, pickup, suket")->capture_default_str();
  app.add_option("--valid-hours", hours, "hours until the token expires")->capture_default_str();
  app.add_option("--admin", admin, "who creates it (audited)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto parsed_kind = central::ParseStationKind(kind);
  if (!parsed_kind.ok()) return Fail(parsed_kind.status());
  auto parsed_capabilities = central::ParseCapabilities(capabilities);
  if (!parsed_capabilities.ok()) return Fail(parsed_capabilities.status());
  request.kind = *parsed_kind;
  request.capabilities = *parsed_capabilities;
  request.valid_for = std::chrono::hours(hours);
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  central::StationRegistry registry(**db, SystemClock::Instance());
  auto token = registry.CreateToken(request, admin);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return kExitOk;
}

int CentralStationList(const Args& args) {
  CLI::App app("List registered stations", "central station list");
  std::string dir, db_url;
  bool json = false;
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL");
  app.add_flag("--json", json, "print a JSON array");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  central::StationRegistry registry(**db, SystemClock::Instance());
  auto stations = registry.List();
  if (!stations.ok()) return Fail(stations.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : *stations) {
      out.push_back({{"id", s.id},
                     {"status", central::StationStatusName(s.status)},
                     {"kecamatan_code", s.kecamatan_code},
                     {"kind", central::StationKindName(s.kind)},
                     {"capabilities", s.capabilities},
                     {"registered_at", s.registered_at}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& s : *stations) {
    std::string caps;
    for (const auto& c : s.capabilities) caps += (caps.empty() ? "" : ",") + c;
    std::cout << s.id << "  " << central::StationStatusName(s.status) << "  " << s.kecamatan_code << "  "
              << central::StationKindName(s.kind) << "  " << caps << "\n";
  }
  return kExitOk;
}

namespace {
int StationDecision(const Args& args, const char* name, bool approve) {
  CLI::App app(approve ? "Approve a registered station" : "Revoke a station", name);
  std::string dir, db_url, id, admin = "admin", reason = "revoked by admin";
  app.add_option("station", id, "station id, e.g. ST-352101-01")->required();
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL");
  app.add_option("--admin", admin, "who decides (audited)")->capture_default_str();
  if (!approve) app.add_option("--reason", reason, "why")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  central::StationRegistry registry(**db, SystemClock::Instance());
  Status status = approve ? registry.Approve(id, admin) : registry.Revoke(id, admin, reason);
  if (!status.ok()) return Fail(status);
  std::cout << id << (approve ? " approved\n" : " revoked\n");
  return kExitOk;
}
}  // namespace

int CentralStationApprove(const Args& args) { return StationDecision(args, "central station approve", true); }
int CentralStationRevoke(const Args& args) { return StationDecision(args, "central station revoke", false); }

int CentralStationReplace(const Args& args) {
  CLI::App app("Name the replacement of a revoked (stolen or broken) station: the same kecamatan and kind. The "
               "replacement may then carry over the old station's work captured before its revocation "
               "(`ektp station carry-over`, then `ektp central import`)",
               "central station replace");
  std::string dir, db_url, replaced, replacement, admin = "admin";
  app.add_option("station", replaced, "the revoked station, e.g. ST-352101-01")->required();
  app.add_option("--by", replacement, "the replacement station (registered with a token for the same office)")
      ->required();
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL");
  app.add_option("--admin", admin, "who decides (audited)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  Status status = central::StationRegistry(**db, SystemClock::Instance()).Replace(replaced, replacement, admin);
  if (!status.ok()) return Fail(status);
  std::cout << replacement << " replaces " << replaced << "; on " << replacement
            << ", `ektp station carry-over` writes the old station's unsynced work for `ektp central import`\n";
  return kExitOk;
}

int StationInit(const Args& args) {
  CLI::App app("Register this station with central", "station init");
  station::InitOptions options;
  app.add_option("--dir", options.data_dir, "data directory for this station")->required();
  app.add_option("--central", options.central_url, "central's URL, e.g. https://central.example:8443")->required();
  app.add_option("--token", options.token, "one-time registration token from the admin")->required();
  app.add_option("--fingerprint", options.central_fingerprint, "SHA-256 of central's certificate, from the admin");
  app.add_option("--admin-user", options.admin_username,
                 "create this first operator with role admin; its password (8 characters or more) is read from "
                 "standard input");
  if (auto exit = Parse(app, args)) return *exit;
  if (!options.admin_username.empty()) {
    std::cerr << "password for " << options.admin_username << " (at least 8 characters): ";
    std::getline(std::cin, options.admin_password);
  }
  auto identity = station::InitStation(options, SystemClock::Instance());
  if (!identity.ok()) return Fail(identity.status());
  std::cout << "registered as " << identity->station_id << " (kecamatan " << identity->kecamatan_code
            << "); ask the admin to approve it\n";
  if (options.central_fingerprint.empty() && options.central_url.starts_with("https://")) {
    // Trusted on first use: the admin must compare before the station is approved.
    std::ifstream in(options.data_dir + "/central-cert.pem");
    auto fingerprint = net::CertificateSha256(std::string(std::istreambuf_iterator<char>(in), {}));
    std::cerr << "WARNING: central's certificate was trusted without --fingerprint. It has the SHA-256 fingerprint\n  "
              << (fingerprint.ok() ? *fingerprint : "? (" + fingerprint.status().message() + ")") << "\n"
              << "Compare it with the fingerprint `ektp central init` printed (ask the admin) before the station is "
                 "approved. If they differ, this station talked to an impostor: ask the admin to revoke "
              << identity->station_id << " and run `ektp station init` again with --fingerprint.\n";
  }
  return kExitOk;
}

namespace {

// The settings of `ektp station serve`; defaults are StationOptions' and
// SyncOptions' but the port, kStationPort.
service::ConfigSchema StationServeSchema(station::StationOptions& options, std::string& log_level) {
  options.port = kStationPort;
  // A van out of reach for a week or two still works; past that, it syncs first.
  options.enrollment.max_unsynced_enrollments = 5000;
  options.enrollment.max_unsynced_age_hours = 14 * 24;
  // docs/biometrics.md, "Capture quality": the worst few per cent of FVC2002's captures.
  options.enrollment.min_capture_quality = station::kDefaultMinCaptureQuality;
  service::ConfigSchema schema("station serve");
  schema.Add("station.data_dir", "--dir", "data directory (from `station init`); required", &options.data_dir)
      .Add("listen.address", "--bind",
           "address for the operator API; 0.0.0.0 (every interface) for operators' browsers on other machines",
           &options.bind_address)
      .Add("listen.port", "--port", "port (0 picks a free one)", &options.port)
      .Add("listen.served_hosts", "--served-host",
           "names operators' browsers reach the station by, besides localhost and the bind address (the flag repeats)",
           &options.served_hosts)
      .Add("central.urls", "--central", "central URLs, in failover order; empty: the URL registered at `station init`",
           &options.central_urls)
      .Add("print.output", "--print-output",
           "a print station's card output: cups:<printer>[@<server>] or a spool folder; empty: <dir>/spool",
           &options.print_output)
      .Add("sync.batch_packets", "--batch", "packets per upload batch", &options.sync.batch_packets)
      .Add("sync.idle_ms", "--sync-idle-ms", "pause between sync passes when all is sent", &options.sync.idle_interval)
      .Add("sync.backoff_ms", "--sync-backoff-ms", "first retry backoff after a failed pass (doubles, full jitter)",
           &options.sync.initial_backoff)
      .Add("sync.max_backoff_ms", "--sync-max-backoff-ms", "ceiling of the retry backoff", &options.sync.max_backoff)
      .Add("sync.timeout_ms", "--sync-timeout-ms", "timeout of one request to central", &options.sync.request_timeout)
      .Add("sync.random_seed", "--seed", "seed of the backoff jitter (0: system randomness; for tests)",
           &options.random_seed)
      .Add("console.simulated_scanner_seed", "--simulated-scanner",
           "demo and tests only: the console's fingerprint scanner is simulated from this seed (0: off)",
           &options.simulated_scanner_seed)
      .Add("review.required", "--review-required",
           "new enrollments wait for a supervisor's approval before they are uploaded or exported",
           &options.enrollment.review_required)
      .Add("limits.max_unsynced_enrollments", "--max-unsynced-enrollments",
           "refuse new enrollments while this many are not yet synced to central (0: no limit)",
           &options.enrollment.max_unsynced_enrollments)
      .Add("limits.max_unsynced_age_hours", "--max-unsynced-age-hours",
           "refuse new enrollments while the oldest not yet synced was captured more than this many hours ago "
           "(0: no limit)",
           &options.enrollment.max_unsynced_age_hours)
      .Add("capture.min_quality", "--min-capture-quality",
           "refuse a captured finger whose capture quality (0-100) is below this: capture it again or record an "
           "exception (0: no check)",
           &options.enrollment.min_capture_quality)
      .Add("backup.outbox_mirror", "--outbox-mirror",
           "a folder on a second device (a USB disk) that keeps a sealed copy of the unsynced outbox, rewritten at "
           "each change; it must exist (empty: no mirror)",
           &options.outbox_mirror)
      .Add("sync.insecure_plain_http", "--insecure-plain-http",
           "development only: allow http:// central URLs (answers are still verified; the link is readable)",
           &options.sync.allow_plain_http);
  AddLogLevel(schema, &log_level);
  return schema;
}

}  // namespace

int StationServe(const Args& args) {
  CLI::App app("Run the station: operator API and background sync", "station serve");
  station::StationOptions options;
  std::string log_level = "info";
  service::ConfigSchema schema = StationServeSchema(options, log_level);
  auto validate = [&options, &log_level]() -> Status {
    RETURN_IF_ERROR(ApplyLogLevel(log_level));
    const station::SyncOptions& sync = options.sync;
    if (options.data_dir.empty()) return InvalidArgument("--dir (or station.data_dir in --config) is required");
    if (sync.idle_interval.count() < 0 || sync.initial_backoff.count() < 1 || sync.max_backoff < sync.initial_backoff ||
        sync.request_timeout.count() < 1) {
      return InvalidArgument("--sync-idle-ms must be >= 0, --sync-backoff-ms >= 1, --sync-max-backoff-ms >= "
                             "--sync-backoff-ms and --sync-timeout-ms >= 1");
    }
    if (options.enrollment.max_unsynced_enrollments < 0 || options.enrollment.max_unsynced_age_hours < 0) {
      return InvalidArgument("--max-unsynced-enrollments and --max-unsynced-age-hours must be >= 0 (0: no limit)");
    }
    if (options.enrollment.min_capture_quality < 0 || options.enrollment.min_capture_quality > 100) {
      return InvalidArgument("--min-capture-quality (capture.min_quality) must be 0 to 100");
    }
    return Status::Ok();
  };
  if (auto exit = ParseConfigured(app, args, schema, validate)) return *exit;
  auto server = station::StationServer::Create(options, SystemClock::Instance());
  if (!server.ok()) return Fail(server.status());
  if (Status status = (*server)->Start(); !status.ok()) return Fail(status);
  std::cout << "station listening on " << (*server)->base_url() << std::endl;
  WarnIfLoopbackOnly(options.bind_address, "operators' browsers");
  auto systemd = service::SystemdNotifier::Ready("station listening on " + (*server)->base_url());
  WaitForStopSignal();
  systemd.Stopping();
  (*server)->Stop();
  return kExitOk;
}

int StationOperatorAdd(const Args& args) {
  CLI::App app("Add an operator account (password read from standard input)", "station operator add");
  std::string dir, role = "operator";
  station::Operator op;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--username", op.username, "login name")->required();
  app.add_option("--name", op.full_name, "full name")->required();
  app.add_option("--role", role, "operator, supervisor, print_officer or admin")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto parsed_role = station::ParseRole(role);
  if (!parsed_role.ok()) return Fail(parsed_role.status());
  op.role = *parsed_role;
  std::string password;
  std::getline(std::cin, password);
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  station::Station& station = *opened->station;
  if (Status status = station.AddOperator(op, password); !status.ok()) return Fail(status);
  std::cout << "operator " << op.username << " added with role " << role << "\n";
  return kExitOk;
}

int CentralAccountAdd(const Args& args) {
  CLI::App app("Add a console account for central's staff (password read from standard input)", "central account add");
  std::string dir, db_url;
  accounts::Account account;
  account.role = "supervisor";
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL");
  app.add_option("--username", account.username, "login name")->required();
  app.add_option("--name", account.full_name, "full name")->required();
  app.add_option("--role", account.role, "admin, adjudicator or supervisor (central/console_api.h)")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  if (Status role = central::CheckConsoleRole(account.role); !role.ok()) return Fail(role);
  std::string password;
  std::getline(std::cin, password);
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  const accounts::LoginPolicy policy;
  accounts::Accounts accounts(**db, SystemClock::Instance(), policy,
                              [](std::string_view, std::string_view, std::string_view) { return Status::Ok(); });
  Status added = (*db)->Transact([&]() -> Status {
    RETURN_IF_ERROR(accounts.Add(account, password));
    return store::AuditLog(**db, SystemClock::Instance())
        .Append({"cli", "console.account_add", "account:" + account.username,
                 nlohmann::json{{"role", account.role}}.dump()});
  });
  if (!added.ok()) return Fail(added);
  std::cout << "account " << account.username << " added with role " << account.role
            << "; it logs in at central's /console\n";
  return kExitOk;
}

int StationOutbox(const Args& args) {
  CLI::App app("Show the outbox: what waits, what was sent, what central refused", "station outbox");
  std::string dir, state;
  int limit = 50;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--state", state, "pending, acked, parked or awaiting_review (default: all)");
  app.add_option("--limit", limit, "at most this many, newest first")->capture_default_str();
  bool json = false;
  app.add_flag("--json", json, "print {counts, entries} as JSON");
  if (auto exit = Parse(app, args)) return *exit;
  std::optional<station::OutboxState> only;
  if (!state.empty()) {
    auto parsed = station::ParseOutboxState(state);
    if (!parsed.ok()) return Fail(parsed.status());
    only = *parsed;
  }
  if (limit < 1) return Fail(InvalidArgument("--limit must be at least 1"));
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  station::Station& station = *opened->station;
  auto entries = station.Outbox(only, limit);
  if (!entries.ok()) return Fail(entries.status());
  if (json) {
    nlohmann::json out = {{"counts", nlohmann::json::object()}, {"entries", nlohmann::json::array()}};
    for (station::OutboxState s : station::kAllOutboxStates) {
      auto count = station.CountOutbox(s);
      if (!count.ok()) return Fail(count.status());
      out["counts"][std::string(station::OutboxStateName(s))] = *count;
    }
    for (const auto& e : *entries) {
      out["entries"].push_back({{"sequence", e.sequence}, {"state", station::OutboxStateName(e.state)},
                                {"kind", e.kind}, {"reference", e.reference}, {"attempts", e.attempts},
                                {"last_error", e.last_error}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (station::OutboxState s : station::kAllOutboxStates) {
    auto count = station.CountOutbox(s);
    std::cout << station::OutboxStateName(s) << ": " << (count.ok() ? *count : -1) << "  ";
  }
  std::cout << "\n";
  for (const auto& e : *entries) {
    std::cout << e.sequence << "  " << station::OutboxStateName(e.state) << "  " << e.kind << "  " << e.reference << "  attempts " << e.attempts
              << (e.last_error.empty() ? "" : "  " + e.last_error) << "\n";
  }
  return kExitOk;
}

}  // namespace ektp::cli
