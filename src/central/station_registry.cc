#include "central/station_registry.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/region.h"
#include "core/text.h"
#include "store/audit_log.h"

namespace ektp::central {
namespace {

constexpr std::pair<StationKind, std::string_view> kKinds[] = {
    {StationKind::kKecamatanOffice, "kecamatan_office"},
    {StationKind::kDisdukcapilOffice, "disdukcapil_office"},
    {StationKind::kMobileVan, "mobile_van"},
};
constexpr std::string_view kCapabilities[] = {"enroll", "print", "pickup", "suket"};

std::string JoinCapabilities(const std::vector<std::string>& capabilities) {
  std::string out;
  for (const std::string& c : capabilities) out += (out.empty() ? "" : ",") + c;
  return out;
}

StatusOr<RegisteredStation> ToRegisteredStation(const store::Row& row) {
  RegisteredStation station;
  station.id = row.Text(0);
  station.kecamatan_code = row.Text(1);
  ASSIGN_OR_RETURN(station.kind, ParseStationKind(row.Text(2)));
  ASSIGN_OR_RETURN(station.capabilities, ParseCapabilities(row.Text(3)));
  station.public_key = row.Bytes(4);
  station.box_public_key = row.Bytes(7);
  std::string status = row.Text(5);
  station.status = status == "approved" ? StationStatus::kApproved
                   : status == "revoked" ? StationStatus::kRevoked
                                         : StationStatus::kPending;
  station.registered_at = row.Text(6);
  station.revoked_at = row.Text(8);
  station.revoked_reason = row.Text(9);
  return station;
}

constexpr std::string_view kStationColumns =
    "id, kecamatan_code, kind, capabilities, public_key, status, registered_at, box_public_key, revoked_at, "
    "revoked_reason";

}  // namespace

std::string_view StationKindName(StationKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

StatusOr<StationKind> ParseStationKind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  return InvalidArgument("station kind '" + std::string(name) +
                         "' is not one of kecamatan_office, disdukcapil_office, mobile_van");
}

std::string_view StationStatusName(StationStatus status) {
  switch (status) {
    case StationStatus::kPending: return "pending";
    case StationStatus::kApproved: return "approved";
    case StationStatus::kRevoked: return "revoked";
  }
  return "?";
}

StatusOr<std::vector<std::string>> ParseCapabilities(std::string_view comma_separated) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', start);
    if (comma == std::string_view::npos) comma = comma_separated.size();
    std::string name(Trim(comma_separated.substr(start, comma - start)));
    start = comma + 1;
    if (name.empty()) continue;
    if (std::find(std::begin(kCapabilities), std::end(kCapabilities), name) == std::end(kCapabilities)) {
      return InvalidArgument("capability '" + name + "' is not one of enroll, print, pickup, suket");
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  if (out.empty()) return InvalidArgument("a station needs at least one capability (enroll, print, pickup, suket)");
  return out;
}

StatusOr<std::string> StationRegistry::CreateToken(const TokenRequest& request, std::string_view admin) {
  const Region* kecamatan = RegionRegistry::Default().Find(request.kecamatan_code);
  if (kecamatan == nullptr || kecamatan->level != RegionLevel::kKecamatan) {
    return InvalidArgument("kecamatan " + request.kecamatan_code + " does not exist");
  }
  if (request.capabilities.empty()) return InvalidArgument("a station needs at least one capability");
  std::string token = crypto::RandomToken(24);
  TimePoint now = clock_.Now();
  RETURN_IF_ERROR(db_.Exec(
      "INSERT INTO registration_tokens (token_sha256, kecamatan_code, kind, capabilities, created_by, created_at, "
      "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {crypto::Sha256Hex(token), request.kecamatan_code, StationKindName(request.kind),
       JoinCapabilities(request.capabilities), admin, FormatTimestamp(now), FormatTimestamp(now + request.valid_for)}));
  return token;
}

StatusOr<RegisteredStation> StationRegistry::Register(std::string_view token, std::span<const uint8_t> station_public_key,
                                                      std::span<const uint8_t> station_box_public_key) {
  if (station_public_key.size() != crypto::kSignPublicKeySize) {
    return InvalidArgument("station public key must be 32 bytes (Ed25519)");
  }
  if (!station_box_public_key.empty() && station_box_public_key.size() != crypto::kBoxPublicKeySize) {
    return InvalidArgument("station box public key must be 32 bytes (X25519)");
  }
  RegisteredStation station;
  std::string now = FormatTimestamp(clock_.Now());
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT kecamatan_code, kind, capabilities, expires_at, used_at "
                                          "FROM registration_tokens WHERE token_sha256 = ?",
                                          {crypto::Sha256Hex(token)}));
    if (rows.empty()) return Unauthenticated("registration token is not known; ask the admin for a new one");
    if (!rows[0].IsNull(4)) return Unauthenticated("registration token was already used at " + rows[0].Text(4));
    if (rows[0].Text(3) < now) return Unauthenticated("registration token expired at " + rows[0].Text(3));
    station.kecamatan_code = rows[0].Text(0);
    ASSIGN_OR_RETURN(station.kind, ParseStationKind(rows[0].Text(1)));
    ASSIGN_OR_RETURN(station.capabilities, ParseCapabilities(rows[0].Text(2)));
    if (station_box_public_key.empty() && std::ranges::find(station.capabilities, "print") != station.capabilities.end()) {
      return InvalidArgument("a print station must register an X25519 key (box_public_key) for its sealed print jobs; "
                             "update ektp on the station and run `ektp station init` again");
    }
    // ST-<kecamatan digits>-<n>, n counting the stations of that kecamatan.
    std::string digits;
    for (char c : station.kecamatan_code) {
      if (c != '.') digits.push_back(c);
    }
    ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM stations WHERE kecamatan_code = ?", {station.kecamatan_code}));
    char id[40];
    std::snprintf(id, sizeof(id), "ST-%s-%02lld", digits.c_str(), static_cast<long long>(count[0].Int(0) + 1));
    station.id = id;
    station.public_key.assign(station_public_key.begin(), station_public_key.end());
    station.box_public_key.assign(station_box_public_key.begin(), station_box_public_key.end());
    station.status = StationStatus::kPending;
    station.registered_at = now;
    RETURN_IF_ERROR(db_.Exec("UPDATE registration_tokens SET used_at = ?, station_id = ? WHERE token_sha256 = ?",
                             {now, station.id, crypto::Sha256Hex(token)}));
    return db_.Exec("INSERT INTO stations (id, kecamatan_code, kind, capabilities, public_key, box_public_key, status, "
                    "registered_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                    {station.id, station.kecamatan_code, StationKindName(station.kind),
                     JoinCapabilities(station.capabilities), station.public_key,
                     station.box_public_key.empty() ? store::Value() : store::Value(station.box_public_key), now});
  }));
  return station;
}

Status StationRegistry::SetStatus(std::string_view station_id, StationStatus from, StationStatus to,
                                  std::string_view admin, std::string_view reason) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(RegisteredStation station, Get(station_id));
    if (station.status != from) {
      return FailedPrecondition("station " + std::string(station_id) + " is " +
                                std::string(StationStatusName(station.status)) + ", not " +
                                std::string(StationStatusName(from)));
    }
    std::string column = to == StationStatus::kApproved ? "approved" : "revoked";
    RETURN_IF_ERROR(db_.Exec("UPDATE stations SET status = ?, " + column + "_at = ?, " + column + "_by = ? WHERE id = ?",
                             {StationStatusName(to), FormatTimestamp(clock_.Now()), admin, station_id}));
    nlohmann::json detail = {{"from", StationStatusName(from)}, {"to", StationStatusName(to)}};
    if (!reason.empty()) detail["reason"] = reason;
    return store::AuditLog(db_, clock_).Append(
        {std::string(admin), "station." + column, "station:" + std::string(station_id), detail.dump()});
  });
}

Status StationRegistry::Approve(std::string_view station_id, std::string_view admin) {
  return SetStatus(station_id, StationStatus::kPending, StationStatus::kApproved, admin);
}

Status StationRegistry::Revoke(std::string_view station_id, std::string_view admin, std::string_view reason) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(RegisteredStation station, Get(station_id));
    if (station.status == StationStatus::kRevoked) {
      return FailedPrecondition("station " + std::string(station_id) + " is already revoked");
    }
    RETURN_IF_ERROR(SetStatus(station_id, station.status, StationStatus::kRevoked, admin, reason));
    return db_.Exec("UPDATE stations SET revoked_reason = ? WHERE id = ?", {reason, station_id});
  });
}

std::string RevocationNote(const RegisteredStation& station) {
  if (station.status != StationStatus::kRevoked) return "";
  return " (revoked at " + station.revoked_at + (station.revoked_reason.empty() ? "" : ": " + station.revoked_reason) +
         ")";
}

Status StationRegistry::Replace(std::string_view replaced_id, std::string_view replacement_id, std::string_view admin) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(RegisteredStation replaced, Get(replaced_id));
    ASSIGN_OR_RETURN(RegisteredStation replacement, Get(replacement_id));
    if (replaced.status != StationStatus::kRevoked) {
      return FailedPrecondition("station " + replaced.id + " is " + std::string(StationStatusName(replaced.status)) +
                                "; revoke it first (ektp central station revoke " + replaced.id + " --reason ...)");
    }
    if (replacement.status == StationStatus::kRevoked) {
      return FailedPrecondition("station " + replacement.id + " is revoked and cannot replace another");
    }
    if (replacement.kecamatan_code != replaced.kecamatan_code || replacement.kind != replaced.kind) {
      return FailedPrecondition("station " + replacement.id + " serves " + replacement.kecamatan_code + " as " +
                                std::string(StationKindName(replacement.kind)) + ", not " + replaced.kecamatan_code +
                                " as " + std::string(StationKindName(replaced.kind)) +
                                " like " + replaced.id + "; register the replacement with a token for that office");
    }
    ASSIGN_OR_RETURN(auto existing, db_.Query("SELECT replaced_station_id, replacement_station_id FROM "
                                              "station_replacements WHERE replaced_station_id = ? OR "
                                              "replacement_station_id = ?",
                                              {replaced.id, replacement.id}));
    if (!existing.empty()) {
      return AlreadyExists("station " + existing[0].Text(0) + " is already replaced by " + existing[0].Text(1));
    }
    RETURN_IF_ERROR(db_.Exec("INSERT INTO station_replacements (replaced_station_id, replacement_station_id, "
                             "authorized_by, authorized_at) VALUES (?, ?, ?, ?)",
                             {replaced.id, replacement.id, admin, FormatTimestamp(clock_.Now())}));
    nlohmann::json detail = {{"replaced_by", replacement.id}, {"revoked_at", replaced.revoked_at}};
    return store::AuditLog(db_, clock_).Append(
        {std::string(admin), "station.replaced", "station:" + replaced.id, detail.dump()});
  });
}

StatusOr<std::string> StationRegistry::ReplacementOf(std::string_view replaced_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT replacement_station_id FROM station_replacements WHERE "
                                        "replaced_station_id = ?",
                                        {replaced_id}));
  if (rows.empty()) return NotFound("station " + std::string(replaced_id) + " has no registered replacement");
  return rows[0].Text(0);
}

StatusOr<RegisteredStation> StationRegistry::Get(std::string_view station_id) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kStationColumns) + " FROM stations WHERE id = ?",
                                        {station_id}));
  if (rows.empty()) return NotFound("station " + std::string(station_id) + " is not registered");
  return ToRegisteredStation(rows[0]);
}

StatusOr<std::vector<RegisteredStation>> StationRegistry::List() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kStationColumns) + " FROM stations ORDER BY id"));
  std::vector<RegisteredStation> stations;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(RegisteredStation station, ToRegisteredStation(row));
    stations.push_back(std::move(station));
  }
  return stations;
}

}  // namespace ektp::central
