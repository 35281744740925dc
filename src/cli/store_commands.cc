// `ektp db ...` and the storage-backed `ektp nik next`.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/resident.h"
#include "core/resident_json.h"
#include "store/migrations.h"
#include "store/record_repository.h"

namespace ektp::cli {

int DbMigrate(const Args& args) {
  CLI::App app("Create or upgrade a database to this binary's schema", "db migrate");
  std::string url, schema_name = "central";
  app.add_option("--db", url, "sqlite:/path/file.db, postgresql://... or pg:<keywords>")->required();
  app.add_option("--schema", schema_name, "central or station")->check(CLI::IsMember({"central", "station"}))->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;
  auto connection = store::Open(url, schema_name == "central" ? store::Schema::kCentral : store::Schema::kStation);
  if (!connection.ok()) return Fail(connection.status());
  auto version = store::SchemaVersion(**connection);
  if (!version.ok()) return Fail(version.status());
  std::cout << "schema version " << *version << "\n";
  return kExitOk;
}

int NikNext(const Args& args) {
  CLI::App app("The next free NIK for a kecamatan, birth date and sex", "nik next");
  std::string kecamatan, birth_date_text, sex_text, url;
  app.add_option("--kecamatan", kecamatan, "kecamatan code, e.g. 35.21.01")->required();
  app.add_option("--birth-date", birth_date_text, "YYYY-MM-DD")->required();
  app.add_option("--sex", sex_text, "male or female")->required();
  app.add_option("--db", url, "register to check against (default: an empty register)");
  if (auto exit = Parse(app, args)) return *exit;

  const Region* region = RegionRegistry::Default().Find(kecamatan);
  if (region == nullptr || region->level != RegionLevel::kKecamatan) {
    return Fail(InvalidArgument("kecamatan " + kecamatan + " does not exist"));
  }
  auto birth_date = ParseIsoDate("--birth-date", birth_date_text);
  if (!birth_date.ok()) return Fail(birth_date.status());
  auto sex = ParseSex(sex_text);
  if (!sex.ok()) return Fail(sex.status());
  std::string url_or_memory = url.empty() ? "sqlite::memory:" : url;
  auto connection = store::Open(url_or_memory, store::Schema::kCentral);
  if (!connection.ok()) return Fail(connection.status());
  store::RecordRepository records(**connection, SystemClock::Instance());
  auto nik = records.PeekNextNik(kecamatan, *birth_date, *sex);
  if (!nik.ok()) return Fail(nik.status());
  std::cout << *nik << "\n";
  return kExitOk;
}

}  // namespace ektp::cli
