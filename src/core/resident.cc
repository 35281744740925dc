#include "core/resident.h"

#include <algorithm>

#include "core/clock.h"
#include "core/text.h"

namespace ektp {
namespace {

template <typename E>
struct Named {
  E value;
  std::string_view name;
};

constexpr Named<BloodType> kBloodTypes[] = {
    {BloodType::kUnknown, "-"}, {BloodType::kA, "A"},       {BloodType::kB, "B"},       {BloodType::kAB, "AB"},
    {BloodType::kO, "O"},       {BloodType::kAPos, "A+"},   {BloodType::kANeg, "A-"},   {BloodType::kBPos, "B+"},
    {BloodType::kBNeg, "B-"},   {BloodType::kABPos, "AB+"}, {BloodType::kABNeg, "AB-"}, {BloodType::kOPos, "O+"},
    {BloodType::kONeg, "O-"},
};
constexpr Named<Religion> kReligions[] = {
    {Religion::kIslam, "ISLAM"},   {Religion::kKristen, "KRISTEN"},   {Religion::kKatolik, "KATOLIK"},
    {Religion::kHindu, "HINDU"},   {Religion::kBuddha, "BUDDHA"},     {Religion::kKonghucu, "KONGHUCU"},
    {Religion::kKepercayaan, "KEPERCAYAAN TERHADAP TUHAN YME"},
};
constexpr Named<MaritalStatus> kMaritalStatuses[] = {
    {MaritalStatus::kBelumKawin, "BELUM KAWIN"},
    {MaritalStatus::kKawin, "KAWIN"},
    {MaritalStatus::kCeraiHidup, "CERAI HIDUP"},
    {MaritalStatus::kCeraiMati, "CERAI MATI"},
};
constexpr Named<Citizenship> kCitizenships[] = {{Citizenship::kWni, "WNI"}, {Citizenship::kWna, "WNA"}};

std::string ToUpperAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

template <typename E, size_t N>
std::string_view NameOf(const Named<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

template <typename E, size_t N>
StatusOr<E> ParseNamed(const Named<E> (&table)[N], std::string_view field, std::string_view text) {
  std::string upper = ToUpperAscii(Trim(text));
  std::string allowed;
  for (const auto& entry : table) {
    if (entry.name == upper) return entry.value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(entry.name);
  }
  return InvalidArgument(std::string(field) + ": '" + std::string(text) + "' is not one of " + allowed);
}

// Printable text of 1..max_length characters without control characters.
Status CheckText(std::string_view field, std::string_view value, size_t max_length) {
  if (Trim(value).empty()) return InvalidArgument(std::string(field) + ": must not be empty");
  if (value.size() > max_length) {
    return InvalidArgument(std::string(field) + ": at most " + std::to_string(max_length) + " characters, got " +
                           std::to_string(value.size()));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument(std::string(field) + ": contains a control character");
  }
  return Status::Ok();
}

Status CheckName(std::string_view name) {
  RETURN_IF_ERROR(CheckText("name", name, 80));
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' || c == '.' || c == ',' ||
              c == '\'' || c == '-';
    if (!ok) return InvalidArgument(std::string("name: character '") + c + "' is not allowed (letters, space . , ' -)");
  }
  return Status::Ok();
}

}  // namespace

std::string_view BloodTypeName(BloodType v) { return NameOf(kBloodTypes, v); }
std::string_view ReligionName(Religion v) { return NameOf(kReligions, v); }
std::string_view MaritalStatusName(MaritalStatus v) { return NameOf(kMaritalStatuses, v); }
std::string_view CitizenshipName(Citizenship v) { return NameOf(kCitizenships, v); }
StatusOr<BloodType> ParseBloodType(std::string_view text) { return ParseNamed(kBloodTypes, "blood_type", text); }
StatusOr<Religion> ParseReligion(std::string_view text) { return ParseNamed(kReligions, "religion", text); }
StatusOr<MaritalStatus> ParseMaritalStatus(std::string_view text) {
  return ParseNamed(kMaritalStatuses, "marital_status", text);
}
StatusOr<Citizenship> ParseCitizenship(std::string_view text) { return ParseNamed(kCitizenships, "citizenship", text); }

StatusOr<Sex> ParseSex(std::string_view text) {
  std::string upper = ToUpperAscii(Trim(text));
  if (upper == "MALE" || upper == "L" || upper == "LAKI-LAKI") return Sex::kMale;
  if (upper == "FEMALE" || upper == "P" || upper == "PEREMPUAN") return Sex::kFemale;
  return InvalidArgument("sex: '" + std::string(text) + "' is not one of male, female (L, P)");
}

int AgeOn(std::chrono::year_month_day birth_date, std::chrono::year_month_day today) {
  int age = static_cast<int>(today.year()) - static_cast<int>(birth_date.year());
  if (std::chrono::month_day(today.month(), today.day()) < std::chrono::month_day(birth_date.month(), birth_date.day())) {
    --age;
  }
  return age;
}

Status ValidateResident(const Resident& r, const RegionRegistry& regions, std::chrono::year_month_day today) {
  RETURN_IF_ERROR(CheckName(r.name));
  RETURN_IF_ERROR(CheckText("place_of_birth", r.place_of_birth, 40));
  if (!r.birth_date.ok()) return InvalidArgument("birth_date: not a calendar date");
  if (std::chrono::sys_days(r.birth_date) > std::chrono::sys_days(today)) {
    return InvalidArgument("birth_date: " + FormatDate(r.birth_date) + " is in the future");
  }
  if (r.birth_date.year() < std::chrono::year(1900)) {
    return InvalidArgument("birth_date: " + FormatDate(r.birth_date) + " is before 1900");
  }
  RETURN_IF_ERROR(CheckText("address.street", r.address.street, 100));
  if (r.address.rt < 1 || r.address.rt > 999) {
    return InvalidArgument("address.rt: " + std::to_string(r.address.rt) + " is not in 1-999");
  }
  if (r.address.rw < 1 || r.address.rw > 999) {
    return InvalidArgument("address.rw: " + std::to_string(r.address.rw) + " is not in 1-999");
  }
  auto level = LevelOfCode(r.address.village_code);
  if (!level.ok() || *level != RegionLevel::kVillage) {
    return InvalidArgument("address.village_code: '" + r.address.village_code +
                           "' is not a village code like 35.21.01.2001");
  }
  if (regions.Find(r.address.village_code) == nullptr) {
    return InvalidArgument("address.village_code: village " + r.address.village_code + " does not exist");
  }
  RETURN_IF_ERROR(CheckText("occupation", r.occupation, 50));
  if (!r.nik.empty()) {
    auto nik = ParseNik(r.nik, regions, today);
    if (!nik.ok()) return nik.status().WithContext("nik");
    if (nik->birth_date != r.birth_date) {
      return InvalidArgument("nik: encodes birth date " + FormatDate(nik->birth_date) + " but birth_date is " +
                             FormatDate(r.birth_date));
    }
    if (nik->sex != r.sex) {
      return InvalidArgument("nik: encodes sex " + std::string(SexName(nik->sex)) + " but sex is " +
                             std::string(SexName(r.sex)));
    }
  }
  return Status::Ok();
}

Status CheckEligibility(const Resident& r, std::chrono::year_month_day today) {
  int age = AgeOn(r.birth_date, today);
  if (age >= 17 || r.marital_status != MaritalStatus::kBelumKawin) return Status::Ok();
  return FailedPrecondition("resident is " + std::to_string(age) +
                            " and has never married; an e-KTP is issued from age 17");
}

}  // namespace ektp
