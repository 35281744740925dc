#include "core/region.h"

#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RegionTest, EmbeddedRegistryHasEveryLevel) {
  const RegionRegistry& regions = RegionRegistry::Default();
  EXPECT_EQ(regions.size(), 91599u);
  EXPECT_EQ(regions.CountAt(RegionLevel::kProvince), 38u);
  EXPECT_EQ(regions.CountAt(RegionLevel::kRegency), 514u);
  EXPECT_EQ(regions.CountAt(RegionLevel::kKecamatan), 7285u);
  EXPECT_EQ(regions.CountAt(RegionLevel::kVillage), 83762u);
}

TEST(RegionTest, LookupAndParentChain) {
  const RegionRegistry& regions = RegionRegistry::Default();
  ASSERT_NE(regions.Find("35.21"), nullptr);
  EXPECT_EQ(regions.Find("35.21")->name, "Kabupaten Ngawi");
  EXPECT_EQ(regions.Find("35.21.99"), nullptr);
  auto chain = regions.Chain("35.21.01.2001");
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[0]->name, "Jawa Timur");
  EXPECT_EQ(chain[1]->name, "Kabupaten Ngawi");
  EXPECT_EQ(chain[2]->name, "Sine");
  EXPECT_EQ(chain[3]->level, RegionLevel::kVillage);
}

TEST(RegionTest, SearchIsCaseInsensitiveAndRegenciesComeFirst) {
  auto found = RegionRegistry::Default().Search("ngawi");
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0]->code, "35.21");
  for (const Region* region : found) EXPECT_NE(region->name.find("gawi"), std::string::npos);
  EXPECT_TRUE(RegionRegistry::Default().Search("zzqqxx").empty());
}

TEST(RegionTest, PopulationPerRegency) {
  auto ngawi = RegionRegistry::Default().PopulationOf("35.21");
  ASSERT_TRUE(ngawi.has_value());
  EXPECT_EQ(ngawi->male + ngawi->female, ngawi->total);
  EXPECT_GT(ngawi->total, 500000);
  EXPECT_EQ(RegionRegistry::Default().PopulationOf("0")->total, 284973643);
  EXPECT_FALSE(RegionRegistry::Default().PopulationOf("35.99").has_value());
}

TEST(RegionTest, CodeShapes) {
  EXPECT_EQ(*LevelOfCode("35"), RegionLevel::kProvince);
  EXPECT_EQ(*LevelOfCode("35.21.01.2001"), RegionLevel::kVillage);
  EXPECT_THAT(LevelOfCode("35.2"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'35.2' is not a region code")));
  EXPECT_THAT(LevelOfCode("35.21.01.20011"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a region code")));
  EXPECT_EQ(ParentCode("35.21.01"), "35.21");
  EXPECT_EQ(ParentCode("35"), "");
}

TEST(RegionTest, ParseRefusesBadCsv) {
  EXPECT_THAT(RegionRegistry::Parse("id,name\n", ""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("header")));
  EXPECT_THAT(RegionRegistry::Parse("code,name\n3x,Foo\n", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a region code")));
  EXPECT_THAT(RegionRegistry::Parse("code,name\n35,Jawa\n", "code,name,male,female,total\n35,J,1,x,3\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 2 has a bad number")));
}

}  // namespace
}  // namespace ektp
