// Decoding checks for the images an enrollment carries: the face photo
// (JPEG, libjpeg) and the signature (PNG through libpng, or JPEG). Each image
// is decoded in full, so a file that only looks like an image (markers around
// other bytes, a truncated or corrupt stream) is refused. The size rules are
// in docs/enrollment.md ("Images").
//
// Thread-safety: reentrant; no shared state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace ektp::enrollment {

struct ImageSize {
  int width = 0;
  int height = 0;
  int components = 0;  // 1 grey, 3 colour (JPEG); 4 for PNG as decoded (RGBA)
};

// The largest side a decoder accepts; bounds decoding time and memory.
inline constexpr int kMaxImageSide = 4000;

// Decodes a whole baseline or progressive JPEG. A corrupt stream, even one
// libjpeg would recover from with a warning, is refused.
StatusOr<ImageSize> DecodeJpeg(std::span<const uint8_t> bytes);
// Decodes a whole PNG (any bit depth and colour type).
StatusOr<ImageSize> DecodePng(std::span<const uint8_t> bytes);

// An image's pixels: 8-bit RGBA, row-major, `width * 4` bytes a row.
struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;
};
// Decodes a PNG or a JPEG (told apart by their signatures) to RGBA, under
// the same checks as DecodePng and DecodeJpeg. Grey JPEGs come out grey in RGB.
StatusOr<RgbaImage> DecodeToRgba(std::span<const uint8_t> bytes);

// The face photo: a colour JPEG at least 240 x 320 px, portrait with
// height / width in [1.2, 1.5] (ICAO 9303 / ISO 19794-5 style).
Status CheckFacePhoto(std::span<const uint8_t> bytes);
// The signature: a PNG or JPEG, 100..2000 px wide, 30..1000 px high, at least
// as wide as it is high.
Status CheckSignatureImage(std::span<const uint8_t> bytes);
// The exception photo of the hand whose fingers are declared missing or
// unusable: a PNG or JPEG of at most 1 MiB whose shorter side is at least
// 200 px. kInvalidArgument beginning "exception photo: ".
inline constexpr int kMinExceptionPhotoSide = 200;
inline constexpr size_t kMaxExceptionPhotoBytes = 1024 * 1024;
Status CheckExceptionPhoto(std::span<const uint8_t> bytes);

}  // namespace ektp::enrollment
