// Accounts of people who log in to a console: a station's operators, central's
// staff. Both keep them in the tables `operators`, `sessions` and
// `login_throttle` of their own database (store/migrations.cc).
//
// Login resists guessing (LoginPolicy): failures are counted per username and
// per peer address, and past a threshold every attempt waits out a growing
// delay; failures are audited; an unknown username costs the same Argon2id
// verification as a known one (against a dummy hash). A login is three steps
// (BeginLogin, CheckPassword, FinishLogin) so that a server can verify the
// password without holding the lock that serialises its database work.
//
// Roles are the caller's names ("operator", "adjudicator", ...); Accounts
// stores and returns them as given.
//
// Thread-safety: like the Connection it uses (one thread at a time), except
// CheckPassword() and PrepareLogin(), which touch no database and may run
// concurrently with anything.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/crypto.h"
#include "store/db.h"

namespace ektp::accounts {

// Attempts on one username or address that fail `threshold` times in a row
// are blocked until `first_delay * 2^(failures - threshold)` (at most
// `max_delay`) after the last failure; the right password is refused too
// while blocked. An attempt counts as a failure from the moment it starts (so
// parallel guesses cannot overtake the counter) until its password verifies.
// A successful login clears its username's counter and takes its own attempt
// back from the address's. Counters of which the last failure is
// `forget_after` old are dropped. Unknown usernames are counted like known
// ones. Counters are kept in the database, so a restart does not reset them.
struct LoginPolicy {
  int account_threshold = 5;    // failures on one username
  int address_threshold = 20;   // failures from one address (a counter office may share one)
  std::chrono::seconds first_delay{30};
  std::chrono::seconds max_delay{15 * 60};
  std::chrono::seconds forget_after{60 * 60};
  // Argon2id cost of the dummy hash unknown usernames are verified against:
  // that of the accounts' hashes (kFast only in tests).
  crypto::PasswordStrength strength = crypto::PasswordStrength::kInteractive;
  // Verifies a password against a hash; injected by tests to count or delay
  // the work. Must be thread-safe.
  std::function<Status(std::string_view hash, std::string_view password)> verify_password = crypto::VerifyPassword;
};

// How long a session lasts from login.
inline constexpr std::chrono::hours kSessionLifetime{12};

struct Account {
  std::string username;
  std::string full_name;
  std::string role;
};

// A login between BeginLogin and FinishLogin.
struct LoginAttempt {
  std::string username;
  std::string address;
  bool known = false;         // the username names an enabled account
  std::string password_hash;  // the account's; empty when unknown (the dummy is used)
  std::chrono::seconds retry_after{0};  // > 0: refused by back-off; nothing to verify
  std::string method;  // how the caller verifies it, for the audit: "" a password, else e.g. "fingerprint"
};

// What Accounts::Add accepts: a username of 1-32 characters of a-z, 0-9, '.',
// '_' and a password of at least 8 characters; kInvalidArgument naming the
// rule otherwise.
Status ValidateAccount(std::string_view username, std::string_view password);

class Accounts {
 public:
  // Records a login, a failed login or a logout; `actor` is "" for a failed
  // login whose username names no account (it may be a mistyped password).
  using AuditFn = std::function<Status(std::string_view actor, std::string_view action, std::string_view detail)>;

  // All references must outlive the Accounts.
  Accounts(store::Connection& db, const Clock& clock, const LoginPolicy& policy, AuditFn audit);

  // `strength` is kFast only in tests. kAlreadyExists for a taken username.
  Status Add(const Account& account, std::string_view password,
             crypto::PasswordStrength strength = crypto::PasswordStrength::kInteractive);
  // Counts the attempt (see LoginPolicy) or, when blocked, returns it with
  // retry_after set; kInvalidArgument for a username longer than 64 bytes.
  StatusOr<LoginAttempt> BeginLogin(std::string_view username, std::string_view address);
  // The Argon2id verification (the dummy hash for an unknown username; always
  // false then). Touches no database.
  bool CheckPassword(const LoginAttempt& attempt, std::string_view password) const;
  // Audits a failure (kUnauthenticated), or opens the session and returns its
  // token. A failure's message is `refusal` when given (it must name no
  // secret and no personal data: it goes to the audit, the log and the
  // caller), else "wrong username or password".
  StatusOr<std::string> FinishLogin(const LoginAttempt& attempt, bool password_ok, std::string_view refusal = {});
  // BeginLogin + CheckPassword + FinishLogin; kResourceExhausted while blocked.
  StatusOr<std::string> Login(std::string_view username, std::string_view password, std::string_view address);
  // Computes the dummy hash now, so the first unknown username costs no more than later ones.
  void PrepareLogin() const;
  // kUnauthenticated when the session is unknown, revoked or expired.
  StatusOr<Account> Authenticate(std::string_view session_token);
  // Revokes the session; kUnauthenticated if it is not an open session.
  Status Logout(std::string_view session_token);

 private:
  store::Connection& db_;
  const Clock& clock_;
  const LoginPolicy& policy_;
  AuditFn audit_;
};

}  // namespace ektp::accounts
