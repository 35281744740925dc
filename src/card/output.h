// Where a print station sends a rendered card: a CUPS printer (libcups) when
// one is configured, otherwise a spool folder a card printer's own software
// picks files up from.
//
// Contract of Send: when it returns OK the whole card has been handed over
// (the spool entry exists complete, or CUPS accepted the job); when it
// fails, nothing usable was handed over, and the caller may send the same
// card again under the same `card_id`. Sending a `card_id` that was already
// sent completely is a no-op that returns OK (a print resumed after a crash
// does not come out twice from the spool).
//
// Thread-safety: one thread at a time per output.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "card/render.h"
#include "core/status.h"

namespace ektp::card {

class CardOutput {
 public:
  virtual ~CardOutput() = default;
  // `card_id` names the card ("<serial>"): lower-case letters, digits, '.', '-' and '_'.
  virtual Status Send(std::string_view card_id, const RenderedCard& card, std::span<const uint8_t> chip_blob) = 0;
  // True when `card_id` was sent completely.
  virtual StatusOr<bool> WasSent(std::string_view card_id) = 0;
  virtual std::string Describe() const = 0;  // "spool /var/lib/ektp/spool", "CUPS printer ektp-pdf"
};

// Writes <dir>/<card_id>/{front.png,back.png,card.pdf,chip.bin}: into a
// temporary folder first, fsynced, then renamed into place, so a reader (or
// a restart after kill -9) sees either the whole card or none of it.
// kInvalidArgument for a bad card_id; kUnavailable when the folder cannot be
// written (disk full, permissions), naming the path.
std::unique_ptr<CardOutput> SpoolOutput(std::filesystem::path dir);

}  // namespace ektp::card
