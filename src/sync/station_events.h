// The bodies of the packets a print station sends about its blanks and the
// cards it prints (docs/sync-format.md, "Print station packets"). Each
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

std::string BlanksReceivedToJson(const BlanksReceivedBody& body);
std::string CardPrintedToJson(const CardPrintedBody& body);
std::string BlankSpoiledToJson(const BlankSpoiledBody& body);
std::string CardMisprintedToJson(const CardMisprintedBody& body);
std::string CardsDispatchedToJson(const CardsDispatchedBody& body);
// kInvalidArgument naming the field.
StatusOr<BlanksReceivedBody> BlanksReceivedFromJson(std::string_view text);
StatusOr<CardPrintedBody> CardPrintedFromJson(std::string_view text);
StatusOr<BlankSpoiledBody> BlankSpoiledFromJson(std::string_view text);
StatusOr<CardMisprintedBody> CardMisprintedFromJson(std::string_view text);
StatusOr<CardsDispatchedBody> CardsDispatchedFromJson(std::string_view text);

}  // namespace ektp::sync
