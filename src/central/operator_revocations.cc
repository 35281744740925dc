#include "central/operator_revocations.h"

#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "store/audit_log.h"

namespace ektp::central {

Status RevokeOperator(store::Connection& db, const Clock& clock, std::string_view station_id,
                      std::string_view username, std::string_view reason, std::string_view admin) {
  // The password rule is irrelevant here; only the username's is checked.
  RETURN_IF_ERROR(accounts::ValidateAccount(username, "********"));
  if (reason.empty() || reason.size() > 500) return InvalidArgument("--reason must be 1-500 bytes");
  return db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto station, db.Query("SELECT 1 FROM stations WHERE id = ?", {station_id}));
    if (station.empty()) return NotFound("station " + std::string(station_id) + " is not registered");
    ASSIGN_OR_RETURN(auto seen, db.Query("SELECT revoked_at FROM operator_revocations WHERE station_id = ? AND "
                                         "username = ?",
                                         {station_id, username}));
    if (!seen.empty()) {
      return AlreadyExists("operator " + std::string(username) + " of station " + std::string(station_id) +
                           " was revoked already at " + seen[0].Text(0));
    }
    const std::string now = FormatTimestamp(clock.Now());
    RETURN_IF_ERROR(db.Exec("INSERT INTO operator_revocations (station_id, username, reason, revoked_by, revoked_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            {station_id, username, reason, admin, now}));
    return store::AuditLog(db, clock).Append(
        {std::string(admin), "operator.revoked", "station:" + std::string(station_id),
         nlohmann::json{{"username", std::string(username)}, {"reason", std::string(reason)}}.dump()});
  });
}

StatusOr<std::vector<RevokedOperator>> RevokedOperators(store::Connection& db, std::string_view station_id) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT station_id, username, reason, revoked_by, revoked_at FROM "
                                       "operator_revocations WHERE ? = '' OR station_id = ? "
                                       "ORDER BY station_id, username",
                                       {station_id, station_id}));
  std::vector<RevokedOperator> out;
  for (const store::Row& row : rows) {
    out.push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4)});
  }
  return out;
}

Status CheckActorsNotRevoked(const std::vector<RevokedOperator>& revoked, std::string_view station_id,
                             int64_t sequence, const std::vector<PacketActor>& actors) {
  for (const auto& [username, at] : actors) {
    for (const RevokedOperator& r : revoked) {
      if (r.username != username || r.station_id != station_id) continue;
      auto performed = ParseTimestamp(at);
      auto revoked_at = ParseTimestamp(r.revoked_at);
      if (performed.ok() && revoked_at.ok() && *performed < *revoked_at) continue;
      return PermissionDenied("packet " + std::to_string(sequence) + ": operator " + username + " of station " +
                              std::string(station_id) + " was revoked at central at " + r.revoked_at + " (" +
                              r.reason + ") and performed this work at " + at +
                              "; it is refused. Have another operator record it again in their own account, "
                              "and disable " + username + "'s account at the station");
    }
  }
  return Status::Ok();
}

}  // namespace ektp::central
