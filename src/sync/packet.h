// Signed packets: the unit that travels up from a station to central, and
// the batch request/response around them. The format is documented in
// docs/sync-format.md; keep the two in step.
//
// A packet is the envelope's exact JSON text plus the station's Ed25519
// signature of those bytes. Central verifies the bytes it received, then
// parses them, so no canonical JSON form is needed. The content hash is the
// SHA-256 of the envelope text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "crypto/crypto.h"

namespace ektp::sync {

inline constexpr int kEnvelopeVersion = 1;
// Central refuses a packet whose envelope is larger than this.
inline constexpr size_t kMaxEnvelopeBytes = 2 * 1024 * 1024;

// What a packet carries. Each kind has one row in kPacketKinds (packet.cc):
// its wire name and the body version this build writes and reads. Adding a
// kind is that row plus its handler in central's ingest (central/ingest.cc,
// kKindHandlers). A kind central does not know, or a newer body version, is
// refused for that packet alone with kUnimplemented, and the station parks
// the packet with the reason (a rolling upgrade never loses it).
enum class PacketKind {
  kEnrollment,      // body: enrollment::EnrollmentToJson (enrollment/enrollment.h), version 4
  kBlanksReceived,  // body: BlanksReceivedBody (sync/station_events.h)
  kCardPrinted,     // body: CardPrintedBody
  kBlankSpoiled,    // body: BlankSpoiledBody
  kCardMisprinted,  // body: CardMisprintedBody
  kCardsDispatched, // body: CardsDispatchedBody
  kFingerprintChecked,  // body: FingerprintCheckedBody
  kPickupOverride,      // body: PickupOverrideBody
  kCardActivated,       // body: CardActivatedBody
  kSuketIssued,         // body: SuketIssuedBody
  kCardReturned,        // body: CardReturnedBody
};
std::string_view PacketKindName(PacketKind kind);
int PacketKindVersion(PacketKind kind);  // the body version this build writes
// kUnimplemented for a kind, or a version newer than this build reads.
StatusOr<PacketKind> ParsePacketKind(std::string_view name, int64_t version = 1);

struct Envelope {
  int version = kEnvelopeVersion;
  std::string station_id;
  int64_t sequence = 0;  // 1, 2, 3, ... per station, never reused
  PacketKind kind = PacketKind::kEnrollment;  // its body version: PacketKindVersion(kind)
  std::string created_at;  // ISO 8601 UTC, the station's clock
  std::string body;        // JSON text, kind-specific
};

struct Packet {
  std::string envelope_text;
  crypto::Bytes signature;

  std::string ContentHash() const { return crypto::Sha256Hex(envelope_text); }
};

// Serialises and signs an envelope.
Packet SignEnvelope(const Envelope& envelope, const crypto::SigningKey& key);

// Checks the size and signature against `station_public_key`, then parses.
// kResourceExhausted if too large, kUnauthenticated if the signature fails,
// kInvalidArgument if the JSON or a field is malformed (naming the field).
StatusOr<Envelope> VerifyPacket(const Packet& packet, std::span<const uint8_t> station_public_key);

// Parses without verifying; only to find which station claims to have sent it.
StatusOr<Envelope> ParseEnvelope(std::string_view envelope_text);

// A packet in the body of POST /api/v1/sync/up, which is {"packets": [...]}.
nlohmann::json PacketToJson(const Packet& packet);
// The packets of an upload body; InvalidArgument naming what is wrong.
StatusOr<std::vector<Packet>> ParseUploadBody(std::string_view body);

// Central's verdict on one packet of a batch.
enum class Verdict {
  kAccepted,   // stored now
  kDuplicate,  // stored before with the same content; nothing changed
  kRejected,   // refused for good; the station parks it with `error`
};
std::string_view VerdictName(Verdict verdict);

struct PacketResult {
  int64_t sequence = 0;
  Verdict verdict = Verdict::kAccepted;
  std::string error;           // for kRejected: why, precise enough to act on
  std::string content_sha256;  // Packet::ContentHash() of the packet judged
};

struct UploadResponse {
  // Every sequence <= cursor from this station is stored at central.
  int64_t cursor = 0;
  std::vector<PacketResult> results;
  // Central's Ed25519 signature of UploadResponseSignedText(); empty until signed.
  crypto::Bytes signature;
};

// What central signs for an upload answer: the verdicts with the content hash
// of each packet judged, bound to the station and to the request they answer
// (the request's X-Ektp-Signature, unique per request body and timestamp), so
// an answer cannot be forged or replayed for another request. Each field is
// length-prefixed ("<bytes>:<text>"); the layout is in docs/sync-format.md.
std::string UploadResponseSignedText(std::string_view station_id, std::string_view request_signature,
                                     const UploadResponse& response);
// The verdicts' signed text for `purpose` (the first field, e.g.
// "ektp-upload-answer/1"), bound to the station and to `binding` (what the
// verdicts answer): cursor, number of results, then per result sequence,
// verdict, content hash and error. Upload answers and import receipts
// (sync/media.h) both use it.
std::string VerdictsSignedText(std::string_view purpose, std::string_view station_id, std::string_view binding,
                               const UploadResponse& response);
// kUnauthenticated unless every verdict names a packet of `sent` (sequence ->
// content hash) with that packet's content hash. A verdict on an unknown
// sequence is reported as "<answer> has a verdict for sequence N, which
// <not_sent>" (e.g. "the upload answer", "this request did not send").
Status CheckVerdictsMatch(const UploadResponse& response, const std::map<int64_t, std::string>& sent,
                         std::string_view answer, std::string_view not_sent);
void SignUploadResponse(const crypto::SigningKey& central_key, std::string_view station_id,
                        std::string_view request_signature, UploadResponse& response);

// The station's check before it settles anything: kUnauthenticated unless
// `response` is signed by `central_public_key` for this station and request,
// and every verdict names a packet of `sent` (sequence -> content hash) with
// that packet's content hash.
Status VerifyUploadResponse(const UploadResponse& response, std::span<const uint8_t> central_public_key,
                            std::string_view station_id, std::string_view request_signature,
                            const std::map<int64_t, std::string>& sent);

nlohmann::json UploadResponseToJson(const UploadResponse& response);
// kInvalidArgument naming the field when the answer is malformed.
StatusOr<UploadResponse> UploadResponseFromJson(const nlohmann::json& json);

// Appends "<bytes>:<field>" to `out`: the framing of every signed text here.
void AppendSignedField(std::string& out, std::string_view field);

}  // namespace ektp::sync
