// ConfigFile: a TOML configuration file with typed getters by dotted key.
//
//   [central]
//   urls = ["https://10.0.0.5:8443", "https://10.0.9.5:8443"]
//   timeout_ms = 5000
//
//   GetStringList("central.urls"), GetInt("central.timeout_ms", 3000)
//
// Every error is kInvalidArgument and names the file, and the key where there
// is one: a missing file, a syntax error (with line and column), a value of
// the wrong type, a missing required key. Flags overriding the file are the
// caller's business.
//
// Thread-safety: a loaded ConfigFile is immutable; const methods may be
// called from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::service {

class ConfigFile {
 public:
  // Reads and parses the TOML file at `path`.
  static StatusOr<ConfigFile> Load(const std::string& path);
  // Parses `text`; `name` stands for the file name in messages.
  static StatusOr<ConfigFile> Parse(std::string_view text, std::string name = "<config>");

  ConfigFile(ConfigFile&&) noexcept;
  ConfigFile& operator=(ConfigFile&&) noexcept;
  ~ConfigFile();

  // The file name used in messages.
  const std::string& name() const;

  // True if `key` is present (any type).
  bool Has(std::string_view key) const;

  // Where a value stands: its dotted key and 1-based line (0 when unknown).
  struct Entry {
    std::string key;
    int line = 0;
    bool empty_table = false;  // `[name]` with nothing in it
  };
  // Every value that is not a table, and every empty table, in file order.
  std::vector<Entry> Entries() const;

  // Required keys: kInvalidArgument if absent or of another type.
  StatusOr<std::string> GetString(std::string_view key) const;
  StatusOr<int64_t> GetInt(std::string_view key) const;
  StatusOr<bool> GetBool(std::string_view key) const;
  StatusOr<double> GetDouble(std::string_view key) const;  // integers are accepted
  StatusOr<std::vector<std::string>> GetStringList(std::string_view key) const;

  // Optional keys: `default_value` if absent; kInvalidArgument if present
  // with another type.
  StatusOr<std::string> GetString(std::string_view key, std::string default_value) const;
  StatusOr<int64_t> GetInt(std::string_view key, int64_t default_value) const;
  StatusOr<bool> GetBool(std::string_view key, bool default_value) const;
  StatusOr<double> GetDouble(std::string_view key, double default_value) const;
  StatusOr<std::vector<std::string>> GetStringList(std::string_view key,
                                                   std::vector<std::string> default_value) const;

 private:
  struct Impl;
  explicit ConfigFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ektp::service
