// The station: operators, enrollment and the durable outbox, all local.
// Every operator action completes here whether or not central is reachable;
// sync_client.h moves the outbox up and the feed down when a link is up.
//
// Durability: an enrollment and its outbox packet are committed in one SQLite
// transaction (WAL, synchronous=FULL) before the receipt is returned. Sealed
// biometrics are the only form in which biometrics are stored.
//
// Outbox states: pending -> acked (central stored it, or had it already)
//                pending -> parked (central refused it for good; the reason is kept)
// Nothing is ever deleted from the outbox.
//
// Login resists guessing (LoginPolicy): failures are counted per username and
// per peer address, and past a threshold every attempt waits out a growing
// delay; failures are audited; an unknown username costs the same Argon2id
// verification as a known one (against a dummy hash).
//
// Enrollment is idempotent per client key: a request repeated with the same
// Idempotency-Key and the same content returns the first receipt; the key is
// stored in the enrollment's own transaction and kept kIdempotencyRetention.
//
// Thread-safety: not thread-safe; the server serialises calls, except
// CheckPassword(), which may run concurrently with anything (it touches no
// database) so that the server can hash outside its lock.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/application.h"
#include "core/lifecycle.h"
#include "accounts/accounts.h"
#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/resident.h"
#include "crypto/crypto.h"
#include "card/output.h"
#include "enrollment/enrollment.h"
#include "store/audit_log.h"
#include "suket/suket.h"
#include "store/db.h"
#include "sync/feed_items.h"
#include "sync/media.h"
#include "sync/packet.h"
#include "sync/station_events.h"

namespace ektp::station {

enum class Role { kOperator, kSupervisor, kPrintOfficer, kAdmin };
std::string_view RoleName(Role role);  // "operator", "supervisor", "print_officer", "admin"
StatusOr<Role> ParseRole(std::string_view name);

// What central told the station about itself at registration.
struct Identity {
  std::string station_id;
  std::string kecamatan_code;
  std::string kind;
  std::vector<std::string> capabilities;
  std::vector<std::string> central_urls;
  crypto::Bytes central_signing_key;
  crypto::Bytes central_sealing_key;
};

struct Operator {
  std::string username;
  std::string full_name;
  Role role = Role::kOperator;
};

// What Station::AddOperator accepts (accounts::ValidateAccount).
inline Status ValidateOperator(std::string_view username, std::string_view password) {
  return accounts::ValidateAccount(username, password);
}

// Back-off against password guessing and the steps of a login (accounts/accounts.h).
using LoginPolicy = accounts::LoginPolicy;
using LoginAttempt = accounts::LoginAttempt;

// How long an idempotency key is remembered; a client may retry that long.
inline constexpr std::chrono::hours kIdempotencyRetention{30 * 24};

struct EnrollmentRequest {
  ApplicationKind kind = ApplicationKind::kFirstCard;
  std::string previous_nik;
  Resident resident;
  enrollment::Biometrics biometrics;  // exception_photo: the hand whose fingers are declared an exception
  std::optional<enrollment::Location> location;  // the van's GPS fix, when it has one
  // The session token of the supervisor approving the finger exceptions
  // (POST /api/v1/login as themselves, by password or fingerprint); empty
  // when no finger is declared an exception. Enroll ends that session.
  std::string exception_approval_session;
};

// What the counter shows for an enrollment refused over its finger
// exceptions (Station::Enroll): the form part at fault ("exception_photo",
// "exception_approval") and the words for the operator in Bahasa Indonesia.
struct EnrollRefusal {
  std::string field;
  std::string pesan;
};

// What a station requires of its enrollments before they go up, and how much
// unsynced work it may hold (`station serve` keys review.* and limits.*;
// docs/operations.md, "Supervisor review" and "Limits on unsynced work").
struct EnrollmentPolicy {
  // New enrollments wait in kAwaitingReview until a supervisor approves or
  // rejects each (ApproveEnrollment, RejectEnrollment). Default: off.
  bool review_required = false;
  // The station's X25519 public key (station-box.key): the reviewer's copy of
  // the photo, signature and finger exceptions is sealed to it until the
  // decision. REQUIRED when review_required.
  crypto::Bytes review_copy_key;
  // Enrollment is refused while this many enrollments are unsynced (pending
  // or awaiting review); 0: no cap. Default here 0; `station serve`'s is in
  // its configuration schema.
  int max_unsynced_enrollments = 0;
  // ... or while the oldest unsynced enrollment was captured more than this
  // many hours ago; 0: no cap.
  int max_unsynced_age_hours = 0;
  // A captured finger whose capture quality (0..100, bio/quality.h) is below
  // this is refused (enrollment::CheckCaptureQuality): the operator captures
  // it again, or records an exception for it. 0: no gate. Default here 0;
  // `station serve`'s (capture.min_quality) is in its configuration schema.
  int min_capture_quality = 0;
  // The station's box key (station-box.key), which opens operators' own
  // enrolled fingerprints for the self-enrollment check; not owned, must
  // outlive the Station. Null: an operator with enrolled fingerprints cannot
  // enroll here (kFailedPrecondition); one without is not checked.
  const crypto::SealingKey* operator_fingerprints_key = nullptr;
};

// `station serve`'s capture.min_quality: on FVC2002 it asks for about the
// worst 5 % of captures again (docs/biometrics.md, "Capture quality").
inline constexpr int kDefaultMinCaptureQuality = 20;

// The false-match rate an operator's own fingerprint is compared at, for
// fingerprint login and for the self-enrollment check: 1 in 10,000, through
// the matcher's conservative calibration (bio::ConservativeThreshold) for
// the number of fingers compared. docs/security.md, "Operators accountable
// by fingerprint".
inline constexpr double kOperatorFalseMatchRate = 1e-4;

// How Station::Enroll's refusal of an operator enrolling themselves begins
// (kPermissionDenied), and what the counter shows for it.
inline constexpr std::string_view kSelfEnrollmentRefused = "self-enrollment refused";
inline constexpr std::string_view kSelfEnrollmentPesan =
    "Sidik jari pemohon cocok dengan sidik jari Anda sendiri. Operator tidak boleh merekam dirinya sendiri; "
    "permohonan ini tidak disimpan dan sudah dicatat. Minta operator lain merekam permohonan ini.";

// Why a new enrollment is refused for the unsynced work the station holds
// (Station::CheckUnsyncedLimits): English for the API and logs, Bahasa
// Indonesia (`pesan`) for the operator, both saying how to sync.
struct UnsyncedLimitRefusal {
  std::string error;
  std::string pesan;
};

// An enrollment waiting for a supervisor's review, with what the reviewer
// needs to judge it.
struct AwaitingReview {
  enrollment::Enrollment enrollment;  // demographics, kind, operator, capture time, location
  enrollment::Biometrics review_copy;  // the photo, the signature and the finger exceptions; no templates
};

struct Receipt {
  std::string registration_number;
  std::string station_id;
  std::string operator_name;
  std::string resident_name;
  std::string application_kind;
  std::string captured_at;
  // Enroll only: true when an earlier request with the same idempotency key
  // made this enrollment and this is its receipt again.
  bool replayed = false;
};

// One outbox entry as the operator sees it.
// A packet's state in the outbox: pending until central judges it, then
// acked (stored at central) or parked (refused for good, kept with the reason).
// At a station whose policy requires review, an enrollment first awaits a
// supervisor's review: approved -> pending, rejected -> parked with the reason.
// Only pending packets are uploaded or exported.
enum class OutboxState { kPending, kAcked, kParked, kAwaitingReview };
inline constexpr OutboxState kAllOutboxStates[] = {OutboxState::kPending, OutboxState::kAcked, OutboxState::kParked,
                                                   OutboxState::kAwaitingReview};
std::string_view OutboxStateName(OutboxState state);  // "pending", "acked", "parked", "awaiting_review"
// kInvalidArgument naming the accepted names.
StatusOr<OutboxState> ParseOutboxState(std::string_view name);

struct OutboxEntry {
  int64_t sequence = 0;
  std::string kind;
  std::string reference;  // registration number for enrollments
  OutboxState state = OutboxState::kPending;
  int attempts = 0;
  std::string last_error;
  std::string created_at;
};

// Where an enrollment stands, as far as this station knows.
enum class EnrollmentStage {
  kAwaitingReview,  // waits for a supervisor's review before it is queued
  kQueued,     // in the outbox, not yet acknowledged by central
  kSent,       // acknowledged by central, which has not reported on it yet
  kParked,     // refused by central, or rejected at review; `reason` says why
  kAtCentral,  // central reported the record's state (`record_state`)
};

struct EnrollmentStatus {
  std::string registration_number;
  EnrollmentStage stage = EnrollmentStage::kQueued;
  RecordState record_state = RecordState::kReceived;  // meaningful for kAtCentral only
  std::string reason;
  std::string nik;     // the NIK on the card, once central has decided it
};
// The API's `status`: "queued", "sent", "parked", or the record's state at
// central ("validated", "print_ready", ...).
std::string_view EnrollmentStatusName(const EnrollmentStatus& status);

// What became of one feed item: applied (or seen before) when `refusal` is OK.
struct FeedItemOutcome {
  Status refusal;
};

// A print job central reserved for this station (station/print_jobs.cc).
enum class HeldPrintJobState { kPending, kPrinting, kPrinted, kWithdrawn, kRefused };
std::string_view HeldPrintJobStateName(HeldPrintJobState state);  // "pending", "printing", ...
struct HeldPrintJob {
  int64_t job_id = 0;
  std::string registration_number;
  bool urgent = false;
  std::string reserved_at;
  HeldPrintJobState state = HeldPrintJobState::kPending;
  std::string withdrawn_reason;
  int64_t serial = 0;          // the blank, once printing starts
  std::string refused_reason;  // why the station will not print it (kRefused)
};

struct PrintedCard {
  int64_t job_id = 0;
  std::string registration_number;
  int64_t serial = 0;
  std::string printed_at;
};

// One delivery of printed cards to the station where their residents collect
// them: what the courier carries, and the cards_dispatched packet.
struct DispatchManifest {
  std::string manifest_id;
  std::string to_station;
  std::vector<sync::DispatchedCard> cards;
};

// A card dispatched to this station for its resident to collect.
struct CardToCollect {
  std::string registration_number;
  int64_t serial = 0;
  std::string manifest_id;
  std::string from_station;
  std::string received_at;
};

// How a card is handed over (station/pickup.cc; docs/operations.md, "Card hand-over").
struct PickupPolicy {
  // The false-match rate a fingerprint check allows, converted to a fused
  // score threshold through the matcher's conservative calibration
  // (bio::ConservativeThreshold) for the number of fingers compared.
  double false_match_rate = 1e-3;
  // Failed checks of a card after which a supervisor may override.
  int failed_checks_before_override = 3;
  // How long a passing check allows the hand-over.
  std::chrono::minutes passed_check_valid_for{30};
  // How long a card waits here, from its arrival, before a supervisor may
  // return and void it as never collected (docs/operations.md, "Card hand-over").
  std::chrono::days keep_uncollected{90};
};

// What the counter sees of a card waiting here (or handed over).
enum class CollectState { kWaiting, kActivated, kReturned };
std::string_view CollectStateName(CollectState state);  // "waiting", "activated", "returned"
struct CardAtCounter {
  CardToCollect card;
  CollectState state = CollectState::kWaiting;
  std::string nik;  // from the station's enrollment status; "" if central has not sent it
  int checks = 0;
  int failed_checks = 0;
  bool check_passed = false;  // a passing check within PickupPolicy::passed_check_valid_for
  std::string override_by;    // the supervisor who overrode the checks; "" for none
  std::string handed_over_at;
  std::string returned_at;  // when a supervisor returned and voided it, never collected
  bool override_allowed = false;  // waiting, unverified, after the policy's failed checks
};

// One 1:1 comparison of a collector's live fingerprints with the card's chip.
struct FingerprintCheck {
  bool passed = false;
  double score = 0;      // fused calibrated score of the fingers compared
  double threshold = 0;  // the policy's threshold for that many fingers
  int fingers = 0;
  int attempt = 0;        // this check's number for the card
  int failed_checks = 0;  // the card's failed checks, this one included
  bool override_allowed = false;
};

// Who takes the card, when it is not the holder: a family member with the
// holder's old KTP, which they surrender.
struct Delegate {
  std::string name;
  std::string nik;
  std::string relation;  // one of kDelegateRelations
};
inline constexpr std::string_view kDelegateRelations[] = {"spouse", "parent", "child", "sibling", "guardian"};
struct SurrenderedKtp {
  std::string nik;
  std::string serial;
};
struct HandOverRequest {
  std::optional<Delegate> delegate;          // absent: the holder, after a fingerprint check or an override
  std::optional<SurrenderedKtp> surrendered;  // required with a delegate
};

// What the hand-over receipt says (it is printed for the resident).
struct HandOverReceipt {
  sync::CardActivatedBody hand_over;
  std::string holder_name;
  std::string free_service_notice;  // core/service_notice.h
  std::string complaint_channel;
};

// A Suket issued here (suket.cc): its data, the signed token in its QR and
// the printed page.
struct IssuedSuket {
  std::string serial;
  std::string token;
  std::string valid_until;
  std::string replaces;  // the Suket this one renews; "" for a first one
  crypto::Bytes pdf;
};

// The record stages from which a resident may hold a Suket: validated and
// not yet holding an activated card (nor refused).
inline constexpr RecordState kSuketStages[] = {
    RecordState::kValidated, RecordState::kDedupePending, RecordState::kDuplicateSuspect, RecordState::kAdjudication,
    RecordState::kUnique,    RecordState::kPrintReady,    RecordState::kPrinted,          RecordState::kDispatched};

// The station's blanks by state.
struct BlankCounts {
  int64_t expected = 0;  // handed over by central, not yet confirmed received
  int64_t on_hand = 0;
  int64_t used = 0;      // printed on (or being printed on)
  int64_t spoiled = 0;
};

// Why a pending packet whose stored envelope is not valid UTF-8 is parked
// unsent (by the sync client, and by ExportOutbox).
inline constexpr std::string_view kDamagedPacketReason =
    "the stored packet is damaged (its envelope is not valid UTF-8) and cannot be sent; enroll the resident again";

// What applying an import receipt changed (Station::ImportReceipt).
struct ReceiptOutcome {
  int acked = 0;      // pending packets now acked (central stored them, now or before)
  int parked = 0;     // pending packets central refused, now parked with the reason
  int unchanged = 0;  // verdicts on packets settled already (by network or an earlier receipt)
};

// What importing a disk feed did (Station::ImportFeed).
struct FeedImportOutcome {
  int items = 0;    // in the file
  int refused = 0;  // kept with the reason (RefusedFeedItems), as from the network
  int64_t cursor = 0;  // the station's feed cursor afterwards
};

// A feed item the station refused to apply.
struct RefusedFeedItem {
  int64_t feed_id = 0;
  std::string kind;
  std::string reason;
  std::string code;  // StatusCodeName of the refusal, e.g. "UNIMPLEMENTED" for a kind newer than this build
  std::string at;
};

class Station {
 public:
  // All references must outlive the Station.
  Station(store::Connection& db, const Clock& clock, const crypto::SigningKey& key, Identity identity,
          LoginPolicy login_policy = {}, PickupPolicy pickup_policy = {}, EnrollmentPolicy enrollment_policy = {});

  const Identity& identity() const { return identity_; }
  const EnrollmentPolicy& enrollment_policy() const { return enrollment_policy_; }

  // Stores central's answer from registration (station init).
  static Status SaveIdentity(store::Connection& db, const Identity& identity, const Clock& clock);
  static StatusOr<Identity> LoadIdentity(store::Connection& db);

  // Operators. `strength` is kFast only in tests.
  Status AddOperator(const Operator& op, std::string_view password,
                     crypto::PasswordStrength strength = crypto::PasswordStrength::kInteractive);
  // A session token valid for 12 hours; kUnauthenticated for a wrong name or
  // password, kResourceExhausted while back-off blocks the username or
  // `address` (the peer's IP address). BeginLogin + CheckPassword + FinishLogin.
  StatusOr<std::string> Login(std::string_view username, std::string_view password, std::string_view address);
  // Login in three steps, so that the caller can verify the password without
  // holding the lock that serialises the other calls. BeginLogin counts the
  // attempt (see LoginPolicy) or, when blocked, returns it with retry_after
  // set; kInvalidArgument for a username longer than 64 bytes.
  StatusOr<LoginAttempt> BeginLogin(std::string_view username, std::string_view address);
  // The Argon2id verification (the dummy hash for an unknown username; always
  // false then). Thread-safe; touches no database.
  bool CheckPassword(const LoginAttempt& attempt, std::string_view password) const;
  // Audits a failure (kUnauthenticated), or opens the session and returns its token.
  StatusOr<std::string> FinishLogin(const LoginAttempt& attempt, bool password_ok);
  // Computes the dummy hash now, so the first unknown username costs no more than later ones.
  void PrepareLogin() const;
  // kUnauthenticated when the session is unknown, revoked or older than 12 hours.
  StatusOr<Operator> Authenticate(std::string_view session_token);

  // Operators' own fingerprints (operator_fingerprints.cc; docs/security.md,
  // "Operators accountable by fingerprint").
  //
  // Enrolls `username`'s fingerprints, replacing any enrolled before: 1 to 10
  // fingers at distinct positions 1..10, each a template bio decodes, stored
  // sealed to `box_key`'s public half and audited as
  // operator_fingerprints_enrolled by `by`. kNotFound for no enabled account
  // of that name; kPermissionDenied unless its role is operator or
  // supervisor; kInvalidArgument naming the finger. Nothing changes on error.
  Status EnrollOperatorFingerprints(std::string_view username, const std::vector<card::ChipFinger>& fingers,
                                    const crypto::SealingKey& box_key, std::string_view by);
  // The finger positions enrolled for `username`, ascending; empty when none.
  StatusOr<std::vector<int>> OperatorFingerPositions(std::string_view username);
  // A login by one presented finger instead of the password, compared 1:1
  // with the account's own template at that position (opened with `box_key`)
  // at kOperatorFalseMatchRate, counted, throttled and audited as a password
  // login is (BeginLogin, FinishLogin). A session token, or: kInvalidArgument
  // for a position outside 1..10 or a template that does not decode (not
  // counted; nothing changes); kResourceExhausted while back-off blocks;
  // kUnauthenticated, counted as a failed login, naming why: no fingerprint
  // enrolled for this username (the same for an unknown username), a finger
  // not enrolled for it (naming it and the enrolled ones), or no match with
  // the enrolled finger at that position (naming it). On kUnauthenticated
  // and kResourceExhausted `pesan`, when given, receives the counter's words.
  StatusOr<std::string> LoginWithFingerprint(std::string_view username, const card::ChipFinger& presented,
                                             const crypto::SealingKey& box_key, std::string_view address,
                                             std::string* pesan = nullptr);
  // Revokes the session; kUnauthenticated if it is not an open session.
  Status Logout(std::string_view session_token);

  // Validates, seals, stores and queues an enrollment; returns the receipt once durable.
  // kPermissionDenied if the operator's role may not enroll or the station lacks the capability.
  // `idempotency_key` (16-128 of A-Z a-z 0-9 . _ : -; kInvalidArgument otherwise) is
  // stored with the enrollment in one transaction: a later call with the same key and
  // the same content (kind, previous NIK, resident, biometrics) returns the first
  // receipt with `replayed` set and stores nothing; with other content it is
  // kFailedPrecondition naming the key. Keys older than kIdempotencyRetention are
  // purged. An empty key (in-process callers that never retry) deduplicates nothing.
  // A new enrollment (not a replay) is refused with kFailedPrecondition past
  // the policy's unsynced limits (CheckUnsyncedLimits), and a bad `location`
  // with kInvalidArgument naming the field. A captured finger below the
  // policy's min_capture_quality is refused with kInvalidArgument whose
  // message is enrollment::CheckCaptureQuality's `error` (naming the finger,
  // "finger_2 (telunjuk kanan): capture quality ..."). Each captured finger's
  // quality travels in the packet (Enrollment::finger_quality). Under
  // review_required it waits in kAwaitingReview, not pending. An applicant
  // whose fingers match `op`'s own enrolled ones is refused with
  // kPermissionDenied beginning kSelfEnrollmentRefused (audited, logged,
  // counted; nothing stored).
  //
  // Finger exceptions (finger_exceptions.cc; docs/enrollment.md, "Finger
  // exceptions"): a finger declared missing or unusable needs the exception
  // photo of the hand (decoding: enrollment/image.h CheckExceptionPhoto) and
  // a supervisor's approval, `exception_approval_session`, of an account
  // that is not `op`. Refused with nothing stored, naming the part:
  // kInvalidArgument for a missing or undecodable photo, a missing approval,
  // or either given with no exception; kPermissionDenied for an approval by
  // a session that is not logged in, by an account that is not a
  // supervisor, or by `op` itself. On those refusals `refusal`, when given,
  // receives the part and the operator's words. An accepted approval travels
  // in the packet (Enrollment::exception_approval), is audited here as
  // finger_exception_approve by the supervisor, and ends their session.
  StatusOr<Receipt> Enroll(const Operator& op, const EnrollmentRequest& request,
                           std::string_view idempotency_key = "", EnrollRefusal* refusal = nullptr);
  StatusOr<Receipt> GetReceipt(std::string_view registration_number);
  StatusOr<EnrollmentStatus> GetEnrollmentStatus(std::string_view registration_number);

  // The refusal a new enrollment would get now for the unsynced work held
  // (EnrollmentPolicy's caps), or none.
  StatusOr<std::optional<UnsyncedLimitRefusal>> CheckUnsyncedLimits();

  // Supervisor review (review.cc). The enrollments awaiting review, oldest
  // first, their review copies opened with `box_key` (station-box.key).
  StatusOr<std::vector<AwaitingReview>> AwaitingReviews(const crypto::SealingKey& box_key);
  // A supervisor, logged in as themselves, approves an enrollment awaiting
  // review: its packet is signed again with the decision in it
  // (enrollment::ReviewApproval) and becomes pending; its review copy is
  // deleted; the decision is audited. Refused with nothing changed:
  // kPermissionDenied naming the account unless it has the supervisor role,
  // or when it recorded the enrollment itself (four eyes); kNotFound for an
  // unknown enrollment; kFailedPrecondition when it is not awaiting review.
  Status ApproveEnrollment(const Operator& supervisor, std::string_view registration_number);
  // Rejects it: the packet is parked with "rejected at review by <who>:
  // <reason>" and never uploaded or exported. As ApproveEnrollment, but a
  // supervisor may reject their own enrollment; kInvalidArgument without a
  // reason (or one over 500 bytes).
  Status RejectEnrollment(const Operator& supervisor, std::string_view registration_number, std::string_view reason);

  // Outbox. Pending packets in sequence order, at most `limit` and about `max_bytes`.
  StatusOr<std::vector<std::pair<int64_t, sync::Packet>>> PendingPackets(int limit, size_t max_bytes);
  // Applies central's verdicts: accepted/duplicate -> acked, rejected -> parked.
  Status ApplyVerdicts(const sync::UploadResponse& response);
  // Parks a pending packet that can never be delivered (the station cannot
  // send it, or central refuses it even alone), keeping `reason` for the
  // operator. It stays in the outbox; nothing is dropped.
  Status Park(int64_t sequence, std::string_view reason);
  // Notes a failed attempt (transient) on these sequences.
  Status NoteAttemptFailed(const std::vector<int64_t>& sequences, std::string_view error);
  // Newest first, at most `limit`; every state when `state` is empty.
  StatusOr<std::vector<OutboxEntry>> Outbox(std::optional<OutboxState> state, int limit);
  StatusOr<int64_t> CountOutbox(OutboxState state);
  // When the oldest pending packet was queued; std::nullopt when none is pending.
  StatusOr<std::optional<TimePoint>> OldestPendingAt();
  // The end of the last complete sync pass (SyncClient), kept across restarts;
  // std::nullopt before the first.
  Status RecordSyncSuccess(TimePoint at);
  StatusOr<std::optional<TimePoint>> LastSyncSuccess();

  // Sync by removable media (media.cc; sync/media.h), for stations without a
  // link. ExportOutbox writes every pending packet to `dir` (new or empty),
  // sealed whole to central's X25519 key, with a manifest signed by this
  // station; the packets stay pending until a receipt or a network sync
  // settles them, so exporting again, or syncing meanwhile, loses and
  // duplicates nothing. A packet whose stored envelope is damaged (not valid
  // UTF-8) is parked with kDamagedPacketReason instead, as the sync client
  // does. kFailedPrecondition when nothing is pending or `dir` is not empty.
  StatusOr<sync::ExportManifest> ExportOutbox(const std::string& dir);
  // A stolen or broken station's unsynced work, carried over by this station,
  // its replacement (docs/operations.md, "A stolen or broken station"):
  // writes every pending packet of `replaced` (the old station, opened from a
  // restored backup or its own disk; it is only read) to `dir` as
  // ExportOutbox does, but with a manifest naming `replaced` and this station
  // as carried_by, signed with this station's key, for `central import`
  // (Ingest::CarryOver). The packets keep the old station's own signatures,
  // sequences, times and operators. Audited here as "carry_over_exported".
  // kFailedPrecondition when `replaced` is this station or registered with
  // another central, nothing is pending there, or `dir` is not empty.
  StatusOr<sync::ExportManifest> ExportCarryOver(Station& replaced, const std::string& dir);
  // The same, from a folder instead of an opened station: the old station's
  // outbox mirror (OutboxMirror) or an export of it, copied without opening a
  // packet (sync::WriteCarryOverFromFolder, whose refusals it returns).
  // Audited here as "carry_over_exported".
  StatusOr<sync::ExportManifest> ExportCarryOverFromFolder(const std::string& from, const std::string& dir);
  // The rolling outbox mirror (outbox_mirror.h): makes the folder `dir` list
  // exactly the pending packets whose envelopes can travel
  // (sync::WriteMirror; `known` is the manifest the caller last wrote there,
  // or null). Changes nothing in the store, and audits nothing: it runs after
  // every change of the outbox.
  StatusOr<sync::MirrorWrite> WriteOutboxMirror(const std::string& dir, const sync::ExportManifest* known);
  // The sequences of the pending packets, increasing: cheap enough to ask
  // after every change, to learn whether the mirror is behind.
  StatusOr<std::vector<int64_t>> PendingSequences();
  // Every operator account, by username (to reissue them on a replacement).
  StatusOr<std::vector<Operator>> Operators();
  // Applies central's receipt for an export as a network answer is applied
  // (ApplyVerdicts): accepted or duplicate -> acked, rejected -> parked.
  // Packets settled already stay as they are, so a receipt applied twice
  // changes nothing. Refused with nothing changed (sync::VerifyImportReceipt):
  // kFailedPrecondition for another station's receipt; kUnauthenticated for
  // one central did not sign, or with a verdict on content this station never
  // queued.
  StatusOr<ReceiptOutcome> ImportReceipt(const sync::ImportReceipt& receipt);
  // Applies a feed central wrote to a disk (sync::ReadDiskFeed: it must open
  // with `box_key` and be signed by central for this station), item by item
  // through ApplyFeedItem, so items seen before change nothing and a refused
  // item is kept with its reason. Returns the items applied and refused;
  // a feed that does not open or verify applies nothing.
  StatusOr<FeedImportOutcome> ImportFeed(const std::string& path, const crypto::SealingKey& box_key);

  // Down feed (station/feed_applier.cc): the last applied (or refused) feed
  // id, and applying items. Idempotent: an item seen before changes nothing.
  // Each item is decoded by sync/feed_items.h and handled by its kind. An
  // item is refused (FeedItemOutcome::refusal), kept with its body and reason (RefusedFeedItems) and
  // passed by the cursor, so it is never fetched again, when: its signature
  // is not central's (kUnauthenticated); its body is malformed
  // (kInvalidArgument); its kind or version is newer than this build
  // (kUnimplemented; RetryKeptFeedItems applies it after an upgrade); or its
  // handler refuses it or fails unexpectedly. An error (not OK StatusOr) is
  // the store's and changes nothing. Audit checkpoints are kept (AuditCheckpoints).
  StatusOr<int64_t> FeedCursor();
  StatusOr<FeedItemOutcome> ApplyFeedItem(int64_t id, std::string_view kind, std::string_view body,
                                          std::span<const uint8_t> signature);
  // Applies the kept items this build now knows (refused as kUnimplemented by
  // an older one), oldest first. Returns how many it applied.
  StatusOr<int> RetryKeptFeedItems();
  StatusOr<std::vector<RefusedFeedItem>> RefusedFeedItems();
  // Central's audit checkpoints this station received, oldest first.
  StatusOr<std::vector<store::AuditCheckpoint>> AuditCheckpoints();

  // The print jobs this station holds, in the order it prints them: urgent
  // cases first, then the oldest reservation, then the job id.
  StatusOr<std::vector<HeldPrintJob>> PrintJobs();

  // kPermissionDenied unless `officer` may print (print officer, supervisor, admin) and the station prints.
  Status CheckPrintOfficer(const Operator& officer) const;

  // A print officer's actions (print_jobs.cc). Each runs in one transaction
  // with its outbox packet and audit entry; kPermissionDenied for another
  // role or a station without the `print` capability.
  //
  // Confirms that blanks central handed over arrived (a blanks_received
  // packet). kFailedPrecondition, naming the first such serial, when one was
  // never handed over to this station or was received already.
  StatusOr<int64_t> ReceiveBlanks(const Operator& officer, int64_t first_serial, int64_t last_serial);
  // Prints the next job in print order on the lowest received blank: the
  // card to print is opened with `box_key`, checked against central's key,
  // rendered and sent to `output`, then recorded printed with a
  // card_printed packet. A job whose card does not open or verify is
  // refused for good (kept with the reason; its blank stays on hand). After
  // a crash the job being printed resumes on the same blank, and the output
  // does not repeat a card it has whole. kNotFound: no job waiting;
  // kFailedPrecondition: no blank on hand; kUnavailable: the output failed
  // (the job and blank stay reserved for the retry).
  StatusOr<PrintedCard> PrintNextCard(const Operator& officer, const crypto::SealingKey& box_key,
                                      card::CardOutput& output);
  // Records a received blank that cannot be printed on ("damaged_in_transit",
  // "printer_jam", "misprint") with a blank_spoiled packet.
  // kFailedPrecondition unless the serial is on hand here.
  Status SpoilBlank(const Operator& officer, int64_t serial, std::string_view reason, std::string_view note);
  // The card printed on `serial` came out wrong: its blank is spoiled
  // (misprint) and its job waits to print again on another blank, unless
  // central withdrew it meanwhile. A card_misprinted packet goes up.
  // kFailedPrecondition unless `serial` holds a card printed here.
  Status RecordMisprint(const Operator& officer, int64_t serial, std::string_view note);
  StatusOr<BlankCounts> Blanks();
  // Puts every printed card not yet dispatched into manifests, one per
  // collecting station (at most sync::kMaxCardsPerManifest cards each), each
  // with its cards_dispatched packet, in one transaction. Empty when there
  // is nothing to dispatch.
  StatusOr<std::vector<DispatchManifest>> DispatchPrintedCards(const Operator& officer);

  // Cards central dispatched here for their residents to collect, oldest first.
  StatusOr<std::vector<CardToCollect>> CardsToCollect();

  // Card hand-over (pickup.cc), by an operator or supervisor; each action
  // completes here with central unreachable and runs in one transaction with
  // its packet and audit entry. kPermissionDenied for another role; kNotFound
  // when no card with that serial was dispatched here.
  //
  // Finds a card by NIK (16 digits), blank serial (up to 10 digits) or
  // registration number. kNotFound naming the query.
  StatusOr<CardAtCounter> FindCardAtCounter(std::string_view query);
  // Compares `live` (the collector's captured fingers) 1:1 with the
  // templates on the card's chip (opened with `box_key`, verified against
  // central's key), finger position by finger position; a fingerprint_checked
  // packet records the attempt, passed or failed. kInvalidArgument when a
  // live template does not decode or no live finger is one the chip holds
  // (not counted as an attempt); kFailedPrecondition when the card was
  // handed over already.
  StatusOr<FingerprintCheck> CheckCollectorFingerprints(const Operator& op, const crypto::SealingKey& box_key,
                                                        int64_t serial, const std::vector<card::ChipFinger>& live);
  // A supervisor allows the holder's card to be handed over after
  // PickupPolicy::failed_checks_before_override failed checks, with a reason
  // (a pickup_override packet). kPermissionDenied unless `supervisor` has the
  // supervisor role; kInvalidArgument without a reason; kFailedPrecondition
  // before enough failed checks.
  Status OverrideFingerprintCheck(const Operator& supervisor, int64_t serial, std::string_view reason);
  // Hands the card over and activates it (a card_activated packet), then
  // deletes the card's templates and images here. The holder needs a passing
  // check (within PickupPolicy::passed_check_valid_for) or an override; a
  // delegate needs the holder's old KTP, surrendered, whose NIK is the
  // card's. kFailedPrecondition naming what is missing; kInvalidArgument for
  // a malformed delegate or KTP.
  StatusOr<HandOverReceipt> HandOverCard(const Operator& op, const crypto::SealingKey& box_key, int64_t serial,
                                         const HandOverRequest& request);
  // Returns and voids every card still waiting here that arrived more than
  // PickupPolicy::keep_uncollected ago: each becomes `returned`, its
  // templates and images are deleted, and a card_returned packet tells
  // central (one transaction per card, with its packet and audit entry).
  // Returns the cards returned, oldest first; none when no card is due.
  // kPermissionDenied unless `supervisor` has the supervisor role.
  StatusOr<std::vector<CardToCollect>> ReturnUncollectedCards(const Operator& supervisor);

  // The Suket (suket.cc; suket/suket.h). Issues one, offline or not, to the
  // resident of an enrollment made here whose record stands in kSuketStages
  // (as central last said), signed with the station's key, valid
  // suket::kDefaultValidityMonths; issuing again renews it (the new one
  // names the old, which central revokes). `face_jpeg` is the photo printed
  // on it, taken at the counter. A suket_issued packet goes up.
  // kPermissionDenied for a print officer or admin; kNotFound for an unknown
  // enrollment; kFailedPrecondition naming the stage when it is not one of
  // kSuketStages; kInvalidArgument when the photo does not decode.
  StatusOr<IssuedSuket> IssueSuket(const Operator& op, std::string_view registration_number,
                                   std::span<const uint8_t> face_jpeg);
  // Verifies a Suket token against central's newest trust bundle and
  // revocation list this station received (suket_trust feed items).
  // kFailedPrecondition before the station received any.
  StatusOr<suket::VerifyResult> VerifySuket(std::string_view token);

 private:
  Status Audit(std::string_view op, std::string_view action, std::string_view subject);
  // `username`'s own fingerprints opened with `box_key`; empty when none are enrolled.
  StatusOr<std::vector<card::ChipFinger>> OwnFingerprints(std::string_view username, const crypto::SealingKey& box_key);
  // Enroll's check that the applicant is not `op` (operator_fingerprints.cc):
  // kPermissionDenied beginning kSelfEnrollmentRefused, audited, logged and
  // counted, when the applicant's fingers match op's own enrolled ones at
  // the same positions (fused) at kOperatorFalseMatchRate.
  Status CheckNotSelfEnrollment(const Operator& op, const enrollment::Biometrics& biometrics);
  // Enroll's checks of the finger exceptions (finger_exceptions.cc), which
  // change nothing: first the photo, and that an approval is given exactly
  // when a finger is an exception; then, once the rest of the enrollment is
  // valid, the approving session: the approval to record, or none when no
  // finger is an exception.
  Status CheckFingerExceptions(const EnrollmentRequest& request, EnrollRefusal* refusal);
  StatusOr<std::optional<enrollment::ExceptionApproval>> ApproveFingerExceptions(const Operator& op,
                                                                                const EnrollmentRequest& request,
                                                                                EnrollRefusal* refusal);
  // Moves a pending packet to `to`, keeping `error` (if not empty) as its last error.
  Status Settle(int64_t sequence, OutboxState to, std::string_view error);
  // What one decoded feed item changes, in the caller's transaction. Sets
  // `refusal` when the item cannot be applied; returns the store's errors.
  Status ApplyFeedBody(int64_t id, const sync::TypedFeedItem& item, Status& refusal);
  // Records item `id` as seen: applied when `refusal` is OK, else kept refused.
  Status MarkFeedItem(int64_t id, std::string_view kind, std::string_view body, std::span<const uint8_t> signature,
                      const Status& refusal);
  // Feed handlers of print_job and print_job_withdrawn (print_jobs.cc).
  Status HoldPrintJob(const sync::PrintJobBody& job, Status& refusal);
  Status WithdrawPrintJob(const sync::PrintJobWithdrawnBody& withdrawal);
  Status ExpectBlanks(const sync::BlanksHandedOverBody& handed_over, Status& refusal);
  // Feed handler of suket_trust (suket.cc).
  Status KeepSuketTrust(const sync::SuketTrustBody& trust, Status& refusal);
  // The card dispatched here on `serial`, opened and verified (pickup.cc).
  // kFailedPrecondition when it does not open or verify.
  StatusOr<card::OpenedCard> OpenCardHere(const crypto::SealingKey& box_key, int64_t serial);
  // Appends a signed packet to the outbox, in the caller's transaction.
  Status QueuePacket(sync::PacketKind kind, std::string_view reference, std::string body, const std::string& at,
                     OutboxState state = OutboxState::kPending);
  // The enrollment awaiting review and the checks every decision on it
  // passes (review.cc); returns its outbox sequence.
  StatusOr<int64_t> ReviewableSequence(const Operator& supervisor, std::string_view registration_number,
                                       std::string_view decision);

  store::Connection& db_;
  const Clock& clock_;
  const crypto::SigningKey& key_;
  Identity identity_;
  LoginPolicy login_policy_;
  accounts::Accounts accounts_;
  PickupPolicy pickup_policy_;
  EnrollmentPolicy enrollment_policy_;
};

}  // namespace ektp::station
