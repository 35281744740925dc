// Drawing printed documents (the card, the Suket) with cairo: text in a
// named font, shrunk to fit a width; encoded images as cairo surfaces; an
// image fitted into a box. Units are the caller's (millimetres for both).
//
// Thread-safety: as cairo's (one context per thread).
#pragma once

#include <cairo.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ektp::drawing {

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

// A JPEG or PNG as an ARGB32 surface (premultiplied alpha). Errors carry
// `part` ("face photo") as context.
StatusOr<Surface> ImageSurface(std::span<const uint8_t> encoded, std::string_view part);

void SetFont(cairo_t* cr, const char* family, double size, bool bold);

// The advance width of `text` in the current font.
double TextWidth(cairo_t* cr, const std::string& text);

// Draws `text` in `family` with its baseline at (x, y), shrunk to
// `max_width` when that is positive and the text is wider.
void ShowText(cairo_t* cr, const char* family, double x, double y, const std::string& text, double size, bool bold,
              double max_width = 0);

// Paints `image` scaled to fit inside the box (x, y, w, h), centred.
void PaintFitted(cairo_t* cr, cairo_surface_t* image, double x, double y, double w, double h);

}  // namespace ektp::drawing
