// `ektp central print-queue ...` (the per-regency print-ready queue, urgent
// cases, policy) and `ektp status` (a resident's status lookup at central).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "central/server.h"
#include "cli/commands.h"
#include "net/http_client.h"
#include "printing/print_queue.h"
#include "store/record_repository.h"

namespace ektp::cli {
namespace {

// Central's database, as `central station approve` and `central audit verify` open it.
StatusOr<std::unique_ptr<store::Connection>> OpenCentral(const std::string& dir, const std::string& db_url) {
  central::CentralOptions options;
  options.data_dir = dir;
  options.db_url = db_url;
  return store::Open(central::CentralDbUrl(options), store::Schema::kCentral);
}

void AddDbOptions(CLI::App& app, std::string& dir, std::string& db_url) {
  app.add_option("--dir", dir, "central's data directory")->required();
  app.add_option("--db", db_url, "database URL (default: SQLite in the data directory)");
}

nlohmann::json UrgentJson(const printing::UrgentRequest& r) {
  return {{"id", r.id},
          {"record_id", r.record_id},
          {"registration_number", r.registration_number},
          {"reason", r.reason},
          {"evidence", r.evidence},
          {"requested_by", r.requested_by},
          {"requested_at", r.requested_at},
          {"status", printing::UrgentStatusName(r.status)},
          {"decided_by", r.decided_by},
          {"decided_at", r.decided_at},
          {"decision_note", r.decision_note}};
}

}  // namespace

int CentralPrintQueueShow(const Args& args) {
  CLI::App app("Show a regency's print-ready queue in print order, with why each record stands where it does",
               "central print-queue show");
  std::string dir, db_url, regency;
  int limit = 100, offset = 0;
  bool json = false;
  AddDbOptions(app, dir, db_url);
  app.add_option("--regency", regency, "regency code, e.g. 35.21")->required();
  app.add_option("--limit", limit, "at most this many entries")->capture_default_str();
  app.add_option("--offset", offset, "skip this many entries first")->capture_default_str();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  printing::PrintQueue queue(**db, SystemClock::Instance());
  auto entries = queue.List(regency, limit, offset);
  if (!entries.ok()) return Fail(entries.status());
  auto policy = queue.Policy(regency);
  if (!policy.ok()) return Fail(policy.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *entries) {
      nlohmann::json reasons = nlohmann::json::array();
      for (const auto& r : e.reasons) {
        reasons.push_back({{"code", r.code}, {"detail", r.detail}, {"by", r.by}, {"at", r.at}});
      }
      out.push_back({{"position", e.position},
                     {"record_id", e.record_id},
                     {"registration_number", e.registration_number},
                     {"ready_at", e.ready_at},
                     {"reasons", reasons},
                     {"explanation", e.explanation}});
    }
    std::cout << nlohmann::json{{"regency", regency},
                                {"policy",
                                 {{"first_card_at_17", policy->first_card_at_17},
                                  {"suket_holders", policy->suket_holders}}},
                                {"entries", out}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  std::cout << "Antrean cetak " << regency << " (prioritas kebijakan: kartu pertama usia 17 "
            << (policy->first_card_at_17 ? "ya" : "tidak") << ", pemegang Suket "
            << (policy->suket_holders ? "ya" : "tidak") << ")\n";
  if (entries->empty()) std::cout << "antrean kosong\n";
  for (const auto& e : *entries) {
    std::cout << e.position << ". " << e.registration_number << " (rekaman " << e.record_id << "): " << e.explanation
              << "\n";
  }
  return kExitOk;
}

int CentralPrintQueueUrgentRequest(const Args& args) {
  CLI::App app("Ask for a record to be printed ahead (urgent case); another supervisor must approve",
               "central print-queue urgent request");
  std::string dir, db_url, receipt, reason, evidence, by;
  int64_t record_id = 0;
  AddDbOptions(app, dir, db_url);
  auto* record_opt = app.add_option("--record", record_id, "record id (from print-queue show)");
  app.add_option("--receipt", receipt, "registration (receipt) number")->excludes(record_opt);
  app.add_option("--reason", reason, "travel_abroad, study_abroad, seafarer, disaster_victim or an added reason")
      ->required();
  app.add_option("--evidence", evidence, "the document seen, e.g. \"tiket + visa no. X123\"")->required();
  app.add_option("--by", by, "who requests (audited)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  if (record_id == 0 && receipt.empty()) return Fail(InvalidArgument("give --record or --receipt"));
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  if (!receipt.empty()) {
    auto record = store::RecordRepository(**db, SystemClock::Instance()).FindByRegistration(receipt);
    if (!record.ok()) return Fail(record.status());
    record_id = record->id;
  }
  printing::PrintQueue queue(**db, SystemClock::Instance());
  auto id = queue.RequestUrgent(record_id, reason, evidence, by);
  if (!id.ok()) return Fail(id.status());
  std::cout << "permintaan mendesak " << *id << " untuk rekaman " << record_id
            << " dicatat; menunggu persetujuan supervisor lain\n";
  return kExitOk;
}

namespace {
int UrgentDecision(const Args& args, const char* name, bool approve) {
  CLI::App app(approve ? "Approve an urgent request (not your own)" : "Reject an urgent request", name);
  std::string dir, db_url, by, note;
  int64_t id = 0;
  app.add_option("request", id, "urgent request id")->required();
  AddDbOptions(app, dir, db_url);
  app.add_option("--by", by, "the supervisor deciding (audited)")->required();
  if (!approve) app.add_option("--note", note, "why")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  printing::PrintQueue queue(**db, SystemClock::Instance());
  Status status = approve ? queue.ApproveUrgent(id, by) : queue.RejectUrgent(id, by, note);
  if (!status.ok()) return Fail(status);
  std::cout << "permintaan mendesak " << id << (approve ? " disetujui" : " ditolak") << " oleh " << by << "\n";
  return kExitOk;
}
}  // namespace

int CentralPrintQueueUrgentApprove(const Args& args) {
  return UrgentDecision(args, "central print-queue urgent approve", true);
}
int CentralPrintQueueUrgentReject(const Args& args) {
  return UrgentDecision(args, "central print-queue urgent reject", false);
}

int CentralPrintQueueUrgentList(const Args& args) {
  CLI::App app("List urgent requests", "central print-queue urgent list");
  std::string dir, db_url, status = "pending";
  bool json = false;
  AddDbOptions(app, dir, db_url);
  app.add_option("--status", status, "pending, approved, rejected or all")->capture_default_str();
  app.add_flag("--json", json, "print JSON");
  if (auto exit = Parse(app, args)) return *exit;
  std::optional<printing::UrgentStatus> filter;
  for (auto s : {printing::UrgentStatus::kPending, printing::UrgentStatus::kApproved, printing::UrgentStatus::kRejected}) {
    if (printing::UrgentStatusName(s) == status) filter = s;
  }
  if (!filter && status != "all") return Fail(InvalidArgument("--status must be pending, approved, rejected or all"));
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  auto requests = printing::PrintQueue(**db, SystemClock::Instance()).ListUrgent(filter, 1000);
  if (!requests.ok()) return Fail(requests.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *requests) out.push_back(UrgentJson(r));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& r : *requests) {
    std::cout << r.id << "  " << printing::UrgentStatusName(r.status) << "  " << r.registration_number << "  "
              << r.reason << "  bukti: " << r.evidence << "  diminta " << r.requested_by << " " << r.requested_at
              << (r.decided_by.empty() ? "" : "  diputus " + r.decided_by + " " + r.decided_at) << "\n";
  }
  return kExitOk;
}

int CentralPrintQueueReasonAdd(const Args& args) {
  CLI::App app("Add an urgent reason beyond the built-in ones", "central print-queue reason add");
  std::string dir, db_url, code, label, by;
  AddDbOptions(app, dir, db_url);
  app.add_option("--code", code, "machine code, e.g. medical_abroad")->required();
  app.add_option("--label", label, "label in Bahasa Indonesia, e.g. \"berobat ke luar negeri\"")->required();
  app.add_option("--by", by, "who adds it (audited)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  if (Status status = printing::PrintQueue(**db, SystemClock::Instance()).AddUrgentReason(code, label, by);
      !status.ok()) {
    return Fail(status);
  }
  std::cout << "alasan mendesak " << code << " ditambahkan\n";
  return kExitOk;
}

int CentralPrintQueuePolicySet(const Args& args) {
  CLI::App app("Set what a regency's queue prioritises after urgent cases", "central print-queue policy set");
  std::string dir, db_url, regency, by;
  printing::QueuePolicy policy;
  AddDbOptions(app, dir, db_url);
  app.add_option("--regency", regency, "regency code, or * for the national default")->required();
  app.add_option("--first-card-17", policy.first_card_at_17, "prioritise first cards at age 17 (true/false)")
      ->capture_default_str();
  app.add_option("--suket", policy.suket_holders, "prioritise residents holding a valid Suket (true/false)")
      ->capture_default_str();
  app.add_option("--by", by, "who sets it (audited)")->required();
  if (auto exit = Parse(app, args)) return *exit;
  auto db = OpenCentral(dir, db_url);
  if (!db.ok()) return Fail(db.status());
  if (Status status = printing::PrintQueue(**db, SystemClock::Instance()).SetPolicy(regency, policy, by);
      !status.ok()) {
    return Fail(status);
  }
  std::cout << "kebijakan antrean " << regency << ": kartu pertama usia 17 "
            << (policy.first_card_at_17 ? "ya" : "tidak") << ", pemegang Suket "
            << (policy.suket_holders ? "ya" : "tidak") << "\n";
  return kExitOk;
}

int ResidentStatus(const Args& args) {
  CLI::App app("Look up where an e-KTP is: stage, location, collection estimate", "status");
  std::string central_url, cert_path, nik, receipt;
  bool json = false;
  app.add_option("--central", central_url, "central's URL, e.g. https://central.example:8443")->required();
  app.add_option("--central-cert", cert_path, "central's TLS certificate (PEM) to pin; required for https");
  app.add_option("--nik", nik, "the NIK on the card (16 digits)")->required();
  app.add_option("--receipt", receipt, "the receipt (registration) number from enrollment")->required();
  app.add_flag("--json", json, "print the JSON answer");
  if (auto exit = Parse(app, args)) return *exit;
  net::HttpClientOptions options;
  if (cert_path.empty() && central_url.starts_with("https://")) {
    return Fail(InvalidArgument("https URL " + central_url +
                                " needs central's certificate to pin: pass --central-cert FILE (tls-cert.pem in "
                                "central's folder, or central-cert.pem in a station's)"));
  }
  if (!cert_path.empty()) {
    std::ifstream in(cert_path);
    if (!in) return Fail(InvalidArgument("cannot read " + cert_path));
    options.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto client = net::HttpClient::Create(central_url, options);
  if (!client.ok()) return Fail(client.status());
  // Only digits and [A-Za-z0-9._-] are valid; anything else would be refused
  // by central, so refuse it here rather than build a bad query string.
  auto plain = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; });
  };
  if (!plain(nik) || !plain(receipt)) return Fail(InvalidArgument("--nik and --receipt may hold only letters, digits, '.', '_' and '-'"));
  auto response = (*client)->Get("/api/v1/status?nik=" + nik + "&receipt=" + receipt);
  if (!response.ok()) return Fail(response.status());
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    std::string error = body.is_object() ? body.value("error", response->body) : response->body;
    if (response->status == 429) {
      return Fail(ResourceExhausted("terlalu banyak permintaan; coba lagi dalam " + response->header("retry-after") +
                                    " detik (" + error + ")"));
    }
    return Fail(InvalidArgument("central answered " + std::to_string(response->status) + ": " + error));
  }
  if (body.is_discarded() || !body.is_object()) return Fail(DataLoss("central's answer is not JSON"));
  if (json) {
    std::cout << body.dump(2) << "\n";
    return body.value("found", false) ? kExitOk : kExitFailure;
  }
  std::cout << "Tahap: " << body.value("stage_label", "") << " (" << body.value("stage", "") << ")\n"
            << "Posisi kartu: " << body.value("location_label", "") << "\n"
            << "Pengambilan: " << body.value("estimate_label", "") << "\n";
  return body.value("found", false) ? kExitOk : kExitFailure;
}

}  // namespace ektp::cli
