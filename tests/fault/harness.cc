#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "central/server.h"
#include "core/region.h"
#include "core/resident_json.h"
#include "core/synthetic_resident.h"
#include "enrollment/testing.h"
#include "pipeline/biometrics_at_rest.h"
#include "store/db.h"
#include "store/testing.h"
#include "sync/packet.h"

extern char** environ;

namespace ektp::fault {
namespace {

using namespace std::chrono;

std::vector<char*> Argv(const std::string& binary, const std::vector<std::string>& args,
                        std::vector<std::string>& storage) {
  storage.clear();
  storage.push_back(binary.empty() ? EktpBinary() : binary);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

// Spawns ektp with stdin from `stdin_fd` (or /dev/null), stdout into a new
// pipe whose read end is returned in `stdout_fd`, stderr appended to `log_path`.
StatusOr<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log_path, int stdin_fd,
                      int* stdout_fd, const std::string& binary = "") {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Unavailable("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  // The child must not hold the test's sockets (proxy listener, client connections) open.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(binary, args, storage);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return Unavailable("cannot start " + storage[0] + ": " + std::strerror(rc));
  }
  *stdout_fd = out[0];
  return pid;
}

std::string Join(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

StatusOr<std::unique_ptr<store::Connection>> OpenFile(const std::string& path) {
  if (!std::filesystem::exists(path)) return NotFound(path + " does not exist");
  return store::OpenSqlite(path);
}

StatusOr<std::unique_ptr<store::Connection>> OpenCentral(const std::string& central_dir, const std::string& central_db) {
  if (central_db.empty()) return OpenFile(central_dir + "/central.db");
  return store::Open(central_db, store::Schema::kCentral);
}

StatusOr<int64_t> Count(store::Connection& db, const std::string& sql, const std::vector<store::Value>& params = {}) {
  ASSIGN_OR_RETURN(auto rows, db.Query(sql, params));
  return rows.empty() ? 0 : rows[0].Int(0);
}

}  // namespace

uint64_t Seed() {
  std::string seed = Env("EKTP_FAULT_SEED");
  return seed.empty() ? 20261124 : std::strtoull(seed.c_str(), nullptr, 10);
}

bool LongMode() { return Env("EKTP_FAULT_LONG") == "1"; }

int TimeoutScale() {
  int scale = std::atoi(Env("EKTP_FAULT_SLOW").c_str());
#if defined(__SANITIZE_ADDRESS__)
  if (scale < 1) scale = 5;
#endif
  return std::max(scale, 1);
}

std::string EktpBinary() { return EKTP_BINARY; }

void WaitToKill(std::chrono::milliseconds delay, const std::atomic<int>& progress, int until,
                const std::atomic<bool>& worker_stopped) {
  const auto deadline = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < deadline && progress.load() < until && !worker_stopped.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::string LogTail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out = "--- last lines of " + path + " ---\n";
  for (const std::string& line : tail) out += line + "\n";
  return out;
}

CliResult RunEktp(const std::vector<std::string>& args, const std::string& log_path, const std::string& stdin_text) {
  CliResult result;
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return result;
  int stdout_fd = -1;
  auto pid = Spawn(args, log_path, in[0], &stdout_fd);
  close(in[0]);
  if (!pid.ok()) {
    close(in[1]);
    result.out = pid.status().ToString();
    return result;
  }
  // Small texts only (a password line): fits in the pipe buffer.
  if (!stdin_text.empty()) (void)!write(in[1], stdin_text.data(), stdin_text.size());
  close(in[1]);
  char buffer[4096];
  for (ssize_t n; (n = read(stdout_fd, buffer, sizeof(buffer))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.out.append(buffer, static_cast<size_t>(n));
  }
  close(stdout_fd);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& args, const std::string& log_path,
                                                  milliseconds timeout, const std::string& binary) {
  int stdout_fd = -1;
  ASSIGN_OR_RETURN(pid_t pid, Spawn(args, log_path, -1, &stdout_fd, binary));
  std::unique_ptr<Process> process(new Process(pid, stdout_fd));
  auto deadline = steady_clock::now() + timeout;
  std::string text;
  while (true) {
    size_t newline = text.find('\n');
    if (newline != std::string::npos) {
      std::string line = text.substr(0, newline);
      text.erase(0, newline + 1);
      size_t at = line.find("listening on ");
      if (at != std::string::npos) {
        process->url_ = line.substr(at + 13);
        return process;
      }
      continue;
    }
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) {
      return Unavailable("ektp " + Join(args) + " did not print its URL within " +
                         std::to_string(timeout.count()) + " ms\n" + LogTail(log_path));
    }
    pollfd fd{stdout_fd, POLLIN, 0};
    int ready = poll(&fd, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready <= 0) continue;
    char buffer[1024];
    ssize_t n = read(stdout_fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int code = process->Terminate(milliseconds(100));
      return Unavailable("ektp " + Join(args) + " exited (status " + std::to_string(code) + ") before listening\n" +
                         LogTail(log_path));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
}

Process::~Process() {
  Kill();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

int Process::port() const {
  size_t colon = url_.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url_.c_str() + colon + 1);
}

bool Process::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

int Process::Terminate(milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_ = -1;
  return status;
}

Cluster::Cluster(const std::string& name, const std::string& central_db)
    : dir_(store::testing::MakeTempDir("ektp-fault-" + name + "-")), central_db_(central_db) {}

std::vector<std::string> Cluster::WithDb(std::vector<std::string> args) const {
  if (!central_db_.empty()) args.insert(args.end(), {"--db", central_db_});
  return args;
}

Cluster::~Cluster() {
  if (::testing::Test::HasFailure() || Env("EKTP_FAULT_KEEP") == "1") {
    std::fprintf(stderr, "fault test: logs and databases kept in %s\n", dir_.c_str());
  } else {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
}

Status Cluster::InitCentral() {
  CliResult result = RunEktp(WithDb({"central", "init", "--dir", central_dir()}), log("central-cli"));
  if (result.exit_code != 0) return Unavailable("central init failed: " + result.out + LogTail(log("central-cli")));
  return Status::Ok();
}

StatusOr<std::unique_ptr<Process>> Cluster::StartCentral(int port, const std::string& log_name,
                                                         const std::string& binary) {
  std::vector<std::string> args = {"central", "serve", "--dir", central_dir(), "--port", std::to_string(port)};
  if (!central_pipeline_) args.push_back("--no-pipeline");
  return Process::Start(WithDb(std::move(args)),
                        log(log_name), seconds(20 * TimeoutScale()), binary);
}

StatusOr<std::string> Cluster::CreateToken(const std::string& kecamatan, const std::string& capabilities) {
  CliResult result = RunEktp(WithDb({"central", "token", "create", "--dir", central_dir(), "--kecamatan", kecamatan,
                                     "--capabilities", capabilities}),
                             log("central-cli"));
  while (!result.out.empty() && (result.out.back() == '\n' || result.out.back() == ' ')) result.out.pop_back();
  if (result.exit_code != 0 || result.out.empty()) {
    return Unavailable("token create failed: " + result.out + LogTail(log("central-cli")));
  }
  return result.out;
}

StatusOr<Cluster::CentralAndStation> Cluster::StartCentralAndAddStation(const std::string& station_name) {
  RETURN_IF_ERROR(InitCentral());
  CentralAndStation started;
  ASSIGN_OR_RETURN(started.central, StartCentral());
  ASSIGN_OR_RETURN(started.station_id, AddStation(station_name, started.central->url()));
  return started;
}

StatusOr<std::string> Cluster::AddStation(const std::string& name, const std::string& central_url, bool approve,
                                          const std::string& capabilities) {
  ASSIGN_OR_RETURN(std::string token, CreateToken("35.21.01", capabilities));
  CliResult result = RunEktp({"station", "init", "--dir", station_dir(name), "--central", central_url, "--token", token,
                              "--admin-user", "admin"},
                             log(name + "-cli"), std::string(kAdminPassword) + "\n");
  // "registered as ST-352101-01 (kecamatan ...)"
  size_t at = result.out.find("registered as ");
  if (result.exit_code != 0 || at == std::string::npos) {
    return Unavailable("station init failed: " + result.out + LogTail(log(name + "-cli")));
  }
  std::string id = result.out.substr(at + 14);
  id = id.substr(0, id.find(' '));
  if (approve) RETURN_IF_ERROR(Approve(id));
  return id;
}

Status Cluster::Approve(const std::string& station_id) {
  CliResult result =
      RunEktp(WithDb({"central", "station", "approve", station_id, "--dir", central_dir()}), log("central-cli"));
  if (result.exit_code != 0) return Unavailable("approve failed: " + result.out + LogTail(log("central-cli")));
  return Status::Ok();
}

Status Cluster::Revoke(const std::string& station_id) {
  CliResult result = RunEktp(WithDb({"central", "station", "revoke", station_id, "--dir", central_dir(), "--reason",
                                     "laptop stolen"}),
                             log("central-cli"));
  if (result.exit_code != 0) return Unavailable("revoke failed: " + result.out + LogTail(log("central-cli")));
  return Status::Ok();
}

StatusOr<std::unique_ptr<Process>> Cluster::StartStation(const std::string& name, const std::string& central_url,
                                                         uint64_t seed, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"station",         "serve",  "--dir",           station_dir(name),
                                   "--central",       central_url, "--port",       "0",
                                   "--batch",         "8",      "--sync-idle-ms",  "50",
                                   "--sync-backoff-ms", "20",   "--sync-max-backoff-ms", "400",
                                   "--sync-timeout-ms", "10000", "--seed",        std::to_string(seed == 0 ? 1 : seed)};
  args.insert(args.end(), extra.begin(), extra.end());
  return Process::Start(args, log(name), seconds(20 * TimeoutScale()));
}

Enroller::Enroller(uint64_t seed) : random_(seed) {
  // One valid sample (two FVC2002 templates, a 2 KB face) shared by every
  // enrollment: validation stays cheap and the residents still differ.
  biometrics_ = enrollment::testing::SampleBiometrics(1, 2048, random_);
}

StatusOr<std::string> Enroller::Login(const std::string& station_url) {
  ASSIGN_OR_RETURN(auto client, Client(station_url));
  nlohmann::json body = {{"username", "admin"}, {"password", Cluster::kAdminPassword}};
  ASSIGN_OR_RETURN(auto response, client->Post("/api/v1/login", body.dump(), "application/json"));
  if (response.status != 200) return Unauthenticated("login failed: " + response.body);
  return nlohmann::json::parse(response.body)["token"].get<std::string>();
}

StatusOr<Enroller::Counter> Enroller::OpenCounter(const std::string& station_url) {
  Counter counter;
  ASSIGN_OR_RETURN(counter.session, Login(station_url));
  ASSIGN_OR_RETURN(counter.client, Client(station_url));
  return counter;
}

StatusOr<std::unique_ptr<net::HttpClient>> Enroller::Client(const std::string& station_url) {
  net::HttpClientOptions options;
  options.keep_alive = false;
  options.connect_timeout = seconds(2);
  options.read_timeout = seconds(30 * TimeoutScale());
  options.write_timeout = seconds(30 * TimeoutScale());
  return net::HttpClient::Create(station_url, options);
}

std::vector<net::MultipartPart> Enroller::Parts(const crypto::Bytes& finger_2) {
  Resident resident;
  {
    std::lock_guard lock(mu_);
    resident = SyntheticResident(RegionRegistry::Default(), "35.21", random_, SystemClock::Instance().TodayWib());
  }
  auto text = [](const crypto::Bytes& b) { return std::string(b.begin(), b.end()); };
  nlohmann::json application = {{"kind", "first_card"}, {"resident", ResidentToJson(resident)}};
  return {{"application", "", "application/json", application.dump()},
          {"face", "face.jpg", "image/jpeg", text(biometrics_.face_jpeg)},
          {"signature", "ttd.jpg", "image/jpeg", text(biometrics_.signature_image)},
          {"finger_2", "f2.iso", "application/octet-stream", text(finger_2)},
          {"finger_7", "f7.iso", "application/octet-stream", text(biometrics_.fingers[1].template_bytes)}};
}

std::string Enroller::NewKey() {
  std::lock_guard lock(mu_);
  char key[40];
  std::snprintf(key, sizeof(key), "%016llx%016llx", static_cast<unsigned long long>(random_.Next()),
                static_cast<unsigned long long>(random_.Next()));
  return key;
}

Enroller::Application Enroller::NewApplication() {
  return {Parts(biometrics_.fingers[0].template_bytes), NewKey()};
}

StatusOr<net::HttpResponse> Enroller::Send(net::HttpClient& client, const std::string& session,
                                           const Application& application) {
  return client.PostMultipart("/api/v1/enrollments", application.parts,
                              {{"authorization", "Bearer " + session}, {"idempotency-key", application.idempotency_key}});
}

StatusOr<net::HttpResponse> Enroller::EnrollWithFinger(net::HttpClient& client, const std::string& session,
                                                       const crypto::Bytes& finger_2) {
  return Send(client, session, {Parts(finger_2), NewKey()});
}

StatusOr<std::string> Enroller::Enroll(net::HttpClient& client, const std::string& session) {
  auto response = EnrollWithFinger(client, session, biometrics_.fingers[0].template_bytes);
  if (!response.ok()) return Unavailable("enrollment not answered: " + response.status().ToString());
  if (response->status != 201) {
    return Internal("station answered " + std::to_string(response->status) + ": " + response->body);
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("registration_number")) return Internal("bad receipt: " + response->body);
  return json["registration_number"].get<std::string>();
}

std::string ToString(const CentralState& s) {
  return "inbox=" + std::to_string(s.inbox) + " records=" + std::to_string(s.records) +
         " biometrics=" + std::to_string(s.biometrics) + " feed=" + std::to_string(s.feed) +
         " events=" + std::to_string(s.events) + " cursors=[" + s.cursors + "] stations=[" + s.stations + "]";
}

StatusOr<CentralState> ReadCentralState(const std::string& central_dir, const std::string& central_db) {
  ASSIGN_OR_RETURN(auto db, OpenCentral(central_dir, central_db));
  CentralState state;
  ASSIGN_OR_RETURN(state.inbox, Count(*db, "SELECT COUNT(*) FROM inbox"));
  ASSIGN_OR_RETURN(state.records, Count(*db, "SELECT COUNT(*) FROM records"));
  ASSIGN_OR_RETURN(state.biometrics, Count(*db, "SELECT COUNT(*) FROM record_biometrics"));
  ASSIGN_OR_RETURN(state.feed, Count(*db, "SELECT COUNT(*) FROM feed WHERE kind <> 'suket_trust'"));
  ASSIGN_OR_RETURN(state.events, Count(*db, "SELECT COUNT(*) FROM record_events"));
  ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, cursor, status FROM stations ORDER BY id"));
  for (const store::Row& row : rows) {
    state.cursors += row.Text(0) + "=" + std::to_string(row.Int(1)) + ",";
    state.stations += row.Text(0) + "=" + row.Text(2) + ",";
  }
  return state;
}

StatusOr<std::set<std::string>> CheckCentralHoldsExactlyOnce(const std::string& central_dir,
                                                             const std::string& station_id,
                                                             const std::string& central_db) {
  ASSIGN_OR_RETURN(auto db, OpenCentral(central_dir, central_db));
  ASSIGN_OR_RETURN(central::CentralKeys keys, central::LoadCentralKeys(central_dir));
  ASSIGN_OR_RETURN(auto station, db->Query("SELECT public_key, cursor FROM stations WHERE id = ?", {station_id}));
  if (station.empty()) return NotFound("central does not know station " + station_id);
  crypto::Bytes public_key = station[0].Bytes(0);
  ASSIGN_OR_RETURN(auto duplicates, db->Query("SELECT registration_number, COUNT(*) FROM records "
                                              "GROUP BY registration_number HAVING COUNT(*) > 1"));
  if (!duplicates.empty()) return Internal("record " + duplicates[0].Text(0) + " is stored more than once");

  ASSIGN_OR_RETURN(auto packets, db->Query("SELECT sequence, envelope, signature FROM inbox WHERE station_id = ? "
                                           "ORDER BY sequence",
                                           {station_id}));
  std::set<std::string> registrations;
  int64_t expected_sequence = 1;
  for (const store::Row& row : packets) {
    std::string where = station_id + " sequence " + std::to_string(row.Int(0));
    if (row.Int(0) != expected_sequence++) return Internal("inbox has a gap before " + where);
    auto envelope = sync::VerifyPacket(sync::Packet{row.Text(1), row.Bytes(2)}, public_key);
    if (!envelope.ok()) return Internal("stored packet " + where + " is damaged: " + envelope.status().ToString());
    if (envelope->sequence != row.Int(0) || envelope->station_id != station_id) {
      return Internal("stored packet " + where + " does not match its key");
    }
    auto decoded = enrollment::EnrollmentFromJson(envelope->body);
    if (!decoded.ok()) return Internal("packet " + where + " does not decode: " + decoded.status().ToString());
    if (!registrations.insert(decoded->registration_number).second) {
      return Internal("registration " + decoded->registration_number + " arrived in two packets");
    }
    ASSIGN_OR_RETURN(auto record, db->Query("SELECT r.state, b.biometrics, r.id FROM records r LEFT JOIN "
                                            "record_biometrics b "
                                            "ON b.record_id = r.id WHERE r.registration_number = ?",
                                            {decoded->registration_number}));
    if (record.size() != 1) {
      return Internal("registration " + decoded->registration_number + " has " + std::to_string(record.size()) +
                      " records");
    }
    // Ingest validated it; central's pipeline may have moved it on since.
    ASSIGN_OR_RETURN(int64_t validations,
                     Count(*db, "SELECT COUNT(*) FROM record_events e JOIN records r ON r.id = e.record_id "
                                "WHERE r.registration_number = ? AND e.from_state = 'received' AND "
                                "e.to_state = 'validated' AND e.actor = 'central:ingest'",
                           {decoded->registration_number}));
    if (validations != 1) {
      return Internal("record " + decoded->registration_number + " (now " + record[0].Text(0) + ") was validated " +
                      std::to_string(validations) + " times at ingest, not once");
    }
    auto opened = keys.sealing.Open(decoded->sealed_biometrics);
    if (!opened.ok()) return Internal("sealed biometrics of " + where + " cannot be opened");
    // Central stores them encrypted with its biometrics key, bound to the record.
    auto stored = pipeline::DecryptRecordBiometrics(keys.biometrics, record[0].Int(2), record[0].Bytes(1));
    if (!stored.ok()) return Internal("stored biometrics of " + where + ": " + stored.status().ToString());
    if (*stored != *opened) {
      return Internal("stored biometrics of " + decoded->registration_number + " differ from the packet's");
    }
    auto biometrics = enrollment::ParseBiometrics(*opened);
    if (!biometrics.ok()) return Internal("biometrics of " + where + " do not parse");
    RETURN_IF_ERROR(enrollment::ValidateBiometrics(*biometrics).WithContext("biometrics of " + where));
  }
  if (station[0].Int(1) != static_cast<int64_t>(packets.size())) {
    return Internal("cursor of " + station_id + " is " + std::to_string(station[0].Int(1)) + " but the inbox holds " +
                    std::to_string(packets.size()) + " packets");
  }
  ASSIGN_OR_RETURN(int64_t records, Count(*db, "SELECT COUNT(*) FROM records WHERE station_id = ?", {station_id}));
  if (records != static_cast<int64_t>(registrations.size())) {
    return Internal(std::to_string(records) + " records from " + station_id + " but " +
                    std::to_string(registrations.size()) + " packets");
  }
  return registrations;
}

StatusOr<StationState> CheckStation(const std::string& station_dir) {
  ASSIGN_OR_RETURN(auto db, OpenFile(station_dir + "/station.db"));
  ASSIGN_OR_RETURN(auto integrity, db->Query("PRAGMA integrity_check"));
  if (integrity.empty() || integrity[0].Text(0) != "ok") {
    return Internal("station.db integrity_check: " + (integrity.empty() ? "" : integrity[0].Text(0)));
  }
  StationState state;
  ASSIGN_OR_RETURN(auto rows, db->Query("SELECT e.local_sequence, e.registration_number, o.sequence, o.state, "
                                        "o.kind FROM enrollments e LEFT JOIN outbox o "
                                        "ON o.reference = e.registration_number ORDER BY e.local_sequence"));
  std::set<int64_t> outbox_sequences;
  int64_t expected = 1;
  for (const store::Row& row : rows) {
    if (row.Int(0) != expected++) return Internal("enrollments have a gap at local sequence " + std::to_string(row.Int(0)));
    if (row.Text(3).empty()) return Internal("enrollment " + row.Text(1) + " has no outbox entry");
    if (!outbox_sequences.insert(row.Int(2)).second) return Internal("outbox entry shared by two enrollments");
    state.registrations.insert(row.Text(1));
    std::string s = row.Text(3);
    (s == "pending" ? state.pending : s == "acked" ? state.acked : state.parked)++;
  }
  state.enrollments = static_cast<int64_t>(rows.size());
  ASSIGN_OR_RETURN(int64_t outbox, Count(*db, "SELECT COUNT(*) FROM outbox"));
  ASSIGN_OR_RETURN(int64_t max_sequence, Count(*db, "SELECT COALESCE(MAX(sequence), 0) FROM outbox"));
  if (outbox != state.enrollments || max_sequence != outbox) {
    return Internal("outbox has " + std::to_string(outbox) + " entries up to sequence " +
                    std::to_string(max_sequence) + " for " + std::to_string(state.enrollments) + " enrollments");
  }
  return state;
}

Status WaitFor(const std::function<Status()>& done, milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  while (true) {
    Status status = done();
    if (status.ok() || steady_clock::now() > deadline) return status;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

}  // namespace ektp::fault
