// `ektp central ...` and `ektp station ...`: init, serve and administration.
#include <fstream>
#include <iterator>
#include <iostream>

#include <CLI/CLI.hpp>

#include "central/server.h"
#include "central/station_registry.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"
#include "net/tls.h"
#include "service/config.h"
#include "service/log.h"
#include "station/server.h"

namespace ektp::cli {
namespace {

// Reads `key` from the TOML config into `target` unless the flag was given.
template <typename T>
Status FromConfig(const service::ConfigFile* config, const CLI::App& app, const char* flag, std::string_view key, T* target) {
  if (config == nullptr || app.count(flag) > 0 || !config->Has(key)) return Status::Ok();
  if constexpr (std::is_same_v<T, std::string>) {
    ASSIGN_OR_RETURN(*target, config->GetString(key));
  } else if constexpr (std::is_same_v<T, bool>) {
    ASSIGN_OR_RETURN(*target, config->GetBool(key));
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    ASSIGN_OR_RETURN(*target, config->GetStringList(key));
  } else {
    ASSIGN_OR_RETURN(int64_t value, config->GetInt(key));
    *target = static_cast<T>(value);
  }
  return Status::Ok();
}

StatusOr<std::optional<service::ConfigFile>> LoadConfig(const std::string& path) {
  if (path.empty()) return std::optional<service::ConfigFile>();
  ASSIGN_OR_RETURN(service::ConfigFile config, service::ConfigFile::Load(path));
  return std::optional<service::ConfigFile>(std::move(config));
}

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

int CentralServe(const Args& args) {
  CLI::App app("Run central's API server", "central serve");
  central::CentralOptions options;
  std::string config_path;
  app.add_option("--config", config_path, "TOML file; flags override it");
  app.add_option("--dir", options.data_dir, "data directory (from central init)");
  app.add_option("--db", options.db_url, "database URL (default: SQLite in the data directory)");
  app.add_option("--bind", options.bind_address, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "port (0 picks a free one)")->capture_default_str();
  app.add_flag("--plain-http", options.plain_http, "serve without TLS (localhost development only)");
  app.add_option("--threads", options.threads, "worker threads")->capture_default_str();
  app.add_option("--served-host", options.served_hosts,
                 "a name browsers reach central by, besides localhost, --bind and the names in its certificate (Host check; repeatable)");
  bool no_pipeline = false;
  int pipeline_rate = 0;
  int matcher_shards = 0;
  app.add_option("--matcher-shards", matcher_shards,
                 "de-duplicate with n `ektp central matcher --shard k/n` processes instead of an in-process gallery")
      ->capture_default_str();
  app.add_flag("--no-pipeline", no_pipeline, "do not run the processing pipeline's workers in this process");
  app.add_option("--pipeline-rate", pipeline_rate, "at most this many records per second through the pipeline (0: no limit)")
      ->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  const service::ConfigFile* file = config->has_value() ? &**config : nullptr;
  for (Status status : {FromConfig(file, app, "--no-pipeline", "pipeline.disabled", &no_pipeline),
                        FromConfig(file, app, "--pipeline-rate", "pipeline.max_records_per_second", &pipeline_rate),
                        FromConfig(file, app, "--matcher-shards", "pipeline.matcher_shards", &matcher_shards),
                        FromConfig(file, app, "--dir", "central.data_dir", &options.data_dir),
                        FromConfig(file, app, "--db", "central.db", &options.db_url),
                        FromConfig(file, app, "--bind", "listen.address", &options.bind_address),
                        FromConfig(file, app, "--port", "listen.port", &options.port),
                        FromConfig(file, app, "--plain-http", "listen.plain_http", &options.plain_http),
                        FromConfig(file, app, "--threads", "listen.threads", &options.threads)}) {
    if (!status.ok()) return Fail(status);
  }
  if (options.data_dir.empty()) return Fail(InvalidArgument("--dir (or central.data_dir in --config) is required"));
  if (options.plain_http && options.bind_address != "127.0.0.1" && options.bind_address != "localhost") {
    return Fail(InvalidArgument("--plain-http is for localhost development only; bind to 127.0.0.1"));
  }
  options.run_pipeline = !no_pipeline;
  options.pipeline.max_records_per_second = pipeline_rate;
  options.pipeline.dedupe.matcher_shards = matcher_shards;
  auto server = central::CentralServer::Create(options, SystemClock::Instance());
  if (!server.ok()) return Fail(server.status());
  if (Status status = (*server)->Start(); !status.ok()) return Fail(status);
  std::cout << "central listening on " << (*server)->base_url() << std::endl;
  WaitForStopSignal();
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
  app.add_option("--kecamatan", request.district_code, "kecamatan code the station serves, e.g. 35.21.01")->required();
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
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentralDb(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  central::StationRegistry registry(**db, SystemClock::Instance());
  auto stations = registry.List();
  if (!stations.ok()) return Fail(stations.status());
  for (const auto& s : *stations) {
    std::string caps;
    for (const auto& c : s.capabilities) caps += (caps.empty() ? "" : ",") + c;
    std::cout << s.id << "  " << central::StationStatusName(s.status) << "  " << s.district_code << "  "
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

int StationInit(const Args& args) {
  CLI::App app("Register this station with central", "station init");
  station::InitOptions options;
  app.add_option("--dir", options.data_dir, "data directory for this station")->required();
  app.add_option("--central", options.central_url, "central's URL, e.g. https://central.example:8443")->required();
  app.add_option("--token", options.token, "one-time registration token from the admin")->required();
  app.add_option("--fingerprint", options.central_fingerprint, "SHA-256 of central's certificate, from the admin");
  app.add_option("--admin-user", options.admin_username, "create this first operator with role admin");
  if (auto exit = Parse(app, args)) return *exit;
  if (!options.admin_username.empty()) {
    std::cerr << "password for " << options.admin_username << ": ";
    std::getline(std::cin, options.admin_password);
  }
  auto identity = station::InitStation(options, SystemClock::Instance());
  if (!identity.ok()) return Fail(identity.status());
  std::cout << "registered as " << identity->station_id << " (kecamatan " << identity->district_code
            << "); ask the admin to approve it\n";
  return kExitOk;
}

int StationServe(const Args& args) {
  CLI::App app("Run the station: operator API and background sync", "station serve");
  station::StationOptions options;
  std::string config_path;
  int idle_ms = 2000, backoff_ms = 500, max_backoff_ms = 60'000, timeout_ms = 30'000;
  app.add_option("--config", config_path, "TOML file; flags override it");
  app.add_option("--dir", options.data_dir, "data directory (from station init)");
  app.add_option("--bind", options.bind_address, "address for the operator API")->capture_default_str();
  app.add_option("--served-host", options.served_hosts,
                 "a name operators' browsers reach the station by, besides localhost and --bind (repeatable)");
  app.add_option("--port", options.port, "port (0 picks a free one)")->capture_default_str();
  app.add_option("--central", options.central_urls, "central URLs, in failover order (default: as registered)");
  app.add_option("--batch", options.sync.batch_packets, "packets per upload batch")->capture_default_str();
  app.add_option("--sync-idle-ms", idle_ms, "pause between sync passes when all is sent")->capture_default_str();
  app.add_option("--sync-backoff-ms", backoff_ms, "first retry backoff after a failed pass (doubles, full jitter)")
      ->capture_default_str();
  app.add_option("--sync-max-backoff-ms", max_backoff_ms, "ceiling of the retry backoff")->capture_default_str();
  app.add_option("--sync-timeout-ms", timeout_ms, "timeout of one request to central")->capture_default_str();
  app.add_option("--seed", options.random_seed, "seed of the backoff jitter (0: system randomness; for tests)")
      ->capture_default_str();
  app.add_flag("--insecure-plain-http", options.sync.allow_plain_http,
               "development only: allow http:// central URLs (answers are still verified; the link is readable)");
  if (auto exit = Parse(app, args)) return *exit;
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  const service::ConfigFile* file = config->has_value() ? &**config : nullptr;
  for (Status status : {FromConfig(file, app, "--dir", "station.data_dir", &options.data_dir),
                        FromConfig(file, app, "--bind", "listen.address", &options.bind_address),
                        FromConfig(file, app, "--port", "listen.port", &options.port),
                        FromConfig(file, app, "--central", "central.urls", &options.central_urls),
                        FromConfig(file, app, "--batch", "sync.batch_packets", &options.sync.batch_packets),
                        FromConfig(file, app, "--sync-idle-ms", "sync.idle_ms", &idle_ms),
                        FromConfig(file, app, "--sync-backoff-ms", "sync.backoff_ms", &backoff_ms),
                        FromConfig(file, app, "--sync-max-backoff-ms", "sync.max_backoff_ms", &max_backoff_ms),
                        FromConfig(file, app, "--sync-timeout-ms", "sync.timeout_ms", &timeout_ms)}) {
    if (!status.ok()) return Fail(status);
  }
  if (options.data_dir.empty()) return Fail(InvalidArgument("--dir (or station.data_dir in --config) is required"));
  if (idle_ms < 0 || backoff_ms < 1 || max_backoff_ms < backoff_ms || timeout_ms < 1) {
    return Fail(InvalidArgument("--sync-idle-ms must be >= 0, --sync-backoff-ms >= 1, --sync-max-backoff-ms >= "
                                "--sync-backoff-ms and --sync-timeout-ms >= 1"));
  }
  options.sync.idle_interval = std::chrono::milliseconds(idle_ms);
  options.sync.initial_backoff = std::chrono::milliseconds(backoff_ms);
  options.sync.max_backoff = std::chrono::milliseconds(max_backoff_ms);
  options.sync.request_timeout = std::chrono::milliseconds(timeout_ms);
  auto server = station::StationServer::Create(options, SystemClock::Instance());
  if (!server.ok()) return Fail(server.status());
  if (Status status = (*server)->Start(); !status.ok()) return Fail(status);
  std::cout << "station listening on " << (*server)->base_url() << std::endl;
  WaitForStopSignal();
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

int StationOutbox(const Args& args) {
  CLI::App app("Show the outbox: what waits, what was sent, what central refused", "station outbox");
  std::string dir, state;
  int limit = 50;
  app.add_option("--dir", dir, "station data directory")->required();
  app.add_option("--state", state, "pending, acked or parked (default: all)");
  app.add_option("--limit", limit, "at most this many, newest first")->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto opened = OpenStation(dir);
  if (!opened.ok()) return Fail(opened.status());
  station::Station& station = *opened->station;
  for (const char* s : {"pending", "acked", "parked"}) {
    auto count = station.CountOutbox(s);
    std::cout << s << ": " << (count.ok() ? *count : -1) << "  ";
  }
  std::cout << "\n";
  auto entries = station.Outbox(state, limit);
  if (!entries.ok()) return Fail(entries.status());
  for (const auto& e : *entries) {
    std::cout << e.sequence << "  " << e.state << "  " << e.kind << "  " << e.reference << "  attempts " << e.attempts
              << (e.last_error.empty() ? "" : "  " + e.last_error) << "\n";
  }
  return kExitOk;
}

}  // namespace ektp::cli
