#include "central/server.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <nlohmann/json.hpp>

#include "central/audit_checkpoints.h"
#include "central/console_api.h"
#include "central/metrics.h"
#include "console/assets.h"
#include "console/reference_data.h"
#include "central/print_feed.h"
#include "central/sukets.h"
#include "suket/suket.h"
#include "central/status_lookup.h"
#include "net/http_server.h"
#include "net/request_guard.h"
#include "net/tls.h"
#include "service/dir_lock.h"
#include "service/log.h"
#include "service/metrics.h"
#include "sync/feed.h"
#include "sync/request_auth.h"

namespace ektp::central {
namespace {

constexpr const char* kServeLockFile = "central.lock";

net::HttpResponse ErrorResponse(const Status& status) {
  return net::HttpResponse::JsonError(net::HttpStatusFor(status), status.ToString());
}

// Query parameter `name` as a decimal integer in [min, max], `fallback` when
// absent; kInvalidArgument naming the parameter for anything else (signs,
// spaces, other characters, overflow, out of range, repeated).
StatusOr<int64_t> QueryInteger(const net::HttpRequest& request, const std::string& name, int64_t fallback, int64_t min,
                               int64_t max) {
  size_t count = request.query_params.count(name);
  if (count == 0) return fallback;
  auto bad = [&](const std::string& why) {
    return InvalidArgument("query parameter '" + name + "' " + why + " (an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ")");
  };
  if (count > 1) return bad("is given more than once");
  const std::string text = request.query(name);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || end != text.data() + text.size()) {
    return bad("must be a decimal integer");
  }
  if (error == std::errc::result_out_of_range || value < min || value > max) return bad("is out of range");
  return value;
}

std::string Path(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return FailedPrecondition("cannot read " + path + "; run `ektp central init` for this folder");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `handler` behind the same-origin checks of the routes a browser can reach
// (net/request_guard.h); the signed station routes authenticate each request instead.
net::HttpHandler Guarded(std::shared_ptr<const net::RequestGuard> guard, net::BodyKind body, net::HttpHandler handler) {
  return [guard = std::move(guard), body, handler = std::move(handler)](const net::HttpRequest& request) {
    if (auto refusal = guard->Check(request, body)) {
      return net::HttpResponse::JsonError(refusal->http_status, refusal->status.ToString());
    }
    return handler(request);
  };
}

}  // namespace

std::string CentralDbUrl(const CentralOptions& options) {
  return options.db_url.empty() ? "sqlite:" + Path(options.data_dir, "central.db") : options.db_url;
}

StatusOr<crypto::DataKey> LoadBiometricsKey(const std::string& data_dir) {
  return crypto::DataKey::Load(Path(data_dir, "biometrics.key"));
}

StatusOr<CentralKeys> LoadCentralKeys(const std::string& data_dir) {
  auto loaded = crypto::SigningKey::Load(Path(data_dir, "signing.key"));
  if (loaded.status().code() == StatusCode::kNotFound) {
    return FailedPrecondition(loaded.status().message() + "; run `ektp central init --dir " + data_dir +
                              "` first (or pass the --dir that `central init` created)");
  }
  ASSIGN_OR_RETURN(crypto::SigningKey signing, std::move(loaded));
  ASSIGN_OR_RETURN(crypto::SealingKey sealing, crypto::SealingKey::Load(Path(data_dir, "sealing.key")));
  ASSIGN_OR_RETURN(crypto::DataKey biometrics, LoadBiometricsKey(data_dir));
  return CentralKeys{std::move(signing), std::move(sealing), std::move(biometrics)};
}

Status InitCentral(const CentralOptions& options, const std::vector<std::string>& hostnames) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) return Unavailable("cannot create " + options.data_dir + ": " + error.message());
  std::filesystem::permissions(options.data_dir, std::filesystem::perms::owner_all, error);
  if (!std::filesystem::exists(Path(options.data_dir, "signing.key"))) {
    RETURN_IF_ERROR(crypto::SigningKey::Generate().Save(Path(options.data_dir, "signing.key")));
  }
  if (!std::filesystem::exists(Path(options.data_dir, "sealing.key"))) {
    RETURN_IF_ERROR(crypto::SealingKey::Generate().Save(Path(options.data_dir, "sealing.key")));
  }
  if (!std::filesystem::exists(Path(options.data_dir, "biometrics.key"))) {
    RETURN_IF_ERROR(crypto::DataKey::Generate().Save(Path(options.data_dir, "biometrics.key")));
  }
  if (!std::filesystem::exists(Path(options.data_dir, "tls-cert.pem"))) {
    net::SelfSignedOptions tls;
    tls.common_name = "ektp-central";
    tls.alt_names = hostnames;
    ASSIGN_OR_RETURN(auto material, net::GenerateSelfSigned(tls));
    RETURN_IF_ERROR(net::WriteCertificateAndKey(material, Path(options.data_dir, "tls-cert.pem"),
                                                Path(options.data_dir, "tls-key.pem")));
  }
  ASSIGN_OR_RETURN(auto connection, store::Open(CentralDbUrl(options), store::Schema::kCentral));
  return Status::Ok();
}

struct CentralServer::Impl {
  CentralOptions options;
  const Clock* clock = nullptr;
  CentralKeys keys;
  std::unique_ptr<store::ConnectionPool> pool;
  std::unique_ptr<net::HttpServer> http;
  SystemRandom random;
  std::unique_ptr<pipeline::Pipeline> pipeline;  // null unless options.run_pipeline
  std::jthread checkpointer;                     // publishes audit checkpoints; empty if the interval is 0
  std::optional<service::DirLock> sqlite_lock;   // held while central serves a SQLite database in data_dir

  void PublishCheckpoints(std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any wake;
    std::unique_lock lock(mu);
    int64_t published = 0;
    while (!wake.wait_for(lock, stop, options.audit_checkpoint_interval, [] { return false; }) &&
           !stop.stop_requested()) {
      auto db = pool->Acquire();
      auto head = db.ok() ? (*db)->Query("SELECT seq FROM audit_head WHERE singleton = 1") : db.status();
      if (!head.ok() || head->empty() || (*head)[0].Int(0) == published) continue;
      auto checkpoint = PublishAuditCheckpoint(**db, *clock, keys.signing);
      if (!checkpoint.ok()) {
        service::LogWarn("central.audit_checkpoint_failed", {{"error", checkpoint.status().ToString()}});
        continue;
      }
      published = checkpoint->seq;
      service::LogInfo("central.audit_checkpoint", {{"seq", checkpoint->seq}, {"hash", checkpoint->hash}});
    }
  }

  // Checks the station's request signature; returns the station.
  StatusOr<RegisteredStation> AuthenticateStation(store::Connection& db, const net::HttpRequest& request) {
    sync::RequestSignature signature{request.header("x-ektp-station"), request.header("x-ektp-timestamp"),
                                     request.header("x-ektp-signature")};
    if (signature.station_id.empty()) return Unauthenticated("missing X-Ektp-Station header");
    StationRegistry stations(db, *clock);
    auto station = stations.Get(signature.station_id);
    if (!station.ok()) return Unauthenticated(station.status().message());
    RETURN_IF_ERROR(sync::VerifyRequest(signature, station->public_key, request.method,
                                        sync::RequestTarget(request.path, request.query_params), request.body,
                                        clock->Now()));
    // The dashboard's "last heard from", written at most once a minute per station.
    const TimePoint now = clock->Now();
    RETURN_IF_ERROR(db.Exec("UPDATE stations SET last_contact_at = ? WHERE id = ? AND "
                            "(last_contact_at IS NULL OR last_contact_at < ?)",
                            {FormatTimestamp(now), station->id, FormatTimestamp(now - std::chrono::minutes(1))}));
    return station;
  }

  net::HttpResponse Register(const net::HttpRequest& request) {
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.value("token", nlohmann::json()).is_string() ||
        !json.value("public_key", nlohmann::json()).is_string()) {
      return ErrorResponse(InvalidArgument("body must be {\"token\": ..., \"public_key\": <base64>}"));
    }
    auto public_key = crypto::Base64Decode(json.value("public_key", ""));
    if (!public_key.ok()) return ErrorResponse(InvalidArgument("public_key is not base64"));
    const nlohmann::json box_field = json.value("box_public_key", nlohmann::json());
    if (!box_field.is_null() && !box_field.is_string()) {
      return ErrorResponse(InvalidArgument("box_public_key must be a base64 string"));
    }
    auto box_public_key = crypto::Base64Decode(box_field.is_string() ? box_field.get<std::string>() : "");
    if (!box_public_key.ok()) return ErrorResponse(InvalidArgument("box_public_key is not base64"));
    auto db = pool->Acquire();
    if (!db.ok()) return ErrorResponse(db.status());
    StationRegistry stations(**db, *clock);
    auto station = stations.Register(json.value("token", ""), *public_key, *box_public_key);
    if (!station.ok()) return ErrorResponse(station.status());
    service::LogInfo("central.station_registered", {{"station", station->id}, {"kecamatan", station->kecamatan_code}});
    nlohmann::json out = {{"station_id", station->id},
                          {"kecamatan_code", station->kecamatan_code},
                          {"kind", StationKindName(station->kind)},
                          {"capabilities", station->capabilities},
                          {"status", StationStatusName(station->status)},
                          {"central_signing_key", crypto::Base64Encode(keys.signing.public_key())},
                          {"central_sealing_key", crypto::Base64Encode(keys.sealing.public_key())}};
    return net::HttpResponse::Json(200, out.dump());
  }

  net::HttpResponse Upload(const net::HttpRequest& request) {
    auto db = pool->Acquire();
    if (!db.ok()) return ErrorResponse(db.status());
    auto station = AuthenticateStation(**db, request);
    if (!station.ok()) return ErrorResponse(station.status());
    auto packets = sync::ParseUploadBody(request.body);
    if (!packets.ok()) return ErrorResponse(packets.status());
    Ingest ingest(**db, *clock, keys, RegionRegistry::Default());
    auto response = ingest.Upload(station->id, *packets);
    if (!response.ok()) return ErrorResponse(response.status());
    CountUpload(station->id, *packets, *response);
    service::LogInfo("central.batch_ingested",
                 {{"station", station->id}, {"packets", packets->size()}, {"cursor", response->cursor}});
    sync::SignUploadResponse(keys.signing, station->id, request.header("x-ektp-signature"), *response);
    return net::HttpResponse::Json(200, sync::UploadResponseToJson(*response).dump());
  }

  net::HttpResponse Down(const net::HttpRequest& request) {
    auto db = pool->Acquire();
    if (!db.ok()) return ErrorResponse(db.status());
    auto station = AuthenticateStation(**db, request);
    if (!station.ok()) return ErrorResponse(station.status());
    if (station->status == StationStatus::kRevoked) {
      return ErrorResponse(PermissionDenied("station " + station->id + " is revoked" + RevocationNote(*station)));
    }
    auto after = QueryInteger(request, "after", 0, 0, std::numeric_limits<int64_t>::max());
    if (!after.ok()) return ErrorResponse(after.status());
    auto limit = QueryInteger(request, "limit", sync::kDefaultFeedPageItems, 1, sync::kMaxFeedPageItems);
    if (!limit.ok()) return ErrorResponse(limit.status());
    // A print station's jobs are topped up as it reads its feed; a failure
    // there must not keep record statuses from reaching it.
    if (auto queued = QueuePrintJobs(**db, *clock, keys, *station); !queued.ok()) {
      service::LogWarn("central.print_jobs_failed", {{"station", station->id}, {"error", queued.status().ToString()}});
    }
    if (auto queued = QueueSuketTrust(**db, *clock, keys, station->id); !queued.ok()) {
      service::LogWarn("central.suket_trust_failed", {{"station", station->id}, {"error", queued.status().ToString()}});
    }
    Ingest ingest(**db, *clock, keys, RegionRegistry::Default());
    auto items = ingest.Feed(station->id, *after, static_cast<int>(*limit));
    if (!items.ok()) return ErrorResponse(items.status());
    sync::FeedPage page{std::move(*items), {}};
    sync::SignFeedPage(keys.signing, station->id, request.header("x-ektp-signature"), page);
    return net::HttpResponse::Json(200, sync::FeedPageToJson(page).dump());
  }

  // The Suket's trust bundle and revocation list, public: anyone may verify
  // Sukets offline with them (`ektp suket verify --trust --revocations`).
  net::HttpResponse SuketPublicationRoute(bool trust_bundle) {
    auto db = pool->Acquire();
    if (!db.ok()) return ErrorResponse(db.status());
    auto publication = trust_bundle ? CurrentTrustBundle(**db, *clock, keys.signing)
                                    : CurrentRevocationList(**db, *clock, keys.signing);
    if (!publication.ok()) return ErrorResponse(publication.status());
    net::HttpResponse response;
    response.content_type = "application/octet-stream";
    response.body.assign(publication->body.begin(), publication->body.end());
    response.headers.emplace("x-ektp-sequence", std::to_string(publication->sequence));
    return response;
  }

  // A Suket verified online, with the same bundle and list as offline verification.
  StatusOr<suket::VerifyResult> VerifySuket(std::string_view token) {
    ASSIGN_OR_RETURN(auto db, pool->Acquire());
    ASSIGN_OR_RETURN(SuketPublication bundle_bytes, CurrentTrustBundle(*db, *clock, keys.signing));
    ASSIGN_OR_RETURN(SuketPublication list_bytes, CurrentRevocationList(*db, *clock, keys.signing));
    ASSIGN_OR_RETURN(suket::TrustBundle bundle, suket::DecodeTrustBundle(bundle_bytes.body, keys.signing.public_key()));
    ASSIGN_OR_RETURN(suket::RevocationList list, suket::DecodeRevocationList(list_bytes.body, bundle));
    return suket::Verify(token, bundle, list, clock->Now());
  }

  // POST {"token": "KTP1:..."} -> {outcome, reason, message, pesan, suket?}.
  net::HttpResponse SuketVerifyRoute(const net::HttpRequest& request) {
    auto json = nlohmann::json::parse(request.body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.value("token", nlohmann::json()).is_string()) {
      return ErrorResponse(InvalidArgument("body must be {\"token\": \"KTP1:...\"}"));
    }
    auto result = VerifySuket(json["token"].get<std::string>());
    if (!result.ok()) return ErrorResponse(result.status());
    nlohmann::json out{{"outcome", suket::OutcomeName(result->outcome)},
                       {"reason", suket::ReasonName(result->reason)},
                       {"message", result->message},
                       {"pesan", result->pesan}};
    if (result->data) {
      out["suket"] = {{"serial", result->data->serial},
                      {"name", result->data->name},
                      {"registration_number", result->data->registration_number},
                      {"station", result->data->station_id},
                      {"valid_until", FormatTimestamp(result->data->valid_until)}};
    }
    return net::HttpResponse::Json(200, out.dump());
  }

  // GET /suket/verify[?token=KTP1:...]: the public page, in Bahasa Indonesia,
  // for anyone holding a Suket's QR text (banks, schools, offices).
  net::HttpResponse SuketVerifyPage(const net::HttpRequest& request) {
    const std::string token = request.query("token");
    std::string verdict;
    if (!token.empty()) {
      auto result = VerifySuket(token);
      if (!result.ok()) return ErrorResponse(result.status());
      verdict = "<p class=\"" + std::string(suket::ReasonName(result->reason)) + "\"><strong>" +
                net::HtmlEscape(result->pesan) + "</strong></p>";
      if (result->data) {
        verdict += "<p>Nomor Suket: " + net::HtmlEscape(result->data->serial) + "<br>Nama: " +
                   net::HtmlEscape(result->data->name) + "<br>Berlaku hingga: " +
                   net::HtmlEscape(FormatTimestamp(result->data->valid_until)) + "</p>";
      }
    }
    net::HttpResponse response;
    response.content_type = "text/html; charset=utf-8";
    response.body =
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>Periksa Suket</title></head><body>"
        "<h1>Periksa keaslian Surat Keterangan (Suket)</h1>"
        "<form method=\"get\" action=\"/suket/verify\"><label>Teks QR Suket (diawali KTP1:)<br>"
        "<textarea name=\"token\" rows=\"6\" cols=\"60\">" + net::HtmlEscape(token) + "</textarea></label><br>"
        "<button type=\"submit\">Periksa</button></form>" + verdict + "</body></html>";
    response.headers.emplace("content-security-policy", "default-src 'none'; form-action 'self'");
    return response;
  }

  net::HttpResponse CursorRoute(const net::HttpRequest& request) {
    auto db = pool->Acquire();
    if (!db.ok()) return ErrorResponse(db.status());
    auto station = AuthenticateStation(**db, request);
    if (!station.ok()) return ErrorResponse(station.status());
    Ingest ingest(**db, *clock, keys, RegionRegistry::Default());
    auto cursor = ingest.Cursor(station->id);
    if (!cursor.ok()) return ErrorResponse(cursor.status());
    nlohmann::json answer{{"cursor", *cursor}, {"status", StationStatusName(station->status)}};
    if (station->status == StationStatus::kRevoked) {
      answer["error"] = "station " + station->id + " is revoked" + RevocationNote(*station);
    }
    return net::HttpResponse::Json(200, answer.dump());
  }
};

CentralServer::CentralServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CentralServer::~CentralServer() { Stop(); }

StatusOr<std::unique_ptr<CentralServer>> CentralServer::Create(const CentralOptions& options, const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = &clock;
  ASSIGN_OR_RETURN(impl->keys, LoadCentralKeys(options.data_dir));
  ASSIGN_OR_RETURN(impl->pool, store::ConnectionPool::Create(CentralDbUrl(options), store::Schema::kCentral));
  net::HttpServerOptions http;
  http.bind_address = options.bind_address;
  http.port = options.port;
  http.threads = options.threads;
  // Room for four maximal upload batches being received at once (docs/operations.md).
  http.max_buffered_body_bytes = 4 * options.max_body_bytes;
  if (!options.plain_http) {
    http.tls_cert_path = Path(options.data_dir, "tls-cert.pem");
    http.tls_key_path = Path(options.data_dir, "tls-key.pem");
  }
  Impl* self = impl.get();
  http.readiness = [self]() -> Status {
    auto db = self->pool->Acquire();
    if (!db.ok()) return db.status();
    return (*db)->Query("SELECT 1").status();
  };
  http.collect_metrics = [self](service::MetricsRegistry& registry) -> Status {
    ASSIGN_OR_RETURN(auto db, self->pool->Acquire());
    return CollectCentralMetrics(*db, *self->clock, registry);
  };
  impl->http = std::make_unique<net::HttpServer>(std::move(http));
  std::vector<std::string> served_hosts = options.served_hosts;
  std::string certificate_sha256;
  if (!options.plain_http) {
    ASSIGN_OR_RETURN(std::string cert_pem, ReadTextFile(Path(options.data_dir, "tls-cert.pem")));
    ASSIGN_OR_RETURN(std::vector<std::string> cert_names, net::CertificateNames(cert_pem));
    served_hosts.insert(served_hosts.end(), cert_names.begin(), cert_names.end());
    ASSIGN_OR_RETURN(certificate_sha256, net::CertificateSha256(cert_pem));
  }
  auto guard = std::make_shared<const net::RequestGuard>(net::RequestGuardOptions{
      options.plain_http ? "http" : "https", options.bind_address, std::move(served_hosts)});
  // Body limits per route (net/http_server.h; the memory they bound is in docs/operations.md):
  // an upload batch up to max_body_bytes, a registration {token, public_key} 4 KiB, GETs 4 KiB.
  constexpr net::RouteOptions kSmallBody{.max_body_bytes = 4 * 1024};
  impl->http->Handle("POST", "/api/v1/stations/register",
                     Guarded(guard, net::BodyKind::kJson, [self](const auto& r) { return self->Register(r); }),
                     kSmallBody);
  impl->http->Handle("POST", "/api/v1/sync/up", [self](const auto& r) { return self->Upload(r); },
                     net::RouteOptions{.max_body_bytes = options.max_body_bytes});
  constexpr net::RouteOptions kPolled{.max_body_bytes = 4 * 1024, .poll = true};
  impl->http->Handle("GET", "/api/v1/sync/down", [self](const auto& r) { return self->Down(r); }, kPolled);
  impl->http->Handle("GET", "/api/v1/sync/cursor", [self](const auto& r) { return self->CursorRoute(r); }, kPolled);
  // Public, no station signature: rate-limited per peer address (central/status_lookup.h).
  auto status_lookup = std::make_shared<StatusEndpoint>(*impl->pool, clock);
  impl->http->Handle("GET", "/api/v1/status", Guarded(guard, net::BodyKind::kNone, [status_lookup](const auto& r) {
                       return status_lookup->Handle(r);
                     }),
                     kSmallBody);
  impl->http->Handle("GET", "/api/v1/suket/trust-bundle",
                     Guarded(guard, net::BodyKind::kNone, [self](const auto&) { return self->SuketPublicationRoute(true); }),
                     kSmallBody);
  impl->http->Handle("GET", "/api/v1/suket/revocations",
                     Guarded(guard, net::BodyKind::kNone, [self](const auto&) { return self->SuketPublicationRoute(false); }),
                     kSmallBody);
  impl->http->Handle("GET", "/suket/verify",
                     Guarded(guard, net::BodyKind::kNone, [self](const auto& r) { return self->SuketVerifyPage(r); }),
                     kSmallBody);
  AddConsoleApi(*impl->http,
                ConsoleApiContext{impl->pool.get(), &clock, &impl->keys, guard, options.login, certificate_sha256});
  console::AddConsoleRoutes(*impl->http, "/public.html");
  impl->http->Handle("GET", "/console", Guarded(guard, net::BodyKind::kNone, [](const net::HttpRequest& request) {
                       return console::ServeWebAsset("/central.html", request);
                     }));
  impl->http->Handle("GET", "/api/v1/regions", Guarded(guard, net::BodyKind::kNone, console::RegionRoute));
  impl->http->Handle("GET", "/api/v1/regions/:code", Guarded(guard, net::BodyKind::kNone, console::RegionRoute));
  impl->http->Handle("POST", "/api/v1/suket/verify",
                     Guarded(guard, net::BodyKind::kJson, [self](const auto& r) { return self->SuketVerifyRoute(r); }),
                     net::RouteOptions{.max_body_bytes = 16 * 1024});
  return std::unique_ptr<CentralServer>(new CentralServer(std::move(impl)));
}

Status CentralServer::Start() {
  if (impl_->options.db_url.empty()) {
    // SQLite serves one central: a second server on the folder is refused.
    ASSIGN_OR_RETURN(impl_->sqlite_lock,
                     service::DirLock::Acquire(impl_->options.data_dir, kServeLockFile, "`ektp central serve`"));
  }
  // Listen next: a port already taken must fail before any worker claims a job.
  if (Status listening = impl_->http->Start(); !listening.ok()) {
    impl_->sqlite_lock.reset();
    return listening;
  }
  if (impl_->options.run_pipeline) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    impl_->pipeline = std::make_unique<pipeline::Pipeline>(
        *impl_->clock, impl_->random, RegionRegistry::Default(), impl_->keys.signing, impl_->keys.biometrics,
        impl_->options.pipeline,
        "central@" + std::string(host) + ":" + std::to_string(getpid()));
    if (Status started = impl_->pipeline->Start(*impl_->pool); !started.ok()) {
      impl_->http->Stop();
      impl_->pipeline.reset();
      impl_->sqlite_lock.reset();
      return started;
    }
  }
  if (impl_->options.audit_checkpoint_interval.count() > 0) {
    impl_->checkpointer = std::jthread([self = impl_.get()](std::stop_token stop) { self->PublishCheckpoints(stop); });
  }
  service::LogInfo("central.started", {{"url", impl_->http->base_url()}});
  return Status::Ok();
}

void CentralServer::Stop() {
  if (impl_ && impl_->checkpointer.joinable()) {
    impl_->checkpointer.request_stop();
    impl_->checkpointer.join();
  }
  if (impl_ && impl_->http) impl_->http->Stop();
  if (impl_ && impl_->pipeline) impl_->pipeline->Stop();
  if (impl_) impl_->sqlite_lock.reset();
}

int CentralServer::port() const { return impl_->http->port(); }
std::string CentralServer::base_url() const { return impl_->http->base_url(); }

}  // namespace ektp::central
