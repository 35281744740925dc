#include "enrollment/image.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace ektp::enrollment {
namespace {

struct JpegErrors {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void OnJpegError(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings are corrupt data libjpeg would paper over: they are errors here.
void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level < 0) OnJpegError(cinfo);
}

// Plain C state only between setjmp and longjmp: no destructor is skipped.
// Returns false with `errors->message` set on failure. Fills `rgb` (3 bytes
// a pixel) when it is not null.
bool DecodeJpegInto(std::span<const uint8_t> bytes, ImageSize* size, JpegErrors* errors,
                    std::vector<uint8_t>* rgb = nullptr) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&errors->base);
  errors->base.error_exit = OnJpegError;
  errors->base.emit_message = OnJpegMessage;
  errors->message[0] = '\0';
  if (setjmp(errors->jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.image_width > kMaxImageSide || cinfo.image_height > kMaxImageSide) {
    std::snprintf(errors->message, sizeof(errors->message), "it is %u x %u px; the limit is %d px a side",
                  cinfo.image_width, cinfo.image_height, kMaxImageSide);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (rgb != nullptr) cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const size_t row_bytes = size_t{cinfo.output_width} * cinfo.output_components;
  JSAMPARRAY row =
      (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE, row_bytes, 1);
  if (rgb != nullptr) rgb->reserve(row_bytes * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    jpeg_read_scanlines(&cinfo, row, 1);
    if (rgb != nullptr) rgb->insert(rgb->end(), row[0], row[0] + row_bytes);
  }
  jpeg_finish_decompress(&cinfo);
  *size = {static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height), cinfo.num_components};
  jpeg_destroy_decompress(&cinfo);
  return true;
}

std::string Dimensions(const ImageSize& size) {
  return std::to_string(size.width) + " x " + std::to_string(size.height) + " px";
}

StatusOr<RgbaImage> DecodePngPixels(std::span<const uint8_t> bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    std::string message = image.message;
    png_image_free(&image);
    return InvalidArgument("not a readable PNG image (" + message + ")");
  }
  if (image.width > kMaxImageSide || image.height > kMaxImageSide) {
    png_image_free(&image);
    return InvalidArgument("it is " + std::to_string(image.width) + " x " + std::to_string(image.height) +
                           " px; the limit is " + std::to_string(kMaxImageSide) + " px a side");
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    return InvalidArgument("not a readable PNG image (" + message + ")");
  }
  RgbaImage decoded{static_cast<int>(image.width), static_cast<int>(image.height), std::move(pixels)};
  png_image_free(&image);
  return decoded;
}

bool HasPngSignature(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0;
}

bool HasJpegSignature(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 0xFF && bytes[1] == 0xD8;
}

}  // namespace

StatusOr<ImageSize> DecodeJpeg(std::span<const uint8_t> bytes) {
  if (!HasJpegSignature(bytes)) return InvalidArgument("not a JPEG image");
  ImageSize size;
  JpegErrors errors;
  if (!DecodeJpegInto(bytes, &size, &errors)) {
    return InvalidArgument(std::string("not a readable JPEG image (") + errors.message + ")");
  }
  return size;
}

StatusOr<ImageSize> DecodePng(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(RgbaImage image, DecodePngPixels(bytes));
  return ImageSize{image.width, image.height, 4};
}

StatusOr<RgbaImage> DecodeToRgba(std::span<const uint8_t> bytes) {
  if (HasPngSignature(bytes)) return DecodePngPixels(bytes);
  if (!HasJpegSignature(bytes)) return InvalidArgument("neither a PNG nor a JPEG image");
  ImageSize size;
  JpegErrors errors;
  std::vector<uint8_t> rgb;
  if (!DecodeJpegInto(bytes, &size, &errors, &rgb)) {
    return InvalidArgument(std::string("not a readable JPEG image (") + errors.message + ")");
  }
  RgbaImage image{size.width, size.height, std::vector<uint8_t>(size_t(size.width) * size.height * 4)};
  for (size_t pixel = 0; pixel < size_t(size.width) * size.height; ++pixel) {
    std::copy_n(&rgb[pixel * 3], 3, &image.rgba[pixel * 4]);
    image.rgba[pixel * 4 + 3] = 255;
  }
  return image;
}

Status CheckFacePhoto(std::span<const uint8_t> bytes) {
  auto size = DecodeJpeg(bytes);
  if (!size.ok()) return size.status().WithContext("face photo");
  if (size->components != 3) return InvalidArgument("face photo: must be in colour, not greyscale; take it again");
  if (size->width < 240 || size->height < 320) {
    return InvalidArgument("face photo: is " + Dimensions(*size) + "; it must be at least 240 x 320 px");
  }
  // Portrait, height / width in [1.2, 1.5]: 35 x 45 mm is 1.29, 3:4 is 1.33, 4:5 is 1.25.
  if (5 * size->height < 6 * size->width || 2 * size->height > 3 * size->width) {
    return InvalidArgument("face photo: is " + Dimensions(*size) +
                           "; it must be portrait with height 1.2 to 1.5 times the width (e.g. 480 x 640)");
  }
  return Status::Ok();
}

Status CheckSignatureImage(std::span<const uint8_t> bytes) {
  bool png = HasPngSignature(bytes);
  auto size = png ? DecodePng(bytes) : DecodeJpeg(bytes);
  if (!size.ok()) {
    if (!png && size.status().message() == "not a JPEG image") {
      return InvalidArgument("signature image: is neither PNG nor JPEG");
    }
    return size.status().WithContext("signature image");
  }
  if (size->width < 100 || size->width > 2000 || size->height < 30 || size->height > 1000 ||
      size->width < size->height) {
    return InvalidArgument("signature image: is " + Dimensions(*size) +
                           "; it must be 100 to 2000 px wide, 30 to 1000 px high and at least as wide as high");
  }
  return Status::Ok();
}

Status CheckExceptionPhoto(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxExceptionPhotoBytes) {
    return InvalidArgument("exception photo: is " + std::to_string(bytes.size()) + " bytes; the limit is 1 MiB");
  }
  const bool png = HasPngSignature(bytes);
  auto size = png ? DecodePng(bytes) : DecodeJpeg(bytes);
  if (!size.ok()) {
    if (!png && size.status().message() == "not a JPEG image") {
      return InvalidArgument("exception photo: is neither a PNG nor a JPEG image");
    }
    return size.status().WithContext("exception photo");
  }
  if (std::min(size->width, size->height) < kMinExceptionPhotoSide) {
    return InvalidArgument("exception photo: is " + Dimensions(*size) + "; its shorter side must be at least " +
                           std::to_string(kMinExceptionPhotoSide) + " px to show the hand");
  }
  return Status::Ok();
}

}  // namespace ektp::enrollment
