// The operator's sentence, in Bahasa Indonesia, for a refusal the servers
// send. Checks refuse with a Status whose message is precise English (for
// logs and the API's `error`); this catalogue says the same to the person at
// the counter, naming a field by the label the form shows, so that `pesan`
// carries no English.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ektp {

// The Bahasa sentence for a refusal's English message, without a final full
// stop:
//   "place_of_birth: must not be empty"        -> "Tempat lahir wajib diisi"
//   "face photo: must be in colour, not ..."   -> "Foto wajah harus berwarna ..."
//   "no enrollment R-1 at this station"        -> "Nomor registrasi R-1 tidak ada di stasiun ini"
// nullopt when the message is not in the catalogue: the caller then says a
// general sentence for the status code (never the English).
std::optional<std::string> RefusalPesan(std::string_view message);

}  // namespace ektp
