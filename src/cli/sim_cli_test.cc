// Runs the real `ektp sim` and checks its table, files, exit codes and
// messages.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::ektp::testing::CommandRun;

CommandRun Ektp(const std::string& args) {
  return ::ektp::testing::RunCommand(std::string(EKTP_BINARY) + " " + args);
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The document's root element, after the XML declaration and comments.
std::string RootElement(const std::string& xml) {
  std::smatch match;
  std::string rest = std::regex_replace(xml, std::regex(R"(<\?xml[^>]*\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)"), "");
  if (!std::regex_search(rest, match, std::regex(R"(^\s*<([A-Za-z][A-Za-z0-9:]*))"))) return "";
  return match[1];
}

TEST(SimCliTest, HelpListsSim) {
  CommandRun help = Ektp("help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("  sim "));
  CommandRun flags = Ektp("help sim");
  EXPECT_EQ(flags.exit_code, 0);
  EXPECT_THAT(flags.out, HasSubstr("--scenario"));
  EXPECT_THAT(flags.out, HasSubstr("--printer-per-hour"));
  CommandRun typo = Ektp("sin --scenario ngawi");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'sim'?"));
  // A group's typo stays within the group, though "sim" is as close.
  EXPECT_THAT(Ektp("nik prase 3521015708990001").err, HasSubstr("did you mean 'nik parse'?"));
}

TEST(SimCliTest, SitubondoPrintsTheComparisonAndWritesCsvAndCharts) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "sim_cli_situbondo";
  std::filesystem::remove_all(dir);
  CommandRun run = Ektp("sim --scenario situbondo --out " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("skenario situbondo: Kabupaten Situbondo (35.12)"));
  EXPECT_THAT(run.out, HasSubstr("hanya daring"));
  EXPECT_THAT(run.out, HasSubstr("luring dulu"));
  EXPECT_THAT(run.out, HasSubstr("KTP-el dicetak"));
  // Piped: no progress line, nothing on stderr at all.
  EXPECT_EQ(run.err, "");

  for (const char* name : {"scenario.csv", "summary.csv", "days.csv", "waits.csv"}) {
    std::string text = Slurp(dir / name);
    EXPECT_FALSE(text.empty()) << name;
    EXPECT_THAT(text.substr(0, text.find('\n')), HasSubstr(",")) << name;
  }
  EXPECT_THAT(Slurp(dir / "summary.csv"), HasSubstr("metric,online-only,offline-first\n"));
  EXPECT_THAT(Slurp(dir / "scenario.csv"), HasSubstr("\n--shipment,0:5000\n--shipment,42:5000\n"));
  EXPECT_THAT(Slurp(dir / "summary.csv"), HasSubstr("\nblanks_shipped,10000,10000\n"));
  for (const char* name : {"waits.svg", "backlog.svg", "blanks.svg", "suket.svg"}) {
    std::string svg = Slurp(dir / name);
    EXPECT_EQ(RootElement(svg), "svg") << name;
    EXPECT_THAT(svg, HasSubstr("</svg>")) << name;
    EXPECT_THAT(svg, HasSubstr("<polyline")) << name;  // the series are drawn
  }
  // PLplot writes text as character references: "diterima" (received) in the legend.
  EXPECT_THAT(Slurp(dir / "blanks.svg"), HasSubstr("&#x64;&#x69;&#x74;&#x65;&#x72;&#x69;&#x6d;&#x61;"));

  // Same seed, same table.
  CommandRun again = Ektp("sim --scenario situbondo");
  EXPECT_EQ(again.out, run.out.substr(0, run.out.find("\nwrote")));
}

// The scenario's knobs printed as flags run the very same simulation.
TEST(SimCliTest, PrintScenarioGivesFlagsThatReproduceTheRun) {
  CommandRun knobs = Ektp("sim --scenario ngawi --days 20 --print-scenario");
  ASSERT_EQ(knobs.exit_code, 0) << knobs.err;
  EXPECT_THAT(knobs.out, HasSubstr("--regency 35.21\n--days 20\n"));
  EXPECT_THAT(knobs.out, HasSubstr("--maintenance 14:8\n"));
  EXPECT_THAT(knobs.out, HasSubstr("--office-link-up-hours 11\n--office-link-down-hours 4\n"));
  std::string flags;
  for (char c : knobs.out) flags += c == '\n' ? ' ' : c;
  CommandRun named = Ektp("sim --scenario ngawi --days 20");
  CommandRun flagged = Ektp("sim " + flags);
  ASSERT_EQ(flagged.exit_code, 0) << flagged.err;
  auto after_first_line = [](const std::string& text) { return text.substr(text.find('\n')); };
  EXPECT_THAT(flagged.out, HasSubstr("skenario custom"));
  EXPECT_EQ(after_first_line(flagged.out), after_first_line(named.out));
}

TEST(SimCliTest, FlagsOverrideTheScenario) {
  CommandRun run = Ektp("sim --scenario ngawi --days 10 --seed 3");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("skenario ngawi: Kabupaten Ngawi (35.21), penduduk 907002, 10 hari, seed 3"));
}

TEST(SimCliTest, BadFlagsAreRefusedWithExitTwoNamingTheProblem) {
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"sim --scenario jakarta", "no scenario named 'jakarta'; the scenarios are situbondo, ngawi, rokan-hilir"},
      {"sim --days 0", "days must be between 1 and 3660"},
      {"sim --printer-per-hour -3", "printer-per-hour must be a positive number"},
      {"sim --regency 99.99", "regency '99.99' is not a Kemendagri regency code"},
      {"sim --shipment 5", "--shipment '5' is not of the form DAY:COUNT"},
      {"sim --maintenance 3:x", "--maintenance '3:x' is not of the form DAY:DAYS"},
      {"sim --open-hour 16 --close-hour 15", "open-hour/close-hour must satisfy"},
      {"sim --days ten", "--days"},
      {"sim --printer-per-huor 3", "did you mean '--printer-per-hour'"},
  };
  for (const Case& c : cases) {
    CommandRun run = Ektp(c.args);
    EXPECT_EQ(run.exit_code, 2) << c.args;
    EXPECT_THAT(run.err, HasSubstr(c.message)) << c.args;
    EXPECT_EQ(run.out, "") << c.args;
  }
}

}  // namespace
