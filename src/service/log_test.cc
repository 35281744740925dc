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

TEST(LogTest, JournalFieldsCarryTheEventAndEachFieldByName) {
  const std::string line = FormatLogLine(LogLevel::kWarn, "central.packet_rejected", {});
  std::vector<std::string> fields = JournalFields(
      LogLevel::kWarn, "central.packet_rejected",
      {{"station", "ST-352101-01"}, {"sequence", 17}, {"ok", false}, {"ratio", 0.5}, {"http.route", "/a b"}}, line);
  EXPECT_THAT(fields, ::testing::ElementsAre("MESSAGE=" + line, "PRIORITY=4", "SYSLOG_IDENTIFIER=ektp",
                                             "EKTP_EVENT=central.packet_rejected", "EKTP_STATION=ST-352101-01",
                                             "EKTP_SEQUENCE=17", "EKTP_OK=false", "EKTP_RATIO=0.5",
                                             "EKTP_HTTP_ROUTE=/a b"));
  EXPECT_EQ(JournalFields(LogLevel::kError, "e", {{"event", "x"}}, "")[4], "EKTP__EVENT=x");
  EXPECT_EQ(JournalFields(LogLevel::kError, "e", {}, "")[1], "PRIORITY=3");
  EXPECT_EQ(JournalFields(LogLevel::kInfo, "e", {}, "")[1], "PRIORITY=6");
  EXPECT_EQ(JournalFields(LogLevel::kDebug, "e", {}, "")[1], "PRIORITY=7");
  // Field names stop at the journal's 64 characters.
  std::string long_key(80, 'k');
  EXPECT_EQ(JournalFields(LogLevel::kInfo, "e", {{long_key, 1}}, "")[4], "EKTP_" + std::string(59, 'K') + "=1");
}

TEST(LogTest, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(StderrIsJournal());
  setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(StderrIsJournal());
  setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
  EXPECT_FALSE(StderrIsJournal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(StderrIsJournal());
  unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace ektp::service
