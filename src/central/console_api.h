// Central's console API, for staff in the web console that central serves at
// "/console" (and the public page at "/"). Staff log in with accounts
// (accounts/accounts.h; `ektp central account add`); each account has one
// role:
//   admin        everything
//   adjudicator  the dashboard and adjudication decisions
//   supervisor   the dashboard, the stations and the blank cards (read only)
// Logins, logouts and failed logins go into central's audit chain, and a
// decision names the account that made it.
//
// Routes (JSON; all but login need "Authorization: Bearer <token>"):
//   POST /api/v1/console/login      {username, password} -> {token}
//   POST /api/v1/console/logout
//   GET  /api/v1/console/session    -> {username, name, role}
//   GET  /api/v1/console/dashboard?region=CODE
//        -> records by state in the region (all of Indonesia without CODE)
//           and per child region, each station's last contact, blanks on
//           hand against need per regency with the shortages, the backlog
//           by stage and the throughput per day (the last 30 days), and the
//           integrity flags of the region's stations and operators
//   GET  /api/v1/console/adjudications                  -> {cases: [...]}
//   GET  /api/v1/console/adjudications/:record          -> both sides (pipeline/adjudication.h)
//   GET  /api/v1/console/adjudications/:record/photo    -> the record's face photo (JPEG)
//   POST /api/v1/console/adjudications/:record/decide   {verdict, candidate_nik, note}
//   GET  /api/v1/console/stations                       -> {stations: [...], certificate_sha256}
//   POST /api/v1/console/stations/:id/approve           (admin)
//   POST /api/v1/console/stations/:id/revoke            {reason} (admin)
//   POST /api/v1/console/tokens                         {kecamatan_code, kind, capabilities, valid_hours}
//        -> {token, expires_at} (admin; the token is shown once)
//   GET  /api/v1/console/blanks                         -> {national_stock, regencies: [on hand against need],
//                                                           print_stations} (admin, supervisor)
//   GET  /api/v1/console/blanks/regencies/:code         -> the regency's reconciliation (blanks/json.h)
//   GET  /api/v1/console/blanks/plan?supply=N[&policy=P][&floor=F]
//        -> the allocation plan from measured demand and the ledger's stock (blanks/json.h)
//   POST /api/v1/console/blanks/stock-in                {first, last, reference} (admin)
//   POST /api/v1/console/blanks/shipments               {regency_code, first, last, reference} (admin)
//   POST /api/v1/console/blanks/handovers               {station_id, first, last, reference} (admin; the
//                                                        station learns of it through its feed)
//
// Station decisions, tokens and blank movements are audited as "console:<username>".
// Thread-safety: handlers run concurrently; each takes its own connection.
#pragma once

#include "accounts/accounts.h"
#include "central/ingest.h"
#include "core/clock.h"
#include "net/http_server.h"
#include "net/request_guard.h"
#include "store/pool.h"

namespace ektp::central {

// The roles of central's console accounts.
inline constexpr std::string_view kConsoleRoles[] = {"admin", "adjudicator", "supervisor"};
// kInvalidArgument naming the roles unless `role` is one of them.
Status CheckConsoleRole(std::string_view role);

struct ConsoleApiContext {
  store::ConnectionPool* pool = nullptr;
  const Clock* clock = nullptr;
  const CentralKeys* keys = nullptr;
  std::shared_ptr<const net::RequestGuard> guard;
  accounts::LoginPolicy login;
  std::string certificate_sha256;  // of central's TLS certificate, for `station init --fingerprint`; "" on plain HTTP
};

// Registers the routes above. The context's pointers must outlive the server.
void AddConsoleApi(net::HttpServer& http, ConsoleApiContext context);

}  // namespace ektp::central
