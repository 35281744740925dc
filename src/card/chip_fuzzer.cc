// Chip blobs read by `ektp card show` and at the hand-over come from a card
// in a stranger's hand: decoding any bytes must return a Status, never crash.
#include <cstddef>
#include <cstdint>

#include "card/card.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto chip = ektp::card::DecodeChipUnverified({data, size});
  if (chip.ok() && chip->data.fingers.empty()) __builtin_trap();
  return 0;
}
