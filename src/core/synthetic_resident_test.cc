#include "core/synthetic_resident.h"

#include "core/resident_json.h"
#include "core/status_matchers.h"

#include <nlohmann/json.hpp>

namespace ektp {
namespace {

using namespace std::chrono;
constexpr year_month_day kToday{year(2026), month(11), day(24)};

TEST(SyntheticResidentTest, EveryResidentIsValidEligibleAndLivesInTheRegency) {
  SeededRandom random(7);
  for (int i = 0; i < 300; ++i) {
    Resident r = SyntheticResident(RegionRegistry::Default(), "35.21", random, kToday);
    ASSERT_OK(ValidateResident(r, RegionRegistry::Default(), kToday));
    ASSERT_OK(CheckEligibility(r, kToday));
    EXPECT_TRUE(r.address.village_code.starts_with("35.21.")) << r.address.village_code;
  }
}

TEST(SyntheticResidentTest, SameSeedSameResidents) {
  SeededRandom a(42), b(42), c(43);
  auto first = ResidentToJson(SyntheticResident(RegionRegistry::Default(), "35.21", a, kToday));
  EXPECT_EQ(first, ResidentToJson(SyntheticResident(RegionRegistry::Default(), "35.21", b, kToday)));
  EXPECT_NE(first, ResidentToJson(SyntheticResident(RegionRegistry::Default(), "35.21", c, kToday)));
}

}  // namespace
}  // namespace ektp
