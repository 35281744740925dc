#include "core/testing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace ektp::testing {
namespace {

// Tests and benchmarks run from the build folder, from the checkout or from
// anywhere else: the data is found the same way from each.
TEST(TestDataTest, FoundFromAnyWorkingDirectory) {
  const std::filesystem::path before = std::filesystem::current_path();
  const std::filesystem::path elsewhere = std::filesystem::temp_directory_path();
  std::filesystem::current_path(elsewhere);
  const std::vector<uint8_t> fvc = ReadFileBytes(FvcDir() / "DB1_B" / "101_1.iso");
  const std::vector<uint8_t> regions = ReadFileBytes(SourceDir() / "data" / "regions" / "regions.csv");
  std::filesystem::current_path(before);

  ASSERT_GE(fvc.size(), 4u);
  EXPECT_EQ(std::string(fvc.begin(), fvc.begin() + 4), std::string("FMR\0", 4));  // ISO 19794-2 magic
  EXPECT_FALSE(regions.empty());
  EXPECT_TRUE(std::filesystem::is_directory(SharedDataDir() / "iso19794-vectors"));
}

TEST(TestDataTest, AMissingFileReadsAsEmpty) {
  EXPECT_TRUE(ReadFileBytes(SharedDataDir() / "no-such-file.iso").empty());
}

TEST(RunCommandTest, KeepsOutputErrorAndExitCodeApart) {
  // More than a pipe's buffer on each stream, so a reader of one only would block.
  CommandRun run = RunCommand("head -c 200000 /dev/zero | tr '\\0' o; head -c 100000 /dev/zero | tr '\\0' e >&2; exit 3");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.out, std::string(200000, 'o'));
  EXPECT_EQ(run.err, std::string(100000, 'e'));
}

TEST(RunCommandTest, ACommandEndedBySignalHasNoExitCode) {
  EXPECT_EQ(RunCommand("kill -9 $$").exit_code, -1);
  EXPECT_EQ(RunCommand("no-such-command-ektp").exit_code, 127);
}

TEST(StartCommandTest, RunsInTheBackgroundIntoItsLog) {
  const std::filesystem::path log = std::filesystem::path(::testing::TempDir()) / "start_command_test.log";
  const pid_t pid = StartCommand("sh -c 'echo out; echo err >&2'", log.string());
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::vector<uint8_t> logged = ReadFileBytes(log);
  EXPECT_EQ(std::string(logged.begin(), logged.end()), "out\nerr\n");
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace ektp::testing
