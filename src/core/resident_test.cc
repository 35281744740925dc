#include "core/resident.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/resident_json.h"
#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

Resident Sari() {
  Resident r;
  r.nik = "3521015708990001";
  r.name = "SARI WULANDARI";
  r.place_of_birth = "NGAWI";
  r.birth_date = year_month_day{year(1999), month(8), day(17)};
  r.sex = Sex::kFemale;
  r.blood_type = BloodType::kO;
  r.address = Address{"JL. RAYA SINE NO. 5", 2, 3, "35.21.01.2001"};
  r.religion = Religion::kIslam;
  r.marital_status = MaritalStatus::kBelumKawin;
  r.occupation = "PELAJAR/MAHASISWA";
  r.citizenship = Citizenship::kWni;
  return r;
}

Status Validate(const Resident& r) { return ValidateResident(r, RegionRegistry::Default(), kToday); }

TEST(ResidentTest, ValidResidentPasses) { EXPECT_OK(Validate(Sari())); }

struct FieldCase {
  const char* description;
  void (*mutate)(Resident&);
  const char* message;
};

class ResidentFieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(ResidentFieldTest, NamesTheBadField) {
  Resident r = Sari();
  GetParam().mutate(r);
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    EachField, ResidentFieldTest,
    ::testing::Values(
        FieldCase{"empty name", [](Resident& r) { r.name = "  "; }, "name: must not be empty"},
        FieldCase{"digit in name", [](Resident& r) { r.name = "SARI 2"; }, "name: character '2'"},
        FieldCase{"long place", [](Resident& r) { r.place_of_birth = std::string(41, 'A'); }, "place_of_birth: at most 40"},
        FieldCase{"future birth", [](Resident& r) { r.nik.clear(); r.birth_date = year_month_day{year(2027), month(1), day(1)}; },
                  "birth_date: 2027-01-01 is in the future"},
        FieldCase{"rt zero", [](Resident& r) { r.address.rt = 0; }, "address.rt: 0 is not in 1-999"},
        FieldCase{"rw big", [](Resident& r) { r.address.rw = 1000; }, "address.rw: 1000"},
        FieldCase{"kecamatan as village", [](Resident& r) { r.address.village_code = "35.21.01"; }, "is not a village code"},
        FieldCase{"unknown village", [](Resident& r) { r.address.village_code = "35.21.01.9999"; },
                  "village 35.21.01.9999 does not exist"},
        FieldCase{"empty occupation", [](Resident& r) { r.occupation = ""; }, "occupation: must not be empty"},
        FieldCase{"nik sex mismatch", [](Resident& r) { r.sex = Sex::kMale; }, "nik: encodes sex female"},
        FieldCase{"nik date mismatch", [](Resident& r) { r.birth_date = year_month_day{year(1999), month(8), day(18)}; },
                  "nik: encodes birth date 1999-08-17"},
        FieldCase{"bad nik", [](Resident& r) { r.nik = "3521995708990001"; }, "nik: kecamatan 35.21.99 does not exist"}),
    [](const auto& info) {
      std::string name;
      for (char c : std::string(info.param.description)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

// The name rule (docs/glossary.md): accented Latin letters are accepted as
// written, anything else is refused naming the character.
TEST(ResidentTest, AccentedLatinNamesAreAcceptedAsWritten) {
  Resident r = Sari();
  for (const char* name : {"S\u00DATI NURHALIZA", "J\u00C9R\u00D4ME", "Z\u00DCLF\u00DC \u015E\u0130M\u015EEK",
                           "\u00C6THELRED O'NEIL-SMITH"}) {
    r.name = name;
    EXPECT_OK(Validate(r)) << name;
  }
  r.name = std::string(40, 'A') + "\u00C9\u00C9\u00C9\u00C9\u00C9\u00C9\u00C9\u00C9\u00C9\u00C9" + std::string(30, 'B');
  EXPECT_OK(Validate(r)) << "80 characters, 90 bytes";
  r.name += "C";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, "name: at most 80 characters, got 81"));
}

TEST(ResidentTest, OtherScriptsDecomposedAccentsAndBrokenUtf8AreRefusedByName) {
  Resident r = Sari();
  r.name = "\u0418\u0412\u0410\u041D";  // ИВАН
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument,
                                    HasSubstr("name: character '\u0418' (U+0418) is not allowed; use letters")));
  r.name = "JE\u0301RO\u0302ME";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument,
                                    HasSubstr("name: contains the combining mark U+0301; write an accented letter as one")));
  r.name = "S\xC3TI";  // a cut character
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, "name: is not valid UTF-8 text"));
  r.name = "SARI \u00D7 2";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, HasSubstr("(U+00D7) is not allowed")));
}

TEST(ResidentTest, TextFieldsRefuseControlAndFormatCharactersNamingTheField) {
  Resident r = Sari();
  r.address.street = "JL. RAYA \u202ENO. 5";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument,
                                    HasSubstr("address.street: contains the invisible format character U+202E")));
  r = Sari();
  r.occupation = "PELAJAR\u0085";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, "occupation: contains the control character U+0085"));
  r = Sari();
  r.place_of_birth = "NGA\u200BWI";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument,
                                    HasSubstr("place_of_birth: contains the invisible format character U+200B")));
  r = Sari();
  r.address.street = "JL. MAWAR <b>";
  EXPECT_THAT(Validate(r), StatusIs(StatusCode::kInvalidArgument, HasSubstr("address.street: character '<' (U+003C)")));
  r = Sari();
  r.address.street = "GG. MAWAR NO. 12/B (BELAKANG MASJID), RT 01";
  r.place_of_birth = "BU NUAPU\u2019U";
  r.occupation = "PELAJAR/MAHASISWA";
  EXPECT_OK(Validate(r));
}

TEST(ResidentTest, EligibilityFromSeventeenOrMarried) {
  Resident r = Sari();
  r.nik.clear();
  r.birth_date = year_month_day{year(2009), month(11), day(25)};  // 17 tomorrow
  EXPECT_THAT(CheckEligibility(r, kToday), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is 16")));
  r.birth_date = year_month_day{year(2009), month(11), day(24)};
  EXPECT_OK(CheckEligibility(r, kToday));
  r.birth_date = year_month_day{year(2010), month(1), day(1)};
  r.marital_status = MaritalStatus::kKawin;
  EXPECT_OK(CheckEligibility(r, kToday));
}

TEST(ResidentTest, EnumNamesParseCaseInsensitively) {
  EXPECT_EQ(*ParseReligion("katolik"), Religion::kKatolik);
  EXPECT_EQ(*ParseMaritalStatus("Cerai Hidup"), MaritalStatus::kCeraiHidup);
  EXPECT_EQ(*ParseBloodType("ab+"), BloodType::kABPos);
  EXPECT_EQ(*ParseSex("P"), Sex::kFemale);
  EXPECT_THAT(ParseReligion("JEDI"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("religion: 'JEDI' is not one of ISLAM")));
  EXPECT_THAT(ParseCitizenship("XYZ"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("WNI, WNA")));
}

TEST(ResidentTest, JsonRoundTrip) {
  nlohmann::json json = ResidentToJson(Sari());
  EXPECT_EQ(json["birth_date"], "1999-08-17");
  EXPECT_EQ(json["address"]["village_code"], "35.21.01.2001");
  auto back = ResidentFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ResidentToJson(*back), json);
}

TEST(ResidentTest, JsonTypeErrorsNameTheField) {
  nlohmann::json json = ResidentToJson(Sari());
  json["birth_date"] = "17-08-1999";
  EXPECT_THAT(ResidentFromJson(json), StatusIs(StatusCode::kInvalidArgument, HasSubstr("birth_date: '17-08-1999'")));
  json = ResidentToJson(Sari());
  json["address"]["rt"] = "abc";
  EXPECT_THAT(ResidentFromJson(json), StatusIs(StatusCode::kInvalidArgument, HasSubstr("address.rt: must be a number")));
  json = ResidentToJson(Sari());
  json.erase("name");
  EXPECT_THAT(ResidentFromJson(json), StatusIs(StatusCode::kInvalidArgument, "name: is required"));
}

TEST(ResidentTest, JsonUnknownKeysAreRefusedByName) {
  nlohmann::json json = ResidentToJson(Sari());
  json["nickname"] = "SARI";
  EXPECT_THAT(ResidentFromJson(json), StatusIs(StatusCode::kInvalidArgument, "resident.nickname: unknown field"));
  json = ResidentToJson(Sari());
  json["address"]["postcode"] = "63211";
  EXPECT_THAT(ResidentFromJson(json),
              StatusIs(StatusCode::kInvalidArgument, "resident.address.postcode: unknown field"));
}

}  // namespace
}  // namespace ektp
