// Central's side of print stations: before a print station reads its feed,
// its print jobs are topped up (printing/print_jobs.h) and each new job is
// queued in its feed as a `print_job` item carrying the card to print
// (card/card.h), with the chip blob signed by central, sealed to the
// station's X25519 key.
#pragma once

#include "blanks/ledger.h"
#include "central/ingest.h"
#include "central/station_registry.h"
#include "pipeline/feed_queue.h"
#include "sync/station_events.h"

namespace ektp::central {

// Jobs a print station holds beyond its blanks on hand, so that a spoiled
// blank or a blank received before the next sync does not leave it idle.
inline constexpr int64_t kPrintPrefetchMargin = 20;

// How many jobs `station` should hold: 0 without the print capability, an
// approval, an X25519 key or blanks received; else its received blanks plus
// kPrintPrefetchMargin.
StatusOr<int64_t> PrintCapacity(store::Connection& db, const Clock& clock, const RegisteredStation& station);

// Tops up the station's print jobs to PrintCapacity from its regency's queue
// (approved urgent cases always) and queues a print_job feed item for each
// new job, in one transaction. Returns how many it queued. A record whose
// card cannot be built (its biometrics do not decrypt, no finger has a
// template) fails the whole call with the record named, and nothing is
// reserved.
StatusOr<int> QueuePrintJobs(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                             const RegisteredStation& station);

// Hands blanks from the regency's stock to a print station in the ledger
// (blanks::BlankLedger::HandOver, whose refusals it returns) and tells the
// station through a blanks_handed_over feed item, in one transaction.
Status HandOverBlanks(store::Connection& db, const Clock& clock, const CentralKeys& keys, std::string_view station_id,
                      blanks::SerialRange range, std::string_view actor, std::string_view reference = "");

// Applies a print station's dispatch manifest (a cards_dispatched packet) in
// the caller's transaction: each card, printed by `print_station` on the
// serial named, moves printed -> dispatched, and `items` gains, for the
// destination, a card_to_collect item with the card as printed (the chip
// blob kept with its job) sealed to the destination's X25519 key, and for
// the enrolling station the record's new state. Cards are collected where
// the resident enrolled, so the destination must be each record's station.
// kFailedPrecondition naming the card when one does not fit; kNotFound when
// a job has no chip blob kept.
Status DispatchCards(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                     const RegisteredStation& print_station, const sync::CardsDispatchedBody& manifest,
                     std::vector<pipeline::QueuedFeedItem>& items);

// Takes back the reserved print job of `record_id` (printing::PrintJobs::Withdraw)
// and tells its station through a print_job_withdrawn feed item, in one
// transaction. Returns whether the record had a job reserved.
StatusOr<bool> WithdrawPrintJob(store::Connection& db, const Clock& clock, const CentralKeys& keys, int64_t record_id,
                                std::string_view reason, std::string_view actor);

}  // namespace ektp::central
