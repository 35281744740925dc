// Structured logging: one JSON object per line,
//   {"ts":"2026-11-24T10:00:00.123Z","level":"info","event":"sync.batch_sent","station":"ST-01","items":12}
// written through spdlog to stderr by default.
//
// `event` is a stable dotted name ("http.request", "sync.batch_sent"); the
// fields are explicit key/value pairs. Keys "ts", "level" and "event" are
// reserved; a field using one is renamed with a leading underscore.
//
// NO PII: never pass a NIK, a name, an address, a birth date, a photo, a
// fingerprint template or any other biometric, a password or a token, not
// even truncated or hashed. Log identifiers the system itself assigns
// (station id, registration number, sequence numbers, route patterns).
//
// Thread-safety: all functions are safe to call from several threads.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace ektp::service {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// One key/value field. Values are strings, integers, doubles or booleans.
struct LogField {
  using Value = std::variant<std::string, int64_t, uint64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, long v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, long long v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, unsigned v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, unsigned long long v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}

  std::string key;
  Value value;
};

using LogFields = std::vector<LogField>;

void Log(LogLevel level, std::string_view event, const LogFields& fields = {});
inline void LogDebug(std::string_view event, const LogFields& fields = {}) { Log(LogLevel::kDebug, event, fields); }
inline void LogInfo(std::string_view event, const LogFields& fields = {}) { Log(LogLevel::kInfo, event, fields); }
inline void LogWarn(std::string_view event, const LogFields& fields = {}) { Log(LogLevel::kWarn, event, fields); }
inline void LogError(std::string_view event, const LogFields& fields = {}) { Log(LogLevel::kError, event, fields); }

// The JSON line Log() would write (without the trailing newline).
std::string FormatLogLine(LogLevel level, std::string_view event, const LogFields& fields);

// Under systemd, when standard error is the journal (JOURNAL_STREAM names its
// device and inode, systemd.exec(5)) and no LogToFile or CapturedLogs is in
// effect, Log() sends each line to the journal as structured fields instead:
// these, as "NAME=value" strings. MESSAGE is the JSON line, PRIORITY the
// syslog level, SYSLOG_IDENTIFIER "ektp", EKTP_EVENT the event, and each field
// EKTP_<KEY> with the key upper-cased and every character outside [A-Z0-9_]
// made '_', a reserved key renamed as in the JSON line (EKTP__EVENT)
// (journalctl -u ektp-central EKTP_EVENT=central.packet_rejected).
// A line the journal refuses goes to standard error.
std::vector<std::string> JournalFields(LogLevel level, std::string_view event, const LogFields& fields,
                                       const std::string& json_line);
// True if standard error is the journal stream systemd named in JOURNAL_STREAM.
bool StderrIsJournal();

// Appends log lines to `path` instead of stderr from now on. A new file is
// created with mode 0600 (owner only).
// Errors: kUnavailable if the file cannot be opened (logging is unchanged).
Status LogToFile(const std::string& path);

// Lines below `level` are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
// Parses "debug", "info", "warn", "error"; false if unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);

// Captures log lines in memory instead of stderr while it lives; restores the
// previous destination when destroyed. Captures every level (the level set by
// SetLogLevel still applies). REQUIRES: at most one live capture at a time.
class CapturedLogs {
 public:
  CapturedLogs();
  ~CapturedLogs();
  CapturedLogs(const CapturedLogs&) = delete;
  CapturedLogs& operator=(const CapturedLogs&) = delete;

  // The JSON lines logged so far, oldest first.
  std::vector<std::string> lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ektp::service
