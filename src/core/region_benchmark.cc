// Region registry load time, lookups and memory.
// Run: build/release/src/core/region_benchmark
#include <benchmark/benchmark.h>

#include "core/process_stats.h"
#include "core/region.h"

extern "C" {
extern const char ektp_regions_csv[];
extern const char ektp_regions_csv_end[];
extern const char ektp_population_csv[];
extern const char ektp_population_csv_end[];
}

namespace ektp {
namespace {

long MaxRssKib() { return static_cast<long>(PeakRssBytes() / 1024); }

void BM_Load(benchmark::State& state) {
  std::string_view regions(ektp_regions_csv, ektp_regions_csv_end - ektp_regions_csv);
  std::string_view population(ektp_population_csv, ektp_population_csv_end - ektp_population_csv);
  long rss_before = MaxRssKib();
  for (auto _ : state) {
    auto registry = RegionRegistry::Parse(regions, population);
    benchmark::DoNotOptimize(registry);
  }
  state.counters["regions"] = static_cast<double>(RegionRegistry::Default().size());
  state.counters["max_rss_kib"] = static_cast<double>(MaxRssKib());
  state.counters["rss_growth_kib"] = static_cast<double>(MaxRssKib() - rss_before);
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond);

void BM_FindByCode(benchmark::State& state) {
  const RegionRegistry& registry = RegionRegistry::Default();
  for (auto _ : state) benchmark::DoNotOptimize(registry.Find("35.21.01.2001"));
}
BENCHMARK(BM_FindByCode);

void BM_SearchByName(benchmark::State& state) {
  const RegionRegistry& registry = RegionRegistry::Default();
  for (auto _ : state) benchmark::DoNotOptimize(registry.Search("ngawi"));
}
BENCHMARK(BM_SearchByName)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ektp

BENCHMARK_MAIN();
