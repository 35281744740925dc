#include "core/resident_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/text.h"

namespace ektp {
namespace {

// `field` may be dotted ("address.rt"); the last part is the key in `json`.
std::string_view Key(std::string_view field) { return field.substr(field.rfind('.') + 1); }

StatusOr<std::string> StringField(const nlohmann::json& json, std::string_view field, bool required = true) {
  auto it = json.find(Key(field));
  if (it == json.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string(field) + ": is required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string(field) + ": must be a string");
  return it->get<std::string>();
}

StatusOr<int> IntField(const nlohmann::json& json, std::string_view field) {
  auto it = json.find(Key(field));
  if (it == json.end()) return InvalidArgument(std::string(field) + ": is required");
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string() && IsAllDigits(it->get<std::string>()) && it->get<std::string>().size() <= 4) {
    return std::stoi(it->get<std::string>());
  }
  return InvalidArgument(std::string(field) + ": must be a number");
}

// Refuses a key of `json` outside `known`, naming it under `path` ("resident." or "resident.address.").
Status CheckKeys(const nlohmann::json& json, std::string_view path, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : json.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument(std::string(path) + QuoteInput(key) + ": unknown field");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::chrono::year_month_day> ParseIsoDate(std::string_view field, std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !IsAllDigits(text.substr(0, 4)) ||
      !IsAllDigits(text.substr(5, 2)) || !IsAllDigits(text.substr(8, 2))) {
    return InvalidArgument(std::string(field) + ": '" + QuoteInput(text) + "' is not a date in the form YYYY-MM-DD");
  }
  std::chrono::year_month_day date(std::chrono::year(std::stoi(std::string(text.substr(0, 4)))),
                                   std::chrono::month(std::stoi(std::string(text.substr(5, 2)))),
                                   std::chrono::day(std::stoi(std::string(text.substr(8, 2)))));
  if (!date.ok()) return InvalidArgument(std::string(field) + ": " + std::string(text) + " is not a calendar date");
  return date;
}

nlohmann::json ResidentToJson(const Resident& r) {
  return {
      {"nik", r.nik},
      {"name", r.name},
      {"place_of_birth", r.place_of_birth},
      {"birth_date", FormatDate(r.birth_date)},
      {"sex", SexName(r.sex)},
      {"blood_type", BloodTypeName(r.blood_type)},
      {"religion", ReligionName(r.religion)},
      {"marital_status", MaritalStatusName(r.marital_status)},
      {"occupation", r.occupation},
      {"citizenship", CitizenshipName(r.citizenship)},
      {"address",
       {{"street", r.address.street},
        {"rt", r.address.rt},
        {"rw", r.address.rw},
        {"village_code", r.address.village_code}}},
  };
}

StatusOr<Resident> ResidentFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgument("resident: must be a JSON object");
  RETURN_IF_ERROR(CheckKeys(json, "resident.",
                            {"nik", "name", "place_of_birth", "birth_date", "sex", "blood_type", "religion",
                             "marital_status", "occupation", "citizenship", "address"}));
  Resident r;
  ASSIGN_OR_RETURN(r.nik, StringField(json, "nik", /*required=*/false));
  ASSIGN_OR_RETURN(r.name, StringField(json, "name"));
  ASSIGN_OR_RETURN(r.place_of_birth, StringField(json, "place_of_birth"));
  ASSIGN_OR_RETURN(std::string birth_date, StringField(json, "birth_date"));
  ASSIGN_OR_RETURN(r.birth_date, ParseIsoDate("birth_date", birth_date));
  ASSIGN_OR_RETURN(std::string sex, StringField(json, "sex"));
  ASSIGN_OR_RETURN(r.sex, ParseSex(sex));
  ASSIGN_OR_RETURN(std::string blood_type, StringField(json, "blood_type", /*required=*/false));
  if (!blood_type.empty()) {
    ASSIGN_OR_RETURN(r.blood_type, ParseBloodType(blood_type));
  }
  ASSIGN_OR_RETURN(std::string religion, StringField(json, "religion"));
  ASSIGN_OR_RETURN(r.religion, ParseReligion(religion));
  ASSIGN_OR_RETURN(std::string marital_status, StringField(json, "marital_status"));
  ASSIGN_OR_RETURN(r.marital_status, ParseMaritalStatus(marital_status));
  ASSIGN_OR_RETURN(r.occupation, StringField(json, "occupation"));
  ASSIGN_OR_RETURN(std::string citizenship, StringField(json, "citizenship"));
  ASSIGN_OR_RETURN(r.citizenship, ParseCitizenship(citizenship));
  auto address = json.find("address");
  if (address == json.end() || !address->is_object()) return InvalidArgument("address: must be an object");
  RETURN_IF_ERROR(CheckKeys(*address, "resident.address.", {"street", "rt", "rw", "village_code"}));
  ASSIGN_OR_RETURN(r.address.street, StringField(*address, "address.street"));
  ASSIGN_OR_RETURN(r.address.rt, IntField(*address, "address.rt"));
  ASSIGN_OR_RETURN(r.address.rw, IntField(*address, "address.rw"));
  ASSIGN_OR_RETURN(r.address.village_code, StringField(*address, "address.village_code"));
  return r;
}

}  // namespace ektp
