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
  return InvalidArgument(std::string(field) + ": '" + QuoteInput(text) + "' is not one of " + allowed);
}

// Letters of names and text fields: ASCII letters, and the Latin letters with
// diacritics of Latin-1 Supplement and Latin Extended-A (U+00C0..U+017F
// without the signs U+00D7 and U+00F7), precomposed. docs/enrollment.md,
// "Names and text fields", says why.
bool IsLetter(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x17F && c != 0xD7 && c != 0xF7);
}

bool IsCombiningMark(char32_t c) {
  return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F);
}

// Why character `c` may not appear in `field`, which allows letters and `allowed`.
Status RefuseCharacter(std::string_view field, char32_t c, std::string_view allowed) {
  std::string name = std::string(field) + ": ";
  if (IsControlCharacter(c)) return InvalidArgument(name + "contains the control character " + CodePointName(c));
  if (IsFormatCharacter(c)) {
    return InvalidArgument(name + "contains the invisible format character " + CodePointName(c) +
                           " (bidi control, zero-width or similar); retype the text");
  }
  if (IsCombiningMark(c)) {
    return InvalidArgument(name + "contains the combining mark " + CodePointName(c) +
                           "; write an accented letter as one character (e.g. \u00C9, not E and an accent)");
  }
  std::string shown;
  AppendUtf8(c, &shown);
  return InvalidArgument(name + "character '" + shown + "' (" + CodePointName(c) + ") is not allowed; use " +
                         std::string(allowed));
}

// 1..max_chars characters of valid UTF-8: letters, and `punctuation`
// (ASCII) or digits where allowed; never control or format characters.
Status CheckText(std::string_view field, std::string_view value, size_t max_chars, std::string_view punctuation,
                 bool digits, std::string_view allowed) {
  if (Trim(value).empty()) return InvalidArgument(std::string(field) + ": must not be empty");
  size_t chars = 0;
  for (size_t pos = 0; pos < value.size(); ++chars) {
    std::optional<char32_t> c = NextCodePoint(value, &pos);
    if (!c) return InvalidArgument(std::string(field) + ": is not valid UTF-8 text");
    bool ok = IsLetter(*c) || (digits && *c >= '0' && *c <= '9') ||
              (*c < 0x80 && punctuation.find(static_cast<char>(*c)) != std::string_view::npos) ||
              (*c == 0x2019 && punctuation.find('\'') != std::string_view::npos);  // ’ is an apostrophe too
    if (!ok) return RefuseCharacter(field, *c, allowed);
  }
  if (chars > max_chars) {
    return InvalidArgument(std::string(field) + ": at most " + std::to_string(max_chars) + " characters, got " +
                           std::to_string(chars));
  }
  return Status::Ok();
}

Status CheckName(std::string_view name) {
  return CheckText("name", name, 80, " .,'-", /*digits=*/false,
                   "letters (A-Z, or accented Latin letters such as \u00C9), space and . , ' -");
}

// Street, place of birth, occupation.
Status CheckFreeText(std::string_view field, std::string_view value, size_t max_chars) {
  return CheckText(field, value, max_chars, " .,'-/():&#", /*digits=*/true,
                   "letters, digits, space and . , ' - / ( ) : & #");
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
  return InvalidArgument("sex: '" + QuoteInput(text) + "' is not one of male, female (L, P)");
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
  RETURN_IF_ERROR(CheckFreeText("place_of_birth", r.place_of_birth, 40));
  if (!r.birth_date.ok()) return InvalidArgument("birth_date: not a calendar date");
  if (std::chrono::sys_days(r.birth_date) > std::chrono::sys_days(today)) {
    return InvalidArgument("birth_date: " + FormatDate(r.birth_date) + " is in the future");
  }
  if (r.birth_date.year() < std::chrono::year(1900)) {
    return InvalidArgument("birth_date: " + FormatDate(r.birth_date) + " is before 1900");
  }
  RETURN_IF_ERROR(CheckFreeText("address.street", r.address.street, 100));
  if (r.address.rt < 1 || r.address.rt > 999) {
    return InvalidArgument("address.rt: " + std::to_string(r.address.rt) + " is not in 1-999");
  }
  if (r.address.rw < 1 || r.address.rw > 999) {
    return InvalidArgument("address.rw: " + std::to_string(r.address.rw) + " is not in 1-999");
  }
  auto level = LevelOfCode(r.address.village_code);
  if (!level.ok() || *level != RegionLevel::kVillage) {
    return InvalidArgument("address.village_code: '" + QuoteInput(r.address.village_code) +
                           "' is not a village code like 35.21.01.2001");
  }
  if (regions.Find(r.address.village_code) == nullptr) {
    return InvalidArgument("address.village_code: village " + r.address.village_code + " does not exist");
  }
  RETURN_IF_ERROR(CheckFreeText("occupation", r.occupation, 50));
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
  return FailedPrecondition("birth_date: resident is " + std::to_string(age) +
                            " and has never married; an e-KTP is issued from age 17");
}

}  // namespace ektp
