#include "core/refusal_pesan.h"

#include <array>
#include <regex>
#include <utility>
#include <vector>

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

const std::vector<Rule>& FieldRules() {
  static const std::vector<Rule> rules = {
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
      {std::regex(R"(resident is (\d+) and has never married; .*)"),
       "menunjukkan umur $1 tahun dan belum pernah kawin; e-KTP diterbitkan mulai umur 17 tahun atau setelah kawin"},
      {std::regex(R"(a \S+ application needs the resident's existing NIK)"), "wajib diisi untuk jenis permohonan ini"},
      {std::regex(R"(a first card has no previous NIK)"), "dikosongkan untuk KTP pertama"},
      {std::regex(R"(central assigns the NIK of a first card; leave it empty)"),
       "dibuat oleh pusat untuk KTP pertama; kosongkan"},
      {std::regex(R"(NIK must be exactly 16 digits.*)"), "harus tepat 16 angka"},
      {std::regex(R"((province|regency|kecamatan) \S+ does not exist)"),
       "memuat kode wilayah yang tidak ada; periksa enam angka pertama"},
      {std::regex(R"((day|month|sequence) .*)"), "memuat tanggal lahir atau nomor urut yang tidak sah; periksa lagi"},
  };
  return rules;
}

// Refusals said whole, not as "<field>: <rule>"; $1, $2 are the captures.
const std::vector<Rule>& MessageRules() {
  static const std::vector<Rule> rules = {
      // The resident's photo, signature and fingers (enrollment/enrollment.h).
      {std::regex(R"(face photo is missing)"), "Foto wajah belum diambil"},
      {std::regex(R"(face photo is \d+ bytes; the limit is 1 MiB)"),
       "Foto wajah lebih besar dari 1 MiB; ambil ulang dengan ukuran lebih kecil"},
      {std::regex(R"(face photo: must be in colour.*)"), "Foto wajah harus berwarna, bukan hitam-putih; ambil ulang"},
      {std::regex(R"(face photo: is (\d+ x \d+) px; it must be at least .*)"),
       "Foto wajah berukuran $1 piksel, minimal 240 x 320 piksel; ambil ulang"},
      {std::regex(R"(face photo: is (\d+ x \d+) px; it must be portrait.*)"),
       "Foto wajah berukuran $1 piksel; harus tegak, tinggi 1,2 sampai 1,5 kali lebar (mis. 480 x 640)"},
      {std::regex(R"(face photo: not a (readable )?JPEG image.*)"),
       "Foto wajah bukan gambar JPEG yang dapat dibaca; ambil ulang atau pilih berkas JPEG"},
      {std::regex(R"(signature image is missing)"), "Tanda tangan belum diambil"},
      {std::regex(R"(signature image is larger than 1 MiB)"), "Gambar tanda tangan lebih besar dari 1 MiB; ambil ulang"},
      {std::regex(R"(signature image: (is neither PNG nor JPEG|not a readable .*))"),
       "Gambar tanda tangan bukan berkas PNG atau JPEG yang dapat dibaca; ambil ulang"},
      {std::regex(R"(signature image: is (\d+ x \d+) px; it must be .*)"),
       "Gambar tanda tangan berukuran $1 piksel; harus lebar 100 sampai 2000 piksel, tinggi 30 sampai 1000 piksel, "
       "dan tidak lebih tinggi daripada lebarnya"},
      {std::regex(R"(at most 10 fingers, got \d+)"), "Paling banyak 10 jari"},
      {std::regex(R"(finger position (-?\d+) is not in 1-10)"), "Posisi jari $1 tidak dikenal; posisi jari 1 sampai 10"},
      {std::regex(R"(finger (\d+) \((.+)\) is given twice)"), "Jari $1 ($2) terkirim dua kali; rekam sekali saja"},
      {std::regex(R"(finger (\d+) \((.+)\) has both a template and the exception .*)"),
       "Jari $1 ($2) punya sidik jari dan pengecualian sekaligus; pilih salah satu"},
      {std::regex(R"(finger (\d+) \((.+)\) has no template; .*)"),
       "Sidik jari $1 ($2) belum direkam; rekam jari itu atau catat pengecualiannya"},
      {std::regex(R"(finger (\d+) \((.+)\): template is unreadable .*)"),
       "Sidik jari $1 ($2) tidak terbaca; rekam ulang jari itu"},
      {std::regex(R"(finger (\d+) \((.+)\): template has no minutiae.*)"),
       "Sidik jari $1 ($2) kosong, tanpa titik ciri; rekam ulang jari itu"},
      {std::regex(R"(finger (\d+) \((.+)\): template: .*)"),
       "Sidik jari $1 ($2) tidak sesuai format alat perekam; rekam ulang jari itu"},
      {std::regex(R"(no fingerprint template; .*)"),
       "Belum ada sidik jari; rekam minimal satu jari, atau catat pengecualian untuk kesepuluh jari"},
      {std::regex(R"(finger exception '.*' is not one of .*)"),
       "Alasan pengecualian jari tidak dikenal; pilih: diamputasi, diperban, atau tidak dapat direkam"},
      {std::regex(R"(application kind '.*' is not one of .*)"), "Jenis permohonan tidak dikenal; pilih dari daftar"},
      // Who may do what, and what exists (station/station.h, accounts/accounts.h).
      {std::regex(R"(missing Authorization.*|not logged in)"), "Anda belum masuk; silakan masuk dulu"},
      {std::regex(R"(session expired.*)"), "Sesi Anda sudah berakhir; silakan masuk lagi"},
      {std::regex(R"(wrong username or password)"), "Nama pengguna atau kata sandi salah"},
      {std::regex(R"(a print officer may not record enrollments)"),
       "Petugas cetak tidak boleh merekam data penduduk; masuk dengan akun operator"},
      {std::regex(R"(no enrollment (\S+) at this station)"), "Nomor registrasi $1 tidak ada di stasiun ini"},
      {std::regex(R"(account (\S+) is \S+, not a supervisor; .*)"),
       "Akun $1 bukan supervisor; hanya supervisor yang berwenang untuk ini"},
      {std::regex(R"(role \S+ may not override a fingerprint check; .*)"),
       "Anda tidak berwenang mengesampingkan pemeriksaan sidik jari; supervisor harus masuk dan menyetujuinya"},
      {std::regex(R"(role \S+ may not return uncollected cards; .*)"),
       "Anda tidak berwenang mengembalikan kartu yang tidak diambil; supervisor harus masuk dan melakukannya"},
      // Reviews and hand-overs (station/review.cc, station/pickup.cc).
      {std::regex(R"(a rejection needs a reason .*)"),
       "Alasan penolakan wajib diisi, agar operator tahu yang harus diperbaiki (mis. \"foto buram; rekam ulang\")"},
      {std::regex(R"(an override needs a reason .*)"), "Alasan persetujuan wajib diisi"},
      {std::regex(R"(a delegated collection needs the holder's old KTP, surrendered; .*)"),
       "Pengambilan oleh wakil memerlukan KTP lama pemilik yang diserahkan; isi NIK dan nomor KTP lama"},
      {std::regex(R"(the surrendered KTP's NIK (\S+) is not the card holder's)"),
       "NIK pada KTP lama ($1) bukan NIK pemilik kartu"},
      {std::regex(R"(Idempotency-Key \S+ was already used for a different application.*)"),
       "Kiriman ini bertabrakan dengan permohonan lain yang sudah tersimpan; muat ulang formulir lalu kirim lagi"},
      // Why an outbox entry is parked at the station (station/review.cc, station/station.h).
      {std::regex(R"(rejected at review by (\S+): (.*))"), "Ditolak oleh $1 saat tinjauan: $2"},
      {std::regex(R"(the stored packet is damaged .*)"),
       "Data yang tersimpan rusak dan tidak dapat dikirim; rekam ulang penduduk ini"},
      {std::regex(R"(central refuses this packet \(HTTP 413\): .*)"),
       "Pusat menolak data ini karena terlalu besar; hubungi admin Disdukcapil"},
      // Central's refusals of a packet (central/operator_revocations.cc, central/ingest.cc).
      {std::regex(R"(packet \d+: operator (\S+) of station \S+ was revoked at central at \S+ \((.*)\) and performed this work .*)"),
       "Akun operator $1 sudah dicabut oleh pusat ($2) sebelum data ini direkam; minta operator lain merekam ulang "
       "dengan akunnya sendiri, dan nonaktifkan akun $1 di stasiun ini"},
      {std::regex(R"(enrollment (\S+) was approved by its own operator (\S+); review needs a second person)"),
       "Perekaman $1 ditinjau oleh operator yang merekamnya sendiri ($2); tinjauan harus oleh orang lain"},
  };
  return rules;
}

}  // namespace

std::optional<std::string> RefusalPesan(std::string_view message) {
  const std::string whole(message);
  std::smatch match;
  for (const Rule& r : MessageRules()) {
    if (std::regex_match(whole, match, r.english)) return match.format(r.bahasa);
  }
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view field = message.substr(0, colon);
  const std::string rule(message.substr(colon + 2));
  for (const auto& [name, label] : kLabels) {
    if (name != field) continue;
    for (const Rule& r : FieldRules()) {
      if (std::regex_match(rule, match, r.english)) return std::string(label) + " " + match.format(r.bahasa);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ektp
