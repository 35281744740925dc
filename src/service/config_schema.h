// ConfigSchema: the typed settings of one serving command, filled from a TOML
// file and from command-line flags, with every default in one place.
//
// Each key binds a dotted TOML key ("listen.port"), a flag ("--port"), a help
// text and the variable it fills. The variable's value when the key is added
// is the key's default, so defaults stay where the options struct declares
// them (e.g. station::SyncOptions) and are never copied.
//
//   central::CentralOptions options;
//   service::ConfigSchema schema("central serve");
//   schema.Add("listen.port", "--port", "port (0 picks a free one)", &options.port);
//   // flags fill the same variables (cli/config_flags.h), then:
//   RETURN_IF_ERROR(schema.ApplyFile(file, flags_given));
//
// Precedence: a flag given on the command line, then the file, then the
// default.
//
// Thread-safety: none; build and use a schema on one thread.
// Ownership: the bound variables must outlive the schema.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "service/config.h"

namespace ektp::service {

// A boolean key stored inverted: `pipeline.disabled = true` fills
// `run_pipeline = false`.
struct Negated {
  bool* target;
};

class ConfigSchema {
 public:
  // The variable a key fills; its type is the key's TOML type. Durations are
  // whole milliseconds in TOML and in flags.
  using Target = std::variant<std::string*, bool*, Negated, int*, int64_t*, uint64_t*, double*,
                              std::vector<std::string>*, std::chrono::milliseconds*>;

  struct Key {
    std::string name;           // dotted TOML key: "listen.port"
    std::string flag;           // "--port"
    std::string help;
    Target target;
    std::string default_value;  // as TOML, taken when the key was added
    bool secret = false;        // printed as "<set>" by EffectiveToml
  };

  // `command` names the command in printed output: "central serve".
  explicit ConfigSchema(std::string command);

  // REQUIRES: `name` and `flag` are new to this schema; `target` is non-null
  // and outlives the schema. Its current value becomes the default.
  ConfigSchema& Add(std::string name, std::string flag, std::string help, Target target);
  // Marks the key added last as a secret (REQUIRES: a key was added).
  ConfigSchema& Secret();

  const std::string& command() const { return command_; }
  const std::vector<Key>& keys() const { return keys_; }

  // Fills the keys present in `file`, except those whose flag is in
  // `flags_given` (the command line wins; their file values are still
  // checked). Errors (kInvalidArgument) name the file, the key and its line:
  // a key this schema does not know (with the closest known key as a
  // suggestion), a value of the wrong type or out of the variable's range.
  // Every problem in the file is reported; on error nothing is filled.
  Status ApplyFile(const ConfigFile& file, const std::set<std::string, std::less<>>& flags_given);

  // The current values as a TOML document that ApplyFile accepts, grouped by
  // table; a non-empty secret prints as "<set>".
  std::string EffectiveToml() const;

  // Every key as a commented TOML file that ApplyFile accepts: each key's help,
  // flag, type and default as comments, then the key itself, commented out
  // when its current value is its default. Secrets print as they are (it is
  // the caller's own file). The packaged /etc/ektp/*.toml are made by this.
  std::string CommentedToml() const;

  // A Markdown table of the keys: key, flag, type, default, meaning.
  std::string Reference() const;

 private:
  // The keys grouped by table after `header`; `commented` as CommentedToml.
  std::string Toml(std::string header, bool commented) const;

  std::string command_;
  std::vector<Key> keys_;
};

// "a string", "an integer", ...: the TOML type a target takes.
std::string_view ConfigTypeName(const ConfigSchema::Target& target);

}  // namespace ektp::service
