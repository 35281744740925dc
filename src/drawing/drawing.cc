#include "drawing/drawing.h"

#include <algorithm>

#include "enrollment/image.h"

namespace ektp::drawing {

StatusOr<Surface> ImageSurface(std::span<const uint8_t> encoded, std::string_view part) {
  auto image = enrollment::DecodeToRgba(encoded);
  if (!image.ok()) return image.status().WithContext(part);
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, image->width, image->height), cairo_surface_destroy);
  cairo_surface_flush(surface.get());
  unsigned char* pixels = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < image->height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(pixels + y * stride);
    for (int x = 0; x < image->width; ++x) {
      const uint8_t* p = &image->rgba[(size_t(y) * image->width + x) * 4];
      const uint32_t a = p[3];
      auto premultiply = [a](uint8_t c) { return uint32_t{c} * a / 255; };
      row[x] = a << 24 | premultiply(p[0]) << 16 | premultiply(p[1]) << 8 | premultiply(p[2]);
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

void SetFont(cairo_t* cr, const char* family, double size, bool bold) {
  cairo_select_font_face(cr, family, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double TextWidth(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

void ShowText(cairo_t* cr, const char* family, double x, double y, const std::string& text, double size, bool bold,
              double max_width) {
  SetFont(cr, family, size, bold);
  if (max_width > 0) {
    const double width = TextWidth(cr, text);
    if (width > max_width) cairo_set_font_size(cr, size * max_width / width);
  }
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
}

void PaintFitted(cairo_t* cr, cairo_surface_t* image, double x, double y, double w, double h) {
  const double iw = cairo_image_surface_get_width(image), ih = cairo_image_surface_get_height(image);
  const double scale = std::min(w / iw, h / ih);
  cairo_save(cr);
  cairo_translate(cr, x + (w - iw * scale) / 2, y + (h - ih * scale) / 2);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, image, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BEST);
  cairo_paint(cr);
  cairo_restore(cr);
}

}  // namespace ektp::drawing
