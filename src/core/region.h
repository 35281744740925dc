// The registry of Kemendagri region codes: 38 provinces, 514 regencies,
// 7,285 kecamatan and 83,762 villages, with population per regency.
//
// Codes are dotted: "35" province, "35.21" regency, "35.21.01" kecamatan
// (district), "35.21.01.2001" village. The data is embedded in the binary
// (data/regions, MIT) so no file needs to be found at run time.
//
// Thread-safety: a loaded registry is immutable and safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp {

enum class RegionLevel { kProvince, kRegency, kKecamatan, kVillage };

std::string_view RegionLevelName(RegionLevel level);  // "province", "regency", "kecamatan", "village"

struct Region {
  std::string code;
  std::string name;
  RegionLevel level;
};

struct Population {
  int64_t male = 0;
  int64_t female = 0;
  int64_t total = 0;
};

class RegionRegistry {
 public:
  // Parses `code,name` and `code,name,male,female,total` CSV texts (with headers).
  static StatusOr<std::unique_ptr<RegionRegistry>> Parse(std::string_view regions_csv,
                                                         std::string_view population_csv);

  // The registry built from the embedded data, loaded once on first use.
  static const RegionRegistry& Default();

  size_t size() const { return regions_.size(); }
  size_t CountAt(RegionLevel level) const;

  // nullptr if `code` is unknown.
  const Region* Find(std::string_view code) const;

  // The region and its ancestors, outermost (province) first.
  std::vector<const Region*> Chain(std::string_view code) const;

  // Regions whose name contains every word of `query` (case-insensitive),
  // ordered by level then code, at most `limit`.
  std::vector<const Region*> Search(std::string_view query, size_t limit = 50) const;

  // Direct children of `code` ("" for the provinces).
  std::vector<const Region*> Children(std::string_view code) const;

  // Population of a regency, a province or "0" (Indonesia); nullopt if unknown.
  std::optional<Population> PopulationOf(std::string_view code) const;

 private:
  RegionRegistry() = default;
  std::vector<Region> regions_;  // sorted by code
  std::vector<std::pair<std::string, Population>> population_;  // sorted by code
};

// The level a code has by its shape, or InvalidArgument.
StatusOr<RegionLevel> LevelOfCode(std::string_view code);

// "35.21.01" -> "35.21"; "" for a province.
std::string_view ParentCode(std::string_view code);

}  // namespace ektp
