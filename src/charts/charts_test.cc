#include "charts/charts.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::charts {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

// An empty folder for one test under gtest's temporary directory.
std::filesystem::path FreshDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("charts_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// PLplot's svg device writes each character of a text as a reference.
std::string AsReferences(const std::string& text) {
  std::string out;
  char buffer[16];
  for (unsigned char c : text) {
    std::snprintf(buffer, sizeof buffer, "&#x%x;", c);
    out += buffer;
  }
  return out;
}

Panel Linear() {
  return {"Linear", "x", "y", {{"rising", {0, 1, 2}, {0, 5, 9}, {33, 102, 172}, false}}};
}

Panel Logarithmic() {
  Panel p{"Logged", "score", "share", {}};
  p.log_y = true;
  p.y_min = 1e-5;
  p.series.push_back({"genuine", {0, 50, 100}, {0, 0.01, 0.5}, {27, 120, 55}, false});
  p.series.push_back({"impostor", {0, 50, 100}, {0.9, 1e-4, 0}, {178, 24, 43}, true});
  return p;
}

TEST(ChartsTest, PanelsSideBySideAreWrittenWithEverySeriesAndTitle) {
  const std::filesystem::path path = FreshDir("panels") / "two.svg";
  ASSERT_OK(WriteSvg({Linear(), Logarithmic()}, path, 400, 300));
  const std::string svg = Slurp(path);
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_GE(Count(svg, "<polyline"), 3u);  // the three series (and the boxes)
  EXPECT_THAT(svg, HasSubstr(AsReferences("Linear")));
  EXPECT_THAT(svg, HasSubstr(AsReferences("Logged")));
  EXPECT_THAT(svg, HasSubstr(AsReferences("impostor")));
  EXPECT_THAT(svg, HasSubstr("width=\"800")) << "two panels of 400 px";
}

TEST(ChartsTest, BadChartsAreRefusedByName) {
  const std::filesystem::path dir = FreshDir("bad");
  EXPECT_THAT(WriteSvg({}, dir / "none.svg"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("at least one")));
  Panel bad = Logarithmic();
  bad.y_min = 0;
  EXPECT_THAT(WriteSvg({bad}, dir / "log.svg"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("y_min > 0: Logged")));
  Panel uneven = Linear();
  uneven.series[0].y.pop_back();
  EXPECT_THAT(WriteSvg({uneven}, dir / "uneven.svg"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'rising' has unequal x and y")));
  EXPECT_THAT(WriteSvg({Linear()}, dir / "no-such-folder" / "x.svg"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("cannot create")));
}

}  // namespace
}  // namespace ektp::charts
