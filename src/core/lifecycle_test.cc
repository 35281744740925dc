#include "core/lifecycle.h"

#include <set>

#include "core/status_matchers.h"

namespace ektp {
namespace {

using ::ektp::testing::StatusIs;
using S = RecordState;

// Every legal (from, to) pair; every other pair of states must be refused.
const std::set<std::pair<S, S>> kLegal = {
    {S::kReceived, S::kValidated},          {S::kReceived, S::kFailedValidation},
    {S::kValidated, S::kDedupePending},     {S::kValidated, S::kFailedValidation},
    {S::kDedupePending, S::kUnique},
    {S::kDedupePending, S::kDuplicateSuspect}, {S::kDuplicateSuspect, S::kAdjudication},
    {S::kAdjudication, S::kUnique},         {S::kAdjudication, S::kRejectedDuplicate},
    {S::kUnique, S::kPrintReady},           {S::kPrintReady, S::kPrinted},
    {S::kPrinted, S::kPrintReady},          {S::kPrinted, S::kDispatched},
    {S::kDispatched, S::kActivated},        {S::kDispatched, S::kRevoked},
    {S::kActivated, S::kReplaced},
    {S::kActivated, S::kRevoked},
};

TEST(LifecycleTest, EveryPairOfRecordStates) {
  size_t pairs = 0;
  for (S from : kAllRecordStates) {
    for (S to : kAllRecordStates) {
      ++pairs;
      bool legal = kLegal.count({from, to}) > 0;
      EXPECT_EQ(IsLegalTransition(from, to), legal) << RecordStateName(from) << " -> " << RecordStateName(to);
      if (legal) {
        EXPECT_TRUE(CheckTransition(from, to).ok());
      } else {
        EXPECT_THAT(CheckTransition(from, to),
                    StatusIs(StatusCode::kFailedPrecondition,
                             "a record cannot go from " + std::string(RecordStateName(from)) + " to " +
                                 std::string(RecordStateName(to))));
      }
    }
  }
  EXPECT_EQ(pairs, 14u * 14u);
}

TEST(LifecycleTest, NamesRoundTrip) {
  for (S state : kAllRecordStates) {
    EXPECT_EQ(RecordStateFromName(RecordStateName(state)), state);
  }
  EXPECT_EQ(RecordStateFromName("printing"), std::nullopt);
  EXPECT_EQ(RecordStateName(S::kPrintReady), "print_ready");
}

TEST(LifecycleTest, TerminalStatesHaveNoSuccessor) {
  for (S state : {S::kFailedValidation, S::kRejectedDuplicate, S::kReplaced, S::kRevoked}) {
    EXPECT_TRUE(NextStates(state).empty()) << RecordStateName(state);
  }
}

TEST(LifecycleTest, EveryPairOfSuketStates) {
  for (SuketState from : kAllSuketStates) {
    for (SuketState to : kAllSuketStates) {
      bool legal = from == SuketState::kIssued && to != SuketState::kIssued;
      EXPECT_EQ(IsLegalTransition(from, to), legal) << SuketStateName(from) << " -> " << SuketStateName(to);
    }
  }
}

}  // namespace
}  // namespace ektp
