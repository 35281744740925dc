#include "service/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/status_matchers.h"

namespace ektp::service {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kToml = R"(
[central]
urls = ["https://10.0.0.5:8443", "https://10.0.9.5:8443"]
timeout_ms = 5000
plain_http = false
backoff = 1.5

[station]
id = "ST-3171-01"
mixed = ["a", 2]
)";

TEST(ConfigTest, TypedGettersByDottedKey) {
  auto config = ConfigFile::Parse(kToml, "station.toml");
  ASSERT_OK(config);
  EXPECT_THAT(*config->GetStringList("central.urls"), ElementsAre("https://10.0.0.5:8443", "https://10.0.9.5:8443"));
  EXPECT_EQ(*config->GetInt("central.timeout_ms"), 5000);
  EXPECT_EQ(*config->GetBool("central.plain_http"), false);
  EXPECT_EQ(*config->GetDouble("central.backoff"), 1.5);
  EXPECT_EQ(*config->GetDouble("central.timeout_ms"), 5000.0);
  EXPECT_EQ(*config->GetString("station.id"), "ST-3171-01");
  EXPECT_TRUE(config->Has("station"));
  EXPECT_FALSE(config->Has("station.nope"));
}

TEST(ConfigTest, DefaultsApplyOnlyWhenAbsent) {
  auto config = ConfigFile::Parse(kToml, "station.toml");
  ASSERT_OK(config);
  EXPECT_EQ(*config->GetInt("central.retries", 7), 7);
  EXPECT_EQ(*config->GetString("log.level", "info"), "info");
  EXPECT_EQ(*config->GetBool("x.y.z", true), true);
  EXPECT_THAT(*config->GetStringList("none", {"d"}), ElementsAre("d"));
  EXPECT_EQ(*config->GetInt("central.timeout_ms", 1), 5000);
  EXPECT_THAT(config->GetInt("station.id", 1),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("station.toml: key 'station.id' must be an integer, not a string")));
}

TEST(ConfigTest, WrongTypeAndMissingKeyNameFileAndKey) {
  auto config = ConfigFile::Parse(kToml, "station.toml");
  ASSERT_OK(config);
  EXPECT_THAT(config->GetString("central.timeout_ms"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("station.toml: key 'central.timeout_ms' must be a string")));
  EXPECT_THAT(config->GetBool("central.urls"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'central.urls' must be a boolean, not an array")));
  EXPECT_THAT(config->GetStringList("station.mixed"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'station.mixed[1]' must be a string")));
  EXPECT_THAT(config->GetInt("central.backoff"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'central.backoff' must be an integer, not a float")));
  EXPECT_THAT(config->GetString("central.token"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("station.toml: key 'central.token' is missing")));
}

TEST(ConfigTest, SyntaxErrorNamesLineAndColumn) {
  EXPECT_THAT(ConfigFile::Parse("[a]\nx = 1\ny = = 2\n", "bad.toml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad.toml: syntax error at line 3, column")));
}

TEST(ConfigTest, LoadsFileAndReportsMissingFile) {
  std::string path = ::testing::TempDir() + "/config_test_" + std::to_string(getpid()) + ".toml";
  { std::ofstream(path) << "[http]\nport = 8443\n"; }
  auto config = ConfigFile::Load(path);
  ASSERT_OK(config);
  EXPECT_EQ(config->name(), path);
  EXPECT_EQ(*config->GetInt("http.port"), 8443);
  std::remove(path.c_str());
  EXPECT_THAT(ConfigFile::Load(path),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(path + ": cannot read config file")));
}

}  // namespace
}  // namespace ektp::service
