#include "bio/abis.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

namespace ektp::bio {
namespace {

uint32_t Crc32(std::span<const uint8_t> data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (uint8_t b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

Status ValidateSubject(const SubjectRecord& s, bool need_id) {
  if (need_id && (s.id.empty() || s.id.size() > 128)) {
    return InvalidArgument("subject id must be 1..128 bytes, got " + std::to_string(s.id.size()));
  }
  if (s.fingers.empty()) return InvalidArgument("subject " + s.id + " has no fingers");
  bool seen[kFingerPositions + 1] = {};
  for (const FingerSample& f : s.fingers) {
    if (f.position < 1 || f.position > kFingerPositions) {
      return InvalidArgument("finger position " + std::to_string(f.position) + " is outside 1..10");
    }
    if (seen[f.position]) return InvalidArgument("finger position " + std::to_string(f.position) + " repeated");
    seen[f.position] = true;
  }
  return Status::Ok();
}

int Threads(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Runs fn(begin, end, worker) over [0, n) split into `threads` contiguous parts.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  threads = static_cast<int>(std::min<size_t>(std::max(1, threads), std::max<size_t>(1, n / 64)));
  if (threads <= 1) {
    fn(size_t{0}, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  size_t chunk = (n + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  for (int t = 1; t < threads; ++t) {
    size_t b = std::min(n, chunk * static_cast<size_t>(t)), e = std::min(n, b + chunk);
    pool.emplace_back([&fn, b, e, t] { fn(b, e, t); });
  }
  fn(size_t{0}, std::min(n, chunk), 0);
  for (auto& th : pool) th.join();
}

struct PendingGuard {
  explicit PendingGuard(std::atomic<size_t>& c) : c_(c) { ++c_; }
  ~PendingGuard() { --c_; }
  std::atomic<size_t>& c_;
};

}  // namespace

// ---- serialisation ----------------------------------------------------------

std::vector<uint8_t> EncodeSubject(const SubjectRecord& subject) {
  // REQUIRES: a valid subject (id of 1..128 bytes, at most 10 fingers).
  std::vector<uint8_t> out(1 + subject.id.size());
  out[0] = static_cast<uint8_t>(subject.id.size());
  std::copy(subject.id.begin(), subject.id.end(), out.begin() + 1);
  out.push_back(static_cast<uint8_t>(subject.fingers.size()));
  for (const FingerSample& f : subject.fingers) {
    std::vector<uint8_t> blob = f.features.Serialize();
    out.push_back(static_cast<uint8_t>(f.position));
    out.push_back(static_cast<uint8_t>(blob.size() >> 8));
    out.push_back(static_cast<uint8_t>(blob.size()));
    out.insert(out.end(), blob.begin(), blob.end());
  }
  return out;
}

StatusOr<SubjectRecord> DecodeSubject(std::span<const uint8_t> b) {
  SubjectRecord s;
  size_t at = 0;
  auto need = [&](size_t n) { return at + n <= b.size(); };
  if (!need(1)) return DataLoss("subject record is empty");
  size_t id_len = b[at++];
  if (!need(id_len + 1)) return DataLoss("subject record truncated in its id");
  s.id.assign(reinterpret_cast<const char*>(b.data() + at), id_len);
  at += id_len;
  size_t fingers = b[at++];
  for (size_t i = 0; i < fingers; ++i) {
    if (!need(3)) return DataLoss("subject " + s.id + " truncated at finger " + std::to_string(i));
    FingerSample f;
    f.position = b[at];
    size_t len = (size_t{b[at + 1]} << 8) | b[at + 2];
    at += 3;
    if (!need(len)) return DataLoss("subject " + s.id + " truncated in finger " + std::to_string(i));
    auto features = FingerFeatures::Deserialize(b.subspan(at, len));
    if (!features.ok()) return features.status().WithContext("subject " + s.id);
    f.features = std::move(*features);
    at += len;
    s.fingers.push_back(std::move(f));
  }
  if (at != b.size()) return DataLoss("subject " + s.id + " has " + std::to_string(b.size() - at) + " extra bytes");
  return s;
}

// ---- FileGalleryStore ---------------------------------------------------------

StatusOr<std::unique_ptr<FileGalleryStore>> FileGalleryStore::Open(const std::string& path) {
  std::unique_ptr<FileGalleryStore> store(new FileGalleryStore(path));
  store->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (store->fd_ < 0) return Unavailable("cannot open gallery " + path + ": " + std::strerror(errno));
  return store;
}

FileGalleryStore::~FileGalleryStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileGalleryStore::LoadAll(const std::function<Status(SubjectRecord)>& sink) {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Unavailable("cannot stat gallery " + path_);
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n <= 0) return Unavailable("cannot read gallery " + path_);
    got += static_cast<size_t>(n);
  }
  // Latest put of every live id, as (offset, length) into `data`; replayed
  // in order of first appearance.
  struct Where {
    size_t offset, length;
  };
  std::unordered_map<std::string, Where> live;
  std::vector<std::string> order;
  size_t at = 0;
  while (at < data.size()) {
    const size_t start = at;
    bool torn = data.size() - at < 9;
    uint32_t len = torn ? 0 : GetU32(&data[at + 1]);
    torn = torn || data.size() - at - 9 < len;
    if (!torn) {
      std::span<const uint8_t> payload(&data[at + 5], len);
      uint32_t crc = GetU32(&data[at + 5 + len]);
      if (crc != Crc32(payload)) {
        if (at + 9 + len == data.size()) {
          torn = true;  // the last record: a write cut short
        } else {
          return DataLoss("gallery " + path_ + ": checksum mismatch in record at byte " + std::to_string(start));
        }
      }
    }
    if (torn) {
      // Drop the torn tail so new records append after the last good one.
      if (::ftruncate(fd_, static_cast<off_t>(start)) != 0) return Unavailable("cannot truncate gallery " + path_);
      break;
    }
    const char kind = static_cast<char>(data[at]);
    std::span<const uint8_t> payload(&data[at + 5], len);
    if (kind == 'P') {
      // The id is the payload's first field; the whole subject is decoded
      // (and checked) once, below, for the puts that survive.
      if (len < 1 || payload[0] + 1u > len) {
        return DataLoss("gallery " + path_ + ": put record at byte " + std::to_string(start) + " has no id");
      }
      std::string id(reinterpret_cast<const char*>(payload.data() + 1), payload[0]);
      auto [it, inserted] = live.insert_or_assign(std::move(id), Where{at + 5, len});
      if (inserted) order.push_back(it->first);
    } else if (kind == 'E') {
      live.erase(std::string(payload.begin(), payload.end()));
    } else {
      return DataLoss("gallery " + path_ + ": unknown record kind at byte " + std::to_string(start));
    }
    at += 9 + len;
  }
  for (const std::string& id : order) {
    auto it = live.find(id);
    if (it == live.end()) continue;  // erased, or already replayed (re-put after an erase)
    auto subject = DecodeSubject(std::span<const uint8_t>(data).subspan(it->second.offset, it->second.length));
    if (!subject.ok()) return subject.status().WithContext("gallery " + path_);
    live.erase(it);
    RETURN_IF_ERROR(sink(std::move(*subject)));
  }
  return Status::Ok();
}

Status FileGalleryStore::Append(char kind, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> rec;
  rec.reserve(payload.size() + 9);
  rec.push_back(static_cast<uint8_t>(kind));
  PutU32(rec, static_cast<uint32_t>(payload.size()));
  rec.insert(rec.end(), payload.begin(), payload.end());
  PutU32(rec, Crc32(payload));
  size_t done = 0;
  while (done < rec.size()) {
    ssize_t n = ::write(fd_, rec.data() + done, rec.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("cannot write gallery " + path_ + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Unavailable("cannot sync gallery " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

Status FileGalleryStore::Put(const SubjectRecord& subject) { return Append('P', EncodeSubject(subject)); }

Status FileGalleryStore::Erase(std::string_view subject_id) {
  return Append('E', std::vector<uint8_t>(subject_id.begin(), subject_id.end()));
}

// ---- InMemoryAbis -------------------------------------------------------------

static_assert(kCohortFingers <= EdgePairCohort::kMaxPrints);

StatusOr<std::unique_ptr<InMemoryAbis>> InMemoryAbis::Open(GalleryStore* store, PrefilterSetup setup) {
  if (setup.cohort.size() > EdgePairCohort::kMaxPrints) {
    return InvalidArgument("a pre-filter cohort holds at most " + std::to_string(EdgePairCohort::kMaxPrints) +
                           " prints, got " + std::to_string(setup.cohort.size()));
  }
  std::unique_ptr<InMemoryAbis> abis(new InMemoryAbis(store, setup.length_cells));
  abis->cohort_given_ = !setup.cohort.empty();
  if (abis->cohort_given_) abis->cohort_ = SectoredProbeSet(setup.cohort.size());
  for (const FingerFeatures& f : setup.cohort) {
    abis->AddToCohort(f, SectoredGallery::Of(f, setup.length_cells), EdgePairCodes(f, setup.length_cells),
                      kGivenCohort);
  }
  if (store != nullptr) {
    std::unique_lock lock(abis->mu_);
    RETURN_IF_ERROR(store->LoadAll([&](SubjectRecord s) -> Status {
      RETURN_IF_ERROR(ValidateSubject(s, true).WithContext("stored subject"));
      if (abis->by_id_.count(s.id)) return DataLoss("gallery holds subject " + s.id + " twice");
      return abis->InsertLocked(s);
    }));
    abis->FitPendingCohortEvidenceLocked(0);
  }
  return abis;
}

void InMemoryAbis::AddToCohort(const FingerFeatures& f, SectoredGallery gallery, std::vector<uint32_t> pair_codes,
                               uint32_t slot) {
  cohort_.Add(SectoredProbe::Of(f, length_cells_));
  pair_cohort_.Add(EdgePairProbe::Of(f, length_cells_, false));
  cohort_signatures_.push_back(std::move(gallery));
  cohort_pair_codes_.push_back(std::move(pair_codes));
  cohort_slots_.push_back(slot);
}

void InMemoryAbis::FitCohortEvidence(PositionTable& table, size_t finger) const {
  std::vector<float> evidence, pair_evidence;
  cohort_.Evidence(table.CodesOf(finger), table.sector_codes[finger], evidence);
  pair_cohort_.Evidence(EdgePairCodes(table.features[finger], length_cells_), pair_evidence);
  std::vector<float> strangers;
  for (size_t k = 0; k < evidence.size(); ++k) {
    evidence[k] += pair_evidence[k];
    if (cohort_slots_[k] != table.slot[finger]) strangers.push_back(evidence[k]);
  }
  // A print of the finger's own subject is no stranger: it stands in at the
  // finger's mean against the others.
  const float own = CohortMean(std::move(strangers));
  int16_t* row = &table.cohort_evidence[finger * cohort_.capacity()];
  for (size_t k = 0; k < evidence.size(); ++k) {
    row[k] = QuantiseCohortEvidence(cohort_slots_[k] == table.slot[finger] ? own : evidence[k]);
  }
}

void InMemoryAbis::FitPendingCohortEvidence(int threads) {
  if (!evidence_pending_.load()) return;
  std::unique_lock lock(mu_);
  FitPendingCohortEvidenceLocked(threads);
}

void InMemoryAbis::FitPendingCohortEvidenceLocked(int threads) {
  for (PositionTable& t : tables_) {
    const size_t begin = t.fitted, n = t.slot.size() - begin;
    ParallelFor(n, Threads(threads), [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) FitCohortEvidence(t, begin + i);
    });
    t.fitted = t.slot.size();
  }
  evidence_pending_ = false;
}

CohortSelection InMemoryAbis::SelectCohort(const SectoredProbe& signature, const EdgePairProbe& pairs) const {
  std::vector<float> evidence(cohort_signatures_.size());
  for (size_t k = 0; k < evidence.size(); ++k) {
    const std::vector<uint32_t>& codes = cohort_pair_codes_[k];
    const size_t hits = std::count_if(codes.begin(), codes.end(), [&](uint32_t c) { return pairs.Has(c); });
    evidence[k] = SectoredZ(signature, cohort_signatures_[k]) + EdgePairZ(hits, codes.size(), pairs.density());
  }
  return CohortSelection(evidence);
}

Status InMemoryAbis::RoomFor(const SubjectRecord& subject) const {
  for (const FingerSample& f : subject.fingers) {
    if (tables_[f.position].slot.size() >= EdgePairIndex::kMaxFingers) {
      return ResourceExhausted("gallery holds " + std::to_string(EdgePairIndex::kMaxFingers) +
                               " fingers at position " + std::to_string(f.position) + ", its limit");
    }
  }
  return Status::Ok();
}

Status InMemoryAbis::InsertLocked(const SubjectRecord& subject) {
  RETURN_IF_ERROR(RoomFor(subject));
  const uint32_t slot = static_cast<uint32_t>(slots_.size());
  slots_.push_back({subject.id, true});
  by_id_.emplace(subject.id, slot);
  for (const FingerSample& f : subject.fingers) {
    PositionTable& t = tables_[f.position];
    t.features.push_back(f.features);
    const SectoredGallery g = SectoredGallery::Of(f.features, length_cells_);
    t.codes.insert(t.codes.end(), g.codes.begin(), g.codes.end());
    t.code_end.push_back(static_cast<uint32_t>(t.codes.size()));
    t.sector_codes.push_back(g.bits);
    std::vector<uint32_t> pair_codes = EdgePairCodes(f.features, length_cells_);
    t.pairs.Add(static_cast<uint32_t>(t.slot.size()), pair_codes);
    t.pair_codes.push_back(static_cast<uint16_t>(pair_codes.size()));
    t.slot.push_back(slot);
    t.cohort_evidence.resize(t.cohort_evidence.size() + cohort_.capacity(), 0);
    if (!cohort_given_ && cohort_.size() < cohort_.capacity()) {
      AddToCohort(f.features, g, std::move(pair_codes), slot);
      // While the cohort grows every finger held is in it, so all are refitted.
      for (PositionTable& other : tables_) other.fitted = 0;
    }
  }
  evidence_pending_ = true;
  ++alive_;
  return Status::Ok();
}

Status InMemoryAbis::Insert(const SubjectRecord& subject) {
  PendingGuard pending(pending_);
  RETURN_IF_ERROR(ValidateSubject(subject, true));
  std::unique_lock lock(mu_);
  if (by_id_.count(subject.id)) return AlreadyExists("subject " + subject.id + " is already enrolled");
  RETURN_IF_ERROR(RoomFor(subject));
  if (store_ == nullptr) return InsertLocked(subject);
  // Hold what a restart loads (minutiae at the stored precision), so that a
  // restart changes no score.
  ASSIGN_OR_RETURN(SubjectRecord stored, DecodeSubject(EncodeSubject(subject)));
  RETURN_IF_ERROR(store_->Put(stored));
  return InsertLocked(stored);
}

Status InMemoryAbis::Delete(std::string_view subject_id) {
  PendingGuard pending(pending_);
  std::unique_lock lock(mu_);
  auto it = by_id_.find(std::string(subject_id));
  if (it == by_id_.end()) return NotFound("subject " + std::string(subject_id) + " is not enrolled");
  if (store_ != nullptr) RETURN_IF_ERROR(store_->Erase(subject_id));
  // The fingers stay in the tables and are skipped; a restart compacts them.
  slots_[it->second].alive = false;
  by_id_.erase(it);
  --alive_;
  return Status::Ok();
}

size_t InMemoryAbis::Count() const {
  std::shared_lock lock(mu_);
  return alive_;
}

size_t InMemoryAbis::MemoryBytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = slots_.capacity() * sizeof(Slot) + by_id_.size() * 64;
  bytes += cohort_.Bytes() + pair_cohort_.Bytes() + cohort_slots_.capacity() * sizeof(uint32_t);
  for (const SectoredGallery& g : cohort_signatures_) bytes += g.Bytes();
  for (const auto& codes : cohort_pair_codes_) bytes += codes.capacity() * sizeof(uint32_t);
  for (const PositionTable& t : tables_) {
    for (const FingerFeatures& f : t.features) bytes += f.MemoryBytes();
    bytes += t.codes.capacity() * sizeof(uint16_t) + t.code_end.capacity() * sizeof(uint32_t) +
             t.sector_codes.capacity() * sizeof(t.sector_codes[0]) + t.cohort_evidence.capacity() * sizeof(int16_t) +
             t.slot.capacity() * sizeof(uint32_t) + t.pairs.Bytes() + t.pair_codes.capacity() * sizeof(uint16_t);
  }
  return bytes;
}

StatusOr<IdentifyResult> InMemoryAbis::Identify(const SubjectRecord& probe, const IdentifyOptions& options) {
  PendingGuard pending(pending_);
  RETURN_IF_ERROR(ValidateSubject(probe, false));
  const int threads = Threads(options.threads);
  struct ProbeFinger {
    int position;
    PreparedProbe prepared;
    SectoredProbe signature;
  };
  std::vector<ProbeFinger> fingers;
  for (const FingerSample& f : probe.fingers) {
    fingers.push_back({f.position, PreparedProbe(f.features), SectoredProbe::Of(f.features, length_cells_)});
  }

  // Search with every finger's cohort evidence fitted (an Insert may come in between).
  std::shared_lock lock(mu_, std::defer_lock);
  for (;;) {
    FitPendingCohortEvidence(threads);
    lock.lock();
    if (!evidence_pending_.load()) break;
    lock.unlock();
  }
  IdentifyResult result;
  result.gallery_subjects = alive_;
  const size_t nslots = slots_.size();

  // 1. Pre-filter: fused signature evidence per subject, keep the best.
  std::vector<uint32_t> shortlist;
  const size_t keep = std::max(options.min_prefilter_subjects,
                               static_cast<size_t>(options.prefilter_keep * static_cast<double>(alive_) + 0.5));
  if (options.prefilter_keep < 1.0 && keep < alive_) {
    std::vector<float> coarse(nslots, 0.0f);
    for (const ProbeFinger& pf : fingers) {
      const PositionTable& t = tables_[pf.position];
      const EdgePairProbe pairs = EdgePairProbe::Of(pf.prepared.features(), length_cells_);
      std::vector<uint16_t> pair_hits(t.slot.size(), 0);
      t.pairs.CountHits(pairs, pair_hits);
      const float density = pairs.density();
      const CohortSelection cohort = SelectCohort(pf.signature, pairs);
      ParallelFor(t.slot.size(), threads, [&](size_t b, size_t e, int) {
        for (size_t i = b; i < e; ++i) {
          coarse[t.slot[i]] += t.Evidence(pf.signature, i) + EdgePairZ(pair_hits[i], t.pair_codes[i], density) -
                               cohort.MeanOf(&t.cohort_evidence[i * cohort_.capacity()]);
        }
      });
    }
    std::vector<uint32_t> alive;
    alive.reserve(alive_);
    for (uint32_t s = 0; s < nslots; ++s) {
      if (slots_[s].alive) alive.push_back(s);
    }
    std::nth_element(alive.begin(), alive.begin() + static_cast<std::ptrdiff_t>(keep), alive.end(),
                     [&](uint32_t a, uint32_t b) { return coarse[a] > coarse[b]; });
    alive.resize(keep);
    std::sort(alive.begin(), alive.end());
    shortlist = std::move(alive);
  } else {
    for (uint32_t s = 0; s < nslots; ++s) {
      if (slots_[s].alive) shortlist.push_back(s);
    }
  }
  std::vector<uint8_t> selected(nslots, 0);
  for (uint32_t s : shortlist) selected[s] = 1;

  // 2. Full matching of the shortlisted subjects, finger by finger.
  std::vector<float> fused(nslots, 0.0f);
  std::vector<uint8_t> compared(nslots, 0);
  for (const ProbeFinger& pf : fingers) {
    const PositionTable& t = tables_[pf.position];
    ParallelFor(t.slot.size(), threads, [&](size_t b, size_t e, int) {
      Matcher matcher;
      for (size_t i = b; i < e; ++i) {
        const uint32_t s = t.slot[i];
        if (!selected[s] || !slots_[s].alive) continue;
        fused[s] += matcher.Score(pf.prepared, t.features[i]);
        ++compared[s];
      }
    });
  }
  std::vector<uint32_t> ranked;
  for (uint32_t s : shortlist) {
    if (compared[s] > 0 && fused[s] >= options.min_score) ranked.push_back(s);
  }
  const size_t top = std::min(options.max_candidates, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(top), ranked.end(),
                    [&](uint32_t a, uint32_t b) { return fused[a] != fused[b] ? fused[a] > fused[b] : a < b; });
  for (size_t i = 0; i < top; ++i) {
    result.candidates.push_back({slots_[ranked[i]].id, fused[ranked[i]], compared[ranked[i]]});
  }
  result.scored_subjects = shortlist.size();
  result.penetration = alive_ ? static_cast<double>(shortlist.size()) / static_cast<double>(alive_) : 0.0;
  result.shortlist.reserve(shortlist.size());
  for (uint32_t s : shortlist) result.shortlist.push_back(slots_[s].id);
  return result;
}

}  // namespace ektp::bio
