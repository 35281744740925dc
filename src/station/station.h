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
// Thread-safety: not thread-safe; the server serialises calls.
#pragma once

#include <string>
#include <vector>

#include "core/application.h"
#include "core/clock.h"
#include "core/resident.h"
#include "crypto/crypto.h"
#include "enrollment/enrollment.h"
#include "store/db.h"
#include "sync/packet.h"

namespace ektp::station {

enum class Role { kOperator, kSupervisor, kPrintOfficer, kAdmin };
std::string_view RoleName(Role role);  // "operator", "supervisor", "print_officer", "admin"
StatusOr<Role> ParseRole(std::string_view name);

// What central told the station about itself at registration.
struct Identity {
  std::string station_id;
  std::string district_code;
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

struct EnrollmentRequest {
  ApplicationKind kind = ApplicationKind::kFirstCard;
  std::string previous_nik;
  Resident resident;
  enrollment::Biometrics biometrics;
};

struct Receipt {
  std::string registration_number;
  std::string station_id;
  std::string operator_name;
  std::string resident_name;
  std::string application_kind;
  std::string captured_at;
};

// One outbox entry as the operator sees it.
struct OutboxEntry {
  int64_t sequence = 0;
  std::string kind;
  std::string reference;  // registration number for enrollments
  std::string state;      // pending, acked, parked
  int attempts = 0;
  std::string last_error;
  std::string created_at;
};

struct EnrollmentStatus {
  std::string registration_number;
  std::string status;  // queued, sent, parked, or the record's state at central (validated, print_ready, ...)
  std::string reason;
  std::string nik;     // the NIK on the card, once central has decided it
};

class Station {
 public:
  // All references must outlive the Station.
  Station(store::Connection& db, const Clock& clock, const crypto::SigningKey& key, Identity identity);

  const Identity& identity() const { return identity_; }

  // Stores central's answer from registration (station init).
  static Status SaveIdentity(store::Connection& db, const Identity& identity, const Clock& clock);
  static StatusOr<Identity> LoadIdentity(store::Connection& db);

  // Operators. `strength` is kFast only in tests.
  Status AddOperator(const Operator& op, std::string_view password,
                     crypto::PasswordStrength strength = crypto::PasswordStrength::kInteractive);
  // A session token valid for 12 hours; kUnauthenticated for a wrong name or password.
  StatusOr<std::string> Login(std::string_view username, std::string_view password);
  StatusOr<Operator> Authenticate(std::string_view session_token);

  // Validates, seals, stores and queues an enrollment; returns the receipt once durable.
  // kPermissionDenied if the operator's role may not enroll or the station lacks the capability.
  StatusOr<Receipt> Enroll(const Operator& op, const EnrollmentRequest& request);
  StatusOr<Receipt> GetReceipt(std::string_view registration_number);
  StatusOr<EnrollmentStatus> GetEnrollmentStatus(std::string_view registration_number);

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
  // state: "" for all, or pending/acked/parked. Newest first, at most `limit`.
  StatusOr<std::vector<OutboxEntry>> Outbox(std::string_view state, int limit);
  StatusOr<int64_t> CountOutbox(std::string_view state);

  // Down feed: the last applied feed id, and applying items (idempotent;
  // items not signed by central are refused with kUnauthenticated).
  StatusOr<int64_t> FeedCursor();
  Status ApplyFeedItem(int64_t id, std::string_view kind, std::string_view body, std::span<const uint8_t> signature);

 private:
  Status Audit(std::string_view op, std::string_view action, std::string_view subject);

  store::Connection& db_;
  const Clock& clock_;
  const crypto::SigningKey& key_;
  Identity identity_;
};

}  // namespace ektp::station
