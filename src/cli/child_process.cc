#include "cli/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

namespace ektp::cli {
namespace {

std::string SelfExe() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string("ektp");
}

// The exit code waitpid's `status` stands for: 128 + signal when killed.
int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

struct ChildFds {
  int in = -1;   // the child's stdin, or -1 for /dev/null
  int out = -1;  // its stdout
  int err = -1;  // its stderr
};

// Forks and execs `argv_strings` (argv[0] an absolute path) with `fds`. In
// the child: its own process group when `own_group`, SIGTERM when the parent
// dies, no blocked signals.
StatusOr<pid_t> SpawnProgram(std::vector<std::string> argv_strings, ChildFds fds, bool own_group) {
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork failed: ") + strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (own_group) setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(fds.in >= 0 ? fds.in : devnull, STDIN_FILENO);
    dup2(fds.out, STDOUT_FILENO);
    dup2(fds.err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// `ektp args...` from this very binary.
StatusOr<pid_t> Spawn(const std::vector<std::string>& args, ChildFds fds, bool own_group) {
  static const std::string exe = SelfExe();
  std::vector<std::string> argv = {exe};
  argv.insert(argv.end(), args.begin(), args.end());
  return SpawnProgram(std::move(argv), fds, own_group);
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return ExitCode(status);
}

}  // namespace

std::string FileTail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > static_cast<size_t>(lines)) tail.pop_front();
  }
  std::string out;
  for (const std::string& line : tail) out += "  | " + line + "\n";
  return out;
}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::StartServer(const std::vector<std::string>& args,
                                                                  const std::string& log_path,
                                                                  std::chrono::milliseconds timeout,
                                                                  bool banner_on_stderr) {
  int banner[2];
  if (pipe2(banner, O_CLOEXEC) != 0) return Internal(std::string("pipe failed: ") + strerror(errno));
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    close(banner[0]);
    close(banner[1]);
    return Internal("cannot open " + log_path + ": " + strerror(errno));
  }
  ChildFds fds{-1, banner_on_stderr ? log : banner[1], banner_on_stderr ? banner[1] : log};
  StatusOr<pid_t> pid = Spawn(args, fds, /*own_group=*/true);
  close(banner[1]);
  close(log);
  if (!pid.ok()) {
    close(banner[0]);
    return pid.status();
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess(*pid, banner[0]));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string seen;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{banner[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[1024];
    const ssize_t n = read(banner[0], buffer, sizeof(buffer));
    if (n <= 0) break;  // the child exited
    seen.append(buffer, static_cast<size_t>(n));
    const size_t at = seen.find("listening on ");
    if (at == std::string::npos) continue;
    const size_t start = at + std::string("listening on ").size();
    const size_t end = seen.find_first_of(" ,\n", start);
    if (end == std::string::npos) continue;
    child->address_ = seen.substr(start, end - start);
    return child;
  }
  child->Stop(std::chrono::seconds(2));
  return Unavailable("`ektp " + (args.empty() ? std::string() : args[0] + " " + (args.size() > 1 ? args[1] : "")) +
                     "` did not start; its log " + log_path + " ends:\n" + FileTail(log_path));
}

ChildProcess::~ChildProcess() { Stop(); }

int ChildProcess::port() const {
  const size_t colon = address_.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(address_.c_str() + colon + 1);
}

std::optional<int> ChildProcess::Exited() {
  if (pid_ < 0) return std::nullopt;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  if (banner_fd_ >= 0) close(banner_fd_);
  banner_fd_ = -1;
  return ExitCode(status);
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return -1;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (banner_fd_ >= 0) close(banner_fd_);
  banner_fd_ = -1;
  return ExitCode(status);
}

int ChildProcess::Kill() {
  if (pid_ < 0) return -1;
  kill(pid_, SIGKILL);
  const int code = WaitExit(pid_);
  pid_ = -1;
  if (banner_fd_ >= 0) close(banner_fd_);
  banner_fd_ = -1;
  return code;
}

StatusOr<CliOutcome> RunEktp(const std::vector<std::string>& args, const std::string& log_path,
                             const std::string& stdin_text) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Internal(std::string("pipe failed: ") + strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Internal(std::string("pipe failed: ") + strerror(errno));
  }
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  StatusOr<pid_t> pid = Spawn(args, {in[0], out[1], log >= 0 ? log : out[1]}, /*own_group=*/false);
  close(in[0]);
  close(out[1]);
  if (log >= 0) close(log);
  if (!pid.ok()) {
    close(in[1]);
    close(out[0]);
    return pid.status();
  }
  // The inputs are a line or two, well under the pipe's buffer.
  if (!stdin_text.empty()) (void)!write(in[1], stdin_text.data(), stdin_text.size());
  close(in[1]);
  CliOutcome outcome;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof(buffer))) > 0;) outcome.out.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  outcome.exit_code = WaitExit(*pid);
  return outcome;
}

StatusOr<int> RunProgram(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty() || !argv[0].starts_with("/")) return InvalidArgument("RunProgram needs an absolute program path");
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Internal("cannot open " + log_path + ": " + strerror(errno));
  StatusOr<pid_t> pid = SpawnProgram(argv, {-1, log, log}, /*own_group=*/false);
  close(log);
  if (!pid.ok()) return pid.status();
  return WaitExit(*pid);
}

}  // namespace ektp::cli
