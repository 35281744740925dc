// The clock and randomness are injected so tests are deterministic.
//
// Thread-safety: implementations are safe to call from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ektp {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // The civil date now in Indonesia's western time zone (WIB, UTC+7).
  std::chrono::year_month_day TodayWib() const;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Advance(std::chrono::nanoseconds by) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(by).count();
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;
  // Uniform in [0, bound). REQUIRES: bound > 0.
  uint64_t Uniform(uint64_t bound) { return Next() % bound; }
};

// Cryptographically secure (libsodium's randombytes).
class SystemRandom final : public Random {
 public:
  uint64_t Next() override;
};

// Reproducible from a seed; for tests, simulation and synthetic data.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t Next() override {
    std::lock_guard lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

// "2026-11-24"
std::string FormatDate(std::chrono::year_month_day date);
// "2026-11-24T10:00:00Z"
std::string FormatTimestamp(TimePoint t);
// The inverse of FormatTimestamp; kInvalidArgument for anything else.
StatusOr<TimePoint> ParseTimestamp(std::string_view text);
// Milliseconds since the Unix epoch (the *_ms columns of central's database).
int64_t UnixMillis(TimePoint t);
// Whole seconds since the Unix epoch, rounded down.
int64_t UnixSeconds(TimePoint t);

}  // namespace ektp
