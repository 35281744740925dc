#include "service/process_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

#include "core/version.h"

#ifndef EKTP_GIT_COMMIT
#define EKTP_GIT_COMMIT "unknown"
#endif

namespace ektp::service {
namespace {

// Seconds since the epoch at which the machine booted (/proc/stat's btime).
std::optional<int64_t> BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      int64_t seconds = 0;
      if (in >> seconds) return seconds;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

}  // namespace

std::string BuildCommit() { return EKTP_GIT_COMMIT; }

std::optional<ProcessFigures> ReadProcessFigures() {
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Field 2 (comm) is parenthesised and may hold spaces; fields count from after its ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> after;  // after[0] is field 3 (state)
  for (std::string field; fields >> field;) after.push_back(field);
  if (after.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::optional<int64_t> boot = BootTime();
  if (ticks <= 0 || page <= 0 || !boot) return std::nullopt;
  ProcessFigures figures;
  try {
    // utime 14, stime 15, starttime 22, rss 24 (proc(5)).
    figures.cpu_seconds = (std::stod(after[14 - 3]) + std::stod(after[15 - 3])) / ticks;
    figures.start_time_seconds = static_cast<double>(*boot) + std::stod(after[22 - 3]) / ticks;
    figures.resident_bytes = static_cast<int64_t>(std::stod(after[24 - 3]) * page);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++figures.open_fds;
  }
  if (error) return std::nullopt;
  --figures.open_fds;  // the directory iterator's own descriptor
  return figures;
}

void AddProcessMetrics(MetricsRegistry& registry) {
  registry
      .GetGauge("ektp_build_info", "The running build: version and commit (always 1)",
                {{"version", kVersion}, {"commit", BuildCommit()}})
      .Set(1);
  std::optional<ProcessFigures> figures = ReadProcessFigures();
  if (!figures) return;
  registry.GetGauge("process_resident_memory_bytes", "Resident memory size in bytes.")
      .Set(static_cast<double>(figures->resident_bytes));
  registry.GetCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
      .Increment(figures->cpu_seconds);
  registry.GetGauge("process_open_fds", "Number of open file descriptors.").Set(static_cast<double>(figures->open_fds));
  registry.GetGauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
      .Set(figures->start_time_seconds);
}

}  // namespace ektp::service
