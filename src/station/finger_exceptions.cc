// Finger exceptions at enrollment: a finger declared missing or unusable
// needs a photo of the hand and a second person's approval, a supervisor
// logged in as themselves (station.h, Enroll; docs/enrollment.md, "Finger
// exceptions").
#include "enrollment/image.h"
#include "station/station.h"

namespace ektp::station {
namespace {

constexpr std::string_view kPhotoPart = "exception_photo";
constexpr std::string_view kApprovalPart = "exception_approval";

// The declared fingers in Bahasa Indonesia: "telunjuk kiri (diamputasi), ...".
std::string JariText(const std::vector<enrollment::ExceptedFinger>& fingers) {
  static constexpr std::pair<enrollment::FingerException, std::string_view> kKata[] = {
      {enrollment::FingerException::kAmputated, "diamputasi"},
      {enrollment::FingerException::kBandaged, "diperban"},
      {enrollment::FingerException::kUnusable, "tidak dapat direkam"},
  };
  std::string out;
  for (const enrollment::ExceptedFinger& finger : fingers) {
    std::string_view kata = "?";
    for (const auto& [exception, word] : kKata) {
      if (exception == finger.exception) kata = word;
    }
    out += (out.empty() ? "" : ", ") + std::string(enrollment::FingerLabel(finger.position)) + " (" +
           std::string(kata) + ")";
  }
  return out;
}

// `status`, with the part at fault and the operator's words in `refusal`.
Status Refuse(EnrollRefusal* refusal, Status status, std::string_view field, std::string pesan) {
  if (refusal) *refusal = EnrollRefusal{std::string(field), std::move(pesan)};
  return status;
}

}  // namespace

Status Station::CheckFingerExceptions(const EnrollmentRequest& request, EnrollRefusal* refusal) {
  auto refuse = [&](Status status, std::string_view field, std::string pesan) {
    return Refuse(refusal, std::move(status), field, std::move(pesan));
  };
  const std::vector<enrollment::ExceptedFinger> excepted = enrollment::ExceptedFingers(request.biometrics);
  const bool photo = !request.biometrics.exception_photo.empty();
  if (excepted.empty()) {
    if (photo) {
      return refuse(InvalidArgument("exception_photo: given, but no finger is declared an exception; leave it out"),
                    kPhotoPart, "Foto tangan hanya diperlukan bila ada jari yang dinyatakan hilang atau tidak dapat "
                                "direkam. Hapus foto itu atau tandai jari yang dikecualikan.");
    }
    if (!request.exception_approval_session.empty()) {
      return refuse(InvalidArgument("exception_approval: given, but no finger is declared an exception; leave it out"),
                    kApprovalPart, "Persetujuan penyelia hanya diperlukan bila ada jari yang dinyatakan hilang atau "
                                   "tidak dapat direkam.");
    }
    return Status::Ok();
  }
  const std::string declared = enrollment::ExceptedFingersText(excepted), jari = JariText(excepted);
  if (!photo) {
    return refuse(InvalidArgument("exception_photo is missing: the finger exceptions " + declared +
                                  " need a photo of the hand (part exception_photo)"),
                  kPhotoPart, "Foto tangan untuk pengecualian sidik jari (" + jari +
                                  ") belum ada. Ambil foto tangan dengan kamera atau pilih berkasnya, lalu kirim lagi.");
  }
  if (Status readable = enrollment::CheckExceptionPhoto(request.biometrics.exception_photo); !readable.ok()) {
    return refuse(readable, kPhotoPart,
                  "Foto tangan untuk pengecualian sidik jari tidak dapat dipakai: harus gambar JPEG atau PNG yang "
                  "utuh, sisi terpendeknya paling sedikit " + std::to_string(enrollment::kMinExceptionPhotoSide) +
                      " piksel dan besarnya paling banyak 1 MiB. Ambil ulang fotonya.");
  }
  if (request.exception_approval_session.empty()) {
    return refuse(InvalidArgument("exception_approval is missing: the finger exceptions " + declared +
                                  " need a supervisor's approval (their session in part exception_approval)"),
                  kApprovalPart, "Pengecualian sidik jari (" + jari +
                                     ") harus disetujui penyelia. Minta penyelia mengisi nama pengguna dan kata "
                                     "sandinya di bagian persetujuan, lalu kirim lagi.");
  }
  return Status::Ok();
}

StatusOr<std::optional<enrollment::ExceptionApproval>> Station::ApproveFingerExceptions(const Operator& op,
                                                                                       const EnrollmentRequest& request,
                                                                                       EnrollRefusal* refusal) {
  auto refuse = [&](Status status, std::string pesan) {
    return Refuse(refusal, std::move(status), kApprovalPart, std::move(pesan));
  };
  const std::vector<enrollment::ExceptedFinger> excepted = enrollment::ExceptedFingers(request.biometrics);
  if (excepted.empty()) return std::optional<enrollment::ExceptionApproval>();
  auto approver = Authenticate(request.exception_approval_session);
  if (!approver.ok()) {
    return refuse(PermissionDenied("exception_approval: the approving session is not logged in (" +
                                   approver.status().message() + "); the supervisor must log in again to approve"),
                  "Persetujuan penyelia tidak berlaku (belum masuk atau sesinya sudah berakhir). Minta penyelia "
                  "memasukkan nama pengguna dan kata sandinya lagi.");
  }
  if (approver->username == op.username) {
    return refuse(PermissionDenied("exception_approval: account " + op.username +
                                   " records this enrollment and may not approve its own finger exceptions; a "
                                   "second person, a supervisor, must approve them"),
                  "Persetujuan ditolak: akun " + op.username +
                      " yang merekam permohonan ini tidak boleh menyetujui pengecualian sidik jarinya sendiri. Minta "
                      "penyelia lain menyetujuinya.");
  }
  if (approver->role != Role::kSupervisor) {
    return refuse(PermissionDenied("exception_approval: account " + approver->username + " is " +
                                   std::string(RoleName(approver->role)) +
                                   ", not a supervisor; only a supervisor may approve finger exceptions"),
                  "Persetujuan ditolak: akun " + approver->username +
                      " bukan penyelia. Pengecualian sidik jari hanya dapat disetujui oleh penyelia.");
  }
  return std::optional<enrollment::ExceptionApproval>(
      enrollment::ExceptionApproval{excepted, approver->username, FormatTimestamp(clock_.Now())});
}

}  // namespace ektp::station
