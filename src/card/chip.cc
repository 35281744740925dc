// The chip personalisation blob; the format is in docs/card-format.md.
#include <algorithm>
#include <map>
#include <optional>

#include "card/card.h"
#include "core/clock.h"
#include "core/resident_json.h"
#include "core/text.h"

namespace ektp::card {
namespace {

constexpr std::string_view kMagic = "EKTPCHIP";
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 8 + 1 + 4;  // magic, version, fields length
constexpr size_t kMaxFieldSize = 0xFFFF;

enum class FieldKind { kText, kNumber, kHash, kFinger };

struct FieldSpec {
  uint8_t tag;
  std::string_view name;
  FieldKind kind;
};

// In tag order, which is the order fields appear in a blob. Every field
// appears exactly once except `finger` (once or twice).
enum Tag : uint8_t {
  kNik = 0x01, kName, kPlaceOfBirth, kBirthDate, kSex, kBloodType, kStreet, kRt, kRw, kVillageCode, kReligion,
  kMaritalStatus, kOccupation, kCitizenship, kValidUntil, kIssuingRegency, kIssuedOn, kRegistrationNumber, kPhotoSha256, kFinger = 0x20,
};

constexpr FieldSpec kFields[] = {
    {kNik, "nik", FieldKind::kText},
    {kName, "name", FieldKind::kText},
    {kPlaceOfBirth, "place_of_birth", FieldKind::kText},
    {kBirthDate, "birth_date", FieldKind::kText},
    {kSex, "sex", FieldKind::kText},
    {kBloodType, "blood_type", FieldKind::kText},
    {kStreet, "street", FieldKind::kText},
    {kRt, "rt", FieldKind::kNumber},
    {kRw, "rw", FieldKind::kNumber},
    {kVillageCode, "village_code", FieldKind::kText},
    {kReligion, "religion", FieldKind::kText},
    {kMaritalStatus, "marital_status", FieldKind::kText},
    {kOccupation, "occupation", FieldKind::kText},
    {kCitizenship, "citizenship", FieldKind::kText},
    {kValidUntil, "valid_until", FieldKind::kText},
    {kIssuingRegency, "issuing_regency", FieldKind::kText},
    {kIssuedOn, "issued_on", FieldKind::kText},
    {kRegistrationNumber, "registration_number", FieldKind::kText},
    {kPhotoSha256, "photo_sha256", FieldKind::kHash},
    {kFinger, "finger", FieldKind::kFinger},
};

const FieldSpec* SpecOf(uint8_t tag) {
  auto it = std::find_if(std::begin(kFields), std::end(kFields), [tag](const FieldSpec& f) { return f.tag == tag; });
  return it == std::end(kFields) ? nullptr : it;
}

void PutU16(Bytes& out, size_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

uint32_t GetU32(std::span<const uint8_t> in) {
  return uint32_t{in[0]} << 24 | uint32_t{in[1]} << 16 | uint32_t{in[2]} << 8 | in[3];
}

class FieldWriter {
 public:
  void Text(Tag tag, std::string_view value) { Raw(tag, crypto::AsBytes(value)); }
  void Number(Tag tag, int value) {
    Bytes two;
    PutU16(two, static_cast<size_t>(value));
    Raw(tag, two);
  }
  void Raw(Tag tag, std::span<const uint8_t> value) {
    if (!status_.ok()) return;
    if (value.size() > kMaxFieldSize) {
      status_ = InvalidArgument(std::string(SpecOf(tag)->name) + ": " + std::to_string(value.size()) +
                                " bytes; a chip field holds at most " + std::to_string(kMaxFieldSize));
      return;
    }
    fields_.push_back(tag);
    PutU16(fields_, value.size());
    fields_.insert(fields_.end(), value.begin(), value.end());
  }
  const Status& status() const { return status_; }
  const Bytes& fields() const { return fields_; }

 private:
  Bytes fields_;
  Status status_;
};

// Each field's value by tag, fingers in blob order.
struct RawFields {
  std::map<uint8_t, std::span<const uint8_t>> single;
  std::vector<std::span<const uint8_t>> fingers;
};

Status Malformed(size_t offset, std::string_view what) {
  return InvalidArgument("chip blob: at byte " + std::to_string(offset) + ": " + std::string(what));
}

StatusOr<RawFields> SplitFields(std::span<const uint8_t> blob) {
  if (blob.size() < kHeaderSize + crypto::kSignatureSize ||
      !std::equal(kMagic.begin(), kMagic.end(), blob.begin())) {
    return Malformed(0, "not an e-KTP chip blob (no \"EKTPCHIP\" header)");
  }
  if (blob[8] != kFormatVersion) {
    return Malformed(8, "format version " + std::to_string(blob[8]) + " is not supported (this build reads 1)");
  }
  const uint32_t fields_size = GetU32(blob.subspan(9, 4));
  if (blob.size() != kHeaderSize + size_t{fields_size} + crypto::kSignatureSize) {
    return Malformed(9, "fields length " + std::to_string(fields_size) + " does not match the blob's " +
                            std::to_string(blob.size()) + " bytes");
  }
  RawFields raw;
  int previous_tag = -1;
  size_t offset = kHeaderSize;
  const size_t end = kHeaderSize + fields_size;
  while (offset < end) {
    if (end - offset < 3) return Malformed(offset, "truncated field header");
    const uint8_t tag = blob[offset];
    const FieldSpec* spec = SpecOf(tag);
    if (spec == nullptr) return Malformed(offset, "unknown field tag " + std::to_string(tag));
    if (tag < previous_tag || (tag == previous_tag && tag != kFinger)) {
      return Malformed(offset, std::string(spec->name) + ": out of order or repeated");
    }
    const size_t size = size_t{blob[offset + 1]} << 8 | blob[offset + 2];
    if (end - offset - 3 < size) return Malformed(offset, std::string(spec->name) + ": value runs past the fields");
    auto value = blob.subspan(offset + 3, size);
    const bool size_ok = spec->kind == FieldKind::kNumber   ? size == 2
                         : spec->kind == FieldKind::kHash   ? size == 32
                         : spec->kind == FieldKind::kFinger ? size >= 2
                                                            : true;
    if (!size_ok) return Malformed(offset, std::string(spec->name) + ": wrong length " + std::to_string(size));
    if (spec->kind == FieldKind::kText && !IsValidUtf8({reinterpret_cast<const char*>(value.data()), size})) {
      return Malformed(offset, std::string(spec->name) + ": not valid UTF-8");
    }
    if (tag == kFinger) {
      raw.fingers.push_back(value);
    } else {
      raw.single[tag] = value;
    }
    previous_tag = tag;
    offset += 3 + size;
  }
  for (const FieldSpec& spec : kFields) {
    if (spec.tag != kFinger && !raw.single.contains(spec.tag)) {
      return Malformed(end, std::string(spec.name) + ": missing");
    }
  }
  if (raw.fingers.empty() || raw.fingers.size() > 2) {
    return Malformed(end, "holds " + std::to_string(raw.fingers.size()) + " fingers; a chip holds 1 or 2");
  }
  return raw;
}

std::string TextOf(const RawFields& raw, Tag tag) {
  auto value = raw.single.at(tag);
  return {reinterpret_cast<const char*>(value.data()), value.size()};
}

int NumberOf(const RawFields& raw, Tag tag) {
  auto value = raw.single.at(tag);
  return value[0] << 8 | value[1];
}

Status CheckFingers(const std::vector<ChipFinger>& fingers) {
  if (fingers.empty() || fingers.size() > 2) {
    return InvalidArgument("fingers: " + std::to_string(fingers.size()) + " given; a chip holds 1 or 2");
  }
  for (const ChipFinger& finger : fingers) {
    if (finger.position < 1 || finger.position > 10) {
      return InvalidArgument("fingers: position " + std::to_string(finger.position) + " is not 1..10");
    }
    if (finger.template_bytes.empty()) {
      return InvalidArgument("fingers: finger " + std::to_string(finger.position) + " has no template");
    }
  }
  if (fingers.size() == 2 && fingers[0].position == fingers[1].position) {
    return InvalidArgument("fingers: position " + std::to_string(fingers[0].position) + " given twice");
  }
  return Status::Ok();
}

StatusOr<CardData> CardDataOf(const RawFields& raw) {
  CardData data;
  Resident& r = data.resident;
  r.nik = TextOf(raw, kNik);
  if (r.nik.size() != 16 || !IsAllDigits(r.nik)) return InvalidArgument("chip blob: nik: not 16 digits");
  r.name = TextOf(raw, kName);
  r.place_of_birth = TextOf(raw, kPlaceOfBirth);
  ASSIGN_OR_RETURN(r.birth_date, ParseIsoDate("chip blob: birth_date", TextOf(raw, kBirthDate)));
  ASSIGN_OR_RETURN(r.sex, ParseSex(TextOf(raw, kSex)));
  ASSIGN_OR_RETURN(r.blood_type, ParseBloodType(TextOf(raw, kBloodType)));
  r.address.street = TextOf(raw, kStreet);
  r.address.rt = NumberOf(raw, kRt);
  r.address.rw = NumberOf(raw, kRw);
  r.address.village_code = TextOf(raw, kVillageCode);
  ASSIGN_OR_RETURN(r.religion, ParseReligion(TextOf(raw, kReligion)));
  ASSIGN_OR_RETURN(r.marital_status, ParseMaritalStatus(TextOf(raw, kMaritalStatus)));
  r.occupation = TextOf(raw, kOccupation);
  ASSIGN_OR_RETURN(r.citizenship, ParseCitizenship(TextOf(raw, kCitizenship)));
  data.valid_until = TextOf(raw, kValidUntil);
  if (data.valid_until != kValidForLife) {
    RETURN_IF_ERROR(ParseIsoDate("chip blob: valid_until", data.valid_until).status());
  }
  data.issuing_regency = TextOf(raw, kIssuingRegency);
  ASSIGN_OR_RETURN(data.issued_on, ParseIsoDate("chip blob: issued_on", TextOf(raw, kIssuedOn)));
  data.registration_number = TextOf(raw, kRegistrationNumber);
  for (auto finger : raw.fingers) {
    data.fingers.push_back({finger[0], Bytes(finger.begin() + 1, finger.end())});
  }
  Status fingers = CheckFingers(data.fingers);
  if (!fingers.ok()) return fingers.WithContext("chip blob");
  return data;
}

StatusOr<ChipContents> Decode(std::span<const uint8_t> blob) {
  ASSIGN_OR_RETURN(RawFields raw, SplitFields(blob));
  ChipContents chip;
  ASSIGN_OR_RETURN(chip.data, CardDataOf(raw));
  auto hash = raw.single.at(kPhotoSha256);
  std::copy(hash.begin(), hash.end(), chip.photo_sha256.begin());
  return chip;
}

}  // namespace

StatusOr<std::vector<ChipFinger>> ChooseChipFingers(const std::vector<ChipFinger>& captured) {
  // Preference within a hand: index, thumb, middle, ring, little.
  auto pick = [&](int first_position, const std::vector<ChipFinger>& taken) -> std::optional<ChipFinger> {
    for (int offset : {1, 0, 2, 3, 4}) {
      for (const ChipFinger& finger : captured) {
        if (finger.position != first_position + offset || finger.template_bytes.empty()) continue;
        if (std::ranges::any_of(taken, [&](const ChipFinger& t) { return t.position == finger.position; })) continue;
        return finger;
      }
    }
    return std::nullopt;
  };
  std::vector<ChipFinger> chosen;
  for (int hand : {1, 6}) {
    if (auto finger = pick(hand, chosen)) chosen.push_back(*finger);
  }
  for (int hand : {1, 6}) {
    if (chosen.size() >= 2) break;
    if (auto finger = pick(hand, chosen)) chosen.push_back(*finger);
  }
  if (chosen.empty()) return FailedPrecondition("no finger has a template to write to the chip");
  std::ranges::sort(chosen, {}, &ChipFinger::position);
  return chosen;
}

StatusOr<Bytes> EncodeChip(const Card& card, const crypto::SigningKey& central) {
  const CardData& data = card.data;
  const Resident& r = data.resident;
  if (r.nik.size() != 16 || !IsAllDigits(r.nik)) return InvalidArgument("nik: a card needs the 16-digit NIK");
  RETURN_IF_ERROR(CheckFingers(data.fingers));
  if (r.address.rt < 0 || r.address.rt > 0xFFFF || r.address.rw < 0 || r.address.rw > 0xFFFF) {
    return InvalidArgument("address: rt and rw must be 0..65535");
  }
  FieldWriter w;
  w.Text(kNik, r.nik);
  w.Text(kName, r.name);
  w.Text(kPlaceOfBirth, r.place_of_birth);
  w.Text(kBirthDate, FormatDate(r.birth_date));
  w.Text(kSex, r.sex == Sex::kMale ? "LAKI-LAKI" : "PEREMPUAN");
  w.Text(kBloodType, BloodTypeName(r.blood_type));
  w.Text(kStreet, r.address.street);
  w.Number(kRt, r.address.rt);
  w.Number(kRw, r.address.rw);
  w.Text(kVillageCode, r.address.village_code);
  w.Text(kReligion, ReligionName(r.religion));
  w.Text(kMaritalStatus, MaritalStatusName(r.marital_status));
  w.Text(kOccupation, r.occupation);
  w.Text(kCitizenship, CitizenshipName(r.citizenship));
  w.Text(kValidUntil, data.valid_until);
  w.Text(kIssuingRegency, data.issuing_regency);
  w.Text(kIssuedOn, FormatDate(data.issued_on));
  w.Text(kRegistrationNumber, data.registration_number);
  w.Raw(kPhotoSha256, crypto::Sha256(card.face_jpeg));
  for (const ChipFinger& finger : data.fingers) {
    Bytes value{static_cast<uint8_t>(finger.position)};
    value.insert(value.end(), finger.template_bytes.begin(), finger.template_bytes.end());
    w.Raw(kFinger, value);
  }
  RETURN_IF_ERROR(w.status());

  Bytes blob(kMagic.begin(), kMagic.end());
  blob.push_back(kFormatVersion);
  const size_t fields_size = w.fields().size();
  for (int shift : {24, 16, 8, 0}) blob.push_back(static_cast<uint8_t>(fields_size >> shift));
  blob.insert(blob.end(), w.fields().begin(), w.fields().end());
  Bytes signature = central.Sign(blob);
  blob.insert(blob.end(), signature.begin(), signature.end());
  return blob;
}

StatusOr<ChipContents> VerifyChip(std::span<const uint8_t> blob, std::span<const uint8_t> central_public_key) {
  if (blob.size() < kHeaderSize + crypto::kSignatureSize) return Malformed(0, "too short to be a chip blob");
  const size_t signed_size = blob.size() - crypto::kSignatureSize;
  if (!crypto::Verify(central_public_key, blob.first(signed_size), blob.subspan(signed_size)).ok()) {
    return Unauthenticated(
        "chip blob: central's signature does not verify; the chip was altered or written with another key");
  }
  ASSIGN_OR_RETURN(ChipContents chip, Decode(blob));
  chip.signature_verified = true;
  return chip;
}

StatusOr<ChipContents> DecodeChipUnverified(std::span<const uint8_t> blob) { return Decode(blob); }

Status CheckPhoto(const ChipContents& chip, std::span<const uint8_t> face_jpeg) {
  if (crypto::Sha256(face_jpeg) != chip.photo_sha256) {
    return FailedPrecondition("the photo is not the one this chip was written for (SHA-256 differs)");
  }
  return Status::Ok();
}

namespace {

constexpr std::string_view kCardToPrintMagic = "EKTPCARD";
constexpr uint8_t kCardToPrintVersion = 1;
constexpr size_t kMaxCardToPrintPart = 4 * 1024 * 1024;

void PutPart(Bytes& out, std::span<const uint8_t> part) {
  for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<uint8_t>(part.size() >> shift));
  out.insert(out.end(), part.begin(), part.end());
}

}  // namespace

Bytes EncodeCardToPrint(const CardToPrint& card) {
  Bytes out(kCardToPrintMagic.begin(), kCardToPrintMagic.end());
  out.push_back(kCardToPrintVersion);
  for (const Bytes* part : {&card.chip, &card.face_jpeg, &card.signature_image}) PutPart(out, *part);
  return out;
}

StatusOr<OpenedCard> OpenCardToPrint(std::span<const uint8_t> bytes, std::span<const uint8_t> central_public_key) {
  if (bytes.size() < kCardToPrintMagic.size() + 1 ||
      !std::equal(kCardToPrintMagic.begin(), kCardToPrintMagic.end(), bytes.begin()) ||
      bytes[kCardToPrintMagic.size()] != kCardToPrintVersion) {
    return InvalidArgument("card to print: not an \"EKTPCARD\" version 1 record");
  }
  std::vector<Bytes> parts;
  size_t offset = kCardToPrintMagic.size() + 1;
  for (const char* name : {"chip", "face photo", "signature image"}) {
    if (bytes.size() - offset < 4) return InvalidArgument(std::string("card to print: truncated before the ") + name);
    const uint32_t size = GetU32(bytes.subspan(offset, 4));
    offset += 4;
    if (size > kMaxCardToPrintPart || bytes.size() - offset < size) {
      return InvalidArgument(std::string("card to print: the ") + name + " runs past the end");
    }
    parts.emplace_back(bytes.begin() + offset, bytes.begin() + offset + size);
    offset += size;
  }
  if (offset != bytes.size()) return InvalidArgument("card to print: bytes after the signature image");
  ASSIGN_OR_RETURN(ChipContents chip, VerifyChip(parts[0], central_public_key));
  RETURN_IF_ERROR(CheckPhoto(chip, parts[1]));
  return OpenedCard{Card{std::move(chip.data), std::move(parts[1]), std::move(parts[2]), ""}, std::move(parts[0])};
}

}  // namespace ektp::card
