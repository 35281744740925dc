#include "cli/chaos.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "central/server.h"
#include "cli/child_process.h"
#include "cli/local_sites.h"
#include "core/region.h"
#include "core/synthetic_resident.h"
#include "faultnet/fault_proxy.h"
#include "station/server.h"
#include "store/db.h"
#include "store/record_repository.h"

namespace ektp::cli {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kAdmin = "admin";
constexpr const char* kAdminPassword = "chaos-admin-1";
constexpr const char* kOperator = "operator";
constexpr const char* kOperatorPassword = "chaos-operator-1";

// Record states a record passes through on its way to a decision; none may remain once central has settled.
const std::set<std::string> kTransientStates = {"received", "validated", "dedupe_pending", "duplicate_suspect",
                                                "unique"};

double SecondsBetween(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// A PostgreSQL cluster in the run's folder, so that the run may kill it.
// Fast settings that survive a killed process, not a killed machine: fsync
// off (the kernel keeps what was written), synchronous_commit on (a commit
// is in the kernel before it is acknowledged).
class OwnPostgres {
 public:
  OwnPostgres(std::string dir, std::string log) : dir_(std::move(dir)), log_(std::move(log)) {}
  ~OwnPostgres() { Stop(); }

  Status Start() {
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
      const std::string bin = entry.path().string() + "/bin";
      if (std::filesystem::exists(bin + "/initdb") && (bin_.empty() || bin > bin_)) bin_ = bin;
    }
    if (bin_.empty()) return FailedPrecondition("PostgreSQL's server binaries are not installed (scripts/setup.sh)");
    std::filesystem::create_directories(dir_);
    if (geteuid() == 0) {
      // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
      RETURN_IF_ERROR(Run({"/usr/bin/chown", "postgres", dir_}, "chown"));
      std::filesystem::permissions(std::filesystem::path(dir_).parent_path(), std::filesystem::perms::others_exec,
                                   std::filesystem::perm_options::add);
    }
    port_ = FreePort();
    RETURN_IF_ERROR(Run(AsOwner({bin_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust", "--no-sync",
                                 "-E", "UTF8"}),
                        "initdb"));
    return StartServer();
  }
  // kill -9 of the postmaster and every backend.
  void Kill() {
    std::ifstream pid_file(dir_ + "/data/postmaster.pid");
    pid_t postmaster = 0;
    pid_file >> postmaster;
    if (postmaster <= 0) return;
    std::vector<pid_t> children;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      const size_t close_paren = line.rfind(')');
      if (close_paren == std::string::npos) continue;
      std::istringstream rest(line.substr(close_paren + 2));
      char state;
      pid_t parent = 0;
      rest >> state >> parent;
      if (parent == postmaster) children.push_back(std::atoi(entry.path().filename().c_str()));
    }
    kill(postmaster, SIGKILL);
    for (pid_t child : children) kill(child, SIGKILL);
  }
  // After Kill: starts again, retrying while the dead cluster's processes are still going away.
  Status StartServer() {
    Status last;
    for (int attempt = 0; attempt < 20; ++attempt) {
      last = Run(AsOwner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60", "start",
                          "-o",
                          "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                              " -c unix_socket_directories=" + dir_ + " -c fsync=off -c max_connections=200"}),
                 "pg_ctl start");
      if (last.ok()) return last;
      std::this_thread::sleep_for(milliseconds(500));
    }
    return last;
  }
  void Stop() {
    if (bin_.empty() || !std::filesystem::exists(dir_ + "/data/postmaster.pid")) return;
    (void)Run(AsOwner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}), "pg_ctl stop");
  }
  std::string url() const {
    return "pg:host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }

 private:
  std::vector<std::string> AsOwner(std::vector<std::string> argv) const {
    if (geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    return argv;
  }
  Status Run(const std::vector<std::string>& argv, const std::string& what) {
    ASSIGN_OR_RETURN(int code, RunProgram(argv, log_));
    if (code != 0) return Unavailable(what + " failed (exit " + std::to_string(code) + "); " + log_ + " ends:\n" + FileTail(log_));
    return Status::Ok();
  }

  std::string dir_;
  std::string log_;
  std::string bin_;
  int port_ = 0;
};

struct ChaosStation {
  int index = 0;
  std::string id;
  std::string dir;
  int port = 0;
  std::unique_ptr<faultnet::FaultProxy> link;
  std::unique_ptr<ChildProcess> process;
  bool killed = false;  // down on purpose until restarted
};

// What the enrolling clients found, shared with the run's thread.
struct Receipts {
  std::mutex mu;
  std::map<std::string, Steady::time_point> acknowledged;  // registration number -> when the client got it
  int64_t enrolled = 0, retries = 0, replayed = 0, refused = 0, duplicated_receipts = 0;
  std::map<std::string, int64_t> refused_reasons;  // "HTTP 400: <the station's error>" -> applications
};

struct Fault {
  std::string kind;
  std::string target;
  Steady::time_point ended;
  double converged_s = -1;
};

class Run {
 public:
  Run(const ChaosOptions& options, const ChaosProgress& progress) : options_(options), progress_(progress),
                                                                    random_(options.seed) {}
  ~Run() { StopAll(); }

  StatusOr<ChaosReport> Go();

 private:
  std::string CentralDir() const { return dir_ + "/central"; }
  std::string Log(const std::string& name) const { return dir_ + "/logs/" + name + ".log"; }
  std::vector<std::string> DbArgs() const {
    return db_url_.empty() ? std::vector<std::string>{} : std::vector<std::string>{"--db", db_url_};
  }
  void Note(const std::string& line) {
    const double at = SecondsBetween(started_, Steady::now());
    std::ofstream(dir_ + "/chaos.log", std::ios::app) << std::fixed << std::setprecision(2) << at << "s " << line << "\n";
  }
  StatusOr<CliOutcome> Cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    ASSIGN_OR_RETURN(CliOutcome outcome, RunEktp(args, Log("admin"), stdin_text));
    if (outcome.exit_code != 0) {
      return Internal("`ektp " + args[0] + " " + args[1] + "` failed (exit " + std::to_string(outcome.exit_code) +
                      "); " + Log("admin") + " ends:\n" + FileTail(Log("admin")));
    }
    return outcome;
  }

  Status StartCentral();
  Status StartStation(ChaosStation& station);
  void Client(const ChaosStation& station, const std::string& url, std::stop_token stop);
  // Sleeps `how_long` while keeping watch: restarts a process that died on
  // its own, polls central for convergence, draws progress.
  void Watch(milliseconds how_long, const std::string& phase, int64_t done, int64_t total);
  void Poll();
  Status Inject(const std::string& kind);
  milliseconds Draw(milliseconds low, milliseconds high) {
    return low + milliseconds(random_.Uniform(static_cast<uint64_t>((high - low).count()) + 1));
  }
  void EndFault(const std::string& kind, const std::string& target) {
    faults_.push_back({kind, target, Steady::now()});
    ++fault_counts_[kind];
    Note("fault " + kind + " " + target + " ends");
  }
  store::Connection* CentralDb();
  // Registration number -> state, at central; empty map and false if central's database does not answer.
  bool CentralStates(std::map<std::string, std::string>& states);
  Status Settle(ChaosReport& report);
  void Count(ChaosReport& report);
  // Stops the clients, stations, links and central; PostgreSQL stays up.
  void StopProcesses();
  void StopAll();

  const ChaosOptions& options_;
  const ChaosProgress& progress_;
  SeededRandom random_;
  std::string dir_;
  std::string db_url_;
  std::unique_ptr<OwnPostgres> postgres_;
  std::unique_ptr<ChildProcess> central_;
  bool central_down_ = false;
  int central_port_ = 0;
  std::string central_url_;
  std::vector<ChaosStation> stations_;
  std::unique_ptr<store::Connection> central_db_;
  Receipts receipts_;
  std::vector<std::jthread> clients_;
  std::vector<Fault> faults_;
  std::map<std::string, int64_t> fault_counts_;
  int64_t unexpected_exits_ = 0;
  Steady::time_point started_ = Steady::now();
  Steady::time_point started_faults_ = Steady::now();
  Steady::time_point last_poll_{};
  std::string last_stale_example_;
  std::set<std::string> at_central_;
};

Status Run::StartCentral() {
  std::vector<std::string> args = {"central", "serve", "--dir", CentralDir(), "--port", std::to_string(central_port_)};
  for (const std::string& arg : DbArgs()) args.push_back(arg);
  ASSIGN_OR_RETURN(central_, ChildProcess::StartServer(args, Log("central"), seconds(60)));
  central_port_ = central_->port();
  central_url_ = central_->address();
  central_down_ = false;
  return Status::Ok();
}

Status Run::StartStation(ChaosStation& station) {
  std::vector<std::string> args = {"station", "serve", "--dir", station.dir, "--port", std::to_string(station.port),
                                   "--central", "https://127.0.0.1:" + std::to_string(station.link->port()),
                                   // The station's own sync settings (idle 2 s, backoff 0.5-60 s), as deployed.
                                   "--seed", std::to_string(options_.seed * 100 + static_cast<uint64_t>(station.index) + 1)};
  ASSIGN_OR_RETURN(station.process, ChildProcess::StartServer(args, Log(station.id), seconds(60)));
  station.port = station.process->port();
  station.killed = false;
  return Status::Ok();
}

// One operator at the station's counter, enrolling without pause until
// `stop`. Each application keeps its Idempotency-Key until a station answers
// it, whatever happens to the station or the answer meanwhile.
void Run::Client(const ChaosStation& station, const std::string& url, std::stop_token stop) {
  SeededRandom random(options_.seed * 7919 + static_cast<uint64_t>(station.index));
  const bio::SynthGenerator synth(options_.seed);
  net::HttpClientOptions client_options;
  client_options.connect_timeout = seconds(2);
  client_options.read_timeout = seconds(20);
  auto client = net::HttpClient::Create(url, client_options);
  if (!client.ok()) return;
  net::HttpHeaders auth;
  const auto today = SystemClock::Instance().TodayWib();
  const auto pace = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / options_.rate));
  auto next = Steady::now();
  for (uint64_t i = 0; !stop.stop_requested(); ++i) {
    // A steady arrival rate; one held up by a fault does not come back as a burst of the ones it delayed.
    next = std::max(next + pace, Steady::now());
    const uint64_t subject = static_cast<uint64_t>(station.index + 1) * 1'000'000 + i;
    const Resident resident = SyntheticResident(RegionRegistry::Default(), options_.regency, random, today);
    const std::vector<net::MultipartPart> parts = SyntheticEnrollmentParts(synth, subject, 0, resident);
    char key[40];
    snprintf(key, sizeof(key), "chaos-%016llx", static_cast<unsigned long long>(random.Next()));
    {
      std::lock_guard lock(receipts_.mu);
      ++receipts_.enrolled;
    }
    // The answer to this application, however many sends it takes; an
    // application in flight when the run stops enrolling is still finished.
    const auto give_up = Steady::now() + options_.duration + options_.settle_timeout;
    bool first = true;
    while (Steady::now() < give_up) {
      if (auth.empty()) {
        auto login = LoginHeaders(**client, kOperator, kOperatorPassword, station.id);
        if (!login.ok()) {
          std::this_thread::sleep_for(milliseconds(200));
          continue;
        }
        auth = *login;
      }
      net::HttpHeaders headers = auth;
      headers.emplace("idempotency-key", key);
      auto answer = (*client)->PostMultipart("/api/v1/enrollments", parts, headers);
      if (!first && answer.ok() && answer->status < 500) {
        std::lock_guard lock(receipts_.mu);
        ++receipts_.retries;
      }
      if (!answer.ok() || answer->status >= 500) {
        first = false;  // the station may or may not have committed it: the same key goes again
        std::this_thread::sleep_for(milliseconds(100));
        continue;
      }
      if (answer->status == 401) {
        auth.clear();
        continue;
      }
      std::lock_guard lock(receipts_.mu);
      if (answer->status == 200 || answer->status == 201) {
        auto json = nlohmann::json::parse(answer->body, nullptr, false);
        const std::string registration = json.is_object() ? json.value("registration_number", "") : "";
        if (answer->status == 200) ++receipts_.replayed;
        if (!receipts_.acknowledged.emplace(registration, Steady::now()).second) ++receipts_.duplicated_receipts;
      } else {
        ++receipts_.refused;
        auto json = nlohmann::json::parse(answer->body, nullptr, false);
        const std::string error = json.is_object() && json.value("error", nlohmann::json()).is_string()
                                      ? json["error"].get<std::string>()
                                      : answer->body;
        ++receipts_.refused_reasons["HTTP " + std::to_string(answer->status) + ": " + error.substr(0, 200)];
      }
      break;
    }
    std::this_thread::sleep_until(next);
  }
}

store::Connection* Run::CentralDb() {
  if (!central_db_) {
    central::CentralOptions central;
    central.data_dir = CentralDir();
    central.db_url = db_url_;
    auto db = store::Open(central::CentralDbUrl(central), store::Schema::kCentral);
    if (!db.ok()) return nullptr;
    central_db_ = std::move(*db);
  }
  return central_db_.get();
}

bool Run::CentralStates(std::map<std::string, std::string>& states) {
  states.clear();
  store::Connection* db = CentralDb();
  if (db == nullptr) return false;
  auto rows = db->Query("SELECT registration_number, state FROM records");
  if (!rows.ok()) {
    central_db_.reset();  // PostgreSQL was restarted: a new connection next time
    return false;
  }
  for (const store::Row& row : *rows) states[row.Text(0)] = row.Text(1);
  return true;
}

// Marks every fault converged whose receipts are all at central: each fault
// that ended before the oldest receipt still missing there.
void Run::Poll() {
  const auto now = Steady::now();
  if (now - last_poll_ < milliseconds(500)) return;
  last_poll_ = now;
  std::map<std::string, std::string> states;
  if (!CentralStates(states)) return;
  for (const auto& [registration, state] : states) at_central_.insert(registration);
  Steady::time_point oldest_missing = Steady::time_point::max();
  {
    std::lock_guard lock(receipts_.mu);
    for (const auto& [registration, at] : receipts_.acknowledged) {
      if (!at_central_.contains(registration)) oldest_missing = std::min(oldest_missing, at);
    }
  }
  for (Fault& fault : faults_) {
    if (fault.converged_s < 0 && fault.ended < oldest_missing) fault.converged_s = SecondsBetween(fault.ended, now);
  }
}

void Run::Watch(milliseconds how_long, const std::string& phase, int64_t done, int64_t total) {
  const auto until = Steady::now() + how_long;
  do {
    auto restart = [&](std::unique_ptr<ChildProcess>& child, const std::string& name) {
      if (!child) return false;
      std::optional<int> code = child->Exited();
      if (!code) return false;
      ++unexpected_exits_;
      Note(name + " exited on its own (exit " + std::to_string(*code) + "); restarting it");
      child.reset();
      return true;
    };
    restart(central_, "central");
    if (!central_ && !central_down_) {
      if (Status started = StartCentral(); !started.ok()) Note("central did not restart: " + started.ToString());
    }
    for (ChaosStation& station : stations_) {
      restart(station.process, station.id);
      if (!station.process && !station.killed) {
        if (Status started = StartStation(station); !started.ok()) Note(station.id + " did not restart: " + started.ToString());
      }
    }
    Poll();
    int64_t acknowledged;
    {
      std::lock_guard lock(receipts_.mu);
      acknowledged = static_cast<int64_t>(receipts_.acknowledged.size());
    }
    int64_t faults = 0;
    for (const auto& [kind, count] : fault_counts_) faults += count;
    progress_(phase, done + std::chrono::duration_cast<seconds>(how_long - (until - Steady::now())).count(), total,
              std::to_string(acknowledged) + " receipts, " + std::to_string(at_central_.size()) + " at central, " +
                  std::to_string(faults) + " faults");
    std::this_thread::sleep_for(milliseconds(100));
  } while (Steady::now() < until);
}

Status Run::Inject(const std::string& kind) {
  const int total_seconds = static_cast<int>(options_.duration.count());
  const int64_t done = static_cast<int64_t>(SecondsBetween(started_faults_, Steady::now()));
  auto watch = [&](milliseconds d) { Watch(d, "faults", done, total_seconds); };
  ChaosStation& station = stations_[random_.Uniform(stations_.size())];
  if (kind == "station_kill") {
    Note("kill -9 " + station.id);
    station.killed = true;
    station.process->Kill();
    station.process.reset();
    watch(Draw(milliseconds(500), milliseconds(3000)));
    station.killed = false;  // Watch starts it again if this start fails
    if (Status started = StartStation(station); !started.ok()) Note(station.id + " did not restart: " + started.ToString());
    EndFault(kind, station.id);
  } else if (kind == "central_kill" || kind == "central_restart") {
    Note(kind == "central_kill" ? "kill -9 central" : "SIGTERM central");
    central_down_ = true;
    if (kind == "central_kill") {
      central_->Kill();
    } else {
      central_->Stop();
    }
    central_.reset();
    if (kind == "central_kill") watch(Draw(milliseconds(500), milliseconds(3000)));
    central_down_ = false;  // Watch starts it again if this start fails
    if (Status started = StartCentral(); !started.ok()) Note("central did not restart: " + started.ToString());
    EndFault(kind, "central");
  } else if (kind == "postgres_kill") {
    Note("kill -9 postgres");
    postgres_->Kill();
    watch(Draw(milliseconds(1000), milliseconds(3000)));
    RETURN_IF_ERROR(postgres_->StartServer());
    EndFault(kind, "postgres");
  } else if (kind == "link_outage") {
    Note("link down " + station.id);
    station.link->SetDown(true);
    watch(Draw(milliseconds(1000), milliseconds(5000)));
    station.link->SetDown(false);
    EndFault(kind, station.id);
  } else if (kind == "link_cut") {
    const uint64_t cut = station.link->CutLive();
    Note("cut " + std::to_string(cut) + " live connections of " + station.id);
    EndFault(kind, station.id);
  } else if (kind == "slow_link" || kind == "lossy_link") {
    faultnet::FaultPlan plan;
    if (kind == "slow_link") {
      plan.delay_prob = 1;
      plan.delay = milliseconds(200);
      plan.rate_bytes_per_sec = 32 * 1024;
    } else {
      plan.cut_request_prob = 0.1;
      plan.cut_response_prob = 0.1;
      plan.reset_prob = 0.1;
      plan.cut_min_bytes = 0;
      plan.cut_max_bytes = 64 * 1024;
    }
    RETURN_IF_ERROR(station.link->SetPlan(plan));
    station.link->CutLive();  // kept-alive connections come back under the new plan
    Note(kind + " " + station.id);
    watch(Draw(milliseconds(2000), milliseconds(6000)));
    RETURN_IF_ERROR(station.link->SetPlan(faultnet::FaultPlan{}));
    station.link->CutLive();
    EndFault(kind, station.id);
  } else {
    return InvalidArgument("unknown fault " + kind);
  }
  return Status::Ok();
}

// Faults have stopped: waits until every receipt is at central, every
// outbox is empty and central's pipeline has decided every record; then
// until every station shows central's state of each of its records.
Status Run::Settle(ChaosReport& report) {
  const auto faults_stopped = Steady::now();
  const int64_t total = options_.settle_timeout.count();
  Steady::time_point settled{};
  std::map<std::string, std::string> states;
  while (Steady::now() - faults_stopped < options_.settle_timeout) {
    Watch(milliseconds(500), "settling", SecondsBetween(faults_stopped, Steady::now()), total);
    if (!CentralStates(states)) continue;
    bool done = true;
    for (const auto& [registration, state] : states) done = done && !kTransientStates.contains(state);
    {
      std::lock_guard lock(receipts_.mu);
      for (const auto& [registration, at] : receipts_.acknowledged) done = done && states.contains(registration);
    }
    for (ChaosStation& station : stations_) {
      auto db = store::Open(station::StationDbUrl(station.dir), store::Schema::kStation);
      auto pending = db.ok() ? (*db)->Query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                             : StatusOr<std::vector<store::Row>>(db.status());
      done = done && pending.ok() && (*pending)[0].Int(0) == 0;
    }
    if (done) {
      settled = Steady::now();
      report.settle_s = SecondsBetween(faults_stopped, settled);
      break;
    }
  }
  if (report.settle_s < 0) {
    Note("central did not settle within " + std::to_string(total) + " s");
    return Status::Ok();
  }
  Note("central settled after " + std::to_string(report.settle_s) + " s");
  // The way back down: each station's view of each of its records against central's.
  while (Steady::now() - settled < options_.settle_timeout) {
    Watch(milliseconds(250), "down to the stations", SecondsBetween(settled, Steady::now()), total);
    if (!CentralStates(states)) continue;
    int64_t stale = 0;
    std::string example;
    for (ChaosStation& station : stations_) {
      auto db = store::Open(station::StationDbUrl(station.dir), store::Schema::kStation);
      if (!db.ok()) {
        ++stale;
        continue;
      }
      auto rows = (*db)->Query("SELECT registration_number, status FROM enrollments");
      if (!rows.ok()) {
        ++stale;
        continue;
      }
      for (const store::Row& row : *rows) {
        auto at = states.find(row.Text(0));
        if (at == states.end() || at->second != row.Text(1)) {
          ++stale;
          if (example.empty()) {
            example = row.Text(0) + " is " + row.Text(1) + " at " + station.id + ", " +
                      (at == states.end() ? "absent" : at->second) + " at central";
          }
        }
      }
    }
    report.stale_at_stations = stale;
    if (stale == 0) {
      report.down_converge_s = SecondsBetween(settled, Steady::now());
      Note("every station shows central's state after " + std::to_string(report.down_converge_s) + " s");
      return Status::Ok();
    }
    if (!example.empty()) last_stale_example_ = example;
  }
  Note("stations still stale after " + std::to_string(total) + " s: " + std::to_string(report.stale_at_stations) +
       " records, e.g. " + last_stale_example_);
  return Status::Ok();
}

void Run::Count(ChaosReport& report) {
  std::map<std::string, std::string> states;
  CentralStates(states);
  {
    std::lock_guard lock(receipts_.mu);
    report.enrolled = receipts_.enrolled;
    report.acknowledged = static_cast<int64_t>(receipts_.acknowledged.size());
    report.retries = receipts_.retries;
    report.replayed = receipts_.replayed;
    report.refused = receipts_.refused;
    report.refused_reasons = receipts_.refused_reasons;
    report.duplicated_receipts = receipts_.duplicated_receipts;
    for (const auto& [registration, at] : receipts_.acknowledged) {
      if (states.contains(registration)) ++report.acknowledged_at_central;
    }
    for (const auto& [registration, state] : states) {
      if (!receipts_.acknowledged.contains(registration)) ++report.unacknowledged_at_central;
    }
  }
  report.lost = report.acknowledged - report.acknowledged_at_central;
  report.records_at_central = static_cast<int64_t>(states.size());
  for (const auto& [registration, state] : states) ++report.central_states[state];
  if (store::Connection* db = CentralDb()) {
    auto rows = db->Query("SELECT COUNT(*) - COUNT(DISTINCT registration_number), COUNT(*) - COUNT(DISTINCT "
                          "resident_json) FROM records");
    if (rows.ok()) {
      report.duplicated_registration += (*rows)[0].Int(0);
      report.duplicated_resident += (*rows)[0].Int(1);
    }
  }
  for (ChaosStation& station : stations_) {
    auto db = store::Open(station::StationDbUrl(station.dir), store::Schema::kStation);
    if (!db.ok()) continue;
    if (auto rows = (*db)->Query("SELECT COUNT(*) - COUNT(DISTINCT registration_number) FROM enrollments"); rows.ok()) {
      report.duplicated_registration += (*rows)[0].Int(0);
    }
    auto parked = (*db)->Query("SELECT COALESCE(last_error, ''), COUNT(*) FROM outbox WHERE state = 'parked' GROUP BY 1");
    if (!parked.ok()) continue;
    for (const store::Row& row : *parked) {
      report.parked += row.Int(1);
      report.parked_reasons[row.Text(0)] += row.Int(1);
    }
  }
  std::vector<std::string> audit = {"central", "audit", "verify", "--dir", CentralDir()};
  for (const std::string& arg : DbArgs()) audit.push_back(arg);
  auto verified = RunEktp(audit, Log("admin"));
  report.audit_intact = verified.ok() && verified->exit_code == 0;
  report.audit_output = verified.ok() ? verified->out : verified.status().ToString();
  while (!report.audit_output.empty() && report.audit_output.back() == '\n') report.audit_output.pop_back();
  report.longest_fault_converge_s = 0;
  for (const Fault& fault : faults_) {
    if (fault.converged_s < 0) {
      report.longest_fault_converge_s = -1;
      break;
    }
    report.longest_fault_converge_s = std::max(report.longest_fault_converge_s, fault.converged_s);
  }
  report.faults = fault_counts_;
  report.unexpected_exits = unexpected_exits_;
}

void Run::StopProcesses() {
  for (std::jthread& client : clients_) client.request_stop();
  clients_.clear();
  for (ChaosStation& station : stations_) {
    if (station.process) station.process->Stop();
    station.process.reset();
    if (station.link) station.link->Stop();
  }
  if (central_) central_->Stop();
  central_.reset();
}

void Run::StopAll() {
  StopProcesses();
  central_db_.reset();
  if (postgres_) postgres_->Stop();
  postgres_.reset();
}

StatusOr<ChaosReport> Run::Go() {
  dir_ = options_.dir;
  std::filesystem::create_directories(dir_ + "/logs");
  ChaosReport report;
  report.backend = options_.backend == ChaosBackend::kPostgres ? "postgres" : "sqlite";
  report.seed = options_.seed;
  report.stations = options_.stations;
  report.dir = dir_;
  std::vector<std::string> kinds = {"station_kill", "central_kill", "central_restart", "link_outage",
                                    "link_cut",     "slow_link",    "lossy_link"};
  if (options_.backend == ChaosBackend::kPostgres) {
    db_url_ = options_.db_url;
    if (db_url_.empty()) {
      progress_("starting PostgreSQL", 0, 0, "");
      postgres_ = std::make_unique<OwnPostgres>(dir_ + "/postgres", Log("postgres"));
      RETURN_IF_ERROR(postgres_->Start());
      db_url_ = postgres_->url();
      kinds.push_back("postgres_kill");
    }
  }
  progress_("starting central", 0, 0, "");
  std::vector<std::string> init = {"central", "init", "--dir", CentralDir(), "--hostname", "127.0.0.1"};
  for (const std::string& arg : DbArgs()) init.push_back(arg);
  RETURN_IF_ERROR(Cli(init).status());
  std::vector<std::string> account = {"central", "account", "add", "--dir", CentralDir(), "--username", kAdmin,
                                      "--name", "ADMIN PUSAT", "--role", "admin"};
  for (const std::string& arg : DbArgs()) account.push_back(arg);
  RETURN_IF_ERROR(Cli(account, std::string(kAdminPassword) + "\n").status());
  RETURN_IF_ERROR(StartCentral());

  const std::vector<const Region*> kecamatans = RegionRegistry::Default().Children(options_.regency);
  if (kecamatans.empty()) return InvalidArgument("regency " + options_.regency + " has no kecamatan");
  stations_.resize(static_cast<size_t>(options_.stations));
  for (ChaosStation& station : stations_) {
    station.index = static_cast<int>(&station - stations_.data());
    station.dir = dir_ + "/station-" + std::to_string(station.index + 1);
    progress_("registering stations", station.index, options_.stations, "");
    NewStation setup{CentralDir(), DbArgs(), central_url_,
                     kecamatans[static_cast<size_t>(station.index) % kecamatans.size()]->code, "kecamatan_office",
                     "enroll,pickup,suket", station.dir, kAdmin, kAdminPassword, "chaos",
                     {{kOperator, "Operator Chaos", "operator", kOperatorPassword}}};
    ASSIGN_OR_RETURN(station.id, RegisterStation(setup, [&](const std::vector<std::string>& args,
                                                            const std::string& stdin_text) {
                       return Cli(args, stdin_text);
                     }));
    faultnet::FaultProxyOptions link;
    link.target_port = static_cast<uint16_t>(central_port_);
    link.seed = options_.seed * 31 + static_cast<uint64_t>(station.index);
    station.link = std::make_unique<faultnet::FaultProxy>(link);
    RETURN_IF_ERROR(station.link->Start());
    RETURN_IF_ERROR(StartStation(station));
  }
  Note("running " + std::to_string(stations_.size()) + " stations on " + report.backend + " for " +
       std::to_string(options_.duration.count()) + " s, seed " + std::to_string(options_.seed));

  for (ChaosStation& station : stations_) {
    clients_.emplace_back([this, &station, url = station.process->address()](std::stop_token stop) {
      Client(station, url, stop);
    });
  }
  started_faults_ = Steady::now();
  const auto faults_end = started_faults_ + options_.duration;
  std::vector<std::string> round;
  while (true) {
    const milliseconds gap(static_cast<int64_t>(options_.fault_gap.count() / 2 +
                                                random_.Uniform(static_cast<uint64_t>(options_.fault_gap.count()) + 1)));
    if (Steady::now() + gap >= faults_end) break;
    Watch(gap, "faults", static_cast<int64_t>(SecondsBetween(started_faults_, Steady::now())),
          options_.duration.count());
    if (options_.stop != nullptr && *options_.stop) return Aborted("stopped by a signal");
    // Rounds of every kind once, each round in a seeded order: a short run still sees each kind of fault.
    if (round.empty()) {
      round = kinds;
      for (size_t i = round.size() - 1; i > 0; --i) std::swap(round[i], round[random_.Uniform(i + 1)]);
    }
    const std::string kind = round.back();
    round.pop_back();
    RETURN_IF_ERROR(Inject(kind));
  }
  const auto left = faults_end - Steady::now();
  if (left > Steady::duration::zero()) {
    Watch(std::chrono::duration_cast<milliseconds>(left), "faults",
          static_cast<int64_t>(SecondsBetween(started_faults_, Steady::now())), options_.duration.count());
  }
  report.duration_s = SecondsBetween(started_faults_, Steady::now());
  Note("faults stop; the clients finish the applications they hold");
  for (std::jthread& client : clients_) client.request_stop();
  for (std::jthread& client : clients_) client.join();
  clients_.clear();
  RETURN_IF_ERROR(Settle(report));
  StopProcesses();
  Count(report);
  StopAll();
  return report;
}

}  // namespace

bool ChaosReport::passed() const {
  return lost == 0 && unacknowledged_at_central == 0 && duplicated_registration == 0 && duplicated_resident == 0 &&
         duplicated_receipts == 0 && settle_s >= 0 && longest_fault_converge_s >= 0 && down_converge_s >= 0 &&
         audit_intact;
}

nlohmann::json ChaosReportToJson(const ChaosReport& report) {
  return {{"backend", report.backend},
          {"seed", report.seed},
          {"stations", report.stations},
          {"duration_s", report.duration_s},
          {"faults", report.faults},
          {"unexpected_exits", report.unexpected_exits},
          {"enrolled", report.enrolled},
          {"acknowledged", report.acknowledged},
          {"retries", report.retries},
          {"replayed", report.replayed},
          {"refused", report.refused},
          {"refused_reasons", report.refused_reasons},
          {"records_at_central", report.records_at_central},
          {"acknowledged_at_central", report.acknowledged_at_central},
          {"lost", report.lost},
          {"unacknowledged_at_central", report.unacknowledged_at_central},
          {"duplicated", {{"registration_number", report.duplicated_registration},
                          {"resident", report.duplicated_resident},
                          {"receipts", report.duplicated_receipts}}},
          {"parked", report.parked},
          {"parked_reasons", report.parked_reasons},
          {"central_states", report.central_states},
          {"longest_fault_converge_s", report.longest_fault_converge_s},
          {"settle_s", report.settle_s},
          {"down_converge_s", report.down_converge_s},
          {"stale_at_stations", report.stale_at_stations},
          {"audit_intact", report.audit_intact},
          {"audit", report.audit_output},
          {"passed", report.passed()},
          {"dir", report.dir}};
}

StatusOr<ChaosReport> RunChaos(const ChaosOptions& options, const ChaosProgress& progress) {
  Run run(options, progress);
  return run.Go();
}

}  // namespace ektp::cli
