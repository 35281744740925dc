// Progress of a long command (`bio scale`, `bio eval`) on one line of a
// terminal: "label: 120/1000 (12%)", redrawn in place at most every 100 ms
// and cleared at the end. Nothing at all is written when the descriptor is
// not a terminal (piped, redirected, under systemd), so output meant for
// files and other programs stays clean.
//
// Thread-safety: Update may be called from several threads.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace ektp::service {

class Progress {
 public:
  // Writes to `fd` (not owned) if it is a terminal. Default: standard error.
  explicit Progress(int fd = STDERR_FILENO);
  // Clears the line if anything was drawn.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // True when `fd` is a terminal, i.e. when Update draws.
  bool active() const { return active_; }
  // `done` of `total` units of `label` (total 0: a count without a percentage).
  // Draws when the label changes, when done == total, or 100 ms after the last draw.
  void Update(std::string_view label, uint64_t done, uint64_t total);

 private:
  void Write(const std::string& text);

  const int fd_;
  const bool active_;
  std::mutex mu_;
  std::string label_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace ektp::service
