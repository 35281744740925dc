#include <zlib.h>

#include <algorithm>
#include <array>

#include "core/clock.h"
#include "core/resident_json.h"
#include "suket/cbor_util.h"
#include "suket/token.h"

namespace ektp::suket {
namespace {

using internal::Item;

constexpr std::string_view kBase45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
// A decompressed token larger than this is refused (a zlib bomb).
constexpr size_t kMaxPayloadBytes = 8 * 1024;
constexpr size_t kMaxTextBytes = 200;

// COSE (RFC 9052) and CWT (RFC 8392) labels.
constexpr int64_t kCoseSign1Tag = 18;
constexpr int64_t kHeaderAlg = 1;
constexpr int64_t kHeaderKid = 4;
constexpr int64_t kAlgEdDsa = -8;
constexpr int64_t kClaimIssuer = 1;
constexpr int64_t kClaimExpiry = 4;
constexpr int64_t kClaimIssuedAt = 6;
// The private claim holding the Suket's fields, and their keys.
constexpr int64_t kClaimSuket = -270;
enum SuketKey : int64_t {
  kSerial = 1,
  kRegistrationNumber = 2,
  kNik = 3,
  kName = 4,
  kPlaceOfBirth = 5,
  kBirthDate = 6,
  kSex = 7,
  kAddress = 8,
  kRegency = 9,
  kPhotoSha256 = 10,
};
constexpr std::chrono::hours kWibOffset{7};

Bytes Compress(const Bytes& data) {
  uLongf size = compressBound(data.size());
  Bytes out(size);
  if (compress2(out.data(), &size, data.data(), data.size(), Z_BEST_COMPRESSION) != Z_OK) std::abort();
  out.resize(size);
  return out;
}

StatusOr<Bytes> Decompress(std::span<const uint8_t> data) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return Internal("zlib: inflateInit failed");
  Bytes out(kMaxPayloadBytes + 1);
  stream.next_in = const_cast<Bytef*>(data.data());
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  const size_t produced = out.size() - stream.avail_out;
  const size_t unread = stream.avail_in;
  inflateEnd(&stream);
  if (result == Z_STREAM_END && unread == 0) {
    out.resize(produced);
    return out;
  }
  if (produced > kMaxPayloadBytes) {
    return InvalidArgument("the payload is larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
  }
  if (result == Z_STREAM_END) return InvalidArgument(std::to_string(unread) + " bytes after the zlib stream");
  return InvalidArgument("not a complete zlib stream");
}

Status CheckText(std::string_view field, const std::string& value, bool required) {
  if (required && value.empty()) return InvalidArgument(std::string(field) + ": is empty");
  if (value.size() > kMaxTextBytes) {
    return InvalidArgument(std::string(field) + ": longer than " + std::to_string(kMaxTextBytes) + " bytes");
  }
  return Status::Ok();
}

Status CheckData(const SuketData& data) {
  const std::pair<std::string_view, const std::string*> required[] = {
      {"serial", &data.serial},
      {"registration_number", &data.registration_number},
      {"name", &data.name},
      {"place_of_birth", &data.place_of_birth},
      {"address", &data.address},
      {"regency_code", &data.regency_code},
      {"station_id", &data.station_id},
  };
  for (const auto& [field, value] : required) RETURN_IF_ERROR(CheckText(field, *value, true));
  RETURN_IF_ERROR(CheckText("nik", data.nik, false));
  if (!data.birth_date.ok()) return InvalidArgument("birth_date: not a date");
  if (internal::UnixSeconds(data.issued_at) < 0) return InvalidArgument("issued_at: before 1970");
  if (internal::UnixSeconds(data.valid_until) <= internal::UnixSeconds(data.issued_at)) {
    return InvalidArgument("valid_until: not after issued_at");
  }
  return Status::Ok();
}

Bytes EncodeClaims(const SuketData& data) {
  std::vector<std::pair<Item, Item>> suket;
  auto add = [&suket](int64_t key, Item value) { suket.emplace_back(internal::Int(key), std::move(value)); };
  add(kSerial, internal::Text(data.serial));
  add(kRegistrationNumber, internal::Text(data.registration_number));
  if (!data.nik.empty()) add(kNik, internal::Text(data.nik));
  add(kName, internal::Text(data.name));
  add(kPlaceOfBirth, internal::Text(data.place_of_birth));
  add(kBirthDate, internal::Text(FormatDate(data.birth_date)));
  add(kSex, internal::Text(data.sex == Sex::kMale ? "L" : "P"));
  add(kAddress, internal::Text(data.address));
  add(kRegency, internal::Text(data.regency_code));
  add(kPhotoSha256, internal::ByteString(data.photo_sha256));

  std::vector<std::pair<Item, Item>> claims;
  claims.emplace_back(internal::Int(kClaimIssuer), internal::Text(data.station_id));
  claims.emplace_back(internal::Int(kClaimExpiry), internal::Int(internal::UnixSeconds(data.valid_until)));
  claims.emplace_back(internal::Int(kClaimIssuedAt), internal::Int(internal::UnixSeconds(data.issued_at)));
  claims.emplace_back(internal::Int(kClaimSuket), internal::Map(std::move(suket)));
  return internal::Serialize(internal::Map(std::move(claims)));
}

Bytes EncodeProtectedHeader(const KeyId& key_id) {
  std::vector<std::pair<Item, Item>> header;
  header.emplace_back(internal::Int(kHeaderAlg), internal::Int(kAlgEdDsa));
  header.emplace_back(internal::Int(kHeaderKid), internal::ByteString(key_id));
  return internal::Serialize(internal::Map(std::move(header)));
}

StatusOr<std::string> TextClaim(const internal::IntKeyMap& map, int64_t key, std::string_view name) {
  ASSIGN_OR_RETURN(const cbor_item_t* item, map.Required(key, name));
  ASSIGN_OR_RETURN(std::string text, internal::TextOf(item, name));
  RETURN_IF_ERROR(CheckText(name, text, true));
  return text;
}

StatusOr<TimePoint> TimeClaim(const internal::IntKeyMap& map, int64_t key, std::string_view name) {
  ASSIGN_OR_RETURN(const cbor_item_t* item, map.Required(key, name));
  ASSIGN_OR_RETURN(uint64_t seconds, internal::UintOf(item, name));
  if (seconds > (uint64_t{1} << 40)) return InvalidArgument(std::string(name) + ": time out of range");
  return internal::FromUnixSeconds(static_cast<int64_t>(seconds));
}

internal::TokenFailure Fail(Reason reason, std::string message) { return {reason, std::move(message)}; }

}  // namespace

namespace internal {

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint FromUnixSeconds(int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

Bytes SigStructure(std::span<const uint8_t> protected_header, std::span<const uint8_t> payload) {
  std::vector<Item> parts;
  parts.push_back(Text("Signature1"));
  parts.push_back(ByteString(protected_header));
  parts.push_back(ByteString({}));
  parts.push_back(ByteString(payload));
  return Serialize(Array(std::move(parts)));
}

std::variant<DecodedToken, TokenFailure> DecodeLayers(std::string_view token_text) {
  if (!token_text.starts_with(kTokenPrefix)) {
    return Fail(Reason::kWrongPrefix, "token: does not start with " + std::string(kTokenPrefix));
  }
  auto base45 = Base45Decode(token_text.substr(kTokenPrefix.size()));
  if (!base45.ok()) return Fail(Reason::kNotBase45, "token: not Base45: " + base45.status().message());
  DecodedToken token;
  auto payload = Decompress(*base45);
  if (!payload.ok()) return Fail(Reason::kNotZlib, "token: not zlib: " + payload.status().message());
  token.compressed = std::move(*base45);

  auto not_cose = [](const Status& status) { return Fail(Reason::kNotCoseSign1, "token: " + status.message()); };
  // The tag is read here, not by libcbor: libcbor 0.8's cbor_load refuses
  // the one-byte form of tags 6..23 (0xC6..0xD7), which is how tag 18 is written.
  std::span<const uint8_t> tagged(*payload);
  const size_t tag_size = tagged.size() >= 1 && tagged[0] == 0xD2                          ? 1
                          : tagged.size() >= 2 && tagged[0] == 0xD8 && tagged[1] == kCoseSign1Tag ? 2
                                                                                            : 0;
  if (tag_size == 0) return Fail(Reason::kNotCoseSign1, "token: COSE_Sign1: not CBOR tag 18");
  auto content = Parse(tagged.subspan(tag_size), "COSE_Sign1");
  if (!content.ok()) return not_cose(content.status());
  auto parts = ArrayOf(content->get(), "COSE_Sign1");
  if (!parts.ok()) return not_cose(parts.status());
  if (parts->size() != 4) return Fail(Reason::kNotCoseSign1, "token: COSE_Sign1: not an array of 4 items");
  auto protected_header = BytesOf((*parts)[0], "COSE_Sign1 protected header");
  if (!protected_header.ok()) return not_cose(protected_header.status());
  if (!cbor_isa_map((*parts)[1])) return Fail(Reason::kNotCoseSign1, "token: COSE_Sign1 unprotected header: not a map");
  auto signed_payload = BytesOf((*parts)[2], "COSE_Sign1 payload");
  if (!signed_payload.ok()) return not_cose(signed_payload.status());
  auto signature = BytesOf((*parts)[3], "COSE_Sign1 signature");
  if (!signature.ok()) return not_cose(signature.status());
  token.protected_header = std::move(*protected_header);
  token.payload = std::move(*signed_payload);
  token.signature = std::move(*signature);

  auto bad_header = [](const Status& status) { return Fail(Reason::kBadProtectedHeader, "token: " + status.message()); };
  auto header_item = Parse(token.protected_header, "protected header");
  if (!header_item.ok()) return bad_header(header_item.status());
  auto header = IntKeyMap::Of(header_item->get(), "protected header");
  if (!header.ok()) return bad_header(header.status());
  auto alg_item = header->Required(kHeaderAlg, "alg");
  if (!alg_item.ok()) return bad_header(alg_item.status());
  auto alg = IntOf(*alg_item, "protected header alg");
  if (!alg.ok()) return bad_header(alg.status());
  if (*alg != kAlgEdDsa) {
    return Fail(Reason::kUnsupportedAlgorithm,
                "token: algorithm " + std::to_string(*alg) + " is not EdDSA (-8), the only one accepted");
  }
  auto kid_item = header->Required(kHeaderKid, "kid");
  if (!kid_item.ok()) return bad_header(kid_item.status());
  auto kid = BytesOf(*kid_item, "protected header kid");
  if (!kid.ok()) return bad_header(kid.status());
  if (kid->size() != kKeyIdSize) return Fail(Reason::kBadProtectedHeader, "token: protected header: kid is not 8 bytes");
  std::copy(kid->begin(), kid->end(), token.key_id.begin());
  return token;
}

StatusOr<SuketData> DecodeClaims(std::span<const uint8_t> payload) {
  ASSIGN_OR_RETURN(Item item, Parse(payload, "claims"));
  ASSIGN_OR_RETURN(IntKeyMap claims, IntKeyMap::Of(item.get(), "claims"));
  SuketData data;
  ASSIGN_OR_RETURN(data.station_id, TextClaim(claims, kClaimIssuer, "iss"));
  ASSIGN_OR_RETURN(data.valid_until, TimeClaim(claims, kClaimExpiry, "exp"));
  ASSIGN_OR_RETURN(data.issued_at, TimeClaim(claims, kClaimIssuedAt, "iat"));
  ASSIGN_OR_RETURN(const cbor_item_t* suket_item, claims.Required(kClaimSuket, "suket"));
  ASSIGN_OR_RETURN(IntKeyMap suket, IntKeyMap::Of(suket_item, "suket claim"));
  ASSIGN_OR_RETURN(data.serial, TextClaim(suket, kSerial, "serial"));
  ASSIGN_OR_RETURN(data.registration_number, TextClaim(suket, kRegistrationNumber, "registration_number"));
  if (const cbor_item_t* nik = suket.Find(kNik); nik != nullptr) {
    ASSIGN_OR_RETURN(data.nik, TextOf(nik, "nik"));
    RETURN_IF_ERROR(CheckText("nik", data.nik, true));
  }
  ASSIGN_OR_RETURN(data.name, TextClaim(suket, kName, "name"));
  ASSIGN_OR_RETURN(data.place_of_birth, TextClaim(suket, kPlaceOfBirth, "place_of_birth"));
  ASSIGN_OR_RETURN(std::string birth_date, TextClaim(suket, kBirthDate, "birth_date"));
  ASSIGN_OR_RETURN(data.birth_date, ParseIsoDate("birth_date", birth_date));
  ASSIGN_OR_RETURN(std::string sex, TextClaim(suket, kSex, "sex"));
  if (sex != "L" && sex != "P") return InvalidArgument("sex: not L or P");
  data.sex = sex == "L" ? Sex::kMale : Sex::kFemale;
  ASSIGN_OR_RETURN(data.address, TextClaim(suket, kAddress, "address"));
  ASSIGN_OR_RETURN(data.regency_code, TextClaim(suket, kRegency, "regency"));
  ASSIGN_OR_RETURN(const cbor_item_t* photo_item, suket.Required(kPhotoSha256, "photo_sha256"));
  ASSIGN_OR_RETURN(Bytes photo, BytesOf(photo_item, "photo_sha256"));
  if (photo.size() != data.photo_sha256.size()) return InvalidArgument("photo_sha256: not 32 bytes");
  std::copy(photo.begin(), photo.end(), data.photo_sha256.begin());
  if (data.valid_until <= data.issued_at) return InvalidArgument("exp: not after iat");
  return data;
}

}  // namespace internal

KeyId KeyIdOf(std::span<const uint8_t> public_key) {
  const auto digest = crypto::Sha256(public_key);
  KeyId id;
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

std::string AddressLine(const Address& address, const RegionRegistry& regions) {
  auto three_digits = [](int n) {
    std::string digits = std::to_string(n);
    return std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
  };
  std::string line = address.street + ", RT " + three_digits(address.rt) + "/RW " + three_digits(address.rw);
  const auto chain = regions.Chain(address.village_code);
  if (chain.size() == 4) return line + ", " + chain[3]->name + ", " + chain[2]->name;
  return line + ", " + address.village_code;
}

TimePoint DefaultValidUntil(TimePoint issued_at) {
  using namespace std::chrono;
  const auto local = floor<seconds>(issued_at) + kWibOffset;
  const sys_days day = floor<days>(local);
  year_month_day until = year_month_day(day) + months(kDefaultValidityMonths);
  if (!until.ok()) until = until.year() / until.month() / last;
  return TimePoint(sys_days(until) + (local - day) - kWibOffset);
}

std::string Base45Encode(std::span<const uint8_t> data) {
  std::string out;
  out.reserve(data.size() / 2 * 3 + 2);
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    unsigned n = data[i] * 256u + data[i + 1];
    for (int digit = 0; digit < 3; ++digit, n /= 45) out.push_back(kBase45Alphabet[n % 45]);
  }
  if (data.size() % 2 == 1) {
    unsigned n = data.back();
    for (int digit = 0; digit < 2; ++digit, n /= 45) out.push_back(kBase45Alphabet[n % 45]);
  }
  return out;
}

StatusOr<Bytes> Base45Decode(std::string_view text) {
  if (text.size() % 3 == 1) return InvalidArgument(std::to_string(text.size()) + " characters is not a Base45 length");
  Bytes out;
  out.reserve(text.size() / 3 * 2 + 1);
  for (size_t i = 0; i < text.size(); i += 3) {
    const size_t digits = std::min<size_t>(3, text.size() - i);
    unsigned n = 0, weight = 1;
    for (size_t d = 0; d < digits; ++d, weight *= 45) {
      const size_t value = kBase45Alphabet.find(text[i + d]);
      if (value == std::string_view::npos) {
        return InvalidArgument("character " + std::to_string(i + d) + " is not in the Base45 alphabet");
      }
      n += static_cast<unsigned>(value) * weight;
    }
    if (n > (digits == 3 ? 0xFFFFu : 0xFFu)) {
      return InvalidArgument("characters " + std::to_string(i) + ".." + std::to_string(i + digits - 1) +
                             " are out of range");
    }
    if (digits == 3) out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n & 0xFF));
  }
  return out;
}

StatusOr<std::string> IssueToken(const SuketData& data, const crypto::SigningKey& station_key) {
  RETURN_IF_ERROR(CheckData(data));
  const Bytes protected_header = EncodeProtectedHeader(KeyIdOf(station_key.public_key()));
  const Bytes payload = EncodeClaims(data);
  const Bytes signature = station_key.Sign(internal::SigStructure(protected_header, payload));
  std::vector<Item> parts;
  parts.push_back(internal::ByteString(protected_header));
  parts.push_back(internal::Map({}));
  parts.push_back(internal::ByteString(payload));
  parts.push_back(internal::ByteString(signature));
  const Bytes cose = internal::Serialize(internal::Tagged(kCoseSign1Tag, internal::Array(std::move(parts))));
  return std::string(kTokenPrefix) + Base45Encode(Compress(cose));
}

StatusOr<DecodedToken> DecodeToken(std::string_view token_text) {
  auto layers = internal::DecodeLayers(token_text);
  if (auto* failure = std::get_if<internal::TokenFailure>(&layers)) return InvalidArgument(failure->message);
  return std::get<DecodedToken>(std::move(layers));
}

}  // namespace ektp::suket
