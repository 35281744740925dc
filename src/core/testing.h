// Where tests and benchmarks find their data: the one place that knows the
// layout of a developer checkout. Not linked into the ektp binary, which
// takes every data path from its flags.
#pragma once

#include <cstdint>
#include <filesystem>
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

}  // namespace ektp::testing
