#include "pipeline/stages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "bio/evaluation.h"
#include "bio/fusion.h"
#include "bio/matcher.h"
#include "bio/template.h"
#include "core/resident_json.h"
#include "enrollment/enrollment.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/feed_queue.h"
#include "pipeline/shards.h"
#include "printing/print_queue.h"

namespace ektp::pipeline {
namespace {

using store::Record;
using store::RecordRepository;

const std::string kIssuedStates = store::SqlStateList(
    {RecordState::kUnique, RecordState::kPrintReady, RecordState::kPrinted, RecordState::kDispatched,
     RecordState::kActivated});
const std::string kInProgressStates = store::SqlStateList(
    {RecordState::kValidated, RecordState::kDedupePending, RecordState::kDuplicateSuspect,
     RecordState::kAdjudication, RecordState::kUnique});

StatusOr<Resident> ResidentOf(const Record& record) {
  auto json = nlohmann::json::parse(record.resident_json, nullptr, false);
  if (json.is_discarded()) return DataLoss("record " + std::to_string(record.id) + " holds malformed resident JSON");
  return ResidentFromJson(json);
}

std::string KecamatanOf(const Resident& resident) { return resident.address.village_code.substr(0, 8); }

// Why the application cannot go on ("" if it can); a Status error is the
// database's, and the job is retried.
StatusOr<std::string> ApplicationProblem(store::Connection& db, const Record& record) {
  if (record.application_kind == ApplicationKind::kFirstCard) return std::string();
  const std::string kind(ApplicationKindName(record.application_kind));
  const std::string& nik = record.previous_nik;
  if (nik.empty()) return kind + " application names no previous NIK";
  ASSIGN_OR_RETURN(auto holders, db.Query("SELECT id, resident_json FROM records WHERE holder_nik = ? AND state IN " +
                                              kIssuedStates + " ORDER BY id DESC LIMIT 1",
                                          {nik}));
  if (holders.empty()) return "previous NIK " + nik + " is not in the national register";
  ASSIGN_OR_RETURN(auto earlier, db.Query("SELECT registration_number FROM records WHERE previous_nik = ? AND id < ? "
                                          "AND state IN " + kInProgressStates + " ORDER BY id LIMIT 1",
                                          {nik, record.id}));
  if (!earlier.empty()) {
    return "another application for NIK " + nik + " is in progress (registration " + earlier[0].Text(0) + ")";
  }
  Record previous;
  previous.id = holders[0].Int(0);
  previous.resident_json = holders[0].Text(1);
  ASSIGN_OR_RETURN(Resident before, ResidentOf(previous));
  ASSIGN_OR_RETURN(Resident now, ResidentOf(record));
  if (record.application_kind == ApplicationKind::kMoveIn && KecamatanOf(before) == KecamatanOf(now)) {
    return "move-in, but the new address is in kecamatan " + KecamatanOf(now) + ", the same as on the card of NIK " +
           nik;
  }
  if (record.application_kind == ApplicationKind::kDataChange) {
    nlohmann::json a = ResidentToJson(before), b = ResidentToJson(now);
    a.erase("nik");
    b.erase("nik");
    if (a == b) return "data change, but no field differs from the card of NIK " + nik;
  }
  return std::string();
}

StatusOr<std::optional<bio::SubjectRecord>> GallerySubject(store::Connection& db, const crypto::DataKey& key,
                                                           std::string_view subject_id) {
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT subject FROM gallery_log WHERE subject_id = ? ORDER BY seq DESC LIMIT 1",
                                       {subject_id}));
  if (rows.empty() || rows[0].IsNull(0)) return std::optional<bio::SubjectRecord>();
  ASSIGN_OR_RETURN(bio::SubjectRecord subject, DecryptGallerySubject(key, subject_id, rows[0].Bytes(0)));
  return std::optional<bio::SubjectRecord>(std::move(subject));
}

// What the adjudicator sees of one candidate: who, the fused score, and the
// score of each finger both have.
StatusOr<nlohmann::json> DescribeCandidate(store::Connection& db, const crypto::DataKey& biometrics_key,
                                           const bio::SubjectRecord& probe, std::string_view nik, float fused,
                                           int fingers_compared) {
  nlohmann::json candidate = {{"nik", nik}, {"fused_score", fused}, {"fingers_compared", fingers_compared}};
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT r.id, r.registration_number FROM gallery_log g JOIN records r "
                                       "ON r.id = g.record_id WHERE g.subject_id = ? ORDER BY g.seq DESC LIMIT 1",
                                       {nik}));
  if (!rows.empty()) {
    candidate["record_id"] = rows[0].Int(0);
    candidate["registration_number"] = rows[0].Text(1);
  }
  nlohmann::json fingers = nlohmann::json::array();
  ASSIGN_OR_RETURN(auto enrolled, GallerySubject(db, biometrics_key, nik));
  if (enrolled) {
    bio::Matcher matcher;
    for (const bio::FingerSample& p : probe.fingers) {
      for (const bio::FingerSample& c : enrolled->fingers) {
        if (c.position != p.position) continue;
        fingers.push_back({{"position", p.position},
                           {"score", matcher.Score(bio::PreparedProbe(p.features), c.features)}});
      }
    }
  }
  candidate["fingers"] = std::move(fingers);
  return candidate;
}

}  // namespace

float DedupeThreshold(double max_false_positives_per_search, double gallery, int fingers) {
  return bio::ConservativeThreshold(max_false_positives_per_search, fingers, gallery);
}

StatusOr<bio::SubjectRecord> LoadSubject(store::Connection& db, const crypto::DataKey& key, int64_t record_id,
                                         std::string subject_id) {
  auto biometrics = LoadRecordBiometrics(db, key, record_id);
  if (biometrics.status().code() == StatusCode::kNotFound) return DataLoss(biometrics.status().message());
  if (!biometrics.ok()) return biometrics.status();
  bio::SubjectRecord subject{std::move(subject_id), {}};
  for (const enrollment::FingerCapture& finger : biometrics->fingers) {
    if (finger.exception != enrollment::FingerException::kNone) continue;
    auto record = bio::DecodeTemplate(finger.template_bytes);
    if (!record.ok() || record->views.empty()) {
      return DataLoss("record " + std::to_string(record_id) + " finger " + std::to_string(finger.position) +
                      ": stored template does not decode");
    }
    ASSIGN_OR_RETURN(bio::FingerFeatures features, bio::FingerFeatures::FromView(record->views[0], record->format));
    subject.fingers.push_back({finger.position, std::move(features)});
  }
  return subject;
}

Status NotifyStation(store::Connection& db, const StageContext& context, int64_t record_id) {
  ASSIGN_OR_RETURN(Record record, RecordRepository(db, context.clock).Get(record_id));
  if (record.station_id.empty()) return Status::Ok();
  sync::RecordStatusBody status{record.registration_number, record.state, record.failure_reason, record.holder_nik};
  const QueuedFeedItem item{record.station_id,
                            sync::SignFeedItem({sync::FeedKind::kRecordStatus, std::move(status)}, context.signing)};
  return QueueFeedItems(db, context.clock, {&item, 1});
}

Status RunDemographics(store::Connection& db, const StageContext& context, int64_t record_id) {
  RecordRepository records(db, context.clock);
  ASSIGN_OR_RETURN(Record record, records.Get(record_id));
  if (record.state != RecordState::kValidated) return Status::Ok();
  ASSIGN_OR_RETURN(std::string problem, ApplicationProblem(db, record));
  constexpr std::string_view kActor = "central:demographics";
  if (problem.empty()) {
    RETURN_IF_ERROR(records.Transition(record_id, RecordState::kValidated, RecordState::kDedupePending, kActor,
                                       "demographic checks passed"));
    const int64_t ids[] = {record_id};
    return EnqueueJobs(db, context.clock, kDedupeStage, ids);
  }
  RETURN_IF_ERROR(records.Transition(record_id, RecordState::kValidated, RecordState::kFailedValidation, kActor, problem));
  RETURN_IF_ERROR(records.SetFailureReason(record_id, problem));
  return NotifyStation(db, context, record_id);
}

StatusOr<std::string> AcceptRecord(store::Connection& db, const StageContext& context, const Record& record,
                                   RecordState from, std::string holder_nik, std::string_view actor,
                                   std::string_view note) {
  RecordRepository records(db, context.clock);
  RETURN_IF_ERROR(records.Transition(record.id, from, RecordState::kUnique, actor, note));
  if (holder_nik.empty()) {
    ASSIGN_OR_RETURN(Resident resident, ResidentOf(record));
    ASSIGN_OR_RETURN(holder_nik, records.AssignNik(record.id, KecamatanOf(resident), resident.birth_date, resident.sex));
  } else {
    RETURN_IF_ERROR(records.SetHolderNik(record.id, holder_nik));
  }
  ASSIGN_OR_RETURN(bio::SubjectRecord subject, LoadSubject(db, context.biometrics_key, record.id, holder_nik));
  if (!subject.fingers.empty()) {
    RETURN_IF_ERROR(PutGallerySubject(db, context.biometrics_key, subject, record.id, FormatTimestamp(context.clock.Now())));
  }
  RETURN_IF_ERROR(records.Transition(record.id, RecordState::kUnique, RecordState::kPrintReady, actor,
                                     "card NIK " + holder_nik));
  RETURN_IF_ERROR(printing::PrintQueue(db, context.clock).Enqueue(record.id, actor));
  RETURN_IF_ERROR(records.SetFailureReason(record.id, ""));
  return holder_nik;
}

StatusOr<OwnSearch> SearchOwnGallery(store::Connection& db, const StageContext& context, int64_t record_id) {
  RETURN_IF_ERROR(context.gallery.CatchUpUnlessBusy(db, kMaxSearchLag));
  OwnSearch own;
  ASSIGN_OR_RETURN(own.probe, LoadSubject(db, context.biometrics_key, record_id, ""));
  ASSIGN_OR_RETURN(GalleryMirror::Search search, context.gallery.SearchAtPosition(own.probe, context.dedupe.identify));
  own.search.position = search.position;
  own.search.gallery_subjects = search.gallery_subjects;
  own.search.candidates = std::move(search.candidates);
  return own;
}

namespace {

// REQUIRES: `searched` is this record's search of the in-process gallery
// unless matcher shards search.
StatusOr<GallerySearch> SearchGallery(store::Connection& db, const StageContext& context, int64_t record_id,
                                      const bio::SubjectRecord& probe, const OwnSearch* searched) {
  const DedupeOptions& options = context.dedupe;
  if (options.matcher_shards > 0) {
    return MergeShardSearches(db, context.biometrics_key, record_id, probe, options.matcher_shards, options.identify,
                              context.decoded_log);
  }
  return CompleteSearch(db, context.biometrics_key, probe, {{1, searched->search}}, 1, options.identify,
                        context.decoded_log);
}

}  // namespace

Status RunDedupe(store::Connection& db, const StageContext& context, int64_t record_id,
                 const OwnSearch* searched) {
  // Decisions take turns across processes: each sees every earlier one.
  RETURN_IF_ERROR(db.Exec("UPDATE pipeline_locks SET name = name WHERE name = 'dedupe'"));
  RecordRepository records(db, context.clock);
  ASSIGN_OR_RETURN(Record record, records.Get(record_id));
  if (record.state != RecordState::kDedupePending) return Status::Ok();
  std::optional<OwnSearch> searched_here;
  if (searched == nullptr && context.dedupe.matcher_shards == 0) {
    ASSIGN_OR_RETURN(searched_here, SearchOwnGallery(db, context, record_id));
    searched = &*searched_here;
  }
  bio::SubjectRecord loaded;
  if (searched == nullptr) {
    ASSIGN_OR_RETURN(loaded, LoadSubject(db, context.biometrics_key, record_id, ""));
  }
  const bio::SubjectRecord& probe = searched != nullptr ? searched->probe : loaded;
  const std::string& own_nik = record.previous_nik;  // a replacement's own earlier card

  nlohmann::json suspects = nlohmann::json::array();
  bool matched_own = false;
  // Set when the gallery is so large that the probe's fingers, each at the
  // highest score, cannot reach the threshold (docs/operations.md, "Caveats").
  std::string unreachable;
  nlohmann::json unreachable_facts;
  if (!probe.fingers.empty()) {
    ASSIGN_OR_RETURN(GallerySearch search, SearchGallery(db, context, record_id, probe, searched));
    double gallery = static_cast<double>(std::max<size_t>(search.gallery_subjects, 1));
    const int fingers = static_cast<int>(probe.fingers.size());
    const float needed = DedupeThreshold(context.dedupe.max_false_positives_per_search, gallery, fingers);
    if (search.gallery_subjects > 0 && needed > bio::kMaxFingerScore * static_cast<float>(fingers)) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "%d finger(s) fuse to at most %.0f, below the threshold %.2f for a gallery of %zu subject(s): "
                    "no duplicate can be found by fingerprint; a person must check",
                    fingers, bio::kMaxFingerScore * static_cast<float>(fingers), static_cast<double>(needed),
                    search.gallery_subjects);
      unreachable = text;
      unreachable_facts = {{"kind", "threshold_unreachable"},
                           {"fingers", fingers},
                           {"max_score", bio::kMaxFingerScore * static_cast<float>(fingers)},
                           {"threshold", needed},
                           {"gallery_subjects", search.gallery_subjects}};
    }
    for (const bio::Candidate& c : search.candidates) {
      const double impostor = bio::ConservativeImpostorProbability(c.score, c.fingers_compared);
      if (bio::AnyFalseMatchProbability(impostor, gallery) > context.dedupe.max_false_positives_per_search) continue;
      if (!own_nik.empty() && c.subject_id == own_nik) {
        matched_own = true;
        continue;
      }
      ASSIGN_OR_RETURN(nlohmann::json described, DescribeCandidate(db, context.biometrics_key, probe, c.subject_id, c.score,
                                                                     c.fingers_compared));
      suspects.push_back(std::move(described));
    }
  }
  // Why a case opens, in English for the record's history and the CLI, and
  // as a kind with its facts for the consoles (adjudication.h, CaseDetail).
  std::string reason;
  nlohmann::json facts;
  if (probe.fingers.empty()) {
    reason = "no fingerprint to compare (every finger has an exception); a person must check";
    facts = {{"kind", "no_fingerprints"}};
  } else if (!suspects.empty()) {
    reason = "duplicate suspect: fingerprints match " + std::to_string(suspects.size()) + " resident(s) on record";
    facts = {{"kind", "fingerprint_match"}, {"residents", suspects.size()}};
  } else if (!unreachable.empty()) {
    reason = unreachable;
    facts = std::move(unreachable_facts);
  } else if (!own_nik.empty() && !matched_own) {
    ASSIGN_OR_RETURN(auto own, GallerySubject(db, context.biometrics_key, own_nik));
    if (own) {
      reason = "fingerprints do not match the card of NIK " + own_nik;
      facts = {{"kind", "own_card_mismatch"}, {"nik", own_nik}};
      ASSIGN_OR_RETURN(nlohmann::json described, DescribeCandidate(db, context.biometrics_key, probe, own_nik, 0, 0));
      suspects.push_back(std::move(described));
    }
  }
  constexpr std::string_view kActor = "central:dedupe";
  if (reason.empty()) {
    ASSIGN_OR_RETURN(std::string nik, AcceptRecord(db, context, record, RecordState::kDedupePending, own_nik, kActor,
                                                   "no duplicate found"));
    return NotifyStation(db, context, record_id);
  }
  RETURN_IF_ERROR(records.Transition(record_id, RecordState::kDedupePending, RecordState::kDuplicateSuspect, kActor,
                                     reason));
  RETURN_IF_ERROR(records.Transition(record_id, RecordState::kDuplicateSuspect, RecordState::kAdjudication, kActor,
                                     "queued for adjudication"));
  RETURN_IF_ERROR(records.SetFailureReason(record_id, reason));
  RETURN_IF_ERROR(db.Exec("INSERT INTO adjudications (record_id, suspicion, suspicion_facts, candidates, status, "
                          "created_at) VALUES (?, ?, ?, ?, 'open', ?)",
                          {record_id, reason, facts.dump(), suspects.dump(), FormatTimestamp(context.clock.Now())}));
  return NotifyStation(db, context, record_id);
}

}  // namespace ektp::pipeline
