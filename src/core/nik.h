// NIK (Nomor Induk Kependudukan): the 16-digit resident number.
//
//   PP RR KK DDMMYY SSSS
//   |  |  |  |      '- sequence 0001-9999 among residents sharing the first 12 digits
//   |  |  |  '- birth date; women add 40 to the day
//   |  |  '- kecamatan (district) code within the regency
//   |  '- regency (kabupaten/kota) code within the province
//   '- province code
//
// The region part must name a kecamatan that exists in the RegionRegistry.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/region.h"
#include "core/status.h"

namespace ektp {

enum class Sex { kMale, kFemale };
std::string_view SexName(Sex sex);  // "male" / "female"

struct Nik {
  std::string digits;         // the 16 digits
  std::string province_code;  // "35"
  std::string regency_code;   // "35.21"
  std::string kecamatan_code;  // "35.21.01"
  std::chrono::year_month_day birth_date;
  Sex sex;
  int sequence;  // 1..9999
};

// Parses and validates a NIK. Two-digit birth years resolve to the latest
// year not after `today`. Each error names the bad part, e.g.
// "kecamatan 35.21.99 does not exist" or "day 32 is not a date".
StatusOr<Nik> ParseNik(std::string_view text, const RegionRegistry& regions, std::chrono::year_month_day today);

// The 16 digits for a kecamatan, birth date, sex and sequence.
// REQUIRES: kecamatan_code is a kecamatan code; 1 <= sequence <= 9999.
std::string FormatNik(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex, int sequence);

// The first NIK for the kecamatan, birth date and sex whose sequence is not
// `taken`; ResourceExhausted when all 9999 are taken.
StatusOr<std::string> NextFreeNik(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex,
                                  const std::function<bool(int sequence)>& taken);

// The first 12 digits shared by every NIK of that kecamatan, date and sex.
std::string NikPrefix(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex);

}  // namespace ektp
