#include "core/lifecycle.h"

#include <algorithm>
#include <string>

namespace ektp {
namespace {

struct RecordTransition {
  RecordState from;
  RecordState to;
};

using S = RecordState;
constexpr RecordTransition kRecordTransitions[] = {
    {S::kReceived, S::kValidated},
    {S::kReceived, S::kFailedValidation},
    {S::kValidated, S::kDedupePending},
    {S::kValidated, S::kFailedValidation},  // a demographic check at central failed
    {S::kDedupePending, S::kUnique},
    {S::kDedupePending, S::kDuplicateSuspect},
    {S::kDuplicateSuspect, S::kAdjudication},
    {S::kAdjudication, S::kUnique},
    {S::kAdjudication, S::kRejectedDuplicate},
    {S::kUnique, S::kPrintReady},
    {S::kPrintReady, S::kPrinted},
    {S::kPrinted, S::kPrintReady},
    {S::kPrinted, S::kDispatched},
    {S::kDispatched, S::kActivated},
    {S::kDispatched, S::kRevoked},  // never collected: the station returned and voided the card
    {S::kActivated, S::kReplaced},
    {S::kActivated, S::kRevoked},
};

constexpr std::pair<RecordState, std::string_view> kRecordStateNames[] = {
    {S::kReceived, "received"},
    {S::kValidated, "validated"},
    {S::kFailedValidation, "failed_validation"},
    {S::kDedupePending, "dedupe_pending"},
    {S::kDuplicateSuspect, "duplicate_suspect"},
    {S::kAdjudication, "adjudication"},
    {S::kRejectedDuplicate, "rejected_duplicate"},
    {S::kUnique, "unique"},
    {S::kPrintReady, "print_ready"},
    {S::kPrinted, "printed"},
    {S::kDispatched, "dispatched"},
    {S::kActivated, "activated"},
    {S::kReplaced, "replaced"},
    {S::kRevoked, "revoked"},
};

}  // namespace

std::string_view RecordStateName(RecordState state) {
  for (const auto& [s, name] : kRecordStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<RecordState> RecordStateFromName(std::string_view name) {
  for (const auto& [s, n] : kRecordStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsLegalTransition(RecordState from, RecordState to) {
  return std::any_of(std::begin(kRecordTransitions), std::end(kRecordTransitions),
                     [&](const RecordTransition& t) { return t.from == from && t.to == to; });
}

Status CheckTransition(RecordState from, RecordState to) {
  if (IsLegalTransition(from, to)) return Status::Ok();
  return FailedPrecondition("a record cannot go from " + std::string(RecordStateName(from)) + " to " +
                            std::string(RecordStateName(to)));
}

std::vector<RecordState> NextStates(RecordState from) {
  std::vector<RecordState> next;
  for (const RecordTransition& t : kRecordTransitions) {
    if (t.from == from) next.push_back(t.to);
  }
  return next;
}

std::string_view SuketStateName(SuketState state) {
  switch (state) {
    case SuketState::kIssued: return "issued";
    case SuketState::kExpired: return "expired";
    case SuketState::kRevoked: return "revoked";
  }
  return "unknown";
}

bool IsLegalTransition(SuketState from, SuketState to) {
  return from == SuketState::kIssued && (to == SuketState::kExpired || to == SuketState::kRevoked);
}

}  // namespace ektp
