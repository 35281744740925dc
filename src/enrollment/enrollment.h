// An enrollment: what an operator captures for one application, checked the
// same way at the station (at capture) and at central (at ingest).
//
// The biometric part (face photo, signature image, fingerprint templates and
// per-finger exceptions) is serialised and sealed to central's key before it
// is stored at the station; only `sealed_biometrics` travels or rests there.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/application.h"
#include "core/region.h"
#include "core/resident.h"
#include "crypto/crypto.h"

namespace ektp::enrollment {

using crypto::Bytes;

// Why a finger has no template.
enum class FingerException { kNone, kAmputated, kBandaged, kUnusable };
std::string_view FingerExceptionName(FingerException exception);  // "none", "amputated", ...
StatusOr<FingerException> ParseFingerException(std::string_view name);

// ISO finger position 1..10 as a Bahasa Indonesia label: "jempol kanan", ...
std::string_view FingerLabel(int position);

struct FingerCapture {
  int position = 0;       // 1 right thumb .. 5 right little, 6 left thumb .. 10 left little
  Bytes template_bytes;   // ISO 19794-2 or ANSI 378 record; empty when exception != kNone
  FingerException exception = FingerException::kNone;
};

struct Biometrics {
  Bytes face_jpeg;
  Bytes signature_image;  // PNG or JPEG
  std::vector<FingerCapture> fingers;
};

inline constexpr size_t kMaxImageBytes = 1024 * 1024;
// Template caps (docs/enrollment.md, "Templates"): one finger's record holds
// at most this many views, each with at most this many minutiae, every one
// inside the image its view declares.
inline constexpr size_t kMaxTemplateViews = 4;
inline constexpr size_t kMaxMinutiaePerView = 128;

// Checks images (decoded: enrollment/image.h) and templates (decoded and
// capped). Messages name the part and say what to do, e.g.
// "finger 7 (telunjuk kiri): template is truncated at byte 120 ...".
// The station runs it at capture and central at ingest: the rules are one.
Status ValidateBiometrics(const Biometrics& biometrics);

Bytes SerializeBiometrics(const Biometrics& biometrics);
StatusOr<Biometrics> ParseBiometrics(std::span<const uint8_t> bytes);

struct Enrollment {
  std::string registration_number;  // "<station id>-<local sequence>"
  std::string station_id;
  std::string operator_name;
  std::string captured_at;  // ISO 8601 UTC
  ApplicationKind kind = ApplicationKind::kFirstCard;
  std::string previous_nik;  // required unless kind is kFirstCard
  Resident resident;
  Bytes sealed_biometrics;   // SerializeBiometrics() sealed to central
};

// Demographics, eligibility and the application's own rules.
Status ValidateApplication(const Enrollment& enrollment, const RegionRegistry& regions,
                           std::chrono::year_month_day today);

std::string EnrollmentToJson(const Enrollment& enrollment);
StatusOr<Enrollment> EnrollmentFromJson(std::string_view text);

}  // namespace ektp::enrollment
