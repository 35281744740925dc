// `ektp demo`: a regency's day on this machine. Central, a Disdukcapil office
// station that prints, two kecamatan offices and a mobile van run as separate
// `ektp` processes (child_process.h), each with SQLite in one work folder; the
// van's and the second kecamatan's links to central go through `ektp tool
// fault-proxy` processes, so an outage is that proxy stopped. The day is
// scripted through the same CLI commands and HTTP routes an admin, an
// operator and a print officer use, while a summary of what central and each
// station hold is redrawn in place (or printed as plain lines when piped).
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "central/server.h"
#include "cli/child_process.h"
#include "cli/local_sites.h"
#include "cli/commands.h"
#include "core/region.h"
#include "core/synthetic_resident.h"
#include "crypto/crypto.h"
#include "net/http_client.h"
#include "pipeline/work_queue.h"
#include "store/record_repository.h"

extern "C" const char ektp_demo_face_jpg[], ektp_demo_face_jpg_end[];

namespace ektp::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kOperator = "operator";
constexpr const char* kOperatorPassword = "demo-operator";
constexpr const char* kPrintOfficer = "cetak";
constexpr const char* kPrintOfficerPassword = "demo-cetak";
constexpr const char* kAdmin = "admin";
constexpr const char* kAdminPassword = "demo-admin";
// Impressions of a synthetic finger: at enrollment, of the planted duplicate, at pickup.
constexpr int kEnrollImpression = 0;
constexpr int kDuplicateImpression = 1;
constexpr int kPickupImpression = 2;
constexpr int64_t kFirstBlank = 1000001;
constexpr int kSpareBlanks = 10;  // blanks handed over beyond one per resident
constexpr auto kStepTimeout = seconds(180);

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop = true; }

struct DemoOptions {
  std::string dir = "ektp-demo";
  std::string regency = "35.21";  // Ngawi, Jawa Timur
  int residents = 40;             // over all four stations
  uint64_t seed = 1;
  int central_port = 8443;
  int station_port = 8080;  // the office's; the others follow
  bool exit_when_done = false;
};

// One station of the day.
struct Site {
  std::string role;  // "office", "kecamatan 1", ...
  std::string kind;  // central::StationKind's name
  std::string capabilities;
  bool behind_proxy = false;  // its link can be cut
  std::string kecamatan;
  std::string dir;
  int port = 0;
  std::string station_id;
  std::unique_ptr<ChildProcess> process;
  std::unique_ptr<ChildProcess> proxy;  // behind_proxy: the link to central
  int proxy_port = 0;
  std::unique_ptr<net::HttpClient> client;
  net::HttpHeaders operator_auth;
  net::HttpHeaders officer_auth;  // the office's print officer
  // Registration number -> synthetic fingerprint subject.
  std::map<std::string, uint64_t> enrolled;
  bool link_down() const { return behind_proxy && proxy == nullptr; }
};

// The synthetic fingerprint subject of the `i`-th resident enrolled at station number `site`.
uint64_t Subject(size_t site, int i) { return site * 1'000'000 + static_cast<uint64_t>(i); }

// Keeps the summary at the bottom of a terminal, redrawn in place; when
// stdout is not a terminal, prints events as they come and the summary only
// at milestones.
class Display {
 public:
  explicit Display(bool live) : live_(live) {}

  void Event(const std::string& line) {
    Clear();
    std::cout << line << "\n";
    Draw();
  }
  // A new summary: redrawn on a terminal, printed when `milestone` otherwise.
  void Summary(std::vector<std::string> lines, bool milestone) {
    if (live_) {
      Clear();
      summary_ = std::move(lines);
      Draw();
    } else if (milestone) {
      for (const std::string& line : lines) std::cout << "  " << line << "\n";
      std::cout << std::flush;
    }
  }

 private:
  void Clear() {
    if (live_ && drawn_ > 0) std::cout << "\x1b[" << drawn_ << "F\x1b[J";
    drawn_ = 0;
  }
  // On a terminal each line is cut to its width, so that redrawing moves up over exactly the lines drawn.
  void Draw() {
    if (live_) {
      winsize size{};
      const size_t width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 3 ? size.ws_col - 3 : 200;
      for (const std::string& line : summary_) std::cout << "  " << line.substr(0, width) << "\x1b[K\n";
      drawn_ = static_cast<int>(summary_.size());
    }
    std::cout << std::flush;
  }
  bool live_;
  std::vector<std::string> summary_;
  int drawn_ = 0;
};

class Day {
 public:
  Day(const DemoOptions& options, Display& display) : options_(options), display_(display) {}
  ~Day() { StopAll(nullptr); }

  Status Run();
  // Serves until Ctrl-C, redrawing the summary.
  void Serve();
  int StopAll(std::vector<std::string>* unclean);

 private:
  std::string CentralDir() const { return options_.dir + "/central"; }
  std::string Log(const std::string& name) const { return options_.dir + "/logs/" + name + ".log"; }
  std::string LinkLog(const Site& site) const { return Log("link-" + std::to_string(&site - sites_.data() + 1)); }
  void Remember(const ChildProcess& child);
  StatusOr<CliOutcome> Cli(const std::vector<std::string>& args, const std::string& stdin_text = "");

  Status PlanSites();
  Status StartCentral();
  Status StartLink(Site& site);
  Status SetUpStation(Site& site);
  Status StartStation(Site& site);
  Status Login(Site& site, const char* user, const char* password, net::HttpHeaders& auth);
  Status HandOverBlanks();
  Status Enroll(Site& site, int count, const Site* duplicate_of);
  Status PrintWaitingCards(int& printed);
  Status Dispatch();
  Status Pickups();
  Status IssueAndVerifySuket();

  // kUnavailable naming the first child process that exited on its own, with its log's tail.
  Status CheckChildren();
  // Polls `done` (redrawing the summary) until it holds, a child exits, Ctrl-C or kStepTimeout.
  Status WaitUntil(const std::string& what, const std::function<StatusOr<bool>()>& done);
  void Say(const std::string& time, const std::string& line) { display_.Event(time + "  " + line); }
  void Refresh(bool milestone);
  std::vector<std::string> SummaryLines();
  StatusOr<std::map<std::string, int64_t>> CentralCounts();
  StatusOr<nlohmann::json> OfficeGet(const std::string& path);
  StatusOr<int64_t> Pending(Site& site);
  int64_t TotalEnrolled() const;

  const DemoOptions& options_;
  Display& display_;
  std::vector<Site> sites_;  // office, kecamatan 1, kecamatan 2 (link cut), van (link cut)
  std::unique_ptr<ChildProcess> central_;
  int central_port_ = 0;
  std::string central_url_;
  std::unique_ptr<store::Connection> central_db_;
  int cards_printed_ = 0;
  int handed_over_ = 0;
  std::string duplicate_registration_;
  std::chrono::steady_clock::time_point last_refresh_;
};

Site& Office(std::vector<Site>& sites) { return sites[0]; }

void Day::Remember(const ChildProcess& child) {
  std::ofstream(options_.dir + "/demo.pids", std::ios::app) << child.pid() << "\n";
}

Status Day::CheckChildren() {
  auto check = [&](std::unique_ptr<ChildProcess>& child, const std::string& name, const std::string& log) -> Status {
    if (!child) return Status::Ok();
    std::optional<int> code = child->Exited();
    if (!code) return Status::Ok();
    child.reset();
    return Unavailable(name + " exited on its own (exit " + std::to_string(*code) + "); " + log + " ends:\n" +
                       FileTail(log));
  };
  RETURN_IF_ERROR(check(central_, "central", Log("central")));
  for (Site& site : sites_) {
    RETURN_IF_ERROR(check(site.process, site.station_id, Log(site.station_id)));
    RETURN_IF_ERROR(check(site.proxy, site.station_id + "'s link", LinkLog(site)));
  }
  return Status::Ok();
}

StatusOr<CliOutcome> Day::Cli(const std::vector<std::string>& args, const std::string& stdin_text) {
  ASSIGN_OR_RETURN(CliOutcome outcome, RunEktp(args, Log("admin"), stdin_text));
  if (outcome.exit_code != 0) {
    RETURN_IF_ERROR(CheckChildren());
    return Internal("`ektp " + args[0] + " " + args[1] + "` failed (exit " + std::to_string(outcome.exit_code) +
                    "); " + Log("admin") + " ends:\n" + FileTail(Log("admin")));
  }
  return outcome;
}

Status Day::PlanSites() {
  const std::vector<const Region*> kecamatans = RegionRegistry::Default().Children(options_.regency);
  if (kecamatans.size() < 4) {
    return InvalidArgument("regency " + options_.regency + " has " + std::to_string(kecamatans.size()) +
                           " kecamatans; the demo needs 4");
  }
  struct Plan {
    const char* role;
    const char* kind;
    const char* capabilities;
    bool behind_proxy;
  };
  constexpr Plan kPlan[] = {{"office", "disdukcapil_office", "enroll,print,pickup,suket", false},
                            {"kecamatan 1", "kecamatan_office", "enroll,pickup,suket", false},
                            {"kecamatan 2", "kecamatan_office", "enroll,pickup,suket", true},
                            {"van", "mobile_van", "enroll,pickup,suket", true}};
  for (size_t i = 0; i < std::size(kPlan); ++i) {
    Site site;
    site.role = kPlan[i].role;
    site.kind = kPlan[i].kind;
    site.capabilities = kPlan[i].capabilities;
    site.behind_proxy = kPlan[i].behind_proxy;
    site.kecamatan = kecamatans[i]->code;
    site.dir = options_.dir + "/station-" + std::to_string(i + 1);
    site.port = options_.station_port == 0 ? 0 : options_.station_port + static_cast<int>(i);
    sites_.push_back(std::move(site));
  }
  return Status::Ok();
}

Status Day::StartCentral() {
  ASSIGN_OR_RETURN(central_, ChildProcess::StartServer({"central", "serve", "--dir", CentralDir(), "--port",
                                                        std::to_string(central_port_)},
                                                       Log("central"), seconds(60)));
  Remember(*central_);
  central_port_ = central_->port();
  central_url_ = central_->address();
  return Status::Ok();
}

// Starts the fault proxy that is `site`'s link to central (no faults: it only
// forwards; stopping it is the outage), on the port it had before if any.
Status Day::StartLink(Site& site) {
  ASSIGN_OR_RETURN(site.proxy,
                   ChildProcess::StartServer({"tool", "fault-proxy", "--listen-port", std::to_string(site.proxy_port),
                                              "--target", "127.0.0.1:" + std::to_string(central_port_)},
                                             LinkLog(site), seconds(20),
                                             /*banner_on_stderr=*/true));
  Remember(*site.proxy);
  site.proxy_port = site.proxy->port();
  return Status::Ok();
}

Status Day::SetUpStation(Site& site) {
  NewStation station{CentralDir(), {}, central_url_, site.kecamatan, site.kind, site.capabilities, site.dir,
                     kAdmin, kAdminPassword, "demo",
                     {{kOperator, "Operator Demo", "operator", kOperatorPassword}}};
  if (site.capabilities.find("print") != std::string::npos) {
    station.operators.push_back({kPrintOfficer, "Petugas Cetak Demo", "print_officer", kPrintOfficerPassword});
  }
  ASSIGN_OR_RETURN(site.station_id, RegisterStation(station, [&](const std::vector<std::string>& args,
                                                                 const std::string& stdin_text) {
                     return Cli(args, stdin_text);
                   }));
  return Status::Ok();
}

Status Day::StartStation(Site& site) {
  if (site.behind_proxy) RETURN_IF_ERROR(StartLink(site));
  const std::string central =
      site.behind_proxy ? "https://127.0.0.1:" + std::to_string(site.proxy_port) : central_url_;
  std::vector<std::string> args = {"station", "serve", "--dir", site.dir, "--port", std::to_string(site.port),
                                   "--central", central, "--sync-idle-ms", "200", "--sync-backoff-ms", "100",
                                   "--sync-max-backoff-ms", "1000",
                                   // The console's fingerprint scanner (web/): synthetic prints.
                                   "--simulated-scanner", std::to_string(options_.seed + 1)};
  if (site.capabilities.find("print") != std::string::npos) {
    args.insert(args.end(), {"--print-output", options_.dir + "/print-output"});
  }
  ASSIGN_OR_RETURN(site.process, ChildProcess::StartServer(args, Log(site.station_id), seconds(60)));
  Remember(*site.process);
  site.port = site.process->port();
  ASSIGN_OR_RETURN(site.client, net::HttpClient::Create(site.process->address(), {}));
  RETURN_IF_ERROR(Login(site, kOperator, kOperatorPassword, site.operator_auth));
  if (site.capabilities.find("print") != std::string::npos) {
    RETURN_IF_ERROR(Login(site, kPrintOfficer, kPrintOfficerPassword, site.officer_auth));
  }
  return Status::Ok();
}

Status Day::Login(Site& site, const char* user, const char* password, net::HttpHeaders& auth) {
  ASSIGN_OR_RETURN(auth, LoginHeaders(*site.client, user, password, site.station_id));
  return Status::Ok();
}

// Central's warehouse takes in the regency's blanks, ships them to the
// regency and hands them over to the office, whose print officer confirms
// them once the hand-over reaches the station through its feed.
Status Day::HandOverBlanks() {
  const int64_t last = kFirstBlank + options_.residents + kSpareBlanks - 1;
  const std::string first_text = std::to_string(kFirstBlank), last_text = std::to_string(last);
  const std::vector<std::string> range = {"--first", first_text, "--last", last_text, "--by", "gudang-demo"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), range.begin(), range.end());
    return args;
  };
  RETURN_IF_ERROR(Cli(with({"central", "blanks", "stock-in", "--dir", CentralDir()})).status());
  RETURN_IF_ERROR(Cli(with({"central", "blanks", "ship", "--dir", CentralDir(), "--regency", options_.regency})).status());
  RETURN_IF_ERROR(
      Cli(with({"central", "blanks", "hand-over", "--dir", CentralDir(), "--station", Office(sites_).station_id}))
          .status());
  RETURN_IF_ERROR(WaitUntil("the office hears of its blanks", [&]() -> StatusOr<bool> {
    ASSIGN_OR_RETURN(nlohmann::json blanks, OfficeGet("/api/v1/print/blanks"));
    return blanks.value("expected", int64_t{0}) > 0;
  }));
  Site& office = Office(sites_);
  RETURN_IF_ERROR(CheckedJson(office.client->Post("/api/v1/print/blanks/receive",
                                                  nlohmann::json{{"first_serial", first_text}, {"last_serial", last_text}}.dump(),
                                                  "application/json", office.officer_auth),
                              200, "receiving blanks")
                      .status());
  Say("07:30", "the office's print officer confirms " + std::to_string(last - kFirstBlank + 1) + " blanks");
  return Status::Ok();
}

// Enrolls `count` synthetic residents at `site` through its operator API, as
// the counter application does. With `duplicate_of`, the last one is a
// planted duplicate: another name, another impression of the fingers of that
// station's first resident.
Status Day::Enroll(Site& site, int count, const Site* duplicate_of) {
  const size_t index = static_cast<size_t>(&site - sites_.data());
  SeededRandom random(options_.seed * 1000 + index);
  bio::SynthGenerator synth(options_.seed);
  for (int i = 0; i < count; ++i) {
    if (g_stop) return Aborted("stopped by Ctrl-C");
    const bool planted = duplicate_of != nullptr && i == count - 1;
    const uint64_t subject = planted ? Subject(static_cast<size_t>(duplicate_of - sites_.data()), 0) : Subject(index, i);
    const int impression = planted ? kDuplicateImpression : kEnrollImpression;
    const Resident resident =
        SyntheticResident(RegionRegistry::Default(), options_.regency, random, SystemClock::Instance().TodayWib());
    std::vector<net::MultipartPart> parts = SyntheticEnrollmentParts(synth, subject, impression, resident);
    net::HttpHeaders headers = site.operator_auth;
    headers.emplace("idempotency-key", crypto::RandomToken(16));  // one per application (docs/openapi.yaml)
    ASSIGN_OR_RETURN(nlohmann::json receipt,
                     CheckedJson(site.client->PostMultipart("/api/v1/enrollments", parts, headers), 201,
                                 site.station_id + " enrollment"));
    const std::string registration = receipt.value("registration_number", "");
    site.enrolled[registration] = subject;
    if (planted) duplicate_registration_ = registration;
    Refresh(false);
  }
  return Status::Ok();
}

// The print officer prints every job the office holds, one POST each, until
// the station answers that none waits.
Status Day::PrintWaitingCards(int& printed) {
  Site& office = Office(sites_);
  printed = 0;
  while (!g_stop) {
    auto answer = office.client->Post("/api/v1/print/next", "", "application/json", office.officer_auth);
    RETURN_IF_ERROR(answer.status().WithContext("printing"));
    if (answer->status == 404 && answer->body.find("no print job is waiting") != std::string::npos) return Status::Ok();
    RETURN_IF_ERROR(CheckedJson(answer, 200, "printing").status());
    ++printed;
    ++cards_printed_;
    Refresh(false);
  }
  return Aborted("stopped by Ctrl-C");
}

// Printed cards into manifests, one per collecting station; each station then
// holds its cards once central has passed them on.
Status Day::Dispatch() {
  Site& office = Office(sites_);
  ASSIGN_OR_RETURN(nlohmann::json dispatched,
                   CheckedJson(office.client->Post("/api/v1/print/dispatch", "", "application/json", office.officer_auth),
                               200, "dispatch"));
  std::string manifests;
  for (const nlohmann::json& manifest : dispatched["manifests"]) {
    manifests += " " + manifest.value("to_station", "") + " (" + std::to_string(manifest["cards"].size()) + ")";
  }
  Say("15:00", "dispatch: manifests to" + manifests);
  return WaitUntil("every collecting station holds its cards", [&]() -> StatusOr<bool> {
    for (const nlohmann::json& manifest : dispatched["manifests"]) {
      for (Site& site : sites_) {
        if (site.station_id != manifest.value("to_station", "")) continue;
        for (const nlohmann::json& card : manifest["cards"]) {
          ASSIGN_OR_RETURN(auto found, site.client->Get("/api/v1/pickup/cards/" + card.value("registration_number", ""),
                                                        site.operator_auth));
          if (found.status != 200) return false;
        }
      }
    }
    return true;
  });
}

// Each resident whose card arrived comes to collect it: the operator checks
// their live fingerprints against the chip's and hands the card over.
Status Day::Pickups() {
  bio::SynthGenerator synth(options_.seed);
  for (Site& site : sites_) {
    int here = 0;
    for (const auto& [registration, subject] : site.enrolled) {
      if (g_stop) return Aborted("stopped by Ctrl-C");
      ASSIGN_OR_RETURN(auto found, site.client->Get("/api/v1/pickup/cards/" + registration, site.operator_auth));
      if (found.status == 404) continue;  // no card for this one (the planted duplicate)
      ASSIGN_OR_RETURN(nlohmann::json card, CheckedJson(found, 200, "finding a card"));
      const std::string serial = card.value("serial", "");
      nlohmann::json fingers = nlohmann::json::array();
      for (int finger : kSyntheticFingers) {
        const std::string live = SyntheticFingerTemplate(synth, subject, finger, kPickupImpression);
        fingers.push_back({{"position", finger},
                           {"template", crypto::Base64Encode(crypto::Bytes(live.begin(), live.end()))}});
      }
      ASSIGN_OR_RETURN(nlohmann::json check,
                       CheckedJson(site.client->Post("/api/v1/pickup/cards/" + serial + "/check",
                                                     nlohmann::json{{"fingers", fingers}}.dump(), "application/json",
                                                     site.operator_auth),
                                   200, "fingerprint check"));
      if (!check.value("passed", false)) {
        return Internal("the fingerprint check of card " + serial + " at " + site.station_id +
                        " failed with the resident's own fingers: " + check.dump());
      }
      RETURN_IF_ERROR(CheckedJson(site.client->Post("/api/v1/pickup/cards/" + serial + "/hand-over", "{}",
                                                    "application/json", site.operator_auth),
                                  200, "hand-over")
                          .status());
      ++here;
      ++handed_over_;
      Refresh(false);
    }
    if (here > 0) Say("16:00", site.station_id + ": " + std::to_string(here) + " handed over after a fingerprint check");
  }
  return Status::Ok();
}

// The planted duplicate waits for adjudication; the van gives that resident a
// Suket, which anyone can check at central's public verify route.
Status Day::IssueAndVerifySuket() {
  Site& van = sites_.back();
  const std::string face(ektp_demo_face_jpg, ektp_demo_face_jpg_end);
  ASSIGN_OR_RETURN(
      nlohmann::json suket,
      CheckedJson(van.client->Post("/api/v1/enrollments/" + duplicate_registration_ + "/suket",
                                   nlohmann::json{{"face_jpeg", crypto::Base64Encode(crypto::Bytes(face.begin(), face.end()))}}.dump(),
                                   "application/json", van.operator_auth),
                  201, "issuing a Suket"));
  auto pdf = crypto::Base64Decode(suket.value("pdf", ""));
  RETURN_IF_ERROR(pdf.status().WithContext("the Suket's PDF"));
  const std::string pdf_path = options_.dir + "/suket-" + suket.value("serial", "") + ".pdf";
  std::ofstream(pdf_path, std::ios::binary).write(reinterpret_cast<const char*>(pdf->data()),
                                                  static_cast<std::streamsize>(pdf->size()));
  net::HttpClientOptions pinned;
  pinned.pinned_cert_pem = ReadWholeFile(CentralDir() + "/tls-cert.pem");
  ASSIGN_OR_RETURN(auto central, net::HttpClient::Create(central_url_, pinned));
  ASSIGN_OR_RETURN(nlohmann::json verified,
                   CheckedJson(central->Post("/api/v1/suket/verify",
                                             nlohmann::json{{"token", suket.value("token", "")}}.dump(), "application/json"),
                               200, "central's Suket verification"));
  if (verified.value("outcome", "") != "valid") {
    return Internal("central did not find the Suket valid: " + verified.dump());
  }
  Say("16:30", "Suket " + suket.value("serial", "") + " issued at " + van.station_id +
                   " for the resident in adjudication; central's verify route: " + verified.value("outcome", "") +
                   " (" + pdf_path + ")");
  return Status::Ok();
}

Status Day::WaitUntil(const std::string& what, const std::function<StatusOr<bool>()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kStepTimeout;
  std::string last_error;
  while (!g_stop) {
    RETURN_IF_ERROR(CheckChildren());
    StatusOr<bool> ok = done();
    if (ok.ok() && *ok) return Status::Ok();
    if (!ok.ok()) last_error = ok.status().ToString();
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable("waited " + std::to_string(kStepTimeout.count()) + " s for " + what +
                         (last_error.empty() ? "" : "; last error: " + last_error) + "; logs in " + options_.dir +
                         "/logs");
    }
    Refresh(false);
    std::this_thread::sleep_for(milliseconds(200));
  }
  return Aborted("stopped by Ctrl-C");
}

StatusOr<std::map<std::string, int64_t>> Day::CentralCounts() {
  if (!central_db_) {
    central::CentralOptions options;
    options.data_dir = CentralDir();
    ASSIGN_OR_RETURN(central_db_, store::Open(central::CentralDbUrl(options), store::Schema::kCentral));
  }
  store::RecordRepository records(*central_db_, SystemClock::Instance());
  ASSIGN_OR_RETURN(auto counts, records.CountByState());
  std::map<std::string, int64_t> out;
  for (const auto& [state, count] : counts) out[std::string(RecordStateName(state))] = count;
  return out;
}

StatusOr<nlohmann::json> Day::OfficeGet(const std::string& path) {
  Site& office = Office(sites_);
  return CheckedJson(office.client->Get(path, office.officer_auth), 200, "office " + path);
}

StatusOr<int64_t> Day::Pending(Site& site) {
  ASSIGN_OR_RETURN(nlohmann::json status,
                   CheckedJson(site.client->Get("/api/v1/sync/status", site.operator_auth), 200, "sync status"));
  return status.value("pending", int64_t{-1});
}

int64_t Day::TotalEnrolled() const {
  int64_t total = 0;
  for (const Site& site : sites_) total += static_cast<int64_t>(site.enrolled.size());
  return total;
}

std::vector<std::string> Day::SummaryLines() {
  std::vector<std::string> lines;
  std::string records = "central  " + std::string(central_ ? "up  " : "DOWN") + "  records:";
  if (auto counts = CentralCounts(); counts.ok()) {
    for (const auto& [state, count] : *counts) records += " " + state + "=" + std::to_string(count);
  } else {
    records += " ? (" + counts.status().message() + ")";
  }
  lines.push_back(records);
  if (central_db_) {
    SystemRandom random;
    std::string queues = "  pipeline queue (waiting or leased):";
    if (auto stages = pipeline::WorkQueue(SystemClock::Instance(), random).Counts(*central_db_); stages.ok()) {
      std::map<std::string, int64_t> open;
      for (const pipeline::StageCounts& c : *stages) {
        open[c.stage] += c.status == pipeline::JobStatus::kReady || c.status == pipeline::JobStatus::kLeased ? c.jobs : 0;
        if (c.status == pipeline::JobStatus::kDead) open[c.stage + " dead"] += c.jobs;
      }
      for (const auto& [stage, jobs] : open) queues += " " + stage + "=" + std::to_string(jobs);
      lines.push_back(queues);
    }
  }
  for (Site& site : sites_) {
    if (!site.client) continue;
    std::string line = site.station_id + "  " + (site.link_down() ? "link DOWN" : "link up  ");
    auto pending = Pending(site);
    line += "  outbox pending " + (pending.ok() ? std::to_string(*pending) : "?");
    line += "  enrolled " + std::to_string(site.enrolled.size());
    lines.push_back(line);
    if (&site != &Office(sites_)) continue;
    std::string printing = "  printing:";
    if (auto blanks = OfficeGet("/api/v1/print/blanks"); blanks.ok()) {
      printing += " blanks on hand " + std::to_string(blanks->value("on_hand", 0)) + ", used " +
                  std::to_string(blanks->value("used", 0)) + ";";
    }
    if (auto jobs = OfficeGet("/api/v1/print/jobs"); jobs.ok()) {
      int waiting = 0;
      for (const nlohmann::json& job : (*jobs)["jobs"]) waiting += job.value("state", "") == "pending";
      printing += " print jobs waiting " + std::to_string(waiting);
    }
    lines.push_back(printing);
  }
  lines.push_back("cards printed " + std::to_string(cards_printed_) + ", handed over " + std::to_string(handed_over_));
  return lines;
}

void Day::Refresh(bool milestone) {
  const auto now = std::chrono::steady_clock::now();
  if (!milestone && now - last_refresh_ < milliseconds(500)) return;
  last_refresh_ = now;
  display_.Summary(SummaryLines(), milestone);
}

Status Day::Run() {
  RETURN_IF_ERROR(PlanSites());
  std::filesystem::create_directories(options_.dir + "/logs");
  Say("06:00", "central init in " + CentralDir());
  RETURN_IF_ERROR(Cli({"central", "init", "--dir", CentralDir(), "--hostname", "127.0.0.1"}).status());
  RETURN_IF_ERROR(Cli({"central", "account", "add", "--dir", CentralDir(), "--username", kAdmin, "--name",
                       "ADMIN PUSAT", "--role", "admin"},
                      std::string(kAdminPassword) + "\n")
                      .status());
  RETURN_IF_ERROR(StartCentral());
  for (Site& site : sites_) {
    RETURN_IF_ERROR(SetUpStation(site));
    RETURN_IF_ERROR(StartStation(site));
    const Region* kecamatan = RegionRegistry::Default().Find(site.kecamatan);
    Say("06:30", site.station_id + "  " + site.role + " (" + site.kind + ", " + site.capabilities + "), kecamatan " +
                     site.kecamatan + " " + (kecamatan ? kecamatan->name : "") + ", registered and approved");
  }
  // The logins and, marked "Console", the web console at `/` of central and of each station (web/).
  std::cout << "\nCentral      " << central_url_ << "/\n";
  std::cout << "  Console    " << central_url_ << "/console   (" << kAdmin << " / " << kAdminPassword
            << "; certificate: " << CentralDir() << "/tls-cert.pem)\n"
            << "  Public     " << central_url_ << "/   (status lookup, Suket check)\n";
  for (const Site& site : sites_) {
    std::cout << site.station_id << "  " << site.process->address() << "  " << site.role << "\n"
              << "  Console    " << site.process->address() << "/\n";
  }
  std::cout << "Logins at every station: " << kOperator << " / " << kOperatorPassword << " (operator), " << kAdmin
            << " / " << kAdminPassword << " (admin); at " << Office(sites_).station_id << " also " << kPrintOfficer
            << " / " << kPrintOfficerPassword << " (print officer)\n"
            << "Logs: " << options_.dir << "/logs\n\n"
            << std::flush;

  RETURN_IF_ERROR(HandOverBlanks());
  Refresh(true);

  // Morning: the van's and the second kecamatan's links are down; everyone enrolls.
  for (Site& site : sites_) {
    if (site.behind_proxy) {
      site.proxy->Stop();
      site.proxy.reset();
      Say("08:00", site.station_id + " (" + site.role + "): link to central DOWN");
    }
  }
  const int per_site = options_.residents / static_cast<int>(sites_.size());
  for (size_t i = 0; i < sites_.size(); ++i) {
    Site& site = sites_[i];
    const int count = per_site + (static_cast<int>(i) < options_.residents % static_cast<int>(sites_.size()) ? 1 : 0);
    const Site* duplicate_of = &site == &sites_.back() ? &sites_[1] : nullptr;
    RETURN_IF_ERROR(Enroll(site, count, duplicate_of));
    Say("08:30", site.station_id + ": " + std::to_string(count) + " residents enrolled" +
                     (duplicate_of ? ", the last one a planted duplicate of a " + sites_[1].station_id + " resident" : "") +
                     (site.link_down() ? " (offline, in the outbox)" : ""));
  }
  Refresh(true);

  // Central's pipeline gives the online stations' residents NIKs; the office prefetches their print jobs.
  int64_t online = 0;
  for (const Site& site : sites_) online += site.link_down() ? 0 : static_cast<int64_t>(site.enrolled.size());
  RETURN_IF_ERROR(WaitUntil("the office to hold the online residents' print jobs", [&]() -> StatusOr<bool> {
    ASSIGN_OR_RETURN(nlohmann::json jobs, OfficeGet("/api/v1/print/jobs"));
    return static_cast<int64_t>(jobs["jobs"].size()) >= online;
  }));
  Say("10:00", "central de-duplicated the online records and gave NIKs; the office prefetched " +
                   std::to_string(online) + " print jobs");
  Refresh(true);

  // Central restarts (an upgrade); the office prints through it.
  central_->Stop();
  central_.reset();
  Say("11:00", "central stopped for a restart");
  int printed = 0;
  RETURN_IF_ERROR(PrintWaitingCards(printed));
  Say("11:10", "the office printed " + std::to_string(printed) + " cards while central was down (spool: " +
                   options_.dir + "/print-output)");
  Refresh(true);
  RETURN_IF_ERROR(StartCentral());
  Say("11:30", "central back on " + central_url_);

  // Afternoon: the links return; the queued enrollments arrive and the duplicate goes to adjudication.
  for (Site& site : sites_) {
    if (!site.link_down()) continue;
    RETURN_IF_ERROR(StartLink(site));
    Say("13:00", site.station_id + " (" + site.role + "): link to central up");
  }
  const int64_t total = TotalEnrolled();
  RETURN_IF_ERROR(WaitUntil("every enrollment at central and de-duplicated", [&]() -> StatusOr<bool> {
    for (Site& site : sites_) {
      ASSIGN_OR_RETURN(int64_t pending, Pending(site));
      if (pending != 0) return false;
    }
    ASSIGN_OR_RETURN(auto counts, CentralCounts());
    int64_t records = 0;
    for (const auto& [state, count] : counts) records += count;
    return records == total && counts["validated"] == 0 && counts["dedupe_pending"] == 0 && counts["unique"] == 0;
  }));
  ASSIGN_OR_RETURN(auto counts, CentralCounts());
  Say("13:30", "every enrollment is at central; in adjudication: " + std::to_string(counts["adjudication"]) +
                   " (ektp central adjudication list --dir " + CentralDir() + ")");
  const int64_t to_print = total - counts["adjudication"] - counts["failed_validation"];
  RETURN_IF_ERROR(WaitUntil("the office to hold every print job", [&]() -> StatusOr<bool> {
    ASSIGN_OR_RETURN(nlohmann::json jobs, OfficeGet("/api/v1/print/jobs"));
    return static_cast<int64_t>(jobs["jobs"].size()) >= to_print;
  }));
  RETURN_IF_ERROR(PrintWaitingCards(printed));
  Say("14:00", "the office printed " + std::to_string(printed) + " more cards");
  Refresh(true);

  RETURN_IF_ERROR(Dispatch());
  RETURN_IF_ERROR(Pickups());
  RETURN_IF_ERROR(IssueAndVerifySuket());

  RETURN_IF_ERROR(WaitUntil("central to hear of every hand-over", [&]() -> StatusOr<bool> {
    for (Site& site : sites_) {
      ASSIGN_OR_RETURN(int64_t pending, Pending(site));
      if (pending != 0) return false;
    }
    ASSIGN_OR_RETURN(auto now, CentralCounts());
    return now["activated"] == handed_over_;
  }));
  ASSIGN_OR_RETURN(auto end, CentralCounts());
  int64_t at_central = 0;
  for (const auto& [state, count] : end) at_central += count;
  Say("17:00", "end of the day: " + std::to_string(total) + " enrolled, " + std::to_string(at_central) +
                   " at central (lost: " + std::to_string(total - at_central) + "), " + std::to_string(cards_printed_) +
                   " printed, " + std::to_string(handed_over_) + " handed over, " +
                   std::to_string(end["adjudication"]) + " in adjudication");
  Refresh(true);
  if (at_central != total) return Internal("central holds " + std::to_string(at_central) + " of " + std::to_string(total) + " enrollments");
  return Status::Ok();
}

void Day::Serve() {
  display_.Event("running; Ctrl-C stops every process");
  while (!g_stop) {
    Refresh(false);
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Stops every child process: stations and their links first, central last.
// Returns how many were running and, in `unclean`, those that did not exit 0
// on SIGTERM.
int Day::StopAll(std::vector<std::string>* unclean) {
  int stopped = 0;
  auto stop = [&](std::unique_ptr<ChildProcess>& child, const std::string& name) {
    if (!child) return;
    const int code = child->Stop();
    if (code != 0 && unclean != nullptr) unclean->push_back(name + " (exit " + std::to_string(code) + ")");
    child.reset();
    ++stopped;
  };
  for (Site& site : sites_) {
    stop(site.process, site.station_id);
    stop(site.proxy, site.station_id + "'s link");
  }
  stop(central_, "central");
  return stopped;
}

int RunDemo(const DemoOptions& options) {
  if (std::filesystem::exists(options.dir + "/central")) {
    return Fail(FailedPrecondition("folder " + options.dir + " holds an earlier demo day; remove it (rm -r " +
                                   options.dir + ") or choose another with --dir"));
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  Display display(isatty(STDOUT_FILENO) == 1);
  std::cout << "ektp demo: a day in " << options.regency << " "
            << RegionRegistry::Default().Find(options.regency)->name << ", in " << options.dir << "\n";
  int exit_code = kExitOk;
  {
    Day day(options, display);
    if (Status status = day.Run(); !status.ok()) {
      exit_code = Fail(g_stop ? Aborted("the day was stopped by a signal before it ended") : status);
    } else if (!options.exit_when_done) {
      day.Serve();
    }
    std::vector<std::string> unclean;
    const int stopped = day.StopAll(&unclean);
    std::cout << (g_stop ? "\nstopped by signal; " : "") << "stopped " << stopped << " processes";
    for (const std::string& name : unclean) std::cout << (&name == &unclean.front() ? "; not cleanly: " : ", ") << name;
    std::cout << std::endl;
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return exit_code;
}

}  // namespace

int Demo(const Args& args) {
  CLI::App app("A regency's day on this machine: central, a printing Disdukcapil office, two kecamatan offices and a "
               "mobile van as separate processes; enrollments with a planted duplicate, link outages, a central "
               "restart, printing, dispatch, pickups and a Suket",
               "demo");
  DemoOptions demo;
  app.add_option("--dir", demo.dir, "work folder for every process's data and logs (must not hold an earlier day)")
      ->capture_default_str();
  app.add_option("--regency", demo.regency, "regency code; its first four kecamatans get the stations")
      ->capture_default_str();
  app.add_option("--residents", demo.residents, "synthetic residents enrolled over the four stations")
      ->capture_default_str()
      ->check(CLI::Range(8, 10000));
  app.add_option("--seed", demo.seed, "seed for the synthetic residents and fingerprints")->capture_default_str();
  app.add_option("--central-port", demo.central_port, "central's HTTPS port (0 picks a free one)")->capture_default_str();
  app.add_option("--station-port", demo.station_port, "the office's port, the other stations follow (0 picks free ones)")
      ->capture_default_str();
  app.add_flag("--exit-when-done", demo.exit_when_done, "stop every process after the day instead of serving until Ctrl-C");
  if (auto exit = Parse(app, args)) return *exit;
  const Region* regency = RegionRegistry::Default().Find(demo.regency);
  if (regency == nullptr) {
    return Fail(InvalidArgument("regency " + demo.regency +
                                " does not exist (35.21 is Ngawi; `ektp region search NAME` finds a code)"));
  }
  if (regency->level != RegionLevel::kRegency) {
    return Fail(InvalidArgument("--regency " + demo.regency + " is " + regency->name + ", not a regency (e.g. 35.21)"));
  }
  return RunDemo(demo);
}

}  // namespace ektp::cli
