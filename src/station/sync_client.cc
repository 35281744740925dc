#include "station/sync_client.h"

#include <algorithm>
#include <deque>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "net/http_client.h"
#include "net/log.h"
#include "sync/request_auth.h"

namespace ektp::station {
namespace {

// The "error" text of central's JSON answer, else the raw body. Never throws,
// whatever the answer holds.
std::string ErrorText(const nlohmann::json& json, const std::string& body) {
  auto error = json.is_object() ? json.find("error") : json.end();
  return error != json.end() && error->is_string() ? error->get<std::string>() : body;
}

bool IsString(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string();
}

}  // namespace

SyncClient::SyncClient(Station& station, const Clock& clock, Random& random, const crypto::SigningKey& key,
                       SyncOptions options)
    : station_(station),
      clock_(clock),
      random_(random),
      key_(key),
      options_(std::move(options)),
      clients_(station.identity().central_urls.size() * kMaxInFlight),
      batch_packets_(options_.batch_packets) {}

SyncClient::~SyncClient() = default;

StatusOr<net::HttpClient*> SyncClient::ClientFor(size_t url_index, size_t slot) {
  auto& client = clients_[slot * station_.identity().central_urls.size() + url_index];
  if (!client) {
    net::HttpClientOptions options;
    options.pinned_cert_pem = options_.pinned_cert_pem;
    options.read_timeout = options_.request_timeout;
    options.write_timeout = options_.request_timeout;
    options.connect_timeout = std::min<std::chrono::milliseconds>(options_.request_timeout, std::chrono::seconds(5));
    ASSIGN_OR_RETURN(client, net::HttpClient::Create(station_.identity().central_urls[url_index], options));
  }
  return client.get();
}

StatusOr<std::pair<int, std::string>> SyncClient::Send(std::string_view method, const std::string& path,
                                                       const std::string& body, size_t slot) {
  const auto& urls = station_.identity().central_urls;
  if (urls.empty()) return FailedPrecondition("no central URL is configured");
  Status last = Unavailable("no central URL answered");
  for (size_t tried = 0; tried < urls.size(); ++tried) {
    size_t index = (current_url_ + tried) % urls.size();
    ASSIGN_OR_RETURN(net::HttpClient * client, ClientFor(index, slot));
    std::string signed_path = path.substr(0, path.find('?'));
    sync::RequestSignature signature =
        sync::SignRequest(key_, station_.identity().station_id, method, signed_path, body, clock_.Now());
    net::HttpHeaders headers = {{"x-ektp-station", signature.station_id},
                                {"x-ektp-timestamp", signature.timestamp},
                                {"x-ektp-signature", signature.signature_base64}};
    auto response = method == "GET" ? client->Get(path, headers)
                                    : client->Post(path, body, "application/json", headers);
    if (response.ok() && response->status < 500) {
      if (index != current_url_) net::LogWarn("sync.failover", {{"url", urls[index]}});
      current_url_ = index;
      std::lock_guard lock(mu_);
      status_.central_url = urls[index];
      return std::make_pair(response->status, response->body);
    }
    last = response.ok() ? Unavailable("central " + urls[index] + " answered " + std::to_string(response->status) +
                                       ": " + response->body.substr(0, 200))
                         : response.status();
    // A wrong certificate is not a transient fault and must not be masked by failover.
    if (last.code() == StatusCode::kUnauthenticated) return last;
  }
  return last;
}

Status SyncClient::Upload() {
  struct InFlight {
    std::vector<int64_t> sequences;
    size_t bytes = 0;
    size_t slot = 0;
    std::future<StatusOr<std::pair<int, std::string>>> sent;
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
        skip += batch.sequences.size();
        skip_bytes += batch.bytes;
      }
      auto pending = station_.PendingPackets(limit + static_cast<int>(skip), limit_bytes + skip_bytes);
      if (!pending.ok()) {
        failure = pending.status();
        break;
      }
      int64_t last = flight.empty() ? 0 : flight.back().sequences.back();
      nlohmann::json packets = nlohmann::json::array();
      InFlight batch;
      bool parked = false;
      for (const auto& [sequence, packet] : *pending) {
        if (sequence <= last) continue;
        if (!IsValidUtf8(packet.envelope_text)) {
          // Stored bytes damaged (disk, hand edit): it cannot travel as JSON and would block every batch.
          Status park = station_.Park(sequence, "the stored packet is damaged (its envelope is not valid UTF-8) and "
                                                "cannot be sent; enroll the resident again");
          if (!park.ok()) failure = park;
          parked = true;
          net::LogWarn("sync.packet_parked", {{"sequence", sequence}, {"error", "envelope is not valid UTF-8"}});
          continue;
        }
        packets.push_back(sync::PacketToJson(packet));
        batch.sequences.push_back(sequence);
        batch.bytes += packet.envelope_text.size();
      }
      if (batch.sequences.empty()) {
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
    Status settled = Settle(batch.sequences, batch.sent.get(), &too_large);
    if (too_large) {
      resizing = true;
    } else if (settled.ok()) {
      stored_one = true;
    } else if (failure.ok()) {
      failure = settled;
    }
  }
}

Status SyncClient::Settle(const std::vector<int64_t>& sequences, StatusOr<std::pair<int, std::string>> sent,
                          bool* resize) {
  if (!sent.ok()) {
    (void)station_.NoteAttemptFailed(sequences, sent.status().message());
    return sent.status();
  }
  auto [http_status, body] = *sent;
  auto json = nlohmann::json::parse(body, nullptr, false);
  std::string error = ErrorText(json, body);
  if (http_status == 413) {
    // Too large for central: smaller batches go instead. A packet refused
    // alone can never be delivered and is parked, so it blocks nothing behind
    // it. (Other refusals of a whole request, such as 400, may be central's
    // or a proxy's fault for every packet alike; they are retried.)
    if (sequences.size() > 1) {
      batch_packets_ = std::max(1, std::min(batch_packets_, static_cast<int>(sequences.size())) / 2);
      *resize = true;
      return Status::Ok();
    }
    net::LogWarn("sync.packet_parked", {{"sequence", sequences[0]}, {"http_status", http_status}});
    return station_.Park(sequences[0], "central refuses this packet (HTTP " + std::to_string(http_status) +
                                           "): " + QuoteInput(error, 200));
  }
  if (http_status == 401 || http_status == 403) return PermissionDenied("central refused this station: " + error);
  if (http_status != 200) {
    (void)station_.NoteAttemptFailed(sequences, error);
    return Unavailable("central answered " + std::to_string(http_status) + ": " + error);
  }
  ASSIGN_OR_RETURN(sync::UploadResponse response, sync::UploadResponseFromJson(json));
  RETURN_IF_ERROR(station_.ApplyVerdicts(response));
  for (const auto& result : response.results) {
    if (result.verdict == sync::Verdict::kRejected) {
      net::LogWarn("sync.packet_parked", {{"sequence", result.sequence}, {"error", result.error}});
    }
  }
  net::LogInfo("sync.batch_sent", {{"packets", sequences.size()}, {"cursor", response.cursor}});
  return Status::Ok();
}

Status SyncClient::PullFeed() {
  while (true) {
    ASSIGN_OR_RETURN(int64_t cursor, station_.FeedCursor());
    ASSIGN_OR_RETURN(auto sent, Send("GET", "/api/v1/sync/down?after=" + std::to_string(cursor) + "&limit=200", ""));
    auto [http_status, body] = sent;
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (http_status == 401 || http_status == 403) {
      return PermissionDenied("central refused this station: " + ErrorText(json, body));
    }
    if (http_status != 200 || !json.is_object() || !json.contains("items") || !json["items"].is_array()) {
      return Unavailable("feed answer " + std::to_string(http_status) + " is not usable");
    }
    if (json["items"].empty()) return Status::Ok();
    for (const auto& item : json["items"]) {
      // Central's answer is checked like any input: a malformed item, or one
      // that does not move the cursor forward (which would make this loop
      // ask for the same page for ever), ends the pass; it is retried later.
      if (!item.is_object() || !item.contains("id") || !item["id"].is_number_integer() || !IsString(item, "kind") ||
          !IsString(item, "body") || !IsString(item, "signature")) {
        return Unavailable("feed item after " + std::to_string(cursor) + " is malformed");
      }
      int64_t id = item["id"].get<int64_t>();
      if (id <= cursor) {
        return Unavailable("feed item " + std::to_string(id) + " does not follow cursor " + std::to_string(cursor));
      }
      cursor = id;
      ASSIGN_OR_RETURN(crypto::Bytes signature, crypto::Base64Decode(item["signature"].get<std::string>()));
      RETURN_IF_ERROR(station_.ApplyFeedItem(id, item["kind"].get<std::string>(), item["body"].get<std::string>(),
                                             signature));
    }
  }
}

Status SyncClient::SyncOnce() {
  Status status;
  try {
    status = Upload();
    if (status.ok()) status = PullFeed();
  } catch (const std::exception& e) {
    // Nothing central answers may end the sync thread (and the station with it).
    status = Unavailable(std::string("central's answer could not be read: ") + e.what());
  }
  std::lock_guard lock(mu_);
  if (status.ok()) {
    status_.last_success = FormatTimestamp(clock_.Now());
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
    if (status.ok()) {
      sleep(options_.idle_interval);
      continue;
    }
    int failures = status_.consecutive_failures;
    auto ceiling = std::min<int64_t>(options_.max_backoff.count(),
                                     options_.initial_backoff.count() << std::min(failures - 1, 16));
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(ceiling) + 1)));
    net::LogWarn("sync.retry", {{"error", status.ToString()}, {"delay_ms", static_cast<int64_t>(delay.count())}});
    sleep(delay);
  }
}

SyncStatus SyncClient::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace ektp::station
