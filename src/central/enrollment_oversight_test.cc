#include "central/enrollment_oversight.h"

#include "central/station_registry.h"
#include "core/status_matchers.h"
#include "store/testing.h"

namespace ektp::central {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

// What central records of reviews and locations, on both backends.
class EnrollmentOversightTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = store::testing::TestDatabase::Create(GetParam());
    ASSERT_OK(db.status());
    db_ = std::move(*db);
    StationRegistry registry(db_->connection(), clock_);
    auto token = registry.CreateToken({"35.21.01", StationKind::kMobileVan, {"enroll"}, std::chrono::hours(24)}, "admin");
    ASSERT_OK(token.status());
    auto station = registry.Register(*token, crypto::SigningKey::Generate().public_key());
    ASSERT_OK(station.status());
    station_ = station->id;
  }

  enrollment::Enrollment Made(const std::string& suffix, std::optional<enrollment::Location> location,
                              std::optional<enrollment::ReviewApproval> review = std::nullopt) {
    enrollment::Enrollment e;
    e.registration_number = station_ + "-" + suffix;
    e.operator_name = "ani";
    e.location = location;
    e.review = review;
    return e;
  }

  Status Record(const std::vector<enrollment::Enrollment>& enrollments) {
    std::vector<const enrollment::Enrollment*> pointers;
    for (const auto& e : enrollments) pointers.push_back(&e);
    return db_->connection().Transact([&] { return RecordEnrollmentOversight(db_->connection(), clock_, station_, pointers); });
  }

  FakeClock clock_{std::chrono::sys_days(std::chrono::year(2026) / 12 / 6)};
  std::unique_ptr<store::testing::TestDatabase> db_;
  std::string station_;
};

TEST_P(EnrollmentOversightTest, DistanceIsTheGreatCircle) {
  // Jakarta (Monas) to Surabaya (Tugu Pahlawan): about 663 km.
  EXPECT_NEAR(DistanceKm(-6.1754, 106.8272, -7.2458, 112.7378), 663, 5);
  EXPECT_DOUBLE_EQ(DistanceKm(-7.4, 111.4, -7.4, 111.4), 0);
}

TEST_P(EnrollmentOversightTest, LocationsAreFlaggedOnlyAgainstAHomeArea) {
  ASSERT_OK(Record({Made("000001", enrollment::Location{-7.98, 112.63, 20})}));
  auto summary = SummariseLocations(db_->connection());
  ASSERT_OK(summary.status());
  ASSERT_EQ(summary->size(), 1u);
  EXPECT_FALSE((*summary)[0].has_home_area);
  EXPECT_EQ((*summary)[0].located, 1);
  EXPECT_EQ((*summary)[0].far, 0);

  EXPECT_THAT(SetHomeArea(db_->connection(), clock_, "ST-000000-09", {-7.4, 111.4, 25}, "admin"),
              StatusIs(StatusCode::kNotFound, HasSubstr("ST-000000-09 is not registered")));
  EXPECT_THAT(SetHomeArea(db_->connection(), clock_, station_, {-7.4, 181, 25}, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "home lon must be -180 to 180 degrees"));
  ASSERT_OK(SetHomeArea(db_->connection(), clock_, station_, {-7.404, 111.446, 25}, "admin"));
  // 145 km away: far. 26 km away but with a 2 km fix: within the radius given the accuracy.
  ASSERT_OK(Record({Made("000002", enrollment::Location{-7.98, 112.63, 20}),
                    Made("000003", enrollment::Location{-7.404, 111.682, 2000}), Made("000004", std::nullopt)}));
  summary = SummariseLocations(db_->connection());
  ASSERT_OK(summary.status());
  ASSERT_EQ(summary->size(), 1u);
  EXPECT_TRUE((*summary)[0].has_home_area);
  EXPECT_EQ((*summary)[0].located, 3);
  EXPECT_EQ((*summary)[0].far, 1);
  EXPECT_EQ((*summary)[0].far_registrations, std::vector<std::string>{station_ + "-000002"});
}

TEST_P(EnrollmentOversightTest, AReviewIsRecordedAndAudited) {
  ASSERT_OK(Record({Made("000005", std::nullopt, enrollment::ReviewApproval{"sari", "2026-12-06T01:00:00Z"})}));
  auto rows = db_->connection().Query("SELECT reviewer, operator, decided_at FROM enrollment_reviews");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "sari");
  EXPECT_EQ((*rows)[0].Text(1), "ani");
  EXPECT_EQ((*rows)[0].Text(2), "2026-12-06T01:00:00Z");
  auto audit = db_->connection().Query("SELECT COUNT(*) FROM audit_log WHERE action = 'enrollment.reviewed'");
  ASSERT_OK(audit.status());
  EXPECT_EQ((*audit)[0].Int(0), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, EnrollmentOversightTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::central
