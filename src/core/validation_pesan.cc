#include "core/validation_pesan.h"

#include <array>
#include <regex>
#include <utility>

namespace ektp {
namespace {

// The form's label of each field a resident's data has.
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kLabels = {{
    {"name", "Nama lengkap"},
    {"place_of_birth", "Tempat lahir"},
    {"birth_date", "Tanggal lahir"},
    {"sex", "Jenis kelamin"},
    {"blood_type", "Golongan darah"},
    {"religion", "Agama"},
    {"marital_status", "Status perkawinan"},
    {"occupation", "Pekerjaan"},
    {"citizenship", "Kewarganegaraan"},
    {"address.street", "Jalan, nomor, dusun"},
    {"address.rt", "RT"},
    {"address.rw", "RW"},
    {"address.village_code", "Desa/Kelurahan"},
    {"nik", "NIK"},
    {"previous_nik", "NIK lama"},
    {"kind", "Jenis permohonan"},
}};

// A rule's English wording (the part after "<field>: ") and the Bahasa
// sentence that follows the label; $1, $2 are the rule's captures.
struct Rule {
  std::regex english;
  const char* bahasa;
};

const std::array<Rule, 13>& Rules() {
  static const std::array<Rule, 13> rules = {{
      {std::regex(R"(must not be empty|is required)"), "wajib diisi"},
      {std::regex(R"(at most (\d+) characters, got (\d+))"), "paling banyak $1 karakter (terisi $2)"},
      {std::regex(R"(is not valid UTF-8 text)"), "berisi karakter yang tidak sah; ketik ulang"},
      {std::regex(R"(contains the control character .*)"), "berisi karakter kendali yang tidak terlihat; ketik ulang"},
      {std::regex(R"(contains the invisible format character .*)"),
       "berisi karakter tak terlihat (mis. dari salinan teks); ketik ulang"},
      {std::regex(R"(contains the combining mark .*)"),
       "berisi tanda aksen terpisah; tulis huruf beraksen sebagai satu huruf (mis. \u00C9)"},
      {std::regex(R"(character '(.*)' \(.*\) is not allowed; use .*)"), "tidak boleh berisi karakter '$1'"},
      {std::regex(R"('(.*)' is not one of (.*))"), "'$1' tidak dikenal; pilih salah satu: $2"},
      {std::regex(R"(-?\d+ is not in 1-999)"), "harus angka 1 sampai 999"},
      {std::regex(R"(\S+ is in the future)"), "tidak boleh sesudah hari ini"},
      {std::regex(R"(\S+ is before 1900)"), "tidak boleh sebelum tahun 1900"},
      {std::regex(R"((.* )?(is )?not a calendar date|'.*' is not a date in the form YYYY-MM-DD)"), "bukan tanggal yang sah"},
      {std::regex(R"(village (\S+) does not exist)"), "kode desa $1 tidak ada dalam data wilayah; pilih lagi"},
  }};
  return rules;
}

}  // namespace

std::optional<std::string> ValidationPesan(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view field = message.substr(0, colon);
  const std::string rule(message.substr(colon + 2));
  for (const auto& [name, label] : kLabels) {
    if (name != field) continue;
    for (const Rule& r : Rules()) {
      std::smatch match;
      if (std::regex_match(rule, match, r.english)) return std::string(label) + " " + match.format(r.bahasa);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ektp
