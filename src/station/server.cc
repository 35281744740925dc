#include "station/server.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <algorithm>
#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "bio/synth.h"
#include "bio/template.h"
#include "card/output.h"
#include "console/assets.h"
#include "console/reference_data.h"
#include "core/application.h"
#include "core/region.h"
#include "core/resident_json.h"
#include "core/text.h"
#include "core/refusal_pesan.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/request_guard.h"
#include "net/tls.h"
#include "service/log.h"
#include "station/metrics.h"
#include "station/outbox_mirror.h"

namespace ektp::station {
namespace {

std::string Path(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

// What the operator reads at the counter: the catalogue's sentence for the
// refusal (core/refusal_pesan.h), else a general one for its code. Never the
// English, which `error` carries beside it.
std::string Pesan(const Status& status) {
  const std::optional<std::string> said = RefusalPesan(status.message());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return said ? "Data belum benar: " + *said + ". Periksa dan perbaiki isian."
                  : "Data belum benar. Periksa dan perbaiki isian, lalu kirim lagi.";
    case StatusCode::kUnauthenticated:
      return said ? *said + "." : "Nama pengguna atau kata sandi salah, atau sesi berakhir. Silakan masuk lagi.";
    case StatusCode::kPermissionDenied: return said ? *said + "." : "Akun Anda tidak berwenang untuk tindakan ini.";
    case StatusCode::kNotFound: return said ? *said + "." : "Data tidak ditemukan di stasiun ini.";
    case StatusCode::kFailedPrecondition:
      return said ? "Permohonan tidak dapat diproses: " + *said + "."
                  : "Permohonan tidak dapat diproses pada keadaan saat ini; rinciannya ada di bawah. Hubungi admin "
                    "bila berulang.";
    default: return "Terjadi gangguan pada stasiun. Data yang sudah tersimpan aman; coba lagi atau hubungi admin.";
  }
}

// Why an outbox entry is parked, for the operator: the catalogue's sentence
// for the reason (central's refusal "CODE: message", or the station's own),
// else a general one. The English stays in the entry's `last_error`.
// `path` ("resident.name", "application.kind", "name") without the part of
// the application it is in: the field as the console and the refusal
// catalogue name it.
std::string_view FieldName(std::string_view path) {
  for (std::string_view prefix : {"application.", "resident."}) {
    if (path.starts_with(prefix)) path.remove_prefix(prefix.size());
  }
  return path;
}

std::string ParkedPesan(std::string_view reason) {
  std::string_view message = reason;
  if (const size_t colon = message.find(": "); colon != std::string_view::npos && colon > 0 &&
      message.substr(0, colon).find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string_view::npos) {
    message.remove_prefix(colon + 2);
  }
  if (const std::optional<std::string> said = RefusalPesan(FieldName(message))) return *said + ".";
  return "Pusat menolak data ini; alasannya dalam bahasa Inggris ada di bawah. Hubungi admin Disdukcapil bila perlu "
         "bantuan.";
}

net::HttpResponse ErrorResponse(const Status& status, int http_status, const std::string& pesan) {
  nlohmann::json body = {{"error", status.ToString()}, {"pesan", pesan}, {"status", http_status}};
  return net::HttpResponse::Json(http_status, body.dump());
}

net::HttpResponse ErrorResponse(const Status& status) {
  return ErrorResponse(status, net::HttpStatusFor(status), Pesan(status));
}

// A JSON object body whose keys are all in `keys`, each a string.
StatusOr<nlohmann::json> JsonObject(std::string_view text, std::initializer_list<std::string_view> keys) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return InvalidArgument("body must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return InvalidArgument("body field '" + QuoteInput(key) + "' is not known");
    }
    if (!value.is_string()) return InvalidArgument("body field '" + key + "' must be a string");
  }
  return json;
}

// A blank's serial, written as on the blank ("0001000001").
StatusOr<int64_t> SerialField(const nlohmann::json& body, const std::string& key) {
  if (!body.contains(key)) return InvalidArgument("body field '" + key + "' is missing");
  auto serial = blanks::ParseSerial(body[key].get<std::string>());
  if (!serial.ok()) return serial.status().WithContext("body field '" + key + "'");
  return serial;
}

// Set (to anything) only by tests: the process exits right after an enrollment
// commits, before it answers, as a crash there would (tests/fault).
constexpr const char* kCrashAfterEnrollCommitForTest = "EKTP_TEST_CRASH_AFTER_ENROLL_COMMIT";
// How long the answer to an enrollment (or an approval) waits for the outbox
// mirror to hold it: a slow or hung disk delays the operator by this much at
// most, and never fails the enrollment.
constexpr std::chrono::milliseconds kMirrorWaitAfterEnroll{2000};

crypto::Bytes ToBytes(const std::string& s) { return crypto::Bytes(s.begin(), s.end()); }

// The field a validation message names by its "field.path: ..." prefix
// (core/resident.h), without "application." or "resident."; "" if none.
std::string FieldOfMessage(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return "";
  std::string_view field = message.substr(0, colon);
  if (field.empty() || field.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.") != std::string_view::npos) return "";
  return std::string(FieldName(field));
}

}  // namespace

namespace {
constexpr const char* kSigningKeyFile = "station.key";
constexpr const char* kBoxKeyFile = "station-box.key";  // X25519: opens the print jobs sealed to this station
}  // namespace

std::string StationDbUrl(const std::string& data_dir) { return "sqlite:" + Path(data_dir, "station.db"); }

namespace {

// Everything InitStation can check before it spends the token at central.
Status CheckInitOptions(const InitOptions& options) {
  if (options.data_dir.empty()) return InvalidArgument("the station's data directory (--dir) is required");
  if (!options.central_url.starts_with("https://") && !options.central_url.starts_with("http://")) {
    return InvalidArgument("central URL '" + options.central_url +
                           "' must start with https:// (e.g. https://central.example:8443)");
  }
  if (options.token.empty()) return InvalidArgument("the registration token (--token) is empty; ask the admin for one");
  if (!options.central_fingerprint.empty() && !options.central_url.starts_with("https://")) {
    return InvalidArgument("--fingerprint checks a TLS certificate; it needs an https:// central URL");
  }
  if (!options.admin_username.empty()) {
    if (Status valid = ValidateOperator(options.admin_username, options.admin_password); !valid.ok()) {
      return InvalidArgument("first admin " + options.admin_username + ": " + valid.message() +
                             "; nothing was registered, fix it and run `ektp station init` again");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Identity> InitStation(const InitOptions& options, const Clock& clock) {
  RETURN_IF_ERROR(CheckInitOptions(options));
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) return Unavailable("cannot create " + options.data_dir + ": " + error.message());
  std::filesystem::permissions(options.data_dir, std::filesystem::perms::owner_all, error);
  ASSIGN_OR_RETURN(auto db, store::Open(StationDbUrl(options.data_dir), store::Schema::kStation));
  if (auto existing = Station::LoadIdentity(*db); existing.ok()) {
    return FailedPrecondition(options.data_dir + " already holds station " + existing->station_id +
                              " (registered before; the token is not needed again). To add an operator there run "
                              "`ektp station operator add --dir " + options.data_dir +
                              " --username NAME --name \"FULL NAME\" --role admin`");
  }
  crypto::SigningKey key = crypto::SigningKey::Generate();
  RETURN_IF_ERROR(key.Save(Path(options.data_dir, kSigningKeyFile)));
  crypto::SealingKey box_key = crypto::SealingKey::Generate();
  RETURN_IF_ERROR(box_key.Save(Path(options.data_dir, kBoxKeyFile)));

  net::HttpClientOptions client_options;
  if (options.central_url.starts_with("https://")) {
    ASSIGN_OR_RETURN(std::string pem, net::FetchServerCertificatePem(options.central_url));
    ASSIGN_OR_RETURN(std::string fingerprint, net::CertificateSha256(pem));
    if (!options.central_fingerprint.empty() && fingerprint != options.central_fingerprint) {
      return Unauthenticated("central's certificate has fingerprint " + fingerprint + ", not the expected " +
                             options.central_fingerprint + "; check the URL and the fingerprint from the admin");
    }
    std::ofstream(Path(options.data_dir, "central-cert.pem")) << pem;
    client_options.pinned_cert_pem = pem;
  }
  ASSIGN_OR_RETURN(auto client, net::HttpClient::Create(options.central_url, client_options));
  nlohmann::json request = {{"token", options.token},
                             {"public_key", crypto::Base64Encode(key.public_key())},
                             {"box_public_key", crypto::Base64Encode(box_key.public_key())}};
  ASSIGN_OR_RETURN(auto response, client->Post("/api/v1/stations/register", request.dump(), "application/json"));
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200 || json.is_discarded()) {
    return Unauthenticated("central refused the registration: " +
                           (json.is_object() ? json.value("error", response.body) : response.body));
  }
  Identity identity;
  identity.station_id = json.value("station_id", "");
  identity.kecamatan_code = json.value("kecamatan_code", "");
  identity.kind = json.value("kind", "");
  identity.capabilities = json.value("capabilities", std::vector<std::string>{});
  identity.central_urls = {options.central_url};
  ASSIGN_OR_RETURN(identity.central_signing_key, crypto::Base64Decode(json.value("central_signing_key", "")));
  ASSIGN_OR_RETURN(identity.central_sealing_key, crypto::Base64Decode(json.value("central_sealing_key", "")));
  RETURN_IF_ERROR(Station::SaveIdentity(*db, identity, clock));
  if (!options.admin_username.empty()) {
    Station station(*db, clock, key, identity);
    RETURN_IF_ERROR(station.AddOperator({options.admin_username, "Admin", Role::kAdmin}, options.admin_password));
  }
  return identity;
}

struct StationServer::Impl {
  StationOptions options;
  const Clock* clock = nullptr;
  crypto::SigningKey key;
  std::unique_ptr<store::Connection> db;  // for the handlers, under mu
  std::unique_ptr<Station> station;
  std::mutex mu;
  std::unique_ptr<store::Connection> sync_db;  // for the sync thread only
  std::unique_ptr<Station> sync_station;
  std::unique_ptr<Random> random;
  std::unique_ptr<SyncClient> sync;
  std::jthread sync_thread;
  // Printing renders a card for a sizeable fraction of a second: it has its
  // own connection and lock, so that enrollments are not held up by it.
  std::unique_ptr<store::Connection> print_db;
  std::unique_ptr<Station> print_station;
  std::optional<crypto::SealingKey> box_key;
  std::unique_ptr<card::CardOutput> print_output;
  std::mutex print_mu;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::RequestGuard> guard;
  // The outbox mirror (outbox_mirror.h), with its own connection and thread.
  // Each NotifyMirror is a request the thread serves with one Refresh begun
  // after it; AwaitMirror waits, boundedly, for that Refresh to end.
  std::unique_ptr<store::Connection> mirror_db;
  std::unique_ptr<Station> mirror_station;
  std::unique_ptr<OutboxMirror> mirror;
  std::mutex mirror_mu;
  std::condition_variable_any mirror_wake;       // the thread waits on it for a request
  std::condition_variable mirror_done;           // waiters on a Refresh
  uint64_t mirror_requested = 0;                 // under mirror_mu
  uint64_t mirror_completed = 0;                 // under mirror_mu: requests served by an ended Refresh
  std::jthread mirror_thread;
  bool crash_after_enroll_commit_for_test = false;

  // Asks the mirror thread for a Refresh; the ticket for AwaitMirror (0 without a mirror).
  uint64_t NotifyMirror() {
    if (!mirror) return 0;
    uint64_t ticket;
    {
      std::lock_guard lock(mirror_mu);
      ticket = ++mirror_requested;
    }
    mirror_wake.notify_one();
    return ticket;
  }

  // Waits until a Refresh begun after request `ticket` has ended (written
  // or failed), or `limit` has passed: a hung disk delays an answer by
  // `limit` at most, and fails nothing.
  void AwaitMirror(uint64_t ticket, std::chrono::milliseconds limit) {
    if (ticket == 0) return;
    std::unique_lock lock(mirror_mu);
    if (!mirror_done.wait_for(lock, limit, [&] { return mirror_completed >= ticket; })) {
      service::LogWarn("station.mirror_slow", {{"waited_ms", limit.count()}});
    }
  }
  std::optional<bio::SynthGenerator> simulated_scanner;

  // `handler` behind the same-origin checks (net/request_guard.h).
  net::HttpHandler Guarded(net::BodyKind body, net::HttpResponse (Impl::*handler)(const net::HttpRequest&)) {
    return [this, body, handler](const net::HttpRequest& request) {
      if (auto refusal = guard->Check(request, body)) {
        return ErrorResponse(refusal->status, refusal->http_status, Pesan(refusal->status));
      }
      return (this->*handler)(request);
    };
  }

  StatusOr<Operator> Authenticate(const net::HttpRequest& request) {
    std::string authorization = request.header("authorization");
    if (!authorization.starts_with("Bearer ")) return Unauthenticated("missing Authorization: Bearer <token>");
    return station->Authenticate(authorization.substr(7));
  }

  // The password is verified outside `mu`: Argon2id takes a sizeable
  // fraction of a second, and other operators' requests must not wait for it.
  net::HttpResponse Login(const net::HttpRequest& request) {
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_object() && json.contains("fingerprint") && !json.contains("password")) return FingerprintLogin(json, request);
    if (json.is_discarded() || !json.is_object() || !json.value("username", nlohmann::json()).is_string() ||
        !json.value("password", nlohmann::json()).is_string()) {
      return ErrorResponse(InvalidArgument("body must be {\"username\": <string>, \"password\": <string>} or "
                                           "{\"username\": <string>, \"fingerprint\": {\"position\": <1-10>, "
                                           "\"template\": <base64>}}"));
    }
    StatusOr<LoginAttempt> attempt = [&] {
      std::lock_guard lock(mu);
      return station->BeginLogin(json["username"].get<std::string>(), request.remote_addr);
    }();
    if (!attempt.ok()) return ErrorResponse(attempt.status());
    if (attempt->retry_after.count() > 0) {
      const std::string seconds = std::to_string(attempt->retry_after.count());
      service::LogInfo("station.login_backoff", {{"retry_after_s", seconds}});
      net::HttpResponse response = ErrorResponse(
          ResourceExhausted("too many failed logins for this username or address; retry after " + seconds + " s"), 429,
          "Terlalu banyak percobaan masuk yang gagal. Tunggu " + seconds +
              " detik lalu coba lagi, atau minta admin memeriksa akun Anda.");
      response.headers.emplace("retry-after", seconds);
      return response;
    }
    const bool password_ok = station->CheckPassword(*attempt, json["password"].get<std::string>());
    std::lock_guard lock(mu);
    auto token = station->FinishLogin(*attempt, password_ok);
    if (!token.ok()) return ErrorResponse(token.status());
    return net::HttpResponse::Json(200, nlohmann::json{{"token", *token}}.dump());
  }

  // An operator's or supervisor's own finger instead of the password
  // (Station::LoginWithFingerprint). The 1:1 comparison takes milliseconds,
  // so it runs under `mu`.
  net::HttpResponse FingerprintLogin(const nlohmann::json& json, const net::HttpRequest& request) {
    const nlohmann::json& finger = json["fingerprint"];
    if (json.size() != 2 || !json.value("username", nlohmann::json()).is_string() || !finger.is_object() ||
        finger.size() != 2 || !finger.value("position", nlohmann::json()).is_number_integer() ||
        !finger.value("template", nlohmann::json()).is_string()) {
      return ErrorResponse(InvalidArgument("body must be {\"username\": <string>, \"fingerprint\": {\"position\": "
                                           "<1-10>, \"template\": <base64 ISO 19794-2 or ANSI 378>}}"));
    }
    if (!box_key) {
      return ErrorResponse(FailedPrecondition("this station has no station-box.key, which keeps operators' "
                                              "fingerprints; log in with the password"));
    }
    auto bytes = crypto::Base64Decode(finger["template"].get<std::string>());
    if (!bytes.ok()) return ErrorResponse(InvalidArgument("fingerprint.template is not base64"));
    std::string pesan;
    std::lock_guard lock(mu);
    auto token = station->LoginWithFingerprint(json["username"].get<std::string>(),
                                               {finger["position"].get<int>(), std::move(*bytes)}, *box_key,
                                               request.remote_addr, &pesan);
    if (!token.ok()) {
      const bool counted = token.status().code() == StatusCode::kUnauthenticated ||
                           token.status().code() == StatusCode::kResourceExhausted;
      return ErrorResponse(token.status(), net::HttpStatusFor(token.status()),
                           counted && !pesan.empty() ? pesan : Pesan(token.status()));
    }
    return net::HttpResponse::Json(200, nlohmann::json{{"token", *token}}.dump());
  }

  net::HttpResponse Logout(const net::HttpRequest& request) {
    std::string authorization = request.header("authorization");
    if (!authorization.starts_with("Bearer ")) {
      return ErrorResponse(Unauthenticated("missing Authorization: Bearer <token>"));
    }
    std::lock_guard lock(mu);
    if (Status status = station->Logout(authorization.substr(7)); !status.ok()) return ErrorResponse(status);
    return net::HttpResponse::Json(200, R"({"logged_out":true})");
  }

  // The check route's `fingers` object (position -> base64 template) as
  // captures, after the application's exceptions (`excepted`), which are kept
  // and never given a template here. kInvalidArgument naming the entry.
  static StatusOr<std::vector<enrollment::FingerCapture>> CheckedFingers(
      const nlohmann::json& fingers, std::vector<enrollment::FingerCapture> excepted) {
    if (!fingers.is_object()) {
      return InvalidArgument("the body's fingers must be an object of finger position to base64 template");
    }
    for (const auto& [position, encoded] : fingers.items()) {
      const int number = std::atoi(position.c_str());
      const std::string name = "fingers." + QuoteInput(position, 8);
      if (std::to_string(number) != position || number < 1 || number > 10) {
        return InvalidArgument(name + ": finger position must be 1 to 10");
      }
      if (std::ranges::find(excepted, number, &enrollment::FingerCapture::position) != excepted.end()) continue;
      if (!encoded.is_string()) return InvalidArgument(name + " must be a base64 string");
      auto bytes = crypto::Base64Decode(encoded.get<std::string>());
      if (!bytes.ok()) return InvalidArgument(name + " is not valid base64");
      auto record = bio::DecodeTemplate(*bytes);
      if (!record.ok()) {
        return InvalidArgument("finger " + position + " (" + std::string(enrollment::FingerLabel(number)) +
                               "): template is unreadable (" + record.status().message() + "); capture the finger again");
      }
      excepted.push_back({number, std::move(*bytes), enrollment::FingerException::kNone});
    }
    return excepted;
  }

  // A capture-quality refusal: 400 naming the finger's form part in `field`,
  // the operator's message in Bahasa Indonesia.
  static net::HttpResponse QualityRefusalResponse(const Status& status, const enrollment::QualityRefusal& refusal) {
    net::HttpResponse response = ErrorResponse(status, net::HttpStatusFor(status), refusal.pesan);
    auto body = nlohmann::json::parse(response.body);
    body["field"] = refusal.field;
    body["quality"] = {{"position", refusal.position}, {"score", refusal.score}, {"min_quality", refusal.min_quality}};
    response.body = body.dump();
    return response;
  }

  // A refusal of the application: the error body, with `field` naming the
  // field its message names ("field.path: ...", FieldOfMessage) when it
  // names one, so the console shows it beside that field.
  static net::HttpResponse ApplicationRefusal(const Status& status) {
    net::HttpResponse response = ErrorResponse(status);
    const std::string field = FieldOfMessage(status.message());
    if (field.empty()) return response;
    auto body = nlohmann::json::parse(response.body);
    body["field"] = field;
    response.body = body.dump();
    return response;
  }

  // The application JSON (the `application` part of an enrollment, or the
  // body of a check): keys kApplicationKeys; finger exceptions come back as
  // fingers without templates. Anything else is refused by name.
  static StatusOr<EnrollmentRequest> ParseApplication(std::string_view text, std::string_view what) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return InvalidArgument(std::string(what) + " is not a JSON object");
    static constexpr std::string_view kApplicationKeys[] = {"kind", "previous_nik", "resident", "finger_exceptions",
                                                            "location"};
    for (const auto& [key, value] : json.items()) {
      if (std::find(std::begin(kApplicationKeys), std::end(kApplicationKeys), key) == std::end(kApplicationKeys)) {
        return InvalidArgument("application." + QuoteInput(key) +
                               " is not a known field (kind, previous_nik, resident, finger_exceptions, location)");
      }
    }
    // Types first: a field of the wrong type is named, never an internal error.
    for (const char* field : {"kind", "previous_nik"}) {
      if (json.contains(field) && !json[field].is_string()) {
        return InvalidArgument("application." + std::string(field) + " must be a string");
      }
    }
    nlohmann::json exceptions = json.value("finger_exceptions", nlohmann::json::object());
    if (!exceptions.is_object()) {
      return InvalidArgument("application.finger_exceptions must be an object of finger position to exception code");
    }
    EnrollmentRequest out;
    for (const auto& [position, code] : exceptions.items()) {
      const int number = std::atoi(position.c_str());
      if (std::to_string(number) != position || number < 1 || number > 10) {
        return InvalidArgument("application.finger_exceptions." + QuoteInput(position) +
                               ": finger position must be 1 to 10");
      }
      if (!code.is_string()) return InvalidArgument("application.finger_exceptions." + position + " must be a string");
      enrollment::FingerCapture finger{number, {}, enrollment::FingerException::kNone};
      ASSIGN_OR_RETURN(finger.exception, enrollment::ParseFingerException(code.get<std::string>()));
      if (finger.exception != enrollment::FingerException::kNone) out.biometrics.fingers.push_back(std::move(finger));
    }
    ASSIGN_OR_RETURN(out.kind, ParseApplicationKind(json.value("kind", "first_card")));
    out.previous_nik = json.value("previous_nik", "");
    if (!json.contains("resident")) return InvalidArgument("application.resident is missing");
    ASSIGN_OR_RETURN(out.resident, ResidentFromJson(json["resident"]));
    if (json.contains("location")) {
      ASSIGN_OR_RETURN(out.location, enrollment::LocationFromJson(json["location"]));
    }
    return out;
  }

  // The multipart enrollment body: parts `application` (JSON, see
  // ParseApplication), `face`, `signature`, `finger_1`..`finger_10`, and
  // with finger exceptions `exception_photo` (the hand) and
  // `exception_approval` ({"session": the approving supervisor's session
  // token}), each at most once. Anything else is refused by name.
  static StatusOr<EnrollmentRequest> ParseEnrollment(const net::HttpRequest& request) {
    static const std::set<std::string, std::less<>> kPartNames = [] {
      std::set<std::string, std::less<>> names = {"application", "face", "signature", "exception_photo",
                                                  "exception_approval"};
      for (int position = 1; position <= 10; ++position) names.insert("finger_" + std::to_string(position));
      return names;
    }();
    std::map<std::string_view, int> part_counts;
    for (const net::MultipartPart& part : request.parts) {
      if (!kPartNames.contains(part.name)) {
        return InvalidArgument("part '" + QuoteInput(part.name) +
                               "' is not one of application, face, signature, finger_1..finger_10, "
                               "exception_photo, exception_approval");
      }
      if (++part_counts[part.name] == 2) {
        return InvalidArgument("part '" + part.name + "' is given more than once; send each part once");
      }
    }
    const net::MultipartPart* application = request.part("application");
    if (application == nullptr) return InvalidArgument("part 'application' (JSON) is missing");
    ASSIGN_OR_RETURN(EnrollmentRequest out, ParseApplication(application->content, "part 'application'"));
    if (const auto* face = request.part("face")) out.biometrics.face_jpeg = ToBytes(face->content);
    if (const auto* signature = request.part("signature")) out.biometrics.signature_image = ToBytes(signature->content);
    if (const auto* photo = request.part("exception_photo")) out.biometrics.exception_photo = ToBytes(photo->content);
    if (const auto* approval = request.part("exception_approval")) {
      auto json = nlohmann::json::parse(approval->content, nullptr, false);
      if (!json.is_object() || json.size() != 1 || !json.value("session", nlohmann::json()).is_string()) {
        return InvalidArgument("part 'exception_approval' must be {\"session\": <the approving supervisor's session "
                               "token from POST /api/v1/login>}");
      }
      out.exception_approval_session = json["session"].get<std::string>();
    }
    for (int position = 1; position <= 10; ++position) {
      const auto* part = request.part("finger_" + std::to_string(position));
      if (part == nullptr) continue;
      auto excepted = std::ranges::find(out.biometrics.fingers, position, &enrollment::FingerCapture::position);
      if (excepted != out.biometrics.fingers.end()) {
        excepted->template_bytes = ToBytes(part->content);
      } else {
        out.biometrics.fingers.push_back({position, ToBytes(part->content), enrollment::FingerException::kNone});
      }
    }
    std::ranges::sort(out.biometrics.fingers, {}, &enrollment::FingerCapture::position);
    return out;
  }

  // 201 for a new enrollment; 200 with the same receipt for a repeat of an
  // earlier request's Idempotency-Key and content (station.h). With an
  // outbox mirror, a new enrollment is answered once the mirror holds it (or
  // failed to, or kMirrorWaitAfterEnroll passed), outside `mu`.
  net::HttpResponse Enroll(const net::HttpRequest& request) {
    bool committed = false;
    net::HttpResponse response = EnrollUnderLock(request, committed);
    if (committed) AwaitMirror(NotifyMirror(), kMirrorWaitAfterEnroll);
    return response;
  }

  net::HttpResponse EnrollUnderLock(const net::HttpRequest& request, bool& committed) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    auto parsed = ParseEnrollment(request);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    const std::string idempotency_key = request.header("idempotency-key");
    if (idempotency_key.empty()) {
      return ErrorResponse(InvalidArgument("header Idempotency-Key is missing: send one key per application and "
                                           "the same key on every retry of it"));
    }
    EnrollRefusal refusal;
    auto receipt = station->Enroll(*op, *parsed, idempotency_key, &refusal);
    if (!receipt.ok() && !refusal.pesan.empty()) {
      // Finger exceptions without their photo or approval: the part at fault, in Bahasa Indonesia.
      service::LogInfo("station.enroll_refused_exception", {{"operator", op->username}, {"field", refusal.field}});
      net::HttpResponse response = ErrorResponse(receipt.status(), net::HttpStatusFor(receipt.status()), refusal.pesan);
      auto body = nlohmann::json::parse(response.body);
      body["field"] = refusal.field;
      response.body = body.dump();
      return response;
    }
    if (!receipt.ok()) {
      // A finger below the capture-quality minimum: the operator is told which and what to do.
      auto quality = enrollment::CheckCaptureQuality(parsed->biometrics, station->enrollment_policy().min_capture_quality);
      if (quality && receipt.status().message() == quality->error) {
        service::LogInfo("station.enroll_refused_quality", {{"operator", op->username},
                                                            {"finger", std::to_string(quality->position)},
                                                            {"score", std::to_string(quality->score)}});
        return QualityRefusalResponse(receipt.status(), *quality);
      }
      // Past the unsynced limits, the operator is told how to sync.
      auto limit = station->CheckUnsyncedLimits();
      if (limit.ok() && *limit && receipt.status().message() == (*limit)->error) {
        service::LogWarn("station.enroll_refused_unsynced", {{"operator", op->username}});
        return ErrorResponse(receipt.status(), 409, (*limit)->pesan);
      }
      if (receipt.status().code() == StatusCode::kPermissionDenied &&
          receipt.status().message().starts_with(kSelfEnrollmentRefused)) {
        return ErrorResponse(receipt.status(), 403, std::string(kSelfEnrollmentPesan));
      }
      return ApplicationRefusal(receipt.status());
    }
    if (crash_after_enroll_commit_for_test) _exit(86);
    committed = !receipt->replayed;
    service::LogInfo(receipt->replayed ? "station.enroll_replayed" : "station.enrolled",
                 {{"registration", receipt->registration_number}, {"operator", op->username}});
    nlohmann::json out = {{"registration_number", receipt->registration_number},
                          {"captured_at", receipt->captured_at},
                          {"receipt_url", "/api/v1/enrollments/" + receipt->registration_number + "/receipt"}};
    return net::HttpResponse::Json(receipt->replayed ? 200 : 201, out.dump());
  }

  net::HttpResponse EnrollmentStatusRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    auto status = station->GetEnrollmentStatus(request.path_params.at("reg"));
    if (!status.ok()) return ErrorResponse(status.status());
    return net::HttpResponse::Json(200, nlohmann::json{{"registration_number", status->registration_number},
                                                       {"status", EnrollmentStatusName(*status)},
                                                       {"reason", status->reason},
                                                       {"nik", status->nik}}
                                            .dump());
  }

  net::HttpResponse ReceiptRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    auto receipt = station->GetReceipt(request.path_params.at("reg"));
    if (!receipt.ok()) return ErrorResponse(receipt.status());
    auto kind = ParseApplicationKind(receipt->application_kind);
    const std::string kind_label(kind.ok() ? ApplicationKindLabel(*kind) : receipt->application_kind);
    if (request.header("accept").find("application/json") != std::string::npos) {
      return net::HttpResponse::Json(200, nlohmann::json{{"registration_number", receipt->registration_number},
                                                         {"resident_name", receipt->resident_name},
                                                         {"application_kind", receipt->application_kind},
                                                         {"captured_at", receipt->captured_at},
                                                         {"station_id", receipt->station_id},
                                                         {"operator", receipt->operator_name}}
                                              .dump());
    }
    std::string html =
        "<!doctype html><html lang=\"id\"><meta charset=\"utf-8\"><title>Tanda Terima Perekaman e-KTP</title>"
        "<body style=\"font-family:sans-serif;max-width:32em\"><h1>Tanda Terima Perekaman e-KTP</h1>"
        "<p>Nomor registrasi: <strong>" + net::HtmlEscape(receipt->registration_number) + "</strong></p>"
        "<p>Nama: " + net::HtmlEscape(receipt->resident_name) + "</p>"
        "<p>Jenis permohonan: " + net::HtmlEscape(kind_label) + "</p>"
        "<p>Direkam: " + net::HtmlEscape(receipt->captured_at) + " di " + net::HtmlEscape(receipt->station_id) +
        " oleh " + net::HtmlEscape(receipt->operator_name) + "</p>"
        "<p>Simpan tanda terima ini. Dengan NIK dan nomor registrasi ini Anda dapat memeriksa status KTP Anda. "
        "Layanan e-KTP tidak dipungut biaya.</p></body></html>";
    net::HttpResponse response = net::HttpResponse::Text(200, html);
    response.content_type = "text/html; charset=utf-8";
    return response;
  }

  net::HttpResponse OutboxRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    std::optional<OutboxState> state;
    if (const std::string name = request.query("state"); !name.empty()) {
      auto parsed = ParseOutboxState(name);
      if (!parsed.ok()) return ErrorResponse(parsed.status());
      state = *parsed;
    }
    auto entries = station->Outbox(state, 500);
    if (!entries.ok()) return ErrorResponse(entries.status());
    nlohmann::json out = nlohmann::json::array();
    for (const OutboxEntry& e : *entries) {
      nlohmann::json entry = {{"sequence", e.sequence}, {"kind", e.kind}, {"reference", e.reference},
                              {"state", OutboxStateName(e.state)},
                              {"attempts", e.attempts}, {"last_error", e.last_error}, {"created_at", e.created_at}};
      if (e.state == OutboxState::kParked) entry["pesan"] = ParkedPesan(e.last_error);
      out.push_back(std::move(entry));
    }
    return net::HttpResponse::Json(200, nlohmann::json{{"entries", out}}.dump());
  }

  // The print officer's routes (station.h, "A print officer's actions").
  // `action` runs under print_mu with the authenticated operator.
  template <typename Action>
  net::HttpResponse AsPrintOfficer(const net::HttpRequest& request, Action action) {
    StatusOr<Operator> op = [&] {
      std::lock_guard lock(mu);
      return Authenticate(request);
    }();
    if (!op.ok()) return ErrorResponse(op.status());
    if (!print_station) {
      return ErrorResponse(FailedPrecondition("station " + station->identity().station_id +
                                              " has no print key (station-box.key) or output; it cannot print"));
    }
    if (Status allowed = print_station->CheckPrintOfficer(*op); !allowed.ok()) return ErrorResponse(allowed);
    std::lock_guard lock(print_mu);
    StatusOr<nlohmann::json> out = action(*op);
    if (!out.ok()) return ErrorResponse(out.status());
    return net::HttpResponse::Json(200, out->dump());
  }

  net::HttpResponse PrintJobsRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator&) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(auto jobs, print_station->PrintJobs());
      nlohmann::json out = nlohmann::json::array();
      for (const HeldPrintJob& job : jobs) {
        out.push_back({{"job_id", job.job_id}, {"registration_number", job.registration_number},
                       {"urgent", job.urgent}, {"reserved_at", job.reserved_at},
                       {"state", HeldPrintJobStateName(job.state)},
                       {"serial", job.serial == 0 ? "" : blanks::FormatSerial(job.serial)},
                       {"withdrawn_reason", job.withdrawn_reason}, {"refused_reason", job.refused_reason}});
      }
      return nlohmann::json{{"jobs", out}};
    });
  }

  net::HttpResponse BlanksRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator&) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(BlankCounts counts, print_station->Blanks());
      return nlohmann::json{{"expected", counts.expected}, {"on_hand", counts.on_hand}, {"used", counts.used},
                            {"spoiled", counts.spoiled}};
    });
  }

  net::HttpResponse ReceiveBlanksRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(auto body, JsonObject(request.body, {"first_serial", "last_serial"}));
      ASSIGN_OR_RETURN(int64_t first, SerialField(body, "first_serial"));
      ASSIGN_OR_RETURN(int64_t last, SerialField(body, "last_serial"));
      ASSIGN_OR_RETURN(int64_t received, print_station->ReceiveBlanks(op, first, last));
      return nlohmann::json{{"received", received}};
    });
  }

  net::HttpResponse PrintNextRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(PrintedCard printed, print_station->PrintNextCard(op, *box_key, *print_output));
      service::LogInfo("station.card_printed", {{"job", printed.job_id}, {"operator", op.username}});
      return nlohmann::json{{"job_id", printed.job_id}, {"registration_number", printed.registration_number},
                            {"serial", blanks::FormatSerial(printed.serial)}, {"printed_at", printed.printed_at}};
    });
  }

  net::HttpResponse SpoilBlankRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(auto body, JsonObject(request.body, {"reason", "note"}));
      ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(request.path_params.at("serial")));
      RETURN_IF_ERROR(print_station->SpoilBlank(op, serial, body.value("reason", ""), body.value("note", "")));
      return nlohmann::json{{"spoiled", blanks::FormatSerial(serial)}};
    });
  }

  net::HttpResponse MisprintRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(auto body, JsonObject(request.body, {"note"}));
      ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(request.path_params.at("serial")));
      RETURN_IF_ERROR(print_station->RecordMisprint(op, serial, body.value("note", "")));
      return nlohmann::json{{"misprinted", blanks::FormatSerial(serial)}};
    });
  }

  // The counter's hand-over routes (station.h, "Card hand-over"), under mu.
  template <typename Action>
  net::HttpResponse AtCounter(const net::HttpRequest& request, Action action) {
    std::lock_guard lock(mu);
    StatusOr<Operator> op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    if (!box_key) {
      return ErrorResponse(FailedPrecondition("station " + station->identity().station_id +
                                              " has no box key (station-box.key); it cannot open cards to hand over"));
    }
    StatusOr<nlohmann::json> out = action(*op);
    if (!out.ok()) return ErrorResponse(out.status());
    return net::HttpResponse::Json(200, out->dump());
  }

  net::HttpResponse FindCardRoute(const net::HttpRequest& request) {
    return AtCounter(request, [&](const Operator&) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(CardAtCounter card, station->FindCardAtCounter(request.path_params.at("query")));
      return nlohmann::json{{"registration_number", card.card.registration_number},
                            {"serial", blanks::FormatSerial(card.card.serial)},
                            {"nik", card.nik},
                            {"state", CollectStateName(card.state)},
                            {"received_at", card.card.received_at},
                            {"checks", card.checks},
                            {"failed_checks", card.failed_checks},
                            {"check_passed", card.check_passed},
                            {"override_by", card.override_by},
                            {"override_allowed", card.override_allowed},
                            {"handed_over_at", card.handed_over_at}};
    });
  }

  net::HttpResponse CheckFingerprintsRoute(const net::HttpRequest& request) {
    return AtCounter(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(request.path_params.at("serial")));
      auto body = nlohmann::json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object() || body.size() != 1 || !body.contains("fingers") ||
          !body["fingers"].is_array()) {
        return InvalidArgument("body must be {\"fingers\": [{\"position\": <1-10>, \"template\": <base64>}, ...]}");
      }
      std::vector<card::ChipFinger> live;
      for (const nlohmann::json& finger : body["fingers"]) {
        if (!finger.is_object() || !finger.value("position", nlohmann::json()).is_number_integer() ||
            !finger.value("template", nlohmann::json()).is_string()) {
          return InvalidArgument("each finger must be {\"position\": <1-10>, \"template\": <base64>}");
        }
        ASSIGN_OR_RETURN(crypto::Bytes bytes, crypto::Base64Decode(finger["template"].get<std::string>()));
        live.push_back({finger["position"].get<int>(), std::move(bytes)});
      }
      ASSIGN_OR_RETURN(FingerprintCheck check, station->CheckCollectorFingerprints(op, *box_key, serial, live));
      return nlohmann::json{{"passed", check.passed},       {"score", check.score},
                            {"threshold", check.threshold}, {"fingers", check.fingers},
                            {"attempt", check.attempt},     {"failed_checks", check.failed_checks},
                            {"override_allowed", check.override_allowed}};
    });
  }

  net::HttpResponse OverrideRoute(const net::HttpRequest& request) {
    return AtCounter(request, [&](const Operator& supervisor) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(request.path_params.at("serial")));
      ASSIGN_OR_RETURN(auto body, JsonObject(request.body, {"reason"}));
      RETURN_IF_ERROR(station->OverrideFingerprintCheck(supervisor, serial, body.value("reason", "")));
      return nlohmann::json{{"overridden", blanks::FormatSerial(serial)}, {"by", supervisor.username}};
    });
  }

  net::HttpResponse HandOverRoute(const net::HttpRequest& request) {
    return AtCounter(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(int64_t serial, blanks::ParseSerial(request.path_params.at("serial")));
      auto body = nlohmann::json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return InvalidArgument("body must be a JSON object");
      HandOverRequest hand_over;
      for (const auto& [key, value] : body.items()) {
        if (key == "delegate") {
          ASSIGN_OR_RETURN(auto delegate, JsonObject(value.dump(), {"name", "nik", "relation"}));
          hand_over.delegate = Delegate{delegate.value("name", ""), delegate.value("nik", ""), delegate.value("relation", "")};
        } else if (key == "surrendered_ktp") {
          ASSIGN_OR_RETURN(auto ktp, JsonObject(value.dump(), {"nik", "serial"}));
          hand_over.surrendered = SurrenderedKtp{ktp.value("nik", ""), ktp.value("serial", "")};
        } else {
          return InvalidArgument("body field '" + QuoteInput(key) + "' is not known");
        }
      }
      ASSIGN_OR_RETURN(HandOverReceipt receipt, station->HandOverCard(op, *box_key, serial, hand_over));
      service::LogInfo("station.card_handed_over",
                       {{"serial", blanks::FormatSerial(serial)},
                        {"basis", std::string(sync::HandOverBasisName(receipt.hand_over.basis))},
                        {"operator", op.username}});
      return nlohmann::json{{"hand_over", nlohmann::json::parse(sync::CardActivatedToJson(receipt.hand_over))},
                            {"holder_name", receipt.holder_name},
                            {"free_service_notice", receipt.free_service_notice},
                            {"complaint_channel", receipt.complaint_channel}};
    });
  }

  // POST {"face_jpeg": <base64>}: a Suket for the enrollment, as JSON with its PDF in base64.
  net::HttpResponse IssueSuketRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    StatusOr<Operator> op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    auto body = JsonObject(request.body, {"face_jpeg"});
    if (!body.ok()) return ErrorResponse(body.status());
    auto face = crypto::Base64Decode(body->value("face_jpeg", ""));
    if (!face.ok() || face->empty()) return ErrorResponse(InvalidArgument("body field 'face_jpeg' must be a base64 JPEG"));
    auto issued = station->IssueSuket(*op, request.path_params.at("reg"), *face);
    if (!issued.ok()) return ErrorResponse(issued.status());
    service::LogInfo("station.suket_issued", {{"serial", issued->serial}, {"operator", op->username}});
    return net::HttpResponse::Json(201, nlohmann::json{{"serial", issued->serial},
                                                       {"valid_until", issued->valid_until},
                                                       {"replaces", issued->replaces},
                                                       {"token", issued->token},
                                                       {"pdf", crypto::Base64Encode(issued->pdf)}}
                                            .dump());
  }

  // POST {"token": "KTP1:..."}: verifies a Suket offline with what central last sent.
  net::HttpResponse VerifySuketRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    StatusOr<Operator> op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    auto body = JsonObject(request.body, {"token"});
    if (!body.ok()) return ErrorResponse(body.status());
    auto result = station->VerifySuket(body->value("token", ""));
    if (!result.ok()) return ErrorResponse(result.status());
    return net::HttpResponse::Json(200, nlohmann::json{{"outcome", suket::OutcomeName(result->outcome)},
                                                       {"reason", suket::ReasonName(result->reason)},
                                                       {"message", result->message},
                                                       {"pesan", result->pesan}}
                                            .dump());
  }

  net::HttpResponse ReturnUncollectedRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    StatusOr<Operator> supervisor = Authenticate(request);
    if (!supervisor.ok()) return ErrorResponse(supervisor.status());
    StatusOr<std::vector<CardToCollect>> returned = station->ReturnUncollectedCards(*supervisor);
    if (!returned.ok()) return ErrorResponse(returned.status());
    service::LogInfo("station.uncollected_cards_returned",
                     {{"cards", static_cast<int64_t>(returned->size())}, {"supervisor", supervisor->username}});
    nlohmann::json cards = nlohmann::json::array();
    for (const CardToCollect& card : *returned) {
      cards.push_back({{"registration_number", card.registration_number},
                       {"serial", blanks::FormatSerial(card.serial)},
                       {"received_at", card.received_at}});
    }
    return net::HttpResponse::Json(200, nlohmann::json{{"returned", cards}}.dump());
  }

  net::HttpResponse DispatchRoute(const net::HttpRequest& request) {
    return AsPrintOfficer(request, [&](const Operator& op) -> StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(auto manifests, print_station->DispatchPrintedCards(op));
      nlohmann::json out = nlohmann::json::array();
      for (const DispatchManifest& manifest : manifests) {
        nlohmann::json cards = nlohmann::json::array();
        for (const sync::DispatchedCard& card : manifest.cards) {
          cards.push_back({{"registration_number", card.registration_number},
                           {"serial", blanks::FormatSerial(card.serial)}});
        }
        out.push_back({{"manifest_id", manifest.manifest_id}, {"to_station", manifest.to_station}, {"cards", cards}});
      }
      return nlohmann::json{{"manifests", out}};
    });
  }

  // Supervisor review (station.h, ApproveEnrollment): each call authenticates
  // the session it carries, so a supervisor decides as themselves.
  net::HttpResponse ReviewListRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    StatusOr<Operator> op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    if (op->role != Role::kSupervisor) {
      return ErrorResponse(PermissionDenied("account " + op->username + " is " + std::string(RoleName(op->role)) +
                                            ", not a supervisor; only a supervisor reviews enrollments"));
    }
    if (!box_key) {
      return ErrorResponse(FailedPrecondition("station " + station->identity().station_id +
                                              " has no box key (station-box.key); it keeps no review copies"));
    }
    auto awaiting = station->AwaitingReviews(*box_key);
    if (!awaiting.ok()) return ErrorResponse(awaiting.status());
    nlohmann::json out = nlohmann::json::array();
    for (const AwaitingReview& item : *awaiting) {
      const enrollment::Enrollment& e = item.enrollment;
      nlohmann::json exceptions = nlohmann::json::object();
      for (const enrollment::FingerCapture& finger : item.review_copy.fingers) {
        if (finger.exception != enrollment::FingerException::kNone) {
          exceptions[std::to_string(finger.position)] = enrollment::FingerExceptionName(finger.exception);
        }
      }
      out.push_back({{"registration_number", e.registration_number},
                     {"operator", e.operator_name},
                     {"captured_at", e.captured_at},
                     {"application_kind", ApplicationKindName(e.kind)},
                     {"previous_nik", e.previous_nik},
                     {"resident", ResidentToJson(e.resident)},
                     {"face_jpeg", crypto::Base64Encode(item.review_copy.face_jpeg)},
                     {"signature_image", crypto::Base64Encode(item.review_copy.signature_image)},
                     {"finger_exceptions", exceptions},
                     {"exception_photo", item.review_copy.exception_photo.empty()
                                             ? nlohmann::json()
                                             : nlohmann::json(crypto::Base64Encode(item.review_copy.exception_photo))},
                     {"exception_approver", e.exception_approval ? nlohmann::json(e.exception_approval->approver)
                                                                 : nlohmann::json()},
                     {"location", e.location ? enrollment::LocationToJson(*e.location) : nlohmann::json()}});
    }
    return net::HttpResponse::Json(200, nlohmann::json{{"enrollments", out}}.dump());
  }

  net::HttpResponse ReviewDecisionRoute(const net::HttpRequest& request, bool approve) {
    std::lock_guard lock(mu);
    StatusOr<Operator> supervisor = Authenticate(request);
    if (!supervisor.ok()) return ErrorResponse(supervisor.status());
    const std::string& reg = request.path_params.at("reg");
    Status decided = [&]() -> Status {
      if (approve) return station->ApproveEnrollment(*supervisor, reg);
      ASSIGN_OR_RETURN(auto body, JsonObject(request.body, {"reason"}));
      return station->RejectEnrollment(*supervisor, reg, body.value("reason", ""));
    }();
    if (!decided.ok()) return ErrorResponse(decided);
    service::LogInfo(approve ? "station.enrollment_approved" : "station.enrollment_rejected",
                     {{"registration", reg}, {"supervisor", supervisor->username}});
    return net::HttpResponse::Json(
        200, nlohmann::json{{approve ? "approved" : "rejected", reg}, {"by", supervisor->username}}.dump());
  }
  net::HttpResponse ApproveRoute(const net::HttpRequest& request) {
    net::HttpResponse response = ReviewDecisionRoute(request, true);
    AwaitMirror(NotifyMirror(), kMirrorWaitAfterEnroll);
    return response;
  }
  net::HttpResponse RejectRoute(const net::HttpRequest& request) { return ReviewDecisionRoute(request, false); }

  // Who is logged in, and where: the console's first request.
  net::HttpResponse SessionRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    const Identity& identity = station->identity();
    return net::HttpResponse::Json(200, nlohmann::json{{"username", op->username},
                                                       {"name", op->full_name},
                                                       {"role", RoleName(op->role)},
                                                       {"station_id", identity.station_id},
                                                       {"station_kind", identity.kind},
                                                       {"kecamatan_code", identity.kecamatan_code},
                                                       {"capabilities", identity.capabilities},
                                                       {"simulated_scanner", simulated_scanner.has_value()}}
                                            .dump());
  }

  // The application's rules without biometrics, for the form's live
  // validation: 200 {"valid": true}, or 400 whose "field" names the field at
  // fault ("address.village_code") when the rule names one.
  //
  // The body may also carry `fingers`, an object of finger position ("1".."10")
  // to a base64 template as captured: each is decoded and scored for capture
  // quality, and the answer lists every score (`finger_quality`) beside the
  // station's `min_quality`. A body of `fingers` alone checks only them (the
  // console, as each finger is captured). A finger below it is refused as enrollment
  // would refuse it: 400 with `field` "finger_<position>" and the reason in
  // `error` (English) and `pesan` (Bahasa Indonesia). A finger the
  // application declares an exception is not scored.
  net::HttpResponse CheckApplicationRoute(const net::HttpRequest& request) {
    {
      std::lock_guard lock(mu);
      if (auto op = Authenticate(request); !op.ok()) return ErrorResponse(op.status());
    }
    const int min_quality = station->enrollment_policy().min_capture_quality;
    std::vector<enrollment::FingerQuality> qualities;
    std::optional<enrollment::QualityRefusal> refusal;
    Status valid = [&]() -> Status {
      auto json = nlohmann::json::parse(request.body, nullptr, false);
      nlohmann::json fingers = nlohmann::json::object();
      if (json.is_object() && json.contains("fingers")) {
        fingers = json["fingers"];
        json.erase("fingers");
      }
      // {"fingers": {...}} alone checks the fingers as they are captured, before the form is filled.
      const bool fingers_only = json.is_object() && json.empty() && !fingers.empty();
      EnrollmentRequest parsed;
      if (!fingers_only) {
        ASSIGN_OR_RETURN(parsed, ParseApplication(json.is_discarded() ? request.body : json.dump(), "the body"));
      }
      ASSIGN_OR_RETURN(parsed.biometrics.fingers, CheckedFingers(fingers, parsed.biometrics.fingers));
      if (!fingers_only) {
        enrollment::Enrollment application;
        application.kind = parsed.kind;
        application.previous_nik = parsed.previous_nik;
        application.resident = parsed.resident;
        RETURN_IF_ERROR(enrollment::ValidateApplication(application, RegionRegistry::Default(), clock->TodayWib()));
      }
      qualities = enrollment::AssessFingerQuality(parsed.biometrics);
      refusal = enrollment::CheckCaptureQuality(parsed.biometrics, min_quality);
      return refusal ? InvalidArgument(refusal->error) : Status::Ok();
    }();
    nlohmann::json quality_json = nlohmann::json::array();
    for (const enrollment::FingerQuality& q : qualities) quality_json.push_back({{"position", q.position}, {"score", q.score}});
    if (valid.ok()) {
      return net::HttpResponse::Json(
          200, nlohmann::json{{"valid", true}, {"finger_quality", quality_json}, {"min_quality", min_quality}}.dump());
    }
    if (refusal) {
      net::HttpResponse response = QualityRefusalResponse(valid, *refusal);
      auto body = nlohmann::json::parse(response.body);
      body["finger_quality"] = quality_json;
      body["min_quality"] = min_quality;
      response.body = body.dump();
      return response;
    }
    return ApplicationRefusal(valid);
  }

  // A template from the simulated scanner (`station serve --simulated-scanner
  // SEED`): the same subject and finger give the same master print, each
  // impression its own capture of it.
  net::HttpResponse SimulatedScanRoute(const net::HttpRequest& request) {
    {
      std::lock_guard lock(mu);
      if (auto op = Authenticate(request); !op.ok()) return ErrorResponse(op.status());
    }
    if (!simulated_scanner) {
      return ErrorResponse(FailedPrecondition("the simulated scanner is off; start the station with "
                                              "--simulated-scanner SEED (demo and tests only)"));
    }
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    auto number = [&](const char* key) -> int64_t {
      return body.is_object() && body.value(key, nlohmann::json()).is_number_integer() ? body[key].get<int64_t>() : -1;
    };
    const int64_t subject = number("subject"), finger = number("finger"), impression = number("impression");
    if (subject < 0 || finger < 1 || finger > 10 || impression < 0 || impression > 7) {
      return ErrorResponse(InvalidArgument("body must be {\"subject\": >= 0, \"finger\": 1-10, \"impression\": 0-7}"));
    }
    bio::MasterFinger master = simulated_scanner->Master(static_cast<uint64_t>(subject), static_cast<int>(finger));
    auto encoded = bio::EncodeTemplate(bio::SynthGenerator::ToRecord(
        simulated_scanner->Impression(master, static_cast<uint64_t>(subject), static_cast<int>(finger),
                                      static_cast<int>(impression)),
        static_cast<int>(finger)));
    if (!encoded.ok()) return ErrorResponse(encoded.status());
    return net::HttpResponse::Json(200, nlohmann::json{{"template", crypto::Base64Encode(*encoded)}}.dump());
  }

  net::HttpResponse RegionsRoute(const net::HttpRequest& request) { return console::RegionRoute(request); }
  net::HttpResponse DecodeNikRoute(const net::HttpRequest& request) {
    return console::DecodeNikRoute(request, clock->TodayWib());
  }

  net::HttpResponse SyncStatusRoute(const net::HttpRequest& request) {
    std::lock_guard lock(mu);
    auto op = Authenticate(request);
    if (!op.ok()) return ErrorResponse(op.status());
    nlohmann::json out = {{"station_id", station->identity().station_id}};
    for (OutboxState state : kAllOutboxStates) {
      auto count = station->CountOutbox(state);
      out[OutboxStateName(state)] = count.ok() ? *count : -1;
    }
    // Feed items this station refused stay visible until an operator or a later version deals with them.
    nlohmann::json refused = nlohmann::json::array();
    if (auto items = station->RefusedFeedItems(); items.ok()) {
      for (const RefusedFeedItem& item : *items) {
        refused.push_back({{"feed_id", item.feed_id}, {"kind", item.kind}, {"code", item.code},
                           {"reason", item.reason}, {"at", item.at}});
      }
    }
    out["refused_feed_items"] = std::move(refused);
    if (sync) {
      SyncStatus status = sync->status();
      out["central_url"] = status.central_url;
      out["last_success"] = status.last_success;
      out["last_error"] = status.last_error;
      out["waiting_for_approval"] = status.waiting_for_approval;
    }
    if (mirror) {
      MirrorStatus status = mirror->status();
      out["mirror"] = {{"dir", status.dir},
                       {"last_written_at", status.last_written_at},
                       {"packets", status.packets},
                       {"error", status.error},
                       {"error_since", status.error_since}};
    }
    return net::HttpResponse::Json(200, out.dump());
  }
};

StatusOr<StationFiles> OpenStationFiles(const std::string& data_dir) {
  StationFiles files;
  ASSIGN_OR_RETURN(files.key, crypto::SigningKey::Load(Path(data_dir, kSigningKeyFile)));
  if (std::filesystem::exists(Path(data_dir, kBoxKeyFile))) {
    ASSIGN_OR_RETURN(files.box_key, crypto::SealingKey::Load(Path(data_dir, kBoxKeyFile)));
  }
  ASSIGN_OR_RETURN(files.db, store::Open(StationDbUrl(data_dir), store::Schema::kStation));
  ASSIGN_OR_RETURN(files.identity, Station::LoadIdentity(*files.db));
  return files;
}

StationServer::StationServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StationServer::~StationServer() { Stop(); }

StatusOr<std::unique_ptr<StationServer>> StationServer::Create(const StationOptions& options, const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = &clock;
  ASSIGN_OR_RETURN(StationFiles files, OpenStationFiles(options.data_dir));
  impl->key = std::move(files.key);
  impl->db = std::move(files.db);
  Identity identity = std::move(files.identity);
  if (!options.central_urls.empty()) identity.central_urls = options.central_urls;
  EnrollmentPolicy enrollment_policy = options.enrollment;
  impl->box_key = std::move(files.box_key);  // its address stays put for enrollment_policy
  if (impl->box_key) {
    enrollment_policy.review_copy_key = impl->box_key->public_key();
    enrollment_policy.operator_fingerprints_key = &*impl->box_key;
  }
  if (enrollment_policy.review_required && !impl->box_key) {
    return FailedPrecondition("review.required is set but " + options.data_dir +
                              " has no station-box.key to keep the reviewer's copies; register the station again "
                              "with this version of ektp");
  }
  impl->station = std::make_unique<Station>(*impl->db, clock, impl->key, identity, options.login, PickupPolicy{},
                                            enrollment_policy);
  impl->station->PrepareLogin();
  // Items an older version kept because it did not know their kind or version.
  ASSIGN_OR_RETURN(int reapplied, impl->station->RetryKeptFeedItems());
  if (reapplied > 0) service::LogInfo("station.kept_feed_items_applied", {{"items", reapplied}});
  impl->crash_after_enroll_commit_for_test = std::getenv(kCrashAfterEnrollCommitForTest) != nullptr;
  if (options.simulated_scanner_seed != 0) impl->simulated_scanner.emplace(options.simulated_scanner_seed);
  if (impl->box_key && std::ranges::find(identity.capabilities, "print") != identity.capabilities.end()) {
    const std::string output = options.print_output.empty() ? Path(options.data_dir, "spool") : options.print_output;
    if (std::error_code error; !output.starts_with("cups:") && !std::filesystem::create_directories(output, error) && error) {
      return FailedPrecondition("cannot create the print spool folder " + output + ": " + error.message());
    }
    ASSIGN_OR_RETURN(impl->print_output, card::OpenCardOutput(output));
    ASSIGN_OR_RETURN(impl->print_db, store::Open(StationDbUrl(options.data_dir), store::Schema::kStation));
    impl->print_station = std::make_unique<Station>(*impl->print_db, clock, impl->key, identity);
  }
  if (options.run_sync) {
    SyncOptions sync = options.sync;
    if (sync.pinned_cert_pem.empty()) {
      std::ifstream in(Path(options.data_dir, "central-cert.pem"));
      sync.pinned_cert_pem.assign(std::istreambuf_iterator<char>(in), {});
    }
    ASSIGN_OR_RETURN(impl->sync_db, store::Open(StationDbUrl(options.data_dir), store::Schema::kStation));
    impl->sync_station = std::make_unique<Station>(*impl->sync_db, clock, impl->key, identity);
    if (options.random_seed != 0) {
      impl->random = std::make_unique<SeededRandom>(options.random_seed);
    } else {
      impl->random = std::make_unique<SystemRandom>();
    }
    impl->sync = std::make_unique<SyncClient>(*impl->sync_station, clock, *impl->random, impl->key, sync);
  }
  if (!options.outbox_mirror.empty()) {
    struct stat mirror_stat {}, data_stat {};
    if (::stat(options.outbox_mirror.c_str(), &mirror_stat) == 0 && ::stat(options.data_dir.c_str(), &data_stat) == 0 &&
        mirror_stat.st_dev == data_stat.st_dev) {
      service::LogWarn("station.mirror_same_device",
                       {{"dir", options.outbox_mirror},
                        {"note", "the outbox mirror is on the same device as the data directory; it survives no disk failure"}});
    }
    ASSIGN_OR_RETURN(impl->mirror_db, store::Open(StationDbUrl(options.data_dir), store::Schema::kStation));
    impl->mirror_station = std::make_unique<Station>(*impl->mirror_db, clock, impl->key, identity);
    impl->mirror = std::make_unique<OutboxMirror>(*impl->mirror_station, clock, options.outbox_mirror);
  }
  // An enrollment: photo, signature, ten templates (and the body limit of its route).
  constexpr size_t kEnrollmentBodyBytes = 16 * 1024 * 1024;
  net::HttpServerOptions http;
  http.bind_address = options.bind_address;
  http.port = options.port;
  http.threads = options.threads;
  // Room for four maximal enrollments being received at once (docs/operations.md).
  http.max_buffered_body_bytes = 4 * kEnrollmentBodyBytes;
  http.collect_metrics = [self = impl.get()](service::MetricsRegistry& registry) {
    if (self->mirror) CollectMirrorMetrics(self->mirror->status(), registry);
    std::lock_guard lock(self->mu);
    return CollectStationMetrics(*self->station, *self->clock, registry);
  };
  impl->http = std::make_unique<net::HttpServer>(std::move(http));
  impl->guard = std::make_unique<net::RequestGuard>(
      net::RequestGuardOptions{"http", options.bind_address, options.served_hosts});
  using net::BodyKind;
  Impl* self = impl.get();
  // Body limits per route (net/http_server.h; the memory they bound is in docs/operations.md):
  // an enrollment 16 MiB, a login 16 KiB (room for a fingerprint template),
  // logout and GETs the 64 KiB default.
  impl->http->Handle("POST", "/api/v1/login", self->Guarded(BodyKind::kJson, &Impl::Login),
                     net::RouteOptions{.max_body_bytes = 16 * 1024});
  impl->http->Handle("POST", "/api/v1/logout", self->Guarded(BodyKind::kNone, &Impl::Logout));
  impl->http->Handle("POST", "/api/v1/enrollments", self->Guarded(BodyKind::kMultipart, &Impl::Enroll),
                     net::RouteOptions{.max_body_bytes = kEnrollmentBodyBytes});
  impl->http->Handle("GET", "/api/v1/session", self->Guarded(BodyKind::kNone, &Impl::SessionRoute));
  impl->http->Handle("POST", "/api/v1/enrollments/check", self->Guarded(BodyKind::kJson, &Impl::CheckApplicationRoute));
  impl->http->Handle("POST", "/api/v1/scanner/simulated", self->Guarded(BodyKind::kJson, &Impl::SimulatedScanRoute));
  impl->http->Handle("GET", "/api/v1/regions", self->Guarded(BodyKind::kNone, &Impl::RegionsRoute));
  impl->http->Handle("GET", "/api/v1/regions/:code", self->Guarded(BodyKind::kNone, &Impl::RegionsRoute));
  impl->http->Handle("POST", "/api/v1/nik/decode", self->Guarded(BodyKind::kJson, &Impl::DecodeNikRoute));
  console::AddConsoleRoutes(*impl->http, "/station.html");
  impl->http->Handle("GET", "/api/v1/enrollments/:reg", self->Guarded(BodyKind::kNone, &Impl::EnrollmentStatusRoute));
  impl->http->Handle("GET", "/api/v1/enrollments/:reg/receipt", self->Guarded(BodyKind::kNone, &Impl::ReceiptRoute));
  impl->http->Handle("GET", "/api/v1/outbox", self->Guarded(BodyKind::kNone, &Impl::OutboxRoute));
  impl->http->Handle("GET", "/api/v1/sync/status", self->Guarded(BodyKind::kNone, &Impl::SyncStatusRoute),
                     net::RouteOptions{.poll = true});
  impl->http->Handle("GET", "/api/v1/print/jobs", self->Guarded(BodyKind::kNone, &Impl::PrintJobsRoute));
  impl->http->Handle("GET", "/api/v1/print/blanks", self->Guarded(BodyKind::kNone, &Impl::BlanksRoute));
  impl->http->Handle("POST", "/api/v1/print/blanks/receive", self->Guarded(BodyKind::kJson, &Impl::ReceiveBlanksRoute));
  impl->http->Handle("POST", "/api/v1/print/blanks/:serial/spoil", self->Guarded(BodyKind::kJson, &Impl::SpoilBlankRoute));
  impl->http->Handle("POST", "/api/v1/print/next", self->Guarded(BodyKind::kNone, &Impl::PrintNextRoute));
  impl->http->Handle("POST", "/api/v1/print/dispatch", self->Guarded(BodyKind::kNone, &Impl::DispatchRoute));
  impl->http->Handle("POST", "/api/v1/print/cards/:serial/misprint", self->Guarded(BodyKind::kJson, &Impl::MisprintRoute));
  impl->http->Handle("POST", "/api/v1/enrollments/:reg/suket", self->Guarded(BodyKind::kJson, &Impl::IssueSuketRoute),
                     net::RouteOptions{.max_body_bytes = 4 * 1024 * 1024});
  impl->http->Handle("POST", "/api/v1/sukets/verify", self->Guarded(BodyKind::kJson, &Impl::VerifySuketRoute));
  impl->http->Handle("GET", "/api/v1/pickup/cards/:query", self->Guarded(BodyKind::kNone, &Impl::FindCardRoute));
  impl->http->Handle("POST", "/api/v1/pickup/cards/:serial/check", self->Guarded(BodyKind::kJson, &Impl::CheckFingerprintsRoute),
                     net::RouteOptions{.max_body_bytes = 256 * 1024});
  impl->http->Handle("POST", "/api/v1/pickup/cards/:serial/override", self->Guarded(BodyKind::kJson, &Impl::OverrideRoute));
  impl->http->Handle("POST", "/api/v1/pickup/cards/:serial/hand-over", self->Guarded(BodyKind::kJson, &Impl::HandOverRoute));
  impl->http->Handle("POST", "/api/v1/pickup/returns", self->Guarded(BodyKind::kNone, &Impl::ReturnUncollectedRoute));
  impl->http->Handle("GET", "/api/v1/review/enrollments", self->Guarded(BodyKind::kNone, &Impl::ReviewListRoute));
  impl->http->Handle("POST", "/api/v1/review/enrollments/:reg/approve", self->Guarded(BodyKind::kNone, &Impl::ApproveRoute));
  impl->http->Handle("POST", "/api/v1/review/enrollments/:reg/reject", self->Guarded(BodyKind::kJson, &Impl::RejectRoute));
  return std::unique_ptr<StationServer>(new StationServer(std::move(impl)));
}

Status StationServer::Start() {
  RETURN_IF_ERROR(impl_->http->Start());
  if (impl_->sync) {
    Impl* self = impl_.get();
    impl_->sync_thread = std::jthread([self](std::stop_token stop) {
      std::mutex sleep_mu;
      std::condition_variable_any wake;
      self->sync->Run(stop, [&](std::chrono::milliseconds delay) {
        std::unique_lock lock(sleep_mu);
        wake.wait_for(lock, stop, delay, [] { return false; });
      });
    });
  }
  if (impl_->mirror) {
    Impl* self = impl_.get();
    impl_->mirror_thread = std::jthread([self](std::stop_token stop) {
      // One Refresh serves every request made before it began.
      auto refresh = [self] {
        uint64_t serving;
        {
          std::lock_guard lock(self->mirror_mu);
          serving = self->mirror_requested;
        }
        self->mirror->Refresh();
        {
          std::lock_guard lock(self->mirror_mu);
          self->mirror_completed = serving;
        }
        self->mirror_done.notify_all();
      };
      while (!stop.stop_requested()) {
        refresh();
        std::unique_lock lock(self->mirror_mu);
        self->mirror_wake.wait_for(lock, stop, self->options.mirror_check_interval,
                                   [self] { return self->mirror_requested > self->mirror_completed; });
      }
      refresh();  // what the last moments changed, before the process ends
    });
  }
  service::LogInfo("station.started", {{"station", impl_->station->identity().station_id}, {"url", impl_->http->base_url()}});
  return Status::Ok();
}

void StationServer::Stop() {
  if (!impl_) return;
  if (impl_->mirror_thread.joinable()) {
    impl_->mirror_thread.request_stop();
    impl_->mirror_thread.join();
  }
  if (impl_->sync_thread.joinable()) {
    impl_->sync_thread.request_stop();
    impl_->sync_thread.join();
  }
  if (impl_->http) impl_->http->Stop();
}

int StationServer::port() const { return impl_->http->port(); }
std::string StationServer::base_url() const { return impl_->http->base_url(); }

}  // namespace ektp::station
