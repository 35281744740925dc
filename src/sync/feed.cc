#include "sync/feed.h"

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "sync/packet.h"

namespace ektp::sync {

std::string FeedPageSignedText(std::string_view station_id, std::string_view request_signature, const FeedPage& page) {
  std::string text;
  for (std::string_view field : {std::string_view("ektp-feed-page/1"), station_id, request_signature}) {
    AppendSignedField(text, field);
  }
  AppendSignedField(text, std::to_string(page.items.size()));
  for (const FeedItem& item : page.items) {
    AppendSignedField(text, std::to_string(item.id));
    AppendSignedField(text, item.kind);
    AppendSignedField(text, crypto::Sha256Hex(item.body));
    AppendSignedField(text, crypto::Base64Encode(item.signature));
  }
  return text;
}

void SignFeedPage(const crypto::SigningKey& central_key, std::string_view station_id,
                  std::string_view request_signature, FeedPage& page) {
  page.signature = central_key.Sign(FeedPageSignedText(station_id, request_signature, page));
}

nlohmann::json FeedPageToJson(const FeedPage& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const FeedItem& item : page.items) {
    items.push_back({{"id", item.id},
                     {"kind", item.kind},
                     {"body", item.body},
                     {"signature", crypto::Base64Encode(item.signature)}});
  }
  return {{"items", std::move(items)}, {"signature", crypto::Base64Encode(page.signature)}};
}

StatusOr<FeedPage> ParseFeedPage(std::string_view json_text) {
  auto not_a_page = [] {
    return InvalidArgument("feed answer must be {\"items\": [...], \"signature\": <base64>}");
  };
  auto document = JsonDocument::ParseObject(json_text, "feed answer");
  if (!document.ok()) return not_a_page();
  JsonObject root = (*document)->root();
  auto items = root.Objects("items");
  auto page_signature = root.String("signature");
  if (!items.ok() || !page_signature.ok()) return not_a_page();
  FeedPage page;
  auto decoded = crypto::Base64Decode(*page_signature);
  if (!decoded.ok()) return InvalidArgument("feed answer signature is not base64");
  page.signature = std::move(*decoded);
  for (const JsonObject& object : *items) {
    auto id = object.Int("id");
    auto kind = object.String("kind");
    auto body = object.String("body");
    auto signature = object.String("signature");
    if (!id.ok() || !kind.ok() || !body.ok() || !signature.ok()) {
      return InvalidArgument("feed item " + std::to_string(page.items.size()) +
                             " must have integer id and string kind, body and signature");
    }
    auto item_signature = crypto::Base64Decode(*signature);
    if (!item_signature.ok()) return InvalidArgument("feed item " + std::to_string(*id) + " signature is not base64");
    page.items.push_back({*id, std::string(*kind), std::string(*body), std::move(*item_signature)});
  }
  return page;
}

Status VerifyFeedPage(const FeedPage& page, std::span<const uint8_t> central_public_key, std::string_view station_id,
                      std::string_view request_signature, int64_t after) {
  if (!crypto::Verify(central_public_key, FeedPageSignedText(station_id, request_signature, page), page.signature)
           .ok()) {
    return Unauthenticated("the feed page is not signed by central for this request; nothing was applied");
  }
  int64_t previous = after;
  for (const FeedItem& item : page.items) {
    if (item.id <= previous) {
      return InvalidArgument("feed item " + std::to_string(item.id) + " does not follow " + std::to_string(previous));
    }
    previous = item.id;
  }
  return Status::Ok();
}

}  // namespace ektp::sync
