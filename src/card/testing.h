// Test helpers for code that handles cards.
#pragma once

#include "card/card.h"

namespace ektp::card::testing {

// A complete card of a fixed resident of Ngawi (35.21) with the demo photo
// and signature and two FVC2002 templates, ready to sign and render.
Card SampleCard();

}  // namespace ektp::card::testing
