// The down feed's wire form: the items central queues for one station, and
// the signed page GET /api/v1/sync/down answers with. docs/sync-format.md
// specifies both; keep the two in step.
//
// Two signatures, for two different lies:
//  - each item carries central's Ed25519 signature of its body, made when the
//    item was queued: it proves central decided what the item says;
//  - each page is signed when it is served, over the station, the request it
//    answers (the request's X-Ektp-Signature) and every item's id, kind, body
//    hash and item signature: it proves the page is central's answer to this
//    request, so nobody on the path can drop, reorder, replay or invent items.
// A station that gets a page without a valid page signature applies nothing
// and asks again later; an item whose own signature fails inside a genuine
// page is refused and kept with the reason (station/station.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "crypto/crypto.h"

namespace ektp::sync {

// Central refuses a feed page request for more items than this.
inline constexpr int kMaxFeedPageItems = 500;
inline constexpr int kDefaultFeedPageItems = 100;

struct FeedItem {
  int64_t id = 0;  // the station's cursor for the down feed
  std::string kind;
  std::string body;         // JSON text
  crypto::Bytes signature;  // central's signature of body
};

struct FeedPage {
  std::vector<FeedItem> items;  // ids increasing
  crypto::Bytes signature;      // central's, over FeedPageSignedText(); empty until signed
};

std::string FeedPageSignedText(std::string_view station_id, std::string_view request_signature, const FeedPage& page);
void SignFeedPage(const crypto::SigningKey& central_key, std::string_view station_id,
                  std::string_view request_signature, FeedPage& page);

// {"items": [{"id", "kind", "body", "signature"}...], "signature": <base64>}
nlohmann::json FeedPageToJson(const FeedPage& page);
// kInvalidArgument naming what is malformed.
StatusOr<FeedPage> ParseFeedPage(std::string_view json_text);

// The station's check before it applies anything from a page:
// kUnauthenticated unless central signed it for this station and request;
// kInvalidArgument unless the item ids increase and all follow `after`.
Status VerifyFeedPage(const FeedPage& page, std::span<const uint8_t> central_public_key, std::string_view station_id,
                      std::string_view request_signature, int64_t after);

}  // namespace ektp::sync
