// Where a print station sends a rendered card: a CUPS printer (libcups) when
// one is configured, otherwise a spool folder a card printer's own software
// picks files up from.
//
// Contract of Send: when it returns OK the whole card has been handed over
// (the spool entry exists complete, or CUPS accepted the job); when it
// fails, nothing usable was handed over, and the caller may send the same
// card again under the same `card_id`. Sending a `card_id` that was already
// sent completely is a no-op that returns OK (a print resumed after a crash
// does not come out twice).
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

// Sends the card's PDF (both sides) as one CUPS job named `card_id`, with one
// Print-Job request (a job never exists in CUPS without its document), to
// queue `printer` on `server`: "host:port", "host" (port 631), a Unix socket
// path, or "" for the system's default server (cupsServer(), ippPort()).
// The chip blob is not part of the job (a CUPS queue carries only the
// printed sides).
// WasSent asks the server's job history (kept by cupsd, by default the last
// 500 jobs: MaxJobs in cupsd.conf) for a job named `card_id` on `printer`
// that was not cancelled or aborted; that covers the resend of the card in
// flight when a station crashed after CUPS accepted its job.
// Send refuses a stopped printer or one that rejects jobs rather than queue
// a card that would not come out.
// Errors: kInvalidArgument for a bad card id or a printer the server does
// not know (naming it); kUnavailable when the server cannot be reached or
// the printer is stopped or rejects jobs (naming the printer and CUPS's
// message); kFailedPrecondition when CUPS refuses the job for another reason
// (permissions, document format). CupsOutput itself refuses an empty or
// malformed printer name or server with kInvalidArgument.
StatusOr<std::unique_ptr<CardOutput>> CupsOutput(std::string printer, std::string server = "");

// The output a station's configuration names: "cups:<printer>" or
// "cups:<printer>@<server>" (server as for CupsOutput), otherwise the path
// of a spool folder.
StatusOr<std::unique_ptr<CardOutput>> OpenCardOutput(std::string_view spec);

// True for a valid `card_id`: 1 to 100 of a-z, A-Z, 0-9, '.', '-', '_', not
// starting with '.'.
bool IsCardId(std::string_view card_id);

}  // namespace ektp::card
