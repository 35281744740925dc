#include "console/assets.h"

#include <string>

namespace ektp::console {
namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

net::HttpResponse Serve(const WebAsset& asset, const net::HttpRequest& request, bool immutable) {
  net::HttpResponse response;
  response.headers.emplace("etag", std::string(asset.etag));
  response.headers.emplace("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace("content-security-policy", std::string(kContentSecurityPolicy));
  response.headers.emplace("x-content-type-options", "nosniff");
  response.headers.emplace("referrer-policy", "no-referrer");
  response.content_type = std::string(asset.content_type);
  if (request.header("if-none-match") == asset.etag) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.body = std::string(asset.body);
  return response;
}

}  // namespace

const WebAsset* FindWebAsset(std::string_view path) {
  for (const WebAsset& asset : EmbeddedWebAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

net::HttpResponse ServeWebAsset(std::string_view path, const net::HttpRequest& request) {
  const WebAsset* asset = FindWebAsset(path);
  if (asset == nullptr) return net::HttpResponse::Text(404, "no such console file\n");
  return Serve(*asset, request, /*immutable=*/path.starts_with("/assets/"));
}

void AddConsoleRoutes(net::HttpServer& http, std::string_view page) {
  http.Handle("GET", "/", [page = std::string(page)](const net::HttpRequest& request) {
    return ServeWebAsset(page, request);
  });
  http.Handle("GET", "/assets/:file",
              [](const net::HttpRequest& request) { return ServeWebAsset(request.path, request); });
}

}  // namespace ektp::console
