// Synthetic residents of a real regency, for the demo, simulations,
// benchmarks and tests. Deterministic for a given seed.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/region.h"
#include "core/resident.h"

namespace ektp {

// A resident living in a random village of `regency_code`, aged 17-80 on
// `today`, with plausible Indonesian names and fields, and no NIK.
// REQUIRES: regency_code names a regency in `regions`.
Resident SyntheticResident(const RegionRegistry& regions, std::string_view regency_code, Random& random,
                           std::chrono::year_month_day today);

}  // namespace ektp
