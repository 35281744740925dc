// The charts of report.h, drawn by charts/charts.h.
#include <cmath>
#include <string>
#include <vector>

#include "charts/charts.h"
#include "sim/report.h"

namespace ektp::sim {
namespace {

using charts::Panel;
using charts::Rgb;
using charts::Series;

constexpr Rgb kOnline{214, 96, 39};   // orange
constexpr Rgb kOffline{33, 102, 172};  // blue
constexpr Rgb kGrey{110, 110, 110};
constexpr bool kSolid = false, kDashed = true;

Series ByDay(const ModeResult& m, const std::string& label, Rgb colour, bool dashed, int64_t (*value)(const Day&)) {
  Series s{label, {}, {}, colour, dashed};
  for (const Day& d : m.days) {
    s.x.push_back(d.day + 1);
    s.y.push_back(static_cast<double>(value(d)));
  }
  return s;
}

Rgb ColourOf(Mode mode) { return mode == Mode::kOnlineOnly ? kOnline : kOffline; }

}  // namespace

StatusOr<std::vector<std::filesystem::path>> WriteCharts(const Result& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  const std::string where = r.regency_name + ", " + r.scenario.name + ", seed " + std::to_string(r.scenario.seed);
  std::vector<std::pair<std::string, Panel>> panels;

  // Each curve ends at the share of residents who have a card by the end.
  Panel waits{"Hari sampai KTP-el per persentil: " + where, "persentil warga yang perlu KTP-el", "hari sampai KTP-el", {}, 0, 100};
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
  panels.emplace_back("waits.svg", std::move(waits));

  Panel backlog{"Tunggakan: " + where, "hari", "warga", {}};
  for (const ModeResult* m : {&r.online, &r.offline}) {
    std::string mode(ModeLabel(m->mode));
    backlog.series.push_back(ByDay(*m, mode + ": menunggu KTP-el", ColourOf(m->mode), kSolid,
                                   [](const Day& d) { return d.waiting(); }));
    backlog.series.push_back(ByDay(*m, mode + ": belum direkam", ColourOf(m->mode), kDashed,
                                   [](const Day& d) { return d.not_recorded; }));
  }
  panels.emplace_back("backlog.svg", std::move(backlog));

  Panel blanks{"Blangko: " + where, "hari", "blangko", {}};
  blanks.series.push_back(ByDay(r.online, "diterima", kGrey, kSolid, [](const Day& d) { return d.blanks_shipped; }));
  for (const ModeResult* m : {&r.online, &r.offline}) {
    blanks.series.push_back(ByDay(*m, std::string(ModeLabel(m->mode)) + ": terpakai", ColourOf(m->mode), kSolid,
                                  [](const Day& d) { return d.blanks_used; }));
  }
  panels.emplace_back("blanks.svg", std::move(blanks));

  Panel suket{"Pemegang Suket: " + where, "hari", "warga yang memegang Suket", {}};
  for (const ModeResult* m : {&r.online, &r.offline}) {
    suket.series.push_back(ByDay(*m, std::string(ModeLabel(m->mode)), ColourOf(m->mode), kSolid,
                                 [](const Day& d) { return d.suket_holders; }));
  }
  panels.emplace_back("suket.svg", std::move(suket));

  std::vector<std::filesystem::path> written;
  for (const auto& [name, panel] : panels) {
    written.push_back(dir / name);
    if (Status st = charts::WriteSvg({panel}, written.back()); !st.ok()) return st;
  }
  return written;
}

}  // namespace ektp::sim
