// The record lifecycle from DESIGN.md, as explicit state machines.
//
//   received -> validated -> dedupe_pending -> unique -> print_ready -> printed
//            \-> failed_validation  \-> duplicate_suspect -> adjudication
//                                         adjudication -> unique | rejected_duplicate
//   printed -> dispatched -> activated -> replaced | revoked
//   dispatched -> revoked   (never collected: returned and voided at the station)
//   printed -> print_ready   (the blank was spoiled; print again)
//   validated -> failed_validation   (a demographic check at central failed)
//
// A Suket (temporary certificate) has its own machine:
//   issued -> expired | revoked
//
// Only the transitions listed in lifecycle.cc are legal; every legal
// transition is recorded as an audited event by the store.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp {

enum class RecordState {
  kReceived,
  kValidated,
  kFailedValidation,
  kDedupePending,
  kDuplicateSuspect,
  kAdjudication,
  kRejectedDuplicate,
  kUnique,
  kPrintReady,
  kPrinted,
  kDispatched,
  kActivated,
  kReplaced,
  kRevoked,
};

inline constexpr RecordState kAllRecordStates[] = {
    RecordState::kReceived,   RecordState::kValidated,        RecordState::kFailedValidation,
    RecordState::kDedupePending, RecordState::kDuplicateSuspect, RecordState::kAdjudication,
    RecordState::kRejectedDuplicate, RecordState::kUnique,    RecordState::kPrintReady,
    RecordState::kPrinted,    RecordState::kDispatched,       RecordState::kActivated,
    RecordState::kReplaced,   RecordState::kRevoked,
};

std::string_view RecordStateName(RecordState state);  // "print_ready"
std::optional<RecordState> RecordStateFromName(std::string_view name);

bool IsLegalTransition(RecordState from, RecordState to);
// OK, or FailedPrecondition "cannot go from received to printed".
Status CheckTransition(RecordState from, RecordState to);
std::vector<RecordState> NextStates(RecordState from);

enum class SuketState { kIssued, kExpired, kRevoked };
inline constexpr SuketState kAllSuketStates[] = {SuketState::kIssued, SuketState::kExpired, SuketState::kRevoked};

std::string_view SuketStateName(SuketState state);
bool IsLegalTransition(SuketState from, SuketState to);

}  // namespace ektp
