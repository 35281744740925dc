#include "core/refusal_pesan.h"

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/region.h"
#include "core/resident.h"
#include "core/status.h"

namespace ektp {
namespace {

using ::testing::Optional;

TEST(RefusalPesanTest, EachRuleIsSaidInBahasaIndonesiaWithTheFormsLabel) {
  EXPECT_THAT(RefusalPesan("place_of_birth: must not be empty"), Optional(std::string("Tempat lahir wajib diisi")));
  EXPECT_THAT(RefusalPesan("name: at most 80 characters, got 93"),
              Optional(std::string("Nama lengkap paling banyak 80 karakter (terisi 93)")));
  EXPECT_THAT(RefusalPesan("address.rt: 1000 is not in 1-999"), Optional(std::string("RT harus angka 1 sampai 999")));
  EXPECT_THAT(RefusalPesan("religion: 'JEDI' is not one of ISLAM, KRISTEN"),
              Optional(std::string("Agama 'JEDI' tidak dikenal; pilih salah satu: ISLAM, KRISTEN")));
  EXPECT_THAT(RefusalPesan("birth_date: 2031-01-01 is in the future"),
              Optional(std::string("Tanggal lahir tidak boleh sesudah hari ini")));
  EXPECT_THAT(RefusalPesan("birth_date: 2001-02-30 is not a calendar date"),
              Optional(std::string("Tanggal lahir bukan tanggal yang sah")));
  EXPECT_THAT(RefusalPesan("address.village_code: village 35.21.01.9999 does not exist"),
              Optional(std::string("Desa/Kelurahan kode desa 35.21.01.9999 tidak ada dalam data wilayah; pilih lagi")));
  EXPECT_THAT(RefusalPesan("name: character '@' (U+0040) is not allowed; use letters"),
              Optional(std::string("Nama lengkap tidak boleh berisi karakter '@'")));
}

TEST(RefusalPesanTest, WholeRefusalsAreSaidWithTheirDetails) {
  EXPECT_THAT(RefusalPesan("missing Authorization: Bearer <token>"), Optional(std::string("Anda belum masuk; silakan masuk dulu")));
  EXPECT_THAT(RefusalPesan("session expired; log in again"), Optional(std::string("Sesi Anda sudah berakhir; silakan masuk lagi")));
  EXPECT_THAT(RefusalPesan("wrong username or password"), Optional(std::string("Nama pengguna atau kata sandi salah")));
  EXPECT_THAT(RefusalPesan("no enrollment 3521-01-000042 at this station"),
              Optional(std::string("Nomor registrasi 3521-01-000042 tidak ada di stasiun ini")));
  EXPECT_THAT(RefusalPesan("birth_date: resident is 16 and has never married; an e-KTP is issued from age 17"),
              Optional(std::string("Tanggal lahir menunjukkan umur 16 tahun dan belum pernah kawin; e-KTP diterbitkan mulai "
                                   "umur 17 tahun atau setelah kawin")));
  EXPECT_THAT(RefusalPesan("previous_nik: a replacement application needs the resident's existing NIK"),
              Optional(std::string("NIK lama wajib diisi untuk jenis permohonan ini")));
}

TEST(RefusalPesanTest, WhyAnOutboxEntryIsParkedIsSaid) {
  EXPECT_THAT(RefusalPesan("rejected at review by sari: foto wajah buram; rekam ulang"),
              Optional(std::string("Ditolak oleh sari saat tinjauan: foto wajah buram; rekam ulang")));
  EXPECT_THAT(RefusalPesan("the stored packet is damaged (its envelope is not valid UTF-8) and cannot be sent; enroll "
                           "the resident again"),
              Optional(std::string("Data yang tersimpan rusak dan tidak dapat dikirim; rekam ulang penduduk ini")));
  EXPECT_THAT(RefusalPesan("central refuses this packet (HTTP 413): body of 17000000 bytes is over the limit"),
              Optional(std::string("Pusat menolak data ini karena terlalu besar; hubungi admin Disdukcapil")));
  EXPECT_THAT(RefusalPesan("packet 7: operator ani of station ST-352101-01 was revoked at central at "
                           "2026-12-06T03:10:00Z (left the office) and performed this work at 2026-12-06T04:00:00Z; it "
                           "is refused. Have another operator record it again in their own account, and disable ani's "
                           "account at the station"),
              Optional(std::string("Akun operator ani sudah dicabut oleh pusat (left the office) sebelum data ini "
                                   "direkam; minta operator lain merekam ulang dengan akunnya sendiri, dan nonaktifkan "
                                   "akun ani di stasiun ini")));
  EXPECT_THAT(RefusalPesan("enrollment ST-1-000003 was approved by its own operator ani; review needs a second person"),
              Optional(std::string("Perekaman ST-1-000003 ditinjau oleh operator yang merekamnya sendiri (ani); "
                                   "tinjauan harus oleh orang lain")));
}

TEST(RefusalPesanTest, AnUnknownFieldOrRuleIsLeftToTheCallersFallback) {
  EXPECT_EQ(RefusalPesan("body must be a JSON object"), std::nullopt);
  EXPECT_EQ(RefusalPesan("face: photo is 100 x 100 px"), std::nullopt);
  EXPECT_EQ(RefusalPesan("header Idempotency-Key is missing"), std::nullopt);
  EXPECT_EQ(RefusalPesan("name: something new went wrong"), std::nullopt);
}

// What ValidateResident actually says is in the catalogue: a resident with
// one bad field at a time gets a Bahasa sentence naming that field's label.
TEST(RefusalPesanTest, ValidateResidentsRefusalsAreAllInTheCatalogue) {
  const std::chrono::year_month_day today{std::chrono::year(2026), std::chrono::December, std::chrono::day(6)};
  Resident good;
  good.name = "SRI WAHYUNI";
  good.place_of_birth = "NGAWI";
  good.birth_date = std::chrono::year_month_day{std::chrono::year(2001), std::chrono::April, std::chrono::day(12)};
  good.sex = Sex::kFemale;
  good.occupation = "PELAJAR/MAHASISWA";
  good.address = {"JL. RAYA NGAWI NO. 12", 3, 7, "35.21.01.2001"};
  ASSERT_TRUE(ValidateResident(good, RegionRegistry::Default(), today).ok());

  std::vector<Resident> bad(6, good);
  bad[0].name = "";
  bad[1].place_of_birth = std::string(41, 'A');
  bad[2].name = "SRI @ WAHYUNI";
  bad[3].address.rt = 0;
  bad[4].address.village_code = "35.21.01.9999";
  bad[5].birth_date = std::chrono::year_month_day{std::chrono::year(2030), std::chrono::January, std::chrono::day(1)};
  for (const Resident& resident : bad) {
    const Status status = ValidateResident(resident, RegionRegistry::Default(), today);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(RefusalPesan(status.message()), std::nullopt) << status.message();
  }
}

}  // namespace
}  // namespace ektp
