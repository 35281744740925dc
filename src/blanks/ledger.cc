#include "blanks/ledger.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "core/region.h"
#include "store/audit_log.h"

namespace ektp::blanks {

// Where a range of blank_stock lies: place is "national", "regency",
// "in_transit" or "station"; regency and station are "" where they do not apply.
struct BlankLedger::Place {
  std::string place;
  std::string regency;
  std::string station;
};

struct BlankLedger::Station {
  std::string id;
  std::string regency;
  std::string capabilities;  // comma-separated
  std::string status;
};

struct BlankLedger::Event {
  std::string id;
  std::string kind;     // the audit action's suffix: "receive", "consume", ...
  std::string content;  // canonical JSON of what the event says, compared on replay
};

namespace {

constexpr size_t kMaxReference = 200;
constexpr size_t kMaxEventId = 64;
constexpr size_t kListedRanges = 5;  // ranges named in one discrepancy

struct ReasonNames {
  SpoilReason reason;
  std::string_view name;
  std::string_view label;
};
constexpr ReasonNames kReasonNames[] = {
    {SpoilReason::kMisprint, "misprint", "salah cetak"},
    {SpoilReason::kDamagedInTransit, "damaged_in_transit", "rusak dalam pengiriman"},
    {SpoilReason::kPrinterJam, "printer_jam", "printer macet"},
    {SpoilReason::kUncollected, "uncollected", "tidak diambil"},
};

size_t ReasonIndex(std::string_view name) {
  for (size_t i = 0; i < kSpoilReasons.size(); ++i) {
    if (SpoilReasonName(kSpoilReasons[i]) == name) return i;
  }
  return kSpoilReasons.size();
}

Status CheckRange(const SerialRange& range) {
  if (range.first < 1 || range.last > kMaxSerial || range.first > range.last) {
    return InvalidArgument("serial range " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                           " must have 1 <= first <= last <= " + std::to_string(kMaxSerial));
  }
  return Status::Ok();
}

Status CheckRegency(std::string_view code) {
  auto level = LevelOfCode(code);
  if (!level.ok() || *level != RegionLevel::kRegency) {
    return InvalidArgument("'" + std::string(code) + "' is not a regency code like 35.12");
  }
  if (RegionRegistry::Default().Find(code) == nullptr) {
    return InvalidArgument("regency " + std::string(code) + " does not exist");
  }
  return Status::Ok();
}

Status CheckActor(std::string_view actor, std::string_view reference) {
  if (actor.empty()) return InvalidArgument("who moves the blanks must be named");
  if (reference.size() > kMaxReference) {
    return InvalidArgument("the reference is longer than " + std::to_string(kMaxReference) + " characters");
  }
  return Status::Ok();
}

Status CheckEventId(std::string_view id) {
  const bool valid = !id.empty() && id.size() <= kMaxEventId &&
                     std::all_of(id.begin(), id.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '.' || c == '_' || c == ':' || c == '-';
                     });
  if (!valid) return InvalidArgument("a station event id must be 1-64 of A-Z, a-z, 0-9, '.', '_', ':' and '-'");
  return Status::Ok();
}

std::string Describe(const std::string& place, const std::string& regency, const std::string& station) {
  if (place == "national") return "in national stock";
  if (place == "regency") return "in the stock of regency " + regency;
  if (place == "in_transit") return "on its way to station " + station + " (receipt not confirmed)";
  if (place == "station") return "at station " + station;
  return place;
}

// The rows of a table of disjoint ranges keyed by first_serial that overlap
// [first, last]: those starting inside it, and the one starting before it.
std::string OverlapSql(std::string_view columns, std::string_view table) {
  return "SELECT " + std::string(columns) + " FROM " + std::string(table) +
         " WHERE (first_serial >= ? AND first_serial <= ?) OR first_serial = (SELECT MAX(first_serial) FROM " +
         std::string(table) + " WHERE first_serial < ?) ORDER BY first_serial";
}

std::string ListRanges(const std::vector<SerialRange>& ranges) {
  std::string out;
  for (size_t i = 0; i < ranges.size() && i < kListedRanges; ++i) out += (i ? ", " : "") + FormatRange(ranges[i]);
  if (ranges.size() > kListedRanges) out += " and " + std::to_string(ranges.size() - kListedRanges) + " more ranges";
  return out;
}

}  // namespace

std::string FormatSerial(int64_t serial) {
  char text[24];
  std::snprintf(text, sizeof(text), "%010lld", static_cast<long long>(serial));
  return text;
}

StatusOr<int64_t> ParseSerial(std::string_view text) {
  if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("a blank serial is 1-10 digits, not '" + std::string(text.substr(0, 20)) + "'");
  }
  const int64_t serial = std::stoll(std::string(text));
  if (serial < 1) return InvalidArgument("blank serial 0 does not exist; serials start at 1");
  return serial;
}

std::string FormatRange(const SerialRange& range) {
  if (range.first == range.last) return FormatSerial(range.first);
  return FormatSerial(range.first) + "-" + FormatSerial(range.last);
}

std::string_view SpoilReasonName(SpoilReason reason) {
  for (const ReasonNames& r : kReasonNames) {
    if (r.reason == reason) return r.name;
  }
  return "?";
}

std::string_view SpoilReasonLabel(SpoilReason reason) {
  for (const ReasonNames& r : kReasonNames) {
    if (r.reason == reason) return r.label;
  }
  return "?";
}

StatusOr<SpoilReason> ParseSpoilReason(std::string_view name) {
  for (const ReasonNames& r : kReasonNames) {
    if (r.name == name) return r.reason;
  }
  return InvalidArgument("spoilage reason '" + std::string(name.substr(0, 40)) +
                         "' is not one of misprint, damaged_in_transit, printer_jam, uncollected");
}

namespace {

// Takes the ledger's lock for the rest of the transaction (SQLite's
// BEGIN IMMEDIATE already serialises writers).
Status LockLedger(store::Connection& db) {
  if (db.dialect() != store::Dialect::kPostgres) return Status::Ok();
  ASSIGN_OR_RETURN(auto rows, db.Query("SELECT singleton FROM blank_ledger_lock WHERE singleton = 1 FOR UPDATE"));
  if (rows.empty()) return DataLoss("blank_ledger_lock row is missing");
  return Status::Ok();
}

Status Audit(store::Connection& db, const Clock& clock, std::string_view actor, std::string_view kind,
             std::string_view subject, nlohmann::json detail) {
  return store::AuditLog(db, clock).Append(
      {std::string(actor), "blanks." + std::string(kind), std::string(subject), detail.dump()});
}

}  // namespace

StatusOr<BlankLedger::Station> BlankLedger::LoadStation(std::string_view station_id) {
  ASSIGN_OR_RETURN(auto rows,
                   db_.Query("SELECT kecamatan_code, capabilities, status FROM stations WHERE id = ?", {station_id}));
  if (rows.empty()) return NotFound("station " + std::string(station_id.substr(0, 40)) + " is not registered");
  return Station{std::string(station_id), std::string(ParentCode(rows[0].Text(0))), rows[0].Text(1),
                 rows[0].Text(2)};
}

StatusOr<Location> BlankLedger::Locate(int64_t serial) {
  Location location;
  ASSIGN_OR_RETURN(auto used, db_.Query("SELECT kind, regency_code, station_id, record_id, reason, at FROM blank_uses "
                                        "WHERE serial = ?",
                                        {serial}));
  if (!used.empty()) {
    const store::Row& row = used[0];
    location = {row.Text(0), row.Text(1), row.Text(2), row.Int(3), row.Text(4), row.Text(5), ""};
    location.description = "already " + location.place + " at station " + location.station_id;
    if (location.place == "spoiled") location.description += " (" + location.reason + ")";
    if (location.record_id != 0) location.description += " for record " + std::to_string(location.record_id);
    location.description += " on " + location.since;
    return location;
  }
  ASSIGN_OR_RETURN(auto held, db_.Query("SELECT last_serial, place, regency_code, station_id, since FROM blank_stock "
                                        "WHERE first_serial = (SELECT MAX(first_serial) FROM blank_stock "
                                        "WHERE first_serial <= ?)",
                                        {serial}));
  if (!held.empty() && held[0].Int(0) >= serial) {
    const store::Row& row = held[0];
    location = {row.Text(1), row.Text(2), row.Text(3), 0, "", row.Text(4), ""};
    location.description = Describe(location.place, location.regency_code, location.station_id);
    return location;
  }
  location.place = "unknown";
  location.description = "not in the ledger (it never entered national stock)";
  return location;
}

Status BlankLedger::Move(const SerialRange& range, const Place& from, const Place* to) {
  ASSIGN_OR_RETURN(auto rows, db_.Query(OverlapSql("first_serial, last_serial, place, regency_code, station_id, since",
                                                   "blank_stock"),
                                        {range.first, range.last, range.first}));
  auto not_there = [&](int64_t serial) -> Status {
    ASSIGN_OR_RETURN(Location location, Locate(serial));
    return FailedPrecondition("serial " + FormatSerial(serial) + " is " + location.description + ", not " +
                              Describe(from.place, from.regency, from.station));
  };
  std::vector<const store::Row*> overlapping;
  int64_t next = range.first;  // the first serial not yet found at `from`
  for (const store::Row& row : rows) {
    if (row.Int(1) < range.first) continue;
    if (row.Int(0) > next) return not_there(next);
    if (row.Text(2) != from.place || row.Text(3) != from.regency || row.Text(4) != from.station) {
      return not_there(std::max(row.Int(0), range.first));
    }
    overlapping.push_back(&row);
    next = row.Int(1) + 1;
    if (next > range.last) break;
  }
  if (next <= range.last) return not_there(next);

  constexpr std::string_view kInsert =
      "INSERT INTO blank_stock (first_serial, last_serial, place, regency_code, station_id, since) "
      "VALUES (?, ?, ?, ?, ?, ?)";
  for (const store::Row* row : overlapping) {
    RETURN_IF_ERROR(db_.Exec("DELETE FROM blank_stock WHERE first_serial = ?", {row->Int(0)}));
    if (row->Int(0) < range.first) {
      RETURN_IF_ERROR(db_.Exec(kInsert, {row->Int(0), range.first - 1, from.place, from.regency, from.station,
                                         row->Text(5)}));
    }
    if (row->Int(1) > range.last) {
      RETURN_IF_ERROR(db_.Exec(kInsert, {range.last + 1, row->Int(1), from.place, from.regency, from.station,
                                         row->Text(5)}));
    }
  }
  if (to == nullptr) return Status::Ok();
  return db_.Exec(kInsert, {range.first, range.last, to->place, to->regency, to->station,
                            FormatTimestamp(clock_.Now())});
}

Status BlankLedger::RecordMovement(std::string_view kind, const SerialRange& range, std::string_view regency_code,
                                   std::string_view station_id, std::string_view actor, std::string_view reference) {
  return db_.Exec("INSERT INTO blank_movements (kind, first_serial, last_serial, quantity, regency_code, station_id, "
                  "actor, reference, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  {kind, range.first, range.last, range.size(), regency_code, station_id, actor, reference,
                   FormatTimestamp(clock_.Now())});
}

Status BlankLedger::CentralMove(std::string_view kind, const SerialRange& range, const Place& from, const Place& to,
                                std::string_view actor, std::string_view reference, std::string_view context) {
  RETURN_IF_ERROR(CheckRange(range));
  RETURN_IF_ERROR(CheckActor(actor, reference));
  return db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(LockLedger(db_));
    RETURN_IF_ERROR(Move(range, from, &to).WithContext(context));
    const std::string& regency = from.regency.empty() ? to.regency : from.regency;
    const std::string& station = to.station;
    RETURN_IF_ERROR(RecordMovement(kind, range, regency, station, actor, reference));
    return Audit(db_, clock_, actor, kind, "blanks:" + FormatRange(range),
                 {{"quantity", range.size()}, {"regency", regency}, {"station", station}, {"reference", reference}});
  });
}

Status BlankLedger::StockIn(SerialRange range, std::string_view actor, std::string_view reference) {
  RETURN_IF_ERROR(CheckRange(range));
  RETURN_IF_ERROR(CheckActor(actor, reference));
  return db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(LockLedger(db_));
    ASSIGN_OR_RETURN(auto batches, db_.Query(OverlapSql("first_serial, last_serial, entered_at", "blank_batches"),
                                             {range.first, range.last, range.first}));
    for (const store::Row& batch : batches) {
      if (batch.Int(1) < range.first) continue;
      return AlreadyExists("serials " + FormatRange(range) + " overlap range " +
                           FormatRange({batch.Int(0), batch.Int(1)}) + ", which entered national stock on " +
                           batch.Text(2));
    }
    const std::string now = FormatTimestamp(clock_.Now());
    RETURN_IF_ERROR(RecordMovement("stock_in", range, "", "", actor, reference));
    RETURN_IF_ERROR(db_.Exec("INSERT INTO blank_batches (first_serial, last_serial, entered_at) VALUES (?, ?, ?)",
                             {range.first, range.last, now}));
    RETURN_IF_ERROR(db_.Exec("INSERT INTO blank_stock (first_serial, last_serial, place, regency_code, station_id, "
                             "since) VALUES (?, ?, 'national', '', '', ?)",
                             {range.first, range.last, now}));
    return Audit(db_, clock_, actor, "stock_in", "blanks:" + FormatRange(range),
                 {{"quantity", range.size()}, {"reference", reference}});
  });
}

Status BlankLedger::Ship(std::string_view regency_code, SerialRange range, std::string_view actor,
                         std::string_view reference) {
  RETURN_IF_ERROR(CheckRegency(regency_code));
  const std::string regency(regency_code);
  return CentralMove("ship", range, {"national", "", ""}, {"regency", regency, ""}, actor, reference,
                     "cannot ship " + FormatRange(range) + " to regency " + regency);
}

Status BlankLedger::ReturnToNational(std::string_view regency_code, SerialRange range, std::string_view actor,
                                     std::string_view reference) {
  RETURN_IF_ERROR(CheckRegency(regency_code));
  const std::string regency(regency_code);
  return CentralMove("return_to_national", range, {"regency", regency, ""}, {"national", "", ""}, actor, reference,
                     "cannot return " + FormatRange(range) + " from regency " + regency + " to national stock");
}

Status BlankLedger::HandOver(std::string_view station_id, SerialRange range, std::string_view actor,
                             std::string_view reference) {
  return db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(Station station, LoadStation(station_id));
    if (station.status == "revoked") {
      return FailedPrecondition("station " + station.id + " is revoked; blanks cannot be handed over to it");
    }
    if (("," + station.capabilities + ",").find(",print,") == std::string::npos) {
      return FailedPrecondition("station " + station.id + " has no print capability (it has: " +
                                station.capabilities + ")");
    }
    return CentralMove("hand_over", range, {"regency", station.regency, ""},
                       {"in_transit", station.regency, station.id}, actor, reference,
                       "cannot hand over " + FormatRange(range) + " to station " + station.id);
  });
}

StatusOr<Applied> BlankLedger::StationEvent(std::string_view station_id, const Event& event,
                                            const std::function<Status(const Station&)>& apply) {
  RETURN_IF_ERROR(CheckEventId(event.id));
  Applied applied = Applied::kApplied;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    RETURN_IF_ERROR(LockLedger(db_));
    ASSIGN_OR_RETURN(Station station, LoadStation(station_id));
    ASSIGN_OR_RETURN(auto seen, db_.Query("SELECT content FROM blank_station_events WHERE station_id = ? AND "
                                          "event_id = ?",
                                          {station.id, event.id}));
    if (!seen.empty()) {
      if (seen[0].Text(0) != event.content) {
        return InvalidArgument("event " + event.id + " of station " + station.id +
                               " was already applied with other content; a station event id names one event");
      }
      applied = Applied::kDuplicate;
      return Status::Ok();
    }
    applied = Applied::kApplied;
    RETURN_IF_ERROR(apply(station));
    RETURN_IF_ERROR(db_.Exec("INSERT INTO blank_station_events (station_id, event_id, content, applied_at) "
                             "VALUES (?, ?, ?, ?)",
                             {station.id, event.id, event.content, FormatTimestamp(clock_.Now())}));
    // The spoilage note is free text: it stays in blank_uses, out of the append-only chain.
    nlohmann::json detail = nlohmann::json::parse(event.content);
    detail.erase("note");
    detail["event"] = event.id;
    detail["regency"] = station.regency;
    return Audit(db_, clock_, "station:" + station.id, event.kind,
                 "blanks:" + FormatRange({detail["first"].get<int64_t>(), detail["last"].get<int64_t>()}), detail);
  }));
  return applied;
}

namespace {
std::string EventContent(std::string_view kind, const SerialRange& range, nlohmann::json extra = nlohmann::json::object()) {
  extra["kind"] = kind;
  extra["first"] = range.first;
  extra["last"] = range.last;
  return extra.dump();
}
}  // namespace

StatusOr<Applied> BlankLedger::Receive(std::string_view station_id, std::string_view event_id, SerialRange range) {
  RETURN_IF_ERROR(CheckRange(range));
  const Event event{std::string(event_id), "receive", EventContent("receive", range)};
  return StationEvent(station_id, event, [&](const Station& station) -> Status {
    const Place there{"station", station.regency, station.id};
    RETURN_IF_ERROR(Move(range, {"in_transit", station.regency, station.id}, &there)
                        .WithContext("station " + station.id + " cannot confirm receipt of " + FormatRange(range)));
    return RecordMovement("receive", range, station.regency, station.id, "station:" + station.id, event.id);
  });
}

StatusOr<Applied> BlankLedger::ReturnToRegency(std::string_view station_id, std::string_view event_id,
                                               SerialRange range) {
  RETURN_IF_ERROR(CheckRange(range));
  const Event event{std::string(event_id), "return_to_regency", EventContent("return_to_regency", range)};
  return StationEvent(station_id, event, [&](const Station& station) -> Status {
    const Place store{"regency", station.regency, ""};
    RETURN_IF_ERROR(Move(range, {"station", station.regency, station.id}, &store)
                        .WithContext("station " + station.id + " cannot return " + FormatRange(range)));
    return RecordMovement("return_to_regency", range, station.regency, station.id, "station:" + station.id,
                          event.id);
  });
}

StatusOr<Applied> BlankLedger::Consume(std::string_view station_id, std::string_view event_id, int64_t serial,
                                       int64_t record_id) {
  if (record_id < 1) return InvalidArgument("a printed card must name its record");
  return UseSerial(station_id, {std::string(event_id), "consume", ""}, serial, true, record_id, "", "");
}

StatusOr<Applied> BlankLedger::Spoil(std::string_view station_id, std::string_view event_id, int64_t serial,
                                     SpoilReason reason, std::string_view note, int64_t record_id) {
  if (note.size() > kMaxNote) return InvalidArgument("the note is longer than " + std::to_string(kMaxNote) + " characters");
  if (record_id < 0) return InvalidArgument("record id " + std::to_string(record_id) + " is not valid");
  if (reason == SpoilReason::kUncollected) {
    return InvalidArgument("a station does not spoil a blank as uncollected; an uncollected card is returned by its "
                           "collecting station (a card_returned packet)");
  }
  return UseSerial(station_id, {std::string(event_id), "spoil", ""}, serial, false, record_id,
                   SpoilReasonName(reason), note);
}

StatusOr<Applied> BlankLedger::Misprint(std::string_view station_id, std::string_view event_id, int64_t serial,
                                        int64_t record_id, std::string_view note) {
  RETURN_IF_ERROR(CheckRange({serial, serial}));
  if (note.size() > kMaxNote) return InvalidArgument("the note is longer than " + std::to_string(kMaxNote) + " characters");
  const Event event{std::string(event_id), "misprint",
                    EventContent("misprint", {serial, serial}, {{"record", record_id}, {"note", note}})};
  return StationEvent(station_id, event, [&](const Station& station) -> Status {
    const std::string context = "station " + station.id + " cannot report serial " + FormatSerial(serial) +
                                " misprinted";
    ASSIGN_OR_RETURN(auto used, db_.Query("SELECT kind, station_id, COALESCE(record_id, 0) FROM blank_uses "
                                          "WHERE serial = ?",
                                          {serial}));
    if (used.empty() || used[0].Text(0) != "consumed" || used[0].Text(1) != station.id ||
        used[0].Int(2) != record_id) {
      return FailedPrecondition(context + ": it is not the card this station printed for record " +
                                std::to_string(record_id));
    }
    return db_.Exec("UPDATE blank_uses SET kind = 'spoiled', reason = ?, note = ?, at = ? WHERE serial = ?",
                    {SpoilReasonName(SpoilReason::kMisprint), note, FormatTimestamp(clock_.Now()), serial});
  });
}

StatusOr<Applied> BlankLedger::VoidUncollected(std::string_view station_id, std::string_view event_id,
                                               int64_t serial, int64_t record_id) {
  RETURN_IF_ERROR(CheckRange({serial, serial}));
  const Event event{std::string(event_id), "void_uncollected",
                    EventContent("void_uncollected", {serial, serial}, {{"record", record_id}})};
  return StationEvent(station_id, event, [&](const Station& station) -> Status {
    ASSIGN_OR_RETURN(auto used, db_.Query("SELECT kind, COALESCE(record_id, 0) FROM blank_uses WHERE serial = ?",
                                          {serial}));
    if (used.empty() || used[0].Text(0) != "consumed" || used[0].Int(1) != record_id) {
      return FailedPrecondition("station " + station.id + " cannot void serial " + FormatSerial(serial) +
                                " as uncollected: it is not the printed card of record " + std::to_string(record_id));
    }
    return db_.Exec("UPDATE blank_uses SET kind = 'spoiled', reason = ?, at = ? WHERE serial = ?",
                    {SpoilReasonName(SpoilReason::kUncollected), FormatTimestamp(clock_.Now()), serial});
  });
}

StatusOr<Applied> BlankLedger::UseSerial(std::string_view station_id, const Event& use, int64_t serial,
                                         bool consumed, int64_t record_id, std::string_view reason,
                                         std::string_view note) {
  RETURN_IF_ERROR(CheckRange({serial, serial}));
  nlohmann::json extra = {{"record", record_id}};
  if (!consumed) {
    extra["reason"] = reason;
    extra["note"] = note;
  }
  const Event event{use.id, use.kind, EventContent(use.kind, {serial, serial}, extra)};
  return StationEvent(station_id, event, [&](const Station& station) -> Status {
    const std::string context = "station " + station.id + " cannot " + (consumed ? "print on" : "spoil") +
                                " serial " + FormatSerial(serial);
    if (record_id != 0) {
      ASSIGN_OR_RETURN(auto record, db_.Query("SELECT id FROM records WHERE id = ?", {record_id}));
      if (record.empty()) return NotFound(context + ": record " + std::to_string(record_id) + " does not exist");
    }
    if (consumed) {
      ASSIGN_OR_RETURN(auto printed, db_.Query("SELECT serial, station_id, at FROM blank_uses WHERE record_id = ? "
                                               "AND kind = 'consumed'",
                                               {record_id}));
      if (!printed.empty()) {
        return FailedPrecondition(context + ": record " + std::to_string(record_id) + " was already printed on serial " +
                                  FormatSerial(printed[0].Int(0)) + " at station " + printed[0].Text(1) + " on " +
                                  printed[0].Text(2));
      }
    }
    RETURN_IF_ERROR(Move({serial, serial}, {"station", station.regency, station.id}, nullptr).WithContext(context));
    return db_.Exec("INSERT INTO blank_uses (serial, kind, regency_code, station_id, record_id, reason, note, "
                    "event_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {serial, consumed ? "consumed" : "spoiled", station.regency, station.id,
                     record_id == 0 ? store::Value() : store::Value(record_id), reason, note, event.id,
                     FormatTimestamp(clock_.Now())});
  });
}

StatusOr<int64_t> BlankLedger::NationalStock() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT CAST(COALESCE(SUM(last_serial - first_serial + 1), 0) AS BIGINT) "
                                        "FROM blank_stock WHERE place = 'national'"));
  return rows.at(0).Int(0);
}

StatusOr<int64_t> BlankLedger::OnHandAtStation(std::string_view station_id) {
  ASSIGN_OR_RETURN(Station station, LoadStation(station_id));
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT CAST(COALESCE(SUM(last_serial - first_serial + 1), 0) AS BIGINT) "
                                        "FROM blank_stock WHERE place = 'station' AND station_id = ?",
                                        {station.id}));
  return rows.at(0).Int(0);
}

namespace {
void AddToOnHand(OnHand& on_hand, const std::string& place, int64_t quantity) {
  if (place == "regency") on_hand.in_store += quantity;
  if (place == "in_transit") on_hand.in_transit += quantity;
  if (place == "station") on_hand.at_stations += quantity;
}
}  // namespace

StatusOr<OnHand> BlankLedger::OnHandInRegency(std::string_view regency_code) {
  RETURN_IF_ERROR(CheckRegency(regency_code));
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT place, CAST(SUM(last_serial - first_serial + 1) AS BIGINT) "
                                        "FROM blank_stock WHERE regency_code = ? GROUP BY place",
                                        {regency_code}));
  OnHand on_hand;
  for (const store::Row& row : rows) AddToOnHand(on_hand, row.Text(0), row.Int(1));
  return on_hand;
}

StatusOr<std::vector<RegencyOnHand>> BlankLedger::OnHandByRegency() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT regency_code, place, CAST(SUM(last_serial - first_serial + 1) AS "
                                        "BIGINT) FROM blank_stock WHERE place <> 'national' "
                                        "GROUP BY regency_code, place ORDER BY regency_code"));
  std::vector<RegencyOnHand> out;
  for (const store::Row& row : rows) {
    if (out.empty() || out.back().regency_code != row.Text(0)) out.push_back({row.Text(0), {}});
    AddToOnHand(out.back().on_hand, row.Text(1), row.Int(2));
  }
  return out;
}

StatusOr<RegencyReconciliation> BlankLedger::Reconcile(std::string_view regency_code) {
  RETURN_IF_ERROR(CheckRegency(regency_code));
  RegencyReconciliation out;
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    out = {};
    out.regency_code = std::string(regency_code);
    out.regency_name = RegionRegistry::Default().Find(regency_code)->name;
    RETURN_IF_ERROR(LockLedger(db_));  // one consistent view on PostgreSQL too
    std::map<std::string, StationReconciliation> stations;
    auto station = [&](const std::string& id) -> StationReconciliation& {
      StationReconciliation& s = stations[id];
      s.station_id = id;
      return s;
    };

    ASSIGN_OR_RETURN(auto moves, db_.Query("SELECT kind, station_id, CAST(SUM(quantity) AS BIGINT), COUNT(*) "
                                           "FROM blank_movements WHERE regency_code = ? GROUP BY kind, station_id",
                                           {regency_code}));
    for (const store::Row& row : moves) {
      const std::string kind = row.Text(0);
      const int64_t quantity = row.Int(2);
      if (kind == "ship") {
        out.shipped += quantity;
        out.shipments += row.Int(3);
      } else if (kind == "return_to_national") {
        out.returned_to_national += quantity;
      } else if (kind == "hand_over") {
        station(row.Text(1)).handed_over += quantity;
      } else if (kind == "receive") {
        station(row.Text(1)).received += quantity;
      } else if (kind == "return_to_regency") {
        station(row.Text(1)).returned += quantity;
      }
    }
    ASSIGN_OR_RETURN(auto uses, db_.Query("SELECT station_id, kind, reason, COUNT(*) FROM blank_uses "
                                          "WHERE regency_code = ? GROUP BY station_id, kind, reason",
                                          {regency_code}));
    for (const store::Row& row : uses) {
      StationReconciliation& s = station(row.Text(0));
      if (row.Text(1) == "consumed") {
        s.printed += row.Int(3);
      } else if (size_t reason = ReasonIndex(row.Text(2)); reason < kSpoilReasons.size()) {
        s.spoiled[reason] += row.Int(3);
      } else {
        return DataLoss("blank_uses holds an unknown spoilage reason '" + row.Text(2) + "'");
      }
    }
    ASSIGN_OR_RETURN(auto held, db_.Query("SELECT place, station_id, first_serial, last_serial, since "
                                          "FROM blank_stock WHERE regency_code = ? ORDER BY station_id, first_serial",
                                          {regency_code}));
    std::map<std::string, std::vector<SerialRange>> awaiting;
    std::map<std::string, std::string> awaiting_since;
    for (const store::Row& row : held) {
      const std::string place = row.Text(0);
      const SerialRange range{row.Int(2), row.Int(3)};
      AddToOnHand(out.on_hand, place, range.size());
      if (place == "in_transit") {
        station(row.Text(1)).in_transit += range.size();
        awaiting[row.Text(1)].push_back(range);
        std::string& since = awaiting_since[row.Text(1)];
        if (since.empty() || row.Text(4) < since) since = row.Text(4);
      } else if (place == "station") {
        station(row.Text(1)).on_hand += range.size();
      }
    }

    for (auto& [id, s] : stations) {
      out.handed_over += s.handed_over;
      out.received += s.received;
      out.printed += s.printed;
      for (size_t i = 0; i < kSpoilReasons.size(); ++i) out.spoiled[i] += s.spoiled[i];
      out.returned_by_stations += s.returned;
      if (s.in_transit > 0) {
        out.discrepancies.push_back(
            {"awaiting_receipt", id, s.in_transit,
             std::to_string(s.in_transit) + " blanks handed over to station " + id +
                 " are not confirmed received (serials " + ListRanges(awaiting[id]) + ", oldest handed over " +
                 awaiting_since[id] + ")",
             std::to_string(s.in_transit) + " blangko sudah diserahkan ke " + id +
                 " tetapi belum dikonfirmasi diterima (nomor seri " + ListRanges(awaiting[id]) + ", sejak " +
                 awaiting_since[id] + ")"});
      }
      const int64_t expected_in_transit = s.handed_over - s.received;
      const int64_t expected_on_hand = s.received - s.printed - s.spoiled_total() - s.returned;
      if (expected_in_transit != s.in_transit || expected_on_hand != s.on_hand) {
        out.discrepancies.push_back(
            {"out_of_balance", id, std::abs(expected_on_hand - s.on_hand) + std::abs(expected_in_transit - s.in_transit),
             "station " + id + ": the movements leave " + std::to_string(expected_in_transit) + " in transit and " +
                 std::to_string(expected_on_hand) + " on hand, the stock holds " + std::to_string(s.in_transit) +
                 " and " + std::to_string(s.on_hand),
             "stasiun " + id + ": catatan mutasi menunjukkan " + std::to_string(expected_on_hand) +
                 " blangko di tangan, stok tercatat " + std::to_string(s.on_hand) + "; periksa buku blangko"});
      }
      out.stations.push_back(s);
    }
    const int64_t expected_in_store =
        out.shipped + out.returned_by_stations - out.handed_over - out.returned_to_national;
    if (expected_in_store != out.on_hand.in_store) {
      out.discrepancies.push_back(
          {"out_of_balance", "", std::abs(expected_in_store - out.on_hand.in_store),
           "regency " + out.regency_code + ": the movements leave " + std::to_string(expected_in_store) +
               " blanks in its store, the stock holds " + std::to_string(out.on_hand.in_store),
           "kabupaten/kota " + out.regency_code + ": catatan mutasi menunjukkan " + std::to_string(expected_in_store) +
               " blangko di gudang, stok tercatat " + std::to_string(out.on_hand.in_store) + "; periksa buku blangko"});
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace ektp::blanks
