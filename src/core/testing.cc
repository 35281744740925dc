#include "core/testing.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ektp::testing {

const std::filesystem::path& SourceDir() {
  static const std::filesystem::path dir(EKTP_CONFIGURED_SOURCE_DIR);
  return dir;
}

const std::filesystem::path& SharedDataDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path shared = (SourceDir().parent_path() / "shared" / "data").lexically_normal();
    if (!std::filesystem::is_directory(shared)) {
      std::fprintf(stderr, "test data not found: %s (the shared data folder beside the checkout)\n", shared.c_str());
      std::exit(2);
    }
    return shared;
  }();
  return dir;
}

std::filesystem::path FvcDir() { return SharedDataDir() / "fvc2002"; }

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace ektp::testing
