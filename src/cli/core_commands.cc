// `ektp nik ...` and `ektp region ...`.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/nik.h"
#include "core/region.h"

namespace ektp::cli {
namespace {

nlohmann::json RegionJson(const Region& region) {
  return {{"code", region.code}, {"name", region.name}, {"level", RegionLevelName(region.level)}};
}

}  // namespace

int NikParse(const Args& args) {
  CLI::App app("Decode and validate a 16-digit NIK", "nik parse");
  std::string text;
  bool json = false;
  app.add_option("nik", text, "the NIK")->required();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;

  const RegionRegistry& regions = RegionRegistry::Default();
  auto nik = ParseNik(text, regions, SystemClock::Instance().TodayWib());
  if (!nik.ok()) return Fail(nik.status().WithContext("invalid NIK " + text));
  const Region* kecamatan = regions.Find(nik->kecamatan_code);
  const Region* regency = regions.Find(nik->regency_code);
  const Region* province = regions.Find(nik->province_code);
  if (json) {
    nlohmann::json out = {
        {"nik", nik->digits},
        {"province_code", nik->province_code},
        {"province_name", province->name},
        {"regency_code", nik->regency_code},
        {"regency_name", regency->name},
        {"kecamatan_code", nik->kecamatan_code},
        {"kecamatan_name", kecamatan->name},
        {"birth_date", FormatDate(nik->birth_date)},
        {"sex", SexName(nik->sex)},
        {"sequence", nik->sequence},
    };
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "NIK         " << nik->digits << "\n"
              << "province    " << nik->province_code << " " << province->name << "\n"
              << "regency     " << nik->regency_code << " " << regency->name << "\n"
              << "kecamatan   " << nik->kecamatan_code << " " << kecamatan->name << "\n"
              << "birth date  " << FormatDate(nik->birth_date) << "\n"
              << "sex         " << SexName(nik->sex) << "\n"
              << "sequence    " << nik->sequence << "\n";
  }
  return kExitOk;
}

int RegionShow(const Args& args) {
  CLI::App app("Show a region, its parents and population", "region show");
  std::string code;
  bool json = false;
  app.add_option("code", code, "region code, e.g. 35.21")->required();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;

  const RegionRegistry& regions = RegionRegistry::Default();
  const Region* region = regions.Find(code);
  if (region == nullptr) {
    auto level = LevelOfCode(code);
    if (!level.ok()) return Fail(level.status());
    return Fail(NotFound("region " + code + " does not exist; try `ektp region search <name>`"));
  }
  auto chain = regions.Chain(code);
  auto children = regions.Children(code);
  auto population = regions.PopulationOf(code);
  if (json) {
    nlohmann::json out = RegionJson(*region);
    out["parents"] = nlohmann::json::array();
    for (size_t i = 0; i + 1 < chain.size(); ++i) out["parents"].push_back(RegionJson(*chain[i]));
    out["children"] = children.size();
    if (population) {
      out["population"] = {{"male", population->male}, {"female", population->female}, {"total", population->total}};
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << region->code << "  " << region->name << " (" << RegionLevelName(region->level) << ")\n";
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    std::cout << "  in " << chain[i]->code << " " << chain[i]->name << " (" << RegionLevelName(chain[i]->level) << ")\n";
  }
  if (!children.empty()) std::cout << "  " << children.size() << " subdivisions\n";
  if (population) {
    std::cout << "  population " << population->total << " (male " << population->male << ", female "
              << population->female << ")\n";
  }
  return kExitOk;
}

int RegionSearch(const Args& args) {
  CLI::App app("Find regions by name", "region search");
  std::vector<std::string> words;
  size_t limit = 50;
  bool json = false;
  app.add_option("name", words, "words of the name")->required();
  app.add_option("--limit", limit, "at most this many results")->capture_default_str();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;

  std::string query;
  for (const std::string& word : words) query += word + " ";
  auto found = RegionRegistry::Default().Search(query, limit);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Region* region : found) out.push_back(RegionJson(*region));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (found.empty()) {
    std::cerr << "ektp: no region matches '" << query.substr(0, query.size() - 1) << "'\n";
    return kExitFailure;
  }
  for (const Region* region : found) {
    std::cout << region->code << std::string(16 - std::min<size_t>(15, region->code.size()), ' ')
              << RegionLevelName(region->level) << std::string(11 - RegionLevelName(region->level).size(), ' ')
              << region->name << "\n";
  }
  return kExitOk;
}

}  // namespace ektp::cli
