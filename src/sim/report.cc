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
  if (!std::isfinite(days)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", days);
  return text;
}

// One row of the summary: its CSV key, its label in the table (Bahasa
// Indonesia, as the blanks planner's tables), its value per mode ("" when
// there is none: the table then shows `none`, the CSV an empty field).
struct Row {
  std::string key;
  std::string label;
  std::function<std::string(const ModeResult&)> value;
  std::string none = "";
};

std::string Int(int64_t n) { return std::to_string(n); }

std::vector<Row> Rows() {
  std::vector<Row> rows = {
      {"residents", "warga yang perlu KTP-el", [](const ModeResult& m) { return Int(m.last().arrived); }},
      {"recorded", "sudah direkam", [](const ModeResult& m) { return Int(m.last().arrived - m.last().not_recorded); }},
      {"turned_away", "kunjungan ditolak (tanpa jaringan)", [](const ModeResult& m) { return Int(m.sent_home); }},
      {"printed", "KTP-el dicetak", [](const ModeResult& m) { return Int(m.cards_printed); }},
      {"collected", "KTP-el diambil", [](const ModeResult& m) { return Int(m.last().carded); }},
      {"waiting", "masih menunggu di akhir", [](const ModeResult& m) { return Int(m.last().waiting()); }},
      {"not_recorded", "  belum direkam", [](const ModeResult& m) { return Int(m.last().not_recorded); }},
      {"unsynced", "  direkam, belum sampai di pusat", [](const ModeResult& m) { return Int(m.last().unsynced); }},
      {"processing", "  di pusat, belum siap cetak", [](const ModeResult& m) { return Int(m.last().processing); }},
      {"print_ready", "  siap cetak, belum dicetak", [](const ModeResult& m) { return Int(m.last().print_ready); }},
      {"printed_not_collected", "  dicetak, belum diambil", [](const ModeResult& m) { return Int(m.last().printed); }},
      {"held_up", "tertahan padahal blangko ada", [](const ModeResult& m) { return Int(m.held_up); }},
      {"blanks_shipped", "blangko diterima", [](const ModeResult& m) { return Int(m.last().blanks_shipped); }},
      {"blanks_used", "blangko terpakai", [](const ModeResult& m) { return Int(m.last().blanks_used); }},
      {"blanks_spoiled", "  rusak", [](const ModeResult& m) { return Int(m.last().blanks_spoiled); }},
      {"blanks_on_hand", "sisa blangko di akhir", [](const ModeResult& m) { return Int(m.last().blanks_on_hand); }},
      {"share_collected_percent", "persen sudah ber-KTP-el", [](const ModeResult& m) {
         char text[16];
         std::snprintf(text, sizeof text, "%.1f", 100.0 * m.last().carded / std::max<int64_t>(1, m.last().arrived));
         return std::string(text);
       }},
  };
  for (double p : kPercentiles) {
    std::string n = std::to_string(static_cast<int>(p));
    rows.push_back({"days_to_card_p" + n, "hari sampai KTP-el, p" + n,
                    [p](const ModeResult& m) { return Days(Percentile(m, p)); }, "belum"});
  }
  rows.push_back({"suket_issued", "Suket diterbitkan", [](const ModeResult& m) { return Int(m.suket_issued); }});
  rows.push_back({"suket_holders", "pemegang Suket di akhir", [](const ModeResult& m) { return Int(m.last().suket_holders); }});
  rows.push_back({"blanks_short", "kekurangan blangko di akhir", [](const ModeResult& m) { return Int(m.shortfall); }});
  rows.push_back({"resupply_alert_day", "peringatan pasokan pada hari",
                  [](const ModeResult& m) { return m.resupply_day < 0 ? std::string() : Int(m.resupply_day); },
                  "tidak pernah"});
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
  out << "skenario " << s.name << ": " << r.regency_name << " (" << s.regency << "), penduduk " << r.population
      << ", " << s.days << " hari, seed " << s.seed << "\n";
  out << "tunggakan siap cetak hari ke-0 " << r.backlog << ", kebutuhan blangko hari ke-0 " << r.need
      << " (tunggakan + kedatangan " << s.lead_days << " hari)\n\n";
  const size_t w0 = 36, w = 15;
  out << Pad("", w0, false) << Pad(std::string(ModeLabel(Mode::kOnlineOnly)), w, true)
      << Pad(std::string(ModeLabel(Mode::kOfflineFirst)), w, true) << "\n";
  for (const Row& row : Rows()) {
    auto cell = [&](const ModeResult& m) {
      std::string value = row.value(m);
      return Pad(value.empty() ? row.none : value, w, true);
    };
    out << Pad(row.label, w0, false) << cell(r.online) << cell(r.offline) << "\n";
  }
  out << "\nhanya daring: cara kerja sekarang (tanpa jaringan ke pusat, tidak ada perekaman, cetak, pengambilan);\n"
         "luring dulu: ektp (semua selesai di kantor, sinkron saat jaringan ada)\n";
  return out.str();
}

std::vector<std::pair<std::string, std::string>> ScenarioFlags(const Scenario& s) {
  auto number = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", value);
    return std::string(text);
  };
  std::vector<std::pair<std::string, std::string>> flags = {
      {"--regency", s.regency},
      {"--days", std::to_string(s.days)},
      {"--seed", std::to_string(s.seed)},
      {"--cohort-years", number(s.cohort_years)},
      {"--replacement-rate", number(s.replacement_rate)},
      {"--move-rate", number(s.move_rate)},
      {"--backlog", std::to_string(s.backlog)},
      {"--backlog-age-days", std::to_string(s.backlog_age_days)},
      {"--stations", std::to_string(s.stations)},
      {"--open-hour", std::to_string(s.open_hour)},
      {"--close-hour", std::to_string(s.close_hour)},
      {"--open-days", std::to_string(s.open_days)},
      {"--enroll-per-hour", number(s.enroll_per_hour)},
      {"--return-days", number(s.return_days)},
      {"--link-up-hours", number(s.link_up_hours)},
      {"--link-down-hours", number(s.link_down_hours)},
      {"--office-link-up-hours", number(s.office_link_up_hours)},
      {"--office-link-down-hours", number(s.office_link_down_hours)},
  };
  for (const Window& w : s.maintenance) flags.emplace_back("--maintenance", number(w.start_day) + ":" + number(w.days));
  flags.emplace_back("--central-hours", number(s.central_hours));
  for (const Shipment& shipment : s.shipments) {
    flags.emplace_back("--shipment", std::to_string(shipment.day) + ":" + std::to_string(shipment.count));
  }
  flags.insert(flags.end(), {{"--printer-per-hour", number(s.printer_per_hour)},
                             {"--spoil-rate", number(s.spoil_rate)},
                             {"--lead-days", std::to_string(s.lead_days)},
                             {"--pickup-days", number(s.pickup_days)},
                             {"--pickup-per-hour", number(s.pickup_per_hour)},
                             {"--suket-after-days", number(s.suket_after_days)}});
  return flags;
}

StatusOr<std::vector<std::filesystem::path>> WriteCsv(const Result& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> written;

  std::ostringstream knobs;
  knobs << "flag,value\n";
  for (const auto& [flag, value] : ScenarioFlags(r.scenario)) knobs << flag << "," << Field(value) << "\n";
  written.push_back(dir / "scenario.csv");
  if (Status st = WriteFile(written.back(), knobs.str()); !st.ok()) return st;

  std::ostringstream summary;
  summary << "metric," << ModeName(Mode::kOnlineOnly) << "," << ModeName(Mode::kOfflineFirst) << "\n";
  for (const Row& row : Rows()) {
    summary << row.key << "," << Field(row.value(r.online)) << "," << Field(row.value(r.offline)) << "\n";
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
