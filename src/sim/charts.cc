// The charts of report.h, drawn by PLplot (libplplot-dev) on its svg device.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/report.h"

namespace ektp::sim {
namespace {

// cmap0 entries set for every chart.
enum Colour : PLINT { kWhite = 0, kBlack = 1, kOnline = 2, kOffline = 3, kGrey = 4 };
enum Style : PLINT { kSolid = 1, kDashed = 3 };

struct Series {
  std::string label;
  std::vector<double> x, y;
  PLINT colour = kBlack;
  PLINT style = kSolid;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  double x_min = NAN, x_max = NAN;  // NAN: from the data
};

// Draws `chart` into `path`. PLplot exits the process on errors it cannot
// report, so the file is opened here and handed over (plsfile; PLplot closes it).
Status Draw(const Chart& chart, const std::filesystem::path& path) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Unavailable("cannot create " + path.string());

  double x_min = 0, x_max = 1, y_max = 1;
  bool any = false;
  for (const Series& s : chart.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!any) x_min = x_max = s.x[i];
      any = true;
      x_min = std::min(x_min, s.x[i]);
      x_max = std::max(x_max, s.x[i]);
      y_max = std::max(y_max, s.y[i]);
    }
  }
  if (!std::isnan(chart.x_min)) x_min = chart.x_min;
  if (!std::isnan(chart.x_max)) x_max = chart.x_max;
  if (x_max <= x_min) x_max = x_min + 1;

  plsdev("svg");
  plsfile(file);
  plspage(0, 0, 800, 480, 0, 0);
  plscol0(kWhite, 255, 255, 255);
  plscol0(kBlack, 0, 0, 0);
  plscol0(kOnline, 214, 96, 39);    // orange
  plscol0(kOffline, 33, 102, 172);  // blue
  plscol0(kGrey, 110, 110, 110);
  plinit();
  pladv(0);
  plvpor(0.1, 0.96, 0.12, 0.9);
  plwind(x_min, x_max, 0, y_max * (1.15 + 0.07 * chart.series.size()));  // headroom for the legend
  plcol0(kBlack);
  plwidth(1);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  pllab(chart.x_label.c_str(), chart.y_label.c_str(), chart.title.c_str());

  std::vector<PLINT> opts, colours, styles, text_colours;
  std::vector<PLFLT> widths;
  std::vector<const char*> labels;
  for (const Series& s : chart.series) {
    plcol0(s.colour);
    pllsty(s.style);
    plwidth(2);
    if (!s.x.empty()) plline(static_cast<PLINT>(s.x.size()), s.x.data(), s.y.data());
    opts.push_back(PL_LEGEND_LINE);
    colours.push_back(s.colour);
    styles.push_back(s.style);
    text_colours.push_back(kBlack);
    widths.push_back(2);
    labels.push_back(s.label.c_str());
  }
  pllsty(kSolid);
  PLFLT legend_width, legend_height;
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, kWhite, kBlack, 1, 0, 0,
           static_cast<PLINT>(labels.size()), opts.data(), 1.0, 0.8, 1.8, 0.0, text_colours.data(), labels.data(),
           nullptr, nullptr, nullptr, nullptr, colours.data(), styles.data(), widths.data(), nullptr, nullptr,
           nullptr, nullptr);
  plend();
  return Status::Ok();
}

Series ByDay(const ModeResult& m, const std::string& label, PLINT colour, PLINT style,
             int64_t (*value)(const Day&)) {
  Series s{label, {}, {}, colour, style};
  for (const Day& d : m.days) {
    s.x.push_back(d.day + 1);
    s.y.push_back(static_cast<double>(value(d)));
  }
  return s;
}

PLINT ColourOf(Mode mode) { return mode == Mode::kOnlineOnly ? kOnline : kOffline; }

}  // namespace

StatusOr<std::vector<std::filesystem::path>> WriteCharts(const Result& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  const std::string where = r.regency_name + ", " + r.scenario.name + ", seed " + std::to_string(r.scenario.seed);
  std::vector<std::pair<std::string, Chart>> charts;

  // Each curve ends at the share of residents who have a card by the end.
  Chart waits{"Hari sampai KTP-el per persentil: " + where, "persentil warga yang perlu KTP-el", "hari sampai KTP-el", {}, 0, 100};
  for (const ModeResult* m : {&r.online, &r.offline}) {
    Series s{std::string(ModeLabel(m->mode)), {}, {}, ColourOf(m->mode), kSolid};
    for (int p = 1; p <= 99; ++p) {
      double days = Percentile(*m, p);
      if (!std::isfinite(days)) break;  // the rest have no card by the end
      s.x.push_back(p);
      s.y.push_back(days);
    }
    waits.series.push_back(std::move(s));
  }
  charts.emplace_back("waits.svg", std::move(waits));

  Chart backlog{"Tunggakan: " + where, "hari", "warga", {}};
  for (const ModeResult* m : {&r.online, &r.offline}) {
    std::string mode(ModeLabel(m->mode));
    backlog.series.push_back(ByDay(*m, mode + ": menunggu KTP-el", ColourOf(m->mode), kSolid,
                                   [](const Day& d) { return d.waiting(); }));
    backlog.series.push_back(ByDay(*m, mode + ": belum direkam", ColourOf(m->mode), kDashed,
                                   [](const Day& d) { return d.not_recorded; }));
  }
  charts.emplace_back("backlog.svg", std::move(backlog));

  Chart blanks{"Blangko: " + where, "hari", "blangko", {}};
  blanks.series.push_back(ByDay(r.online, "diterima", kGrey, kSolid, [](const Day& d) { return d.blanks_shipped; }));
  for (const ModeResult* m : {&r.online, &r.offline}) {
    blanks.series.push_back(ByDay(*m, std::string(ModeLabel(m->mode)) + ": terpakai", ColourOf(m->mode), kSolid,
                                  [](const Day& d) { return d.blanks_used; }));
  }
  charts.emplace_back("blanks.svg", std::move(blanks));

  Chart suket{"Pemegang Suket: " + where, "hari", "warga yang memegang Suket", {}};
  for (const ModeResult* m : {&r.online, &r.offline}) {
    suket.series.push_back(ByDay(*m, std::string(ModeLabel(m->mode)), ColourOf(m->mode), kSolid,
                                 [](const Day& d) { return d.suket_holders; }));
  }
  charts.emplace_back("suket.svg", std::move(suket));

  std::vector<std::filesystem::path> written;
  for (const auto& [name, chart] : charts) {
    written.push_back(dir / name);
    if (Status st = Draw(chart, written.back()); !st.ok()) return st;
  }
  return written;
}

}  // namespace ektp::sim
