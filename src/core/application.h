// Why a resident applies for an e-KTP, and what each kind of application needs.
#pragma once

#include <string_view>

#include "core/status.h"

namespace ektp {

enum class ApplicationKind {
  kFirstCard,   // first card, usually at 17; central assigns a new NIK
  kLost,        // replacement of a lost card; keeps the NIK
  kDamaged,     // replacement of a damaged card; keeps the NIK
  kDataChange,  // new card after a change of data; keeps the NIK
  kMoveIn,      // resident moved in from another region; keeps the NIK
};

std::string_view ApplicationKindName(ApplicationKind kind);  // "first_card", "lost", ...
StatusOr<ApplicationKind> ParseApplicationKind(std::string_view name);
// What a receipt prints: "Rekam baru (KTP pertama)", "Penggantian karena hilang", ...
std::string_view ApplicationKindLabel(ApplicationKind kind);

// Every kind except a first card refers to the resident's existing NIK.
inline bool NeedsPreviousNik(ApplicationKind kind) { return kind != ApplicationKind::kFirstCard; }

}  // namespace ektp
