#include "central/status_lookup.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/lifecycle.h"
#include "core/region.h"
#include "crypto/crypto.h"
#include "printing/print_queue.h"
#include "service/log.h"
#include "service/metrics.h"
#include "store/pool.h"

namespace ektp::central {
namespace {

using namespace std::chrono;

// Queue and rate queries of an unknown pair run against this regency, which
// no domicile has, so both paths do the same work.
constexpr std::string_view kNoRegency = "00.00";
// Compared against when no record matches the receipt (any 16 digits).
constexpr std::string_view kNoNik = "0000000000000000";
constexpr std::string_view kNoEstimate = "belum dapat diperkirakan";

bool ValidNik(std::string_view nik) {
  return nik.size() == 16 && std::all_of(nik.begin(), nik.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ValidReceipt(std::string_view receipt) {
  if (receipt.empty() || receipt.size() > 64) return false;
  return std::all_of(receipt.begin(), receipt.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

// Equal strings, in time that depends on neither content nor length: both
// are hashed to 32 bytes, which are compared without an early exit.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const auto ha = crypto::Sha256(crypto::AsBytes(a));
  const auto hb = crypto::Sha256(crypto::AsBytes(b));
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < ha.size(); ++i) diff = diff | (ha[i] ^ hb[i]);
  return diff == 0;
}

std::string RegencyName(const std::string& code) {
  const Region* region = RegionRegistry::Default().Find(code);
  return region == nullptr ? code : region->name;
}

std::string DatePlusDays(year_month_day today, int64_t days) {
  return FormatDate(year_month_day{sys_days(today) + std::chrono::days(days)});
}

// What the lookup tells a resident at each stage, in Bahasa Indonesia. An
// empty location_label is filled in by the lookup (queue position, regency).
struct StageText {
  std::string_view stage_label;
  std::string_view location;
  std::string_view location_label;
};

StageText TextOf(RecordState state) {
  using S = RecordState;
  switch (state) {
    case S::kReceived:
    case S::kValidated:
    case S::kDedupePending:
    case S::kUnique:
      return {"Data sedang diverifikasi di pusat", "processing", "Kartu belum dicetak; data masih diproses"};
    case S::kDuplicateSuspect:
    case S::kAdjudication:
      return {"Data sedang diperiksa petugas (kemungkinan data ganda)", "processing",
              "Kartu belum dicetak; data masih diperiksa"};
    case S::kFailedValidation:
      return {"Data perlu diperbaiki; hubungi kantor tempat perekaman", "processing", "Kartu belum dicetak"};
    case S::kRejectedDuplicate:
      return {"Permohonan ditolak karena data ganda; hubungi Disdukcapil", "inactive", "Kartu tidak akan dicetak"};
    case S::kPrintReady: return {"Menunggu pencetakan", "print_queue", ""};
    case S::kPrinted: return {"Kartu sudah dicetak", "print_office", ""};
    case S::kDispatched:
      return {"Kartu siap diambil", "pickup_point", "Kartu sudah dikirim ke tempat pengambilan"};
    case S::kActivated:
      return {"Kartu sudah diambil dan diaktifkan", "with_resident", "Kartu sudah diterima pemiliknya"};
    case S::kReplaced: return {"Kartu sudah diganti dengan kartu baru", "inactive", "Kartu tidak berlaku lagi"};
    case S::kRevoked: return {"Kartu sudah dicabut", "inactive", "Kartu tidak berlaku lagi"};
  }
  return {"Tidak diketahui", "unknown", "Tidak diketahui"};  // unreachable: every state has a case
}

void Describe(RecordState state, CardStatus& out) {
  const StageText text = TextOf(state);
  out.stage_label = text.stage_label;
  out.location = text.location;
  out.location_label = text.location_label;
}

}  // namespace

std::string CardStatusToJson(const CardStatus& s) {
  auto optional = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json out = {{"found", s.found},
                        {"stage", s.stage},
                        {"stage_label", s.stage_label},
                        {"location", s.location},
                        {"location_label", s.location_label},
                        {"queue_position", optional(s.queue_position)},
                        {"queue_length", optional(s.queue_length)},
                        {"estimated_collection_date", optional(s.estimated_collection_date)},
                        {"estimate_label", s.estimate_label}};
  return out.dump();
}

StatusOr<CardStatus> StatusLookup::Lookup(std::string_view nik, std::string_view receipt) {
  if (!ValidNik(nik)) return InvalidArgument("nik must be 16 digits");
  if (!ValidReceipt(receipt)) return InvalidArgument("receipt must be 1-64 of A-Z, a-z, 0-9, '.', '_' and '-'");
  CardStatus out;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT r.id, r.state, r.nik, r.holder_nik, q.regency_code FROM records r "
                                          "LEFT JOIN print_queue q ON q.record_id = r.id "
                                          "WHERE r.registration_number = ?",
                                          {receipt}));
    std::string stored_nik(kNoNik);
    if (!rows.empty()) stored_nik = !rows[0].Text(3).empty() ? rows[0].Text(3) : rows[0].Text(2);
    // Both paths compare; a record without any NIK yet never matches.
    const bool nik_matches = ConstantTimeEquals(nik, stored_nik);
    const bool found = !rows.empty() && !stored_nik.empty() && nik_matches;

    const int64_t record_id = found ? rows[0].Int(0) : 0;
    std::string regency = found && !rows[0].IsNull(4) ? rows[0].Text(4) : std::string(kNoRegency);
    printing::PrintQueue queue(db_, clock_);
    ASSIGN_OR_RETURN(printing::QueuePosition position, queue.PositionIn(regency, record_id));
    ASSIGN_OR_RETURN(double rate, queue.PrintRatePerDay(regency, options_.rate_window));

    out = CardStatus{};
    out.found = found;
    out.estimate_label = std::string(kNoEstimate);
    if (!found) {
      out.stage = "unknown";
      out.stage_label = "Data tidak ditemukan; periksa NIK dan nomor tanda terima";
      out.location = "unknown";
      out.location_label = "Tidak diketahui";
      return Status::Ok();
    }
    auto state = RecordStateFromName(rows[0].Text(1));
    if (!state) return DataLoss("record " + std::to_string(record_id) + " has unknown state");
    out.stage = std::string(RecordStateName(*state));
    Describe(*state, out);
    const year_month_day today = clock_.TodayWib();
    switch (*state) {
      case RecordState::kPrintReady:
        if (position.position > 0) {
          out.queue_position = position.position;
          out.queue_length = position.queued;
          out.location_label = "Dalam antrean cetak Disdukcapil " + RegencyName(regency) + ", urutan ke-" +
                               std::to_string(position.position) + " dari " + std::to_string(position.queued);
          if (rate > 0) {
            // The epsilon keeps an exact quotient (2 / (1/7)) from rounding up a day.
            const auto days = static_cast<int64_t>(std::ceil(static_cast<double>(position.position) / rate - 1e-9));
            out.estimated_collection_date = DatePlusDays(today, days + options_.collection_lag_days);
            out.estimate_label = "perkiraan dapat diambil mulai " + *out.estimated_collection_date;
          }
        } else {
          out.location_label = "Menunggu masuk antrean cetak";
        }
        break;
      case RecordState::kPrinted:
        out.location_label = regency == kNoRegency ? "Sudah dicetak di Disdukcapil"
                                                   : "Sudah dicetak di Disdukcapil " + RegencyName(regency);
        out.estimated_collection_date = DatePlusDays(today, options_.collection_lag_days);
        out.estimate_label = "perkiraan dapat diambil mulai " + *out.estimated_collection_date;
        break;
      case RecordState::kDispatched:
        out.estimated_collection_date = FormatDate(today);
        out.estimate_label = "sudah dapat diambil";
        break;
      case RecordState::kActivated:
        out.estimate_label = "sudah diambil";
        break;
      default:
        break;
    }
    return Status::Ok();
  }));
  return out;
}

TokenBucketLimiter::TokenBucketLimiter(const Clock& clock, int capacity, std::chrono::milliseconds refill_interval,
                                       size_t max_clients)
    : clock_(clock), capacity_(capacity), refill_interval_(refill_interval), max_clients_(max_clients) {}

std::optional<std::chrono::milliseconds> TokenBucketLimiter::Acquire(const std::string& client) {
  const TimePoint now = clock_.Now();
  const double per_ms = 1.0 / static_cast<double>(refill_interval_.count());
  auto refilled = [&](const Bucket& bucket) {
    const double elapsed_ms = std::max(0.0, duration<double, std::milli>(now - bucket.updated).count());
    return std::min(capacity_, bucket.tokens + elapsed_ms * per_ms);
  };
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // Full buckets are the same as absent ones; drop them, else the stalest.
      std::erase_if(buckets_, [&](const auto& entry) { return refilled(entry.second) >= capacity_; });
      if (buckets_.size() >= max_clients_) {
        buckets_.erase(std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
          return a.second.updated < b.second.updated;
        }));
      }
    }
    it = buckets_.emplace(client, Bucket{capacity_, now}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens = refilled(bucket);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / per_ms)));
}

StatusEndpoint::StatusEndpoint(store::ConnectionPool& pool, const Clock& clock, StatusEndpointOptions options)
    : pool_(pool), clock_(clock), options_(options), limiter_(clock, options.burst, options.refill) {}

net::HttpResponse StatusEndpoint::Handle(const net::HttpRequest& request) {
  static service::Counter& limited = service::MetricsRegistry::Default().GetCounter(
      "ektp_status_lookups_total", "Public status lookups by outcome", {{"outcome", "rate_limited"}});
  static service::Counter& answered = service::MetricsRegistry::Default().GetCounter(
      "ektp_status_lookups_total", "Public status lookups by outcome", {{"outcome", "answered"}});
  static service::Counter& refused = service::MetricsRegistry::Default().GetCounter(
      "ektp_status_lookups_total", "Public status lookups by outcome", {{"outcome", "bad_request"}});
  if (auto wait = limiter_.Acquire(request.remote_addr)) {
    limited.Increment();
    const int64_t seconds = std::max<int64_t>(1, (wait->count() + 999) / 1000);
    auto response = net::HttpResponse::JsonError(
        429, "too many status lookups from this address; retry after " + std::to_string(seconds) + " s",
        "Terlalu banyak pemeriksaan dari alamat ini. Coba lagi dalam " + std::to_string(seconds) + " detik.");
    response.headers.emplace("Retry-After", std::to_string(seconds));
    return response;
  }
  auto db = pool_.Acquire();
  if (!db.ok()) return net::HttpResponse::JsonError(503, db.status().ToString());
  auto status = StatusLookup(**db, clock_, options_.lookup).Lookup(request.query("nik"), request.query("receipt"));
  if (!status.ok()) {
    if (status.status().code() == StatusCode::kInvalidArgument) {
      refused.Increment();
      const bool nik = status.status().message().starts_with("nik");
      return net::HttpResponse::JsonError(
          400, status.status().ToString(),
          nik ? "NIK harus tepat 16 angka, seperti pada Kartu Keluarga. Periksa lagi."
              : "Nomor registrasi ditulis persis seperti pada tanda terima perekaman. Periksa lagi.");
    }
    service::LogError("central.status_lookup_failed", {{"error", status.status().ToString()}});
    return net::HttpResponse::JsonError(status.status().code() == StatusCode::kUnavailable ? 503 : 500,
                                        "status lookup failed; try again later");
  }
  answered.Increment();
  auto response = net::HttpResponse::Json(200, CardStatusToJson(*status));
  response.headers.emplace("Cache-Control", "no-store");
  return response;
}

}  // namespace ektp::central
