#include "service/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace ektp::service {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CounterExpositionHasHelpTypeAndLabels) {
  MetricsRegistry registry;
  registry.GetCounter("ektp_things_total", "Things seen.", {{"kind", "a"}}).Increment();
  registry.GetCounter("ektp_things_total", "ignored", {{"kind", "a"}}).Increment(2);
  registry.GetCounter("ektp_things_total", "", {{"kind", "b"}}).Increment();
  EXPECT_EQ(registry.Exposition(),
            "# HELP ektp_things_total Things seen.\n"
            "# TYPE ektp_things_total counter\n"
            "ektp_things_total{kind=\"a\"} 3\n"
            "ektp_things_total{kind=\"b\"} 1\n");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  registry.GetGauge("g", "line1\nback\\slash \"q\"", {{"v", "a\"b\\c\nd"}}).Set(-1.5);
  EXPECT_EQ(registry.Exposition(),
            "# HELP g line1\\nback\\\\slash \"q\"\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} -1.5\n");
}

TEST(MetricsTest, LabelOrderDoesNotMatter) {
  MetricsRegistry registry;
  Counter& one = registry.GetCounter("c", "h", {{"x", "1"}, {"a", "2"}});
  Counter& two = registry.GetCounter("c", "h", {{"a", "2"}, {"x", "1"}});
  EXPECT_EQ(&one, &two);
  EXPECT_THAT(registry.Exposition(), HasSubstr("c{a=\"2\",x=\"1\"} 0\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  Histogram& h = registry.GetHistogram("lat_seconds", "Latency.", {0.25, 1}, {{"route", "/x"}});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(registry.Exposition(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.25\"} 2\n"
            "lat_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/x\"} 7.875\n"
            "lat_seconds_count{route=\"/x\"} 4\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < 4; ++thread_idx) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 10000; ++i) registry.GetCounter("n_total", "n").Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry.GetCounter("n_total", "n").value(), 40000);
}

TEST(MetricsDeathTest, TypeClashAborts) {
  MetricsRegistry registry;
  registry.GetCounter("x", "h");
  EXPECT_DEATH(registry.GetGauge("x", "h"), "two types");
}

}  // namespace
}  // namespace ektp::service
