#include "pipeline/biometrics_at_rest.h"

#include <string>

namespace ektp::pipeline {
namespace {

std::string RecordAssociatedData(int64_t record_id) { return "ektp record_biometrics " + std::to_string(record_id); }

std::string SubjectAssociatedData(std::string_view subject_id) {
  return "ektp gallery_log " + std::string(subject_id);
}

// The decryption error with the row named; the code is kept.
Status AboutRow(const Status& status, const std::string& row) {
  return Status(status.code(), row + ": " + std::string(status.message()));
}

}  // namespace

StatusOr<crypto::Bytes> EncryptRecordBiometrics(const crypto::DataKey& key, int64_t record_id,
                                                std::span<const uint8_t> serialized) {
  return key.Encrypt(serialized, RecordAssociatedData(record_id));
}

StatusOr<crypto::Bytes> DecryptRecordBiometrics(const crypto::DataKey& key, int64_t record_id,
                                                std::span<const uint8_t> stored) {
  auto plain = key.Decrypt(stored, RecordAssociatedData(record_id));
  if (!plain.ok()) return AboutRow(plain.status(), "stored biometrics of record " + std::to_string(record_id));
  return plain;
}

StatusOr<enrollment::Biometrics> LoadRecordBiometrics(store::Connection& db, const crypto::DataKey& key,
                                                      int64_t record_id) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT biometrics FROM record_biometrics WHERE record_id = ?", {record_id}));
  if (rows.empty()) return NotFound("record " + std::to_string(record_id) + " has no stored biometrics");
  ASSIGN_OR_RETURN(crypto::Bytes plain, DecryptRecordBiometrics(key, record_id, rows[0].Bytes(0)));
  auto biometrics = enrollment::ParseBiometrics(plain);
  if (!biometrics.ok()) {
    return DataLoss("stored biometrics of record " + std::to_string(record_id) + ": " + biometrics.status().message());
  }
  return biometrics;
}

StatusOr<crypto::Bytes> EncryptGallerySubject(const crypto::DataKey& key, const bio::SubjectRecord& subject) {
  return key.Encrypt(bio::EncodeSubject(subject), SubjectAssociatedData(subject.id));
}

StatusOr<bio::SubjectRecord> DecryptGallerySubject(const crypto::DataKey& key, std::string_view subject_id,
                                                   std::span<const uint8_t> stored) {
  const std::string row = "gallery subject";  // no NIK in messages: they reach logs
  auto plain = key.Decrypt(stored, SubjectAssociatedData(subject_id));
  if (!plain.ok()) return AboutRow(plain.status(), row);
  auto subject = bio::DecodeSubject(*plain);
  if (!subject.ok()) return DataLoss(row + ": " + std::string(subject.status().message()));
  if (subject->id != subject_id) return DataLoss(row + " holds another subject than its row names");
  return subject;
}

}  // namespace ektp::pipeline
