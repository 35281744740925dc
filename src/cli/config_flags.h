// The command line of a serving command: its service::ConfigSchema's flags,
// plus --config FILE, --print-config, --print-config-reference and
// --print-config-template.
#pragma once

#include <functional>
#include <optional>

#include "cli/command.h"
#include "service/config_schema.h"

namespace ektp::cli {

// Fills `schema`'s variables from `args`: a flag given on the command line,
// then the --config file, then the defaults. Then runs `validate` (checks
// across keys, e.g. a maximum at least its minimum). Returns an exit code when
// the handler must stop now: after --help or a usage error (as Parse), after
// printing the key reference (--print-config-reference, a Markdown table) or
// the effective configuration (--print-config, TOML that --config accepts),
// every key as a commented TOML file (--print-config-template, before
// `validate`: a template need not be complete), or after a configuration
// error, which names the file, the key and its line.
// std::nullopt: serve.
std::optional<int> ParseConfigured(CLI::App& app, const Args& args, service::ConfigSchema& schema,
                                   const std::function<Status()>& validate);

}  // namespace ektp::cli
