#include "pipeline/gallery.h"

#include "pipeline/biometrics_at_rest.h"

namespace ektp::pipeline {

Status PutGallerySubject(store::Connection& db, const crypto::DataKey& key, const bio::SubjectRecord& subject,
                         int64_t record_id, std::string_view at) {
  ASSIGN_OR_RETURN(crypto::Bytes stored, EncryptGallerySubject(key, subject));
  return db.Exec("INSERT INTO gallery_log (subject_id, record_id, subject, at) VALUES (?, ?, ?, ?)",
                 {subject.id, record_id, store::Blob(std::move(stored)), at});
}

GalleryMirror::GalleryMirror(const crypto::DataKey& key, Filter filter) : key_(key), filter_(std::move(filter)) {
  auto engine = bio::InMemoryAbis::Open(nullptr);
  engine_ = std::move(*engine);  // cannot fail without a store
}

int64_t GalleryMirror::position() const {
  std::lock_guard lock(mu_);
  return position_;
}

Status GalleryMirror::CatchUp(store::Connection& db) {
  std::lock_guard lock(mu_);
  constexpr int kRowsPerRead = 500;
  while (true) {
    ASSIGN_OR_RETURN(auto rows, db.Query("SELECT seq, subject_id, subject FROM gallery_log WHERE seq > ? "
                                         "ORDER BY seq LIMIT ?",
                                         {position_, kRowsPerRead}));
    for (const store::Row& row : rows) {
      std::string id = row.Text(1);
      if (filter_ && !filter_(id)) {
        position_ = row.Int(0);
        continue;
      }
      Status erased = engine_->Delete(id);
      if (!erased.ok() && erased.code() != StatusCode::kNotFound) return erased;
      if (!row.IsNull(2)) {
        auto subject = DecryptGallerySubject(key_, id, row.Bytes(2));
        if (!subject.ok()) {
          return Status(subject.status().code(),
                        "gallery_log row " + std::to_string(row.Int(0)) + ": " + subject.status().message());
        }
        RETURN_IF_ERROR(engine_->Insert(*subject));
      }
      position_ = row.Int(0);
    }
    if (static_cast<int>(rows.size()) < kRowsPerRead) return Status::Ok();
  }
}

}  // namespace ektp::pipeline
