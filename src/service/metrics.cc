#include "service/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace ektp::service {
namespace {

bool ValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t char_idx = 0; char_idx < name.size(); ++char_idx) {
    char c = name[char_idx];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (char_idx > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ektp::service::MetricsRegistry: %s\n", message.c_str());
  std::abort();
}

Labels Canonical(const Labels& labels) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t label_idx = 0; label_idx < sorted.size(); ++label_idx) {
    if (!ValidName(sorted[label_idx].first, false) || sorted[label_idx].first.starts_with("__")) {
      Die("invalid label name '" + sorted[label_idx].first + "'");
    }
    if (label_idx > 0 && sorted[label_idx].first == sorted[label_idx - 1].first) {
      Die("duplicate label name '" + sorted[label_idx].first + "'");
    }
  }
  return sorted;
}

// HELP text escapes backslash and newline; label values also escape '"'.
std::string Escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  return std::string(buf, result.ptr);
}

std::string FormatLabels(const Labels& labels, const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + Escape(v, true) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (extra != nullptr) add(extra->first, extra->second);
  out += "}";
  return out;
}

// The metric of `key` in `metrics`, made from `args` on first use.
template <typename Metric, typename... Args>
Metric& MetricFor(std::map<Labels, std::unique_ptr<Metric>>& metrics, const Labels& key, const Args&... args) {
  auto& slot = metrics[key];
  if (!slot) slot = std::make_unique<Metric>(args...);
  return *slot;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  size_t bucket_idx = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[bucket_idx];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upper_bounds = bounds_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    snap.cumulative_counts.push_back(running);
  }
  snap.sum = sum_;
  snap.count = count_;
  return snap;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<double> buckets;
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry& MetricsRegistry::Default() {
  static auto* registry = new MetricsRegistry();  // never destroyed: used until exit
  return *registry;
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(std::string_view name, std::string_view help,
                                                    Type type, const std::vector<double>* buckets) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!ValidName(name, true)) Die("invalid metric name '" + std::string(name) + "'");
    if (buckets != nullptr) {
      for (size_t bucket_idx = 1; bucket_idx < buckets->size(); ++bucket_idx) {
        if (!((*buckets)[bucket_idx - 1] < (*buckets)[bucket_idx])) {
          Die("histogram buckets of '" + std::string(name) + "' are not strictly increasing");
        }
      }
    }
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
    if (buckets != nullptr) family->buckets = *buckets;
    it = families_.emplace(family->name, std::move(family)).first;
  }
  Family& family = *it->second;
  if (family.type != type) Die("metric '" + std::string(name) + "' registered with two types");
  if (buckets != nullptr && family.buckets != *buckets) {
    Die("histogram '" + std::string(name) + "' registered with two bucket layouts");
  }
  return family;
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = Canonical(labels);
  std::lock_guard lock(mu_);
  return MetricFor(FamilyFor(name, help, Type::kCounter, nullptr).counters, key);
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = Canonical(labels);
  std::lock_guard lock(mu_);
  return MetricFor(FamilyFor(name, help, Type::kGauge, nullptr).gauges, key);
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& buckets, const Labels& labels) {
  Labels key = Canonical(labels);
  for (const auto& [k, v] : key) {
    if (k == "le") Die("histogram '" + std::string(name) + "' uses the reserved label 'le'");
  }
  std::lock_guard lock(mu_);
  return MetricFor(FamilyFor(name, help, Type::kHistogram, &buckets).histograms, key, buckets);
}

std::string MetricsRegistry::Exposition() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    out << "# HELP " << name << " " << Escape(family->help, false) << "\n";
    switch (family->type) {
      case Type::kCounter:
        out << "# TYPE " << name << " counter\n";
        for (const auto& [labels, counter] : family->counters) {
          out << name << FormatLabels(labels) << " " << FormatValue(counter->value()) << "\n";
        }
        break;
      case Type::kGauge:
        out << "# TYPE " << name << " gauge\n";
        for (const auto& [labels, gauge] : family->gauges) {
          out << name << FormatLabels(labels) << " " << FormatValue(gauge->value()) << "\n";
        }
        break;
      case Type::kHistogram:
        out << "# TYPE " << name << " histogram\n";
        for (const auto& [labels, histogram] : family->histograms) {
          Histogram::Snapshot snap = histogram->snapshot();
          for (size_t bucket_idx = 0; bucket_idx <= snap.upper_bounds.size(); ++bucket_idx) {
            std::pair<std::string, std::string> le{
                "le", bucket_idx < snap.upper_bounds.size() ? FormatValue(snap.upper_bounds[bucket_idx])
                                                            : std::string("+Inf")};
            out << name << "_bucket" << FormatLabels(labels, &le) << " "
                << snap.cumulative_counts[bucket_idx] << "\n";
          }
          out << name << "_sum" << FormatLabels(labels) << " " << FormatValue(snap.sum) << "\n";
          out << name << "_count" << FormatLabels(labels) << " " << snap.count << "\n";
        }
        break;
    }
  }
  return out.str();
}

}  // namespace ektp::service
