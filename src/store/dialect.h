// SQL text rewriting shared by the backends (internal to store/).
#pragma once

#include <string>
#include <string_view>

#include "store/db.h"

namespace ektp::store::internal {

// Expands {{id}} and {{blob}} for `dialect`, and keeps the text of each
// {{postgres: ...}} on PostgreSQL only (statements SQLite has no form of).
std::string ExpandTokens(std::string_view sql, Dialect dialect);

// Rewrites `?` placeholders outside quotes to $1, $2, ... .
std::string NumberPlaceholders(std::string_view sql);

}  // namespace ektp::store::internal
