#include "service/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace ektp::service {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

std::mutex g_logger_mu;
std::shared_ptr<spdlog::logger>& LoggerSlot() {
  static auto* slot = new std::shared_ptr<spdlog::logger>();  // never destroyed: logging until exit
  return *slot;
}

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>("ektp", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

// The logger that writes to standard error, used until LogToFile or
// CapturedLogs replaces it. Never destroyed.
const std::shared_ptr<spdlog::logger>& StderrLogger() {
  static auto* logger = new std::shared_ptr<spdlog::logger>(MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  return *logger;
}

std::shared_ptr<spdlog::logger> CurrentLogger() {
  std::lock_guard lock(g_logger_mu);
  auto& slot = LoggerSlot();
  if (!slot) slot = StderrLogger();
  return slot;
}

}  // namespace

Status LogToFile(const std::string& path) {
  // Owner-only whatever the umask: the log names stations and records.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cannot open log file " + path + ": " + std::strerror(errno));
  ::close(fd);
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
    std::lock_guard lock(g_logger_mu);
    LoggerSlot() = MakeLogger(std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return Unavailable("cannot open log file " + path + ": " + e.what());
  }
  return Status::Ok();
}

namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string NowUtcMillis() {
  auto now = std::chrono::system_clock::now();
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis % 1000));
  return buf;
}

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

}  // namespace

std::string FormatLogLine(LogLevel level, std::string_view event, const LogFields& fields) {
  nlohmann::ordered_json line;
  line["ts"] = NowUtcMillis();
  line["level"] = LevelName(level);
  line["event"] = event;
  for (const LogField& field : fields) {
    std::string key = field.key;
    while (line.contains(key)) key = "_" + key;
    std::visit([&](const auto& v) { line[key] = v; }, field.value);
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> JournalFields(LogLevel level, std::string_view event, const LogFields& fields,
                                       const std::string& json_line) {
  // syslog(3) priorities: err 3, warning 4, info 6, debug 7.
  const char* priority = level == LogLevel::kError  ? "3"
                         : level == LogLevel::kWarn ? "4"
                         : level == LogLevel::kInfo ? "6"
                                                    : "7";
  std::vector<std::string> out = {"MESSAGE=" + json_line, std::string("PRIORITY=") + priority,
                                  "SYSLOG_IDENTIFIER=ektp", "EKTP_EVENT=" + std::string(event)};
  for (const LogField& field : fields) {
    // Reserved keys are renamed as in the JSON line: "event" -> EKTP__EVENT.
    const bool reserved = field.key == "ts" || field.key == "level" || field.key == "event";
    std::string name = reserved ? "EKTP__" : "EKTP_";
    for (char c : field.key) {
      const bool keep = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      name += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : keep ? c : '_';
    }
    std::string value = std::visit(
        [](const auto& v) -> std::string {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) return v;
          else if constexpr (std::is_same_v<V, bool>) return v ? "true" : "false";
          else return nlohmann::json(v).dump();
        },
        field.value);
    out.push_back(name.substr(0, 64) + "=" + value);
  }
  return out;
}

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  return device == static_cast<unsigned long long>(st.st_dev) && inode == static_cast<unsigned long long>(st.st_ino);
}

void Log(LogLevel level, std::string_view event, const LogFields& fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  std::string text = FormatLogLine(level, event, fields);
  std::shared_ptr<spdlog::logger> logger = CurrentLogger();
  static const bool to_journal = StderrIsJournal();
  if (to_journal && logger == StderrLogger()) {
    std::vector<std::string> journal = JournalFields(level, event, fields, text);
    std::vector<iovec> parts;
    for (std::string& part : journal) parts.push_back({part.data(), part.size()});
    if (sd_journal_sendv(parts.data(), static_cast<int>(parts.size())) >= 0) return;
  }
  logger->log(SpdLevel(level), "{}", text);
}

void SetLogLevel(LogLevel level) { g_min_level.store(static_cast<int>(level)); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (LogLevel candidate : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

struct CapturedLogs::Impl {
  std::shared_ptr<CaptureSink> sink;
  std::shared_ptr<spdlog::logger> previous;
};

CapturedLogs::CapturedLogs() : impl_(std::make_unique<Impl>()) {
  impl_->sink = std::make_shared<CaptureSink>();
  std::shared_ptr<spdlog::logger> previous = CurrentLogger();
  std::lock_guard lock(g_logger_mu);
  impl_->previous = std::move(previous);
  LoggerSlot() = MakeLogger(impl_->sink);
}

CapturedLogs::~CapturedLogs() {
  std::lock_guard lock(g_logger_mu);
  LoggerSlot() = impl_->previous;
}

std::vector<std::string> CapturedLogs::lines() const { return impl_->sink->lines(); }

}  // namespace ektp::service
