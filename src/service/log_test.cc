#include "service/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ektp::service {
namespace {

TEST(LogTest, OneJsonObjectPerLineWithFieldsInOrder) {
  CapturedLogs logs;
  std::string station = "ST-3171-01";
  LogInfo("sync.batch_sent", {{"station", station}, {"items", 12}, {"ok", true}, {"ratio", 0.5}});
  ASSERT_EQ(logs.lines().size(), 1u);
  const std::string line = logs.lines()[0];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["level"], "info");
  EXPECT_EQ(json["event"], "sync.batch_sent");
  EXPECT_EQ(json["station"], "ST-3171-01");
  EXPECT_EQ(json["items"], 12);
  EXPECT_EQ(json["ok"], true);
  EXPECT_EQ(json["ratio"], 0.5);
  EXPECT_TRUE(line.starts_with("{\"ts\":\"")) << line;
  EXPECT_EQ(json["ts"].get<std::string>().size(), std::string("2026-11-24T10:00:00.123Z").size());
}

TEST(LogTest, ReservedKeysAreRenamedAndControlCharsEscaped) {
  CapturedLogs logs;
  LogWarn("x", {{"event", "spoof"}, {"msg", "a\nb\"c"}});
  auto json = nlohmann::json::parse(logs.lines().at(0));
  EXPECT_EQ(json["event"], "x");
  EXPECT_EQ(json["_event"], "spoof");
  EXPECT_EQ(json["msg"], "a\nb\"c");
  EXPECT_EQ(json["level"], "warn");
}

// The log file is owner-only even under a permissive umask (the CLI sets
// 077 as well; this is the library's own guarantee).
TEST(LogTest, LogFileIsCreatedOwnerOnly) {
  std::string dir = ::testing::TempDir() + "/ektp_log_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ektp.log";
  mode_t previous = umask(022);
  Status opened = LogToFile(path);
  umask(previous);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  LogInfo("log.file_test", {{"n", 1}});
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr("\"event\":\"log.file_test\""));
  EXPECT_EQ(LogToFile(dir + "/missing/ektp.log").code(), StatusCode::kUnavailable);
  std::filesystem::remove_all(dir);
}

TEST(LogTest, LevelFilters) {
  CapturedLogs logs;
  LogDebug("hidden");
  SetLogLevel(LogLevel::kDebug);
  LogDebug("shown");
  SetLogLevel(LogLevel::kInfo);
  ASSERT_EQ(logs.lines().size(), 1u);
  EXPECT_THAT(logs.lines()[0], ::testing::HasSubstr("\"event\":\"shown\""));
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace ektp::service
