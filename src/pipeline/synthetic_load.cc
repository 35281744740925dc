#include "pipeline/synthetic_load.h"

#include <algorithm>
#include <cstdio>

#include "bio/benchmarks.h"
#include "bio/template.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/work_queue.h"
#include "store/record_repository.h"

namespace ektp::pipeline::synthetic {
namespace {

constexpr uint64_t kFreshSubjects = uint64_t{1} << 40;  // never in a gallery

}  // namespace

std::string GalleryNik(size_t i) {
  size_t r = i / 9999;
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "99%04zu%02zu%02zu%02zu%04zu", 101 + r / 33600, r % 28 + 1, (r / 28) % 12 + 1,
                (r / 336) % 100, i % 9999 + 1);
  return buffer;
}

Status ForEachGallerySubject(const std::string& cache_dir, size_t n, uint64_t seed,
                             const std::function<Status(bio::SubjectRecord)>& sink, nlohmann::json& info) {
  bio::ScaleOptions gallery;
  gallery.subjects = n;
  gallery.seed = seed;
  gallery.cache = cache_dir + "/pipeline-gallery-" + std::to_string(n) + "-seed" + std::to_string(seed) + ".bin";
  info["cache"] = gallery.cache;
  return bio::ForEachScaleSubject(
      gallery,
      [&sink](size_t index, bio::SubjectRecord subject) {
        subject.id = GalleryNik(index);
        return sink(std::move(subject));
      },
      info);
}

StatusOr<enrollment::Biometrics> Fingers(const bio::SynthGenerator& synth, uint64_t subject, int impression) {
  enrollment::Biometrics biometrics;
  biometrics.face_jpeg = {0xFF, 0xD8, 0xFF, 0xE0, static_cast<uint8_t>(subject), 0xFF, 0xD9};
  biometrics.signature_image = {0x89, 'P', 'N', 'G'};
  for (int finger : kFingers) {
    bio::MasterFinger master = synth.Master(subject, finger);
    ASSIGN_OR_RETURN(auto bytes, bio::EncodeTemplate(bio::SynthGenerator::ToRecord(
                                     synth.Impression(master, subject, finger, impression), finger)));
    biometrics.fingers.push_back({finger, std::move(bytes), enrollment::FingerException::kNone});
  }
  return biometrics;
}

StatusOr<Backlog> CreateBacklog(store::Connection& db, const Clock& clock, Random& random,
                                const crypto::DataKey& biometrics_key, const BacklogOptions& o) {
  const size_t gallery = o.gallery;
  const bio::SynthGenerator synth(o.seed, bio::SynthParams::Calibrated());  // as bio scale's gallery
  const int planted_total = static_cast<int>(o.records * o.duplicates + 0.5);
  Backlog out;
  store::RecordRepository records(db, clock);
  constexpr int kChunk = 100;
  int next_planted = 0;
  for (int first = 0; first < o.records; first += kChunk) {
    RETURN_IF_ERROR(db.Transact([&]() -> Status {
      std::vector<int64_t> chunk;
      for (int k = first; k < std::min(o.records, first + kChunk); ++k) {
        // Planted duplicates are spread evenly over the records and the gallery.
        // (Without a gallery the first record cannot be a copy: they start at the second.)
        const int first_planted = gallery > 0 ? 0 : 1;
        bool planted = next_planted < planted_total &&
                       k == first_planted + static_cast<int>(static_cast<int64_t>(next_planted) *
                                                             (o.records - first_planted) / planted_total);
        uint64_t subject = !planted    ? kFreshSubjects + static_cast<uint64_t>(k)
                           : gallery > 0 ? static_cast<uint64_t>(next_planted) * gallery / planted_total
                                         : kFreshSubjects + static_cast<uint64_t>(k - 1);
        ASSIGN_OR_RETURN(enrollment::Biometrics biometrics, Fingers(synth, subject, planted ? 2 : 1));
        store::Record record;
        record.registration_number = "ST-352101-01-B" + std::to_string(o.first_registration + k);
        record.application_kind = ApplicationKind::kFirstCard;
        record.resident_json =
            ResidentToJson(SyntheticResident(RegionRegistry::Default(), "35.21", random, clock.TodayWib())).dump();
        record.station_id = "ST-352101-01";
        ASSIGN_OR_RETURN(int64_t id, records.Create(record, "station:ST-352101-01/op:bench"));
        RETURN_IF_ERROR(records.Transition(id, RecordState::kReceived, RecordState::kValidated, "central:ingest", ""));
        ASSIGN_OR_RETURN(crypto::Bytes stored, EncryptRecordBiometrics(biometrics_key, id,
                                                                       enrollment::SerializeBiometrics(biometrics)));
        RETURN_IF_ERROR(db.Exec("INSERT INTO record_biometrics (record_id, biometrics) VALUES (?, ?)",
                                {id, store::Blob(std::move(stored))}));
        chunk.push_back(id);
        if (planted) {
          out.planted.insert(id);
          ++next_planted;
        }
      }
      RETURN_IF_ERROR(EnqueueJobs(db, clock, kDemographicsStage, chunk));
      out.ids.insert(out.ids.end(), chunk.begin(), chunk.end());
      return Status::Ok();
    }));
  }
  return out;
}

}  // namespace ektp::pipeline::synthetic
