// JSON view of a decoded TemplateRecord, using the field and enum names of
// the FingerprintIO object model (the names in ../shared/data/iso19794-vectors
// *.json), so the conformance test can compare every decoded field.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "bio/template.h"

namespace ektp::bio {

nlohmann::json TemplateToJson(const TemplateRecord& record);

}  // namespace ektp::bio
