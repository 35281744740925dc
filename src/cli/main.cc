#include "cli/command.h"

int main(int argc, char** argv) {
  return ektp::cli::Dispatch(ektp::cli::Args(argv + 1, argv + argc));
}
