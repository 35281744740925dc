// Where tests and benchmarks find their data: the one place that knows the
// layout of a developer checkout. Not linked into the ektp binary, which
// takes every data path from its flags.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ektp::testing {

// The checkout this build was configured from (the folder with data/ and
// src/), fixed at configure time, so tests and benchmarks run from any
// working directory.
const std::filesystem::path& SourceDir();

// The shared test data beside the checkout, SourceDir()/../shared/data:
// fvc2002/DBn_B/FFF_I.iso (FVC2002 minutiae templates) and
// iso19794-vectors/ (ISO/ANSI sample templates). Exits the process with a
// message naming the path if the folder is missing, since no caller can do
// without it.
const std::filesystem::path& SharedDataDir();

// SharedDataDir()/fvc2002: DB1_B .. DB4_B.
std::filesystem::path FvcDir();

// The bytes of `path`; empty if it cannot be read (the caller's assertion
// on the content then names what is missing).
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);

// How a shell command ended and what it printed.
struct CommandRun {
  int exit_code = -1;  // -1 when it did not exit (a signal ended it) or could not start
  std::string out;     // its standard output
  std::string err;     // its standard error
};

// Runs `command_line` with /bin/sh -c and waits for it to end.
CommandRun RunCommand(const std::string& command_line);

// Starts `exec command_line` with /bin/sh -c in the background, its stdout
// and stderr into the file `log`; its pid, for the caller to signal and reap.
pid_t StartCommand(const std::string& command_line, const std::string& log);

}  // namespace ektp::testing
