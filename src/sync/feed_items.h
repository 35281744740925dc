// Every kind of item central's down feed carries to a station, as typed,
// versioned bodies. docs/sync-format.md gives each body; keep the two in step.
//
// The kind table (kFeedKinds in feed_items.cc) is the one place a kind is
// declared: its wire name, the body version this build writes and reads,
// and its decoder. Adding a kind is its body struct and one table row here,
// plus its handler in the station's applier (station/feed_applier.cc), which
// the compiler asks for because the applier visits every alternative of
// FeedBody.
//
// Versions: each body carries "v" (absent means 1). A build reads the
// version it writes and every older one. A kind it does not know, or a newer
// version, is kUnimplemented: during a rolling upgrade a station keeps such
// an item with the reason instead of guessing, and a later build applies it.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "core/lifecycle.h"
#include "core/status.h"
#include "crypto/crypto.h"
#include "store/audit_log.h"
#include "sync/feed.h"

namespace ektp::sync {

enum class FeedKind {
  kValidationResult,  // ingest's first verdict on an enrollment (RecordStatusBody)
  kRecordStatus,      // the pipeline's later outcome for a record (RecordStatusBody)
  kAuditCheckpoint,   // a signed head of central's audit chain (store::AuditCheckpoint)
  kPrintJob,          // a card reserved for this print station to print (PrintJobBody)
  kPrintJobWithdrawn, // central took a print job back; do not print it (PrintJobWithdrawnBody)
  kBlanksHandedOver,  // blanks on their way to this print station (BlanksHandedOverBody)
  kCardToCollect,     // a printed card on its way to this station for the resident to collect (CardToCollectBody)
  kSuketTrust,        // central's newest Suket trust bundle and revocation list (SuketTrustBody)
};
std::string_view FeedKindName(FeedKind kind);

// Where one of the station's records stands at central.
struct RecordStatusBody {
  std::string registration_number;
  RecordState state = RecordState::kReceived;
  std::string reason;  // why the record stopped; "" when it goes on
  std::string nik;     // the NIK its card carries, once known; "" before
  bool operator==(const RecordStatusBody&) const = default;
};

// One card for a print station (printing/print_jobs.h): the card to print
// (card::EncodeCardToPrint) sealed to the station's X25519 key.
struct PrintJobBody {
  int64_t job_id = 0;
  std::string registration_number;
  bool urgent = false;      // an approved urgent case: printed before the others
  std::string reserved_at;  // the station prints the oldest reservation first after urgent cases
  crypto::Bytes sealed_card;
  std::string collect_at;  // the station where the resident collects the card; "" from an older central
  bool operator==(const PrintJobBody&) const = default;
};

struct PrintJobWithdrawnBody {
  int64_t job_id = 0;
  std::string registration_number;
  std::string reason;
  bool operator==(const PrintJobWithdrawnBody&) const = default;
};

// Central's ledger handed a range of blank serials to this print station
// (blanks/ledger.h): the station may confirm receiving these, and only these.
struct BlanksHandedOverBody {
  int64_t first_serial = 0;
  int64_t last_serial = 0;
  std::string handed_over_at;
  bool operator==(const BlanksHandedOverBody&) const = default;
};

// A printed card dispatched to this station, where its resident collects it:
// the card as printed (card::EncodeCardToPrint: the chip blob central signed,
// photo, signature) sealed to this station's X25519 key.
struct CardToCollectBody {
  std::string registration_number;
  int64_t serial = 0;        // the blank it was printed on
  std::string manifest_id;   // the print station's dispatch manifest
  std::string from_station;  // the print station
  crypto::Bytes sealed_card;
  bool operator==(const CardToCollectBody&) const = default;
};

// Central's newest Suket trust bundle and revocation list, each signed by
// central on its own (suket/suket.h), so that the station verifies Sukets
// offline and can hand both on.
struct SuketTrustBody {
  crypto::Bytes trust_bundle;
  crypto::Bytes revocation_list;
  bool operator==(const SuketTrustBody&) const = default;
};

using FeedBody = std::variant<RecordStatusBody, store::AuditCheckpoint, PrintJobBody, PrintJobWithdrawnBody,
                              BlanksHandedOverBody, CardToCollectBody, SuketTrustBody>;

struct TypedFeedItem {
  FeedKind kind = FeedKind::kRecordStatus;
  FeedBody body;
};

// The item as it is queued and sent: kind name, body text (with its version),
// central's signature of the body. The id is given when the item is queued.
FeedItem SignFeedItem(const TypedFeedItem& item, const crypto::SigningKey& central_key);

// Decodes a feed item's body. kUnimplemented for a kind or version this build
// does not know; kInvalidArgument naming the field when the body is
// malformed, or when the kind does not fit the body's type.
StatusOr<TypedFeedItem> DecodeFeedItem(std::string_view kind, std::string_view body);

}  // namespace ektp::sync
