// libFuzzer target for the TOML configuration (service::ConfigFile::Parse): an
// operator's file, typos and all. Never crashes; every typed getter on a
// parsed file answers a value or a Status.
#include <cstdint>
#include <string_view>

#include "service/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = service::ConfigFile::Parse(text, "fuzz.toml");
  if (!config.ok()) return 0;
  (void)config->Entries();
  for (std::string_view key : {"central.urls", "central.timeout_ms", "server.port", "server.bind", "a", "a.b.c",
                               "station.data_dir", "pipeline.rate"}) {
    (void)config->Has(key);
    (void)config->GetString(key, "");
    (void)config->GetInt(key, 0);
    (void)config->GetBool(key, false);
    (void)config->GetDouble(key, 0);
    (void)config->GetStringList(key, {});
  }
  return 0;
}
