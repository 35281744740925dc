#include "service/progress.h"

namespace ektp::service {

Progress::Progress(int fd) : fd_(fd), active_(isatty(fd) == 1) {}

Progress::~Progress() {
  if (drawn_) Write("\r\x1b[K");
}

void Progress::Update(std::string_view label, uint64_t done, uint64_t total) {
  if (!active_) return;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const bool new_label = label != label_;
  if (!new_label && done != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  label_ = label;
  last_draw_ = now;
  std::string line = "\r" + label_ + ": " + std::to_string(done);
  if (total > 0) line += "/" + std::to_string(total) + " (" + std::to_string(done * 100 / total) + "%)";
  Write(line + "\x1b[K");
  drawn_ = true;
}

void Progress::Write(const std::string& text) {
  for (size_t written = 0; written < text.size();) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n <= 0) return;  // progress is best effort: a closed terminal ends it
    written += static_cast<size_t>(n);
  }
}

}  // namespace ektp::service
