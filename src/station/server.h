// The station process: its data directory, registration with central, the
// operator API and the background sync loop.
//
// Data directory:
//   station.key        the station's Ed25519 secret key (mode 0600)
//   central-cert.pem   central's TLS certificate, pinned at registration
//   station.db         SQLite: identity, operators, enrollments, outbox
//
// Operator API (JSON; all but login need "Authorization: Bearer <token>"):
//   POST /api/v1/login                     {username, password} -> {token};
//                                          429 + Retry-After under back-off (LoginPolicy)
//   POST /api/v1/logout                    revokes the session
//   POST /api/v1/enrollments               multipart: application (JSON, with an optional
//                                          location {lat, lon, accuracy_m}), face,
//                                          signature, finger_1..finger_10 -> receipt;
//                                          409 past the unsynced limits (pesan says how to sync)
//                                          Idempotency-Key header required (201 new,
//                                          200 the same receipt again, 409 key reused)
//   GET  /api/v1/enrollments/:reg          status at central, as last heard
//   GET  /api/v1/enrollments/:reg/receipt  printable receipt (HTML)
//   GET  /api/v1/outbox?state=parked       outbox entries, newest first
//   GET  /api/v1/sync/status               counts, the last sync outcome and
//                                          whether central still holds it pending;
//                                          with an outbox mirror, "mirror": {dir,
//                                          last_written_at, packets, error, error_since}
// A print station's print officer (station.h, "A print officer's actions";
// serials are strings as on the blank, "0001000001"):
//   GET  /api/v1/print/jobs                the print jobs held, in print order
//   GET  /api/v1/print/blanks              blanks by state
//   POST /api/v1/print/blanks/receive      {first_serial, last_serial} -> {received}
//   POST /api/v1/print/next                prints the next job -> {job_id, registration_number, serial, printed_at}
//   POST /api/v1/print/blanks/:serial/spoil    {reason, note?}
//   POST /api/v1/print/cards/:serial/misprint  {note?}: the printed card came out wrong
//   POST /api/v1/print/dispatch            printed cards into manifests, one per collecting station
//                                          -> {manifests: [{manifest_id, to_station, cards: [{registration_number, serial}]}]}
// The Suket (station.h, IssueSuket; operators and supervisors):
//   POST /api/v1/enrollments/:reg/suket    {face_jpeg (base64)} -> 201 {serial, valid_until, replaces, token, pdf (base64)}
//   POST /api/v1/sukets/verify             {token} -> {outcome, reason, message, pesan}, offline
// Card hand-over at the counter (station.h, "Card hand-over"; operators and supervisors):
//   GET  /api/v1/pickup/cards/:query       a card by NIK, serial or registration number
//   POST /api/v1/pickup/cards/:serial/check      {fingers: [{position, template (base64)}]}
//                                                -> {passed, score, threshold, attempt, override_allowed, ...}
//   POST /api/v1/pickup/cards/:serial/override   {reason}, with a supervisor's session, after failed checks
//   POST /api/v1/pickup/cards/:serial/hand-over  {delegate?: {name, nik, relation}, surrendered_ktp?: {nik, serial}}
//                                                -> {hand_over, holder_name, free_service_notice, complaint_channel}
// Supervisor review before upload (station.h, ApproveEnrollment; a supervisor's own session, role supervisor):
//   GET  /api/v1/review/enrollments        enrollments awaiting review, oldest first, with demographics,
//                                          photo and signature (base64), finger exceptions and location
//   POST /api/v1/review/enrollments/:reg/approve   -> {approved, by}: the enrollment is queued for upload
//   POST /api/v1/review/enrollments/:reg/reject    {reason} -> {rejected, by}: parked with the reason, never uploaded
// Every route first passes net::RequestGuard (Host, Origin, Content-Type).
// Errors carry "error" (precise, English) and "pesan" (for the operator,
// Bahasa Indonesia).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "station/sync_client.h"

namespace ektp::station {

struct StationOptions {
  std::string data_dir;
  std::string bind_address = "127.0.0.1";
  // Names operators' browsers reach the station by, besides loopback names and
  // bind_address (net::RequestGuardOptions::served_hosts).
  std::vector<std::string> served_hosts;
  int port = 0;
  int threads = 4;
  LoginPolicy login;
  std::vector<std::string> central_urls;  // overrides the registered URL when set
  SyncOptions sync;
  bool run_sync = true;
  // Where a print station's cards go: "cups:<printer>[@<server>]" or a
  // spool folder (card/output.h); empty: the folder `spool` in data_dir.
  std::string print_output;
  // Seeds the sync client's backoff jitter; 0 (the default) uses system
  // randomness. Tests set it so a run can be replayed.
  uint64_t random_seed = 0;
  // Supervisor review and the limits on unsynced work (station.h). The
  // review copy key is the station's box key; review needs one.
  EnrollmentPolicy enrollment;
  // Not 0: POST /api/v1/scanner/simulated answers synthetic fingerprint
  // templates from this seed (bio/synth.h), for the demo and the browser
  // tests. 0 (the default): that route refuses.
  uint64_t simulated_scanner_seed = 0;
  // Not empty: keep the rolling outbox mirror (outbox_mirror.h) in this
  // folder, on another device than data_dir; it must exist (the folder is
  // never created, so an unplugged disk is noticed). Rewritten after each
  // enrollment and approval, whose answer waits for that write (at most 2
  // seconds; a failed write fails nothing), and whenever a check finds the
  // pending outbox changed (acks, parks, other packets), every
  // `mirror_check_interval`; a failed write is retried at that interval.
  // Empty (the default): no mirror.
  std::string outbox_mirror;
  std::chrono::milliseconds mirror_check_interval{2000};
};

struct InitOptions {
  std::string data_dir;
  std::string central_url;
  std::string token;
  // SHA-256 of central's certificate, given by the admin with the token;
  // when empty the certificate seen on first contact is trusted.
  std::string central_fingerprint;
  std::string admin_username;  // first operator, role admin
  std::string admin_password;
};

// Registers this station with central and creates its data directory.
// kFailedPrecondition if the directory already holds a registered station.
StatusOr<Identity> InitStation(const InitOptions& options, const Clock& clock);

std::string StationDbUrl(const std::string& data_dir);

// An initialised station's data directory, opened: its store (migrated), its
// signing key and its identity. Every command and server that works on a
// station opens it this way.
struct StationFiles {
  std::unique_ptr<store::Connection> db;
  crypto::SigningKey key;
  std::optional<crypto::SealingKey> box_key;  // absent in a folder made before stations had one
  Identity identity;
};
StatusOr<StationFiles> OpenStationFiles(const std::string& data_dir);

class StationServer {
 public:
  static StatusOr<std::unique_ptr<StationServer>> Create(const StationOptions& options, const Clock& clock);
  ~StationServer();

  Status Start();
  void Stop();
  int port() const;
  std::string base_url() const;

 private:
  struct Impl;
  explicit StationServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ektp::station
