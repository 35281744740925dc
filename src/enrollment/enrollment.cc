#include "enrollment/enrollment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "bio/quality.h"
#include "bio/template.h"
#include "core/json_reader.h"
#include "core/resident_json.h"
#include "core/text.h"
#include "enrollment/image.h"

namespace ektp::enrollment {
namespace {

constexpr std::string_view kFingerLabels[] = {"jempol kanan", "telunjuk kanan", "jari tengah kanan", "jari manis kanan",
                                              "kelingking kanan", "jempol kiri", "telunjuk kiri", "jari tengah kiri",
                                              "jari manis kiri", "kelingking kiri"};

constexpr std::pair<FingerException, std::string_view> kExceptions[] = {
    {FingerException::kNone, "none"},
    {FingerException::kAmputated, "amputated"},
    {FingerException::kBandaged, "bandaged"},
    {FingerException::kUnusable, "unusable"},
};

std::string FingerName(int position) {
  return "finger " + std::to_string(position) + " (" + std::string(FingerLabel(position)) + ")";
}

// The caps of TemplateCaps (enrollment.h): views, minutiae per view, and every
// minutia inside the image its view declares.
Status CheckTemplateCaps(const bio::TemplateRecord& record) {
  if (record.views.size() > kMaxTemplateViews) {
    return InvalidArgument("has " + std::to_string(record.views.size()) + " views; at most " +
                           std::to_string(kMaxTemplateViews) + " are accepted");
  }
  for (size_t view_idx = 0; view_idx < record.views.size(); ++view_idx) {
    const bio::FingerView& view = record.views[view_idx];
    std::string name = "view " + std::to_string(view_idx + 1);
    if (view.minutiae.size() > kMaxMinutiaePerView) {
      return InvalidArgument(name + " has " + std::to_string(view.minutiae.size()) + " minutiae; at most " +
                             std::to_string(kMaxMinutiaePerView) + " are accepted");
    }
    if (view.width == 0 || view.height == 0) {
      return InvalidArgument(name + " declares an image of " + std::to_string(view.width) + " x " +
                             std::to_string(view.height) + " px");
    }
    for (size_t minutia_idx = 0; minutia_idx < view.minutiae.size(); ++minutia_idx) {
      const bio::RecordMinutia& m = view.minutiae[minutia_idx];
      if (m.x >= view.width || m.y >= view.height) {
        return InvalidArgument(name + " minutia " + std::to_string(minutia_idx + 1) + " at (" + std::to_string(m.x) +
                               ", " + std::to_string(m.y) + ") lies outside its " + std::to_string(view.width) +
                               " x " + std::to_string(view.height) + " px image");
      }
    }
  }
  return Status::Ok();
}

// The base64 string field `name` of `json`, decoded.
StatusOr<crypto::Bytes> Base64Field(const JsonObject& json, std::string_view name) {
  ASSIGN_OR_RETURN(std::string_view text, json.String(name));
  auto bytes = crypto::Base64Decode(text);
  if (!bytes.ok()) return InvalidArgument(json.FieldPath(name) + " is not valid base64");
  return bytes;
}

// The body's `finger_quality` array; kInvalidArgument naming the entry.
StatusOr<std::vector<FingerQuality>> FingerQualityFromJson(const nlohmann::json& json) {
  if (!json.is_array()) return InvalidArgument("enrollment.finger_quality must be an array");
  if (json.size() > 10) return InvalidArgument("enrollment.finger_quality has more than 10 entries");
  std::vector<FingerQuality> out;
  std::set<int> seen;
  for (size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& item = json[i];
    const std::string name = "enrollment.finger_quality[" + std::to_string(i) + "]";
    auto integer = [&](const char* key, int low, int high) -> StatusOr<int> {
      if (!item.is_object() || !item.contains(key) || !item[key].is_number_integer() ||
          item[key].get<int64_t>() < low || item[key].get<int64_t>() > high) {
        return InvalidArgument(name + "." + key + " must be an integer " + std::to_string(low) + " to " +
                               std::to_string(high));
      }
      return static_cast<int>(item[key].get<int64_t>());
    };
    FingerQuality q;
    ASSIGN_OR_RETURN(q.position, integer("position", 1, 10));
    ASSIGN_OR_RETURN(q.score, integer("score", 0, 100));
    if (!seen.insert(q.position).second) return InvalidArgument(name + ": finger " + std::to_string(q.position) + " is given twice");
    out.push_back(q);
  }
  return out;
}

// The body's `finger_exceptions` object; kInvalidArgument naming the field.
StatusOr<ExceptionApproval> ExceptionApprovalFromJson(const nlohmann::json& json) {
  const std::string name = "enrollment.finger_exceptions";
  if (!json.is_object()) return InvalidArgument(name + " must be an object {fingers, approver, approved_at}");
  for (const auto& [key, value] : json.items()) {
    if (key != "fingers" && key != "approver" && key != "approved_at") {
      return InvalidArgument(name + "." + QuoteInput(key, 40) + " is not a known field (fingers, approver, approved_at)");
    }
  }
  ExceptionApproval approval;
  for (auto [key, field] : {std::pair{"approver", &ExceptionApproval::approver}, {"approved_at", &ExceptionApproval::approved_at}}) {
    if (!json.contains(key) || !json[key].is_string() || json[key].get<std::string>().empty()) {
      return InvalidArgument(name + "." + key + " must be a non-empty string");
    }
    approval.*field = json[key].get<std::string>();
  }
  if (!json.contains("fingers") || !json["fingers"].is_array() || json["fingers"].empty() || json["fingers"].size() > 10) {
    return InvalidArgument(name + ".fingers must be an array of 1 to 10 fingers");
  }
  std::set<int> seen;
  for (size_t i = 0; i < json["fingers"].size(); ++i) {
    const nlohmann::json& item = json["fingers"][i];
    const std::string at = name + ".fingers[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("position") || !item["position"].is_number_integer() ||
        item["position"].get<int64_t>() < 1 || item["position"].get<int64_t>() > 10) {
      return InvalidArgument(at + ".position must be an integer 1 to 10");
    }
    if (!item.contains("exception") || !item["exception"].is_string()) {
      return InvalidArgument(at + ".exception must be a string");
    }
    ExceptedFinger finger{static_cast<int>(item["position"].get<int64_t>()), FingerException::kNone};
    ASSIGN_OR_RETURN(finger.exception, ParseFingerException(item["exception"].get<std::string>()));
    if (finger.exception == FingerException::kNone) return InvalidArgument(at + ".exception may not be none");
    if (!seen.insert(finger.position).second) {
      return InvalidArgument(at + ": finger " + std::to_string(finger.position) + " is given twice");
    }
    approval.fingers.push_back(finger);
  }
  std::ranges::sort(approval.fingers, {}, &ExceptedFinger::position);
  return approval;
}

}  // namespace

std::string_view FingerExceptionName(FingerException exception) {
  for (const auto& [e, name] : kExceptions) {
    if (e == exception) return name;
  }
  return "?";
}

StatusOr<FingerException> ParseFingerException(std::string_view name) {
  for (const auto& [e, n] : kExceptions) {
    if (n == name) return e;
  }
  return InvalidArgument("finger exception '" + QuoteInput(name) + "' is not one of none, amputated, bandaged, unusable");
}

std::string_view FingerLabel(int position) {
  return position >= 1 && position <= 10 ? kFingerLabels[position - 1] : "posisi tidak dikenal";
}

Status ValidateBiometrics(const Biometrics& b) {
  if (b.face_jpeg.empty()) return InvalidArgument("face photo is missing");
  if (b.face_jpeg.size() > kMaxImageBytes) {
    return InvalidArgument("face photo is " + std::to_string(b.face_jpeg.size()) + " bytes; the limit is 1 MiB");
  }
  RETURN_IF_ERROR(CheckFacePhoto(b.face_jpeg));
  if (b.signature_image.empty()) return InvalidArgument("signature image is missing");
  if (b.signature_image.size() > kMaxImageBytes) return InvalidArgument("signature image is larger than 1 MiB");
  RETURN_IF_ERROR(CheckSignatureImage(b.signature_image));
  if (b.fingers.size() > 10) return InvalidArgument("at most 10 fingers, got " + std::to_string(b.fingers.size()));
  std::set<int> seen;
  size_t templates = 0;
  for (const FingerCapture& finger : b.fingers) {
    if (finger.position < 1 || finger.position > 10) {
      return InvalidArgument("finger position " + std::to_string(finger.position) + " is not in 1-10");
    }
    if (!seen.insert(finger.position).second) return InvalidArgument(FingerName(finger.position) + " is given twice");
    if (finger.exception != FingerException::kNone) {
      if (!finger.template_bytes.empty()) {
        return InvalidArgument(FingerName(finger.position) + " has both a template and the exception " +
                               std::string(FingerExceptionName(finger.exception)));
      }
      continue;
    }
    if (finger.template_bytes.empty()) {
      return InvalidArgument(FingerName(finger.position) + " has no template; capture it or record an exception");
    }
    auto record = bio::DecodeTemplate(finger.template_bytes);
    if (!record.ok()) {
      return InvalidArgument(FingerName(finger.position) + ": template is unreadable (" + record.status().message() +
                             "); capture the finger again");
    }
    if (record->views.empty() || record->views[0].minutiae.empty()) {
      return InvalidArgument(FingerName(finger.position) + ": template has no minutiae; capture the finger again");
    }
    RETURN_IF_ERROR(CheckTemplateCaps(*record).WithContext(FingerName(finger.position) + ": template"));
    ++templates;
  }
  if (templates == 0 && b.fingers.size() < 10) {
    return InvalidArgument("no fingerprint template; capture at least one finger or record an exception for all 10");
  }
  if (!b.exception_photo.empty()) {
    if (templates == b.fingers.size()) {
      return InvalidArgument("exception photo: given, but no finger is declared an exception; leave it out");
    }
    RETURN_IF_ERROR(CheckExceptionPhoto(b.exception_photo));
  }
  return Status::Ok();
}

std::vector<ExceptedFinger> ExceptedFingers(const Biometrics& b) {
  std::vector<ExceptedFinger> out;
  for (const FingerCapture& finger : b.fingers) {
    if (finger.exception != FingerException::kNone) out.push_back({finger.position, finger.exception});
  }
  std::ranges::sort(out, {}, &ExceptedFinger::position);
  return out;
}

std::string ExceptedFingersText(const std::vector<ExceptedFinger>& fingers) {
  std::string out;
  for (const ExceptedFinger& f : fingers) {
    out += (out.empty() ? "" : ",") + std::to_string(f.position) + ":" + std::string(FingerExceptionName(f.exception));
  }
  return out;
}

Status CheckExceptionDeclaration(const Enrollment& e, const Biometrics* opened) {
  if (e.exception_approval && e.exception_approval->approver == e.operator_name) {
    return InvalidArgument("enrollment " + e.registration_number + ": its finger exceptions were approved by its own "
                           "operator " + e.operator_name + "; an exception needs a second person's approval");
  }
  if (opened == nullptr) return Status::Ok();
  const Biometrics& b = *opened;
  const std::vector<ExceptedFinger> held = ExceptedFingers(b);
  if (!e.exception_approval) {
    if (!b.exception_photo.empty() && held.empty()) {
      return InvalidArgument("enrollment " + e.registration_number +
                             " carries an exception photo but declares no finger exception");
    }
    return Status::Ok();
  }
  const ExceptionApproval& approval = *e.exception_approval;
  if (approval.fingers != held) {
    return InvalidArgument("enrollment " + e.registration_number + " declares the finger exceptions " +
                           ExceptedFingersText(approval.fingers) + " but its sealed biometrics hold " +
                           (held.empty() ? std::string("none") : ExceptedFingersText(held)));
  }
  if (b.exception_photo.empty()) {
    return InvalidArgument("enrollment " + e.registration_number + " declares the finger exceptions " +
                           ExceptedFingersText(held) + " without the exception photo of the hand");
  }
  return CheckExceptionPhoto(b.exception_photo).WithContext("enrollment " + e.registration_number);
}

namespace {

// The finger's first view assessed, or none when the template does not decode
// or holds no view.
std::optional<bio::CaptureQualityReport> AssessFinger(const FingerCapture& finger) {
  if (finger.exception != FingerException::kNone || finger.template_bytes.empty()) return std::nullopt;
  auto record = bio::DecodeTemplate(finger.template_bytes);
  if (!record.ok() || record->views.empty()) return std::nullopt;
  return bio::AssessCaptureQuality(record->views[0], record->format);
}

// What is wrong, in English, for the API.
std::string QualityProblem(const bio::CaptureQualityReport& r) {
  switch (r.issue) {
    case bio::QualityIssue::kNoMinutiae: return "the template holds no minutiae";
    case bio::QualityIssue::kResolution: return "the template declares a resolution no sensor has";
    case bio::QualityIssue::kNoArea: return "its minutiae lie on one point or one line";
    case bio::QualityIssue::kNone: break;
  }
  char detail[160];
  switch (r.weakest) {
    case bio::QualityFactor::kCount:
      std::snprintf(detail, sizeof(detail), "%zu minutiae of the %.0f a full capture has", r.minutiae,
                    bio::kQualityFullCount);
      break;
    case bio::QualityFactor::kArea:
      std::snprintf(detail, sizeof(detail), "the minutiae cover %.0f mm^2 of the %.0f a full capture has", r.area_mm2,
                    bio::kQualityFullAreaMm2);
      break;
    case bio::QualityFactor::kMinutiaQuality:
      std::snprintf(detail, sizeof(detail), "mean minutia quality %.0f of 100", 100 * r.minutia_quality_share);
      break;
  }
  return detail;
}

// What the operator should do, in Bahasa Indonesia.
std::string_view QualityAdvice(const bio::CaptureQualityReport& r) {
  switch (r.issue) {
    case bio::QualityIssue::kNoMinutiae:
    case bio::QualityIssue::kNoArea:
    case bio::QualityIssue::kResolution: return "templat tidak dapat dibandingkan; periksa pemindai";
    case bio::QualityIssue::kNone: break;
  }
  switch (r.weakest) {
    case bio::QualityFactor::kCount: return "bersihkan jari dan pemindai";
    case bio::QualityFactor::kArea: return "letakkan jari lebih rata dan tekan hingga ujung jari menutup pemindai";
    case bio::QualityFactor::kMinutiaQuality: return "bersihkan jari dan pemindai; bila jari kering, lembapkan sedikit";
  }
  return "bersihkan jari dan pemindai";
}

}  // namespace

std::vector<FingerQuality> AssessFingerQuality(const Biometrics& b) {
  std::vector<FingerQuality> out;
  for (const FingerCapture& finger : b.fingers) {
    if (auto report = AssessFinger(finger)) out.push_back({finger.position, report->whole_score()});
  }
  return out;
}

std::optional<QualityRefusal> CheckCaptureQuality(const Biometrics& b, int min_quality) {
  if (min_quality <= 0) return std::nullopt;
  std::vector<const FingerCapture*> fingers;
  for (const FingerCapture& finger : b.fingers) fingers.push_back(&finger);
  std::ranges::sort(fingers, {}, &FingerCapture::position);
  for (const FingerCapture* finger : fingers) {
    auto report = AssessFinger(*finger);
    if (!report || report->score >= min_quality) continue;
    QualityRefusal refusal;
    refusal.position = finger->position;
    refusal.score = report->whole_score();
    refusal.min_quality = min_quality;
    refusal.field = "finger_" + std::to_string(finger->position);
    const std::string score = std::to_string(refusal.score), min = std::to_string(min_quality);
    refusal.error = refusal.field + " (" + std::string(FingerLabel(finger->position)) + "): capture quality " + score +
                    " is below this station's minimum " + min + " (" + QualityProblem(*report) +
                    "); capture the finger again, or record an exception for it";
    refusal.pesan = "Kualitas sidik jari " + std::string(FingerLabel(finger->position)) + " rendah (skor " + score +
                    " < " + min + "): " + std::string(QualityAdvice(*report)) +
                    ", lalu rekam ulang. Bila jari tidak dapat direkam dengan baik, catat pengecualian untuk jari ini.";
    return refusal;
  }
  return std::nullopt;
}

Bytes SerializeBiometrics(const Biometrics& b) {
  nlohmann::json fingers = nlohmann::json::array();
  for (const FingerCapture& finger : b.fingers) {
    fingers.push_back({{"position", finger.position},
                       {"exception", FingerExceptionName(finger.exception)},
                       {"template", crypto::Base64Encode(finger.template_bytes)}});
  }
  nlohmann::json json = {{"face_jpeg", crypto::Base64Encode(b.face_jpeg)},
                         {"signature_image", crypto::Base64Encode(b.signature_image)},
                         {"fingers", fingers}};
  if (!b.exception_photo.empty()) json["exception_photo"] = crypto::Base64Encode(b.exception_photo);
  std::string text = json.dump();
  return Bytes(text.begin(), text.end());
}

StatusOr<Biometrics> ParseBiometrics(std::span<const uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSIGN_OR_RETURN(auto document, JsonDocument::ParseObject(text, "biometrics"));
  JsonObject json = document->root();
  Biometrics b;
  ASSIGN_OR_RETURN(b.face_jpeg, Base64Field(json, "face_jpeg"));
  ASSIGN_OR_RETURN(b.signature_image, Base64Field(json, "signature_image"));
  ASSIGN_OR_RETURN(std::vector<JsonObject> fingers, json.Objects("fingers"));
  for (const JsonObject& item : fingers) {
    FingerCapture finger;
    ASSIGN_OR_RETURN(int64_t position, item.Int("position"));
    if (position < 1 || position > 10) {
      return InvalidArgument("finger position " + std::to_string(position) + " is not in 1-10");
    }
    finger.position = static_cast<int>(position);
    ASSIGN_OR_RETURN(std::string_view exception, item.String("exception"));
    ASSIGN_OR_RETURN(finger.exception, ParseFingerException(exception));
    ASSIGN_OR_RETURN(finger.template_bytes, Base64Field(item, "template"));
    b.fingers.push_back(std::move(finger));
  }
  if (json.Has("exception_photo")) {
    ASSIGN_OR_RETURN(b.exception_photo, Base64Field(json, "exception_photo"));
  }
  return b;
}

Status ValidateApplication(const Enrollment& e, const RegionRegistry& regions, std::chrono::year_month_day today) {
  RETURN_IF_ERROR(ValidateResident(e.resident, regions, today));
  if (NeedsPreviousNik(e.kind)) {
    if (e.previous_nik.empty()) {
      return InvalidArgument("previous_nik: a " + std::string(ApplicationKindName(e.kind)) +
                             " application needs the resident's existing NIK");
    }
    auto nik = ParseNik(e.previous_nik, regions, today);
    if (!nik.ok()) return nik.status().WithContext("previous_nik");
  } else {
    if (!e.previous_nik.empty()) return InvalidArgument("previous_nik: a first card has no previous NIK");
    if (!e.resident.nik.empty()) return InvalidArgument("nik: central assigns the NIK of a first card; leave it empty");
    RETURN_IF_ERROR(CheckEligibility(e.resident, today));
  }
  return Status::Ok();
}

std::string EnrollmentToJson(const Enrollment& e) {
  nlohmann::json json = {
      {"registration_number", e.registration_number},
      {"station_id", e.station_id},
      {"operator", e.operator_name},
      {"captured_at", e.captured_at},
      {"application_kind", ApplicationKindName(e.kind)},
      {"previous_nik", e.previous_nik},
      {"resident", ResidentToJson(e.resident)},
      {"sealed_biometrics", crypto::Base64Encode(e.sealed_biometrics)},
  };
  if (e.location) json["location"] = LocationToJson(*e.location);
  if (e.review) {
    json["review"] = {{"decision", "approved"}, {"reviewer", e.review->reviewer}, {"decided_at", e.review->decided_at}};
  }
  if (!e.finger_quality.empty()) {
    nlohmann::json quality = nlohmann::json::array();
    for (const FingerQuality& q : e.finger_quality) quality.push_back({{"position", q.position}, {"score", q.score}});
    json["finger_quality"] = std::move(quality);
  }
  if (e.exception_approval) {
    nlohmann::json fingers = nlohmann::json::array();
    for (const ExceptedFinger& f : e.exception_approval->fingers) {
      fingers.push_back({{"position", f.position}, {"exception", FingerExceptionName(f.exception)}});
    }
    json["finger_exceptions"] = {{"fingers", std::move(fingers)},
                                 {"approver", e.exception_approval->approver},
                                 {"approved_at", e.exception_approval->approved_at}};
  }
  return json.dump();
}

StatusOr<Enrollment> EnrollmentFromJson(std::string_view text) {
  ASSIGN_OR_RETURN(auto document, JsonDocument::ParseObject(text, "enrollment"));
  JsonObject json = document->root();
  Enrollment e;
  ASSIGN_OR_RETURN(e.registration_number, json.String("registration_number"));
  ASSIGN_OR_RETURN(e.station_id, json.String("station_id"));
  ASSIGN_OR_RETURN(e.operator_name, json.String("operator"));
  ASSIGN_OR_RETURN(e.captured_at, json.String("captured_at"));
  ASSIGN_OR_RETURN(std::string_view kind, json.String("application_kind"));
  ASSIGN_OR_RETURN(e.kind, ParseApplicationKind(kind));
  ASSIGN_OR_RETURN(e.previous_nik, json.StringOr("previous_nik", ""));
  ASSIGN_OR_RETURN(nlohmann::json resident, json.Value("resident"));
  ASSIGN_OR_RETURN(e.resident, ResidentFromJson(resident));
  ASSIGN_OR_RETURN(e.sealed_biometrics, Base64Field(json, "sealed_biometrics"));
  if (json.Has("location")) {
    ASSIGN_OR_RETURN(nlohmann::json location, json.Value("location"));
    ASSIGN_OR_RETURN(e.location, LocationFromJson(location));
  }
  if (json.Has("review")) {
    ASSIGN_OR_RETURN(nlohmann::json review, json.Value("review"));
    auto text = [&](const char* key) -> StatusOr<std::string> {
      if (!review.is_object() || !review.contains(key) || !review[key].is_string() || review[key].get<std::string>().empty()) {
        return InvalidArgument(std::string("enrollment.review.") + key + " must be a non-empty string");
      }
      return review[key].get<std::string>();
    };
    ASSIGN_OR_RETURN(std::string decision, text("decision"));
    if (decision != "approved") {
      return InvalidArgument("enrollment.review.decision is '" + QuoteInput(decision, 40) +
                             "'; only approved enrollments may be sent");
    }
    ReviewApproval approval;
    ASSIGN_OR_RETURN(approval.reviewer, text("reviewer"));
    ASSIGN_OR_RETURN(approval.decided_at, text("decided_at"));
    e.review = std::move(approval);
  }
  if (json.Has("finger_quality")) {
    ASSIGN_OR_RETURN(nlohmann::json quality, json.Value("finger_quality"));
    ASSIGN_OR_RETURN(e.finger_quality, FingerQualityFromJson(quality));
  }
  if (json.Has("finger_exceptions")) {
    ASSIGN_OR_RETURN(nlohmann::json exceptions, json.Value("finger_exceptions"));
    ASSIGN_OR_RETURN(e.exception_approval, ExceptionApprovalFromJson(exceptions));
  }
  return e;
}

Status ValidateCoordinates(double lat, double lon, std::string_view prefix) {
  if (!std::isfinite(lat) || lat < -90 || lat > 90) return InvalidArgument(std::string(prefix) + "lat must be -90 to 90 degrees");
  if (!std::isfinite(lon) || lon < -180 || lon > 180) {
    return InvalidArgument(std::string(prefix) + "lon must be -180 to 180 degrees");
  }
  return Status::Ok();
}

Status ValidateLocation(const Location& l) {
  RETURN_IF_ERROR(ValidateCoordinates(l.lat, l.lon, "location."));
  if (!std::isfinite(l.accuracy_m) || l.accuracy_m <= 0 || l.accuracy_m > kMaxLocationAccuracyM) {
    return InvalidArgument("location.accuracy_m must be more than 0 and at most 100000 metres");
  }
  return Status::Ok();
}

StatusOr<Location> LocationFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgument("location must be {\"lat\", \"lon\", \"accuracy_m\"}");
  for (const auto& [key, value] : json.items()) {
    if (key != "lat" && key != "lon" && key != "accuracy_m") {
      return InvalidArgument("location." + QuoteInput(key, 40) + " is not a known field (lat, lon, accuracy_m)");
    }
  }
  Location location;
  for (auto [key, field] : {std::pair{"lat", &Location::lat}, {"lon", &Location::lon}, {"accuracy_m", &Location::accuracy_m}}) {
    if (!json.contains(key) || !json[key].is_number()) return InvalidArgument(std::string("location.") + key + " must be a number");
    location.*field = json[key].get<double>();
  }
  RETURN_IF_ERROR(ValidateLocation(location));
  return location;
}

nlohmann::json LocationToJson(const Location& l) {
  return {{"lat", l.lat}, {"lon", l.lon}, {"accuracy_m", l.accuracy_m}};
}

}  // namespace ektp::enrollment
