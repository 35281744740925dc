// Operators' own fingerprints: enrolling them, logging in by one finger, and
// refusing an enrollment whose applicant is the operator recording it.
// docs/security.md, "Operators accountable by fingerprint".
#include <algorithm>

#include "bio/fusion.h"
#include "bio/template.h"
#include "service/log.h"
#include "service/metrics.h"
#include "station/finger_features.h"
#include "station/station.h"

namespace ektp::station {
namespace {

service::Counter& SelfEnrollmentsRefused() {
  static service::Counter& refused = service::MetricsRegistry::Default().GetCounter(
      "ektp_station_self_enrollments_refused_total",
      "Enrollments refused because the applicant's fingerprints matched the operator's own");
  return refused;
}

std::string FingerName(int position) {
  return "finger " + std::to_string(position) + " (" + std::string(enrollment::FingerLabel(position)) + ")";
}

std::string FingerNames(const std::vector<int>& positions, std::string (*name)(int)) {
  std::string out;
  for (int position : positions) out += (out.empty() ? "" : ", ") + name(position);
  return out;
}

std::string JariName(int position) { return std::string(enrollment::FingerLabel(position)); }

std::vector<int> ParsePositions(const std::string& text) {
  std::vector<int> positions;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) positions.push_back(std::atoi(text.substr(start, comma - start).c_str()));
    start = comma + 1;
  }
  return positions;
}

constexpr std::string_view kNoFingerprints =
    "no fingerprint is enrolled for this username at this station; log in with the password, or ask the admin to "
    "enroll yours (`ektp station operator fingerprints`)";

}  // namespace

StatusOr<bio::FingerFeatures> DecodeFinger(const card::ChipFinger& finger, std::string_view whose) {
  const std::string what = std::string(whose) + " finger " + std::to_string(finger.position);
  auto record = bio::DecodeTemplate(finger.template_bytes);
  if (!record.ok()) return InvalidArgument(what + ": " + std::string(record.status().message()));
  if (record->views.empty()) return InvalidArgument(what + ": the template holds no finger view");
  auto decoded = bio::FingerFeatures::FromView(record->views[0], record->format);
  if (!decoded.ok()) return InvalidArgument(what + ": " + std::string(decoded.status().message()));
  return std::move(*decoded);
}

Status Station::EnrollOperatorFingerprints(std::string_view username, const std::vector<card::ChipFinger>& fingers,
                                           const crypto::SealingKey& box_key, std::string_view by) {
  if (fingers.empty() || fingers.size() > 10) return InvalidArgument("give 1 to 10 fingers");
  std::vector<int> positions;
  enrollment::Biometrics own;
  for (const card::ChipFinger& finger : fingers) {
    if (finger.position < 1 || finger.position > 10) {
      return InvalidArgument("finger position " + std::to_string(finger.position) + " is not 1 to 10");
    }
    if (std::ranges::find(positions, finger.position) != positions.end()) {
      return InvalidArgument(FingerName(finger.position) + " is given twice");
    }
    RETURN_IF_ERROR(DecodeFinger(finger, "the operator's").status());
    positions.push_back(finger.position);
    own.fingers.push_back({finger.position, finger.template_bytes, enrollment::FingerException::kNone});
  }
  std::ranges::sort(positions);
  std::ranges::sort(own.fingers, {}, &enrollment::FingerCapture::position);
  std::string position_list;
  for (int position : positions) position_list += (position_list.empty() ? "" : ",") + std::to_string(position);
  const crypto::Bytes sealed = crypto::Seal(box_key.public_key(), enrollment::SerializeBiometrics(own));
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT role FROM operators WHERE username = ? AND disabled_at IS NULL",
                                          {username}));
    if (rows.empty()) return NotFound("no enabled operator account " + std::string(username) + " at this station");
    ASSIGN_OR_RETURN(Role role, ParseRole(rows[0].Text(0)));
    if (role != Role::kOperator && role != Role::kSupervisor) {
      return PermissionDenied("role " + std::string(RoleName(role)) +
                              " logs in with the password only; operators and supervisors enroll fingerprints");
    }
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("DELETE FROM operator_fingerprints WHERE username = ?", {username}));
    RETURN_IF_ERROR(db_.Exec("INSERT INTO operator_fingerprints (username, positions, sealed_templates, enrolled_by, "
                             "enrolled_at) VALUES (?, ?, ?, ?, ?)",
                             {username, position_list, store::Blob(sealed), by, now}));
    return Audit(by, "operator_fingerprints_enrolled", std::string(username) + " fingers " + position_list);
  });
}

StatusOr<std::vector<int>> Station::OperatorFingerPositions(std::string_view username) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT positions FROM operator_fingerprints WHERE username = ?", {username}));
  if (rows.empty()) return std::vector<int>{};
  return ParsePositions(rows[0].Text(0));
}

StatusOr<std::vector<card::ChipFinger>> Station::OwnFingerprints(std::string_view username,
                                                                 const crypto::SealingKey& box_key) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sealed_templates FROM operator_fingerprints WHERE username = ?",
                                        {username}));
  std::vector<card::ChipFinger> fingers;
  if (rows.empty()) return fingers;
  auto opened = box_key.Open(rows[0].Bytes(0));
  if (!opened.ok()) {
    return DataLoss("the enrolled fingerprints of " + std::string(username) +
                    " do not open with this station's box key: " + opened.status().message() +
                    "; enroll them again");
  }
  ASSIGN_OR_RETURN(enrollment::Biometrics own, enrollment::ParseBiometrics(*opened));
  for (enrollment::FingerCapture& finger : own.fingers) {
    fingers.push_back({finger.position, std::move(finger.template_bytes)});
  }
  return fingers;
}

StatusOr<std::string> Station::LoginWithFingerprint(std::string_view username, const card::ChipFinger& presented,
                                                    const crypto::SealingKey& box_key, std::string_view address,
                                                    std::string* pesan) {
  if (presented.position < 1 || presented.position > 10) {
    return InvalidArgument("fingerprint.position " + std::to_string(presented.position) + " is not 1 to 10");
  }
  // Bad input is refused before the attempt is counted: nothing changes.
  ASSIGN_OR_RETURN(bio::FingerFeatures probe, DecodeFinger(presented, "presented"));
  ASSIGN_OR_RETURN(LoginAttempt attempt, accounts_.BeginLogin(username, address));
  if (attempt.retry_after.count() > 0) {
    const std::string seconds = std::to_string(attempt.retry_after.count());
    if (pesan) {
      *pesan = "Terlalu banyak percobaan masuk yang gagal. Tunggu " + seconds +
               " detik lalu coba lagi, atau minta admin memeriksa akun Anda.";
    }
    return ResourceExhausted("too many failed logins for this username or address; retry after " + seconds + " s");
  }
  attempt.method = "fingerprint";
  std::vector<card::ChipFinger> own;
  if (attempt.known) {
    ASSIGN_OR_RETURN(own, OwnFingerprints(username, box_key));
  }
  std::vector<int> positions;
  for (const card::ChipFinger& finger : own) positions.push_back(finger.position);
  std::ranges::sort(positions);
  std::string refusal, kata;
  bool matched = false;
  const auto enrolled = std::ranges::find(own, presented.position, &card::ChipFinger::position);
  if (own.empty()) {
    refusal = kNoFingerprints;
    kata = "Sidik jari Anda belum didaftarkan di stasiun ini. Masuk dengan kata sandi, atau minta admin "
           "mendaftarkan sidik jari Anda.";
  } else if (enrolled == own.end()) {
    refusal = FingerName(presented.position) + " is not enrolled for this account (enrolled: " +
              FingerNames(positions, FingerName) + "); present an enrolled finger";
    kata = "Jari yang ditempelkan (" + JariName(presented.position) +
           ") tidak terdaftar untuk akun Anda. Gunakan jari yang terdaftar: " + FingerNames(positions, JariName) + ".";
  } else {
    ASSIGN_OR_RETURN(bio::FingerFeatures candidate, DecodeFinger(*enrolled, "the enrolled"));
    bio::Matcher matcher;
    const float score = matcher.Score(bio::PreparedProbe(std::move(probe)), candidate);
    matched = score >= bio::ConservativeThreshold(kOperatorFalseMatchRate, 1);
    if (!matched) {
      refusal = "the fingerprint does not match the enrolled " + FingerName(presented.position) +
                "; present it again, or log in with the password";
      kata = "Sidik jari tidak cocok dengan " + JariName(presented.position) +
             " yang terdaftar. Tempelkan jari itu lagi, atau masuk dengan kata sandi.";
    }
  }
  auto token = accounts_.FinishLogin(attempt, matched, refusal);
  if (!token.ok() && pesan) *pesan = kata;
  return token;
}

Status Station::CheckNotSelfEnrollment(const Operator& op, const enrollment::Biometrics& biometrics) {
  ASSIGN_OR_RETURN(std::vector<int> positions, OperatorFingerPositions(op.username));
  if (positions.empty()) return Status::Ok();
  const crypto::SealingKey* key = enrollment_policy_.operator_fingerprints_key;
  if (key == nullptr) {
    return FailedPrecondition("operator " + op.username +
                              " has enrolled fingerprints but this station cannot open them (no station-box.key) "
                              "to check that the applicant is not the operator");
  }
  ASSIGN_OR_RETURN(std::vector<card::ChipFinger> own, OwnFingerprints(op.username, *key));
  bio::Matcher matcher;
  float score = 0;
  int fingers = 0;
  std::string compared;
  for (const enrollment::FingerCapture& captured : biometrics.fingers) {
    if (captured.exception != enrollment::FingerException::kNone || captured.template_bytes.empty()) continue;
    const auto held = std::ranges::find(own, captured.position, &card::ChipFinger::position);
    if (held == own.end()) continue;
    ASSIGN_OR_RETURN(bio::FingerFeatures probe,
                     DecodeFinger({captured.position, captured.template_bytes}, "the applicant's"));
    ASSIGN_OR_RETURN(bio::FingerFeatures candidate, DecodeFinger(*held, "the operator's"));
    score += matcher.Score(bio::PreparedProbe(std::move(probe)), candidate);
    ++fingers;
    compared += (compared.empty() ? "" : ",") + std::to_string(captured.position);
  }
  if (fingers == 0 || score < bio::ConservativeThreshold(kOperatorFalseMatchRate, fingers)) return Status::Ok();
  SelfEnrollmentsRefused().Increment();
  service::LogWarn("station.self_enrollment_refused",
                   {{"operator", op.username}, {"fingers", compared}, {"score", static_cast<double>(score)}});
  RETURN_IF_ERROR(Audit(op.username, "self_enrollment_refused", "fingers " + compared));
  return PermissionDenied(std::string(kSelfEnrollmentRefused) + ": the applicant's fingerprints (fingers " +
                          compared + ") match operator " + op.username +
                          "'s own enrolled fingerprints; an operator may not enroll themselves. Nothing was stored; "
                          "the attempt is audited. Another operator must record this application");
}

}  // namespace ektp::station
