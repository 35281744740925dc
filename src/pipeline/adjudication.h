// Adjudication: a person decides on each record the dedupe stage suspected
// of being a duplicate, with both sides in view (demographics, face photos,
// per-finger scores).
//
// Decisions:
//   different_people     the record goes on: a new NIK (or its own, for a
//                        replacement), the gallery, print_ready; but a
//                        replacement judged not to be the holder of the NIK
//                        it claims (its own card is the candidate) is
//                        rejected_duplicate
//   same_person_reject   the record is rejected_duplicate
//   same_person_update   the record is applied as an update of the
//                        candidate's NIK: it carries that NIK, replaces the
//                        candidate's fingers in the gallery, print_ready
// Each decision is audited (action "adjudication.decide") and flows down to
// the originating station as a record_status feed item.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/stages.h"

namespace ektp::pipeline {

enum class Verdict { kDifferentPeople, kSamePersonReject, kSamePersonUpdate };
std::string_view VerdictName(Verdict verdict);  // "different_people", ...
StatusOr<Verdict> ParseVerdict(std::string_view name);

struct AdjudicationDecision {
  int64_t record_id = 0;
  Verdict verdict = Verdict::kDifferentPeople;
  std::string candidate_nik;  // which candidate: required for the same-person verdicts
  std::string adjudicator;    // who decides (non-empty)
  std::string note;           // why (non-empty)
};

// Why a case was opened: `suspicion` in English, and `suspicion_facts`, the
// same as {"kind", ...facts} for a console to say in its own language:
// no_fingerprints; fingerprint_match {residents}; threshold_unreachable
// {fingers, max_score, threshold, gallery_subjects}; own_card_mismatch {nik}.
// Cases opened before the facts were kept have {}.
struct OpenCase {
  int64_t record_id = 0;
  std::string registration_number;
  std::string suspicion;
  nlohmann::json suspicion_facts;
  std::string created_at;
};

// Open cases, oldest first.
StatusOr<std::vector<OpenCase>> OpenCases(store::Connection& db, int limit);

// Both sides of a case: {"record": {...}, "suspicion", "suspicion_facts" (as
// in OpenCase), "status", "candidates":
// [{nik, fused_score, fingers: [{position, score}], record: {...}}], and the
// decision once made}. Each "record" has its registration number, state,
// NIKs, station and resident demographics. kNotFound for a record with no case.
StatusOr<nlohmann::json> CaseDetail(store::Connection& db, int64_t record_id);

// The JPEG face photo stored with a record's biometrics.
StatusOr<std::vector<uint8_t>> FacePhoto(store::Connection& db, const crypto::DataKey& biometrics_key, int64_t record_id);

// Applies a decision in one transaction (joining the caller's). Errors:
// kInvalidArgument for a missing adjudicator or note, or a candidate NIK that
// is not one of the case's; kFailedPrecondition if the case is already
// decided; kNotFound for a record with no case.
Status Decide(store::Connection& db, const StageContext& context, const AdjudicationDecision& decision);

}  // namespace ektp::pipeline
