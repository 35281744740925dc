#include "cli/commands.h"

namespace ektp::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> table = {
      {"nik parse", "decode and validate a NIK", NikParse},
      {"nik next", "allocate the next free NIK for a kecamatan and birth date", NikNext},
      {"region show", "show a region code, its parents and population", RegionShow},
      {"region search", "find regions by name", RegionSearch},
      {"db migrate", "apply the embedded schema migrations to a database", DbMigrate},
  };
  return table;
}

}  // namespace ektp::cli
