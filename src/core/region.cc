#include "core/region.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.h"

extern "C" {
extern const char ektp_regions_csv[];
extern const char ektp_regions_csv_end[];
extern const char ektp_population_csv[];
extern const char ektp_population_csv_end[];
}

namespace ektp {
namespace {

// Splits CSV text into rows of fields. Handles "quoted, fields" with "" escapes.
std::vector<std::vector<std::string>> CsvRows(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  for (std::string_view line : SplitLines(text)) {
    if (line.empty()) continue;
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          fields.back().push_back('"');
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          fields.back().push_back(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.emplace_back();
      } else {
        fields.back().push_back(c);
      }
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace

std::string_view RegionLevelName(RegionLevel level) {
  switch (level) {
    case RegionLevel::kProvince: return "province";
    case RegionLevel::kRegency: return "regency";
    case RegionLevel::kKecamatan: return "kecamatan";
    case RegionLevel::kVillage: return "village";
  }
  return "?";
}

StatusOr<RegionLevel> LevelOfCode(std::string_view code) {
  static constexpr size_t kWidths[] = {2, 2, 2, 4};
  size_t start = 0;
  for (size_t depth = 0; depth < 4; ++depth) {
    size_t dot = code.find('.', start);
    std::string_view part = code.substr(start, dot == std::string_view::npos ? code.size() - start : dot - start);
    if (part.size() != kWidths[depth] || !IsAllDigits(part)) break;
    if (dot == std::string_view::npos) return static_cast<RegionLevel>(depth);
    start = dot + 1;
  }
  return InvalidArgument("'" + QuoteInput(code) + "' is not a region code (expected 35, 35.21, 35.21.01 or 35.21.01.2001)");
}

std::string_view ParentCode(std::string_view code) {
  size_t dot = code.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : code.substr(0, dot);
}

StatusOr<std::unique_ptr<RegionRegistry>> RegionRegistry::Parse(std::string_view regions_csv,
                                                               std::string_view population_csv) {
  std::unique_ptr<RegionRegistry> registry(new RegionRegistry());
  auto rows = CsvRows(regions_csv);
  if (rows.empty() || rows[0].size() != 2 || rows[0][0] != "code") {
    return InvalidArgument("regions CSV must start with the header 'code,name'");
  }
  registry->regions_.reserve(rows.size() - 1);
  for (size_t row_idx = 1; row_idx < rows.size(); ++row_idx) {
    const auto& row = rows[row_idx];
    if (row.size() != 2) return InvalidArgument("regions CSV line " + std::to_string(row_idx + 1) + " must have 2 fields");
    ASSIGN_OR_RETURN(RegionLevel level, LevelOfCode(row[0]));
    registry->regions_.push_back(Region{row[0], row[1], level});
  }
  std::sort(registry->regions_.begin(), registry->regions_.end(),
            [](const Region& a, const Region& b) { return a.code < b.code; });

  auto population_rows = CsvRows(population_csv);
  for (size_t row_idx = 1; row_idx < population_rows.size(); ++row_idx) {
    const auto& row = population_rows[row_idx];
    if (row.size() != 5) return InvalidArgument("population CSV line " + std::to_string(row_idx + 1) + " must have 5 fields");
    Population population;
    int64_t* targets[] = {&population.male, &population.female, &population.total};
    for (size_t field_idx = 0; field_idx < 3; ++field_idx) {
      const std::string& field = row[2 + field_idx];
      auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), *targets[field_idx]);
      if (ec != std::errc() || ptr != field.data() + field.size()) {
        return InvalidArgument("population CSV line " + std::to_string(row_idx + 1) + " has a bad number");
      }
    }
    registry->population_.emplace_back(row[0], population);
  }
  std::sort(registry->population_.begin(), registry->population_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return registry;
}

const RegionRegistry& RegionRegistry::Default() {
  static const RegionRegistry* registry = [] {
    auto parsed = Parse(std::string_view(ektp_regions_csv, ektp_regions_csv_end - ektp_regions_csv),
                        std::string_view(ektp_population_csv, ektp_population_csv_end - ektp_population_csv));
    if (!parsed.ok()) std::abort();  // The embedded data is checked by tests; corruption is a build bug.
    return parsed->release();
  }();
  return *registry;
}

size_t RegionRegistry::CountAt(RegionLevel level) const {
  return std::count_if(regions_.begin(), regions_.end(), [&](const Region& r) { return r.level == level; });
}

const Region* RegionRegistry::Find(std::string_view code) const {
  auto it = std::lower_bound(regions_.begin(), regions_.end(), code,
                             [](const Region& r, std::string_view c) { return r.code < c; });
  return (it != regions_.end() && it->code == code) ? &*it : nullptr;
}

std::vector<const Region*> RegionRegistry::Chain(std::string_view code) const {
  std::vector<const Region*> chain;
  for (std::string_view c = code; !c.empty(); c = ParentCode(c)) {
    if (const Region* region = Find(c)) chain.push_back(region);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::vector<const Region*> RegionRegistry::Search(std::string_view query, size_t limit) const {
  const std::string lowered = ToLowerAscii(query);
  std::vector<std::string> words;
  for (std::string_view word : SplitWords(lowered)) words.emplace_back(word);
  std::vector<const Region*> found;
  if (words.empty()) return found;
  for (const Region& region : regions_) {
    std::string name = ToLowerAscii(region.name);
    if (std::all_of(words.begin(), words.end(), [&](const std::string& w) { return name.find(w) != std::string::npos; })) {
      found.push_back(&region);
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Region* a, const Region* b) { return a->level < b->level; });
  if (found.size() > limit) found.resize(limit);
  return found;
}

std::vector<const Region*> RegionRegistry::Children(std::string_view code) const {
  std::vector<const Region*> children;
  for (const Region& region : regions_) {
    if (ParentCode(region.code) == code) children.push_back(&region);
  }
  return children;
}

std::optional<Population> RegionRegistry::PopulationOf(std::string_view code) const {
  auto it = std::lower_bound(population_.begin(), population_.end(), code,
                             [](const auto& p, std::string_view c) { return p.first < c; });
  if (it == population_.end() || it->first != code) return std::nullopt;
  return it->second;
}

}  // namespace ektp
