// Renders an e-KTP's front and back with cairo: a 300 dpi PNG of each side
// for the card printer and a two-page vector PDF (front, back) at the card's
// true size, CR80 (ISO/IEC 7810 ID-1, 85.60 x 53.98 mm). The layout follows
// the e-KTP; docs/card-format.md shows a rendered card. Text is set in
// DejaVu Serif (Debian's fonts-dejavu-core).
//
// Thread-safety: reentrant; no shared state.
#pragma once

#include "card/card.h"
#include "core/region.h"

namespace ektp::card {

inline constexpr double kCardWidthMm = 85.60;
inline constexpr double kCardHeightMm = 53.98;
inline constexpr int kPrintDpi = 300;

// A side's size in pixels at `dpi`, rounded to the nearest pixel
// (1011 x 638 at 300 dpi).
int CardWidthPx(int dpi = kPrintDpi);
int CardHeightPx(int dpi = kPrintDpi);

struct RenderedCard {
  Bytes front_png;
  Bytes back_png;
  Bytes pdf;  // two pages: front, back
};

// kInvalidArgument when the resident's village or the issuing regency is not
// in `regions`, or the face photo or signature image does not decode; the
// message names the part.
StatusOr<RenderedCard> RenderCard(const Card& card, const RegionRegistry& regions);

}  // namespace ektp::card
