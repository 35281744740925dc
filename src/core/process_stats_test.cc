#include "core/process_stats.h"

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

namespace ektp {
namespace {

TEST(ProcessStatsTest, PeakRssGrowsWithTouchedMemory) {
  const size_t before = PeakRssBytes();
  constexpr size_t kBytes = 64 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);  // resident only once touched
  const size_t after = PeakRssBytes();
  EXPECT_GE(after, before);
  EXPECT_GE(after, kBytes);
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(ProcessStatsTest, CpuClocksAdvanceWithWork) {
  const double process0 = ProcessCpuSeconds(), thread0 = ThreadCpuSeconds();
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i * 0.5;
  EXPECT_GT(ThreadCpuSeconds(), thread0);
  EXPECT_GT(ProcessCpuSeconds(), process0);
}

TEST(ProcessStatsTest, LoadAverageIsAvailableOnLinux) { EXPECT_GE(LoadAverage1Min(), 0); }

}  // namespace
}  // namespace ektp
