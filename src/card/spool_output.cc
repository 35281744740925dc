#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "card/output.h"

namespace ektp::card {
namespace {

Status Unwritable(const std::filesystem::path& path, std::string_view what) {
  return Unavailable("spool: cannot " + std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

Status WriteSynced(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Unwritable(path, "create");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status failed = Unwritable(path, "write");
      ::close(fd);
      return failed;
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  Status failed = synced ? Status::Ok() : Unwritable(path, "fsync");
  ::close(fd);
  return failed;
}

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unwritable(dir, "open");
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status::Ok() : Unwritable(dir, "fsync");
}

class Spool final : public CardOutput {
 public:
  explicit Spool(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Status Send(std::string_view card_id, const RenderedCard& card, std::span<const uint8_t> chip_blob) override {
    if (!IsCardId(card_id)) return InvalidArgument("spool: '" + std::string(card_id) + "' is not a card id");
    ASSIGN_OR_RETURN(bool sent, WasSent(card_id));
    if (sent) return Status::Ok();
    std::error_code error;
    const std::filesystem::path partial = dir_ / (".partial-" + std::string(card_id));
    std::filesystem::remove_all(partial, error);
    std::filesystem::create_directories(partial, error);
    if (error) return Unavailable("spool: cannot create " + partial.string() + ": " + error.message());
    const std::pair<const char*, std::span<const uint8_t>> files[] = {
        {"front.png", card.front_png}, {"back.png", card.back_png}, {"card.pdf", card.pdf}, {"chip.bin", chip_blob}};
    for (const auto& [name, bytes] : files) RETURN_IF_ERROR(WriteSynced(partial / name, bytes));
    RETURN_IF_ERROR(SyncDirectory(partial));
    std::filesystem::rename(partial, dir_ / std::string(card_id), error);
    if (error) return Unavailable("spool: cannot move " + partial.string() + " into place: " + error.message());
    return SyncDirectory(dir_);
  }

  StatusOr<bool> WasSent(std::string_view card_id) override {
    std::error_code error;
    return std::filesystem::is_directory(dir_ / std::string(card_id), error);
  }

  std::string Describe() const override { return "spool " + dir_.string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace

bool IsCardId(std::string_view id) {
  if (id.empty() || id.size() > 100 || id[0] == '.') return false;
  for (char c : id) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '-' || c == '_';
    if (!allowed) return false;
  }
  return true;
}

std::unique_ptr<CardOutput> SpoolOutput(std::filesystem::path dir) { return std::make_unique<Spool>(std::move(dir)); }

}  // namespace ektp::card
