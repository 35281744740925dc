#include "accounts/accounts.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "service/log.h"
#include "service/metrics.h"

namespace ektp::accounts {
namespace {

service::Counter& FailedLogins() {
  static service::Counter& failed = service::MetricsRegistry::Default().GetCounter(
      "ektp_login_failures_total", "Logins refused for a wrong username, password or fingerprint");
  return failed;
}

// A hash of a random password, per strength, made once per process: what an
// unknown username's password is verified against. Without memory for a
// hash no login verifies either; an empty hash still fails every check.
const std::string& DummyHash(crypto::PasswordStrength strength) {
  static std::array<std::once_flag, 2> once;
  static std::array<std::string, 2> hashes;
  const size_t index = strength == crypto::PasswordStrength::kFast ? 1 : 0;
  std::call_once(once[index], [&] {
    auto hash = crypto::HashPassword(crypto::RandomToken(), strength);
    hashes[index] = hash.ok() ? *hash : "";
  });
  return hashes[index];
}

}  // namespace

Status ValidateAccount(std::string_view username, std::string_view password) {
  if (username.empty() || username.size() > 32 ||
      !std::all_of(username.begin(), username.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'; })) {
    return InvalidArgument("username must be 1-32 characters of a-z, 0-9, '.', '_'");
  }
  if (password.size() < 8) return InvalidArgument("password must have at least 8 characters");
  return Status::Ok();
}

Accounts::Accounts(store::Connection& db, const Clock& clock, const LoginPolicy& policy, AuditFn audit)
    : db_(db), clock_(clock), policy_(policy), audit_(std::move(audit)) {}

Status Accounts::Add(const Account& account, std::string_view password, crypto::PasswordStrength strength) {
  RETURN_IF_ERROR(ValidateAccount(account.username, password));
  ASSIGN_OR_RETURN(auto taken, db_.Query("SELECT 1 FROM operators WHERE username = ?", {account.username}));
  if (!taken.empty()) return AlreadyExists("username " + account.username + " is taken");
  ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password, strength));
  return db_.Exec("INSERT INTO operators (username, full_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                  {account.username, account.full_name, account.role, hash, FormatTimestamp(clock_.Now())});
}

StatusOr<std::string> Accounts::Login(std::string_view username, std::string_view password,
                                      std::string_view address) {
  ASSIGN_OR_RETURN(LoginAttempt attempt, BeginLogin(username, address));
  if (attempt.retry_after.count() > 0) {
    return ResourceExhausted("too many failed logins; retry after " + std::to_string(attempt.retry_after.count()) +
                             " s");
  }
  return FinishLogin(attempt, CheckPassword(attempt, password));
}

StatusOr<LoginAttempt> Accounts::BeginLogin(std::string_view username, std::string_view address) {
  if (username.size() > 64) return InvalidArgument("username is longer than 64 bytes");
  const int64_t now = UnixSeconds(clock_.Now());
  LoginAttempt attempt;
  attempt.username = username;
  attempt.address = address;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec("DELETE FROM login_throttle WHERE last_failure_unix < ? AND blocked_until_unix <= ?",
                             {now - policy_.forget_after.count(), now}));
    const std::pair<const char*, std::string_view> counters[] = {{"account", username}, {"address", address}};
    for (const auto& [scope, subject] : counters) {
      ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT blocked_until_unix FROM login_throttle "
                                            "WHERE scope = ? AND subject = ?",
                                            {scope, subject}));
      if (!rows.empty() && rows[0].Int(0) > now) {
        attempt.retry_after = std::max(attempt.retry_after, std::chrono::seconds(rows[0].Int(0) - now));
      }
    }
    if (attempt.retry_after.count() > 0) return Status::Ok();
    // Counted as a failure until the password verifies (LoginPolicy).
    for (const auto& [scope, subject] : counters) {
      const int threshold = std::string_view(scope) == "account" ? policy_.account_threshold
                                                                 : policy_.address_threshold;
      RETURN_IF_ERROR(db_.Exec("INSERT INTO login_throttle (scope, subject, failures, last_failure_unix, "
                               "blocked_until_unix) VALUES (?, ?, 0, ?, 0) ON CONFLICT (scope, subject) DO NOTHING",
                               {scope, subject, now}));
      ASSIGN_OR_RETURN(auto rows, db_.Query("UPDATE login_throttle SET failures = failures + 1, last_failure_unix = ? "
                                            "WHERE scope = ? AND subject = ? RETURNING failures",
                                            {now, scope, subject}));
      const int64_t failures = rows.at(0).Int(0);
      if (failures >= threshold) {
        const int64_t doublings = std::min<int64_t>(failures - threshold, 30);
        const int64_t delay = std::min<int64_t>(policy_.first_delay.count() << doublings,
                                                policy_.max_delay.count());
        RETURN_IF_ERROR(db_.Exec("UPDATE login_throttle SET blocked_until_unix = ? WHERE scope = ? AND subject = ?",
                                 {now + delay, scope, subject}));
      }
    }
    ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT password_hash FROM operators WHERE username = ? AND "
                                          "disabled_at IS NULL",
                                          {username}));
    attempt.known = !rows.empty();
    if (attempt.known) attempt.password_hash = rows[0].Text(0);
    return Status::Ok();
  }));
  return attempt;
}

void Accounts::PrepareLogin() const { DummyHash(policy_.strength); }

bool Accounts::CheckPassword(const LoginAttempt& attempt, std::string_view password) const {
  const bool verified =
      policy_.verify_password(attempt.known ? attempt.password_hash : DummyHash(policy_.strength), password).ok();
  return attempt.known && verified;
}

StatusOr<std::string> Accounts::FinishLogin(const LoginAttempt& attempt, bool password_ok,
                                            std::string_view refusal) {
  const std::string by = attempt.method.empty() ? "" : " by " + attempt.method;
  if (!password_ok) {
    // The username only when it names an account: a password typed into the
    // username field must not end up in the audit or the log.
    service::LogWarn("accounts.login_failed", {{"username", attempt.known ? attempt.username : ""},
                                               {"unknown_username", !attempt.known},
                                               {"remote", attempt.address},
                                               {"method", attempt.method.empty() ? "password" : attempt.method},
                                               {"refusal", std::string(refusal)}});
    FailedLogins().Increment();
    RETURN_IF_ERROR(audit_(attempt.known ? attempt.username : "", "login_failed",
                           "from " + attempt.address + by + (attempt.known ? "" : "; unknown username") +
                               (refusal.empty() ? "" : "; " + std::string(refusal))));
    return Unauthenticated(refusal.empty() ? "wrong username or password" : std::string(refusal));
  }
  std::string token = crypto::RandomToken(32);
  TimePoint now = clock_.Now();
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec("DELETE FROM login_throttle WHERE scope = 'account' AND subject = ?", {attempt.username}));
    RETURN_IF_ERROR(db_.Exec("UPDATE login_throttle SET failures = failures - 1 WHERE scope = 'address' AND "
                             "subject = ? AND failures > 0",
                             {attempt.address}));
    RETURN_IF_ERROR(db_.Exec("UPDATE login_throttle SET blocked_until_unix = 0 WHERE scope = 'address' AND "
                             "subject = ? AND failures < ?",
                             {attempt.address, policy_.address_threshold}));
    RETURN_IF_ERROR(db_.Exec("INSERT INTO sessions (token_sha256, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                             {crypto::Sha256Hex(token), attempt.username, FormatTimestamp(now),
                              FormatTimestamp(now + kSessionLifetime)}));
    return audit_(attempt.username, "login", "from " + attempt.address + by);
  }));
  return token;
}

Status Accounts::Logout(std::string_view session_token) {
  ASSIGN_OR_RETURN(Account account, Authenticate(session_token));
  return db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(db_.Exec("DELETE FROM sessions WHERE token_sha256 = ?", {crypto::Sha256Hex(session_token)}));
    return audit_(account.username, "logout", "");
  });
}

StatusOr<Account> Accounts::Authenticate(std::string_view session_token) {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT o.username, o.full_name, o.role, s.expires_at FROM sessions s "
                                        "JOIN operators o ON o.username = s.username "
                                        "WHERE s.token_sha256 = ? AND o.disabled_at IS NULL",
                                        {crypto::Sha256Hex(session_token)}));
  if (rows.empty()) return Unauthenticated("not logged in");
  if (rows[0].Text(3) < FormatTimestamp(clock_.Now())) return Unauthenticated("session expired; log in again");
  return Account{rows[0].Text(0), rows[0].Text(1), rows[0].Text(2)};
}

}  // namespace ektp::accounts
