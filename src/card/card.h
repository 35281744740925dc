// An e-KTP card: what is printed on it and what its chip holds.
//
// The chip personalisation blob (docs/card-format.md) carries the card's
// data, up to two fingerprint templates and the SHA-256 of the face photo,
// signed by central's Ed25519 key. Anyone holding central's public key can
// check a card's chip offline; the photo printed on the card is checked
// against the hash.
//
// Thread-safety: reentrant; no shared state.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/resident.h"
#include "core/status.h"
#include "crypto/crypto.h"

namespace ektp::card {

using crypto::Bytes;

// "Berlaku Hingga" of a citizen's e-KTP (valid for life since 2014).
inline constexpr std::string_view kValidForLife = "SEUMUR HIDUP";

// A fingerprint template written to the chip.
struct ChipFinger {
  int position = 0;      // ISO finger position 1..10 (2 right index, 7 left index)
  Bytes template_bytes;  // ISO 19794-2 or ANSI 378 record, as captured

  bool operator==(const ChipFinger&) const = default;
};

// The card's data, as printed and as written to the chip.
struct CardData {
  Resident resident;                // `nik` is set
  std::string valid_until;          // kValidForLife or "YYYY-MM-DD"
  std::string issuing_regency;      // regency code of the issuing Disdukcapil, "35.21"
  std::chrono::year_month_day issued_on;  // the day central issued the card's data (its print job)
  std::string registration_number;        // the enrollment it was printed for
  std::vector<ChipFinger> fingers;  // 1 or 2, distinct positions (ChipFingers picks them)
};

// A card to print: its data, the images printed on it and the blank it is
// printed on. The serial is printed, not written to the chip: central signs
// the chip's data before a print station picks the blank.
struct Card {
  CardData data;
  Bytes face_jpeg;
  Bytes signature_image;    // PNG or JPEG
  std::string card_serial;  // the blank's serial, printed on the back
};

// What a chip blob holds once decoded.
struct ChipContents {
  CardData data;
  std::array<uint8_t, 32> photo_sha256{};
  bool signature_verified = false;  // true only from VerifyChip
};

// The two fingers a chip carries, from what was captured: the right index
// finger (2), else the right thumb (1), else the right hand's first captured
// finger; the same on the left hand (7, 6, ...). When one hand has none, the
// other hand's next finger takes its place. Fingers with empty templates are
// never chosen. kFailedPrecondition when no finger has a template.
StatusOr<std::vector<ChipFinger>> ChooseChipFingers(const std::vector<ChipFinger>& captured);

// The blob for `card`, signed with `central`. kInvalidArgument when a field
// cannot be encoded (empty NIK, no or more than two fingers, a duplicate
// finger position, a field longer than the format allows); the message
// names the field.
StatusOr<Bytes> EncodeChip(const Card& card, const crypto::SigningKey& central);

// Decodes a blob and checks its signature with `central_public_key`.
// kUnauthenticated when the signature does not verify; kInvalidArgument,
// naming the byte offset and the field, when the blob is malformed.
StatusOr<ChipContents> VerifyChip(std::span<const uint8_t> blob, std::span<const uint8_t> central_public_key);

// Decodes a blob without checking its signature (`signature_verified` is
// false): for inspecting a blob when central's key is not at hand.
StatusOr<ChipContents> DecodeChipUnverified(std::span<const uint8_t> blob);

// OK when `face_jpeg` is the photo the chip was written for;
// kFailedPrecondition otherwise.
Status CheckPhoto(const ChipContents& chip, std::span<const uint8_t> face_jpeg);

// What a print station needs to print one card, as central seals it to the
// station inside a print job: the chip blob central signed and the two
// images printed on the card (docs/card-format.md, "The card to print").
struct CardToPrint {
  Bytes chip;
  Bytes face_jpeg;
  Bytes signature_image;
};
Bytes EncodeCardToPrint(const CardToPrint& card);

struct OpenedCard {
  Card card;   // ready to render once its blank's serial is set
  Bytes chip;  // the chip blob as central signed it, to write to the card
};
// Decodes it, verifies the chip with `central_public_key` and checks the
// photo against the chip's hash. kInvalidArgument when malformed;
// kUnauthenticated when the chip's signature does not verify;
// kFailedPrecondition when the photo is not the chip's.
StatusOr<OpenedCard> OpenCardToPrint(std::span<const uint8_t> bytes, std::span<const uint8_t> central_public_key);

}  // namespace ektp::card
