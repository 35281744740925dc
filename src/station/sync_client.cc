#include "station/sync_client.h"

#include <algorithm>
#include <deque>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "net/http_client.h"
#include "service/log.h"
#include "sync/feed.h"
#include "sync/request_auth.h"

namespace ektp::station {
namespace {

// The "error" text of central's JSON answer, else the raw body. Never throws,
// whatever the answer holds.
std::string ErrorText(const nlohmann::json& json, const std::string& body) {
  auto error = json.is_object() ? json.find("error") : json.end();
  return error != json.end() && error->is_string() ? error->get<std::string>() : body;
}

constexpr int kFeedPageItems = 200;

}  // namespace

SyncClient::SyncClient(Station& station, const Clock& clock, Random& random, const crypto::SigningKey& key,
                       SyncOptions options)
    : station_(station),
      clock_(clock),
      random_(random),
      key_(key),
      options_(std::move(options)),
      clients_(station.identity().central_urls.size() * kMaxInFlight),
      batch_packets_(options_.batch_packets) {
  auto last = station_.LastSyncSuccess();
  if (!last.ok()) {
    service::LogWarn("sync.last_success_unknown", {{"error", last.status().ToString()}});
  } else if (*last) {
    status_.last_success = FormatTimestamp(**last);
  }
}

SyncClient::~SyncClient() = default;

StatusOr<net::HttpClient*> SyncClient::ClientFor(size_t url_index, size_t slot) {
  auto& client = clients_[slot * station_.identity().central_urls.size() + url_index];
  if (!client) {
    const std::string& url = station_.identity().central_urls[url_index];
    if (url.starts_with("http://")) {
      if (!options_.allow_plain_http) {
        return FailedPrecondition("central URL " + url +
                                  " is plain HTTP; use https:// (plain HTTP needs the development flag "
                                  "--insecure-plain-http)");
      }
      service::LogWarn("sync.plain_http", {{"url", url}});
    }
    net::HttpClientOptions options;
    options.pinned_cert_pem = options_.pinned_cert_pem;
    options.read_timeout = options_.request_timeout;
    options.write_timeout = options_.request_timeout;
    options.connect_timeout = std::min<std::chrono::milliseconds>(options_.request_timeout, std::chrono::seconds(5));
    ASSIGN_OR_RETURN(client, net::HttpClient::Create(station_.identity().central_urls[url_index], options));
  }
  return client.get();
}

StatusOr<SyncClient::Answer> SyncClient::Send(std::string_view method, const std::string& target,
                                              const std::string& body, size_t slot) {
  const auto& urls = station_.identity().central_urls;
  if (urls.empty()) return FailedPrecondition("no central URL is configured");
  Status last = Unavailable("no central URL answered");
  for (size_t tried = 0; tried < urls.size(); ++tried) {
    size_t index = (current_url_ + tried) % urls.size();
    ASSIGN_OR_RETURN(net::HttpClient * client, ClientFor(index, slot));
    sync::RequestSignature signature =
        sync::SignRequest(key_, station_.identity().station_id, method, target, body, clock_.Now());
    net::HttpHeaders headers = {{"x-ektp-station", signature.station_id},
                                {"x-ektp-timestamp", signature.timestamp},
                                {"x-ektp-signature", signature.signature_base64}};
    auto response = method == "GET" ? client->Get(target, headers)
                                    : client->Post(target, body, "application/json", headers);
    if (response.ok()) reached_central_ = true;
    if (response.ok() && response->status < 500) {
      if (index != current_url_) service::LogWarn("sync.failover", {{"url", urls[index]}});
      current_url_ = index;
      std::lock_guard lock(mu_);
      status_.central_url = urls[index];
      return Answer{response->status, response->body, signature.signature_base64};
    }
    last = response.ok() ? Unavailable("central " + urls[index] + " answered " + std::to_string(response->status) +
                                       ": " + response->body.substr(0, 200))
                         : response.status();
    // A wrong certificate or a plain-HTTP URL without the development flag is
    // not a transient fault and must not be masked by failover.
    if (last.code() == StatusCode::kUnauthenticated || last.code() == StatusCode::kFailedPrecondition) return last;
  }
  return last;
}

void SyncClient::DistrustCurrentUrl() {
  size_t urls = station_.identity().central_urls.size();
  size_t current = current_url_;
  if (urls > 1) current_url_.compare_exchange_strong(current, (current + 1) % urls);
}

Status SyncClient::Upload() {
  struct InFlight {
    std::map<int64_t, std::string> packets;  // sequence -> content hash
    size_t bytes = 0;
    size_t slot = 0;
    std::future<StatusOr<Answer>> sent;
  };
  std::deque<InFlight> flight;  // in sending order; every future is waited for before returning
  Status failure;               // the first failure of the pass; nothing new goes out after it
  bool stored_one = false;      // a batch of this pass was stored: the link and central are up
  bool resizing = false;        // central said 413: let the flight land, then send smaller batches
  bool staggered = false;       // the first batch sent alongside another was a half batch
  size_t max_in_flight = std::clamp<size_t>(options_.max_in_flight, 1, kMaxInFlight);
  while (true) {
    size_t depth = stored_one ? max_in_flight : 1;
    while (failure.ok() && !resizing && flight.size() < depth) {
      // Batches sent together cross the link together and then both wait for
      // central, leaving the link idle. A half batch the first time the
      // pipeline deepens puts them half a batch apart, and settling in
      // completion order keeps them apart.
      bool half = !flight.empty() && !staggered;
      staggered = staggered || half;
      int limit = half ? std::max(1, batch_packets_ / 2) : batch_packets_;
      size_t limit_bytes = half ? options_.batch_bytes / 2 : options_.batch_bytes;
      // The pending packets after those in flight: these are still pending
      // and come first, in sequence order.
      size_t skip = 0, skip_bytes = 0;
      for (const InFlight& batch : flight) {
        skip += batch.packets.size();
        skip_bytes += batch.bytes;
      }
      auto pending = station_.PendingPackets(limit + static_cast<int>(skip), limit_bytes + skip_bytes);
      if (!pending.ok()) {
        failure = pending.status();
        break;
      }
      int64_t last = flight.empty() ? 0 : flight.back().packets.rbegin()->first;
      nlohmann::json packets = nlohmann::json::array();
      InFlight batch;
      bool parked = false;
      for (const auto& [sequence, packet] : *pending) {
        if (sequence <= last) continue;
        if (!IsValidUtf8(packet.envelope_text)) {
          // Stored bytes damaged (disk, hand edit): it cannot travel as JSON and would block every batch.
          Status park = station_.Park(sequence, kDamagedPacketReason);
          if (!park.ok()) failure = park;
          parked = true;
          service::LogWarn("sync.packet_parked", {{"sequence", sequence}, {"error", "envelope is not valid UTF-8"}});
          continue;
        }
        packets.push_back(sync::PacketToJson(packet));
        batch.packets.emplace(sequence, packet.ContentHash());
        batch.bytes += packet.envelope_text.size();
      }
      if (batch.packets.empty()) {
        if (parked && failure.ok()) continue;  // the packets after those parked
        break;
      }
      std::vector<bool> used(max_in_flight, false);
      for (const InFlight& other : flight) used[other.slot] = true;
      while (used[batch.slot]) ++batch.slot;
      batch.sent = std::async(std::launch::async, [this, body = nlohmann::json{{"packets", packets}}.dump(),
                                                   slot = batch.slot] {
        return Send("POST", "/api/v1/sync/up", body, slot);
      });
      flight.push_back(std::move(batch));
    }
    if (flight.empty()) {
      if (resizing && failure.ok()) {
        resizing = false;
        continue;
      }
      return failure;
    }
    // Settle whichever batch central answers first.
    auto done = flight.end();
    while (done == flight.end()) {
      for (auto it = flight.begin(); it != flight.end() && done == flight.end(); ++it) {
        if (it->sent.wait_for(std::chrono::seconds(0)) == std::future_status::ready) done = it;
      }
      if (done == flight.end()) flight.front().sent.wait_for(std::chrono::milliseconds(2));
    }
    InFlight batch = std::move(*done);
    flight.erase(done);
    bool too_large = false;
    Status settled = Settle(batch.packets, batch.sent.get(), &too_large);
    if (too_large) {
      resizing = true;
    } else if (settled.ok()) {
      stored_one = true;
    } else if (failure.ok()) {
      failure = settled;
    }
  }
}

Status SyncClient::Settle(const std::map<int64_t, std::string>& sent, StatusOr<Answer> answer, bool* resize) {
  std::vector<int64_t> sequences;
  for (const auto& [sequence, hash] : sent) sequences.push_back(sequence);
  if (!answer.ok()) {
    (void)station_.NoteAttemptFailed(sequences, answer.status().message());
    return answer.status();
  }
  if (answer->status == 413) {
    // Too large for central: smaller batches go instead. A packet refused
    // alone can never be delivered and is parked, so it blocks nothing behind
    // it. (Other refusals of a whole request, such as 400, may be central's
    // or a proxy's fault for every packet alike; they are retried.)
    if (sequences.size() > 1) {
      batch_packets_ = std::max(1, std::min(batch_packets_, static_cast<int>(sequences.size())) / 2);
      *resize = true;
      return Status::Ok();
    }
    std::string error = ErrorText(nlohmann::json::parse(answer->body, nullptr, false), answer->body);
    service::LogWarn("sync.packet_parked", {{"sequence", sequences[0]}, {"http_status", answer->status}});
    return station_.Park(sequences[0], "central refuses this packet (HTTP 413): " + QuoteInput(error, 200));
  }
  auto json = nlohmann::json::parse(answer->body, nullptr, false);
  std::string error = ErrorText(json, answer->body);
  if (answer->status == 401 || answer->status == 403) return PermissionDenied("central refused this station: " + error);
  if (answer->status != 200) {
    (void)station_.NoteAttemptFailed(sequences, error);
    return Unavailable("central answered " + std::to_string(answer->status) + ": " + error);
  }
  auto response = sync::UploadResponseFromJson(json);
  Status verified = response.ok() ? sync::VerifyUploadResponse(*response, station_.identity().central_signing_key,
                                                               station_.identity().station_id,
                                                               answer->request_signature, sent)
                                  : response.status();
  if (!verified.ok()) {
    // Nothing is settled on an answer central did not sign for this batch:
    // the packets stay pending and go again, to the next URL first.
    service::LogWarn("sync.answer_refused", {{"error", verified.message()}});
    DistrustCurrentUrl();
    (void)station_.NoteAttemptFailed(sequences, verified.message());
    return Unauthenticated(verified.message());
  }
  RETURN_IF_ERROR(station_.ApplyVerdicts(*response));
  for (const auto& result : response->results) {
    if (result.verdict == sync::Verdict::kRejected) {
      service::LogWarn("sync.packet_parked", {{"sequence", result.sequence}, {"error", result.error}});
    }
  }
  service::LogInfo("sync.batch_sent", {{"packets", sequences.size()}, {"cursor", response->cursor}});
  return Status::Ok();
}

Status SyncClient::PullFeed() {
  const Identity& identity = station_.identity();
  while (true) {
    ASSIGN_OR_RETURN(int64_t cursor, station_.FeedCursor());
    const std::string target = sync::RequestTarget(
        "/api/v1/sync/down", {{"after", std::to_string(cursor)}, {"limit", std::to_string(kFeedPageItems)}});
    ASSIGN_OR_RETURN(Answer answer, Send("GET", target, ""));
    if (answer.status == 401 || answer.status == 403) {
      auto json = nlohmann::json::parse(answer.body, nullptr, false);
      return PermissionDenied("central refused this station: " + ErrorText(json, answer.body));
    }
    if (answer.status != 200) return Unavailable("feed answer " + std::to_string(answer.status) + " is not usable");
    // A page that is malformed, unsigned, signed for another request or out of
    // order ends the pass with nothing applied; the same page is asked for later.
    auto page = sync::ParseFeedPage(answer.body);
    if (!page.ok()) return Unavailable("feed page after " + std::to_string(cursor) + ": " + page.status().message());
    Status verified = sync::VerifyFeedPage(*page, identity.central_signing_key, identity.station_id,
                                           answer.request_signature, cursor);
    if (!verified.ok()) {
      service::LogWarn("sync.feed_page_refused", {{"after", cursor}, {"error", verified.message()}});
      DistrustCurrentUrl();
      return Unauthenticated("feed page after " + std::to_string(cursor) + ": " + verified.message());
    }
    if (page->items.empty()) return Status::Ok();
    for (const sync::FeedItem& item : page->items) {
      // A refused item is kept with its reason and the feed moves on; only a
      // failure of the station's own store ends the pass.
      ASSIGN_OR_RETURN(FeedItemOutcome outcome, station_.ApplyFeedItem(item.id, item.kind, item.body, item.signature));
      if (!outcome.refusal.ok()) {
        service::LogWarn("sync.feed_item_refused",
                         {{"feed_id", item.id}, {"kind", item.kind}, {"error", outcome.refusal.ToString()}});
      }
    }
  }
}

Status SyncClient::CheckApproved() {
  pending_at_central_ = false;
  if (approved_) return Status::Ok();
  const std::string& id = station_.identity().station_id;
  ASSIGN_OR_RETURN(Answer answer, Send("GET", "/api/v1/sync/cursor", ""));
  auto json = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status == 401 || answer.status == 403) {
    return PermissionDenied("central refused this station: " + ErrorText(json, answer.body));
  }
  const std::string status = json.is_object() && json.value("status", nlohmann::json()).is_string()
                                 ? json["status"].get<std::string>()
                                 : "";
  if (answer.status == 404) {
    // A central without the status route: its upload answers tell.
    approved_ = true;
    return Status::Ok();
  }
  if (answer.status != 200 || status.empty()) {
    return Unavailable("central's status answer " + std::to_string(answer.status) + " is not usable");
  }
  if (status == "pending") {
    pending_at_central_ = true;
    return FailedPrecondition("station " + id + " is waiting for approval at central; ask the admin to run "
                              "`ektp central station approve " + id + "`");
  }
  if (status != "approved") {
    const bool explained = json.value("error", nlohmann::json()).is_string();  // a revoked station: when and why
    return PermissionDenied("central refused this station: " +
                            (explained ? json["error"].get<std::string>() : "station " + id + " is " + status));
  }
  approved_ = true;
  return Status::Ok();
}

Status SyncClient::SyncOnce() {
  reached_central_ = false;
  Status status;
  try {
    status = Upload();
    if (status.ok()) status = PullFeed();
    // A station refused for not being approved (or not known to be) asks why.
    if (status.ok() || (status.code() == StatusCode::kPermissionDenied && !approved_)) {
      if (Status approved = CheckApproved(); !approved.ok()) status = approved;
    }
  } catch (const std::exception& e) {
    // Nothing central answers may end the sync thread (and the station with it).
    status = Unavailable(std::string("central's answer could not be read: ") + e.what());
  }
  const TimePoint now = clock_.Now();
  if (status.ok()) {
    // The pass is complete whether or not its time is kept; an operator sees a stale time, never a lost packet.
    if (Status kept = station_.RecordSyncSuccess(now); !kept.ok()) {
      service::LogWarn("sync.last_success_not_kept", {{"error", kept.ToString()}});
    }
  }
  std::lock_guard lock(mu_);
  status_.waiting_for_approval = pending_at_central_;
  if (status.ok()) {
    status_.last_success = FormatTimestamp(now);
    status_.last_error.clear();
    status_.consecutive_failures = 0;
  } else {
    status_.last_error = status.ToString();
    ++status_.consecutive_failures;
  }
  return status;
}

void SyncClient::Run(std::stop_token stop, const std::function<void(std::chrono::milliseconds)>& sleep) {
  while (!stop.stop_requested()) {
    Status status = SyncOnce();
    if (status.ok() || this->status().waiting_for_approval) {
      sleep(options_.idle_interval);
      continue;
    }
    int failures = status_.consecutive_failures;
    auto ceiling = std::min<int64_t>(options_.max_backoff.count(),
                                     options_.initial_backoff.count() << std::min(failures - 1, 16));
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(ceiling) + 1)));
    service::LogWarn("sync.retry", {{"error", status.ToString()}, {"delay_ms", static_cast<int64_t>(delay.count())}});
    if (reached_central_) {
      sleep(delay);
      continue;
    }
    // No central URL answered at all: the link (or central) is down. The
    // backoff is slept in slices of idle_interval with a look at /healthz
    // between them, so the next pass starts within idle_interval of the link
    // coming back, not at the end of a backoff grown during a long outage.
    const auto slice = options_.idle_interval.count() > 0 ? options_.idle_interval : delay;
    for (auto left = delay; !stop.stop_requested();) {
      const auto step = std::min(left, slice);
      sleep(step);
      left -= step;
      if (left.count() <= 0 || stop.stop_requested()) break;
      if (CentralAnswers()) {
        service::LogInfo("sync.central_reachable", {{"backoff_left_ms", static_cast<int64_t>(left.count())}});
        break;
      }
    }
  }
}

bool SyncClient::CentralAnswers() {
  const auto& urls = station_.identity().central_urls;
  for (size_t index = 0; index < urls.size(); ++index) {
    auto client = ClientFor(index, 0);
    if (client.ok() && (*client)->Get("/healthz").ok()) return true;
  }
  return false;
}

SyncStatus SyncClient::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace ektp::station
