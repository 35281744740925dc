// libFuzzer target for the station's feed items (Station::ApplyFeedItem).
// The input's first line is the item's kind, the rest its body. Each input
// is applied twice: with a signature taken from its own bytes (refused, and
// nothing applied), and signed with central's key, so the body parser
// behind the signature check is fuzzed as well. Never crashes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "station/station.h"
#include "store/db.h"

namespace {

struct Fixture {
  ektp::FakeClock clock{std::chrono::sys_days(std::chrono::year(2026) / 11 / 24)};
  ektp::crypto::SigningKey central = ektp::crypto::SigningKey::FromSeed(ektp::crypto::Bytes(32, 3));
  ektp::crypto::SigningKey station_key = ektp::crypto::SigningKey::FromSeed(ektp::crypto::Bytes(32, 4));
  std::unique_ptr<ektp::store::Connection> db;
  std::unique_ptr<ektp::station::Station> station;
  int64_t next_id = 0;

  Fixture() {
    auto opened = ektp::store::Open("sqlite::memory:", ektp::store::Schema::kStation);
    if (!opened.ok()) std::abort();
    db = std::move(*opened);
    ektp::station::Identity identity;
    identity.station_id = "ST-352101-01";
    identity.capabilities = {"enroll", "print"};
    identity.central_signing_key = central.public_key();
    station = std::make_unique<ektp::station::Station>(*db, clock, station_key, identity);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  std::string_view kind = text.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  std::span<const uint8_t> forged(data, std::min<size_t>(size, ektp::crypto::kSignatureSize));
  // A forged signature is always refused; the store itself never fails here.
  auto forged_outcome = f.station->ApplyFeedItem(++f.next_id, kind, body, forged);
  if (!forged_outcome.ok() || forged_outcome->refusal.ok()) std::abort();
  if (!f.station->ApplyFeedItem(++f.next_id, kind, body, f.central.Sign(body)).ok()) std::abort();
  return 0;
}
