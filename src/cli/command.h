// The `ektp` command table: every subcommand is one row {name, summary, run}.
//
// A name may have several words ("nik parse"); dispatch picks the longest row
// whose words prefix the command line. Each handler parses its own flags
// (CLI11) from the remaining arguments and returns an exit code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace CLI {
class App;
}

namespace ektp::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

using Args = std::vector<std::string>;

struct Command {
  std::string_view name;     // "nik parse"
  std::string_view summary;  // one line for `ektp help`
  int (*run)(const Args& args);
};

// The table, defined in commands.cc.
const std::vector<Command>& Commands();

// Runs a whole command line (argv without the program name).
int Dispatch(const Args& argv);

// Parses `args` into `app` (whose name should be the command's name).
// Returns an exit code if the handler should stop now: kExitOk after --help,
// kExitUsage after printing a usage error; std::nullopt to continue.
std::optional<int> Parse(CLI::App& app, const Args& args);

// Prints "ektp: <message>" to stderr and returns kExitFailure.
int Fail(const Status& status);

// Blocks until the process receives SIGINT or SIGTERM (for serving commands).
void WaitForStopSignal();

}  // namespace ektp::cli
