#include "sim/report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <algorithm>
#include <functional>
#include <sstream>

namespace ektp::sim {
namespace {

constexpr double kPercentiles[] = {10, 25, 50, 90};

std::string Days(double days) {
  if (!std::isfinite(days)) return "no card";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", days);
  return text;
}

struct Row {
  std::string metric;
  std::function<std::string(const ModeResult&)> value;
};

std::string Int(int64_t n) { return std::to_string(n); }

std::vector<Row> Rows() {
  std::vector<Row> rows = {
      {"residents needing a card", [](const ModeResult& m) { return Int(m.last().arrived); }},
      {"recorded", [](const ModeResult& m) { return Int(m.last().arrived - m.last().not_recorded); }},
      {"visits turned away", [](const ModeResult& m) { return Int(m.sent_home); }},
      {"cards printed", [](const ModeResult& m) { return Int(m.cards_printed); }},
      {"cards collected", [](const ModeResult& m) { return Int(m.last().carded); }},
      {"waiting for a card at the end", [](const ModeResult& m) { return Int(m.last().waiting()); }},
      {"  not yet recorded", [](const ModeResult& m) { return Int(m.last().not_recorded); }},
      {"  recorded, not yet at central", [](const ModeResult& m) { return Int(m.last().unsynced); }},
      {"  at central, not yet print-ready", [](const ModeResult& m) { return Int(m.last().processing); }},
      {"  print-ready, not printed", [](const ModeResult& m) { return Int(m.last().print_ready); }},
      {"  printed, not collected", [](const ModeResult& m) { return Int(m.last().printed); }},
      {"held up with blanks on hand", [](const ModeResult& m) { return Int(m.held_up); }},
      {"blanks shipped", [](const ModeResult& m) { return Int(m.last().blanks_shipped); }},
      {"blanks used", [](const ModeResult& m) { return Int(m.last().blanks_used); }},
      {"  spoiled", [](const ModeResult& m) { return Int(m.last().blanks_spoiled); }},
      {"blanks on hand at the end", [](const ModeResult& m) { return Int(m.last().blanks_on_hand); }},
  };
  rows.push_back({"share with a card at the end", [](const ModeResult& m) {
                    char text[16];
                    std::snprintf(text, sizeof text, "%.1f%%", 100.0 * m.last().carded / std::max<int64_t>(1, m.last().arrived));
                    return std::string(text);
                  }});
  for (double p : kPercentiles) {
    rows.push_back({"days to card, p" + std::to_string(static_cast<int>(p)),
                    [p](const ModeResult& m) { return Days(Percentile(m, p)); }});
  }
  rows.push_back({"Sukets issued", [](const ModeResult& m) { return Int(m.suket_issued); }});
  rows.push_back({"Suket holders at the end", [](const ModeResult& m) { return Int(m.last().suket_holders); }});
  rows.push_back({"blanks short at the end", [](const ModeResult& m) { return Int(m.shortfall); }});
  rows.push_back({"resupply alert on day", [](const ModeResult& m) {
                    return m.resupply_day < 0 ? std::string("never") : Int(m.resupply_day);
                  }});
  return rows;
}

std::string Pad(const std::string& text, size_t width, bool right) {
  if (text.size() >= width) return text;
  std::string pad(width - text.size(), ' ');
  return right ? pad + text : text + pad;
}

// A CSV field: quoted when it holds a comma or a quote.
std::string Field(const std::string& text) {
  if (text.find_first_of(",\"") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Unavailable("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

std::string SummaryTable(const Result& r) {
  const Scenario& s = r.scenario;
  std::ostringstream out;
  out << "scenario " << s.name << ": " << r.regency_name << " (" << s.regency << "), population " << r.population
      << ", " << s.days << " days, seed " << s.seed << "\n";
  out << "print-ready backlog at day 0 " << r.backlog << ", blanks need at day 0 " << r.need << " (backlog + "
      << s.lead_days << " days of arrivals), blanks shipped " << r.online.last().blanks_shipped << "\n\n";
  const size_t w0 = 36, w = 14;
  out << Pad("", w0, false) << Pad(std::string(ModeName(Mode::kOnlineOnly)), w, true)
      << Pad(std::string(ModeName(Mode::kOfflineFirst)), w, true) << "\n";
  for (const Row& row : Rows()) {
    out << Pad(row.metric, w0, false) << Pad(row.value(r.online), w, true) << Pad(row.value(r.offline), w, true)
        << "\n";
  }
  return out.str();
}

StatusOr<std::vector<std::filesystem::path>> WriteCsv(const Result& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> written;

  std::ostringstream summary;
  summary << "metric," << ModeName(Mode::kOnlineOnly) << "," << ModeName(Mode::kOfflineFirst) << "\n";
  for (const Row& row : Rows()) {
    // Leading spaces mark sub-rows in the table; CSV names stand alone.
    std::string metric = row.metric.substr(row.metric.find_first_not_of(' '));
    summary << Field(metric) << "," << row.value(r.online) << "," << row.value(r.offline) << "\n";
  }
  written.push_back(dir / "summary.csv");
  if (Status st = WriteFile(written.back(), summary.str()); !st.ok()) return st;

  std::ostringstream days;
  days << "mode,day,arrived,not_recorded,unsynced,processing,print_ready,printed,carded,waiting,"
          "blanks_shipped,blanks_used,blanks_spoiled,blanks_on_hand,suket_holders\n";
  for (const ModeResult* m : {&r.online, &r.offline}) {
    for (const Day& d : m->days) {
      days << ModeName(m->mode) << "," << d.day << "," << d.arrived << "," << d.not_recorded << "," << d.unsynced
           << "," << d.processing << "," << d.print_ready << "," << d.printed << "," << d.carded << ","
           << d.waiting() << "," << d.blanks_shipped << "," << d.blanks_used << "," << d.blanks_spoiled << ","
           << d.blanks_on_hand << "," << d.suket_holders << "\n";
    }
  }
  written.push_back(dir / "days.csv");
  if (Status st = WriteFile(written.back(), days.str()); !st.ok()) return st;

  std::ostringstream waits;
  waits << "mode,percentile,days_to_card\n";
  for (const ModeResult* m : {&r.online, &r.offline}) {
    for (int p = 1; p <= 99; ++p) {
      double value = Percentile(*m, p);
      waits << ModeName(m->mode) << "," << p << ",";
      if (std::isfinite(value)) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", value);
        waits << text;
      }
      waits << "\n";
    }
  }
  written.push_back(dir / "waits.csv");
  if (Status st = WriteFile(written.back(), waits.str()); !st.ok()) return st;
  return written;
}

}  // namespace ektp::sim
