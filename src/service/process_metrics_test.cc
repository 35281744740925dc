#include "service/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/version.h"

namespace ektp::service {
namespace {

using ::testing::HasSubstr;

TEST(ProcessMetricsTest, FiguresComeFromProcSelf) {
  auto before = ReadProcessFigures();
  ASSERT_TRUE(before.has_value());
  const int extra = open("/dev/null", O_RDONLY);
  ASSERT_GE(extra, 0);
  auto after = ReadProcessFigures();
  close(extra);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
  EXPECT_GT(after->resident_bytes, 1 << 20);  // a test binary holds more than 1 MiB
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(after->start_time_seconds, now + 1);
  EXPECT_GT(after->start_time_seconds, now - 24 * 3600);  // this test process started today
  EXPECT_GE(after->cpu_seconds, 0);
}

TEST(ProcessMetricsTest, ExpositionHasBuildInfoAndProcessFamilies) {
  MetricsRegistry registry;
  AddProcessMetrics(registry);
  const std::string text = registry.Exposition();
  EXPECT_THAT(text, HasSubstr("ektp_build_info{commit=\"" + BuildCommit() + "\",version=\"" + std::string(kVersion) +
                              "\"} 1\n"));
  EXPECT_NE(BuildCommit(), "");
  for (const char* family : {"# TYPE process_resident_memory_bytes gauge", "# TYPE process_cpu_seconds_total counter",
                             "# TYPE process_open_fds gauge", "# TYPE process_start_time_seconds gauge"}) {
    EXPECT_THAT(text, HasSubstr(family));
  }
}

}  // namespace
}  // namespace ektp::service
