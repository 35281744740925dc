// Station certificates, the trust bundle and the revocation list: objects
// central signs (internal::SignObject) around a CBOR map body.
#include <algorithm>

#include "suket/cbor_util.h"
#include "suket/suket.h"
#include "suket/token.h"

namespace ektp::suket {
namespace {

using internal::Item;

constexpr std::string_view kCertificateKind = "station certificate";
constexpr std::string_view kBundleKind = "trust bundle";
constexpr std::string_view kRevocationKind = "revocation list";

// Body keys.
enum CertificateKey : int64_t { kStationId = 1, kPublicKey = 2, kRegency = 3, kValidFrom = 4, kValidUntil = 5 };
enum ListKey : int64_t { kSequence = 1, kIssuedAt = 2, kEntries = 3, kMoreEntries = 4 };

Item Seconds(TimePoint t) { return internal::Int(internal::UnixSeconds(t)); }

StatusOr<TimePoint> TimeOf(const cbor_item_t* item, std::string_view what) {
  ASSIGN_OR_RETURN(uint64_t seconds, internal::UintOf(item, what));
  if (seconds > (uint64_t{1} << 40)) return InvalidArgument(std::string(what) + ": time out of range");
  return internal::FromUnixSeconds(static_cast<int64_t>(seconds));
}

template <typename T, typename Read>
StatusOr<T> Field(const internal::IntKeyMap& map, int64_t key, std::string what, Read read) {
  ASSIGN_OR_RETURN(const cbor_item_t* item, map.Required(key, what));
  return read(item, what);
}

StatusOr<std::string> TextField(const internal::IntKeyMap& map, int64_t key, std::string what) {
  return Field<std::string>(map, key, std::move(what), internal::TextOf);
}
StatusOr<TimePoint> TimeField(const internal::IntKeyMap& map, int64_t key, std::string what) {
  return Field<TimePoint>(map, key, std::move(what), TimeOf);
}
// The array under `key`, each item read by `read_one(item)`.
template <typename T, typename ReadOne>
StatusOr<std::vector<T>> ListField(const internal::IntKeyMap& map, int64_t key, std::string what, ReadOne read_one) {
  ASSIGN_OR_RETURN(auto items, Field<std::vector<const cbor_item_t*>>(map, key, std::move(what), internal::ArrayOf));
  std::vector<T> values;
  for (const cbor_item_t* item : items) {
    ASSIGN_OR_RETURN(T value, read_one(item));
    values.push_back(std::move(value));
  }
  return values;
}

// The sequence and issue time every list-like body starts with.
std::vector<std::pair<Item, Item>> Header(uint64_t sequence, TimePoint issued_at) {
  std::vector<std::pair<Item, Item>> body;
  body.emplace_back(internal::Int(kSequence), internal::Uint(sequence));
  body.emplace_back(internal::Int(kIssuedAt), Seconds(issued_at));
  return body;
}

// A list-like body: its map, sequence and issue time. `map` borrows from
// `item`, which the struct keeps alive.
struct ListBody {
  Item item;
  internal::IntKeyMap map;
  uint64_t sequence = 0;
  TimePoint issued_at{};
};
StatusOr<ListBody> ReadListBody(const internal::SignedObject& object, const std::string& what) {
  ASSIGN_OR_RETURN(Item item, internal::Parse(object.body, what));
  ASSIGN_OR_RETURN(internal::IntKeyMap map, internal::IntKeyMap::Of(item.get(), what));
  ListBody body{std::move(item), std::move(map)};
  ASSIGN_OR_RETURN(body.sequence, Field<uint64_t>(body.map, kSequence, what + " sequence", internal::UintOf));
  ASSIGN_OR_RETURN(body.issued_at, TimeField(body.map, kIssuedAt, what + " issued_at"));
  return body;
}

bool HoldsKey(std::span<const Bytes> keys, std::span<const uint8_t> key) {
  return std::any_of(keys.begin(), keys.end(),
                     [key](const Bytes& k) { return std::equal(k.begin(), k.end(), key.begin(), key.end()); });
}

}  // namespace

StatusOr<Bytes> CertifyStation(const StationCertificate& certificate, const crypto::SigningKey& central_key) {
  if (certificate.station_id.empty()) return InvalidArgument("station certificate: station_id is empty");
  if (certificate.regency_code.empty()) return InvalidArgument("station certificate: regency_code is empty");
  if (certificate.public_key.size() != crypto::kSignPublicKeySize) {
    return InvalidArgument("station certificate: public_key is not a 32-byte Ed25519 key");
  }
  if (certificate.valid_until <= certificate.valid_from) {
    return InvalidArgument("station certificate: valid_until is not after valid_from");
  }
  std::vector<std::pair<Item, Item>> body;
  body.emplace_back(internal::Int(kStationId), internal::Text(certificate.station_id));
  body.emplace_back(internal::Int(kPublicKey), internal::ByteString(certificate.public_key));
  body.emplace_back(internal::Int(kRegency), internal::Text(certificate.regency_code));
  body.emplace_back(internal::Int(kValidFrom), Seconds(certificate.valid_from));
  body.emplace_back(internal::Int(kValidUntil), Seconds(certificate.valid_until));
  return internal::SignObject(kCertificateKind, internal::Serialize(internal::Map(std::move(body))), central_key);
}

namespace internal {

StatusOr<UncheckedCertificate> DecodeCertificateUnchecked(std::span<const uint8_t> encoded) {
  const std::string what(kCertificateKind);
  UncheckedCertificate unchecked;
  ASSIGN_OR_RETURN(unchecked.object, OpenObject(encoded, kCertificateKind));
  ASSIGN_OR_RETURN(Item body, Parse(unchecked.object.body, what));
  ASSIGN_OR_RETURN(IntKeyMap map, IntKeyMap::Of(body.get(), what));
  StationCertificate& certificate = unchecked.certificate;
  ASSIGN_OR_RETURN(certificate.station_id, TextField(map, kStationId, "station_id"));
  ASSIGN_OR_RETURN(certificate.public_key, Field<Bytes>(map, kPublicKey, "public_key", BytesOf));
  if (certificate.public_key.size() != crypto::kSignPublicKeySize) {
    return InvalidArgument("station certificate: public_key is not 32 bytes");
  }
  ASSIGN_OR_RETURN(certificate.regency_code, TextField(map, kRegency, "regency"));
  ASSIGN_OR_RETURN(certificate.valid_from, TimeField(map, kValidFrom, "valid_from"));
  ASSIGN_OR_RETURN(certificate.valid_until, TimeField(map, kValidUntil, "valid_until"));
  return unchecked;
}

Status CheckCertificateSignature(const UncheckedCertificate& unchecked, std::span<const Bytes> central_keys) {
  if (Status checked = CheckObjectSignature(unchecked.object, kCertificateKind, central_keys); !checked.ok()) {
    return Unauthenticated("station certificate of " + unchecked.certificate.station_id + ": not signed by central (" +
                           checked.message() + ")");
  }
  return Status::Ok();
}

}  // namespace internal

StatusOr<SignedStationCertificate> VerifyStationCertificate(std::span<const uint8_t> encoded,
                                                            std::span<const Bytes> central_keys) {
  ASSIGN_OR_RETURN(internal::UncheckedCertificate unchecked, internal::DecodeCertificateUnchecked(encoded));
  RETURN_IF_ERROR(internal::CheckCertificateSignature(unchecked, central_keys));
  return SignedStationCertificate{std::move(unchecked.certificate), Bytes(encoded.begin(), encoded.end())};
}

StatusOr<Bytes> EncodeTrustBundle(const TrustBundle& bundle, const crypto::SigningKey& central_key) {
  if (!HoldsKey(bundle.central_keys, central_key.public_key())) {
    return InvalidArgument("trust bundle: the signing key is not among its central keys");
  }
  std::vector<Item> keys, certificates;
  for (const Bytes& key : bundle.central_keys) {
    if (key.size() != crypto::kSignPublicKeySize) return InvalidArgument("trust bundle: a central key is not 32 bytes");
    keys.push_back(internal::ByteString(key));
  }
  for (const Bytes& certificate : bundle.station_certificates) certificates.push_back(internal::ByteString(certificate));
  auto body = Header(bundle.sequence, bundle.issued_at);
  body.emplace_back(internal::Int(kEntries), internal::Array(std::move(keys)));
  body.emplace_back(internal::Int(kMoreEntries), internal::Array(std::move(certificates)));
  return internal::SignObject(kBundleKind, internal::Serialize(internal::Map(std::move(body))), central_key);
}

StatusOr<TrustBundle> DecodeTrustBundle(std::span<const uint8_t> encoded,
                                        std::optional<std::span<const uint8_t>> pinned_central_key) {
  const std::string what(kBundleKind);
  ASSIGN_OR_RETURN(internal::SignedObject object, internal::OpenObject(encoded, kBundleKind));
  ASSIGN_OR_RETURN(ListBody body, ReadListBody(object, what));
  TrustBundle bundle;
  bundle.sequence = body.sequence;
  bundle.issued_at = body.issued_at;
  ASSIGN_OR_RETURN(bundle.central_keys,
                   ListField<Bytes>(body.map, kEntries, "central_keys", [](const cbor_item_t* item) -> StatusOr<Bytes> {
                     ASSIGN_OR_RETURN(Bytes key, internal::BytesOf(item, "central key"));
                     if (key.size() != crypto::kSignPublicKeySize) {
                       return InvalidArgument("trust bundle: a central key is not 32 bytes");
                     }
                     return key;
                   }));
  ASSIGN_OR_RETURN(bundle.station_certificates,
                   ListField<Bytes>(body.map, kMoreEntries, "station_certificates",
                                    [](const cbor_item_t* item) { return internal::BytesOf(item, "station certificate"); }));
  if (pinned_central_key.has_value()) {
    const KeyId pinned = KeyIdOf(*pinned_central_key);
    if (!std::equal(pinned.begin(), pinned.end(), object.key_id.begin(), object.key_id.end())) {
      return Unauthenticated("trust bundle: signed by key " + crypto::HexEncode(object.key_id) +
                             ", not the pinned central key " + crypto::HexEncode(pinned));
    }
    const Bytes pinned_key(pinned_central_key->begin(), pinned_central_key->end());
    if (!internal::CheckObjectSignature(object, kBundleKind, std::span(&pinned_key, 1)).ok()) {
      return Unauthenticated("trust bundle: signature does not verify with the pinned central key");
    }
  } else if (!internal::CheckObjectSignature(object, kBundleKind, bundle.central_keys).ok()) {
    return Unauthenticated("trust bundle: signature does not verify with any of its central keys");
  }
  return bundle;
}

StatusOr<Bytes> EncodeRevocationList(const RevocationList& list, const crypto::SigningKey& central_key) {
  std::vector<Item> serials, stations;
  for (const std::string& serial : list.revoked_serials) serials.push_back(internal::Text(serial));
  for (const StationRevocation& station : list.revoked_stations) {
    if (station.station_id.empty()) return InvalidArgument("revocation list: a station_id is empty");
    std::vector<Item> entry;
    entry.push_back(internal::Text(station.station_id));
    entry.push_back(Seconds(station.revoked_from));
    stations.push_back(internal::Array(std::move(entry)));
  }
  auto body = Header(list.sequence, list.issued_at);
  body.emplace_back(internal::Int(kEntries), internal::Array(std::move(serials)));
  body.emplace_back(internal::Int(kMoreEntries), internal::Array(std::move(stations)));
  return internal::SignObject(kRevocationKind, internal::Serialize(internal::Map(std::move(body))), central_key);
}

StatusOr<RevocationList> DecodeRevocationList(std::span<const uint8_t> encoded, const TrustBundle& bundle) {
  const std::string what(kRevocationKind);
  ASSIGN_OR_RETURN(internal::SignedObject object, internal::OpenObject(encoded, kRevocationKind));
  if (!internal::CheckObjectSignature(object, kRevocationKind, bundle.central_keys).ok()) {
    return Unauthenticated("revocation list: signature does not verify with any central key of the trust bundle");
  }
  ASSIGN_OR_RETURN(ListBody body, ReadListBody(object, what));
  RevocationList list;
  list.sequence = body.sequence;
  list.issued_at = body.issued_at;
  ASSIGN_OR_RETURN(list.revoked_serials,
                   ListField<std::string>(body.map, kEntries, "revoked_serials",
                                          [](const cbor_item_t* item) { return internal::TextOf(item, "revoked serial"); }));
  ASSIGN_OR_RETURN(
      list.revoked_stations,
      ListField<StationRevocation>(
          body.map, kMoreEntries, "revoked_stations", [](const cbor_item_t* item) -> StatusOr<StationRevocation> {
            ASSIGN_OR_RETURN(auto entry, internal::ArrayOf(item, "revoked station"));
            if (entry.size() != 2) {
              return InvalidArgument("revocation list: a revoked station is not [station_id, revoked_from]");
            }
            StationRevocation revocation;
            ASSIGN_OR_RETURN(revocation.station_id, internal::TextOf(entry[0], "revoked station_id"));
            ASSIGN_OR_RETURN(revocation.revoked_from, TimeOf(entry[1], "revoked_from"));
            return revocation;
          }));
  return list;
}

StatusOr<Bytes> BuildTrustBundle(const crypto::SigningKey& central_key, std::span<const StationToCertify> stations,
                                 uint64_t sequence, TimePoint now, std::chrono::seconds certificate_validity) {
  TrustBundle bundle;
  bundle.sequence = sequence;
  bundle.issued_at = now;
  bundle.central_keys.push_back(central_key.public_key());
  for (const StationToCertify& station : stations) {
    StationCertificate certificate{station.station_id, station.public_key, station.regency_code, now,
                                   now + certificate_validity};
    auto encoded = CertifyStation(certificate, central_key);
    if (!encoded.ok()) return encoded.status().WithContext("station " + station.station_id);
    bundle.station_certificates.push_back(std::move(*encoded));
  }
  return EncodeTrustBundle(bundle, central_key);
}

}  // namespace ektp::suket
