// What every document a resident takes home says about the service being
// free and where to complain (hand-over receipts, the Suket). One wording,
// in Bahasa Indonesia, so that residents see the same words everywhere.
#pragma once

#include <string_view>

namespace ektp {

inline constexpr std::string_view kFreeServiceNotice =
    "Layanan KTP-el tidak dipungut biaya (GRATIS). Jangan memberi uang atau imbalan kepada petugas.";
// SP4N-LAPOR!, the national public-service complaint channel.
inline constexpr std::string_view kComplaintChannel =
    "Pengaduan: LAPOR! www.lapor.go.id atau SMS 1708";

}  // namespace ektp
