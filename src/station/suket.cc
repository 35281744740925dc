// The Suket at the station: issuing it offline with the station's key, and
// verifying Sukets against central's trust bundle and revocation list
// received through the feed. Central's side: central/sukets.h.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/region.h"
#include "core/resident_json.h"
#include "station/station.h"

namespace ektp::station {

Status Station::KeepSuketTrust(const sync::SuketTrustBody& trust, Status& refusal) {
  auto bundle = suket::DecodeTrustBundle(trust.trust_bundle, identity_.central_signing_key);
  if (!bundle.ok()) {
    refusal = bundle.status();
    return Status::Ok();
  }
  auto list = suket::DecodeRevocationList(trust.revocation_list, *bundle);
  if (!list.ok()) {
    refusal = list.status();
    return Status::Ok();
  }
  // Items arrive in feed order, so the newer replaces the older; an older one
  // (sequences that went back) is kept out.
  return db_.Exec("INSERT INTO suket_trust (singleton, trust_bundle, revocation_list, bundle_sequence, list_sequence, "
                  "received_at) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (singleton) DO UPDATE SET "
                  "trust_bundle = excluded.trust_bundle, revocation_list = excluded.revocation_list, "
                  "bundle_sequence = excluded.bundle_sequence, list_sequence = excluded.list_sequence, "
                  "received_at = excluded.received_at WHERE excluded.bundle_sequence >= suket_trust.bundle_sequence "
                  "AND excluded.list_sequence >= suket_trust.list_sequence",
                  {trust.trust_bundle, trust.revocation_list, static_cast<int64_t>(bundle->sequence),
                   static_cast<int64_t>(list->sequence), FormatTimestamp(clock_.Now())});
}

StatusOr<IssuedSuket> Station::IssueSuket(const Operator& op, std::string_view registration_number,
                                          std::span<const uint8_t> face_jpeg) {
  if (op.role != Role::kOperator && op.role != Role::kSupervisor) {
    return PermissionDenied("role " + std::string(RoleName(op.role)) + " may not issue a Suket; an operator or supervisor may");
  }
  IssuedSuket issued;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT status, resident_json, COALESCE(nik, '') FROM enrollments "
                                          "WHERE registration_number = ?",
                                          {registration_number}));
    if (rows.empty()) return NotFound("no enrollment " + std::string(registration_number) + " at this station");
    const std::string stage = rows[0].Text(0);
    const std::optional<RecordState> state = RecordStateFromName(stage);
    if (!state || std::ranges::find(kSuketStages, *state) == std::end(kSuketStages)) {
      return FailedPrecondition(std::string(registration_number) + " is " + stage +
                                "; a Suket is issued from validated until the card is activated");
    }
    ASSIGN_OR_RETURN(Resident resident, ResidentFromJson(nlohmann::json::parse(rows[0].Text(1))));
    ASSIGN_OR_RETURN(auto previous, db_.Query("SELECT serial FROM sukets WHERE registration_number = ? "
                                              "ORDER BY issued_at DESC, serial DESC LIMIT 1",
                                              {registration_number}));
    ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM sukets"));
    std::string number = std::to_string(count[0].Int(0) + 1);
    if (number.size() < 6) number.insert(0, 6 - number.size(), '0');
    const TimePoint now = clock_.Now();
    suket::SuketData data;
    data.serial = "SKT-" + identity_.station_id + "-" + number;
    data.nik = rows[0].Text(2);
    data.registration_number = std::string(registration_number);
    data.name = resident.name;
    data.place_of_birth = resident.place_of_birth;
    data.birth_date = resident.birth_date;
    data.sex = resident.sex;
    data.address = suket::AddressLine(resident.address, RegionRegistry::Default());
    data.regency_code = std::string(ParentCode(identity_.kecamatan_code));
    data.station_id = identity_.station_id;
    data.issued_at = now;
    data.valid_until = suket::DefaultValidUntil(now);
    data.photo_sha256 = crypto::Sha256(face_jpeg);
    ASSIGN_OR_RETURN(issued.token, suket::IssueToken(data, key_));
    ASSIGN_OR_RETURN(suket::RenderedSuket rendered,
                     suket::RenderSuket(data, issued.token, face_jpeg, RegionRegistry::Default()));
    issued.serial = data.serial;
    issued.valid_until = FormatTimestamp(data.valid_until);
    issued.replaces = previous.empty() ? "" : previous[0].Text(0);
    issued.pdf = std::move(rendered.pdf);
    const std::string at = FormatTimestamp(now);
    RETURN_IF_ERROR(db_.Exec("INSERT INTO sukets (serial, registration_number, issued_at, valid_until, token, replaces, "
                             "issued_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             {issued.serial, data.registration_number, at, issued.valid_until, issued.token,
                              issued.replaces.empty() ? store::Value() : store::Value(issued.replaces), op.username}));
    const sync::SuketIssuedBody body{issued.serial, issued.serial, data.registration_number, data.nik, at,
                                     issued.valid_until, issued.replaces, op.username};
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kSuketIssued, data.registration_number,
                                sync::SuketIssuedToJson(body), at));
    return Audit(op.username, issued.replaces.empty() ? "suket.issue" : "suket.renew",
                 data.registration_number + " " + issued.serial);
  }));
  return issued;
}

StatusOr<suket::VerifyResult> Station::VerifySuket(std::string_view token) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT trust_bundle, revocation_list FROM suket_trust WHERE singleton = 1"));
  if (rows.empty()) {
    return FailedPrecondition("station " + identity_.station_id +
                              " has not received central's Suket trust bundle yet; sync with central once");
  }
  ASSIGN_OR_RETURN(suket::TrustBundle bundle, suket::DecodeTrustBundle(rows[0].Bytes(0), identity_.central_signing_key));
  ASSIGN_OR_RETURN(suket::RevocationList list, suket::DecodeRevocationList(rows[0].Bytes(1), bundle));
  return suket::Verify(token, bundle, list, clock_.Now());
}

}  // namespace ektp::station
