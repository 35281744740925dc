// The public status lookup: a resident gives a NIK and the receipt
// (registration) number from enrollment and learns the stage of the
// application, where the card is and when it can be collected.
//
// Route (central/server.cc, docs/openapi.yaml; no station signature):
//   GET /api/v1/status?nik=<16 digits>&receipt=<registration number>
//     200  CardStatus as JSON, for a known pair AND for an unknown one
//     400  the NIK is not 16 digits or the receipt is malformed
//     429  rate limited; Retry-After gives the seconds to wait
//
// Nothing can be enumerated: an unknown pair (no such receipt, or a receipt
// whose card carries another NIK) gets status 200 with the same JSON keys as
// a known one ("found": false), after the same database queries (the queue
// and rate queries run against a placeholder regency), and the NIK is
// compared in constant time. The given NIK is matched against the NIK the
// card carries (records.holder_nik), falling back to records.nik.
//
// Collection estimate for a print_ready record: position p in the regency's
// print queue and the regency's print rate r (cards per day over the last
// `rate_window`) give today (WIB) + ceil(p / r) + collection_lag_days.
// Without a rate, or before the record reaches the queue: "belum dapat
// diperkirakan".
//
// Thread-safety: StatusLookup as its Connection; TokenBucketLimiter and
// StatusEndpoint are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_types.h"
#include "store/db.h"

namespace ektp::store {
class ConnectionPool;
}

namespace ektp::central {

struct CardStatus {
  bool found = false;
  std::string stage;           // machine code: a record state ("print_ready", ...) or "unknown"
  std::string stage_label;     // Bahasa Indonesia
  std::string location;        // "processing", "print_queue", "print_office", "pickup_point",
                               // "with_resident", "inactive", "unknown"
  std::string location_label;  // Bahasa Indonesia
  std::optional<int64_t> queue_position;  // 1-based, print_ready only
  std::optional<int64_t> queue_length;    // print_ready only
  std::optional<std::string> estimated_collection_date;  // "YYYY-MM-DD" (WIB)
  std::string estimate_label;  // Bahasa Indonesia; "belum dapat diperkirakan" without an estimate
};

// The JSON body of the route: every key present for every outcome; absent
// optionals are null.
std::string CardStatusToJson(const CardStatus& status);

struct StatusLookupOptions {
  std::chrono::hours rate_window{24 * 14};  // print rate measured over the last 14 days
  int collection_lag_days = 1;              // from print to ready for collection
};

class StatusLookup {
 public:
  // `connection` and `clock` must outlive the lookup.
  StatusLookup(store::Connection& connection, const Clock& clock, StatusLookupOptions options = {})
      : db_(connection), clock_(clock), options_(options) {}

  // kInvalidArgument when `nik` is not 16 digits or `receipt` is not 1-64 of
  // [A-Za-z0-9._-]. An unknown pair is OK with found == false.
  StatusOr<CardStatus> Lookup(std::string_view nik, std::string_view receipt);

 private:
  store::Connection& db_;
  const Clock& clock_;
  StatusLookupOptions options_;
};

// Token buckets per client key (the peer address): each holds up to
// `capacity` tokens and gains one every `refill_interval`; a request takes
// one. The least recently used bucket is dropped beyond `max_clients` (it
// comes back full, which only ever favours the client).
class TokenBucketLimiter {
 public:
  // `clock` must outlive the limiter. REQUIRES: capacity >= 1, refill_interval > 0.
  TokenBucketLimiter(const Clock& clock, int capacity, std::chrono::milliseconds refill_interval,
                     size_t max_clients = 100'000);

  // Takes a token for `client`: std::nullopt if it had one, otherwise how
  // long until it will (no token is taken then).
  std::optional<std::chrono::milliseconds> Acquire(const std::string& client);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
  };
  const Clock& clock_;
  const double capacity_;
  const std::chrono::milliseconds refill_interval_;
  const size_t max_clients_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

struct StatusEndpointOptions {
  int burst = 10;                                  // lookups a client may make at once
  std::chrono::milliseconds refill{6'000};         // then one more every 6 s (10 a minute)
  StatusLookupOptions lookup;
};

// The HTTP handler of GET /api/v1/status: the limiter, then a lookup on a
// pooled connection. `pool` and `clock` must outlive it.
class StatusEndpoint {
 public:
  StatusEndpoint(store::ConnectionPool& pool, const Clock& clock, StatusEndpointOptions options = {});
  net::HttpResponse Handle(const net::HttpRequest& request);

 private:
  store::ConnectionPool& pool_;
  const Clock& clock_;
  StatusEndpointOptions options_;
  TokenBucketLimiter limiter_;
};

}  // namespace ektp::central
