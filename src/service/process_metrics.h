// The metrics every serving process exposes on /metrics besides its own:
// what build it is and what it costs the machine (Linux, from /proc/self).
//
//   ektp_build_info{version,commit}   gauge, always 1
//   process_resident_memory_bytes     gauge
//   process_cpu_seconds_total         counter, user + system
//   process_open_fds                  gauge
//   process_start_time_seconds        gauge, Unix time
//
// The process_* names are those of the Prometheus client libraries, so
// standard dashboards work unchanged.
//
// Thread-safety: safe to call from several threads (each on its own registry).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "service/metrics.h"

namespace ektp::service {

// The commit this binary was built from ("unknown" outside a git checkout),
// as of the last CMake configure.
std::string BuildCommit();

struct ProcessFigures {
  int64_t resident_bytes = 0;
  double cpu_seconds = 0;
  int64_t open_fds = 0;
  double start_time_seconds = 0;  // Unix time
};
// std::nullopt when /proc cannot be read.
std::optional<ProcessFigures> ReadProcessFigures();

// Sets ektp_build_info and the process_* metrics in `registry` (the process_*
// ones only when /proc can be read).
void AddProcessMetrics(MetricsRegistry& registry);

}  // namespace ektp::service
