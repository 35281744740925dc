// Moves the station's outbox up to central and central's feed down, whenever
// a link is up.
//
// Every answer the client acts on must be signed by central's key for the
// request it answers (sync/packet.h, sync/feed.h), over any transport: an
// unsigned, forged or replayed answer settles nothing (the packets stay
// pending, the feed cursor stays) and the pass fails with kUnauthenticated.
// Plain http:// URLs are refused unless SyncOptions::allow_plain_http.
//
// Up: pending packets go in batches (by count and bytes) to
// POST /api/v1/sync/up. Verdicts settle each packet (acked or parked). A
// transport error or 5xx leaves the batch pending and counts an attempt; the
// next pass resends it, and central's idempotency makes the resend harmless.
// Once a batch of the pass has been stored, up to `max_in_flight` batches are
// in flight on separate connections, so the link carries the next batch
// while central stores the previous one (docs/benchmarks.md, sync drain).
// 401/403 (not approved, revoked) stop the pass without touching the outbox.
// Until central has said this station is approved, a pass that succeeded or
// was refused ends by asking GET /api/v1/sync/cursor for the station's
// status; while it is pending the pass fails with kFailedPrecondition
// "waiting for approval" (also in status()), and Run retries every
// idle_interval, not with back-off, so the station syncs within idle_interval
// of its approval. (The status answer is not signed: a forged one can only
// delay a pass, never settle anything.)
// A poison packet never blocks the outbox: central gives each packet its own
// verdict; 413 for a batch halves the batch, and a packet refused with 413
// alone is parked with central's reason; a stored packet whose envelope is
// damaged (not valid UTF-8, so it cannot be sent as JSON) is parked unsent.
// Down: GET /api/v1/sync/down from the station's feed cursor; each signed
// page's items are applied idempotently, and an item whose own signature or
// content is bad is refused and kept with the reason (Station::ApplyFeedItem)
// so the feed moves on.
// Several central URLs may be configured; on a transport error, a 5xx or an
// answer not signed by central the client fails over to the next one.
//
// Thread-safety: SyncOnce/Run from one thread; status() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "core/clock.h"
#include "station/station.h"

namespace ektp::net {
class HttpClient;
}

namespace ektp::station {

struct SyncOptions {
  std::string pinned_cert_pem;  // REQUIRED for https URLs
  // Development only: allows http:// central URLs (answers are still verified,
  // but the link is readable). Default false; the client logs a warning
  // "sync.plain_http" when it uses one.
  bool allow_plain_http = false;
  int batch_packets = 64;
  int max_in_flight = 2;  // batches in flight at once, 1..4 (1 = stop and wait)
  size_t batch_bytes = 2 * 1024 * 1024;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds idle_interval{2'000};  // between passes when all is sent
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{60'000};
};

struct SyncStatus {
  std::string central_url;   // the URL last used
  std::string last_success;  // timestamp of the last complete pass, "" if none; kept in the station's database
  std::string last_error;    // "" after a complete pass
  bool waiting_for_approval = false;  // central holds this station as pending
  int consecutive_failures = 0;
};

class SyncClient {
 public:
  // `station`, `clock`, `random` and `key` must outlive the client; `station`
  // must have its own connection, not shared with other threads.
  SyncClient(Station& station, const Clock& clock, Random& random, const crypto::SigningKey& key, SyncOptions options);
  ~SyncClient();

  // One pass: uploads until the outbox has no pending packet, then pulls the
  // feed until it is empty. OK when both finished.
  Status SyncOnce();

  // Repeats SyncOnce until `stop`, sleeping idle_interval after a complete
  // pass and a full-jitter exponential backoff after a failure. When the
  // failed pass reached no central URL at all (the link is down), the backoff
  // is slept in slices of idle_interval, asking each URL's /healthz between
  // slices, and ends as soon as one answers: after an outage the station
  // syncs within idle_interval of the link's return, whatever its backoff.
  void Run(std::stop_token stop, const std::function<void(std::chrono::milliseconds)>& sleep);

  SyncStatus status() const;

 private:
  // Sends with failover across the configured URLs, on connection `slot`
  // (0 .. kMaxInFlight - 1); concurrent calls must use different slots.
  struct Answer {
    int status = 0;
    std::string body;
    std::string request_signature;  // the X-Ektp-Signature of the request answered
  };
  StatusOr<Answer> Send(std::string_view method, const std::string& target, const std::string& body, size_t slot = 0);
  StatusOr<net::HttpClient*> ClientFor(size_t url_index, size_t slot);
  // After an answer that is not central's: the next pass starts at the next URL.
  void DistrustCurrentUrl();
  Status Upload();
  // Applies central's answer to one batch, `sent` being sequence -> content
  // hash of its packets; *resize is set on 413 for a batch of several packets.
  Status Settle(const std::map<int64_t, std::string>& sent, StatusOr<Answer> answer, bool* resize);
  Status PullFeed();
  // OK once central holds this station as approved (asked until it does).
  Status CheckApproved();
  // Whether any central URL answers GET /healthz (any HTTP status).
  bool CentralAnswers();

  Station& station_;
  const Clock& clock_;
  Random& random_;
  const crypto::SigningKey& key_;
  SyncOptions options_;
  static constexpr size_t kMaxInFlight = 4;
  std::vector<std::unique_ptr<net::HttpClient>> clients_;  // [slot * urls + url]
  std::atomic<size_t> current_url_{0};
  int batch_packets_;
  bool approved_ = false;            // central said so; not asked again
  bool pending_at_central_ = false;  // the last pass found the station pending
  std::atomic<bool> reached_central_{false};  // some request of this pass got an HTTP answer
  mutable std::mutex mu_;
  SyncStatus status_;
};

}  // namespace ektp::station
