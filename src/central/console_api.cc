#include "central/console_api.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>

#include <nlohmann/json.hpp>

#include "blanks/demand.h"
#include "blanks/json.h"
#include "blanks/ledger.h"
#include "blanks/plan.h"
#include "central/hand_over.h"
#include "central/print_feed.h"
#include "central/station_registry.h"
#include "core/lifecycle.h"
#include "core/refusal_pesan.h"
#include "core/region.h"
#include "core/text.h"
#include "pipeline/adjudication.h"
#include "pipeline/pipeline.h"
#include "service/log.h"
#include "store/audit_log.h"

namespace ektp::central {
namespace {

// What a member of staff reads in the console: the catalogue's sentence
// (core/refusal_pesan.h), else a general one for the code. The "error" beside
// it is precise, in English.
std::string Pesan(const Status& status) {
  if (status.code() == StatusCode::kUnauthenticated) {
    if (auto said = RefusalPesan(status.message())) return *said + ".";
  }
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return "Isian belum benar. Periksa dan perbaiki.";
    case StatusCode::kUnauthenticated: return "Nama pengguna atau kata sandi salah, atau sesi berakhir. Silakan masuk lagi.";
    case StatusCode::kPermissionDenied: return "Peran akun Anda tidak berwenang untuk tindakan ini.";
    case StatusCode::kNotFound: return "Data tidak ditemukan.";
    case StatusCode::kFailedPrecondition: return "Tindakan tidak dapat dilakukan pada keadaan data saat ini.";
    case StatusCode::kResourceExhausted: return "Terlalu banyak percobaan masuk yang gagal. Tunggu sebentar lalu coba lagi.";
    default: return "Terjadi gangguan di pusat. Coba lagi atau hubungi admin pusat.";
  }
}

// `pesan`: the operator's text when the handler knows better than Pesan(status).
net::HttpResponse Refuse(const Status& status, std::string pesan = "") {
  const int http_status = net::HttpStatusFor(status);
  if (pesan.empty()) pesan = Pesan(status);
  return net::HttpResponse::Json(
      http_status, nlohmann::json{{"error", status.ToString()}, {"pesan", pesan}, {"status", http_status}}.dump());
}

net::HttpResponse Ok(const nlohmann::json& body) { return net::HttpResponse::Json(200, body.dump()); }

std::string BearerToken(const net::HttpRequest& request) {
  const std::string authorization = request.header("authorization");
  return authorization.starts_with("Bearer ") ? authorization.substr(7) : "";
}

// The region a station serves, widened to `level` ("" for Indonesia).
std::string RegionAt(const std::string& kecamatan_code, size_t code_length) {
  return kecamatan_code.size() >= code_length ? kecamatan_code.substr(0, code_length) : "";
}

// Length of the code of the child level under `code` ("" -> provinces).
size_t ChildCodeLength(const std::string& code) {
  switch (code.size()) {
    case 0: return 2;   // "35"
    case 2: return 5;   // "35.21"
    default: return 8;  // "35.21.01"
  }
}

bool InRegion(const std::string& kecamatan_code, const std::string& region) {
  return kecamatan_code.starts_with(region);
}

class ConsoleApi;
using AccountHandler = StatusOr<net::HttpResponse> (ConsoleApi::*)(store::Connection&, const accounts::Account&,
                                                                   const net::HttpRequest&);
constexpr std::string_view kAnyRole[] = {"admin", "adjudicator", "supervisor"};
constexpr std::string_view kAdjudicators[] = {"admin", "adjudicator"};
constexpr std::string_view kStationViewers[] = {"admin", "supervisor"};
constexpr std::string_view kAdmins[] = {"admin"};

// The record states the dashboard's throughput counts arrivals at, per day.
constexpr RecordState kThroughputMilestones[] = {RecordState::kReceived, RecordState::kPrintReady,
                                                RecordState::kPrinted, RecordState::kActivated};

// A central movement of blank cards the console records (blanks/ledger.h).
enum class BlankMove { kStockIn, kShip, kHandOver };

std::string_view BlankMoveName(BlankMove move) {
  switch (move) {
    case BlankMove::kStockIn: return "stock_in";
    case BlankMove::kShip: return "shipment";
    case BlankMove::kHandOver: return "handover";
  }
  return "unknown";
}

// What the admin reads when the ledger refuses a movement: the cause that
// code means for it and what to check. The precise English "error" names the
// serial or station.
std::string BlankMovePesan(BlankMove move, const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return "Nomor seri harus angka 1-10 digit, dan nomor awal tidak boleh sesudah nomor akhir.";
    case StatusCode::kAlreadyExists:
      return "Sebagian nomor seri itu sudah pernah masuk stok nasional. Periksa berita acara penerimaan dari pabrik.";
    case StatusCode::kNotFound: return "Stasiun tidak terdaftar di pusat.";
    case StatusCode::kFailedPrecondition:
      switch (move) {
        case BlankMove::kShip:
          return "Sebagian nomor seri tidak ada di stok nasional (belum diterima dari pabrik atau sudah dikirim). "
                 "Periksa nomor seri awal dan akhir.";
        case BlankMove::kHandOver:
          return "Blangko tidak dapat diserahkan: nomor seri tidak ada di stok kabupaten/kota stasiun itu, atau "
                 "stasiun dicabut atau tidak mencetak.";
        case BlankMove::kStockIn: break;
      }
      break;
    default: break;
  }
  return Pesan(status);
}

class ConsoleApi {
 public:
  explicit ConsoleApi(ConsoleApiContext context)
      : context_(std::move(context)),
        pipeline_(*context_.clock, random_, RegionRegistry::Default(), context_.keys->signing,
                  context_.keys->biometrics, {}, "central:console") {}

  void Register(net::HttpServer& http, std::shared_ptr<ConsoleApi> self) {
    // Every route behind the same-origin guard; all but login need an account with one of `roles`.
    auto guarded = [&](const char* method, const char* path, net::BodyKind body, auto handle) {
      http.Handle(method, path, [self, body, handle](const net::HttpRequest& request) {
        if (auto refusal = self->context_.guard->Check(request, body)) {
          net::HttpResponse response = Refuse(refusal->status);
          response.status = refusal->http_status;
          return response;
        }
        return handle(*self, request);
      });
    };
    auto as_account = [&](const char* method, const char* path, net::BodyKind body,
                          std::span<const std::string_view> roles, AccountHandler handler) {
      guarded(method, path, body, [roles, handler](ConsoleApi& api, const net::HttpRequest& request) {
        return api.AsAccount(request, roles, handler);
      });
    };
    guarded("POST", "/api/v1/console/login", net::BodyKind::kJson,
            [](ConsoleApi& api, const net::HttpRequest& request) { return api.Login(request); });
    guarded("POST", "/api/v1/console/logout", net::BodyKind::kNone,
            [](ConsoleApi& api, const net::HttpRequest& request) { return api.Logout(request); });
    as_account("GET", "/api/v1/console/session", net::BodyKind::kNone, kAnyRole, &ConsoleApi::Session);
    as_account("GET", "/api/v1/console/dashboard", net::BodyKind::kNone, kAnyRole, &ConsoleApi::Dashboard);
    as_account("GET", "/api/v1/console/adjudications", net::BodyKind::kNone, kAdjudicators, &ConsoleApi::Cases);
    as_account("GET", "/api/v1/console/adjudications/:record", net::BodyKind::kNone, kAdjudicators, &ConsoleApi::Case);
    as_account("GET", "/api/v1/console/adjudications/:record/photos/:of", net::BodyKind::kNone, kAdjudicators,
               &ConsoleApi::Photo);
    as_account("POST", "/api/v1/console/adjudications/:record/decide", net::BodyKind::kJson, kAdjudicators,
               &ConsoleApi::Decide);
    as_account("GET", "/api/v1/console/stations", net::BodyKind::kNone, kStationViewers, &ConsoleApi::Stations);
    as_account("POST", "/api/v1/console/stations/:id/approve", net::BodyKind::kNone, kAdmins, &ConsoleApi::Approve);
    as_account("POST", "/api/v1/console/stations/:id/revoke", net::BodyKind::kJson, kAdmins, &ConsoleApi::Revoke);
    as_account("POST", "/api/v1/console/tokens", net::BodyKind::kJson, kAdmins, &ConsoleApi::CreateToken);
    as_account("GET", "/api/v1/console/blanks", net::BodyKind::kNone, kStationViewers, &ConsoleApi::Blanks);
    as_account("GET", "/api/v1/console/blanks/regencies/:code", net::BodyKind::kNone, kStationViewers,
               &ConsoleApi::BlankReconciliation);
    as_account("GET", "/api/v1/console/blanks/plan", net::BodyKind::kNone, kStationViewers, &ConsoleApi::BlankPlan);
    guarded("POST", "/api/v1/console/blanks/stock-in", net::BodyKind::kJson,
            [](ConsoleApi& api, const net::HttpRequest& request) { return api.MoveBlanks(request, BlankMove::kStockIn); });
    guarded("POST", "/api/v1/console/blanks/shipments", net::BodyKind::kJson,
            [](ConsoleApi& api, const net::HttpRequest& request) { return api.MoveBlanks(request, BlankMove::kShip); });
    guarded("POST", "/api/v1/console/blanks/handovers", net::BodyKind::kJson,
            [](ConsoleApi& api, const net::HttpRequest& request) { return api.MoveBlanks(request, BlankMove::kHandOver); });
  }

 private:
  accounts::Accounts AccountsOn(store::Connection& db) {
    return accounts::Accounts(db, *context_.clock, context_.login,
                              [&db, this](std::string_view actor, std::string_view action, std::string_view detail) {
                                return store::AuditLog(db, *context_.clock)
                                    .Append({actor.empty() ? "anonymous" : std::string(actor),
                                             "console." + std::string(action),
                                             actor.empty() ? "account:unknown" : "account:" + std::string(actor),
                                             nlohmann::json{{"detail", detail}}.dump()});
                              });
  }

  // The logged-in account, if its role is one of `allowed`.
  StatusOr<accounts::Account> Authorize(store::Connection& db, const net::HttpRequest& request,
                                        std::span<const std::string_view> allowed) {
    const std::string token = BearerToken(request);
    if (token.empty()) return Unauthenticated("missing Authorization: Bearer <token>");
    ASSIGN_OR_RETURN(accounts::Account account, AccountsOn(db).Authenticate(token));
    if (std::find(allowed.begin(), allowed.end(), account.role) == allowed.end()) {
      return PermissionDenied("role " + account.role + " may not do this");
    }
    return account;
  }


  // `handler` with a connection and the logged-in account, if its role is one of `roles`.
  net::HttpResponse AsAccount(const net::HttpRequest& request, std::span<const std::string_view> roles,
                              AccountHandler handler) {
    auto db = context_.pool->Acquire();
    if (!db.ok()) return Refuse(db.status());
    auto account = Authorize(**db, request, roles);
    if (!account.ok()) return Refuse(account.status());
    auto response = (this->*handler)(**db, *account, request);
    if (!response.ok()) return Refuse(response.status());
    return *response;
  }

  net::HttpResponse Login(const net::HttpRequest& request) {
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.value("username", nlohmann::json()).is_string() ||
        !json.value("password", nlohmann::json()).is_string()) {
      return Refuse(InvalidArgument("body must be {\"username\": <string>, \"password\": <string>}"));
    }
    auto db = context_.pool->Acquire();
    if (!db.ok()) return Refuse(db.status());
    accounts::Accounts accounts = AccountsOn(**db);
    auto attempt = accounts.BeginLogin(json["username"].get<std::string>(), request.remote_addr);
    if (!attempt.ok()) return Refuse(attempt.status());
    if (attempt->retry_after.count() > 0) {
      const std::string seconds = std::to_string(attempt->retry_after.count());
      service::LogInfo("central.console_login_backoff", {{"retry_after_s", seconds}});
      net::HttpResponse response =
          Refuse(ResourceExhausted("too many failed logins for this username or address; retry after " + seconds + " s"));
      response.status = 429;
      response.headers.emplace("retry-after", seconds);
      return response;
    }
    auto token = accounts.FinishLogin(*attempt, accounts.CheckPassword(*attempt, json["password"].get<std::string>()));
    if (!token.ok()) {
      service::LogInfo("central.console_login_failed", {{"known_account", attempt->known ? "true" : "false"}});
      return Refuse(token.status());
    }
    return Ok({{"token", *token}});
  }

  net::HttpResponse Logout(const net::HttpRequest& request) {
    auto db = context_.pool->Acquire();
    if (!db.ok()) return Refuse(db.status());
    if (Status status = AccountsOn(**db).Logout(BearerToken(request)); !status.ok()) return Refuse(status);
    return Ok({{"logged_out", true}});
  }

  StatusOr<net::HttpResponse> Session(store::Connection&, const accounts::Account& account, const net::HttpRequest&) {
    return Ok({{"username", account.username}, {"name", account.full_name}, {"role", account.role}});
  }

  StatusOr<net::HttpResponse> Dashboard(store::Connection& db, const accounts::Account&,
                                        const net::HttpRequest& request) {
    ASSIGN_OR_RETURN(nlohmann::json body, DashboardOf(db, request.query("region")));
    return Ok(body);
  }

  StatusOr<nlohmann::json> DashboardOf(store::Connection& db, const std::string& region) {
    const RegionRegistry& regions = RegionRegistry::Default();
    nlohmann::json out;
    if (!region.empty()) {
      ASSIGN_OR_RETURN(RegionLevel level, LevelOfCode(region));
      if (level == RegionLevel::kVillage || regions.Find(region) == nullptr) {
        return InvalidArgument("region " + region + " is not a known province, regency or kecamatan");
      }
    }
    nlohmann::json chain = nlohmann::json::array();
    for (const Region* r : regions.Chain(region)) chain.push_back({{"code", r->code}, {"name", r->name}});
    out["region"] = {{"code", region}, {"chain", chain}};

    StationRegistry registry(db, *context_.clock);
    ASSIGN_OR_RETURN(std::vector<RegisteredStation> all_stations, registry.List());
    std::map<std::string, std::string> kecamatan_of;
    for (const RegisteredStation& station : all_stations) kecamatan_of[station.id] = station.kecamatan_code;

    // Records by state: the region's total and each child region's.
    const size_t child_length = ChildCodeLength(region);
    nlohmann::json by_state = nlohmann::json::object();
    std::map<std::string, nlohmann::json> children;
    ASSIGN_OR_RETURN(auto counts, db.Query("SELECT station_id, state, COUNT(*) FROM records GROUP BY station_id, state"));
    for (const store::Row& row : counts) {
      const std::string kecamatan = kecamatan_of[row.Text(0)];
      if (kecamatan.empty() || !InRegion(kecamatan, region)) continue;
      const std::string state = row.Text(1);
      by_state[state] = by_state.value(state, int64_t{0}) + row.Int(2);
      const std::string child = region.size() >= 8 ? row.Text(0) : RegionAt(kecamatan, child_length);
      nlohmann::json& counts_of_child = children[child]["by_state"];
      if (counts_of_child.is_null()) counts_of_child = nlohmann::json::object();
      counts_of_child[state] = counts_of_child.value(state, int64_t{0}) + row.Int(2);
    }
    out["by_state"] = by_state;
    nlohmann::json child_list = nlohmann::json::array();
    for (auto& [code, entry] : children) {
      const Region* child_region = regions.Find(code);
      entry["code"] = code;
      entry["name"] = child_region != nullptr ? child_region->name : code;  // a station id at kecamatan level
      child_list.push_back(entry);
    }
    out["children"] = child_list;

    // Stations in the region and when central last heard from each.
    ASSIGN_OR_RETURN(auto contacts, db.Query("SELECT id, last_contact_at FROM stations"));
    std::map<std::string, std::string> last_contact;
    for (const store::Row& row : contacts) last_contact[row.Text(0)] = row.IsNull(1) ? "" : row.Text(1);
    nlohmann::json stations = nlohmann::json::array();
    for (const RegisteredStation& station : all_stations) {
      if (!InRegion(station.kecamatan_code, region)) continue;
      stations.push_back({{"id", station.id},
                          {"kecamatan_code", station.kecamatan_code},
                          {"kind", StationKindName(station.kind)},
                          {"status", StationStatusName(station.status)},
                          {"last_contact", last_contact[station.id]}});
    }
    out["stations"] = stations;

    // Blanks on hand against need, for the regencies in the region with either.
    ASSIGN_OR_RETURN(auto demands, blanks::MeasuredDemand(db, *context_.clock, regions, {}));
    ASSIGN_OR_RETURN(auto on_hand, blanks::LedgerOnHand(db, *context_.clock));
    RETURN_IF_ERROR(blanks::ApplyOnHand(demands, on_hand));
    const std::string regency_scope = region.substr(0, std::min<size_t>(region.size(), 5));
    nlohmann::json blank_list = nlohmann::json::array();
    for (const blanks::RegencyDemand& demand : demands) {
      if (!demand.code.starts_with(regency_scope) || (demand.need == 0 && demand.on_hand == 0)) continue;
      blank_list.push_back({{"code", demand.code}, {"name", demand.name}, {"on_hand", demand.on_hand},
                            {"need", demand.need}, {"backlog", demand.backlog}, {"shortfall", demand.shortfall()}});
    }
    out["blanks"] = blank_list;

    // Records in each state at the end of each of the last 30 days, from the
    // transitions: a record enters to_state and leaves from_state.
    ASSIGN_OR_RETURN(auto flows, db.Query("SELECT substr(e.at, 1, 10), e.from_state, e.to_state, r.station_id, COUNT(*) "
                                          "FROM record_events e JOIN records r ON r.id = e.record_id "
                                          "GROUP BY 1, 2, 3, 4 ORDER BY 1"));
    std::map<std::string, std::map<std::string, int64_t>> change_by_day, arrivals_by_day;
    for (const store::Row& row : flows) {
      const std::string kecamatan = kecamatan_of[row.Text(3)];
      if (kecamatan.empty() || !InRegion(kecamatan, region)) continue;
      auto& change = change_by_day[row.Text(0)];
      if (!row.IsNull(1)) change[row.Text(1)] -= row.Int(4);
      change[row.Text(2)] += row.Int(4);
      arrivals_by_day[row.Text(0)][row.Text(2)] += row.Int(4);
    }
    std::map<std::string, int64_t> running;
    nlohmann::json days = nlohmann::json::array();
    for (const auto& [day, change] : change_by_day) {
      for (const auto& [state, delta] : change) running[state] += delta;
      days.push_back({{"day", day}, {"by_state", running}});
    }
    if (days.size() > 30) days.erase(days.begin(), days.end() - 30);
    out["days"] = days;

    // Throughput: records reaching each milestone per day, the last 30 days.
    nlohmann::json throughput = nlohmann::json::array();
    for (const auto& [day, arrivals] : arrivals_by_day) {
      nlohmann::json row = {{"day", day}};
      for (RecordState milestone : kThroughputMilestones) {
        const std::string name(RecordStateName(milestone));
        const auto it = arrivals.find(name);
        row[name] = it == arrivals.end() ? 0 : it->second;
      }
      throughput.push_back(row);
    }
    if (throughput.size() > 30) throughput.erase(throughput.begin(), throughput.end() - 30);
    out["throughput"] = throughput;

    // Integrity flags of the region's stations and operators: rates that
    // stand out from their peers' (central/hand_over.h), and enrollments
    // captured far from their station's home area.
    ASSIGN_OR_RETURN(IntegrityReport integrity, ComputeIntegrityReport(db));
    nlohmann::json outliers = nlohmann::json::array();
    for (const auto* units : {&integrity.stations, &integrity.operators}) {
      for (const IntegrityUnit& unit : *units) {
        if (!InRegion(kecamatan_of[unit.station_id], region)) continue;
        const std::pair<const char*, const IntegrityRate*> rates[] = {
            {"failed_checks", &unit.failed_checks}, {"overrides", &unit.overrides}, {"delegated", &unit.delegated},
            {"exceptions", &unit.exceptions}};
        for (const auto& [kind, rate] : rates) {
          if (!rate->outlier) continue;
          outliers.push_back({{"station", unit.station_id}, {"operator", unit.operator_name}, {"kind", kind},
                              {"events", rate->events}, {"out_of", rate->out_of}, {"rate", rate->rate},
                              {"peer_rate", rate->peer_rate}});
        }
      }
    }
    nlohmann::json far = nlohmann::json::array();
    for (const StationLocations& station : integrity.locations) {
      if (station.far == 0 || !InRegion(kecamatan_of[station.station_id], region)) continue;
      far.push_back({{"station", station.station_id}, {"far", station.far}, {"located", station.located}});
    }
    // Finger exceptions whose packet carried no supervisor's approval, per station.
    nlohmann::json unapproved = nlohmann::json::array();
    for (const IntegrityUnit& unit : integrity.stations) {
      if (unit.unapproved_exceptions == 0 || !InRegion(kecamatan_of[unit.station_id], region)) continue;
      unapproved.push_back({{"station", unit.station_id}, {"enrollments", unit.unapproved_exceptions}});
    }
    out["integrity"] = {{"outliers", outliers}, {"far_enrollments", far}, {"unapproved_exceptions", unapproved}};
    return out;
  }

  StatusOr<net::HttpResponse> Cases(store::Connection& db, const accounts::Account&, const net::HttpRequest&) {
    ASSIGN_OR_RETURN(std::vector<pipeline::OpenCase> cases, pipeline::OpenCases(db, 200));
    nlohmann::json out = nlohmann::json::array();
    for (const pipeline::OpenCase& c : cases) {
      out.push_back({{"record_id", c.record_id}, {"registration_number", c.registration_number},
                     {"suspicion", c.suspicion}, {"suspicion_facts", c.suspicion_facts},
                     {"created_at", c.created_at}});
    }
    return Ok({{"cases", out}});
  }

  static StatusOr<int64_t> RecordParam(const net::HttpRequest& request, const char* name) {
    const std::string text = request.path_params.at(name);
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument(std::string(name) + " must be a record id (digits)");
    }
    return std::stoll(text);
  }

  StatusOr<net::HttpResponse> Case(store::Connection& db, const accounts::Account&, const net::HttpRequest& request) {
    ASSIGN_OR_RETURN(int64_t record, RecordParam(request, "record"));
    ASSIGN_OR_RETURN(nlohmann::json detail, pipeline::CaseDetail(db, record));
    return Ok(detail);
  }

  // A face photo of the case's record or of one of its candidates, nothing else.
  StatusOr<net::HttpResponse> Photo(store::Connection& db, const accounts::Account&, const net::HttpRequest& request) {
    ASSIGN_OR_RETURN(int64_t record, RecordParam(request, "record"));
    ASSIGN_OR_RETURN(int64_t of, RecordParam(request, "of"));
    ASSIGN_OR_RETURN(nlohmann::json detail, pipeline::CaseDetail(db, record));
    bool part_of_case = of == record;
    for (const auto& candidate : detail["candidates"]) {
      part_of_case = part_of_case || candidate.value("record_id", int64_t{-1}) == of;
    }
    if (!part_of_case) {
      return PermissionDenied("record " + std::to_string(of) + " is not part of case " + std::to_string(record));
    }
    ASSIGN_OR_RETURN(std::vector<uint8_t> photo, pipeline::FacePhoto(db, context_.keys->biometrics, of));
    net::HttpResponse response;
    response.content_type = "image/jpeg";
    response.body.assign(photo.begin(), photo.end());
    response.headers.emplace("cache-control", "no-store");
    return response;
  }

  StatusOr<net::HttpResponse> Decide(store::Connection& db, const accounts::Account& account,
                                     const net::HttpRequest& request) {
    ASSIGN_OR_RETURN(int64_t record, RecordParam(request, "record"));
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.value("verdict", nlohmann::json()).is_string() ||
        !json.value("note", nlohmann::json()).is_string() ||
        !json.value("candidate_nik", nlohmann::json("")).is_string()) {
      return InvalidArgument("body must be {\"verdict\": <string>, \"candidate_nik\": <string>, \"note\": <string>}");
    }
    ASSIGN_OR_RETURN(pipeline::Verdict verdict, pipeline::ParseVerdict(json["verdict"].get<std::string>()));
    pipeline::AdjudicationDecision decision{record, verdict, json.value("candidate_nik", ""),
                                            "console:" + account.username, json["note"].get<std::string>()};
    RETURN_IF_ERROR(pipeline::Decide(db, pipeline_.context(), decision));
    service::LogInfo("central.adjudication_decided",
                     {{"record", record}, {"verdict", pipeline::VerdictName(verdict)}, {"account", account.username}});
    ASSIGN_OR_RETURN(nlohmann::json detail, pipeline::CaseDetail(db, record));
    return Ok(detail);
  }

  // Every station with the names of its region and when central last heard from it.
  StatusOr<net::HttpResponse> Stations(store::Connection& db, const accounts::Account&, const net::HttpRequest&) {
    const RegionRegistry& regions = RegionRegistry::Default();
    ASSIGN_OR_RETURN(std::vector<RegisteredStation> registered, StationRegistry(db, *context_.clock).List());
    ASSIGN_OR_RETURN(auto contacts, db.Query("SELECT id, COALESCE(last_contact_at, '') FROM stations"));
    std::map<std::string, std::string> last_contact;
    for (const store::Row& row : contacts) last_contact.emplace(row.Text(0), row.Text(1));
    nlohmann::json stations = nlohmann::json::array();
    for (const RegisteredStation& station : registered) {
      const Region* kecamatan = regions.Find(station.kecamatan_code);
      const Region* regency = regions.Find(RegionAt(station.kecamatan_code, 5));
      const auto contact = last_contact.find(station.id);
      stations.push_back({{"id", station.id},
                          {"kecamatan_code", station.kecamatan_code},
                          {"kecamatan_name", kecamatan != nullptr ? kecamatan->name : ""},
                          {"regency_name", regency != nullptr ? regency->name : ""},
                          {"kind", StationKindName(station.kind)},
                          {"capabilities", station.capabilities},
                          {"status", StationStatusName(station.status)},
                          {"registered_at", station.registered_at},
                          {"last_contact", contact != last_contact.end() ? contact->second : ""}});
    }
    return Ok({{"stations", stations}, {"certificate_sha256", context_.certificate_sha256}});
  }

  StatusOr<net::HttpResponse> Approve(store::Connection& db, const accounts::Account& account,
                                      const net::HttpRequest& request) {
    const std::string& id = request.path_params.at("id");
    RETURN_IF_ERROR(StationRegistry(db, *context_.clock).Approve(id, "console:" + account.username));
    service::LogInfo("central.station_approved", {{"station", id}, {"account", account.username}});
    return Ok({{"approved", id}});
  }

  StatusOr<net::HttpResponse> Revoke(store::Connection& db, const accounts::Account& account,
                                     const net::HttpRequest& request) {
    const std::string& id = request.path_params.at("id");
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || json.size() != 1 || !json.value("reason", nlohmann::json()).is_string() ||
        json["reason"].get<std::string>().empty()) {
      return InvalidArgument("body must be {\"reason\": <non-empty string>}");
    }
    RETURN_IF_ERROR(
        StationRegistry(db, *context_.clock).Revoke(id, "console:" + account.username, json["reason"].get<std::string>()));
    service::LogInfo("central.station_revoked", {{"station", id}, {"account", account.username}});
    return Ok({{"revoked", id}});
  }

  StatusOr<net::HttpResponse> CreateToken(store::Connection& db, const accounts::Account& account,
                                          const net::HttpRequest& request) {
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    const bool well_formed = !json.is_discarded() && json.is_object() &&
                             json.value("kecamatan_code", nlohmann::json()).is_string() &&
                             json.value("kind", nlohmann::json()).is_string() &&
                             json.value("capabilities", nlohmann::json()).is_array() &&
                             json.value("valid_hours", nlohmann::json(72)).is_number_integer();
    if (!well_formed) {
      return InvalidArgument(
          "body must be {\"kecamatan_code\": <string>, \"kind\": <string>, \"capabilities\": [<string>...], "
          "\"valid_hours\": <1-720>}");
    }
    TokenRequest token_request;
    token_request.kecamatan_code = json["kecamatan_code"].get<std::string>();
    ASSIGN_OR_RETURN(token_request.kind, ParseStationKind(json["kind"].get<std::string>()));
    std::string capabilities;
    for (const nlohmann::json& capability : json["capabilities"]) {
      if (!capability.is_string()) return InvalidArgument("capabilities must be strings");
      capabilities += (capabilities.empty() ? "" : ",") + capability.get<std::string>();
    }
    ASSIGN_OR_RETURN(token_request.capabilities, ParseCapabilities(capabilities));
    const int hours = json.value("valid_hours", 72);
    if (hours < 1 || hours > 720) return InvalidArgument("valid_hours must be 1 to 720");
    token_request.valid_for = std::chrono::hours(hours);
    ASSIGN_OR_RETURN(std::string token,
                     StationRegistry(db, *context_.clock).CreateToken(token_request, "console:" + account.username));
    service::LogInfo("central.token_created", {{"kecamatan", token_request.kecamatan_code}, {"account", account.username}});
    return Ok({{"token", token}, {"expires_at", FormatTimestamp(context_.clock->Now() + token_request.valid_for)}});
  }

  // National stock, each regency's blanks on hand against its need, and the
  // print stations blanks may be handed to.
  StatusOr<net::HttpResponse> Blanks(store::Connection& db, const accounts::Account&, const net::HttpRequest&) {
    const RegionRegistry& regions = RegionRegistry::Default();
    blanks::BlankLedger ledger(db, *context_.clock);
    ASSIGN_OR_RETURN(int64_t national, ledger.NationalStock());
    ASSIGN_OR_RETURN(auto demands, blanks::MeasuredDemand(db, *context_.clock, regions, {}));
    ASSIGN_OR_RETURN(std::vector<blanks::RegencyOnHand> held, ledger.OnHandByRegency());
    std::map<std::string, blanks::OnHand> held_by_code;
    for (const blanks::RegencyOnHand& h : held) held_by_code[h.regency_code] = h.on_hand;
    nlohmann::json regencies = nlohmann::json::array();
    for (blanks::RegencyDemand& demand : demands) {
      const blanks::OnHand on_hand = held_by_code[demand.code];
      demand.on_hand = on_hand.total();
      if (demand.need == 0 && demand.on_hand == 0) continue;
      regencies.push_back({{"code", demand.code}, {"name", demand.name}, {"in_store", on_hand.in_store},
                           {"in_transit", on_hand.in_transit}, {"at_stations", on_hand.at_stations},
                           {"on_hand", demand.on_hand}, {"backlog", demand.backlog}, {"need", demand.need},
                           {"shortfall", demand.shortfall()}});
    }
    ASSIGN_OR_RETURN(std::vector<RegisteredStation> registered, StationRegistry(db, *context_.clock).List());
    nlohmann::json print_stations = nlohmann::json::array();
    for (const RegisteredStation& station : registered) {
      const bool prints = std::find(station.capabilities.begin(), station.capabilities.end(), "print") !=
                          station.capabilities.end();
      if (!prints || station.status == StationStatus::kRevoked) continue;
      const Region* kecamatan = regions.Find(station.kecamatan_code);
      print_stations.push_back({{"id", station.id},
                                {"regency_code", RegionAt(station.kecamatan_code, 5)},
                                {"kecamatan_name", kecamatan != nullptr ? kecamatan->name : ""}});
    }
    return Ok({{"national_stock", national}, {"regencies", regencies}, {"print_stations", print_stations}});
  }

  StatusOr<net::HttpResponse> BlankReconciliation(store::Connection& db, const accounts::Account&,
                                                  const net::HttpRequest& request) {
    ASSIGN_OR_RETURN(blanks::RegencyReconciliation reconciliation,
                     blanks::BlankLedger(db, *context_.clock).Reconcile(request.path_params.at("code")));
    return Ok(blanks::ReconciliationJson(reconciliation));
  }

  // ?supply=N[&policy=proportional|min-max-wait][&floor=F]: the plan for N
  // blanks from the measured demand and the ledger's stock.
  StatusOr<net::HttpResponse> BlankPlan(store::Connection& db, const accounts::Account&,
                                        const net::HttpRequest& request) {
    auto whole_number = [&](const char* name, int64_t fallback) -> StatusOr<int64_t> {
      const std::string text = request.query(name);
      if (text.empty()) return fallback;
      if (text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) {
        return InvalidArgument(std::string(name) + " must be a whole number of blanks, got '" + QuoteInput(text) + "'");
      }
      return std::stoll(text);
    };
    blanks::PlanOptions options;
    ASSIGN_OR_RETURN(options.supply, whole_number("supply", -1));
    if (options.supply < 0) return InvalidArgument("supply (the blanks to divide) is required");
    ASSIGN_OR_RETURN(options.floor, whole_number("floor", options.floor));
    const std::string policy_name = request.query("policy").empty() ? "min-max-wait" : request.query("policy");
    ASSIGN_OR_RETURN(blanks::Policy policy, blanks::ParsePolicy(policy_name));
    ASSIGN_OR_RETURN(auto demands, blanks::MeasuredDemand(db, *context_.clock, RegionRegistry::Default(), {}));
    ASSIGN_OR_RETURN(auto on_hand, blanks::LedgerOnHand(db, *context_.clock));
    RETURN_IF_ERROR(blanks::ApplyOnHand(demands, on_hand));
    ASSIGN_OR_RETURN(blanks::Plan plan, blanks::MakePlan(demands, policy, options));
    nlohmann::json out = blanks::PlanJson(plan);
    out["floor"] = options.floor;
    out["lead_days"] = options.lead_days;
    return Ok(out);
  }

  // {first, last, reference} and the holder field of `move`: stock-in (none),
  // a shipment to {regency_code}, a hand-over to {station_id}. Admins only;
  // audited as "console:<username>".
  net::HttpResponse MoveBlanks(const net::HttpRequest& request, BlankMove move) {
    auto db = context_.pool->Acquire();
    if (!db.ok()) return Refuse(db.status());
    auto account = Authorize(**db, request, kAdmins);
    if (!account.ok()) return Refuse(account.status());
    const char* holder_field = move == BlankMove::kShip       ? "regency_code"
                               : move == BlankMove::kHandOver ? "station_id"
                                                              : nullptr;
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    const bool well_formed = !json.is_discarded() && json.is_object() &&
                             json.value("first", nlohmann::json()).is_string() &&
                             json.value("last", nlohmann::json()).is_string() &&
                             json.value("reference", nlohmann::json("")).is_string() &&
                             (holder_field == nullptr || json.value(holder_field, nlohmann::json()).is_string());
    Status status = Status::Ok();
    blanks::SerialRange range;
    if (!well_formed) {
      status = InvalidArgument(std::string("body must be {") +
                               (holder_field != nullptr ? "\"" + std::string(holder_field) + "\": <string>, " : "") +
                               "\"first\": <serial>, \"last\": <serial>, \"reference\": <string>}");
    } else {
      auto first = blanks::ParseSerial(json["first"].get<std::string>());
      auto last = blanks::ParseSerial(json["last"].get<std::string>());
      status = !first.ok() ? first.status() : !last.ok() ? last.status() : Status::Ok();
      if (status.ok() && *first > *last) status = InvalidArgument("first serial is after the last");
      if (status.ok()) range = {*first, *last};
    }
    const std::string actor = "console:" + account->username;
    const std::string reference = well_formed ? json.value("reference", "") : "";
    const std::string holder = well_formed && holder_field != nullptr ? json[holder_field].get<std::string>() : "";
    if (status.ok()) {
      blanks::BlankLedger ledger(**db, *context_.clock);
      switch (move) {
        case BlankMove::kStockIn: status = ledger.StockIn(range, actor, reference); break;
        case BlankMove::kShip: status = ledger.Ship(holder, range, actor, reference); break;
        case BlankMove::kHandOver:
          status = HandOverBlanks(**db, *context_.clock, *context_.keys, holder, range, actor, reference);
          break;
      }
    }
    if (!status.ok()) return Refuse(status, BlankMovePesan(move, status));
    service::LogInfo("central.blanks_moved", {{"move", BlankMoveName(move)},
                                              {"holder", holder},
                                              {"range", blanks::FormatRange(range)},
                                              {"account", account->username}});
    return Ok({{"blanks", range.size()}, {"range", blanks::FormatRange(range)}, {"holder", holder}});
  }

  ConsoleApiContext context_;
  SystemRandom random_;
  pipeline::Pipeline pipeline_;  // only its StageContext, for decisions; never started
};

}  // namespace

Status CheckConsoleRole(std::string_view role) {
  if (std::find(std::begin(kConsoleRoles), std::end(kConsoleRoles), role) != std::end(kConsoleRoles)) {
    return Status::Ok();
  }
  return InvalidArgument("role '" + std::string(role) + "' is not one of admin, adjudicator, supervisor");
}

void AddConsoleApi(net::HttpServer& http, ConsoleApiContext context) {
  auto api = std::make_shared<ConsoleApi>(std::move(context));
  api->Register(http, api);
}

}  // namespace ektp::central
