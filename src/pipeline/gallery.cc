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
  std::shared_lock lock(snapshot_mu_);
  return position_;
}

namespace {
constexpr int kRowsPerRead = 500;
}  // namespace

StatusOr<std::vector<store::Row>> GalleryMirror::ReadAfterPosition(store::Connection& db) {
  int64_t after;
  {
    std::shared_lock lock(snapshot_mu_);
    after = position_;
  }
  return db.Query("SELECT seq, subject_id, subject FROM gallery_log WHERE seq > ? ORDER BY seq LIMIT ?",
                  {after, kRowsPerRead});
}

Status GalleryMirror::Apply(const std::vector<store::Row>& rows) {
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
  return Status::Ok();
}

Status GalleryMirror::CatchUp(store::Connection& db) { return CatchUpUnlessBusy(db, -1); }

Status GalleryMirror::CatchUpUnlessBusy(store::Connection& db, int64_t max_behind) {
  std::lock_guard catching_up(catch_up_mu_);
  while (true) {
    ASSIGN_OR_RETURN(std::vector<store::Row> rows, ReadAfterPosition(db));
    if (rows.empty()) return Status::Ok();
    std::unique_lock snapshot(snapshot_mu_, std::try_to_lock);
    if (!snapshot.owns_lock()) {
      if (max_behind >= 0 && rows.back().Int(0) - position_ <= max_behind) return Status::Ok();
      snapshot.lock();
    }
    RETURN_IF_ERROR(Apply(rows));
    if (static_cast<int>(rows.size()) < kRowsPerRead) return Status::Ok();
  }
}

StatusOr<GalleryMirror::Search> GalleryMirror::SearchAtPosition(const bio::SubjectRecord& probe,
                                                                const bio::IdentifyOptions& options) {
  std::shared_lock lock(snapshot_mu_);
  Search search;
  search.position = position_;
  search.gallery_subjects = engine_->Count();
  if (probe.fingers.empty()) return search;
  ASSIGN_OR_RETURN(bio::IdentifyResult result, engine_->Identify(probe, options));
  search.candidates = std::move(result.candidates);
  search.gallery_subjects = result.gallery_subjects;
  return search;
}

}  // namespace ektp::pipeline
