// Status and StatusOr<T>: the one error type used across ektp.
//
// The code tells the caller what to do next:
//   kInvalidArgument     the input is bad; retrying the same input will fail again.
//   kNotFound            the named thing does not exist.
//   kAlreadyExists       the thing exists already (idempotent callers may treat as success).
//   kFailedPrecondition  the system is not in a state that allows this; fix the state first.
//   kPermissionDenied    the caller is known but not allowed.
//   kUnauthenticated     the caller could not be identified (bad signature, bad password).
//   kResourceExhausted   a quota or size limit was hit.
//   kUnavailable         transient; retry later with backoff.
//   kAborted             a concurrency conflict; retry the whole transaction.
//   kDataLoss            stored data is corrupt.
//   kInternal            a bug; should never happen.
//
// Exceptions never cross a module boundary: code that calls throwing libraries
// converts their exceptions to a Status at the edge.
//
// A message is always valid UTF-8, so it can be written into JSON or a log
// whatever input it quotes: invalid sequences become U+FFFD on construction.
// Quote input into a message through QuoteInput() (core/text.h), which also
// shows control and format characters by their code point.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ektp {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kAborted,
  kDataLoss,
  kInternal,
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: day 32 is not a date", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}
  StatusOr(T&& value) : value_(std::move(value)) {}
  // REQUIRES: !status.ok()
  StatusOr(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Internal("StatusOr constructed from OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const StatusOr<T>& s) { return s.status(); }
}  // namespace internal

}  // namespace ektp

#define EKTP_CONCAT_INNER(a, b) a##b
#define EKTP_CONCAT(a, b) EKTP_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    ::ektp::Status ektp_status_ = ::ektp::internal::AsStatus((expr));         \
    if (!ektp_status_.ok()) return ektp_status_;                               \
  } while (0)

// `lhs` = the value of StatusOr `rexpr`, or returns its Status.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  EKTP_ASSIGN_OR_RETURN_IMPL(EKTP_CONCAT(ektp_statusor_, __LINE__), lhs, rexpr)
#define EKTP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
