// Line charts written as SVG by PLplot (libplplot-dev, its svg device): one
// or more panels side by side in one file, each with its own axes and
// legend. Used by `ektp sim` and `ektp bio synth-calibrate --plot`.
//
// Thread-safety: PLplot's state is global, so one thread at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace ektp::charts {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

struct Series {
  std::string label;
  std::vector<double> x, y;  // the same length
  Rgb colour;
  bool dashed = false;
};

struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  double x_min = NAN, x_max = NAN;  // NAN: from the data
  // A log10 y axis from `y_min` (> 0) to the data's maximum; values at or
  // below y_min are drawn at y_min. Otherwise linear from 0.
  bool log_y = false;
  double y_min = NAN;
};

// Draws `panels` left to right into `path`, each `panel_width` x `height`
// pixels. kInvalidArgument for no panels or a log panel without y_min > 0;
// kUnavailable if the file cannot be created.
Status WriteSvg(const std::vector<Panel>& panels, const std::filesystem::path& path, int panel_width = 800,
                int height = 480);

}  // namespace ektp::charts
