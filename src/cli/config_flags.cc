#include "cli/config_flags.h"

#include <iostream>
#include <set>
#include <string>
#include <type_traits>

#include <CLI/CLI.hpp>

namespace ektp::cli {
namespace {

// One CLI11 option writing into the key's variable.
void AddFlag(CLI::App& app, const service::ConfigSchema::Key& key) {
  const std::string help = key.help + " (" + key.name + ")";
  std::visit(
      [&](auto target) {
        using Target = decltype(target);
        if constexpr (std::is_same_v<Target, bool*>) {
          app.add_flag(key.flag, *target, help);
        } else if constexpr (std::is_same_v<Target, service::Negated>) {
          app.add_flag_callback(key.flag, [bound = target.target] { *bound = false; }, help);
        } else if constexpr (std::is_same_v<Target, std::chrono::milliseconds*>) {
          app.add_option_function<int64_t>(key.flag, [target](const int64_t& ms) { *target = std::chrono::milliseconds(ms); },
                                           help)
              ->default_str(key.default_value);
        } else {
          app.add_option(key.flag, *target, help)->default_str(key.default_value);
        }
      },
      key.target);
}

}  // namespace

std::optional<int> ParseConfigured(CLI::App& app, const Args& args, service::ConfigSchema& schema,
                                   const std::function<Status()>& validate) {
  std::string config_path;
  bool print_config = false;
  bool print_reference = false;
  bool print_template = false;
  app.add_option("--config", config_path, "TOML file with the keys below; flags override it");
  app.add_flag("--print-config", print_config, "print the effective configuration as TOML and exit");
  app.add_flag("--print-config-reference", print_reference, "print every key as a Markdown table and exit");
  app.add_flag("--print-config-template", print_template,
               "print every key as a commented TOML file (keys set by flags or --config uncommented) and exit");
  for (const service::ConfigSchema::Key& key : schema.keys()) AddFlag(app, key);
  if (auto exit = Parse(app, args)) return exit;
  if (print_reference) {
    std::cout << schema.Reference();
    return kExitOk;
  }
  if (!config_path.empty()) {
    auto file = service::ConfigFile::Load(config_path);
    if (!file.ok()) return Fail(file.status());
    std::set<std::string, std::less<>> flags_given;
    for (const service::ConfigSchema::Key& key : schema.keys()) {
      if (app.count(key.flag) > 0) flags_given.insert(key.flag);
    }
    if (Status status = schema.ApplyFile(*file, flags_given); !status.ok()) return Fail(status);
  }
  if (print_template) {
    std::cout << schema.CommentedToml();
    return kExitOk;
  }
  if (Status status = validate(); !status.ok()) return Fail(status);
  if (print_config) {
    std::cout << schema.EffectiveToml();
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace ektp::cli
