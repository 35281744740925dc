#include "core/testing.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ektp::testing {

const std::filesystem::path& SourceDir() {
  static const std::filesystem::path dir(EKTP_CONFIGURED_SOURCE_DIR);
  return dir;
}

const std::filesystem::path& SharedDataDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path shared = (SourceDir().parent_path() / "shared" / "data").lexically_normal();
    if (!std::filesystem::is_directory(shared)) {
      std::fprintf(stderr, "test data not found: %s (the shared data folder beside the checkout)\n", shared.c_str());
      std::exit(2);
    }
    return shared;
  }();
  return dir;
}

std::filesystem::path FvcDir() { return SharedDataDir() / "fvc2002"; }

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

CommandRun RunCommand(const std::string& command_line) {
  CommandRun run;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return run;
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return run;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    execl("/bin/sh", "sh", "-c", command_line.c_str(), nullptr);
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Both pipes are drained together, so a child filling one never blocks.
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> into{&run.out, &run.err};
  std::array<char, 4096> buffer;
  for (int open_pipes = 2; pid > 0 && open_pipes > 0;) {
    if (poll(fds.data(), fds.size(), -1) < 0) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        into[i]->append(buffer.data(), static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

pid_t StartCommand(const std::string& command_line, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command_line + " >" + log + " 2>&1").c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

}  // namespace ektp::testing
