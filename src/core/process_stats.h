// Resource figures of the calling process, for benchmarks (Linux).
// Thread-safe.
#pragma once

#include <cstddef>

namespace ektp {

// Peak resident memory since the process started, bytes (getrusage's
// ru_maxrss).
size_t PeakRssBytes();
// CPU time consumed by all threads of this process, seconds.
double ProcessCpuSeconds();
// CPU time consumed by the calling thread, seconds.
double ThreadCpuSeconds();
// The 1-minute load average, -1 when unavailable.
double LoadAverage1Min();

}  // namespace ektp
