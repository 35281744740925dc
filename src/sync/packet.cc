#include "sync/packet.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"

namespace ektp::sync {

namespace {

struct PacketKindSpec {
  PacketKind kind;
  std::string_view name;
  int version;  // written, and the newest read
};

constexpr PacketKindSpec kPacketKinds[] = {
    // 2: the body may carry `location` and `review` (enrollment/enrollment.h); a 1 body decodes as before.
    // 3: the body may carry `finger_quality`; 1 and 2 bodies decode as before (no qualities).
    // 4: the body may carry `finger_exceptions` (declared and approved); 1-3 bodies decode as before (none).
    {PacketKind::kEnrollment, "enrollment", 4},
    {PacketKind::kBlanksReceived, "blanks_received", 1},
    {PacketKind::kCardPrinted, "card_printed", 1},
    {PacketKind::kBlankSpoiled, "blank_spoiled", 1},
    {PacketKind::kCardMisprinted, "card_misprinted", 1},
    {PacketKind::kCardsDispatched, "cards_dispatched", 1},
    {PacketKind::kFingerprintChecked, "fingerprint_checked", 1},
    {PacketKind::kPickupOverride, "pickup_override", 1},
    {PacketKind::kCardActivated, "card_activated", 1},
    {PacketKind::kSuketIssued, "suket_issued", 1},
    {PacketKind::kCardReturned, "card_returned", 1},
};

const PacketKindSpec& SpecOf(PacketKind kind) {
  const PacketKindSpec* spec = std::ranges::find(kPacketKinds, kind, &PacketKindSpec::kind);
  return spec != std::ranges::end(kPacketKinds) ? *spec : kPacketKinds[0];  // every PacketKind has a row
}

}  // namespace

std::string_view PacketKindName(PacketKind kind) { return SpecOf(kind).name; }
int PacketKindVersion(PacketKind kind) { return SpecOf(kind).version; }

StatusOr<PacketKind> ParsePacketKind(std::string_view name, int64_t version) {
  const PacketKindSpec* spec = std::ranges::find(kPacketKinds, name, &PacketKindSpec::name);
  if (spec == std::ranges::end(kPacketKinds)) {
    return Unimplemented("packet kind '" + std::string(name) + "' is not known to this central");
  }
  if (version < 1) return InvalidArgument("envelope.kind_v must be at least 1");
  if (version > spec->version) {
    return Unimplemented("packet kind '" + std::string(name) + "' version " + std::to_string(version) +
                         " is newer than this central reads (" + std::to_string(spec->version) + ")");
  }
  return spec->kind;
}

Packet SignEnvelope(const Envelope& envelope, const crypto::SigningKey& key) {
  nlohmann::json json = {
      {"v", envelope.version},
      {"station", envelope.station_id},
      {"seq", envelope.sequence},
      {"kind", PacketKindName(envelope.kind)},
      {"kind_v", PacketKindVersion(envelope.kind)},
      {"created_at", envelope.created_at},
      {"body", envelope.body},
  };
  Packet packet;
  packet.envelope_text = json.dump();
  packet.signature = key.Sign(packet.envelope_text);
  return packet;
}

StatusOr<Envelope> ParseEnvelope(std::string_view envelope_text) {
  if (envelope_text.size() > kMaxEnvelopeBytes) {
    return ResourceExhausted("envelope is " + std::to_string(envelope_text.size()) + " bytes; the limit is " +
                             std::to_string(kMaxEnvelopeBytes));
  }
  ASSIGN_OR_RETURN(auto document, JsonDocument::ParseObject(envelope_text, "envelope"));
  JsonObject json = document->root();
  Envelope envelope;
  ASSIGN_OR_RETURN(int64_t version, json.Int("v"));
  if (version != kEnvelopeVersion) {
    return InvalidArgument("envelope version " + std::to_string(version) + " is not supported (expected " +
                           std::to_string(kEnvelopeVersion) + ")");
  }
  envelope.version = kEnvelopeVersion;
  ASSIGN_OR_RETURN(envelope.station_id, json.String("station"));
  ASSIGN_OR_RETURN(envelope.sequence, json.Int("seq"));
  if (envelope.sequence < 1) return InvalidArgument("envelope.seq must be at least 1");
  ASSIGN_OR_RETURN(std::string_view kind, json.String("kind"));
  // Envelopes signed before kinds had versions carry none: they are version 1.
  ASSIGN_OR_RETURN(int64_t kind_version, json.IntOr("kind_v", 1));
  ASSIGN_OR_RETURN(envelope.kind, ParsePacketKind(kind, kind_version));
  ASSIGN_OR_RETURN(envelope.created_at, json.String("created_at"));
  ASSIGN_OR_RETURN(envelope.body, json.String("body"));
  return envelope;
}

StatusOr<Envelope> VerifyPacket(const Packet& packet, std::span<const uint8_t> station_public_key) {
  if (packet.envelope_text.size() > kMaxEnvelopeBytes) {
    return ResourceExhausted("envelope is " + std::to_string(packet.envelope_text.size()) +
                             " bytes; the limit is " + std::to_string(kMaxEnvelopeBytes));
  }
  RETURN_IF_ERROR(crypto::Verify(station_public_key, packet.envelope_text, packet.signature)
                      .WithContext("packet signature"));
  return ParseEnvelope(packet.envelope_text);
}

nlohmann::json PacketToJson(const Packet& packet) {
  return {{"envelope", packet.envelope_text}, {"signature", crypto::Base64Encode(packet.signature)}};
}

StatusOr<std::vector<Packet>> ParseUploadBody(std::string_view body) {
  auto not_an_upload = [] { return InvalidArgument("body must be {\"packets\": [...]}"); };
  auto document = JsonDocument::ParseObject(body, "body");
  if (!document.ok()) return not_an_upload();
  auto items = (*document)->root().Objects("packets");
  if (!items.ok()) return not_an_upload();
  std::vector<Packet> packets;
  packets.reserve(items->size());
  for (const JsonObject& item : *items) {
    auto envelope = item.String("envelope");
    auto signature = item.String("signature");
    if (!envelope.ok() || !signature.ok()) {
      return InvalidArgument("packet must be an object with string fields envelope and signature");
    }
    Packet packet;
    packet.envelope_text = *envelope;
    ASSIGN_OR_RETURN(packet.signature, crypto::Base64Decode(*signature));
    packets.push_back(std::move(packet));
  }
  return packets;
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAccepted: return "accepted";
    case Verdict::kDuplicate: return "duplicate";
    case Verdict::kRejected: return "rejected";
  }
  return "?";
}

void AppendSignedField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

std::string VerdictsSignedText(std::string_view purpose, std::string_view station_id, std::string_view binding,
                               const UploadResponse& response) {
  std::string text;
  for (std::string_view field : {purpose, station_id, binding}) AppendSignedField(text, field);
  AppendSignedField(text, std::to_string(response.cursor));
  AppendSignedField(text, std::to_string(response.results.size()));
  for (const PacketResult& result : response.results) {
    AppendSignedField(text, std::to_string(result.sequence));
    AppendSignedField(text, VerdictName(result.verdict));
    AppendSignedField(text, result.content_sha256);
    AppendSignedField(text, result.error);
  }
  return text;
}

std::string UploadResponseSignedText(std::string_view station_id, std::string_view request_signature,
                                     const UploadResponse& response) {
  return VerdictsSignedText("ektp-upload-answer/1", station_id, request_signature, response);
}

void SignUploadResponse(const crypto::SigningKey& central_key, std::string_view station_id,
                        std::string_view request_signature, UploadResponse& response) {
  response.signature = central_key.Sign(UploadResponseSignedText(station_id, request_signature, response));
}

Status VerifyUploadResponse(const UploadResponse& response, std::span<const uint8_t> central_public_key,
                            std::string_view station_id, std::string_view request_signature,
                            const std::map<int64_t, std::string>& sent) {
  if (!crypto::Verify(central_public_key, UploadResponseSignedText(station_id, request_signature, response),
                      response.signature)
           .ok()) {
    return Unauthenticated("the upload answer is not signed by central for this request; no verdict was applied");
  }
  return CheckVerdictsMatch(response, sent, "the upload answer", "this request did not send");
}

Status CheckVerdictsMatch(const UploadResponse& response, const std::map<int64_t, std::string>& sent,
                         std::string_view answer, std::string_view not_sent) {
  for (const PacketResult& result : response.results) {
    auto it = sent.find(result.sequence);
    if (it == sent.end()) {
      return Unauthenticated(std::string(answer) + " has a verdict for sequence " + std::to_string(result.sequence) +
                             ", which " + std::string(not_sent) + "; no verdict was applied");
    }
    if (it->second != result.content_sha256) {
      return Unauthenticated("the verdict for sequence " + std::to_string(result.sequence) +
                             " is for content sha256 " + result.content_sha256.substr(0, 12) +
                             "..., not the packet sent; no verdict was applied");
    }
  }
  return Status::Ok();
}

nlohmann::json UploadResponseToJson(const UploadResponse& response) {
  nlohmann::json results = nlohmann::json::array();
  for (const PacketResult& result : response.results) {
    nlohmann::json item = {
        {"seq", result.sequence}, {"verdict", VerdictName(result.verdict)}, {"sha256", result.content_sha256}};
    if (!result.error.empty()) item["error"] = result.error;
    results.push_back(std::move(item));
  }
  return {{"cursor", response.cursor},
          {"results", std::move(results)},
          {"signature", crypto::Base64Encode(response.signature)}};
}

StatusOr<UploadResponse> UploadResponseFromJson(const nlohmann::json& json) {
  UploadResponse response;
  try {
    response.cursor = json.at("cursor").get<int64_t>();
    for (const auto& item : json.at("results")) {
      PacketResult result;
      result.sequence = item.at("seq").get<int64_t>();
      std::string verdict = item.at("verdict").get<std::string>();
      if (verdict == "accepted") result.verdict = Verdict::kAccepted;
      else if (verdict == "duplicate") result.verdict = Verdict::kDuplicate;
      else if (verdict == "rejected") result.verdict = Verdict::kRejected;
      else return InvalidArgument("unknown verdict '" + verdict + "'");
      result.error = item.value("error", "");
      result.content_sha256 = item.at("sha256").get<std::string>();
      response.results.push_back(std::move(result));
    }
    auto signature = crypto::Base64Decode(json.at("signature").get<std::string>());
    if (!signature.ok()) return InvalidArgument("upload response signature is not base64");
    response.signature = std::move(*signature);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("upload response is malformed: ") + e.what());
  }
  return response;
}

}  // namespace ektp::sync
