// `ektp chaos` short runs, as CI runs them: the built binary under seeded
// faults on each backend, its JSON figures checked here. Each run takes
// about 20 s of faults plus the time to settle.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/testing.h"

namespace ektp::cli {
namespace {

struct Outcome {
  int exit_code = -1;
  nlohmann::json figures;
  std::string out;
};

Outcome RunChaosCommand(const std::string& flags) {
  Outcome outcome;
  ::ektp::testing::CommandRun run =
      ::ektp::testing::RunCommand(std::string(EKTP_BINARY) + " chaos --json " + flags + " 2>&1");
  outcome.exit_code = run.exit_code;
  outcome.out = std::move(run.out);
  const size_t json_start = outcome.out.find("{\n");
  if (json_start != std::string::npos) {
    outcome.figures = nlohmann::json::parse(outcome.out.substr(json_start), nullptr, false);
  }
  return outcome;
}

void ExpectNothingLostOrDuplicated(const Outcome& run, const std::string& backend) {
  ASSERT_TRUE(run.figures.is_object()) << run.out;
  const nlohmann::json& f = run.figures;
  EXPECT_EQ(f["backend"], backend);
  EXPECT_GT(f["acknowledged"].get<int64_t>(), 50) << run.out;
  EXPECT_EQ(f["lost"], 0) << run.out;
  EXPECT_EQ(f["unacknowledged_at_central"], 0) << run.out;
  EXPECT_EQ(f["duplicated"]["registration_number"], 0) << run.out;
  EXPECT_EQ(f["duplicated"]["resident"], 0) << run.out;
  EXPECT_EQ(f["duplicated"]["receipts"], 0) << run.out;
  EXPECT_EQ(f["records_at_central"], f["acknowledged"]) << run.out;
  EXPECT_GE(f["settle_s"].get<double>(), 0) << run.out;
  EXPECT_GE(f["longest_fault_converge_s"].get<double>(), 0) << run.out;
  EXPECT_GE(f["down_converge_s"].get<double>(), 0) << "stations still showed " << f["stale_at_stations"]
                                                    << " records otherwise than central: " << run.out;
  EXPECT_TRUE(f["audit_intact"].get<bool>()) << run.out;
  EXPECT_TRUE(f["passed"].get<bool>()) << run.out;
  EXPECT_EQ(run.exit_code, 0) << run.out;
  // The seeded schedule injected faults of several kinds, including kill -9.
  const nlohmann::json& faults = f["faults"];
  EXPECT_GE(faults.size(), 4u) << faults.dump();
  EXPECT_TRUE(faults.contains("station_kill") || faults.contains("central_kill")) << faults.dump();
}

TEST(ChaosTest, ShortRunOnSqliteLosesAndDuplicatesNothing) {
  ExpectNothingLostOrDuplicated(RunChaosCommand("--duration 20 --fault-gap-ms 1500 --seed 3 --settle-timeout 60"),
                                "sqlite");
}

// PostgreSQL in a cluster the run starts itself, so that it can kill -9 it
// without touching the cluster the other PostgreSQL suites share (EKTP_TEST_PG).
TEST(ChaosTest, ShortRunOnPostgresLosesAndDuplicatesNothing) {
  Outcome run = RunChaosCommand("--backend postgres --duration 20 --fault-gap-ms 1500 --seed 5 --settle-timeout 60");
  ExpectNothingLostOrDuplicated(run, "postgres");
}

TEST(ChaosTest, RefusesAnExistingFolder) {
  const std::string dir = std::filesystem::temp_directory_path() / "ektp-chaos-test-existing";
  std::filesystem::create_directories(dir);
  Outcome run = RunChaosCommand("--dir " + dir);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("folder " + dir + " exists"), std::string::npos) << run.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ektp::cli
