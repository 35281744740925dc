// Metrics: counters, gauges and histograms with labels, exposed in the
// Prometheus text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A metric family is identified by its name; each distinct set of label
// values is one series. Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label
// names [a-zA-Z_][a-zA-Z0-9_]*; label values are arbitrary UTF-8 and are
// escaped on output. Never put PII (NIK, names, addresses) in label values,
// and keep their cardinality bounded (use a route pattern, not a raw path).
//
// Thread-safety: MetricsRegistry and every Counter, Gauge and Histogram are
// safe to use from several threads.
// Ownership: the registry owns its metrics; references returned by Get* stay
// valid for the registry's lifetime.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ektp::service {

// Label name/value pairs. Order does not matter; names must be unique.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // REQUIRES: by >= 0 (counters only go up).
  void Increment(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // REQUIRES: `upper_bounds` strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Default buckets for request latencies in seconds: 1 ms .. 10 s.
std::vector<double> DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry served by default on /metrics.
  static MetricsRegistry& Default();

  // Returns the series of family `name` with `labels`, creating either on
  // first use. `help` is taken from the first call for a family.
  // REQUIRES: `name` and label names are valid; a family is always used with
  // the same type (and, for histograms, the same buckets). Violations are
  // programming errors and abort the process.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& buckets, const Labels& labels = {});

  // All families in name order, series in label order, in text format 0.0.4.
  std::string Exposition() const;

  // The content type of Exposition().
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Family;
  enum class Type { kCounter, kGauge, kHistogram };
  Family& FamilyFor(std::string_view name, std::string_view help, Type type,
                    const std::vector<double>* buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace ektp::service
