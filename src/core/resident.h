// Resident demographics: every field printed on an e-KTP, and its validation.
//
// Enumerated fields use the words printed on the card (Bahasa Indonesia) as
// their external names, e.g. religion "ISLAM", marital status "BELUM KAWIN".
// JSON conversion lives in resident_json.h to keep this header light.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nik.h"
#include "core/region.h"
#include "core/status.h"

namespace ektp {

enum class BloodType { kUnknown, kA, kB, kAB, kO, kAPos, kANeg, kBPos, kBNeg, kABPos, kABNeg, kOPos, kONeg };
enum class Religion { kIslam, kKristen, kKatolik, kHindu, kBuddha, kKonghucu, kKepercayaan };
enum class MaritalStatus { kBelumKawin, kKawin, kCeraiHidup, kCeraiMati };
enum class Citizenship { kWni, kWna };

// Printed names ("AB+", "KRISTEN", "CERAI HIDUP", "WNI"); parsing is case-insensitive.
std::string_view BloodTypeName(BloodType v);
std::string_view ReligionName(Religion v);
std::string_view MaritalStatusName(MaritalStatus v);
std::string_view CitizenshipName(Citizenship v);
StatusOr<BloodType> ParseBloodType(std::string_view text);
StatusOr<Religion> ParseReligion(std::string_view text);
StatusOr<MaritalStatus> ParseMaritalStatus(std::string_view text);
StatusOr<Citizenship> ParseCitizenship(std::string_view text);
StatusOr<Sex> ParseSex(std::string_view text);  // "male"/"female", "L"/"P", "LAKI-LAKI"/"PEREMPUAN"

struct Address {
  std::string street;        // "JL. RAYA NGAWI NO. 12"
  int rt = 0;                // rukun tetangga, 1..999
  int rw = 0;                // rukun warga, 1..999
  std::string village_code;  // "35.21.01.2001"; fixes kecamatan, regency and province
};

struct Resident {
  std::string nik;  // empty until central assigns one to a first-time applicant
  std::string name;
  std::string place_of_birth;
  std::chrono::year_month_day birth_date;
  Sex sex = Sex::kMale;
  BloodType blood_type = BloodType::kUnknown;
  Address address;
  Religion religion = Religion::kIslam;
  MaritalStatus marital_status = MaritalStatus::kBelumKawin;
  std::string occupation;  // "PELAJAR/MAHASISWA"
  Citizenship citizenship = Citizenship::kWni;
};

// Checks every field. The error names the field, e.g.
// "name: must not be empty" or "address.village_code: village 35.21.01.9999 does not exist".
// If `nik` is set it must parse and agree with birth date, sex and kecamatan.
Status ValidateResident(const Resident& resident, const RegionRegistry& regions, std::chrono::year_month_day today);

// An e-KTP is issued from age 17, or earlier to someone who is or has been married.
Status CheckEligibility(const Resident& resident, std::chrono::year_month_day today);

// Whole years between birth and `today`.
int AgeOn(std::chrono::year_month_day birth_date, std::chrono::year_month_day today);

}  // namespace ektp
