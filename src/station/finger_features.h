// The matcher's features of one finger a station compares 1:1 (a card's chip
// at pickup, an operator's own fingerprints at login and enrollment).
#pragma once

#include <string_view>

#include "bio/matcher.h"
#include "card/card.h"
#include "core/status.h"

namespace ektp::station {

// The first view of `finger`'s template. kInvalidArgument naming "<whose>
// finger <position>" when the template does not decode or holds no view.
StatusOr<bio::FingerFeatures> DecodeFinger(const card::ChipFinger& finger, std::string_view whose);

}  // namespace ektp::station
