// Card hand-over at the collecting station: finding the card, the 1:1
// fingerprint check against its chip, a supervisor's override, delegated
// collection and activation, and returning cards never collected. Central's
// side: central/hand_over.h (the fingerprint_checked, pickup_override,
// card_activated and card_returned packets).
#include <algorithm>
#include <cctype>
#include <optional>

#include "bio/fusion.h"
#include "bio/matcher.h"
#include "bio/template.h"
#include "blanks/ledger.h"
#include "core/service_notice.h"
#include "station/finger_features.h"
#include "station/station.h"

namespace ektp::station {
namespace {

constexpr const char* kWaiting = "waiting";
constexpr const char* kActivated = "activated";
constexpr const char* kReturned = "returned";
constexpr const char* kUncollectedReason = "card uncollected, returned and voided";
constexpr size_t kMaxReason = 500;
constexpr size_t kMaxName = 100;
constexpr size_t kMaxKtpSerial = 32;

constexpr const char* kCardColumns =
    "c.registration_number, c.serial, c.manifest_id, c.from_station, c.received_at, c.state, COALESCE(e.nik, ''), "
    "c.failed_checks, COALESCE(c.passed_check_at, ''), COALESCE(c.override_by, ''), COALESCE(c.handed_over_at, ''), "
    "c.checks, COALESCE(c.returned_at, '')";
constexpr const char* kCardFrom = " FROM cards_to_collect c LEFT JOIN enrollments e "
                                  "ON e.registration_number = c.registration_number ";

bool AllDigits(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](unsigned char c) { return std::isdigit(c) != 0; });
}

Status CheckCounterRole(const Operator& op) {
  if (op.role == Role::kOperator || op.role == Role::kSupervisor) return Status::Ok();
  return PermissionDenied("role " + std::string(RoleName(op.role)) + " may not hand cards over; an operator or supervisor may");
}

Status CheckNik(std::string_view nik, std::string_view what) {
  if (nik.size() == 16 && AllDigits(nik)) return Status::Ok();
  return InvalidArgument(std::string(what) + " must be 16 digits");
}

// The fused score of the live fingers whose positions the chip holds.
struct Comparison {
  float score = 0;
  int fingers = 0;
};

StatusOr<Comparison> Compare(const std::vector<card::ChipFinger>& chip, const std::vector<card::ChipFinger>& live) {
  if (live.empty() || live.size() > 10) return InvalidArgument("give 1 to 10 live fingers");
  bio::Matcher matcher;
  Comparison comparison;
  std::vector<int> seen;
  for (const card::ChipFinger& presented : live) {
    if (std::ranges::find(seen, presented.position) != seen.end()) {
      return InvalidArgument("live finger " + std::to_string(presented.position) + " is given twice");
    }
    seen.push_back(presented.position);
    ASSIGN_OR_RETURN(bio::FingerFeatures probe, DecodeFinger(presented, "live"));
    for (const card::ChipFinger& held : chip) {
      if (held.position != presented.position) continue;
      ASSIGN_OR_RETURN(bio::FingerFeatures candidate, DecodeFinger(held, "chip"));
      comparison.score += matcher.Score(bio::PreparedProbe(std::move(probe)), candidate);
      ++comparison.fingers;
      break;
    }
  }
  if (comparison.fingers == 0) {
    std::string positions;
    for (const card::ChipFinger& held : chip) positions += (positions.empty() ? "" : ", ") + std::to_string(held.position);
    return InvalidArgument("none of the live fingers is one the card holds (finger positions " + positions + ")");
  }
  return comparison;
}

}  // namespace

constexpr std::pair<CollectState, const char*> kCollectStates[] = {
    {CollectState::kWaiting, kWaiting}, {CollectState::kActivated, kActivated}, {CollectState::kReturned, kReturned}};

std::string_view CollectStateName(CollectState state) {
  for (const auto& [known, name] : kCollectStates) {
    if (known == state) return name;
  }
  return "?";
}

namespace {

StatusOr<CardAtCounter> CardFromRow(const store::Row& row, const Clock& clock, const PickupPolicy& policy) {
  CardAtCounter card;
  card.card = {row.Text(0), row.Int(1), row.Text(2), row.Text(3), row.Text(4)};
  const std::string state = row.Text(5);
  const auto* known = std::ranges::find_if(kCollectStates, [&](const auto& entry) { return state == entry.second; });
  if (known == std::end(kCollectStates)) return DataLoss("cards_to_collect: unknown state '" + state + "'");
  card.state = known->first;
  card.nik = row.Text(6);
  card.failed_checks = static_cast<int>(row.Int(7));
  // Timestamps are ISO 8601 UTC to the second: their order is the text's.
  const std::string passed = row.Text(8);
  card.check_passed = !passed.empty() && passed >= FormatTimestamp(clock.Now() - policy.passed_check_valid_for);
  card.override_by = row.Text(9);
  card.handed_over_at = row.Text(10);
  card.checks = static_cast<int>(row.Int(11));
  card.returned_at = row.Text(12);
  card.override_allowed = card.state == CollectState::kWaiting && !card.check_passed && card.override_by.empty() &&
                          card.failed_checks >= policy.failed_checks_before_override;
  return card;
}

}  // namespace

StatusOr<CardAtCounter> Station::FindCardAtCounter(std::string_view query) {
  std::string where;
  store::Value key;
  if (query.size() == 16 && AllDigits(query)) {
    where = "WHERE e.nik = ?";
    key = std::string(query);
  } else if (query.size() <= 10 && AllDigits(query)) {
    ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(query));
    where = "WHERE c.serial = ?";
    key = serial;
  } else {
    where = "WHERE c.registration_number = ?";
    key = std::string(query);
  }
  ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kCardColumns + kCardFrom + where +
                                            " ORDER BY c.state DESC, c.received_at DESC LIMIT 1",
                                        {key}));
  if (rows.empty()) {
    return NotFound("no card for '" + std::string(query) + "' was dispatched to station " + identity_.station_id);
  }
  return CardFromRow(rows[0], clock_, pickup_policy_);
}

namespace {

// The card on `serial` here, with its state; kNotFound if none was dispatched here.
StatusOr<CardAtCounter> CardBySerial(store::Connection& db, const Clock& clock, const PickupPolicy& policy,
                                     const std::string& station_id, int64_t serial) {
  ASSIGN_OR_RETURN(auto rows, db.Query(std::string("SELECT ") + kCardColumns + kCardFrom + "WHERE c.serial = ?", {serial}));
  if (rows.empty()) {
    return NotFound("no card on blank " + blanks::FormatSerial(serial) + " was dispatched to station " + station_id);
  }
  return CardFromRow(rows[0], clock, policy);
}

Status CheckWaiting(const CardAtCounter& card) {
  if (card.state == CollectState::kWaiting) return Status::Ok();
  if (card.state == CollectState::kReturned) {
    return FailedPrecondition("card " + blanks::FormatSerial(card.card.serial) +
                              " was never collected; it was returned and voided at " + card.returned_at);
  }
  return FailedPrecondition("card " + blanks::FormatSerial(card.card.serial) + " was handed over at " +
                            card.handed_over_at);
}

}  // namespace

StatusOr<FingerprintCheck> Station::CheckCollectorFingerprints(const Operator& op, const crypto::SealingKey& box_key,
                                                               int64_t serial,
                                                               const std::vector<card::ChipFinger>& live) {
  RETURN_IF_ERROR(CheckCounterRole(op));
  FingerprintCheck check;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(CardAtCounter card, CardBySerial(db_, clock_, pickup_policy_, identity_.station_id, serial));
    RETURN_IF_ERROR(CheckWaiting(card));
    ASSIGN_OR_RETURN(card::OpenedCard opened, OpenCardHere(box_key, serial));
    ASSIGN_OR_RETURN(Comparison comparison, Compare(opened.card.data.fingers, live));
    check.score = comparison.score;
    check.fingers = comparison.fingers;
    check.threshold = bio::ConservativeThreshold(pickup_policy_.false_match_rate, comparison.fingers);
    check.passed = check.score >= check.threshold;
    check.attempt = card.checks + 1;
    check.failed_checks = card.failed_checks + (check.passed ? 0 : 1);
    check.override_allowed = !check.passed && check.failed_checks >= pickup_policy_.failed_checks_before_override;
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE cards_to_collect SET checks = ?, failed_checks = ?, "
                             "passed_check_at = CASE WHEN ? THEN ? ELSE passed_check_at END WHERE serial = ?",
                             {int64_t{check.attempt}, int64_t{check.failed_checks}, int64_t{check.passed}, now, serial}));
    const sync::FingerprintCheckedBody body{"check-" + blanks::FormatSerial(serial) + "-" + std::to_string(check.attempt),
                                            card.card.registration_number,
                                            serial,
                                            check.attempt,
                                            check.passed,
                                            check.score,
                                            check.threshold,
                                            check.fingers,
                                            now,
                                            op.username};
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kFingerprintChecked, card.card.registration_number,
                                sync::FingerprintCheckedToJson(body), now));
    return Audit(op.username, check.passed ? "pickup.check_passed" : "pickup.check_failed",
                 card.card.registration_number + " " + blanks::FormatSerial(serial));
  }));
  return check;
}

Status Station::OverrideFingerprintCheck(const Operator& supervisor, int64_t serial, std::string_view reason) {
  if (supervisor.role != Role::kSupervisor) {
    return PermissionDenied("role " + std::string(RoleName(supervisor.role)) +
                            " may not override a fingerprint check; a supervisor must log in and do it");
  }
  if (reason.empty() || reason.size() > kMaxReason) {
    return InvalidArgument("an override needs a reason of 1 to " + std::to_string(kMaxReason) + " bytes");
  }
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(CardAtCounter card, CardBySerial(db_, clock_, pickup_policy_, identity_.station_id, serial));
    RETURN_IF_ERROR(CheckWaiting(card));
    if (card.failed_checks < pickup_policy_.failed_checks_before_override) {
      return FailedPrecondition("card " + blanks::FormatSerial(serial) + " has " + std::to_string(card.failed_checks) +
                                " failed fingerprint checks; a supervisor may override after " +
                                std::to_string(pickup_policy_.failed_checks_before_override));
    }
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(db_.Exec("UPDATE cards_to_collect SET override_by = ? WHERE serial = ?", {supervisor.username, serial}));
    const sync::PickupOverrideBody body{"override-" + blanks::FormatSerial(serial), card.card.registration_number, serial,
                                        card.failed_checks, std::string(reason), now, supervisor.username};
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kPickupOverride, card.card.registration_number,
                                sync::PickupOverrideToJson(body), now));
    return Audit(supervisor.username, "pickup.override", card.card.registration_number + " " + blanks::FormatSerial(serial));
  });
}

namespace {

Status CheckHandOverRequest(const HandOverRequest& request, std::string_view card_nik) {
  if (request.surrendered) {
    RETURN_IF_ERROR(CheckNik(request.surrendered->nik, "the surrendered KTP's NIK"));
    if (request.surrendered->serial.empty() || request.surrendered->serial.size() > kMaxKtpSerial) {
      return InvalidArgument("the surrendered KTP's serial must be 1 to " + std::to_string(kMaxKtpSerial) + " characters");
    }
    if (request.surrendered->nik != card_nik) {
      return InvalidArgument("the surrendered KTP's NIK " + request.surrendered->nik + " is not the card holder's");
    }
  }
  if (!request.delegate) return Status::Ok();
  const Delegate& delegate = *request.delegate;
  if (delegate.name.empty() || delegate.name.size() > kMaxName) {
    return InvalidArgument("the delegate's name must be 1 to " + std::to_string(kMaxName) + " bytes");
  }
  RETURN_IF_ERROR(CheckNik(delegate.nik, "the delegate's NIK"));
  if (delegate.nik == card_nik) {
    return InvalidArgument("the delegate's NIK is the card holder's; the holder collects in person with a fingerprint check");
  }
  if (std::ranges::find(kDelegateRelations, delegate.relation) == std::end(kDelegateRelations)) {
    return InvalidArgument("the delegate's relation '" + delegate.relation +
                           "' is not one of spouse, parent, child, sibling, guardian");
  }
  if (!request.surrendered) {
    return FailedPrecondition("a delegated collection needs the holder's old KTP, surrendered; none was given");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<HandOverReceipt> Station::HandOverCard(const Operator& op, const crypto::SealingKey& box_key, int64_t serial,
                                                const HandOverRequest& request) {
  RETURN_IF_ERROR(CheckCounterRole(op));
  HandOverReceipt receipt;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(CardAtCounter card, CardBySerial(db_, clock_, pickup_policy_, identity_.station_id, serial));
    RETURN_IF_ERROR(CheckWaiting(card));
    ASSIGN_OR_RETURN(card::OpenedCard opened, OpenCardHere(box_key, serial));
    const std::string& nik = opened.card.data.resident.nik;
    RETURN_IF_ERROR(CheckHandOverRequest(request, nik));
    sync::HandOverBasis basis = sync::HandOverBasis::kDelegated;
    if (!request.delegate) {
      if (card.check_passed) {
        basis = sync::HandOverBasis::kFingerprint;
      } else if (!card.override_by.empty()) {
        basis = sync::HandOverBasis::kOverride;
      } else {
        return FailedPrecondition("card " + blanks::FormatSerial(serial) +
                                  " has no passing fingerprint check in the last " +
                                  std::to_string(pickup_policy_.passed_check_valid_for.count()) +
                                  " minutes and no supervisor's override");
      }
    }
    const std::string now = FormatTimestamp(clock_.Now());
    sync::CardActivatedBody& body = receipt.hand_over;
    body.event_id = "activate-" + blanks::FormatSerial(serial);
    body.registration_number = card.card.registration_number;
    body.serial = serial;
    body.nik = nik;
    body.basis = basis;
    if (request.delegate) {
      body.collector_name = request.delegate->name;
      body.collector_nik = request.delegate->nik;
      body.collector_relation = request.delegate->relation;
    }
    if (request.surrendered) {
      body.surrendered_nik = request.surrendered->nik;
      body.surrendered_serial = request.surrendered->serial;
    }
    body.at = now;
    body.by = op.username;
    const std::string json = sync::CardActivatedToJson(body);
    // The card's templates and images go with the hand-over: the chip holds them now.
    RETURN_IF_ERROR(db_.Exec("UPDATE cards_to_collect SET state = ?, handed_over_at = ?, hand_over = ?, "
                             "sealed_card = X'' WHERE serial = ?",
                             {kActivated, now, json, serial}));
    RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kCardActivated, card.card.registration_number, json, now));
    receipt.holder_name = opened.card.data.resident.name;
    return Audit(op.username, "pickup.hand_over",
                 card.card.registration_number + " " + blanks::FormatSerial(serial) + " " +
                     std::string(sync::HandOverBasisName(basis)));
  }));
  receipt.free_service_notice = kFreeServiceNotice;
  receipt.complaint_channel = kComplaintChannel;
  return receipt;
}

StatusOr<std::vector<CardToCollect>> Station::ReturnUncollectedCards(const Operator& supervisor) {
  if (supervisor.role != Role::kSupervisor) {
    return PermissionDenied("role " + std::string(RoleName(supervisor.role)) +
                            " may not return uncollected cards; a supervisor must log in and do it");
  }
  // Timestamps are ISO 8601 UTC to the second: their order is the text's.
  const std::string arrived_before = FormatTimestamp(clock_.Now() - pickup_policy_.keep_uncollected);
  ASSIGN_OR_RETURN(auto due, db_.Query("SELECT serial FROM cards_to_collect WHERE state = ? AND received_at < ? "
                                       "ORDER BY received_at, serial",
                                       {kWaiting, arrived_before}));
  std::vector<CardToCollect> returned;
  for (const store::Row& row : due) {
    const int64_t serial = row.Int(0);
    std::optional<CardToCollect> done;
    RETURN_IF_ERROR(db_.Transact([&]() -> Status {
      done.reset();
      ASSIGN_OR_RETURN(CardAtCounter card, CardBySerial(db_, clock_, pickup_policy_, identity_.station_id, serial));
      // Handed over since the query: nothing to return.
      if (card.state != CollectState::kWaiting) return Status::Ok();
      const std::string now = FormatTimestamp(clock_.Now());
      const sync::CardReturnedBody body{"return-" + blanks::FormatSerial(serial),
                                        card.card.registration_number,
                                        serial,
                                        card.card.received_at,
                                        kUncollectedReason,
                                        now,
                                        supervisor.username};
      // The card's templates and images go with it: the card is void.
      RETURN_IF_ERROR(db_.Exec("UPDATE cards_to_collect SET state = ?, returned_at = ?, sealed_card = X'' "
                               "WHERE serial = ?",
                               {kReturned, now, serial}));
      RETURN_IF_ERROR(QueuePacket(sync::PacketKind::kCardReturned, card.card.registration_number,
                                  sync::CardReturnedToJson(body), now));
      done = card.card;
      return Audit(supervisor.username, "pickup.return_uncollected",
                   card.card.registration_number + " " + blanks::FormatSerial(serial));
    }));
    if (done) returned.push_back(std::move(*done));
  }
  return returned;
}

StatusOr<card::OpenedCard> Station::OpenCardHere(const crypto::SealingKey& box_key, int64_t serial) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT sealed_card FROM cards_to_collect WHERE serial = ?", {serial}));
  if (rows.empty()) return NotFound("no card on blank " + blanks::FormatSerial(serial) + " here");
  auto opened = box_key.Open(rows[0].Bytes(0));
  if (!opened.ok()) {
    return FailedPrecondition("the card on blank " + blanks::FormatSerial(serial) +
                              " was not sealed to this station's box key: " + std::string(opened.status().message()));
  }
  auto card = card::OpenCardToPrint(*opened, identity_.central_signing_key);
  if (!card.ok()) {
    return FailedPrecondition("the card on blank " + blanks::FormatSerial(serial) +
                              " does not verify: " + std::string(card.status().message()));
  }
  return std::move(*card);
}

}  // namespace ektp::station
