#include "charts/charts.h"

#include <plplot.h>

#include <algorithm>
#include <cstdio>

namespace ektp::charts {
namespace {

constexpr PLINT kWhite = 0, kBlack = 1;
constexpr PLINT kSolid = 1, kDashed = 3;  // PLplot's line styles

// The y a log panel draws for `y`: log10, at least log10(y_min).
double LogY(double y, double y_min) { return std::log10(std::max(y, y_min)); }

// One panel on the next subpage; `colours[k]` is series k's cmap0 entry.
void DrawPanel(const Panel& panel, const std::vector<PLINT>& colours) {
  double x_min = 0, x_max = 1, y_max = panel.log_y ? panel.y_min : 1;
  bool any = false;
  for (const Series& s : panel.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!any) x_min = x_max = s.x[i];
      any = true;
      x_min = std::min(x_min, s.x[i]);
      x_max = std::max(x_max, s.x[i]);
      y_max = std::max(y_max, s.y[i]);
    }
  }
  if (!std::isnan(panel.x_min)) x_min = panel.x_min;
  if (!std::isnan(panel.x_max)) x_max = panel.x_max;
  if (x_max <= x_min) x_max = x_min + 1;
  // Headroom above the data for the legend, in the axis's own units.
  const double legend_rows = 1.15 + 0.07 * static_cast<double>(panel.series.size());
  const double y_low = panel.log_y ? std::log10(panel.y_min) : 0;
  const double y_high = panel.log_y ? std::log10(y_max) + (std::log10(y_max) - y_low) * (legend_rows - 1)
                                    : y_max * legend_rows;

  pladv(0);
  plvpor(0.1, 0.96, 0.12, 0.9);
  plwind(x_min, x_max, y_low, y_high > y_low ? y_high : y_low + 1);
  plcol0(kBlack);
  plwidth(1);
  plbox("bcnst", 0, 0, panel.log_y ? "bcnstvl" : "bcnstv", 0, 0);
  pllab(panel.x_label.c_str(), panel.y_label.c_str(), panel.title.c_str());

  std::vector<PLINT> opts, styles, text_colours;
  std::vector<PLFLT> widths;
  std::vector<const char*> labels;
  for (size_t k = 0; k < panel.series.size(); ++k) {
    const Series& s = panel.series[k];
    const PLINT style = s.dashed ? kDashed : kSolid;
    plcol0(colours[k]);
    pllsty(style);
    plwidth(2);
    std::vector<double> y = s.y;
    if (panel.log_y) {
      for (double& v : y) v = LogY(v, panel.y_min);
    }
    if (!s.x.empty()) plline(static_cast<PLINT>(s.x.size()), s.x.data(), y.data());
    opts.push_back(PL_LEGEND_LINE);
    styles.push_back(style);
    text_colours.push_back(kBlack);
    widths.push_back(2);
    labels.push_back(s.label.c_str());
  }
  pllsty(kSolid);
  PLFLT legend_width, legend_height;
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, kWhite, kBlack, 1, 0, 0,
           static_cast<PLINT>(labels.size()), opts.data(), 1.0, 0.8, 1.8, 0.0, text_colours.data(), labels.data(),
           nullptr, nullptr, nullptr, nullptr, const_cast<PLINT*>(colours.data()), styles.data(), widths.data(),
           nullptr, nullptr, nullptr, nullptr);
}

}  // namespace

Status WriteSvg(const std::vector<Panel>& panels, const std::filesystem::path& path, int panel_width, int height) {
  if (panels.empty()) return InvalidArgument("a chart needs at least one panel");
  size_t total_series = 0;
  for (const Panel& p : panels) {
    if (p.log_y && !(p.y_min > 0)) return InvalidArgument("a log-scale panel needs y_min > 0: " + p.title);
    for (const Series& s : p.series) {
      if (s.x.size() != s.y.size()) return InvalidArgument("series '" + s.label + "' has unequal x and y");
    }
    total_series += p.series.size();
  }
  // PLplot exits the process on errors it cannot report, so the file is
  // opened here and handed over (plsfile; PLplot closes it).
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Unavailable("cannot create " + path.string());

  plsdev("svg");
  plsfile(file);
  plspage(0, 0, panel_width * static_cast<PLINT>(panels.size()), height, 0, 0);
  plscmap0n(static_cast<PLINT>(2 + total_series));
  plscol0(kWhite, 255, 255, 255);
  plscol0(kBlack, 0, 0, 0);
  plssub(static_cast<PLINT>(panels.size()), 1);
  plinit();
  PLINT next = 2;
  for (const Panel& panel : panels) {
    std::vector<PLINT> colours;
    for (const Series& s : panel.series) {
      plscol0(next, s.colour.r, s.colour.g, s.colour.b);
      colours.push_back(next++);
    }
    DrawPanel(panel, colours);
  }
  plend();
  return Status::Ok();
}

}  // namespace ektp::charts
