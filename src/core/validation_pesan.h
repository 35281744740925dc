// The operator's sentence, in Bahasa Indonesia, for a refusal of a resident's
// data. ValidateResident, ResidentFromJson and the application checks refuse
// with kInvalidArgument and a message "<field>: <rule>" in English (for logs
// and the API's `error`); this catalogue says the same to the operator, with
// the field's label as the form shows it, so that `pesan` carries no English.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ektp {

// "Tempat lahir wajib diisi" for "place_of_birth: must not be empty";
// nullopt when the field or the rule is not in the catalogue (the caller
// then falls back to its generic sentence).
std::optional<std::string> ValidationPesan(std::string_view message);

}  // namespace ektp
