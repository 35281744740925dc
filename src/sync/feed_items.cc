#include "sync/feed_items.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace ektp::sync {
namespace {

StatusOr<std::string> StringField(const nlohmann::json& json, const char* field, bool required) {
  auto it = json.find(field);
  if (it == json.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string("body has no '") + field + "'");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string("body field '") + field + "' must be a string");
  return it->get<std::string>();
}

nlohmann::json EncodeBody(const RecordStatusBody& body) {
  return {{"registration_number", body.registration_number},
          {"state", RecordStateName(body.state)},
          {"reason", body.reason},
          {"nik", body.nik}};
}

nlohmann::json EncodeBody(const store::AuditCheckpoint& checkpoint) { return store::AuditCheckpointToJson(checkpoint); }

nlohmann::json EncodeBody(const PrintJobBody& body) {
  return {{"job_id", body.job_id},
          {"registration_number", body.registration_number},
          {"urgent", body.urgent},
          {"reserved_at", body.reserved_at},
          {"sealed_card", crypto::Base64Encode(body.sealed_card)},
          {"collect_at", body.collect_at}};
}

nlohmann::json EncodeBody(const CardToCollectBody& body) {
  return {{"registration_number", body.registration_number},
          {"serial", body.serial},
          {"manifest_id", body.manifest_id},
          {"from_station", body.from_station},
          {"sealed_card", crypto::Base64Encode(body.sealed_card)}};
}

nlohmann::json EncodeBody(const SuketTrustBody& body) {
  return {{"trust_bundle", crypto::Base64Encode(body.trust_bundle)},
          {"revocation_list", crypto::Base64Encode(body.revocation_list)}};
}

nlohmann::json EncodeBody(const PrintJobWithdrawnBody& body) {
  return {{"job_id", body.job_id}, {"registration_number", body.registration_number}, {"reason", body.reason}};
}

nlohmann::json EncodeBody(const BlanksHandedOverBody& body) {
  return {{"first_serial", body.first_serial},
          {"last_serial", body.last_serial},
          {"handed_over_at", body.handed_over_at}};
}

StatusOr<int64_t> PositiveField(const nlohmann::json& json, const char* field) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_number_integer() || it->get<int64_t>() < 1) {
    return InvalidArgument(std::string("body field '") + field + "' must be a positive integer");
  }
  return it->get<int64_t>();
}

StatusOr<int64_t> JobIdField(const nlohmann::json& json) { return PositiveField(json, "job_id"); }

StatusOr<crypto::Bytes> BytesField(const nlohmann::json& json, const char* field) {
  ASSIGN_OR_RETURN(std::string text, StringField(json, field, true));
  auto bytes = crypto::Base64Decode(text);
  if (!bytes.ok() || bytes->empty()) return InvalidArgument(std::string("body field '") + field + "' must be non-empty base64");
  return std::move(*bytes);
}

StatusOr<crypto::Bytes> SealedCardField(const nlohmann::json& json) { return BytesField(json, "sealed_card"); }

StatusOr<FeedBody> DecodeSuketTrust(const nlohmann::json& json) {
  SuketTrustBody body;
  ASSIGN_OR_RETURN(body.trust_bundle, BytesField(json, "trust_bundle"));
  ASSIGN_OR_RETURN(body.revocation_list, BytesField(json, "revocation_list"));
  return FeedBody(std::move(body));
}

StatusOr<FeedBody> DecodeRecordStatus(const nlohmann::json& json) {
  RecordStatusBody body;
  ASSIGN_OR_RETURN(body.registration_number, StringField(json, "registration_number", true));
  ASSIGN_OR_RETURN(std::string state, StringField(json, "state", true));
  auto known = RecordStateFromName(state);
  if (!known) return InvalidArgument("body field 'state' is '" + state + "', not a record state");
  body.state = *known;
  ASSIGN_OR_RETURN(body.reason, StringField(json, "reason", false));
  ASSIGN_OR_RETURN(body.nik, StringField(json, "nik", false));
  return FeedBody(std::move(body));
}

StatusOr<FeedBody> DecodeAuditCheckpoint(const nlohmann::json& json) {
  ASSIGN_OR_RETURN(store::AuditCheckpoint checkpoint, store::AuditCheckpointFromJson(json));
  return FeedBody(std::move(checkpoint));
}

StatusOr<FeedBody> DecodePrintJob(const nlohmann::json& json) {
  PrintJobBody body;
  ASSIGN_OR_RETURN(body.job_id, JobIdField(json));
  ASSIGN_OR_RETURN(body.registration_number, StringField(json, "registration_number", true));
  auto urgent = json.find("urgent");
  if (urgent == json.end() || !urgent->is_boolean()) return InvalidArgument("body field 'urgent' must be true or false");
  body.urgent = urgent->get<bool>();
  ASSIGN_OR_RETURN(body.reserved_at, StringField(json, "reserved_at", true));
  ASSIGN_OR_RETURN(body.sealed_card, SealedCardField(json));
  ASSIGN_OR_RETURN(body.collect_at, StringField(json, "collect_at", false));
  return FeedBody(std::move(body));
}

StatusOr<FeedBody> DecodeCardToCollect(const nlohmann::json& json) {
  CardToCollectBody body;
  ASSIGN_OR_RETURN(body.registration_number, StringField(json, "registration_number", true));
  ASSIGN_OR_RETURN(body.serial, PositiveField(json, "serial"));
  ASSIGN_OR_RETURN(body.manifest_id, StringField(json, "manifest_id", true));
  ASSIGN_OR_RETURN(body.from_station, StringField(json, "from_station", true));
  ASSIGN_OR_RETURN(body.sealed_card, SealedCardField(json));
  return FeedBody(std::move(body));
}

StatusOr<FeedBody> DecodePrintJobWithdrawn(const nlohmann::json& json) {
  PrintJobWithdrawnBody body;
  ASSIGN_OR_RETURN(body.job_id, JobIdField(json));
  ASSIGN_OR_RETURN(body.registration_number, StringField(json, "registration_number", true));
  ASSIGN_OR_RETURN(body.reason, StringField(json, "reason", false));
  return FeedBody(std::move(body));
}

StatusOr<FeedBody> DecodeBlanksHandedOver(const nlohmann::json& json) {
  BlanksHandedOverBody body;
  ASSIGN_OR_RETURN(body.first_serial, PositiveField(json, "first_serial"));
  ASSIGN_OR_RETURN(body.last_serial, PositiveField(json, "last_serial"));
  if (body.last_serial < body.first_serial) return InvalidArgument("body field 'last_serial' is before 'first_serial'");
  ASSIGN_OR_RETURN(body.handed_over_at, StringField(json, "handed_over_at", true));
  return FeedBody(std::move(body));
}

struct FeedKindSpec {
  FeedKind kind;
  std::string_view name;
  int version;  // written, and the newest read
  size_t body_index;  // the FeedBody alternative this kind carries
  StatusOr<FeedBody> (*decode)(const nlohmann::json& body);
};

constexpr FeedKindSpec kFeedKinds[] = {
    {FeedKind::kValidationResult, "validation_result", 1, 0, &DecodeRecordStatus},
    {FeedKind::kRecordStatus, "record_status", 1, 0, &DecodeRecordStatus},
    {FeedKind::kAuditCheckpoint, "audit_checkpoint", 1, 1, &DecodeAuditCheckpoint},
    {FeedKind::kPrintJob, "print_job", 1, 2, &DecodePrintJob},
    {FeedKind::kPrintJobWithdrawn, "print_job_withdrawn", 1, 3, &DecodePrintJobWithdrawn},
    {FeedKind::kBlanksHandedOver, "blanks_handed_over", 1, 4, &DecodeBlanksHandedOver},
    {FeedKind::kCardToCollect, "card_to_collect", 1, 5, &DecodeCardToCollect},
    {FeedKind::kSuketTrust, "suket_trust", 1, 6, &DecodeSuketTrust},
};

const FeedKindSpec& SpecOf(FeedKind kind) {
  const FeedKindSpec* spec = std::ranges::find(kFeedKinds, kind, &FeedKindSpec::kind);
  return spec != std::ranges::end(kFeedKinds) ? *spec : kFeedKinds[0];  // every FeedKind has a row
}

}  // namespace

std::string_view FeedKindName(FeedKind kind) { return SpecOf(kind).name; }

FeedItem SignFeedItem(const TypedFeedItem& item, const crypto::SigningKey& central_key) {
  const FeedKindSpec& spec = SpecOf(item.kind);
  nlohmann::json body = std::visit([](const auto& typed) { return EncodeBody(typed); }, item.body);
  body["v"] = spec.version;
  FeedItem out;
  out.kind = std::string(spec.name);
  out.body = body.dump();
  out.signature = central_key.Sign(out.body);
  return out;
}

StatusOr<TypedFeedItem> DecodeFeedItem(std::string_view kind, std::string_view body) {
  const FeedKindSpec* spec = std::ranges::find(kFeedKinds, kind, &FeedKindSpec::name);
  if (spec == std::ranges::end(kFeedKinds)) {
    return Unimplemented("feed item kind '" + std::string(kind) + "' is not known to this version of ektp");
  }
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return InvalidArgument("body is not a JSON object");
  int64_t version = 1;
  if (auto v = json.find("v"); v != json.end()) {
    if (!v->is_number_integer() || v->get<int64_t>() < 1) return InvalidArgument("body field 'v' must be a positive integer");
    version = v->get<int64_t>();
  }
  if (version > spec->version) {
    return Unimplemented("feed item kind '" + std::string(kind) + "' version " + std::to_string(version) +
                         " is newer than this version of ektp reads (" + std::to_string(spec->version) + ")");
  }
  ASSIGN_OR_RETURN(FeedBody decoded, spec->decode(json));
  if (decoded.index() != spec->body_index) return Internal("feed kind table: a decoder returned the wrong body type");
  return TypedFeedItem{spec->kind, std::move(decoded)};
}

}  // namespace ektp::sync
