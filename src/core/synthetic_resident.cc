#include "core/synthetic_resident.h"

namespace ektp {
namespace {

constexpr std::string_view kMaleNames[] = {"BUDI",   "AGUS",  "SLAMET", "JOKO",   "BAMBANG", "HENDRA", "RUDI",
                                           "EKO",    "DWI",   "ADI",    "ARIF",   "WAHYU",   "YUSUF",  "RIZKI",
                                           "FAJAR",  "DIMAS", "ANDI",   "IMAM",   "SUGENG",  "HERU"};
constexpr std::string_view kFemaleNames[] = {"SITI",  "SRI",   "DEWI",   "RINI",  "WULAN", "AYU",   "NUR",
                                             "ENDANG", "LESTARI", "PUTRI", "INDAH", "FITRI", "RATNA", "YULI",
                                             "ANI",   "DIAH",  "TUTIK",  "SARI",  "RAHAYU", "WATI"};
constexpr std::string_view kFamilyNames[] = {"SANTOSO",  "WIBOWO",  "SETIAWAN", "HIDAYAT", "SAPUTRA", "PRATAMA",
                                             "KURNIAWAN", "NUGROHO", "LESTARI",  "WULANDARI", "RAHMAWATI", "SUSANTO",
                                             "PURNOMO",  "HARTONO", "SUHARTO",  "MULYADI", "SETIADI", "WIJAYA"};
constexpr std::string_view kOccupations[] = {"PELAJAR/MAHASISWA", "PETANI/PEKEBUN", "WIRASWASTA", "KARYAWAN SWASTA",
                                             "MENGURUS RUMAH TANGGA", "PEDAGANG", "GURU", "BURUH HARIAN LEPAS",
                                             "NELAYAN/PERIKANAN", "PEGAWAI NEGERI SIPIL"};
constexpr std::string_view kStreets[] = {"JL. MERDEKA", "JL. DIPONEGORO", "JL. SUDIRMAN", "JL. KARTINI",
                                         "JL. PAHLAWAN", "DUSUN KRAJAN", "JL. RAYA", "GG. MAWAR"};

template <typename T, size_t N>
const T& Pick(const T (&items)[N], Random& random) {
  return items[random.Uniform(N)];
}

}  // namespace

Resident SyntheticResident(const RegionRegistry& regions, std::string_view regency_code, Random& random,
                           std::chrono::year_month_day today) {
  Resident r;
  r.sex = random.Uniform(2) == 0 ? Sex::kMale : Sex::kFemale;
  r.name = std::string(r.sex == Sex::kMale ? Pick(kMaleNames, random) : Pick(kFemaleNames, random)) + " " +
           std::string(Pick(kFamilyNames, random));
  auto days_old = std::chrono::days(17 * 365 + 5 + static_cast<int>(random.Uniform(63 * 365)));
  r.birth_date = std::chrono::year_month_day(std::chrono::sys_days(today) - days_old);
  r.blood_type = static_cast<BloodType>(random.Uniform(5));
  r.religion = random.Uniform(10) < 8 ? Religion::kIslam : static_cast<Religion>(random.Uniform(7));
  int age = AgeOn(r.birth_date, today);
  r.marital_status = age < 22 ? MaritalStatus::kBelumKawin : static_cast<MaritalStatus>(random.Uniform(4));
  r.occupation = std::string(age < 23 ? kOccupations[0] : Pick(kOccupations, random));
  r.citizenship = Citizenship::kWni;

  std::vector<const Region*> kecamatans = regions.Children(regency_code);
  const Region* kecamatan = kecamatans[random.Uniform(kecamatans.size())];
  std::vector<const Region*> villages = regions.Children(kecamatan->code);
  const Region* village = villages[random.Uniform(villages.size())];
  r.place_of_birth = village->name.substr(0, 40);
  for (char& c : r.place_of_birth) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  r.address.village_code = village->code;
  r.address.street = std::string(Pick(kStreets, random)) + " NO. " + std::to_string(1 + random.Uniform(120));
  r.address.rt = 1 + static_cast<int>(random.Uniform(12));
  r.address.rw = 1 + static_cast<int>(random.Uniform(8));
  return r;
}

}  // namespace ektp
