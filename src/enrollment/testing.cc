#include "enrollment/testing.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <jpeglib.h>
#include <png.h>

#include "core/synthetic_resident.h"
#include "core/testing.h"

namespace ektp::enrollment::testing {
namespace {

}  // namespace

std::string RegistrationNumber(const std::string& station_id, int64_t local_sequence) {
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%06lld", static_cast<long long>(local_sequence));
  return station_id + "-" + suffix;
}

Bytes FvcTemplate(int db, int finger, int impression) {
  return ::ektp::testing::ReadFileBytes(::ektp::testing::FvcDir() / ("DB" + std::to_string(db) + "_B") /
                                        (std::to_string(finger) + "_" + std::to_string(impression) + ".iso"));
}

Bytes SolidJpeg(int width, int height, int components, uint8_t shade) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * components);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(shade + 40 * (i % components));
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  jpeg_mem_dest(&cinfo, &out, &out_size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 75, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = pixels.data() + static_cast<size_t>(cinfo.next_scanline) * width * components;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes jpeg(out, out + out_size);
  std::free(out);
  return jpeg;
}

Bytes SampleFaceJpeg(size_t size, Random& random) {
  Bytes jpeg = SolidJpeg(240, 320, 3, static_cast<uint8_t>(random.Uniform(200)));
  // Comment segments (FF FE, at most 65,535 bytes each) after SOI bring the file to `size`.
  Bytes padding;
  while (jpeg.size() + padding.size() + 4 < size) {
    size_t payload = std::min<size_t>(65533, size - jpeg.size() - padding.size() - 4);
    padding.insert(padding.end(), {0xFF, 0xFE, static_cast<uint8_t>((payload + 2) >> 8),
                                   static_cast<uint8_t>((payload + 2) & 0xFF)});
    for (size_t i = 0; i < payload; ++i) padding.push_back(static_cast<uint8_t>(random.Uniform(256)));
  }
  jpeg.insert(jpeg.begin() + 2, padding.begin(), padding.end());
  return jpeg;
}

Bytes SampleSignaturePng(Random& random) {
  constexpr int kWidth = 300, kHeight = 100;
  std::vector<uint8_t> pixels(kWidth * kHeight, 255);
  for (int x = 20; x < kWidth - 20; ++x) pixels[(40 + random.Uniform(20)) * kWidth + x] = 0;  // a stroke
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = kWidth;
  image.height = kHeight;
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr);
  Bytes png(size);
  png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(), 0, nullptr);
  png.resize(size);
  return png;
}

Biometrics SampleBiometrics(int subject, size_t face_bytes, Random& random) {
  Biometrics b;
  b.face_jpeg = SampleFaceJpeg(face_bytes, random);
  b.signature_image = SampleSignaturePng(random);
  b.fingers.push_back({2, FvcTemplate(1, 101 + subject % 10, 1), FingerException::kNone});
  b.fingers.push_back({7, FvcTemplate(2, 101 + subject % 10, 1), FingerException::kNone});
  return b;
}

Enrollment SampleEnrollment(const std::string& station_id, int64_t local_sequence,
                            std::span<const uint8_t> central_sealing_key, Random& random,
                            std::chrono::year_month_day today, size_t face_bytes) {
  Enrollment e;
  e.registration_number = RegistrationNumber(station_id, local_sequence);
  e.station_id = station_id;
  e.operator_name = "ani";
  e.captured_at = "2026-11-24T02:00:00Z";
  e.kind = ApplicationKind::kFirstCard;
  e.resident = SyntheticResident(RegionRegistry::Default(), "35.21", random, today);
  e.sealed_biometrics =
      crypto::Seal(central_sealing_key, SerializeBiometrics(SampleBiometrics(static_cast<int>(local_sequence), face_bytes, random)));
  return e;
}

}  // namespace ektp::enrollment::testing
