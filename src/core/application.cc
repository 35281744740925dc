#include "core/application.h"

#include <string>
#include <utility>

#include "core/text.h"

namespace ektp {
namespace {

constexpr std::pair<ApplicationKind, std::string_view> kKinds[] = {
    {ApplicationKind::kFirstCard, "first_card"}, {ApplicationKind::kLost, "lost"},
    {ApplicationKind::kDamaged, "damaged"},      {ApplicationKind::kDataChange, "data_change"},
    {ApplicationKind::kMoveIn, "move_in"},
};

}  // namespace

std::string_view ApplicationKindName(ApplicationKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

StatusOr<ApplicationKind> ParseApplicationKind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  return InvalidArgument("application kind '" + QuoteInput(name) +
                         "' is not one of first_card, lost, damaged, data_change, move_in");
}

std::string_view ApplicationKindLabel(ApplicationKind kind) {
  switch (kind) {
    case ApplicationKind::kFirstCard: return "Rekam baru (KTP pertama)";
    case ApplicationKind::kLost: return "Penggantian karena hilang";
    case ApplicationKind::kDamaged: return "Penggantian karena rusak";
    case ApplicationKind::kDataChange: return "Perubahan data";
    case ApplicationKind::kMoveIn: return "Pindah datang";
  }
  return "?";
}

}  // namespace ektp
