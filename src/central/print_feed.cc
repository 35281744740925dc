#include "central/print_feed.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "card/card.h"
#include "core/region.h"
#include "core/resident_json.h"
#include "pipeline/biometrics_at_rest.h"
#include "pipeline/feed_queue.h"
#include "printing/print_jobs.h"
#include "store/record_repository.h"

namespace ektp::central {
namespace {

// A foreign resident's e-KTP is valid as long as the residence permit (KITAP),
// at most five years; ektp does not hold the permit's date, so it prints five
// years from issue and the office shortens it by hand where the permit ends sooner.
constexpr int kForeignerValidYears = 5;

StatusOr<card::Card> CardOf(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                            const store::Record& record, std::string_view issuing_regency) {
  auto json = nlohmann::json::parse(record.resident_json, nullptr, false);
  if (json.is_discarded()) return DataLoss("record " + record.registration_number + ": resident_json is not JSON");
  card::Card card;
  ASSIGN_OR_RETURN(card.data.resident, ResidentFromJson(json));
  card.data.resident.nik = record.holder_nik;
  const auto today = clock.TodayWib();
  if (card.data.resident.citizenship == Citizenship::kWni) {
    card.data.valid_until = std::string(card::kValidForLife);
  } else {
    auto until = today + std::chrono::years(kForeignerValidYears);
    if (!until.ok()) until = until.year() / until.month() / std::chrono::last;
    card.data.valid_until = FormatDate(until);
  }
  card.data.issuing_regency = std::string(issuing_regency);
  card.data.issued_on = today;
  card.data.registration_number = record.registration_number;
  ASSIGN_OR_RETURN(enrollment::Biometrics biometrics,
                   pipeline::LoadRecordBiometrics(db, keys.biometrics, record.id));
  std::vector<card::ChipFinger> captured;
  for (const enrollment::FingerCapture& finger : biometrics.fingers) {
    captured.push_back({finger.position, finger.template_bytes});
  }
  ASSIGN_OR_RETURN(card.data.fingers, card::ChooseChipFingers(captured));
  card.face_jpeg = std::move(biometrics.face_jpeg);
  card.signature_image = std::move(biometrics.signature_image);
  return card;
}

}  // namespace

StatusOr<int64_t> PrintCapacity(store::Connection& db, const Clock& clock, const RegisteredStation& station) {
  const bool prints = std::ranges::find(station.capabilities, "print") != station.capabilities.end();
  if (!prints || station.status != StationStatus::kApproved || station.box_public_key.empty()) return 0;
  ASSIGN_OR_RETURN(int64_t blanks, blanks::BlankLedger(db, clock).OnHandAtStation(station.id));
  return blanks == 0 ? 0 : blanks + kPrintPrefetchMargin;
}

StatusOr<int> QueuePrintJobs(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                             const RegisteredStation& station) {
  int queued = 0;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    queued = 0;
    ASSIGN_OR_RETURN(int64_t capacity, PrintCapacity(db, clock, station));
    if (capacity == 0) return Status::Ok();
    const std::string regency(ParentCode(station.kecamatan_code));
    ASSIGN_OR_RETURN(auto jobs, printing::PrintJobs(db, clock).TopUp(station.id, regency, capacity));
    std::vector<pipeline::QueuedFeedItem> items;
    for (const printing::PrintJob& job : jobs) {
      ASSIGN_OR_RETURN(store::Record record, store::RecordRepository(db, clock).Get(job.record_id));
      auto card = CardOf(db, clock, keys, record, regency);
      if (!card.ok()) return card.status().WithContext("print job for " + job.registration_number);
      ASSIGN_OR_RETURN(crypto::Bytes chip, card::EncodeChip(*card, keys.signing));
      RETURN_IF_ERROR(printing::PrintJobs(db, clock).KeepChip(job.id, chip));
      const crypto::Bytes to_print = card::EncodeCardToPrint({std::move(chip), card->face_jpeg, card->signature_image});
      sync::PrintJobBody body{job.id, job.registration_number, job.urgent, job.reserved_at,
                              crypto::Seal(station.box_public_key, to_print), record.station_id};
      items.push_back({station.id, sync::SignFeedItem({sync::FeedKind::kPrintJob, std::move(body)}, keys.signing)});
    }
    queued = static_cast<int>(items.size());
    return pipeline::QueueFeedItems(db, clock, items);
  }));
  return queued;
}

Status HandOverBlanks(store::Connection& db, const Clock& clock, const CentralKeys& keys, std::string_view station_id,
                      blanks::SerialRange range, std::string_view actor, std::string_view reference) {
  return db.Transact([&]() -> Status {
    RETURN_IF_ERROR(blanks::BlankLedger(db, clock).HandOver(station_id, range, actor, reference));
    sync::BlanksHandedOverBody body{range.first, range.last, FormatTimestamp(clock.Now())};
    const pipeline::QueuedFeedItem item{
        std::string(station_id), sync::SignFeedItem({sync::FeedKind::kBlanksHandedOver, std::move(body)}, keys.signing)};
    return pipeline::QueueFeedItems(db, clock, {&item, 1});
  });
}

Status DispatchCards(store::Connection& db, const Clock& clock, const CentralKeys& keys,
                     const RegisteredStation& print_station, const sync::CardsDispatchedBody& manifest,
                     std::vector<pipeline::QueuedFeedItem>& items) {
  const std::string context = "dispatch manifest " + manifest.event_id + " of station " + print_station.id;
  auto destination = StationRegistry(db, clock).Get(manifest.to_station);
  if (!destination.ok()) return FailedPrecondition(context + ": " + destination.status().message());
  if (destination->status != StationStatus::kApproved || destination->box_public_key.empty()) {
    return FailedPrecondition(context + ": station " + destination->id +
                              " is not an approved station with an X25519 key; it cannot receive cards");
  }
  printing::PrintJobs jobs(db, clock);
  store::RecordRepository records(db, clock);
  for (const sync::DispatchedCard& dispatched : manifest.cards) {
    const std::string card_context = context + ", card " + blanks::FormatSerial(dispatched.serial);
    auto job = jobs.Get(dispatched.job_id);
    if (!job.ok()) return FailedPrecondition(card_context + ": " + job.status().message());
    if (job->station_id != print_station.id || job->registration_number != dispatched.registration_number ||
        job->state != printing::PrintJobState::kPrinted || job->serial != dispatched.serial) {
      return FailedPrecondition(card_context + ": it is not " + dispatched.registration_number +
                                "'s card printed by this station on that serial");
    }
    ASSIGN_OR_RETURN(store::Record record, records.Get(job->record_id));
    if (record.station_id != destination->id) {
      return FailedPrecondition(card_context + ": " + dispatched.registration_number + " is collected at station " +
                                record.station_id + ", not " + destination->id);
    }
    RETURN_IF_ERROR(records.Transition(job->record_id, RecordState::kPrinted, RecordState::kDispatched,
                                       "station:" + print_station.id, "dispatch manifest " + manifest.event_id)
                        .WithContext(card_context));
    ASSIGN_OR_RETURN(crypto::Bytes chip, jobs.Chip(job->id));
    ASSIGN_OR_RETURN(enrollment::Biometrics biometrics,
                     pipeline::LoadRecordBiometrics(db, keys.biometrics, job->record_id));
    const crypto::Bytes card =
        card::EncodeCardToPrint({std::move(chip), std::move(biometrics.face_jpeg), std::move(biometrics.signature_image)});
    sync::CardToCollectBody body{record.registration_number, dispatched.serial, manifest.event_id, print_station.id,
                                 crypto::Seal(destination->box_public_key, card)};
    items.push_back({destination->id, sync::SignFeedItem({sync::FeedKind::kCardToCollect, std::move(body)}, keys.signing)});
    sync::RecordStatusBody status{record.registration_number, RecordState::kDispatched, "", record.holder_nik};
    items.push_back({record.station_id, sync::SignFeedItem({sync::FeedKind::kRecordStatus, std::move(status)}, keys.signing)});
  }
  return Status::Ok();
}

StatusOr<bool> WithdrawPrintJob(store::Connection& db, const Clock& clock, const CentralKeys& keys, int64_t record_id,
                                std::string_view reason, std::string_view actor) {
  bool withdrew = false;
  RETURN_IF_ERROR(db.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto job, printing::PrintJobs(db, clock).Withdraw(record_id, reason, actor));
    withdrew = job.has_value();
    if (!withdrew) return Status::Ok();
    sync::PrintJobWithdrawnBody body{job->id, job->registration_number, std::string(reason)};
    const pipeline::QueuedFeedItem item{
        job->station_id, sync::SignFeedItem({sync::FeedKind::kPrintJobWithdrawn, std::move(body)}, keys.signing)};
    return pipeline::QueueFeedItems(db, clock, {&item, 1});
  }));
  return withdrew;
}

}  // namespace ektp::central
