// GET /metrics of a real station and a real central, scraped after known
// actions (docs/operations.md, "Metrics").
#include <chrono>
#include <optional>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/version.h"
#include "net/http_client.h"
#include "service/log.h"
#include "service/process_metrics.h"
#include "station/station_test_fixture.h"

namespace ektp::station {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of `series` (a name with its labels exactly as exposed, e.g.
// `ektp_station_outbox_packets{state="pending"}`) in Prometheus text; nullopt if absent.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string Scrape(const std::string& base_url, const std::string& pinned_cert_pem = "") {
  net::HttpClientOptions options;
  options.pinned_cert_pem = pinned_cert_pem;
  auto client = net::HttpClient::Create(base_url, options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return "";
  auto answer = (*client)->Get("/metrics");
  EXPECT_TRUE(answer.ok() && answer->status == 200);
  return answer.ok() ? answer->body : "";
}

class MetricsTest : public StationTest {
 protected:
  std::string ScrapeCentral() {
    std::ifstream in(dir_ + "/central/tls-cert.pem");
    return Scrape(central_->base_url(), std::string(std::istreambuf_iterator<char>(in), {}));
  }
  double Seconds() const { return static_cast<double>(UnixSeconds(clock_.Now())); }
};

TEST_F(MetricsTest, StationOutboxLastSyncAndBlanksAfterEnrollingAndSyncing) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  clock_.Advance(std::chrono::seconds(90));

  std::string before = Scrape((*server)->base_url());
  EXPECT_EQ(Sample(before, "ektp_station_outbox_packets{state=\"pending\"}"), 2);
  EXPECT_EQ(Sample(before, "ektp_station_outbox_packets{state=\"parked\"}"), 0);
  EXPECT_EQ(Sample(before, "ektp_station_outbox_oldest_pending_age_seconds"), 90);
  EXPECT_EQ(Sample(before, "ektp_station_last_sync_timestamp_seconds"), std::nullopt);  // never synced
  EXPECT_EQ(Sample(before, "ektp_station_blanks{state=\"on_hand\"}"), 0);
  EXPECT_EQ(Sample(before, "ektp_metrics_collect_success"), 1);

  ASSERT_OK(sync_->SyncOnce());
  const double synced_at = Seconds();
  clock_.Advance(std::chrono::seconds(5));
  std::string after = Scrape((*server)->base_url());
  EXPECT_EQ(Sample(after, "ektp_station_outbox_packets{state=\"pending\"}"), 0);
  EXPECT_EQ(Sample(after, "ektp_station_outbox_oldest_pending_age_seconds"), 0);
  EXPECT_EQ(Sample(after, "ektp_station_last_sync_timestamp_seconds"), synced_at);
  EXPECT_EQ(Sample(after, "ektp_build_info{commit=\"" + service::BuildCommit() + "\",version=\"" +
                              std::string(kVersion) + "\"}"),
            1);
  EXPECT_GT(Sample(after, "process_open_fds").value_or(0), 0);
  EXPECT_GT(Sample(after, "process_resident_memory_bytes").value_or(0), 0);

  // A restart keeps the last sync: the station's server and a new sync client read it back.
  server->reset();
  sync_ = std::make_unique<SyncClient>(*station_, clock_, random_, *key_, SyncOptions{});
  EXPECT_EQ(sync_->status().last_success, FormatTimestamp(std::chrono::sys_seconds(std::chrono::seconds(
                                              static_cast<int64_t>(synced_at)))));
  auto restarted = StartOperatorServer();
  ASSERT_OK(restarted.status());
  EXPECT_EQ(Sample(Scrape((*restarted)->base_url()), "ektp_station_last_sync_timestamp_seconds"), synced_at);
}

TEST_F(MetricsTest, CentralRecordsQueuesStationsAndIngestAfterASync) {
  const std::string ingested = "ektp_central_ingested_total{kind=\"enrollment\"}";
  const double ingested_before = Sample(ScrapeCentral(), ingested).value_or(0);
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(sync_->SyncOnce());
  const double synced_at = Seconds();
  clock_.Advance(std::chrono::seconds(30));

  const std::string text = ScrapeCentral();
  const std::string station = "{station=\"" + identity_.station_id + "\"}";
  EXPECT_EQ(Sample(text, "ektp_central_records{state=\"validated\"}"), 2);  // this central runs no pipeline
  EXPECT_EQ(Sample(text, "ektp_central_records{state=\"print_ready\"}"), 0);
  EXPECT_EQ(Sample(text, "ektp_pipeline_queue_depth{stage=\"demographics\"}"), 2);
  EXPECT_EQ(Sample(text, "ektp_pipeline_queue_depth{stage=\"dedupe\"}"), 0);
  EXPECT_EQ(Sample(text, "ektp_pipeline_dead_jobs{stage=\"demographics\"}"), 0);
  EXPECT_EQ(Sample(text, "ektp_central_adjudication_backlog"), 0);
  EXPECT_EQ(Sample(text, "ektp_central_station_last_sync_timestamp_seconds" + station), synced_at);
  EXPECT_EQ(Sample(text, "ektp_central_station_sync_lag_seconds" + station), 30);
  EXPECT_EQ(Sample(text, ingested).value_or(0) - ingested_before, 2);
  EXPECT_EQ(Sample(text, "ektp_metrics_collect_success"), 1);
  EXPECT_EQ(Sample(text, "ektp_build_info{commit=\"" + service::BuildCommit() + "\",version=\"" +
                             std::string(kVersion) + "\"}"),
            1);
}

TEST_F(MetricsTest, CentralDedupeLatencyIsValidationToDecisionInMilliseconds) {
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(station_->Enroll(ani_, Request()).status());
  ASSERT_OK(sync_->SyncOnce());  // validated now, by a central without a pipeline
  // Both outcomes of the dedupe stage (these synthetic prints may match each other).
  auto total = [](const std::string& text, const std::string& part) {
    double value = 0;
    for (const char* outcome : {"print_ready", "adjudication"}) {
      value += Sample(text, "ektp_pipeline_dedupe_latency_milliseconds_" + part + "{outcome=\"" + outcome + "\"}")
                   .value_or(0);
    }
    return value;
  };
  const std::string before = ScrapeCentral();
  clock_.Advance(std::chrono::milliseconds(1500));
  service::CapturedLogs logs;
  RestartCentral(/*run_pipeline=*/true);  // decides both at validation + 1.5 s

  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = ScrapeCentral();
  } while (total(text, "count") - total(before, "count") < 2 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(total(text, "count") - total(before, "count"), 2);
  EXPECT_EQ(total(text, "sum") - total(before, "sum"), 3000);
  const int64_t print_ready = CentralCount("SELECT COUNT(*) FROM records WHERE state = 'print_ready'");
  const int64_t adjudication = CentralCount("SELECT COUNT(*) FROM records WHERE state = 'adjudication'");
  EXPECT_EQ(print_ready + adjudication, 2);
  EXPECT_EQ(Sample(text, "ektp_central_records{state=\"print_ready\"}"), print_ready);
  EXPECT_EQ(Sample(text, "ektp_central_records{state=\"adjudication\"}"), adjudication);
  EXPECT_EQ(Sample(text, "ektp_central_adjudication_backlog"), adjudication);
  EXPECT_EQ(Sample(text, "ektp_pipeline_queue_depth{stage=\"dedupe\"}"), 0);
  EXPECT_EQ(Sample(text, "ektp_central_gallery_subjects"), print_ready);

  // The outcomes are logged by record id and registration number, never by NIK.
  int decided = 0, assigned = 0;
  for (const std::string& line : logs.lines()) {
    auto json = nlohmann::json::parse(line);
    if (json["event"] == "pipeline.decided" && json["stage"] == "dedupe") {
      ++decided;
      EXPECT_EQ(json["latency_ms"], 1500);
      EXPECT_TRUE(json["registration_number"].is_string());
    }
    assigned += json["event"] == "pipeline.nik_assigned";
  }
  EXPECT_EQ(decided, 2);
  EXPECT_EQ(assigned, print_ready);
  auto niks = central_db_->Query("SELECT holder_nik FROM records");
  ASSERT_GT(print_ready, 0);
  ASSERT_OK(niks.status());
  for (const store::Row& row : *niks) {
    if (row.IsNull(0)) continue;
    for (const std::string& line : logs.lines()) EXPECT_THAT(line, Not(HasSubstr(row.Text(0))));
  }
}

TEST_F(MetricsTest, AFailedLoginIsItsOwnEventAndCounted) {
  auto server = StartOperatorServer();
  ASSERT_OK(server.status());
  const std::string failures = "ektp_login_failures_total";
  const double before = Sample(Scrape((*server)->base_url()), failures).value_or(0);
  service::CapturedLogs logs;
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  auto wrong = (*client)->Post("/api/v1/login", R"({"username":"ani","password":"salah-sandi-9"})", "application/json");
  auto unknown = (*client)->Post("/api/v1/login", R"({"username":"kata-sandi-1","password":"x"})", "application/json");
  ASSERT_OK(wrong.status());
  ASSERT_OK(unknown.status());
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(unknown->status, 401);

  std::vector<nlohmann::json> events;
  for (const std::string& line : logs.lines()) {
    EXPECT_THAT(line, Not(HasSubstr("salah-sandi-9")));
    EXPECT_THAT(line, Not(HasSubstr("kata-sandi-1")));  // a password typed as a username
    auto json = nlohmann::json::parse(line);
    if (json["event"] == "accounts.login_failed") events.push_back(json);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["level"], "warn");
  EXPECT_EQ(events[0]["username"], "ani");
  EXPECT_EQ(events[0]["unknown_username"], false);
  EXPECT_EQ(events[0]["remote"], "127.0.0.1");
  EXPECT_EQ(events[1]["username"], "");
  EXPECT_EQ(events[1]["unknown_username"], true);
  EXPECT_EQ(Sample(Scrape((*server)->base_url()), failures).value_or(0) - before, 2);
}

}  // namespace
}  // namespace ektp::station
