// Central's HTTP(S) API for stations, and the files central keeps in its
// data directory:
//   signing.key, sealing.key   Ed25519 and X25519 secret keys (mode 0600)
//   biometrics.key             XChaCha20-Poly1305 key of the biometrics central
//                              stores (mode 0600; docs/security.md)
//   tls-cert.pem, tls-key.pem  self-signed TLS certificate stations pin
//   central.db                 the default SQLite database
//   central.lock               flock(2)ed from Start to Stop when serving SQLite:
//                              a second server on the folder is refused
//
// Routes (JSON; the sync routes need a station-signed request, see
// sync/request_auth.h; docs/sync-format.md and docs/openapi.yaml describe them):
//   POST /api/v1/stations/register  {token, public_key}      -> station and central keys
//   POST /api/v1/sync/up            {packets: [...]}          -> {cursor, results}
//   GET  /api/v1/sync/down?after=N&limit=M                    -> {items: [...]}
//   GET  /api/v1/sync/cursor                                  -> {cursor}
//   GET  /api/v1/status?nik=N&receipt=R   public, rate-limited -> card status (status_lookup.h)
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "accounts/accounts.h"
#include "central/ingest.h"
#include "core/clock.h"
#include "pipeline/pipeline.h"
#include "store/pool.h"

namespace ektp::central {

struct CentralOptions {
  std::string data_dir;
  std::string db_url;  // default sqlite:<data_dir>/central.db
  std::string bind_address = "127.0.0.1";
  int port = 0;
  bool plain_http = false;  // development on localhost only
  int threads = 8;
  // Names browsers and stations reach central by, besides loopback names,
  // bind_address and the names in central's TLS certificate (those given to
  // `central init --hostname`); the public and admin routes refuse other Host
  // headers (net::RequestGuardOptions::served_hosts).
  std::vector<std::string> served_hosts;
  size_t max_body_bytes = 32 * 1024 * 1024;
  // Run the processing pipeline's workers (src/pipeline) in this process.
  bool run_pipeline = true;
  // How often a signed audit checkpoint goes down every approved station's
  // feed when the audit log has grown (central/audit_checkpoints.h).
  // Default 1 hour; 0 = never.
  std::chrono::seconds audit_checkpoint_interval{3600};
  pipeline::PipelineOptions pipeline;
  // Login back-off of the console's accounts (central/console_api.h).
  accounts::LoginPolicy login;
};

// Creates the keys and TLS certificate in `data_dir` if missing, and the
// database schema. Idempotent. `hostnames` go into the certificate's SAN.
Status InitCentral(const CentralOptions& options, const std::vector<std::string>& hostnames);

// "sqlite:<data_dir>/central.db" unless options.db_url is set.
std::string CentralDbUrl(const CentralOptions& options);

StatusOr<CentralKeys> LoadCentralKeys(const std::string& data_dir);
// biometrics.key alone (a matcher shard, the adjudicator's photos).
StatusOr<crypto::DataKey> LoadBiometricsKey(const std::string& data_dir);

class CentralServer {
 public:
  // `clock` must outlive the server.
  static StatusOr<std::unique_ptr<CentralServer>> Create(const CentralOptions& options, const Clock& clock);
  ~CentralServer();

  // Locks the folder (SQLite only; kFailedPrecondition if another server
  // holds it), listens (kUnavailable if the port is taken), then starts the
  // pipeline's workers.
  Status Start();
  void Stop();
  int port() const;
  std::string base_url() const;

 private:
  struct Impl;
  explicit CentralServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ektp::central
