// libFuzzer target for the body of POST /api/v1/sync/up
// (sync::ParseUploadBody), parsed before any packet's signature is checked.
// Any input parses or yields a Status, never crashes; the packets of a body
// that parses must come back unchanged from PacketToJson.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sync/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto packets = sync::ParseUploadBody(text);
  if (!packets.ok()) return 0;
  nlohmann::json body = {{"packets", nlohmann::json::array()}};
  for (const sync::Packet& packet : *packets) body["packets"].push_back(sync::PacketToJson(packet));
  auto again = sync::ParseUploadBody(body.dump());
  if (!again.ok() || again->size() != packets->size()) std::abort();
  for (size_t i = 0; i < packets->size(); ++i) {
    if ((*again)[i].envelope_text != (*packets)[i].envelope_text || (*again)[i].signature != (*packets)[i].signature) {
      std::abort();
    }
  }
  return 0;
}
