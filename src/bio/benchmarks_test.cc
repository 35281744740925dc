#include "bio/benchmarks.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status_matchers.h"

namespace ektp::bio {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

// A scale run over `subjects` with a cache file of its own in the test's
// temporary folder (none there yet).
ScaleOptions TinyScale(const std::string& name, size_t subjects, size_t searches, size_t non_mated, int threads) {
  ScaleOptions o;
  o.subjects = subjects;
  o.searches = searches;
  o.non_mated = non_mated;
  o.threads = threads;
  o.cache = (std::filesystem::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()) + ".bin")).string();
  std::filesystem::remove(o.cache);
  return o;
}

// A tiny scale run: mates are found, strangers are not, and the second run
// reads the gallery back from the cache it wrote.
TEST(BioScaleTest, TinyGalleryRunsAndReusesItsCache) {
  const ScaleOptions o = TinyScale("ektp_scale", 40, 3, 5, 2);
  const std::string& cache = o.cache;
  auto first = RunScale(o);
  ASSERT_OK(first);
  EXPECT_EQ((*first)["gallery_source"], "generated");
  EXPECT_TRUE(std::filesystem::exists(cache));
  auto second = RunScale(o);
  ASSERT_OK(second);
  EXPECT_EQ((*second)["gallery_source"], "cache");
  for (const nlohmann::json* r : {&*first, &*second}) {
    EXPECT_EQ((*r)["searches"]["mated"], 3);
    EXPECT_EQ((*r)["searches"]["non_mated"], 5);
    EXPECT_EQ((*r)["fnir_at_fpir_0.1%"], 0.0);
    EXPECT_EQ((*r)["prefilter_lost_hits"], 0);
    EXPECT_GT((*r)["cpu_seconds_per_search"].get<double>(), 0.0);
    // 2 % of 40 is below the 200-subject floor: everyone is scored.
    EXPECT_NEAR((*r)["penetration"].get<double>(), 1.0, 1e-9);
  }
  EXPECT_EQ((*first)["threshold_at_fpir_0.1%"], (*second)["threshold_at_fpir_0.1%"]);
  std::filesystem::remove(cache);
}

TEST(BioScaleTest, TruncatedCacheIsRefusedNamingTheSubject) {
  const ScaleOptions o = TinyScale("ektp_scale_cut", 40, 1, 1, 2);
  const std::string& cache = o.cache;
  ASSERT_OK(RunScale(o));
  // The last subject's two blobs are about 2 x 260 bytes: cutting 100
  // leaves it short.
  std::filesystem::resize_file(cache, std::filesystem::file_size(cache) - 100);
  EXPECT_THAT(RunScale(o), StatusIs(StatusCode::kDataLoss, HasSubstr("truncated at subject 39")));
  std::filesystem::remove(cache);
}

TEST(BioScaleTest, CacheForOtherParametersIsRebuilt) {
  ScaleOptions o = TinyScale("ektp_scale_other", 10, 1, 1, 1);
  const std::string cache = o.cache;
  ASSERT_OK(RunScale(o));
  o.seed = 2;
  auto r = RunScale(o);
  ASSERT_OK(r);
  EXPECT_EQ((*r)["gallery_source"], "generated");
  EXPECT_EQ((*r)["seed"], 2);
  std::filesystem::remove(cache);
}

// A cache written by another version of the generator (here: subject 0's
// first blob differs in one byte) is not trusted: the gallery is made again.
TEST(BioScaleTest, CacheFromAnotherGeneratorIsRebuilt) {
  const ScaleOptions o = TinyScale("ektp_scale_generator", 10, 1, 1, 1);
  auto first = RunScale(o);
  ASSERT_OK(first);
  {
    std::fstream file(o.cache, std::ios::in | std::ios::out | std::ios::binary);
    constexpr std::streamoff kLastByteOfSubject0Blob0 = 24 + 2 + 40;  // after the header and the blob's length
    file.seekg(kLastByteOfSubject0Blob0);
    const char byte = static_cast<char>(file.get());
    file.seekp(kLastByteOfSubject0Blob0);
    file.put(static_cast<char>(byte ^ 0x01));
  }
  auto second = RunScale(o);
  ASSERT_OK(second);
  EXPECT_EQ((*second)["gallery_source"], "generated");
  EXPECT_EQ((*second)["threshold_at_fpir_0.1%"], (*first)["threshold_at_fpir_0.1%"]);
  auto third = RunScale(o);
  ASSERT_OK(third);
  EXPECT_EQ((*third)["gallery_source"], "cache");
  std::filesystem::remove(o.cache);
}

}  // namespace
}  // namespace ektp::bio
