// The bodies of the packets a station sends about its blanks, the cards it
// prints and the cards it hands over (docs/sync-format.md, "Print station
// packets" and "Hand-over packets"). Each
// carries the station's event id, unique per station: central applies an
// event once however often the packet arrives (blanks/ledger.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::sync {

// The station confirms that blanks handed over to it arrived.
struct BlanksReceivedBody {
  std::string event_id;
  int64_t first_serial = 0;
  int64_t last_serial = 0;
  std::string received_at;  // ISO 8601 UTC, the station's clock
  std::string by;           // the print officer
  bool operator==(const BlanksReceivedBody&) const = default;
};

// One card printed for a print job on one blank.
struct CardPrintedBody {
  std::string event_id;
  int64_t job_id = 0;
  std::string registration_number;
  int64_t serial = 0;
  std::string printed_at;
  std::string by;
  bool operator==(const CardPrintedBody&) const = default;
};

// One blank spoiled: "misprint", "damaged_in_transit" or "printer_jam".
struct BlankSpoiledBody {
  std::string event_id;
  int64_t serial = 0;
  std::string reason;
  std::string note;
  int64_t job_id = 0;  // the job being printed when it was spoiled; 0 for none
  std::string at;
  std::string by;
  bool operator==(const BlankSpoiledBody&) const = default;
};

// The card printed for a job on `serial` came out wrong: the blank is
// spoiled (misprint) and the job prints again on another blank.
struct CardMisprintedBody {
  std::string event_id;
  int64_t job_id = 0;
  std::string registration_number;
  int64_t serial = 0;
  std::string note;
  std::string at;
  std::string by;
  bool operator==(const CardMisprintedBody&) const = default;
};

// A delivery of printed cards to the station where their residents collect
// them: the dispatch manifest. `event_id` is the manifest's id.
struct DispatchedCard {
  int64_t job_id = 0;
  std::string registration_number;
  int64_t serial = 0;
  bool operator==(const DispatchedCard&) const = default;
};
inline constexpr size_t kMaxCardsPerManifest = 1000;
struct CardsDispatchedBody {
  std::string event_id;
  std::string to_station;
  std::vector<DispatchedCard> cards;  // 1 to kMaxCardsPerManifest
  std::string at;
  std::string by;
  bool operator==(const CardsDispatchedBody&) const = default;
};

// The station compared a collector's live fingerprints with the templates
// on a card's chip (1:1): one packet per attempt, passed or not.
struct FingerprintCheckedBody {
  std::string event_id;  // "check-<serial>-<attempt>"
  std::string registration_number;
  int64_t serial = 0;
  int64_t attempt = 0;  // 1, 2, ... for this card
  bool passed = false;
  double score = 0;      // the fused calibrated score of the fingers compared
  double threshold = 0;  // the policy's threshold for that many fingers
  int64_t fingers = 0;   // fingers compared (same position on chip and live)
  std::string at;
  std::string by;  // the operator
  bool operator==(const FingerprintCheckedBody&) const = default;
};

// A supervisor allowed a card to be handed over after its fingerprint checks failed.
struct PickupOverrideBody {
  std::string event_id;  // "override-<serial>"
  std::string registration_number;
  int64_t serial = 0;
  int64_t failed_attempts = 0;
  std::string reason;
  std::string at;
  std::string by;  // the supervisor
  bool operator==(const PickupOverrideBody&) const = default;
};

// How the station made sure the card went to the right person.
enum class HandOverBasis { kFingerprint, kOverride, kDelegated };
std::string_view HandOverBasisName(HandOverBasis basis);  // "fingerprint", "override", "delegated"
// kInvalidArgument naming the accepted names.
StatusOr<HandOverBasis> ParseHandOverBasis(std::string_view name);

// A card handed over and activated. A delegated collection names who
// collected it and the old KTP they surrendered; a holder may surrender one too.
struct CardActivatedBody {
  std::string event_id;  // "activate-<serial>"
  std::string registration_number;
  int64_t serial = 0;
  std::string nik;  // the NIK on the card's chip
  HandOverBasis basis = HandOverBasis::kFingerprint;
  std::string collector_name;      // delegated only
  std::string collector_nik;       // delegated only
  std::string collector_relation;  // delegated only: "spouse", "parent", "child", "sibling", "guardian"
  std::string surrendered_nik;     // the old KTP handed in; "" when none
  std::string surrendered_serial;
  std::string at;
  std::string by;  // the operator
  bool operator==(const CardActivatedBody&) const = default;
};

// A Suket the station issued (suket/suket.h), offline or not. A renewal
// names the Suket it replaces, which central revokes.
struct SuketIssuedBody {
  std::string event_id;  // the Suket's serial
  std::string serial;
  std::string registration_number;
  std::string nik;  // "" while the resident has none
  std::string issued_at;
  std::string valid_until;
  std::string replaces;  // "" for a first Suket
  std::string by;
  bool operator==(const SuketIssuedBody&) const = default;
};

// A card never collected: the station kept it PickupPolicy::keep_uncollected
// (station/station.h), then voided it and deleted its templates and images.
struct CardReturnedBody {
  std::string event_id;  // "return-<serial>"
  std::string registration_number;
  int64_t serial = 0;
  std::string received_at;  // when the card reached the station
  std::string reason;       // why, for central's record history
  std::string at;
  std::string by;  // the supervisor
  bool operator==(const CardReturnedBody&) const = default;
};

std::string BlanksReceivedToJson(const BlanksReceivedBody& body);
std::string CardPrintedToJson(const CardPrintedBody& body);
std::string BlankSpoiledToJson(const BlankSpoiledBody& body);
std::string CardMisprintedToJson(const CardMisprintedBody& body);
std::string CardsDispatchedToJson(const CardsDispatchedBody& body);
std::string FingerprintCheckedToJson(const FingerprintCheckedBody& body);
std::string PickupOverrideToJson(const PickupOverrideBody& body);
std::string CardActivatedToJson(const CardActivatedBody& body);
std::string SuketIssuedToJson(const SuketIssuedBody& body);
std::string CardReturnedToJson(const CardReturnedBody& body);
// kInvalidArgument naming the field.
StatusOr<BlanksReceivedBody> BlanksReceivedFromJson(std::string_view text);
StatusOr<CardPrintedBody> CardPrintedFromJson(std::string_view text);
StatusOr<BlankSpoiledBody> BlankSpoiledFromJson(std::string_view text);
StatusOr<CardMisprintedBody> CardMisprintedFromJson(std::string_view text);
StatusOr<CardsDispatchedBody> CardsDispatchedFromJson(std::string_view text);
StatusOr<FingerprintCheckedBody> FingerprintCheckedFromJson(std::string_view text);
StatusOr<PickupOverrideBody> PickupOverrideFromJson(std::string_view text);
StatusOr<CardActivatedBody> CardActivatedFromJson(std::string_view text);
StatusOr<SuketIssuedBody> SuketIssuedFromJson(std::string_view text);
StatusOr<CardReturnedBody> CardReturnedFromJson(std::string_view text);

}  // namespace ektp::sync
