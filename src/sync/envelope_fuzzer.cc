// libFuzzer target for the packet envelope parser (sync::ParseEnvelope),
// which central runs on bytes before it knows whether their signature holds.
// Any input parses or yields a Status, never crashes; whatever parses must
// survive a round trip through SignEnvelope unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ektp;
  static const crypto::SigningKey key = crypto::SigningKey::FromSeed(crypto::Bytes(32, 1));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto envelope = sync::ParseEnvelope(text);
  if (!envelope.ok()) return 0;
  sync::Packet packet = sync::SignEnvelope(*envelope, key);
  auto again = sync::VerifyPacket(packet, key.public_key());
  if (!again.ok() || again->version != envelope->version || again->station_id != envelope->station_id ||
      again->sequence != envelope->sequence || again->kind != envelope->kind ||
      again->created_at != envelope->created_at || again->body != envelope->body) {
    std::abort();
  }
  return 0;
}
