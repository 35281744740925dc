// Reading a Suket's token from a file: a PDF through `pdftoppm` and
// `zbarimg`, an image through `zbarimg`, or the token as text.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "suket/suket.h"

extern char** environ;

namespace ektp::suket {
namespace {

// The resolution a PDF page is rasterised at for the QR reader.
constexpr int kScanDpi = 200;
// A text file larger than this is not a token (tokens are under 1 KiB).
constexpr size_t kMaxTokenFileBytes = 64 * 1024;

struct ToolRun {
  int exit_code;
  std::string output;  // standard output
};

// Runs `argv` (found through PATH, no shell) and collects its standard
// output; its standard error is discarded.
StatusOr<ToolRun> RunTool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return FailedPrecondition("cannot run " + argv[0] + " (" + std::strerror(spawned) +
                              "): install the packages poppler-utils and zbar-tools");
  }
  ToolRun run{};
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    run.output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (run.exit_code == 127) {
    return FailedPrecondition("cannot run " + argv[0] + ": install the packages poppler-utils and zbar-tools");
  }
  return run;
}

// A temporary folder removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ektp-suket-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

bool StartsWith(std::span<const uint8_t> content, std::string_view magic) {
  return content.size() >= magic.size() &&
         std::equal(magic.begin(), magic.end(), content.begin(),
                    [](char m, uint8_t c) { return static_cast<uint8_t>(m) == c; });
}

StatusOr<std::string> ScanImage(const std::string& image_path, const std::string& shown_name) {
  ASSIGN_OR_RETURN(ToolRun run,
                   RunTool({"zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", image_path}));
  // zbarimg exits 4 when it finds no symbol.
  if (run.exit_code == 4 || (run.exit_code == 0 && run.output.empty())) {
    return NotFound(shown_name + ": no QR code found");
  }
  if (run.exit_code != 0) {
    return InvalidArgument(shown_name + ": zbarimg could not read it (exit " + std::to_string(run.exit_code) + ")");
  }
  std::istringstream lines(run.output);
  std::string line, first;
  while (std::getline(lines, line)) {
    if (line.starts_with(kTokenPrefix)) return line;
    if (first.empty()) first = line;
  }
  return first;
}

StatusOr<std::string> ScanPdf(const std::string& pdf_path, const std::string& shown_name) {
  TempDir dir;
  if (dir.path().empty()) return Internal("cannot create a temporary folder");
  const std::string prefix = (dir.path() / "page").string();
  ASSIGN_OR_RETURN(ToolRun run, RunTool({"pdftoppm", "-r", std::to_string(kScanDpi), "-png", "-gray", "-f", "1", "-l",
                                         "1", "-singlefile", pdf_path, prefix}));
  if (run.exit_code != 0) {
    return InvalidArgument(shown_name + ": pdftoppm could not read the PDF (exit " + std::to_string(run.exit_code) + ")");
  }
  return ScanImage(prefix + ".png", shown_name);
}

StatusOr<std::string> Trimmed(std::span<const uint8_t> content) {
  if (content.size() > kMaxTokenFileBytes) {
    return InvalidArgument("the text is larger than " + std::to_string(kMaxTokenFileBytes / 1024) +
                           " KiB: not a Suket token");
  }
  std::string text(content.begin(), content.end());
  const size_t end = text.find_last_not_of(" \t\r\n");
  const size_t begin = text.find_first_not_of(" \t\r\n");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

bool IsImageOrPdf(std::span<const uint8_t> content) {
  return StartsWith(content, "%PDF-") || StartsWith(content, "\x89PNG") || StartsWith(content, "\xFF\xD8\xFF");
}

}  // namespace

StatusOr<std::string> ReadTokenFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  Bytes head(8);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (StartsWith(head, "%PDF-")) return ScanPdf(path, path);
  if (IsImageOrPdf(head)) return ScanImage(path, path);
  in.clear();
  in.seekg(0);
  Bytes content(kMaxTokenFileBytes + 1);
  in.read(reinterpret_cast<char*>(content.data()), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  auto token = Trimmed(content);
  if (!token.ok()) return token.status().WithContext(path);
  return token;
}

StatusOr<std::string> ReadToken(std::span<const uint8_t> content) {
  if (!IsImageOrPdf(content)) return Trimmed(content);
  TempDir dir;
  if (dir.path().empty()) return Internal("cannot create a temporary folder");
  const std::string path = (dir.path() / "input").string();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out.flush()) return Internal("cannot write " + path);
  out.close();
  return StartsWith(content, "%PDF-") ? ScanPdf(path, "standard input") : ScanImage(path, "standard input");
}

}  // namespace ektp::suket
