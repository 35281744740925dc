// Automated biometric identification (1:N de-duplication) behind one
// interface, so the central pipeline can use this engine (InMemoryAbis) or
// an external ABIS product (implement Abis over its API).
//
// Subjects have up to 10 fingers (ISO positions 1..10); any may be missing.
// Identify() compares each probe finger with the same finger of every
// gallery subject that has it and fuses the calibrated scores by summing
// them (each is -10*log10 of a false-match rate, so the sum is the evidence
// of independent fingers). Candidates come back best first.
//
// Persistence goes through GalleryStore: the engine writes every insert and
// delete to the store before it changes memory, and Open() loads the whole
// gallery at start. FileGalleryStore (an append-only log) persists a
// standalone engine. Central keeps its gallery as a log in its SQL store and
// feeds engines opened without a store (pipeline/gallery.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bio/cohort_norm.h"
#include "bio/edge_pair_index.h"
#include "bio/matcher.h"
#include "bio/sectored_signature.h"
#include "core/status.h"

namespace ektp::bio {

inline constexpr int kFingerPositions = 10;

struct FingerSample {
  int position = 0;  // ISO finger position 1..10
  FingerFeatures features;
};

struct SubjectRecord {
  std::string id;  // opaque, non-empty, at most 128 bytes (e.g. an enrolment id, never a name)
  std::vector<FingerSample> fingers;
};

struct Candidate {
  std::string subject_id;
  float score = 0;       // fused: sum of per-finger calibrated scores
  int fingers_compared = 0;
};

struct IdentifyOptions {
  size_t max_candidates = 10;  // length of the ranked list
  float min_score = 0;         // drop candidates below this fused score
  // Share of the gallery (0..1] passed from the pre-filter to full matching;
  // 1 disables the pre-filter. The list is never shorter than
  // min_prefilter_subjects. The pre-filter ranks subjects by the summed
  // evidence of their fingers: the rotation-sectored signature's plus the
  // edge pairs', less the finger's mean against the cohort prints most like
  // the probe (cohort_norm.h; docs/biometrics.md, "Pre-filter", where its
  // measured losses are).
  double prefilter_keep = 0.02;
  size_t min_prefilter_subjects = 200;
  int threads = 0;  // 0 = hardware concurrency
};

struct IdentifyResult {
  std::vector<Candidate> candidates;  // best first
  size_t gallery_subjects = 0;
  size_t scored_subjects = 0;         // subjects fully matched
  double penetration = 0;             // scored_subjects / gallery_subjects
  // Ids that passed the pre-filter (for measuring its lost hits).
  std::vector<std::string> shortlist;
};

// Thread-safety: every method may be called concurrently from any thread;
// implementations document how calls interleave (InMemoryAbis: searches run
// in parallel, an Insert or Delete waits for running searches and blocks
// new ones while it writes the store).
class Abis {
 public:
  virtual ~Abis() = default;
  // Errors: kAlreadyExists for a known id, kInvalidArgument for a bad
  // record (empty id, no fingers, a position outside 1..10 or repeated),
  // kUnavailable if the store could not persist it (memory is unchanged).
  virtual Status Insert(const SubjectRecord& subject) = 0;
  // Ranked candidates for `probe` (its id is ignored and may be empty).
  // Errors: kInvalidArgument for a bad finger list (as Insert).
  virtual StatusOr<IdentifyResult> Identify(const SubjectRecord& probe, const IdentifyOptions& options) = 0;
  // Errors: kNotFound for an unknown id, kUnavailable from the store.
  virtual Status Delete(std::string_view subject_id) = 0;
  virtual size_t Count() const = 0;
  // Requests accepted but not finished (running Insert/Identify/Delete
  // calls); an external ABIS reports its queue here.
  virtual size_t PendingJobs() const = 0;
};

// Where the gallery persists. Implementations must be safe to call from one
// thread at a time (the engine serialises its calls).
class GalleryStore {
 public:
  virtual ~GalleryStore() = default;
  // Calls `sink` for every stored subject (in any order).
  virtual Status LoadAll(const std::function<Status(SubjectRecord)>& sink) = 0;
  // Durably records the subject (replacing one with the same id).
  virtual Status Put(const SubjectRecord& subject) = 0;
  virtual Status Erase(std::string_view subject_id) = 0;
};

// Append-only log file: records "P" (put) and "E" (erase), each
// length-prefixed with a CRC-32. A torn record at the end (crash mid-write)
// is dropped on load; corruption elsewhere is kDataLoss.
// Format: docs/biometrics.md ("Gallery file").
class FileGalleryStore : public GalleryStore {
 public:
  // Creates the file if missing. Errors: kUnavailable if it cannot be opened.
  static StatusOr<std::unique_ptr<FileGalleryStore>> Open(const std::string& path);
  ~FileGalleryStore() override;
  Status LoadAll(const std::function<Status(SubjectRecord)>& sink) override;
  Status Put(const SubjectRecord& subject) override;
  Status Erase(std::string_view subject_id) override;

 private:
  explicit FileGalleryStore(std::string path) : path_(std::move(path)) {}
  Status Append(char kind, const std::vector<uint8_t>& payload);
  std::string path_;
  int fd_ = -1;
};

// Serialised subject (also the FileGalleryStore payload).
std::vector<uint8_t> EncodeSubject(const SubjectRecord& subject);
StatusOr<SubjectRecord> DecodeSubject(std::span<const uint8_t> bytes);

// What the pre-filter is fitted with (docs/biometrics.md, "Pre-filter"). An
// evaluation passes both fitted on other databases than the ones it reports.
struct PrefilterSetup {
  // The signature's length cells, for the gallery and the probes.
  FingerFeatures::LengthCells length_cells = FingerFeatures::DefaultLengthCells();
  // The prints each gallery finger's evidence is normalised by (cohort_norm.h).
  // Empty: the first kCohortFingers fingers to enter the engine, in load
  // order then insert order, none used against its own subject.
  std::vector<FingerFeatures> cohort;
};

// The in-process engine: the whole gallery in memory, laid out per finger
// position in flat arrays; Identify scans the pre-filter signatures
// (sectored_signature.h) and looks the probe's edge pairs up in the index
// (edge_pair_index.h), then fully matches the shortlist with `threads`
// threads. A finger position holds at most EdgePairIndex::kMaxFingers
// fingers (Insert fails with kResourceExhausted beyond).
class InMemoryAbis : public Abis {
 public:
  // `store` may be null (no persistence); otherwise it is loaded now and
  // must outlive the engine. Errors: kInvalidArgument for a setup cohort of
  // more than EdgePairCohort::kMaxPrints prints, and the store's.
  static StatusOr<std::unique_ptr<InMemoryAbis>> Open(GalleryStore* store, PrefilterSetup setup = {});

  Status Insert(const SubjectRecord& subject) override;
  StatusOr<IdentifyResult> Identify(const SubjectRecord& probe, const IdentifyOptions& options) override;
  Status Delete(std::string_view subject_id) override;
  size_t Count() const override;
  size_t PendingJobs() const override { return pending_.load(); }

  // Approximate bytes held by the gallery.
  size_t MemoryBytes() const;

  // Scores every finger inserted since the last call against the cohort
  // (cohort_norm.h), with `threads` threads (0 = hardware concurrency).
  // Insert leaves this work to it, which Open runs after loading the store
  // and Identify before it searches; a bulk loader calls it once at the end
  // to have the work done then. The evidence is the same however the inserts
  // and calls interleave.
  void FitPendingCohortEvidence(int threads = 0);

 private:
  InMemoryAbis(GalleryStore* store, const FingerFeatures::LengthCells& length_cells)
      : store_(store), length_cells_(length_cells) {}
  // kResourceExhausted when a finger's position holds kMaxFingers already.
  Status RoomFor(const SubjectRecord& subject) const;
  Status InsertLocked(const SubjectRecord& subject);

  struct PositionTable {
    std::vector<FingerFeatures> features;
    // The gallery side of each finger's pre-filter signature: finger i's
    // codes are codes[code_end[i-1] .. code_end[i]) (SectoredGallery::codes).
    std::vector<uint16_t> codes;
    std::vector<uint32_t> code_end;
    std::vector<std::array<uint16_t, kSignatureSectors>> sector_codes;  // SectoredGallery::bits
    EdgePairIndex pairs;               // every finger's edge-pair codes
    std::vector<uint16_t> pair_codes;  // how many each finger has
    // Finger i's evidence against cohort print k (QuantiseCohortEvidence)
    // at [i * cohort_.capacity() + k].
    std::vector<int16_t> cohort_evidence;
    std::vector<uint32_t> slot;  // subject slot of each finger
    size_t fitted = 0;           // fingers [0, fitted) have their cohort evidence

    std::span<const uint16_t> CodesOf(size_t finger) const {
      const uint32_t begin = finger == 0 ? 0 : code_end[finger - 1];
      return {codes.data() + begin, code_end[finger] - begin};
    }
    // Pre-filter evidence that finger `finger` mates `probe`.
    float Evidence(const SectoredProbe& probe, size_t finger) const {
      return SectoredZ(probe, CodesOf(finger), sector_codes[finger]);
    }
  };
  static constexpr uint32_t kGivenCohort = UINT32_MAX;
  // Sets finger `finger`'s cohort evidence.
  void FitCohortEvidence(PositionTable& table, size_t finger) const;
  void FitPendingCohortEvidenceLocked(int threads);
  void AddToCohort(const FingerFeatures& f, SectoredGallery gallery, std::vector<uint32_t> pair_codes, uint32_t slot);
  // The cohort prints whose evidence a search with this probe finger
  // subtracts (CohortSelection).
  CohortSelection SelectCohort(const SectoredProbe& signature, const EdgePairProbe& pairs) const;
  struct Slot {
    std::string id;
    bool alive = false;
  };

  GalleryStore* store_;
  const FingerFeatures::LengthCells length_cells_;
  mutable std::shared_mutex mu_;
  std::vector<Slot> slots_;
  std::unordered_map<std::string, uint32_t> by_id_;
  PositionTable tables_[kFingerPositions + 1];
  // The cohort's prints on the probe side (to score gallery fingers against)
  // and the gallery side (to score probes against), and the gallery subject
  // of each (kGivenCohort for PrefilterSetup::cohort).
  SectoredProbeSet cohort_{kCohortFingers};
  EdgePairCohort pair_cohort_;
  std::vector<SectoredGallery> cohort_signatures_;
  std::vector<std::vector<uint32_t>> cohort_pair_codes_;
  std::vector<uint32_t> cohort_slots_;
  bool cohort_given_ = false;
  std::atomic<bool> evidence_pending_{false};  // some table has fitted < its fingers
  size_t alive_ = 0;
  mutable std::atomic<size_t> pending_{0};
};

}  // namespace ektp::bio
