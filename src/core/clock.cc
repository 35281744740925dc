#include "core/clock.h"

#include <cstdio>

#include <sodium.h>

namespace ektp {

std::chrono::year_month_day Clock::TodayWib() const {
  auto wib = Now() + std::chrono::hours(7);
  return std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(wib));
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

uint64_t SystemRandom::Next() {
  uint64_t value;
  randombytes_buf(&value, sizeof(value));
  return value;
}

std::string FormatDate(std::chrono::year_month_day date) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::string FormatTimestamp(TimePoint t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::hh_mm_ss time(std::chrono::floor<std::chrono::seconds>(t - day));
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%sT%02d:%02d:%02dZ", FormatDate(std::chrono::year_month_day(day)).c_str(),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

StatusOr<TimePoint> ParseTimestamp(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  int consumed = 0;
  const std::string copy(text);
  if (text.size() != 20 ||
      std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &s, &z, &consumed) != 7 ||
      consumed != 20 || z != 'Z' || h > 23 || mi > 59 || s > 59) {
    return InvalidArgument("'" + copy + "' is not a timestamp YYYY-MM-DDTHH:MM:SSZ");
  }
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return InvalidArgument("'" + copy + "' is not a date");
  return TimePoint(std::chrono::sys_days(date)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s);
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

int64_t UnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace ektp
