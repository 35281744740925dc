// Public reference data the console's forms need, answered from the data
// embedded in the binary (core/region.h), so they work with central
// unreachable. Neither route needs a session: region codes are public, and a
// NIK is decoded without being looked up or logged.
#pragma once

#include <chrono>

#include "net/http_types.h"

namespace ektp::console {

// GET /api/v1/regions           -> {"children": [the 38 provinces]}
// GET /api/v1/regions/:code     -> {"code", "name", "level", "chain": [province first .. this region],
//                                   "children": [{"code", "name", "level"}, ...]}
// An unknown or malformed code is 404 / 400 with "error" and "pesan".
net::HttpResponse RegionRoute(const net::HttpRequest& request);

// POST /api/v1/nik/decode {"nik": "3521015708990001"}
//   -> {"nik", "birth_date": "1999-08-17", "sex": "female", "chain": [province, regency, kecamatan]}
// or 400 naming the bad part ("kecamatan 35.21.99 does not exist").
net::HttpResponse DecodeNikRoute(const net::HttpRequest& request, std::chrono::year_month_day today);

}  // namespace ektp::console
