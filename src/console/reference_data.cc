#include "console/reference_data.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/nik.h"
#include "core/region.h"
#include "core/text.h"

namespace ektp::console {
namespace {

nlohmann::json RegionJson(const Region& region) {
  return {{"code", region.code}, {"name", region.name}, {"level", RegionLevelName(region.level)}};
}

nlohmann::json RegionListJson(const std::vector<const Region*>& regions) {
  nlohmann::json out = nlohmann::json::array();
  for (const Region* region : regions) out.push_back(RegionJson(*region));
  return out;
}

net::HttpResponse Refuse(const Status& status, const std::string& pesan) {
  return net::HttpResponse::Json(net::HttpStatusFor(status),
                                 nlohmann::json{{"error", status.ToString()},
                                                {"pesan", pesan},
                                                {"status", net::HttpStatusFor(status)}}
                                     .dump());
}

}  // namespace

net::HttpResponse RegionRoute(const net::HttpRequest& request) {
  const RegionRegistry& regions = RegionRegistry::Default();
  auto param = request.path_params.find("code");
  if (param == request.path_params.end()) {
    return net::HttpResponse::Json(200, nlohmann::json{{"children", RegionListJson(regions.Children(""))}}.dump());
  }
  const std::string& code = param->second;
  if (auto level = LevelOfCode(code); !level.ok()) {
    return Refuse(level.status(), "Kode wilayah '" + QuoteInput(code) + "' tidak berbentuk kode Kemendagri.");
  }
  const Region* region = regions.Find(code);
  if (region == nullptr) {
    return Refuse(NotFound("region " + code + " does not exist"), "Wilayah " + code + " tidak ada.");
  }
  nlohmann::json out = RegionJson(*region);
  out["chain"] = RegionListJson(regions.Chain(code));
  out["children"] = RegionListJson(regions.Children(code));
  return net::HttpResponse::Json(200, out.dump());
}

net::HttpResponse DecodeNikRoute(const net::HttpRequest& request, std::chrono::year_month_day today) {
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.value("nik", nlohmann::json()).is_string()) {
    return Refuse(InvalidArgument("body must be {\"nik\": <string>}"), "Permintaan tidak lengkap: NIK tidak dikirim.");
  }
  const RegionRegistry& regions = RegionRegistry::Default();
  auto nik = ParseNik(body["nik"].get<std::string>(), regions, today);
  if (!nik.ok()) return Refuse(nik.status(), "NIK tidak sah. Periksa ke-16 angkanya: kode kecamatan, tanggal lahir "
                                            "(perempuan: tanggal + 40) dan nomor urut.");
  return net::HttpResponse::Json(200, nlohmann::json{{"nik", nik->digits},
                                                     {"birth_date", FormatDate(nik->birth_date)},
                                                     {"sex", SexName(nik->sex)},
                                                     {"chain", RegionListJson(regions.Chain(nik->kecamatan_code))}}
                                          .dump());
}

}  // namespace ektp::console
