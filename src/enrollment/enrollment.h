// An enrollment: what an operator captures for one application, checked the
// same way at the station (at capture) and at central (at ingest).
//
// The biometric part (face photo, signature image, fingerprint templates and
// per-finger exceptions) is serialised and sealed to central's key before it
// is stored at the station; only `sealed_biometrics` travels or rests there.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/application.h"
#include "core/region.h"
#include "core/resident.h"
#include "crypto/crypto.h"

#include <nlohmann/json_fwd.hpp>

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
  // A photo of the hand(s) whose fingers are declared an exception (PNG or
  // JPEG, image.h CheckExceptionPhoto); empty when no finger is. Serialised
  // only when not empty, so biometrics without it read as before.
  Bytes exception_photo;
};

// One finger declared missing or unusable.
struct ExceptedFinger {
  int position = 0;  // ISO 1..10
  FingerException exception = FingerException::kNone;
  friend bool operator==(const ExceptedFinger&, const ExceptedFinger&) = default;
};
// The fingers `biometrics` declares an exception, ascending by position.
std::vector<ExceptedFinger> ExceptedFingers(const Biometrics& biometrics);
// "7:amputated,8:bandaged" (the audit's and the messages' form).
std::string ExceptedFingersText(const std::vector<ExceptedFinger>& fingers);

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

// Capture quality (docs/enrollment.md, "Capture quality"): each captured
// finger's bio::AssessCaptureQuality of its first view, 0..100 rounded down.
struct FingerQuality {
  int position = 0;  // ISO 1..10
  int score = 0;     // 0..100
  friend bool operator==(const FingerQuality&, const FingerQuality&) = default;
};
// One entry per finger with a template that decodes, in the order given;
// fingers declared an exception have none. REQUIRES nothing: a template that
// does not decode is skipped (ValidateBiometrics refuses it).
std::vector<FingerQuality> AssessFingerQuality(const Biometrics& biometrics);

// Why a finger is refused for its capture quality: `error` in precise English
// for the API and logs, `pesan` in Bahasa Indonesia for the operator, both
// naming the finger and saying what to do; `field` the form part
// ("finger_2").
struct QualityRefusal {
  int position = 0;
  int score = 0;
  int min_quality = 0;
  std::string field;
  std::string error;
  std::string pesan;
};
// The first captured finger (lowest position) whose quality is below
// `min_quality`, or none; min_quality <= 0 refuses nothing. Fingers declared
// an exception carry no template and are never refused.
std::optional<QualityRefusal> CheckCaptureQuality(const Biometrics& biometrics, int min_quality);

// Where the station stood when it captured the enrollment: a mobile van's GPS
// fix, when it had one (docs/enrollment.md, "Location").
struct Location {
  double lat = 0;         // degrees north, -90..90 (WGS 84)
  double lon = 0;         // degrees east, -180..180
  double accuracy_m = 0;  // the fix's stated accuracy radius, metres, > 0 and <= kMaxLocationAccuracyM
};
inline constexpr double kMaxLocationAccuracyM = 100'000;
// kInvalidArgument naming the field ("location.lat must be ...").
Status ValidateLocation(const Location& location);
// Degrees in range: kInvalidArgument "<prefix>lat must be -90 to 90 degrees" (or lon).
Status ValidateCoordinates(double lat, double lon, std::string_view prefix);
// {"lat", "lon", "accuracy_m"}, numbers only; kInvalidArgument naming the
// field for anything else, a missing field or an out-of-range value.
StatusOr<Location> LocationFromJson(const nlohmann::json& json);
nlohmann::json LocationToJson(const Location& location);

// A supervisor's approval of an enrollment before it went up, at a station
// whose policy requires review (station/station.h, EnrollmentPolicy). Only
// approved enrollments travel, so a packet's review always approves.
struct ReviewApproval {
  std::string reviewer;    // the supervisor's username at the station
  std::string decided_at;  // ISO 8601 UTC, the station's clock
};

// A second person's approval of the finger exceptions an enrollment
// declares (docs/enrollment.md, "Finger exceptions"): a supervisor at the
// station, authenticated as themselves, who is not the operator.
struct ExceptionApproval {
  std::vector<ExceptedFinger> fingers;  // the fingers approved, ascending by position, never empty
  std::string approver;                 // the supervisor's username at the station
  std::string approved_at;              // ISO 8601 UTC, the station's clock
};

struct Enrollment {
  std::string registration_number;  // "<station id>-<local sequence>"
  std::string station_id;
  std::string operator_name;
  std::string captured_at;  // ISO 8601 UTC
  ApplicationKind kind = ApplicationKind::kFirstCard;
  std::string previous_nik;  // required unless kind is kFirstCard
  Resident resident;
  Bytes sealed_biometrics;   // SerializeBiometrics() sealed to central
  // Enrollment body version 2 (sync/packet.h): both absent in version 1.
  std::optional<Location> location;      // absent without a GPS fix
  std::optional<ReviewApproval> review;  // absent where review is not required
  // Enrollment body version 3: the capture quality of each captured finger
  // (AssessFingerQuality), recorded by the station; empty in versions 1-2.
  std::vector<FingerQuality> finger_quality;
  // Enrollment body version 4: the finger exceptions declared and their
  // approval; absent when no finger is an exception, and in versions 1-3.
  std::optional<ExceptionApproval> exception_approval;
};

// Central's check of a packet's declared exceptions against its opened
// biometrics (docs/sync-format.md, "enrollment", version 4). With an
// approval: the approver is not the operator, the declared fingers are
// exactly those the biometrics hold as exceptions, and the exception photo
// is there and decodes. Without one: the biometrics may hold exceptions (a
// body of versions 1-3; central counts them unapproved) but no exception
// photo without an exception. kInvalidArgument naming what differs.
// `biometrics` null (they did not open): only the approver is checked.
Status CheckExceptionDeclaration(const Enrollment& enrollment, const Biometrics* biometrics);

// Demographics, eligibility and the application's own rules.
Status ValidateApplication(const Enrollment& enrollment, const RegionRegistry& regions,
                           std::chrono::year_month_day today);

// The enrollment packet's body (docs/sync-format.md, "enrollment"). Version 2
// adds the optional `location` and `review` objects; a version 1 body (neither)
// decodes as before. A review whose decision is not "approved" is refused.
// Version 3 adds the optional `finger_quality` array ({"position": 1..10,
// "score": 0..100}, each position at most once); without it (versions 1 and
// 2) `finger_quality` decodes empty. Written only when non-empty.
// Version 4 adds the optional `finger_exceptions` object ({"fingers":
// [{"position", "exception"}], "approver", "approved_at"}); without it
// (versions 1-3) `exception_approval` decodes absent. Written only when set.
std::string EnrollmentToJson(const Enrollment& enrollment);
StatusOr<Enrollment> EnrollmentFromJson(std::string_view text);

}  // namespace ektp::enrollment
