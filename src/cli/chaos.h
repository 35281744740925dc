// `ektp chaos`: the real processes under seeded faults, and what survived.
//
// Central (SQLite, or PostgreSQL in a cluster the run owns), several
// stations and one enrolling client per station run as separate `ektp`
// processes on loopback (child_process.h); each station reaches central
// through an in-process faultnet::FaultProxy. For `duration` each client
// enrolls synthetic residents at `rate` a second (each application with its own
// Idempotency-Key, resent with the same key after any transport error or 5xx)
// while a schedule drawn from `seed` injects one fault after another, in
// rounds of every kind once, each round in its own seeded order:
//
//   station_kill     kill -9 of a station, restarted 0.5-3 s later
//   central_kill     kill -9 of central, restarted 0.5-3 s later
//   central_restart  SIGTERM (drain) and start again
//   postgres_kill    kill -9 of PostgreSQL's postmaster and its backends,
//                    restarted 1-3 s later (own cluster only)
//   link_outage      a station's link down for 1-5 s
//   link_cut         every live connection of a station's link reset, in
//                    the middle of kept-alive connections (FaultProxy::CutLive)
//   slow_link        200 ms per chunk and 32 KiB/s for 2-6 s
//   lossy_link       cut requests, cut responses and resets on 30% of new
//                    connections for 2-6 s
//
// Then every fault stops and the run waits for the system to settle, and
// counts, from the client's receipts and the databases themselves:
// acknowledged enrollments missing at central (lost), records sharing a
// registration number or a resident (duplicated), applications that got two
// receipts, parked packets with their reasons, how long each fault took to
// converge (every enrollment acknowledged before it ended at central), how
// long until every station shows central's final state of each of its
// records, and `ektp central audit verify` (on the quiet database, once
// central and the stations have stopped).
//
// Thread-safety: RunChaos from one thread (it forks; see child_process.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ektp::cli {

enum class ChaosBackend { kSqlite, kPostgres };

struct ChaosOptions {
  // Work folder for every process's data and logs; must not exist yet.
  // Empty: a fresh temporary folder, removed after a passing run.
  std::string dir;
  ChaosBackend backend = ChaosBackend::kSqlite;
  // PostgreSQL only: the database URL ("pg:host=... dbname=...") of a server
  // the run does not own; no postgres_kill then. Empty: the run starts its
  // own cluster in `dir` (PostgreSQL's server binaries must be installed).
  std::string db_url;
  int stations = 3;                                  // 1..8
  double rate = 3;                                   // enrollments per second per station's client
  std::chrono::seconds duration{60};                 // enrolling under faults
  std::chrono::milliseconds fault_gap{2500};         // mean pause between faults
  std::chrono::seconds settle_timeout{180};          // after the faults, for each of up and down
  uint64_t seed = 1;
  std::string regency = "35.21";                     // where the synthetic residents live
  // Set (by a signal handler) to end the run early; may be null.
  const std::atomic<bool>* stop = nullptr;
};

struct ChaosReport {
  std::string backend;
  uint64_t seed = 0;
  int stations = 0;
  double duration_s = 0;
  std::map<std::string, int64_t> faults;  // kind -> times injected
  int64_t unexpected_exits = 0;            // processes that died without being killed (restarted)
  int64_t enrolled = 0;                    // applications the client sent
  int64_t acknowledged = 0;                // applications the client holds a receipt for
  int64_t retries = 0;                     // resends with the same key after a lost answer
  int64_t replayed = 0;                    // resends answered with the first receipt (200)
  int64_t refused = 0;                     // applications a station refused (4xx): never acknowledged
  std::map<std::string, int64_t> refused_reasons;  // "HTTP 400: <the station's error>" -> applications
  int64_t records_at_central = 0;
  int64_t acknowledged_at_central = 0;
  int64_t lost = 0;                        // acknowledged, not at central
  int64_t unacknowledged_at_central = 0;   // at central without a receipt at the client
  int64_t duplicated_registration = 0;     // extra records per registration number (central and stations)
  int64_t duplicated_resident = 0;         // extra records per resident at central
  int64_t duplicated_receipts = 0;         // applications answered with two registration numbers
  int64_t parked = 0;
  std::map<std::string, int64_t> parked_reasons;
  std::map<std::string, int64_t> central_states;  // record state -> count at the end
  double longest_fault_converge_s = -1;    // over faults; -1: some fault never converged
  double settle_s = -1;                    // faults stop -> every receipt at central, pipeline idle
  double down_converge_s = -1;             // central settled -> every station shows central's state
  int64_t stale_at_stations = 0;           // records a station still showed otherwise at the end
  bool audit_intact = false;
  std::string audit_output;
  std::string dir;                         // kept when the run failed

  // Nothing lost or duplicated, everything converged and the audit log intact.
  bool passed() const;
};

nlohmann::json ChaosReportToJson(const ChaosReport& report);

// Progress for a terminal: the phase, seconds done of seconds planned, and a
// one-line summary (receipts, faults so far).
using ChaosProgress = std::function<void(const std::string& phase, int64_t done, int64_t total, const std::string& note)>;

// Runs the whole chaos run. An error only when it could not be run (a
// process did not start, a folder exists); what the run found is the report.
StatusOr<ChaosReport> RunChaos(const ChaosOptions& options, const ChaosProgress& progress);

}  // namespace ektp::cli
