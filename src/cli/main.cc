#include <sys/stat.h>

#include "cli/command.h"

int main(int argc, char** argv) {
  // Everything ektp creates (databases and their WAL, logs, keys, photos,
  // spool and data directories) is for its own user only: files 0600,
  // directories 0700 (docs/security.md, "Data at rest").
  umask(077);
  return ektp::cli::Dispatch(ektp::cli::Args(argv + 1, argv + argc));
}
