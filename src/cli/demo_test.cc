// `ektp demo` end to end: the built binary runs a small regency day with
// --exit-when-done; the test then opens every database the day left and
// checks its outcomes for itself, and that no process of the day survives,
// after a normal end and after Ctrl-C in the middle of the day.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "central/server.h"
#include "core/status_matchers.h"
#include "core/testing.h"
#include "net/http_client.h"
#include "station/server.h"
#include "station/station.h"
#include "store/db.h"
#include "store/record_repository.h"

namespace ektp::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string TempDir(const std::string& name) {
  std::string path = std::filesystem::temp_directory_path() / ("ektp-demo-test-" + name + "-XXXXXX");
  EXPECT_NE(mkdtemp(path.data()), nullptr);
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// `ektp args` in the background with stdout and stderr into `log`.
pid_t Spawn(const std::string& args, const std::string& log) {
  return ::ektp::testing::StartCommand(std::string(EKTP_BINARY) + " " + args, log);
}

// Waits up to `timeout` for `pid` to exit; its exit code, or -1 (killed then).
int WaitExit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(50ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The demo's children (demo.pids) still running as ektp: none after it ends.
std::vector<std::string> SurvivingChildren(const std::string& day) {
  std::vector<std::string> alive;
  std::ifstream pids(day + "/demo.pids");
  int count = 0;
  for (std::string pid; std::getline(pids, pid);) {
    ++count;
    const std::string cmdline = ReadFile("/proc/" + pid + "/cmdline");
    const std::string stat = ReadFile("/proc/" + pid + "/stat");
    // A zombie would be reaped by init; a live process runs the ektp binary with the day's folder or the proxy.
    if (!cmdline.empty() && stat.find(") Z") == std::string::npos && cmdline.find("ektp") != std::string::npos) {
      alive.push_back(pid + ": " + cmdline);
    }
  }
  EXPECT_GE(count, 1) << "the demo recorded no child processes in " << day << "/demo.pids";
  return alive;
}

// Waits up to `timeout` until `log` holds `text` at least `times` times.
bool WaitForOutput(const std::string& log, const std::string& text, int times, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = ReadFile(log);
    int seen = 0;
    for (size_t at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++seen;
    if (seen >= times) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// `ektp demo --dir <root>/day <flags>` with ports 0, its output in <root>/demo.out;
// stopped with SIGTERM when a failed assertion leaves it running.
struct DemoRun {
  DemoRun(const std::string& name, const std::string& flags)
      : root(TempDir(name)),
        day(root + "/day"),
        log(root + "/demo.out"),
        pid(Spawn("demo --dir " + day + " --central-port 0 --station-port 0 " + flags, log)) {}
  ~DemoRun() {
    if (waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGTERM);
      WaitExit(pid, 60s);
    }
  }
  const std::string root;
  const std::string day;
  const std::string log;
  const pid_t pid;
};

int64_t CountRows(store::Connection& db, const std::string& sql) {
  auto rows = db.Query(sql);
  EXPECT_OK(rows.status()) << sql;
  return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
}

TEST(DemoTest, RegencyDayReachesEveryOutcomeAndLeavesNoProcess) {
  const DemoRun run("day", "--residents 20 --exit-when-done");
  const auto& [root, day, log, demo] = std::tie(run.root, run.day, run.log, run.pid);
  ASSERT_EQ(WaitExit(demo, 600s), 0) << ReadFile(log);
  const std::string out = ReadFile(log);
  EXPECT_THAT(out, HasSubstr("link to central DOWN"));
  EXPECT_THAT(out, HasSubstr("central stopped for a restart"));
  EXPECT_THAT(out, HasSubstr("Console    https://127.0.0.1:"));
  EXPECT_THAT(out, HasSubstr("stopped 7 processes\n"));
  EXPECT_THAT(SurvivingChildren(day), ::testing::IsEmpty());

  central::CentralOptions central_options;
  central_options.data_dir = day + "/central";
  auto central = store::Open(central::CentralDbUrl(central_options), store::Schema::kCentral);
  ASSERT_OK(central.status());
  // The planted duplicate reached adjudication and stays there.
  store::RecordRepository records(**central, SystemClock::Instance());
  auto counts = records.CountByState();
  ASSERT_OK(counts.status());
  std::map<RecordState, int64_t> by_state(counts->begin(), counts->end());
  EXPECT_EQ(by_state[RecordState::kAdjudication], 1);
  auto van_id = station::OpenStationFiles(day + "/station-4");
  ASSERT_OK(van_id.status());
  EXPECT_EQ(CountRows(**central, "SELECT COUNT(*) FROM records WHERE state = 'adjudication' AND "
                                 "registration_number LIKE '" + van_id->identity.station_id + "-%'"),
            1);
  EXPECT_GE(by_state[RecordState::kActivated], 1);
  EXPECT_EQ(by_state[RecordState::kActivated], 19);

  // Nothing lost: every enrollment of every station is one record at central, and every outbox is acknowledged.
  int64_t enrolled = 0;
  for (int i = 1; i <= 4; ++i) {
    const std::string station_dir = day + "/station-" + std::to_string(i);
    auto files = station::OpenStationFiles(station_dir);
    ASSERT_OK(files.status()) << station_dir;
    const int64_t here = CountRows(*files->db, "SELECT COUNT(*) FROM enrollments");
    EXPECT_EQ(here, 5) << station_dir;
    enrolled += here;
    EXPECT_EQ(CountRows(*files->db, "SELECT COUNT(*) FROM outbox WHERE state <> 'acked'"), 0) << station_dir;
    EXPECT_EQ(CountRows(**central, "SELECT COUNT(*) FROM records WHERE registration_number LIKE '" +
                                       files->identity.station_id + "-%'"),
              here)
        << station_dir;
  }
  EXPECT_EQ(enrolled, 20);
  EXPECT_EQ(CountRows(**central, "SELECT COUNT(*) FROM records"), 20);

  // Cards printed = blanks consumed, at the office and in the spool.
  auto office = station::OpenStationFiles(day + "/station-1");
  ASSERT_OK(office.status());
  station::Station office_station(*office->db, SystemClock::Instance(), office->key, office->identity);
  auto jobs = office_station.PrintJobs();
  ASSERT_OK(jobs.status());
  int64_t printed = 0;
  for (const station::HeldPrintJob& job : *jobs) printed += job.state == station::HeldPrintJobState::kPrinted;
  auto blanks = office_station.Blanks();
  ASSERT_OK(blanks.status());
  EXPECT_EQ(printed, 19);
  EXPECT_EQ(blanks->used, printed);
  EXPECT_EQ(blanks->spoiled, 0);
  EXPECT_EQ(blanks->on_hand, 20 + 10 - printed);
  int64_t spooled = 0;
  for (const auto& entry : std::filesystem::directory_iterator(day + "/print-output")) spooled += entry.is_directory();
  EXPECT_EQ(spooled, printed);

  // The Suket the van issued: central received it, and its public verify route finds it valid.
  auto van = station::OpenStationFiles(day + "/station-4");
  ASSERT_OK(van.status());
  auto sukets = van->db->Query("SELECT serial, token FROM sukets");
  ASSERT_OK(sukets.status());
  ASSERT_EQ(sukets->size(), 1u);
  const std::string serial = (*sukets)[0].Text(0);
  EXPECT_EQ(CountRows(**central, "SELECT COUNT(*) FROM sukets WHERE serial = '" + serial + "'"), 1);
  EXPECT_THAT(out, HasSubstr("Suket " + serial + " issued"));
  const std::string central_log = root + "/central.out";
  const pid_t serving = Spawn("central serve --dir " + day + "/central --port 0", central_log);
  ASSERT_TRUE(WaitForOutput(central_log, "listening on ", 1, 20s)) << ReadFile(central_log);
  std::string url = ReadFile(central_log);
  url = url.substr(url.find("listening on ") + 13);
  url = url.substr(0, url.find('\n'));
  ASSERT_FALSE(url.empty()) << ReadFile(central_log);
  net::HttpClientOptions pinned;
  pinned.pinned_cert_pem = ReadFile(day + "/central/tls-cert.pem");
  auto client = net::HttpClient::Create(url, pinned);
  ASSERT_OK(client.status());
  auto verified = (*client)->Post("/api/v1/suket/verify", nlohmann::json{{"token", (*sukets)[0].Text(1)}}.dump(),
                                  "application/json");
  kill(serving, SIGTERM);
  EXPECT_EQ(WaitExit(serving, 30s), 0);
  ASSERT_OK(verified.status());
  EXPECT_EQ(verified->status, 200) << verified->body;
  EXPECT_EQ(nlohmann::json::parse(verified->body).value("outcome", ""), "valid") << verified->body;
  std::filesystem::remove_all(root);
}

TEST(DemoTest, CtrlCInTheMiddleOfTheDayStopsEveryProcess) {
  const DemoRun run("interrupt", "--residents 40");
  const auto& [root, day, log, demo] = std::tie(run.root, run.day, run.log, run.pid);
  // Interrupt once both links are down: every server runs and enrollments are under way.
  ASSERT_TRUE(WaitForOutput(log, "link to central DOWN", 2, 120s)) << ReadFile(log);
  kill(demo, SIGINT);
  EXPECT_EQ(WaitExit(demo, 120s), 1) << ReadFile(log);
  const std::string out = ReadFile(log);
  EXPECT_THAT(out, HasSubstr("stopped by signal; stopped "));
  EXPECT_THAT(out, HasSubstr("the day was stopped by a signal before it ended"));
  EXPECT_THAT(out, Not(HasSubstr("not cleanly")));
  EXPECT_THAT(SurvivingChildren(day), ::testing::IsEmpty());
  std::filesystem::remove_all(root);
}

TEST(DemoTest, CtrlCAfterTheDayStopsEveryProcessCleanly) {
  const DemoRun run("serving", "--residents 8");
  const auto& [root, day, log, demo] = std::tie(run.root, run.day, run.log, run.pid);
  ASSERT_TRUE(WaitForOutput(log, "running; Ctrl-C stops every process", 1, 300s)) << ReadFile(log);
  EXPECT_THAT(SurvivingChildren(day), ::testing::SizeIs(7));
  kill(demo, SIGINT);
  EXPECT_EQ(WaitExit(demo, 120s), 0) << ReadFile(log);
  EXPECT_THAT(ReadFile(log), HasSubstr("stopped by signal; stopped 7 processes\n"));
  EXPECT_THAT(SurvivingChildren(day), ::testing::IsEmpty());
  std::filesystem::remove_all(root);
}

TEST(DemoTest, UnknownRegencyIsRefusedBeforeAnythingStarts) {
  const std::string root = TempDir("regency");
  const std::string log = root + "/demo.out";
  const std::pair<const char*, const char*> kRefused[] = {{"99.99", "regency 99.99 does not exist"},
                                                          {"35.21.01", "--regency 35.21.01 is Sine, not a regency"}};
  for (const auto& [code, error] : kRefused) {
    const pid_t demo = Spawn(std::string("demo --dir ") + root + "/day --regency " + code, log);
    EXPECT_EQ(WaitExit(demo, 30s), 1);
    EXPECT_THAT(ReadFile(log), HasSubstr(error));
  }
  EXPECT_FALSE(std::filesystem::exists(root + "/day"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ektp::cli
