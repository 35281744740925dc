#include "core/nik.h"

#include <set>

#include "core/clock.h"
#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

StatusOr<Nik> Parse(std::string_view text) { return ParseNik(text, RegionRegistry::Default(), kToday); }

TEST(NikTest, DecodesSineNgawiFemale) {
  auto nik = Parse("3521015708990001");
  ASSERT_TRUE(nik.ok()) << nik.status().ToString();
  EXPECT_EQ(nik->province_code, "35");
  EXPECT_EQ(nik->regency_code, "35.21");
  EXPECT_EQ(nik->kecamatan_code, "35.21.01");
  EXPECT_EQ(RegionRegistry::Default().Find(nik->kecamatan_code)->name, "Sine");
  EXPECT_EQ(FormatDate(nik->birth_date), "1999-08-17");
  EXPECT_EQ(nik->sex, Sex::kFemale);
  EXPECT_EQ(nik->sequence, 1);
}

TEST(NikTest, MaleDayAndRecentCentury) {
  auto nik = Parse("3521011708080042");
  ASSERT_TRUE(nik.ok()) << nik.status().ToString();
  EXPECT_EQ(FormatDate(nik->birth_date), "2008-08-17");
  EXPECT_EQ(nik->sex, Sex::kMale);
  EXPECT_EQ(nik->sequence, 42);
}

struct BadNik {
  const char* nik;
  const char* message;
};

class BadNikTest : public ::testing::TestWithParam<BadNik> {};

TEST_P(BadNikTest, NamesTheBadPart) {
  EXPECT_THAT(Parse(GetParam().nik), StatusIs(StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    EachPart, BadNikTest,
    ::testing::Values(BadNik{"352101570899000", "exactly 16 digits"},
                      BadNik{"35210157089900012", "exactly 16 digits"},
                      BadNik{"35210157089900a1", "exactly 16 digits"},
                      BadNik{"9921015708990001", "province 99 does not exist"},
                      BadNik{"3599015708990001", "regency 35.99 does not exist"},
                      BadNik{"3521995708990001", "kecamatan 35.21.99 does not exist"},
                      BadNik{"3521013208990001", "day 32 is not a date"},
                      BadNik{"3521010008990001", "day 0 is not a date"},
                      BadNik{"3521017208990001", "day 72 is not a date"},
                      BadNik{"3521011713990001", "month 13 is not a month"},
                      BadNik{"3521013002990001", "day 30 is not a date: 30-02-99 does not exist"},
                      BadNik{"3521015708990000", "sequence 0000"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST(NikTest, TwoDigitYearNeverLandsInTheFuture) {
  // 25-11-26 would be tomorrow in 2026, so it resolves to 1926.
  auto nik = Parse("3521012511260001");
  ASSERT_TRUE(nik.ok());
  EXPECT_EQ(FormatDate(nik->birth_date), "1926-11-25");
}

TEST(NikTest, FormatRoundTrips) {
  year_month_day born{year(1999), month(8), day(17)};
  EXPECT_EQ(FormatNik("35.21.01", born, Sex::kFemale, 1), "3521015708990001");
  EXPECT_EQ(FormatNik("35.21.01", born, Sex::kMale, 9999), "3521011708999999");
  EXPECT_EQ(NikPrefix("35.21.01", born, Sex::kMale), "352101170899");
}

TEST(NikTest, NextFreeSkipsTakenSequences) {
  year_month_day born{year(2009), month(1), day(5)};
  std::set<int> taken = {1, 2, 4};
  auto nik = NextFreeNik("35.21.01", born, Sex::kMale, [&](int seq) { return taken.count(seq) > 0; });
  ASSERT_TRUE(nik.ok());
  EXPECT_EQ(*nik, "3521010501090003");
  EXPECT_THAT(NextFreeNik("35.21.01", born, Sex::kMale, [](int) { return true; }),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("352101050109")));
}

TEST(TimestampTest, ParseIsTheInverseOfFormatAndRefusesAnythingElse) {
  const TimePoint t = std::chrono::sys_days(std::chrono::year(2026) / 12 / 6) + std::chrono::seconds(3723);
  auto parsed = ParseTimestamp(FormatTimestamp(t));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, t);
  for (const char* bad : {"2026-12-06T01:02:03", "2026-02-30T01:02:03Z", "2026-12-06 01:02:03Z", "2026-12-06T24:00:00Z",
                          "2026-12-06T01:02:03Z ", ""}) {
    EXPECT_EQ(ParseTimestamp(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ektp
