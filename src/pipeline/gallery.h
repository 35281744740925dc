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
// each search. So the engine never holds anything that was rolled back,
// and several processes agree on the gallery.
//
// Thread-safety: GalleryMirror may be used from any thread. Searches run in
// parallel with each other; applying log rows waits for running searches
// and holds new ones back, so each search sees the engine exactly as the log
// stood at the position it returns. CatchUp calls are serialised.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

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

  // As CatchUp, except that when applying the new rows would wait for a
  // running search and the mirror is at most `max_behind` rows behind the
  // log, it leaves them for a later call (a search then sees an older
  // position; the caller completes it with the rows after that position).
  Status CatchUpUnlessBusy(store::Connection& db, int64_t max_behind);

  // A search of the engine as it stood at log position `position`, holding
  // `gallery_subjects` subjects. A probe without fingers is not searched
  // (no candidates).
  struct Search {
    int64_t position = 0;
    size_t gallery_subjects = 0;
    std::vector<bio::Candidate> candidates;
  };
  StatusOr<Search> SearchAtPosition(const bio::SubjectRecord& probe, const bio::IdentifyOptions& options);

  // For loading and counting; a search through it directly is not tied to
  // a log position.
  bio::Abis& engine() { return *engine_; }
  // The last log row applied.
  int64_t position() const;

 private:
  // REQUIRES: catch_up_mu_ held. Applies `rows` (the log after position_, in
  // order) under the exclusive snapshot lock the caller holds.
  Status Apply(const std::vector<store::Row>& rows);
  // REQUIRES: catch_up_mu_ held. Up to one read's worth of rows after position_.
  StatusOr<std::vector<store::Row>> ReadAfterPosition(store::Connection& db);

  std::mutex catch_up_mu_;               // one CatchUp at a time
  mutable std::shared_mutex snapshot_mu_;  // shared: a search; exclusive: applying rows
  const crypto::DataKey& key_;
  Filter filter_;
  std::unique_ptr<bio::InMemoryAbis> engine_;
  int64_t position_ = 0;  // written holding catch_up_mu_ and snapshot_mu_ (exclusive)
};

}  // namespace ektp::pipeline
