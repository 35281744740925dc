// `ektp central blanks ...`: the movements of blank cards an operator at
// central records (stock-in, ship, hand-over, return), where a serial is, and
// a regency's reconciliation (blanks/ledger.h).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "blanks/json.h"
#include "blanks/ledger.h"
#include "central/print_feed.h"
#include "central/server.h"
#include "cli/commands.h"
#include "cli/data_dirs.h"

namespace ektp::cli {
namespace {

// --first and --last (or --serial) as typed; parsed by ParseRange.
struct RangeFlags {
  std::string first;
  std::string last;
};

void AddRangeOptions(CLI::App& app, RangeFlags& range) {
  app.add_option("--first", range.first, "first serial of the range (up to 10 digits)")->required();
  app.add_option("--last", range.last, "last serial of the range, inclusive")->required();
}

StatusOr<blanks::SerialRange> ParseRange(const RangeFlags& flags) {
  ASSIGN_OR_RETURN(int64_t first, blanks::ParseSerial(flags.first));
  ASSIGN_OR_RETURN(int64_t last, blanks::ParseSerial(flags.last));
  if (first > last) return InvalidArgument("--first " + flags.first + " is after --last " + flags.last);
  return blanks::SerialRange{first, last};
}

enum class MovementKind { kStockIn, kShip, kHandOver, kReturn };

// One central movement: its flags, and the line printed when it is recorded.
struct Movement {
  MovementKind kind;
  const char* name;
  const char* description;
  const char* holder_flag;  // "--regency", "--station" or nullptr
  const char* holder_help;
  const char* done;  // "<n> blangko <range> <done> <holder>"
};

Status Apply(store::Connection& db, const central::CentralOptions& options, MovementKind kind, const std::string& holder,
             blanks::SerialRange range, const std::string& by, const std::string& reference) {
  blanks::BlankLedger ledger(db, SystemClock::Instance());
  switch (kind) {
    case MovementKind::kStockIn: return ledger.StockIn(range, by, reference);
    case MovementKind::kShip: return ledger.Ship(holder, range, by, reference);
    case MovementKind::kHandOver: {
      // The station learns of the hand-over through its feed, signed with central's key.
      ASSIGN_OR_RETURN(central::CentralKeys keys, central::LoadCentralKeys(options.data_dir));
      return central::HandOverBlanks(db, SystemClock::Instance(), keys, holder, range, by, reference);
    }
    case MovementKind::kReturn: return ledger.ReturnToNational(holder, range, by, reference);
  }
  return Internal("unknown movement");
}

StatusOr<std::unique_ptr<store::Connection>> OpenCentral(const central::CentralOptions& options) {
  return store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
}

int RunMovement(const Args& args, const Movement& movement) {
  CLI::App app(movement.description, movement.name);
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  std::string holder, by, reference;
  RangeFlags range_flags;
  if (movement.holder_flag != nullptr) app.add_option(movement.holder_flag, holder, movement.holder_help)->required();
  AddRangeOptions(app, range_flags);
  app.add_option("--by", by, "who records it (audited)")->required();
  app.add_option("--reference", reference, "delivery note or letter number");
  if (auto exit = Parse(app, args)) return *exit;
  auto range = ParseRange(range_flags);
  if (!range.ok()) return Fail(range.status());
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  if (Status status = Apply(**db, options, movement.kind, holder, *range, by, reference); !status.ok()) {
    return Fail(status);
  }
  std::cout << range->size() << " blangko " << blanks::FormatRange(*range) << " " << movement.done
            << (holder.empty() ? "" : " " + holder) << "\n";
  return kExitOk;
}

void PrintRow(const std::string& holder, int64_t sent, int64_t received, int64_t printed,
              const std::array<int64_t, blanks::kSpoilReasons.size()>& spoiled, int64_t returned, int64_t in_transit,
              int64_t on_hand) {
  std::printf("%-16s %9lld %9lld %9lld %11lld %11lld %9lld %13lld %12lld %10lld %9lld\n", holder.c_str(),
              static_cast<long long>(sent), static_cast<long long>(received), static_cast<long long>(printed),
              static_cast<long long>(spoiled[0]), static_cast<long long>(spoiled[1]),
              static_cast<long long>(spoiled[2]), static_cast<long long>(spoiled[3]), static_cast<long long>(returned),
              static_cast<long long>(in_transit), static_cast<long long>(on_hand));
}

void PrintReconciliation(const blanks::RegencyReconciliation& r) {
  std::cout << "Rekonsiliasi blangko " << r.regency_code << " " << r.regency_name << "\n"
            << "Dari pusat: " << r.shipments << " pengiriman, " << r.shipped << " blangko; dikembalikan ke pusat "
            << r.returned_to_national << "\n"
            << "Di tangan: " << r.on_hand.total() << " (gudang kabupaten/kota " << r.on_hand.in_store
            << ", dalam perjalanan ke stasiun " << r.on_hand.in_transit << ", di stasiun " << r.on_hand.at_stations
            << ")\n\n";
  std::printf("%-16s %9s %9s %9s %11s %11s %9s %13s %12s %10s %9s\n", "pemegang", "dikirim", "diterima", "dicetak",
              "salah_cetak", "rusak_kirim", "macet", "tidak_diambil", "dikembalikan", "perjalanan", "di_tangan");
  PrintRow(r.regency_code, r.shipped, r.received, r.printed, r.spoiled, r.returned_to_national, r.on_hand.in_transit,
           r.on_hand.total());
  for (const auto& s : r.stations) {
    PrintRow(s.station_id, s.handed_over, s.received, s.printed, s.spoiled, s.returned, s.in_transit, s.on_hand);
  }
  std::cout << "\n";
  if (r.discrepancies.empty()) {
    std::cout << "Selisih: tidak ada; semua blangko tercatat\n";
    return;
  }
  std::cout << "Selisih:\n";
  for (const auto& d : r.discrepancies) std::cout << "- [" << d.code << "] " << d.pesan << "\n";
}

}  // namespace

int CentralBlanksStockIn(const Args& args) {
  return RunMovement(args, {MovementKind::kStockIn, "central blanks stock-in",
                            "Record a manufacturer's range of blank cards entering national stock", nullptr, nullptr,
                            "masuk stok nasional"});
}

int CentralBlanksShip(const Args& args) {
  return RunMovement(args, {MovementKind::kShip, "central blanks ship",
                            "Ship blanks from national stock to a regency (one instalment)", "--regency",
                            "regency code, e.g. 35.12", "dikirim ke kabupaten/kota"});
}

int CentralBlanksHandOver(const Args& args) {
  return RunMovement(args, {MovementKind::kHandOver, "central blanks hand-over",
                            "Hand blanks from a regency's stock to one of its print stations", "--station",
                            "station id, e.g. ST-351201-01", "diserahkan (menunggu konfirmasi terima) ke stasiun"});
}

int CentralBlanksReturn(const Args& args) {
  return RunMovement(args, {MovementKind::kReturn, "central blanks return",
                            "Return blanks from a regency's stock to national stock", "--regency",
                            "regency code, e.g. 35.12", "dikembalikan ke stok nasional dari"});
}

int CentralBlanksWhere(const Args& args) {
  CLI::App app("Show where one blank serial is", "central blanks where");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  std::string serial_text;
  app.add_option("--serial", serial_text, "the blank's serial")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto serial = blanks::ParseSerial(serial_text);
  if (!serial.ok()) return Fail(serial.status());
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto location = blanks::BlankLedger(**db, SystemClock::Instance()).Locate(*serial);
  if (!location.ok()) return Fail(location.status());
  std::cout << blanks::FormatSerial(*serial) << ": " << location->description
            << (location->since.empty() ? "" : " (sejak " + location->since + ")") << "\n";
  return location->place == "unknown" ? kExitFailure : kExitOk;
}

int CentralBlanksReconcile(const Args& args) {
  CLI::App app("Reconcile a regency's blanks: shipped, received, printed, spoiled, returned, on hand, discrepancies",
               "central blanks reconcile");
  central::CentralOptions options;
  AddDatabaseOptions(app, options);
  std::string regency;
  bool json = false;
  app.add_option("--regency", regency, "regency code, e.g. 35.12")->required();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(options);
  if (!db.ok()) return Fail(db.status());
  auto reconciliation = blanks::BlankLedger(**db, SystemClock::Instance()).Reconcile(regency);
  if (!reconciliation.ok()) return Fail(reconciliation.status());
  if (json) {
    std::cout << blanks::ReconciliationJson(*reconciliation).dump(2) << "\n";
  } else {
    PrintReconciliation(*reconciliation);
  }
  return kExitOk;
}

}  // namespace ektp::cli
