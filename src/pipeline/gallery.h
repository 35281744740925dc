// The national fingerprint gallery, kept as an append-only log in the
// database (table gallery_log) and mirrored into each central process's
// in-memory engine.
//
// A log row puts a subject (its templates as bio::EncodeSubject, encrypted
// with central's biometrics key: biometrics_at_rest.h; a put for
// a known subject replaces it) or, with no templates, erases it. Subjects
// are residents, keyed by NIK. The log is the source of truth: a decision
// writes its row in the decision's transaction, and every process applies
// committed rows to its engine in log order (CatchUp), at start and before
// each decision. So the engine never holds anything that was rolled back,
// and several processes agree on the gallery.
//
// Thread-safety: GalleryMirror may be used from any thread; CatchUp calls
// are serialised, and the engine (bio::Abis) is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "bio/abis.h"
#include "crypto/crypto.h"
#include "store/db.h"

namespace ektp::pipeline {

// Appends a put of `subject` (for the record that supplied it). Joins the
// caller's transaction.
Status PutGallerySubject(store::Connection& db, const crypto::DataKey& key, const bio::SubjectRecord& subject,
                         int64_t record_id,
                         std::string_view at);

class GalleryMirror {
 public:
  // Which subjects this mirror holds (a matcher shard holds its part).
  using Filter = std::function<bool(std::string_view subject_id)>;

  // An empty engine at log position 0; call CatchUp to load the log. With a
  // filter, only subjects it accepts are loaded. `key` decrypts the log's
  // subjects and must outlive the mirror.
  explicit GalleryMirror(const crypto::DataKey& key, Filter filter = nullptr);

  // Applies every committed log row after the last one applied. Errors:
  // kDataLoss for a row that does not decrypt or decode, kFailedPrecondition
  // for one that needs another key, or as the connection.
  Status CatchUp(store::Connection& db);

  bio::Abis& engine() { return *engine_; }
  // The last log row applied.
  int64_t position() const;

 private:
  mutable std::mutex mu_;
  const crypto::DataKey& key_;
  Filter filter_;
  std::unique_ptr<bio::InMemoryAbis> engine_;
  int64_t position_ = 0;
};

}  // namespace ektp::pipeline
