#include "service/config_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::service {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A command's settings, with their defaults where the struct declares them.
struct Settings {
  std::string data_dir;
  std::string db_url;
  int port = 8443;
  bool plain_http = false;
  bool run_pipeline = true;
  double rate = 0;
  uint64_t seed = 0;
  std::vector<std::string> urls = {"https://a.example:8443"};
  std::chrono::milliseconds timeout{30'000};
};

class ConfigSchemaTest : public ::testing::Test {
 protected:
  static ConfigSchema SchemaFor(Settings& settings) {
    ConfigSchema schema("demo serve");
    schema.Add("server.data_dir", "--dir", "data directory", &settings.data_dir)
        .Add("server.db", "--db", "database URL", &settings.db_url)
        .Secret()
        .Add("listen.port", "--port", "port", &settings.port)
        .Add("listen.plain_http", "--plain-http", "no TLS", &settings.plain_http)
        .Add("pipeline.disabled", "--no-pipeline", "no pipeline", Negated{&settings.run_pipeline})
        .Add("pipeline.rate", "--rate", "records per second", &settings.rate)
        .Add("sync.seed", "--seed", "jitter seed", &settings.seed)
        .Add("sync.urls", "--url", "central URLs", &settings.urls)
        .Add("sync.timeout_ms", "--timeout-ms", "request timeout", &settings.timeout);
    return schema;
  }

  static Status Apply(Settings& settings, std::string_view toml, std::set<std::string, std::less<>> flags = {}) {
    ConfigSchema schema = SchemaFor(settings);
    ASSIGN_OR_RETURN(ConfigFile file, ConfigFile::Parse(toml, "central.toml"));
    return schema.ApplyFile(file, flags);
  }
};

TEST_F(ConfigSchemaTest, UnknownKeyNamesFileKeyLineAndTheClosestKey) {
  Settings settings;
  EXPECT_THAT(Apply(settings, "[listen]\nport = 9000\nprot = 4\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("central.toml: unknown key 'listen.prot' (line 3); did you mean 'listen.port'?")));
  // Nothing is filled when the file has an error.
  EXPECT_EQ(settings.port, 8443);
  // A table of its own is unknown too; far from every key, no suggestion.
  Status status = Apply(settings, "[metrics]\n");
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("central.toml: unknown key 'metrics' (line 1)")));
  EXPECT_THAT(status.message(), Not(HasSubstr("did you mean")));
}

TEST_F(ConfigSchemaTest, EveryProblemOfTheFileIsReported) {
  Settings settings;
  Status status = Apply(settings, "[listen]\nprot = 1\n[sync]\ntimeout_ms = \"5s\"\n");
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown key 'listen.prot' (line 2")));
  EXPECT_THAT(status.message(), HasSubstr("key 'sync.timeout_ms' must be an integer, not a string (line 4"));
}

TEST_F(ConfigSchemaTest, WrongTypeAndOutOfRangeNameFileKeyAndLine) {
  Settings settings;
  EXPECT_THAT(Apply(settings, "[listen]\nport = \"9000\"\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("central.toml: key 'listen.port' must be an integer, not a string (line 2, column 8)")));
  EXPECT_THAT(Apply(settings, "[listen]\nport = 4294967296\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("central.toml: key 'listen.port' must be between -2147483648 and 2147483647, not "
                                 "4294967296 (line 2)")));
  EXPECT_THAT(Apply(settings, "[sync]\nseed = -1\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("key 'sync.seed' must be between 0 and")));
  EXPECT_THAT(Apply(settings, "[sync]\nurls = [\"https://a\", 2]\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("key 'sync.urls[1]' must be a string, not an integer")));
  EXPECT_THAT(Apply(settings, "pipeline = 1\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown key 'pipeline' (line 1)")));
  // An empty table of the schema is fine (every key in it commented out).
  EXPECT_OK(Apply(settings, "[pipeline]\n# rate = 2\n[sync]\n"));
}

TEST_F(ConfigSchemaTest, FileOverridesDefaultAndAGivenFlagOverridesFile) {
  Settings settings;
  settings.port = 7000;  // as if --port 7000 had been parsed
  ASSERT_OK(Apply(settings,
                  "[listen]\nport = 9000\nplain_http = true\n[pipeline]\ndisabled = true\nrate = 5\n"
                  "[sync]\ntimeout_ms = 1500\nurls = []\n",
                  {"--port"}));
  EXPECT_EQ(settings.port, 7000);
  EXPECT_TRUE(settings.plain_http);
  EXPECT_FALSE(settings.run_pipeline);
  EXPECT_EQ(settings.rate, 5.0);
  EXPECT_EQ(settings.timeout, std::chrono::milliseconds(1500));
  EXPECT_TRUE(settings.urls.empty());
  // Keys absent from the file keep their defaults.
  EXPECT_EQ(settings.seed, 0u);
  EXPECT_EQ(settings.data_dir, "");
}

TEST_F(ConfigSchemaTest, EffectiveTomlRoundTrips) {
  Settings settings;
  ConfigSchema schema = SchemaFor(settings);
  settings.data_dir = "/srv/ektp/\"central\"\\x";
  settings.port = 0;
  settings.run_pipeline = false;
  settings.rate = 2.5;
  settings.seed = 42;
  settings.urls = {"https://a.example:8443", "https://b.example:8443"};
  settings.timeout = std::chrono::milliseconds(1234);
  const std::string printed = schema.EffectiveToml();
  EXPECT_THAT(printed, StartsWith("# Effective configuration of `ektp demo serve`"));
  EXPECT_THAT(printed, HasSubstr("\n[listen]\nport = 0\nplain_http = false\n"));
  EXPECT_THAT(printed, HasSubstr("\n[pipeline]\ndisabled = true\nrate = 2.5\n"));

  Settings reread;
  ConfigSchema reread_schema = SchemaFor(reread);
  auto file = ConfigFile::Parse(printed, "printed.toml");
  ASSERT_OK(file);
  ASSERT_OK(reread_schema.ApplyFile(*file, {}));
  EXPECT_EQ(reread_schema.EffectiveToml(), printed);
  EXPECT_EQ(reread.data_dir, settings.data_dir);
  EXPECT_EQ(reread.urls, settings.urls);
  EXPECT_EQ(reread.timeout, settings.timeout);
  EXPECT_FALSE(reread.run_pipeline);
}

TEST_F(ConfigSchemaTest, CommentedTomlListsEveryKeyAndSetsOnlyThoseChanged) {
  Settings settings;
  ConfigSchema schema = SchemaFor(settings);
  settings.data_dir = "/var/lib/ektp/central";
  settings.port = 9443;
  const std::string printed = schema.CommentedToml();
  EXPECT_THAT(printed, StartsWith("# Configuration of `ektp demo serve` (--config FILE)"));
  EXPECT_THAT(printed, HasSubstr("\n[server]\n# data directory\n# flag --dir, a string, default \"\"\n"
                                 "data_dir = \"/var/lib/ektp/central\"\n"));
  EXPECT_THAT(printed, HasSubstr("\n[listen]\n# port\n# flag --port, an integer, default 8443\nport = 9443\n\n"
                                 "# no TLS\n# flag --plain-http, a boolean, default false\n# plain_http = false\n"));
  for (const ConfigSchema::Key& key : schema.keys()) EXPECT_THAT(printed, HasSubstr("# flag " + key.flag + ","));

  // The file sets exactly the changed keys; the commented ones keep defaults.
  Settings reread;
  reread.port = 1;
  reread.rate = 7;
  ConfigSchema reread_schema = SchemaFor(reread);
  auto file = ConfigFile::Parse(printed, "central.toml");
  ASSERT_OK(file);
  ASSERT_OK(reread_schema.ApplyFile(*file, {}));
  EXPECT_EQ(reread.data_dir, "/var/lib/ektp/central");
  EXPECT_EQ(reread.port, 9443);
  EXPECT_EQ(reread.rate, 7);
}

TEST_F(ConfigSchemaTest, ASecretIsNeverPrinted) {
  Settings settings;
  ConfigSchema schema = SchemaFor(settings);
  EXPECT_THAT(schema.EffectiveToml(), HasSubstr("\n[server]\ndata_dir = \"\"\ndb = \"\"\n"));
  settings.db_url = "postgresql://ektp:rahasia@db.example/ektp";
  const std::string printed = schema.EffectiveToml();
  EXPECT_THAT(printed, HasSubstr("db = \"<set>\"  # secret: not printed\n"));
  EXPECT_THAT(printed, Not(HasSubstr("rahasia")));
  EXPECT_THAT(schema.Reference(), HasSubstr("| `server.db` | `--db` | a string | `\"\"` | database URL (secret"));
}

TEST_F(ConfigSchemaTest, ReferenceGivesEveryKeyWithTypeAndDefault) {
  Settings settings;
  std::string reference = SchemaFor(settings).Reference();
  EXPECT_THAT(reference, StartsWith("| key | flag | type | default | meaning |\n|---|---|---|---|---|\n"));
  EXPECT_THAT(reference, HasSubstr("| `listen.port` | `--port` | an integer | `8443` | port |\n"));
  EXPECT_THAT(reference, HasSubstr("| `pipeline.disabled` | `--no-pipeline` | a boolean | `false` | no pipeline |\n"));
  EXPECT_THAT(reference,
              HasSubstr("| `sync.urls` | `--url` | an array of strings | `[ \"https://a.example:8443\" ]` |"));
  EXPECT_THAT(reference,
              HasSubstr("| `sync.timeout_ms` | `--timeout-ms` | milliseconds (an integer) | `30000` | request timeout |\n"));
}

}  // namespace
}  // namespace ektp::service
