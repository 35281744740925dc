// A print station: the print jobs central sends through the feed, the blank
// cards it holds, and printing them. Central's side: printing/print_jobs.h,
// blanks/ledger.h, central/print_feed.h.
#include <algorithm>

#include "blanks/ledger.h"
#include "card/render.h"
#include "sync/station_events.h"
#include "station/station.h"

namespace ektp::station {
namespace {

// A hand-over larger than this is refused: it bounds the rows one feed item writes.
constexpr int64_t kMaxHandOver = 100000;

constexpr const char* kJobPending = "pending";
constexpr const char* kJobPrinting = "printing";
constexpr const char* kJobPrinted = "printed";
constexpr const char* kJobWithdrawn = "withdrawn";
constexpr const char* kJobRefused = "refused";

constexpr const char* kBlankExpected = "expected";
constexpr const char* kBlankOnHand = "on_hand";
constexpr const char* kBlankUsed = "used";
constexpr const char* kBlankSpoiled = "spoiled";

constexpr std::pair<HeldPrintJobState, const char*> kJobStates[] = {
    {HeldPrintJobState::kPending, kJobPending},     {HeldPrintJobState::kPrinting, kJobPrinting},
    {HeldPrintJobState::kPrinted, kJobPrinted},     {HeldPrintJobState::kWithdrawn, kJobWithdrawn},
    {HeldPrintJobState::kRefused, kJobRefused},
};

StatusOr<HeldPrintJobState> ParseJobState(const std::string& name) {
  for (const auto& [state, text] : kJobStates) {
    if (name == text) return state;
  }
  return DataLoss("print_jobs: unknown state '" + name + "'");
}

Status CheckNote(std::string_view note) {
  if (note.size() <= blanks::kMaxNote) return Status::Ok();
  return InvalidArgument("the note is " + std::to_string(note.size()) + " bytes; at most " +
                         std::to_string(blanks::kMaxNote));
}

bool Prints(const Identity& identity) {
  return std::ranges::find(identity.capabilities, "print") != identity.capabilities.end();
}

}  // namespace

std::string_view HeldPrintJobStateName(HeldPrintJobState state) {
  for (const auto& [known, text] : kJobStates) {
    if (known == state) return text;
  }
  return "?";
}

Status Station::HoldPrintJob(const sync::PrintJobBody& job, Status& refusal) {
  if (!Prints(identity_)) {
    refusal = FailedPrecondition("print job " + std::to_string(job.job_id) + ": this station has no print capability");
    return Status::Ok();
  }
  return db_.Exec("INSERT INTO print_jobs (job_id, registration_number, urgent, reserved_at, sealed_card, state, "
                  "received_at, collect_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                  {job.job_id, job.registration_number, int64_t{job.urgent}, job.reserved_at, job.sealed_card,
                   kJobPending, FormatTimestamp(clock_.Now()), job.collect_at});
}

Status Station::WithdrawPrintJob(const sync::PrintJobWithdrawnBody& withdrawal) {
  // A job already printed (or being printed) stays so: central flags the card
  // when the print report reaches it. It keeps the reason, so that a misprint
  // of it is not printed again.
  RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET withdrawn_reason = ? WHERE job_id = ?",
                           {withdrawal.reason, withdrawal.job_id}));
  return db_.Exec("UPDATE print_jobs SET state = ? WHERE job_id = ? AND state = ?",
                  {kJobWithdrawn, withdrawal.job_id, kJobPending});
}

Status Station::ExpectBlanks(const sync::BlanksHandedOverBody& handed_over, Status& refusal) {
  const int64_t count = handed_over.last_serial - handed_over.first_serial + 1;
  if (!Prints(identity_)) {
    refusal = FailedPrecondition("blanks handed over: this station has no print capability");
    return Status::Ok();
  }
  if (count > kMaxHandOver) {
    refusal = InvalidArgument("blanks handed over: " + std::to_string(count) + " in one hand-over; at most " +
                              std::to_string(kMaxHandOver));
    return Status::Ok();
  }
  for (int64_t serial = handed_over.first_serial; serial <= handed_over.last_serial; ++serial) {
    RETURN_IF_ERROR(db_.Exec("INSERT INTO blanks (serial, state, handed_over_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (serial) DO NOTHING",
                             {serial, kBlankExpected, handed_over.handed_over_at}));
  }
  return Status::Ok();
}

StatusOr<std::vector<HeldPrintJob>> Station::PrintJobs() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT job_id, registration_number, urgent, reserved_at, state, "
                                        "COALESCE(withdrawn_reason, ''), COALESCE(serial, 0), "
                                        "COALESCE(refused_reason, '') FROM print_jobs "
                                        "ORDER BY urgent DESC, reserved_at, job_id"));
  std::vector<HeldPrintJob> jobs;
  for (const store::Row& row : rows) {
    HeldPrintJob job;
    job.job_id = row.Int(0);
    job.registration_number = row.Text(1);
    job.urgent = row.Int(2) != 0;
    job.reserved_at = row.Text(3);
    ASSIGN_OR_RETURN(job.state, ParseJobState(row.Text(4)));
    job.withdrawn_reason = row.Text(5);
    job.serial = row.Int(6);
    job.refused_reason = row.Text(7);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Status Station::CheckPrintOfficer(const Operator& officer) const {
  if (officer.role == Role::kOperator) return PermissionDenied("an operator may not print cards or handle blanks");
  if (!Prints(identity_)) return PermissionDenied("station " + identity_.station_id + " is not configured to print");
  return Status::Ok();
}

StatusOr<int64_t> Station::ReceiveBlanks(const Operator& officer, int64_t first_serial, int64_t last_serial) {
  RETURN_IF_ERROR(CheckPrintOfficer(officer));
  if (first_serial < 1 || last_serial < first_serial || last_serial - first_serial >= kMaxHandOver) {
    return InvalidArgument("blanks: " + std::to_string(first_serial) + "-" + std::to_string(last_serial) +
                           " is not a range of at most " + std::to_string(kMaxHandOver) + " serials");
  }
  const int64_t count = last_serial - first_serial + 1;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT serial, state FROM blanks WHERE serial BETWEEN ? AND ? "
                                          "ORDER BY serial",
                                          {first_serial, last_serial}));
    int64_t next = first_serial;
    for (const store::Row& row : rows) {
      if (row.Int(0) != next) break;  // `next` was never handed over here
      if (row.Text(1) != kBlankExpected) {
        return FailedPrecondition("blank " + blanks::FormatSerial(next) + " was received here already (now " + row.Text(1) +
                                  "); nothing was recorded");
      }
      ++next;
    }
    if (next <= last_serial) {
      return FailedPrecondition("blank " + blanks::FormatSerial(next) + " was never handed over to station " +
                                identity_.station_id + "; nothing was recorded");
    }
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET state = ?, received_at = ? WHERE serial BETWEEN ? AND ?",
                             {kBlankOnHand, now, first_serial, last_serial}));
    const std::string event_id = "receive-" + std::to_string(first_serial) + "-" + std::to_string(last_serial);
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kBlanksReceived, event_id,
                                sync::BlanksReceivedToJson({event_id, first_serial, last_serial, now, officer.username}),
                                now));
    return Audit(officer.username, "blanks.receive", blanks::FormatSerial(first_serial) + "-" + blanks::FormatSerial(last_serial));
  }));
  return count;
}

StatusOr<PrintedCard> Station::PrintNextCard(const Operator& officer, const crypto::SealingKey& box_key,
                                             card::CardOutput& output) {
  RETURN_IF_ERROR(CheckPrintOfficer(officer));
  PrintedCard printed;
  crypto::Bytes sealed;
  // Phase 1: the job (one being printed when the station stopped, else the
  // next in order) and its blank.
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT job_id, registration_number, COALESCE(serial, 0), sealed_card, state "
                                          "FROM print_jobs WHERE state IN (?, ?) "
                                          "ORDER BY state = ? DESC, urgent DESC, reserved_at, job_id LIMIT 1",
                                          {kJobPrinting, kJobPending, kJobPrinting}));
    if (rows.empty()) return NotFound("no print job is waiting at station " + identity_.station_id);
    printed.job_id = rows[0].Int(0);
    printed.registration_number = rows[0].Text(1);
    printed.serial = rows[0].Int(2);
    sealed = rows[0].Bytes(3);
    if (rows[0].Text(4) == kJobPrinting) return Status::Ok();
    ASSIGN_OR_RETURN(auto blank, db_.Query("SELECT MIN(serial) FROM blanks WHERE state = ?", {kBlankOnHand}));
    if (blank[0].IsNull(0)) {
      return FailedPrecondition("no blank card is on hand at station " + identity_.station_id +
                                "; confirm the blanks central handed over (ReceiveBlanks) first");
    }
    printed.serial = blank[0].Int(0);
    RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET state = ?, job_id = ? WHERE serial = ?",
                             {kBlankUsed, printed.job_id, printed.serial}));
    return db_.Exec("UPDATE print_jobs SET state = ?, serial = ? WHERE job_id = ?",
                    {kJobPrinting, printed.serial, printed.job_id});
  }));

  // Phase 2: open, check, render, send. A card that does not open or verify is refused for good.
  const std::string job_name = "print job " + std::to_string(printed.job_id) + " (" + printed.registration_number + ")";
  auto opened = box_key.Open(sealed);
  StatusOr<card::OpenedCard> card = opened.ok() ? card::OpenCardToPrint(*opened, identity_.central_signing_key)
                                                : StatusOr<card::OpenedCard>(opened.status());
  if (!card.ok()) {
    const Status refusal = card.status().WithContext(job_name);
    RETURN_IF_ERROR(db_.Transact([&]() -> Status {
      RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET state = ?, job_id = NULL WHERE serial = ?",
                               {kBlankOnHand, printed.serial}));
      RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, serial = NULL, refused_reason = ? WHERE job_id = ?",
                               {kJobRefused, refusal.message(), printed.job_id}));
      return Audit(officer.username, "print.refuse", std::to_string(printed.job_id));
    }));
    return refusal;
  }
  card->card.card_serial = blanks::FormatSerial(printed.serial);
  ASSIGN_OR_RETURN(card::RenderedCard rendered, card::RenderCard(card->card, RegionRegistry::Default()));
  RETURN_IF_ERROR(output.Send(card->card.card_serial, rendered, card->chip));

  // Phase 3: printed, with its packet.
  printed.printed_at = FormatTimestamp(clock_.Now());
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET used_at = ? WHERE serial = ?", {printed.printed_at, printed.serial}));
    RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, printed_at = ? WHERE job_id = ?",
                             {kJobPrinted, printed.printed_at, printed.job_id}));
    const std::string event_id = "print-" + std::to_string(printed.job_id) + "-" + std::to_string(printed.serial);
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kCardPrinted, printed.registration_number,
                                sync::CardPrintedToJson({event_id, printed.job_id, printed.registration_number,
                                                         printed.serial, printed.printed_at, officer.username}),
                                printed.printed_at));
    return Audit(officer.username, "print.card", printed.registration_number + " " + card->card.card_serial);
  }));
  return printed;
}

Status Station::SpoilBlank(const Operator& officer, int64_t serial, std::string_view reason, std::string_view note) {
  RETURN_IF_ERROR(CheckPrintOfficer(officer));
  RETURN_IF_ERROR(blanks::ParseSpoilReason(reason).status());
  RETURN_IF_ERROR(CheckNote(note));
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT state FROM blanks WHERE serial = ?", {serial}));
    if (rows.empty() || rows[0].Text(0) != kBlankOnHand) {
      return FailedPrecondition("blank " + blanks::FormatSerial(serial) + " is not on hand at station " + identity_.station_id +
                                (rows.empty() ? " (never handed over here)" : " (" + rows[0].Text(0) + ")"));
    }
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET state = ?, used_at = ?, spoil_reason = ? WHERE serial = ?",
                             {kBlankSpoiled, now, reason, serial}));
    const std::string event_id = "spoil-" + std::to_string(serial);
    RETURN_IF_ERROR(QueuePacket(
        sync::PacketKind::kBlankSpoiled, blanks::FormatSerial(serial),
        sync::BlankSpoiledToJson({event_id, serial, std::string(reason), std::string(note), 0, now, officer.username}),
        now));
    return Audit(officer.username, "blanks.spoil", blanks::FormatSerial(serial) + " " + std::string(reason));
  });
}

Status Station::RecordMisprint(const Operator& officer, int64_t serial, std::string_view note) {
  RETURN_IF_ERROR(CheckPrintOfficer(officer));
  RETURN_IF_ERROR(CheckNote(note));
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT j.job_id, j.registration_number, COALESCE(j.withdrawn_reason, '') "
                                          "FROM print_jobs j WHERE j.serial = ? AND j.state = ?",
                                          {serial, kJobPrinted}));
    if (rows.empty()) {
      return FailedPrecondition("blank " + blanks::FormatSerial(serial) + " holds no card printed at station " +
                                identity_.station_id + "; a blank spoiled before printing is recorded with SpoilBlank");
    }
    const int64_t job_id = rows[0].Int(0);
    const std::string registration_number = rows[0].Text(1);
    const bool withdrawn = !rows[0].Text(2).empty();
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE blanks SET state = ?, spoil_reason = ? WHERE serial = ?",
                             {kBlankSpoiled, blanks::SpoilReasonName(blanks::SpoilReason::kMisprint), serial}));
    RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET state = ?, serial = NULL, printed_at = NULL WHERE job_id = ?",
                             {withdrawn ? kJobWithdrawn : kJobPending, job_id}));
    const std::string event_id = "misprint-" + std::to_string(serial);
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kCardMisprinted, registration_number,
                                sync::CardMisprintedToJson({event_id, job_id, registration_number, serial,
                                                            std::string(note), now, officer.username}),
                                now));
    return Audit(officer.username, "print.misprint", registration_number + " " + blanks::FormatSerial(serial));
  });
}

StatusOr<std::vector<DispatchManifest>> Station::DispatchPrintedCards(const Operator& officer) {
  RETURN_IF_ERROR(CheckPrintOfficer(officer));
  std::vector<DispatchManifest> manifests;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    manifests.clear();
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT job_id, registration_number, serial, collect_at FROM print_jobs "
                                          "WHERE state = ? AND manifest_id IS NULL AND COALESCE(collect_at, '') <> '' "
                                          "ORDER BY collect_at, serial",
                                          {kJobPrinted}));
    const std::string now = FormatTimestamp(clock_.Now());
    for (const store::Row& row : rows) {
      if (manifests.empty() || manifests.back().to_station != row.Text(3) ||
          manifests.back().cards.size() == sync::kMaxCardsPerManifest) {
        // Named after its first card's serial, which no other manifest of this station holds.
        manifests.push_back({"dispatch-" + blanks::FormatSerial(row.Int(2)), row.Text(3), {}});
      }
      manifests.back().cards.push_back({row.Int(0), row.Text(1), row.Int(2)});
    }
    for (const DispatchManifest& manifest : manifests) {
      for (const sync::DispatchedCard& card : manifest.cards) {
        RETURN_IF_ERROR(db_.Exec("UPDATE print_jobs SET manifest_id = ? WHERE job_id = ?",
                                 {manifest.manifest_id, card.job_id}));
      }
      RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kCardsDispatched, manifest.manifest_id,
                                  sync::CardsDispatchedToJson({manifest.manifest_id, manifest.to_station, manifest.cards,
                                                               now, officer.username}),
                                  now));
      RETURN_IF_ERROR(Audit(officer.username, "print.dispatch",
                            manifest.manifest_id + " " + manifest.to_station + " " +
                                std::to_string(manifest.cards.size())));
    }
    return Status::Ok();
  }));
  return manifests;
}

StatusOr<std::vector<CardToCollect>> Station::CardsToCollect() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT registration_number, serial, manifest_id, from_station, received_at "
                                        "FROM cards_to_collect ORDER BY received_at, registration_number"));
  std::vector<CardToCollect> cards;
  for (const store::Row& row : rows) cards.push_back({row.Text(0), row.Int(1), row.Text(2), row.Text(3), row.Text(4)});
  return cards;
}

StatusOr<BlankCounts> Station::Blanks() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT state, COUNT(*) FROM blanks GROUP BY state"));
  BlankCounts counts;
  for (const store::Row& row : rows) {
    const std::string state = row.Text(0);
    int64_t* slot = state == kBlankExpected ? &counts.expected
                    : state == kBlankOnHand ? &counts.on_hand
                    : state == kBlankUsed   ? &counts.used
                                            : &counts.spoiled;
    *slot += row.Int(1);
  }
  return counts;
}

}  // namespace ektp::station
