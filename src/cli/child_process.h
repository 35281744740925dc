// Child `ektp` processes for `ektp demo` and `ektp chaos`: servers started from this very
// binary (/proc/self/exe) and CLI steps run to completion.
//
// A server child runs in its own process group, so a Ctrl-C at the terminal
// reaches only the parent, which then stops each child in order; each child
// also gets SIGTERM from the kernel if the parent dies first
// (PR_SET_PDEATHSIG), so no server outlives the demo.
//
// Thread-safety: a ChildProcess from one thread, the one that started it (the
// death signal follows the thread that forked).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace ektp::cli {

class ChildProcess {
 public:
  // Starts `ektp args...`, appending its log (stderr) to `log_path`, and waits
  // up to `timeout` for a line containing "listening on " on its stdout (on
  // its stderr when `banner_on_stderr`; the log then gets its stdout); the
  // rest of that line, up to a space or comma, is address().
  // kUnavailable with the log's tail if it exits or times out first.
  static StatusOr<std::unique_ptr<ChildProcess>> StartServer(const std::vector<std::string>& args,
                                                             const std::string& log_path,
                                                             std::chrono::milliseconds timeout,
                                                             bool banner_on_stderr = false);
  // Stop().
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // "https://127.0.0.1:8443" for central and stations, "127.0.0.1:40123" for the fault proxy.
  const std::string& address() const { return address_; }
  // The port at the end of address().
  int port() const;
  // Whether the process has exited on its own (it is reaped then, and Stop
  // does nothing); its exit code (128 + signal when killed) if so.
  std::optional<int> Exited();
  // SIGTERM, then up to `grace` for it to exit (SIGKILL after), and reaps it.
  // Returns the exit code (128 + signal when killed); -1 if already stopped.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
  // kill -9 and reap: the process gets no chance to clean up. Returns the
  // exit code (137 when the signal killed it); -1 if already stopped.
  int Kill();

 private:
  ChildProcess(pid_t pid, int banner_fd) : pid_(pid), banner_fd_(banner_fd) {}
  pid_t pid_ = -1;
  int banner_fd_ = -1;  // kept open: the child may write more to it
  std::string address_;
};

struct CliOutcome {
  int exit_code = -1;
  std::string out;  // stdout
};
// Runs `ektp args...` to completion with `stdin_text` on its standard input,
// appending its stderr to `log_path`. kInternal if it cannot be started.
StatusOr<CliOutcome> RunEktp(const std::vector<std::string>& args, const std::string& log_path,
                             const std::string& stdin_text = "");

// Runs the program `argv[0]` (an absolute path) with `argv` to completion,
// its stdout and stderr appended to `log_path`; its exit code (128 + signal
// when killed). kInternal if it cannot be started.
StatusOr<int> RunProgram(const std::vector<std::string>& argv, const std::string& log_path);

// The last `lines` lines of a file, for error messages.
std::string FileTail(const std::string& path, int lines = 15);

}  // namespace ektp::cli
