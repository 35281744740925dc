// An exclusive lock on a data directory, so that only one serving process
// uses it: flock(2) on a lock file inside it, released when the DirLock is
// destroyed or the process ends (a crash leaves no stale lock).
//
// Thread-safety: a DirLock is owned by one object; moving it moves the lock.
#pragma once

#include <string>

#include "core/status.h"

namespace ektp::service {

class DirLock {
 public:
  // Locks `<dir>/<file>` (created 0600 if missing) and writes this process's
  // id into it. kFailedPrecondition naming `what`, the folder and the holder's
  // process id if another open lock holds it; kUnavailable if the file cannot
  // be opened.
  static StatusOr<DirLock> Acquire(const std::string& dir, const std::string& file, const std::string& what);

  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ektp::service
