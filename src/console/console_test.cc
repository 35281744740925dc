#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "console/assets.h"
#include "console/reference_data.h"
#include "net/http_client.h"
#include "net/http_server.h"

namespace ektp::console {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<net::HttpServer>(net::HttpServerOptions{});
    AddConsoleRoutes(*server_, "/station.html");
    server_->Handle("GET", "/api/v1/regions", RegionRoute);
    server_->Handle("GET", "/api/v1/regions/:code", RegionRoute);
    server_->Handle("POST", "/api/v1/nik/decode", [](const net::HttpRequest& request) {
      return DecodeNikRoute(request, std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::December,
                                                                 std::chrono::day{6}});
    });
    ASSERT_TRUE(server_->Start().ok());
    auto client = net::HttpClient::Create(server_->base_url(), {});
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }

  nlohmann::json Json(const net::HttpResponse& response) { return nlohmann::json::parse(response.body); }

  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(ConsoleServerTest, TheStationPageIsServedAtTheRootWithItsOwnOriginOnly) {
  auto response = client_->Get("/");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->content_type, StartsWith("text/html"));
  EXPECT_THAT(response->body, HasSubstr("<html lang=\"id\""));
  EXPECT_THAT(response->header("content-security-policy"), HasSubstr("default-src 'self'"));
  EXPECT_EQ(response->header("cache-control"), "no-cache");
  const std::string etag = response->header("etag");
  ASSERT_FALSE(etag.empty());

  auto again = client_->Get("/", {{"if-none-match", etag}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
}

TEST_F(ConsoleServerTest, EveryScriptThePageNamesIsServedAndCachedForAYear) {
  int scripts = 0;
  for (const WebAsset& asset : EmbeddedWebAssets()) {
    if (!asset.path.starts_with("/assets/") || !asset.path.ends_with(".js")) continue;
    ++scripts;
    auto response = client_->Get(asset.path);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200) << asset.path;
    EXPECT_EQ(response->body.size(), asset.body.size()) << asset.path;
    EXPECT_THAT(response->header("cache-control"), HasSubstr("immutable"));
  }
  EXPECT_GE(scripts, 1);
  auto missing = client_->Get("/assets/nothing-here.js");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ConsoleServerTest, RegionsListChildrenWithTheChainAbove) {
  auto provinces = client_->Get("/api/v1/regions");
  ASSERT_TRUE(provinces.ok());
  EXPECT_EQ(Json(*provinces)["children"].size(), 38u);

  auto kecamatan = client_->Get("/api/v1/regions/35.21.01");
  ASSERT_TRUE(kecamatan.ok());
  ASSERT_EQ(kecamatan->status, 200) << kecamatan->body;
  nlohmann::json json = Json(*kecamatan);
  EXPECT_EQ(json["level"], "kecamatan");
  ASSERT_EQ(json["chain"].size(), 3u);
  EXPECT_EQ(json["chain"][0]["code"], "35");
  EXPECT_EQ(json["chain"][1]["code"], "35.21");
  EXPECT_FALSE(json["children"].empty());
  EXPECT_EQ(json["children"][0]["level"], "village");
  EXPECT_THAT(json["children"][0]["code"].get<std::string>(), StartsWith("35.21.01."));
}

TEST_F(ConsoleServerTest, AnUnknownOrMalformedRegionIsRefusedByName) {
  auto unknown = client_->Get("/api/v1/regions/35.21.99");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(Json(*unknown)["error"].get<std::string>(), HasSubstr("region 35.21.99 does not exist"));
  EXPECT_THAT(Json(*unknown)["pesan"].get<std::string>(), HasSubstr("tidak ada"));

  auto malformed = client_->Get("/api/v1/regions/ngawi");
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 400);
}

TEST_F(ConsoleServerTest, ANikDecodesToItsKecamatanBirthDateAndSex) {
  auto response = client_->Post("/api/v1/nik/decode", R"({"nik":"3521015708990001"})", "application/json");
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200) << response->body;
  nlohmann::json json = Json(*response);
  EXPECT_EQ(json["birth_date"], "1999-08-17");
  EXPECT_EQ(json["sex"], "female");
  ASSERT_EQ(json["chain"].size(), 3u);
  EXPECT_EQ(json["chain"][2]["code"], "35.21.01");
}

TEST_F(ConsoleServerTest, ABadNikIsRefusedNamingThePart) {
  auto response = client_->Post("/api/v1/nik/decode", R"({"nik":"3521993208990001"})", "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(Json(*response)["error"].get<std::string>(), HasSubstr("35.21.99"));
  EXPECT_THAT(Json(*response)["pesan"].get<std::string>(), HasSubstr("NIK tidak sah"));

  auto no_nik = client_->Post("/api/v1/nik/decode", R"({"NIK":"1"})", "application/json");
  ASSERT_TRUE(no_nik.ok());
  EXPECT_EQ(no_nik->status, 400);
}

}  // namespace
}  // namespace ektp::console
