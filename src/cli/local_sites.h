// What `ektp demo` and `ektp chaos` share to set up and drive a deployment on
// this machine: the admin's steps for a new station, an operator's login and
// the multipart enrollment of a synthetic resident with synthetic fingers,
// as the counter application sends it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bio/synth.h"
#include "cli/child_process.h"
#include "core/resident.h"
#include "core/status.h"
#include "net/http_client.h"

namespace ektp::cli {

// Fingers captured for each synthetic resident: right thumb and right index.
inline constexpr int kSyntheticFingers[] = {1, 2};

// The whole file, "" if it cannot be read.
std::string ReadWholeFile(const std::string& path);

// The body of `response` as JSON when its status is `expected_status`;
// kInternal naming `what` and the answer otherwise.
StatusOr<nlohmann::json> CheckedJson(const StatusOr<net::HttpResponse>& response, int expected_status,
                                     const std::string& what);

// ISO 19794-2 bytes of impression `impression` of `finger` of synthetic `subject`.
std::string SyntheticFingerTemplate(const bio::SynthGenerator& synth, uint64_t subject, int finger, int impression);

// The parts of POST /api/v1/enrollments for a first card: the application,
// the demo face photo and signature, and kSyntheticFingers of `subject`.
std::vector<net::MultipartPart> SyntheticEnrollmentParts(const bio::SynthGenerator& synth, uint64_t subject,
                                                         int impression, const Resident& resident);

// Runs one `ektp` CLI step to completion; the outcome, or an error with the log's tail when it failed.
using CliRunner = std::function<StatusOr<CliOutcome>(const std::vector<std::string>& args, const std::string& stdin_text)>;

struct NewStation {
  std::string central_dir;
  std::vector<std::string> central_db_args;  // {"--db", URL} for PostgreSQL, empty for SQLite in central_dir
  std::string central_url;                   // what `station init` registers through
  std::string kecamatan;
  std::string kind;          // central::StationKind's name
  std::string capabilities;  // "enroll,pickup,suket"
  std::string dir;           // the station's data directory
  std::string admin_user;
  std::string admin_password;
  std::string approved_by;  // the central admin named in the audit log
  // Operators added after approval: {username, name, role, password}.
  struct Operator {
    std::string username, name, role, password;
  };
  std::vector<Operator> operators;
};

// The admin's steps for a new station (docs/operations.md): a one-time token,
// `station init` pinned to central's certificate, approval, its operators.
// Returns the station id.
StatusOr<std::string> RegisterStation(const NewStation& station, const CliRunner& run);

// POST /api/v1/login; the Authorization header of the session.
StatusOr<net::HttpHeaders> LoginHeaders(net::HttpClient& client, const std::string& user, const std::string& password,
                                        const std::string& what);

}  // namespace ektp::cli
