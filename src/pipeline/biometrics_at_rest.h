// Central's biometrics at rest (docs/security.md, "Data at rest"). The opened
// biometrics of each validated record (`record_biometrics`: face photo,
// signature image, templates) and each gallery subject's fingers
// (`gallery_log`) are stored encrypted with central's biometrics key
// (crypto::DataKey, `biometrics.key` in central's data directory), never in
// clear. The associated data names the row's owner (the record id, or the
// gallery subject id), so a ciphertext copied onto another row does not
// decrypt.
//
// Errors on reading: kNotFound for a record without stored biometrics,
// kFailedPrecondition when the row needs another key (the message names
// both key ids), kDataLoss for a row that does not decrypt or decode.
// Thread-safety: stateless functions; the key is read only.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "bio/abis.h"
#include "crypto/crypto.h"
#include "enrollment/enrollment.h"
#include "store/db.h"

namespace ektp::pipeline {

// The value of record_biometrics.biometrics for `record_id`;
// `serialized` is enrollment::SerializeBiometrics' output.
StatusOr<crypto::Bytes> EncryptRecordBiometrics(const crypto::DataKey& key, int64_t record_id,
                                                std::span<const uint8_t> serialized);
// The serialized biometrics back from a record_biometrics value.
StatusOr<crypto::Bytes> DecryptRecordBiometrics(const crypto::DataKey& key, int64_t record_id,
                                                std::span<const uint8_t> stored);
StatusOr<enrollment::Biometrics> LoadRecordBiometrics(store::Connection& db, const crypto::DataKey& key,
                                                      int64_t record_id);

// The value of gallery_log.subject for `subject`, and back.
StatusOr<crypto::Bytes> EncryptGallerySubject(const crypto::DataKey& key, const bio::SubjectRecord& subject);
StatusOr<bio::SubjectRecord> DecryptGallerySubject(const crypto::DataKey& key, std::string_view subject_id,
                                                   std::span<const uint8_t> stored);

}  // namespace ektp::pipeline
