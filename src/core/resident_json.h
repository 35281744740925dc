// JSON form of Resident, as used by the HTTP API and CLI:
// {"nik": "...", "name": "...", "place_of_birth": "...", "birth_date": "YYYY-MM-DD",
//  "sex": "male|female", "blood_type": "AB+", "religion": "ISLAM",
//  "marital_status": "KAWIN", "occupation": "...", "citizenship": "WNI",
//  "address": {"street": "...", "rt": 1, "rw": 2, "village_code": "35.21.01.2001"}}
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/resident.h"

namespace ektp {

nlohmann::json ResidentToJson(const Resident& resident);
// Type errors name the field ("birth_date: expected YYYY-MM-DD"), and a key
// that is not one of the above is refused by name ("resident.nickname: unknown
// field"); values are checked by ValidateResident, not here.
StatusOr<Resident> ResidentFromJson(const nlohmann::json& json);

// "YYYY-MM-DD" to a date, or InvalidArgument naming `field`.
StatusOr<std::chrono::year_month_day> ParseIsoDate(std::string_view field, std::string_view text);

}  // namespace ektp
