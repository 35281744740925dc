#include "core/testing.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace ektp::testing {
namespace {

// Tests and benchmarks run from the build folder, from the checkout or from
// anywhere else: the data is found the same way from each.
TEST(TestDataTest, FoundFromAnyWorkingDirectory) {
  const std::filesystem::path before = std::filesystem::current_path();
  const std::filesystem::path elsewhere = std::filesystem::temp_directory_path();
  std::filesystem::current_path(elsewhere);
  const std::vector<uint8_t> fvc = ReadFileBytes(FvcDir() / "DB1_B" / "101_1.iso");
  const std::vector<uint8_t> regions = ReadFileBytes(SourceDir() / "data" / "regions" / "regions.csv");
  std::filesystem::current_path(before);

  ASSERT_GE(fvc.size(), 4u);
  EXPECT_EQ(std::string(fvc.begin(), fvc.begin() + 4), std::string("FMR\0", 4));  // ISO 19794-2 magic
  EXPECT_FALSE(regions.empty());
  EXPECT_TRUE(std::filesystem::is_directory(SharedDataDir() / "iso19794-vectors"));
}

TEST(TestDataTest, AMissingFileReadsAsEmpty) {
  EXPECT_TRUE(ReadFileBytes(SharedDataDir() / "no-such-file.iso").empty());
}

}  // namespace
}  // namespace ektp::testing
