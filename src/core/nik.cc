#include "core/nik.h"

#include <cstdio>

#include "core/clock.h"
#include "core/text.h"

namespace ektp {
namespace {

int Digits(std::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::string_view SexName(Sex sex) { return sex == Sex::kMale ? "male" : "female"; }

StatusOr<Nik> ParseNik(std::string_view text, const RegionRegistry& regions, std::chrono::year_month_day today) {
  if (text.size() != 16 || !IsAllDigits(text)) {
    return InvalidArgument("NIK must be exactly 16 digits, got '" + QuoteInput(text) + "' (" +
                           std::to_string(text.size()) + " characters)");
  }
  Nik nik;
  nik.digits = std::string(text);
  nik.province_code = std::string(text.substr(0, 2));
  nik.regency_code = nik.province_code + "." + std::string(text.substr(2, 2));
  nik.kecamatan_code = nik.regency_code + "." + std::string(text.substr(4, 2));
  if (regions.Find(nik.province_code) == nullptr) {
    return InvalidArgument("province " + nik.province_code + " does not exist");
  }
  if (regions.Find(nik.regency_code) == nullptr) {
    return InvalidArgument("regency " + nik.regency_code + " does not exist");
  }
  if (regions.Find(nik.kecamatan_code) == nullptr) {
    return InvalidArgument("kecamatan " + nik.kecamatan_code + " does not exist");
  }

  int day = Digits(text.substr(6, 2));
  int month = Digits(text.substr(8, 2));
  int year2 = Digits(text.substr(10, 2));
  nik.sex = day > 40 ? Sex::kFemale : Sex::kMale;
  int calendar_day = nik.sex == Sex::kFemale ? day - 40 : day;
  if (calendar_day < 1 || calendar_day > 31) {
    return InvalidArgument("day " + std::to_string(day) + " is not a date (1-31 for men, 41-71 for women)");
  }
  if (month < 1 || month > 12) return InvalidArgument("month " + std::to_string(month) + " is not a month");
  // The latest century that puts the birth date on or before today.
  int year = (static_cast<int>(today.year()) / 100) * 100 + year2;
  auto date_in = [&](int y) {
    return std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(month), std::chrono::day(calendar_day));
  };
  nik.birth_date = date_in(year);
  if (nik.birth_date.ok() && std::chrono::sys_days(nik.birth_date) > std::chrono::sys_days(today)) {
    nik.birth_date = date_in(year - 100);
  }
  if (!nik.birth_date.ok()) {
    char date[16];
    std::snprintf(date, sizeof(date), "%02d-%02d-%02d", calendar_day, month, year2);
    return InvalidArgument("day " + std::to_string(day) + " is not a date: " + date + " does not exist");
  }
  nik.sequence = Digits(text.substr(12, 4));
  if (nik.sequence == 0) return InvalidArgument("sequence 0000 is not valid (must be 0001-9999)");
  return nik;
}

std::string NikPrefix(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex) {
  std::string digits;
  for (char c : kecamatan_code) {
    if (c != '.') digits.push_back(c);
  }
  unsigned day = static_cast<unsigned>(birth_date.day()) + (sex == Sex::kFemale ? 40 : 0);
  char date[16];
  std::snprintf(date, sizeof(date), "%02u%02u%02d", day, static_cast<unsigned>(birth_date.month()),
                static_cast<int>(birth_date.year()) % 100);
  return digits + date;
}

std::string FormatNik(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex, int sequence) {
  char seq[8];
  std::snprintf(seq, sizeof(seq), "%04d", sequence);
  return NikPrefix(kecamatan_code, birth_date, sex) + seq;
}

StatusOr<std::string> NextFreeNik(std::string_view kecamatan_code, std::chrono::year_month_day birth_date, Sex sex,
                                  const std::function<bool(int sequence)>& taken) {
  for (int sequence = 1; sequence <= 9999; ++sequence) {
    if (!taken(sequence)) return FormatNik(kecamatan_code, birth_date, sex, sequence);
  }
  return ResourceExhausted("all 9999 NIK sequences for " + NikPrefix(kecamatan_code, birth_date, sex) + " are taken");
}

}  // namespace ektp
