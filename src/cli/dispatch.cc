#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "core/edit_distance.h"
#include "core/version.h"

namespace ektp::cli {
namespace {

std::vector<std::string> SplitWords(std::string_view name) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < name.size()) {
    size_t end = name.find(' ', start);
    if (end == std::string_view::npos) end = name.size();
    words.emplace_back(name.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// The row whose words are the longest prefix of `argv`, and how many words matched.
std::pair<const Command*, size_t> Find(const Args& argv) {
  const Command* best = nullptr;
  size_t best_words = 0;
  for (const Command& command : Commands()) {
    std::vector<std::string> words = SplitWords(command.name);
    if (words.size() > argv.size() || words.size() <= best_words) continue;
    if (std::equal(words.begin(), words.end(), argv.begin())) {
      best = &command;
      best_words = words.size();
    }
  }
  return {best, best_words};
}

void PrintTable(std::string_view prefix) {
  for (const Command& command : Commands()) {
    if (!command.name.starts_with(prefix)) continue;
    std::cout << "  " << command.name << std::string(24 - std::min<size_t>(22, command.name.size()), ' ')
              << command.summary << "\n";
  }
}

int Help(const Args& args) {
  if (args.empty()) {
    std::cout << "ektp " << kVersion << ": e-KTP issuance platform\n\nUsage: ektp <command> [flags]\n\nCommands:\n";
    PrintTable("");
    std::cout << "\nRun `ektp help <command>` for a command's flags.\n";
    return kExitOk;
  }
  auto [command, words] = Find(args);
  if (command != nullptr && words == args.size()) return command->run({"--help"});
  std::string prefix;
  for (const std::string& word : args) prefix += (prefix.empty() ? "" : " ") + word;
  bool any = std::any_of(Commands().begin(), Commands().end(),
                         [&](const Command& c) { return c.name.starts_with(prefix + " "); });
  if (any) {
    PrintTable(prefix + " ");
    return kExitOk;
  }
  std::cerr << "ektp: no command named '" << prefix << "'\n";
  return kExitUsage;
}

int Unknown(const Args& argv) {
  const Command* closest = nullptr;
  size_t closest_distance = SIZE_MAX;
  // A known group's name ("nik prase") is matched within the group only, so a
  // short top-level name ("sim") never wins a tie against the group's rows.
  const std::string group = argv[0] + " ";
  const bool in_group = std::any_of(Commands().begin(), Commands().end(),
                                    [&](const Command& c) { return c.name.starts_with(group); });
  for (const Command& command : Commands()) {
    if (in_group && !command.name.starts_with(group)) continue;
    // Compare the row's name with as many typed words as the name has.
    size_t name_words = SplitWords(command.name).size();
    std::string typed;
    for (size_t i = 0; i < std::min(name_words, argv.size()); ++i) typed += (i ? " " : "") + argv[i];
    size_t distance = EditDistance(typed, command.name);
    if (distance < closest_distance) {
      closest_distance = distance;
      closest = &command;
    }
  }
  std::cerr << "ektp: unknown command '" << argv[0] << "'";
  if (closest != nullptr && closest_distance <= 3) std::cerr << "; did you mean '" << closest->name << "'?";
  std::cerr << "\nRun `ektp help` for the list of commands.\n";
  return kExitUsage;
}

// "; did you mean '--x'?" for the first flag in `args` that `app` lacks, when
// one of its flags is close; "" otherwise.
std::string FlagSuggestion(CLI::App& app, const Args& args) {
  for (const std::string& arg : args) {
    if (!arg.starts_with("--")) continue;
    const std::string flag = arg.substr(0, arg.find('='));
    if (app.get_option_no_throw(flag) != nullptr) continue;
    std::string closest;
    size_t closest_distance = SIZE_MAX;
    for (const CLI::Option* option : app.get_options()) {
      for (const std::string& name : option->get_lnames()) {
        size_t distance = EditDistance(flag, "--" + name);
        if (distance < closest_distance) {
          closest_distance = distance;
          closest = "--" + name;
        }
      }
    }
    if (closest_distance <= 3) return "; did you mean '" + closest + "' (not '" + flag + "')?";
    return "";
  }
  return "";
}

}  // namespace

std::optional<int> Parse(CLI::App& app, const Args& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::cerr << "ektp " << app.get_name() << ": " << e.what() << FlagSuggestion(app, args) << "\n"
              << "Run `ektp help " << app.get_name() << "` for usage.\n";
    return kExitUsage;
  }
  return std::nullopt;
}

void WaitForStopSignal() {
  static volatile std::sig_atomic_t stop = 0;
  std::signal(SIGINT, [](int) { stop = 1; });
  std::signal(SIGTERM, [](int) { stop = 1; });
  while (stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

int Fail(const Status& status) {
  std::cerr << "ektp: " << status.message() << "\n";
  return kExitFailure;
}

int Dispatch(const Args& argv) {
  if (argv.empty()) {
    (void)Help({});
    return kExitUsage;
  }
  if (argv[0] == "help" || argv[0] == "--help" || argv[0] == "-h") return Help(Args(argv.begin() + 1, argv.end()));
  if (argv[0] == "--version" || argv[0] == "version") {
    std::cout << "ektp " << kVersion << "\n";
    return kExitOk;
  }
  auto [command, words] = Find(argv);
  if (command == nullptr) {
    // A group name alone ("ektp nik") lists the group.
    bool is_group = std::any_of(Commands().begin(), Commands().end(),
                                [&](const Command& c) { return c.name.starts_with(argv[0] + " "); });
    if (is_group && argv.size() == 1) {
      PrintTable(argv[0] + " ");
      return kExitUsage;
    }
    return Unknown(argv);
  }
  return command->run(Args(argv.begin() + words, argv.end()));
}

}  // namespace ektp::cli
