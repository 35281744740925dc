// Sample enrollments for tests and benchmarks: FVC2002 templates from
// ../shared/data (core/testing.h),
// a real face photo of a chosen size, a real signature PNG and a synthetic
// resident. The images pass the checks of enrollment/image.h.
#pragma once

#include "core/clock.h"
#include "enrollment/enrollment.h"

namespace ektp::enrollment::testing {

// The FVC2002 template DB<db>_B/<finger>_<impression>.iso, or empty if there is no such file.
Bytes FvcTemplate(int db, int finger, int impression);

// A JPEG of one shade, `components` 1 (grey) or 3 (colour).
Bytes SolidJpeg(int width, int height, int components, uint8_t shade);
// A 240 x 320 colour JPEG of one random colour, padded with comment
// segments of random bytes to `size` bytes (or its natural size, about 1 KB,
// if that is larger).
Bytes SampleFaceJpeg(size_t size, Random& random);
// A 300 x 100 greyscale PNG with one stroke.
Bytes SampleSignaturePng(Random& random);

// Biometrics with two FVC fingers of subject `subject` (0..9 of DB1) and a
// face photo of `face_bytes`.
Biometrics SampleBiometrics(int subject, size_t face_bytes, Random& random);

// A first-card enrollment of a synthetic resident of `regency_code` with
// biometrics sealed to `central_sealing_key`.
Enrollment SampleEnrollment(const std::string& station_id, int64_t local_sequence, std::span<const uint8_t> central_sealing_key,
                            Random& random, std::chrono::year_month_day today, size_t face_bytes = 24 * 1024);

// "<station>-<sequence zero-padded to 6>"
std::string RegistrationNumber(const std::string& station_id, int64_t local_sequence);

}  // namespace ektp::enrollment::testing
