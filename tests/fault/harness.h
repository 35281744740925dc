// Harness for the fault tests: real `ektp` processes on loopback.
//
// Process starts the ektp binary (posix_spawn), reads its stdout until the
// "<what> listening on <url>" banner and sends its stderr (the structured
// log) to a file in the test's directory. Cluster wraps the CLI steps a
// deployment goes through (central init, token, station init, approve) and
// starts the servers. Enroller sends enrollments to a station's operator API.
// The Read*/Check* functions open the databases directly, next to the
// running processes (SQLite's WAL allows it), to count what arrived. Central
// uses SQLite in its data directory unless the Cluster is given a database
// URL (PostgreSQL), which every central command and check then uses.
//
// Randomness: everything random in a fault test comes from Seed()
// (EKTP_FAULT_SEED, default fixed), so a failing run can be replayed.
// EKTP_FAULT_LONG=1 makes the tests do many more rounds.
//
// Thread-safety: Process and Cluster from one thread; Enroller::Enroll may
// be called from several threads with their own HttpClient.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/crypto.h"
#include "enrollment/enrollment.h"
#include "net/http_client.h"

namespace ektp::fault {

// EKTP_FAULT_SEED, or a fixed default.
uint64_t Seed();
// EKTP_FAULT_LONG=1.
bool LongMode();
// How much slower this build is: EKTP_FAULT_SLOW, default 1 (5 under ASan). Scales
// wait limits and the crash test's kill window, never the counts.
int TimeoutScale();
// The ektp binary this test was built with.
std::string EktpBinary();

// Returns once `delay` has passed, `progress` has reached `until`, or
// `worker_stopped` is set, whichever comes first. A crash test waits so
// before each kill: at a random time, yet with work left however fast the
// machine is, so that every kill round interrupts work.
void WaitToKill(std::chrono::milliseconds delay, const std::atomic<int>& progress, int until,
                const std::atomic<bool>& worker_stopped);

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
};

// Runs `ektp args...` to completion, with `stdin_text` on its standard input;
// stderr is appended to `log_path`.
CliResult RunEktp(const std::vector<std::string>& args, const std::string& log_path, const std::string& stdin_text = "");

class Process {
 public:
  // Starts `ektp args...` and waits up to `timeout` for a stdout line
  // containing "listening on "; the rest of that line is url(). `binary` is
  // the executable to run, EktpBinary() when empty.
  // kUnavailable (with the log's tail) if the process exits or times out first.
  static StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& args, const std::string& log_path,
                                                  std::chrono::milliseconds timeout, const std::string& binary = "");
  // Kills (SIGKILL) and reaps the process if it is still running.
  ~Process();

  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  int port() const;

  // True while the process runs (it has not exited or been killed).
  bool Alive();
  // kill -9 and reap.
  void Kill();
  // SIGTERM, then waits up to `timeout` (SIGKILL after). Returns the exit status as waitpid reports it.
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  Process(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string url_;
};

// The last `lines` lines of a log file, for failure messages.
std::string LogTail(const std::string& path, int lines = 30);

// One central and its stations, each in a directory under a fresh temporary
// directory (kept when the test failed, removed otherwise).
class Cluster {
 public:
  // `central_db`: central's database URL (--db) for every central command;
  // empty for SQLite in central_dir().
  explicit Cluster(const std::string& name, const std::string& central_db = "");
  ~Cluster();

  const std::string& dir() const { return dir_; }
  std::string central_dir() const { return dir_ + "/central"; }
  const std::string& central_db() const { return central_db_; }
  std::string log(const std::string& name) const { return dir_ + "/" + name + ".log"; }

  // ektp central init.
  Status InitCentral();
  // Whether StartCentral runs the processing pipeline's workers (default
  // off: these tests check sync and ingest, and Enroller's one shared
  // fingerprint sample would send every record but the first to
  // adjudication, changing central's state behind their snapshots).
  void set_central_pipeline(bool on) { central_pipeline_ = on; }
  // ektp central serve --port port, logging to log(log_name), running
  // `binary` (EktpBinary() when empty). Several centrals may serve one
  // PostgreSQL database from the same data directory on different ports.
  StatusOr<std::unique_ptr<Process>> StartCentral(int port = 0, const std::string& log_name = "central",
                                                  const std::string& binary = "");
  // `args` plus --db central_db() when the cluster has one.
  std::vector<std::string> WithDb(std::vector<std::string> args) const;
  // ektp central token create; returns the token.
  // `capabilities` as for --capabilities ("enroll", "enroll,print").
  StatusOr<std::string> CreateToken(const std::string& kecamatan = "35.21.01", const std::string& capabilities = "enroll");
  // ektp station init (admin user "admin" with kAdminPassword), then
  // ektp central station approve. Returns the station id.
  StatusOr<std::string> AddStation(const std::string& name, const std::string& central_url, bool approve = true,
                                   const std::string& capabilities = "enroll");
  Status Approve(const std::string& station_id);
  // The start of most tests: InitCentral, StartCentral() and AddStation(station_name) against it.
  struct CentralAndStation {
    std::unique_ptr<Process> central;
    std::string station_id;
  };
  StatusOr<CentralAndStation> StartCentralAndAddStation(const std::string& station_name = "station");
  Status Revoke(const std::string& station_id);
  std::string station_dir(const std::string& name) const { return dir_ + "/" + name; }
  // ektp station serve --central central_url with fast sync settings
  // (small batches, short backoff, --seed) plus `extra` flags.
  StatusOr<std::unique_ptr<Process>> StartStation(const std::string& name, const std::string& central_url,
                                                  uint64_t seed, const std::vector<std::string>& extra = {});

  static constexpr const char* kAdminPassword = "kata-sandi-admin-1";

 private:
  std::string dir_;
  std::string central_db_;
  bool central_pipeline_ = false;
};

// Sends enrollments of synthetic residents with one shared, valid
// biometrics sample (cheap to validate) to a station's operator API.
class Enroller {
 public:
  explicit Enroller(uint64_t seed);

  // POST /api/v1/login as admin; the session survives station restarts.
  StatusOr<std::string> Login(const std::string& station_url);
  // A client for the station's operator API (no keep-alive, short timeouts).
  static StatusOr<std::unique_ptr<net::HttpClient>> Client(const std::string& station_url);
  // An operator at the station's counter: logged in (Login) with a client (Client).
  struct Counter {
    std::string session;
    std::unique_ptr<net::HttpClient> client;
  };
  StatusOr<Counter> OpenCounter(const std::string& station_url);
  // One enrollment. The registration number when the station answered 201;
  // kUnavailable for a transport error (the station may or may not have
  // stored it); the station's error otherwise.
  StatusOr<std::string> Enroll(net::HttpClient& client, const std::string& session);
  // As Enroll, with the given finger 2 template bytes (to send bad ones).
  StatusOr<net::HttpResponse> EnrollWithFinger(net::HttpClient& client, const std::string& session,
                                               const crypto::Bytes& finger_2);
  // A new application: its multipart parts (a fresh resident, the shared
  // sample) and its idempotency key (from the seed).
  struct Application {
    std::vector<net::MultipartPart> parts;
    std::string idempotency_key;
  };
  Application NewApplication();
  // POST /api/v1/enrollments of `application`; sending it again is a retry.
  static StatusOr<net::HttpResponse> Send(net::HttpClient& client, const std::string& session,
                                          const Application& application);

 private:
  std::vector<net::MultipartPart> Parts(const crypto::Bytes& finger_2);
  std::string NewKey();
  std::mutex mu_;
  SeededRandom random_;
  enrollment::Biometrics biometrics_;
};

// What central holds, for before/after comparisons.
struct CentralState {
  int64_t inbox = 0;
  int64_t records = 0;
  int64_t biometrics = 0;
  int64_t feed = 0;  // feed items about records (not the suket_trust items every station gets)
  int64_t events = 0;
  std::string cursors;  // "station=cursor,..." for every station
  std::string stations;  // "station=status,..."

  bool operator==(const CentralState&) const = default;
};
std::string ToString(const CentralState& state);
// `central_db` as for Cluster: empty for SQLite in `central_dir`.
StatusOr<CentralState> ReadCentralState(const std::string& central_dir, const std::string& central_db = "");

// Checks everything central holds from `station_id`: each inbox packet
// verifies against the station's key and decodes; each decoded enrollment has
// exactly one record, validated once at ingest (the pipeline may have moved
// it on since), whose sealed biometrics central can open and validate; inbox
// sequences are 1..N without gaps and the cursor is N.
// Returns the registration numbers found (each exactly once).
StatusOr<std::set<std::string>> CheckCentralHoldsExactlyOnce(const std::string& central_dir,
                                                             const std::string& station_id,
                                                             const std::string& central_db = "");

struct StationState {
  int64_t enrollments = 0;
  int64_t pending = 0;
  int64_t acked = 0;
  int64_t parked = 0;
  std::set<std::string> registrations;
};
// Checks the station's database: PRAGMA integrity_check, one outbox entry
// per enrollment and one enrollment per outbox entry, local and outbox
// sequences 1..N without gaps.
StatusOr<StationState> CheckStation(const std::string& station_dir);

// Polls until `done` is OK or `timeout` passes; returns the last status.
Status WaitFor(const std::function<Status()>& done, std::chrono::milliseconds timeout);

}  // namespace ektp::fault
