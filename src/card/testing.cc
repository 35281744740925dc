#include "card/testing.h"

#include "core/nik.h"
#include "core/testing.h"
#include "enrollment/testing.h"

namespace ektp::card::testing {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

Card SampleCard() {
  Card card;
  Resident& r = card.data.resident;
  r.name = "SITI RAHAYU";
  r.place_of_birth = "Ngawi";
  r.birth_date = year(1990) / month(8) / day(17);
  r.sex = Sex::kFemale;
  r.blood_type = BloodType::kO;
  r.address = {"JL. RAYA NGAWI NO. 12", 3, 5, "35.21.01.2001"};
  r.nik = FormatNik("35.21.01", r.birth_date, r.sex, 1);
  r.religion = Religion::kIslam;
  r.marital_status = MaritalStatus::kKawin;
  r.occupation = "WIRASWASTA";
  card.data.valid_until = std::string(kValidForLife);
  card.data.issuing_regency = "35.21";
  card.data.issued_on = year(2026) / month(12) / day(5);
  card.card_serial = "35.21-0000042";
  card.data.registration_number = "35.21.01-A-000007";
  card.data.fingers = {{2, enrollment::testing::FvcTemplate(1, 101, 1)}, {7, enrollment::testing::FvcTemplate(1, 102, 1)}};
  card.face_jpeg = ektp::testing::ReadFileBytes(ektp::testing::SourceDir() / "data/demo/face.jpg");
  card.signature_image = ektp::testing::ReadFileBytes(ektp::testing::SourceDir() / "data/demo/signature.png");
  return card;
}

}  // namespace ektp::card::testing
