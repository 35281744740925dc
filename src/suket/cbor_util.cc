#include "suket/cbor_util.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "suket/suket.h"

namespace ektp::suket::internal {
namespace {

Item Own(cbor_item_t* item) { return Item(item); }

}  // namespace

Item Uint(uint64_t value) {
  if (value <= std::numeric_limits<uint8_t>::max()) return Own(cbor_build_uint8(static_cast<uint8_t>(value)));
  if (value <= std::numeric_limits<uint16_t>::max()) return Own(cbor_build_uint16(static_cast<uint16_t>(value)));
  if (value <= std::numeric_limits<uint32_t>::max()) return Own(cbor_build_uint32(static_cast<uint32_t>(value)));
  return Own(cbor_build_uint64(value));
}

namespace {

// CBOR major type 1 holds -1 - n.
Item Negative(uint64_t n) {
  Item item = Uint(n);
  cbor_mark_negint(item.get());
  return item;
}

Status Wrong(std::string_view what, std::string_view expected) {
  return InvalidArgument(std::string(what) + ": not " + std::string(expected));
}

constexpr std::string_view kSignatureContext = "ektp-suket-v1";

Bytes SignedMessage(std::string_view kind, const Bytes& body) {
  Bytes message(kSignatureContext.begin(), kSignatureContext.end());
  message.push_back(0);
  message.insert(message.end(), kind.begin(), kind.end());
  message.push_back(0);
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

}  // namespace

Item Int(int64_t value) {
  return value >= 0 ? Uint(static_cast<uint64_t>(value)) : Negative(static_cast<uint64_t>(-(value + 1)));
}

Item Text(std::string_view text) {
  return Own(cbor_build_stringn(text.data(), text.size()));
}

Item ByteString(std::span<const uint8_t> bytes) { return Own(cbor_build_bytestring(bytes.data(), bytes.size())); }

Item Array(std::vector<Item> items) {
  Item array = Own(cbor_new_definite_array(items.size()));
  for (Item& item : items) {
    if (!cbor_array_push(array.get(), item.get())) std::abort();  // capacity is exact: impossible
  }
  return array;
}

Item Map(std::vector<std::pair<Item, Item>> entries) {
  Item map = Own(cbor_new_definite_map(entries.size()));
  for (auto& [key, value] : entries) {
    if (!cbor_map_add(map.get(), cbor_pair{.key = key.get(), .value = value.get()})) std::abort();
  }
  return map;
}

Item Tagged(uint64_t tag, Item item) { return Own(cbor_build_tag(tag, item.get())); }

Bytes Serialize(const Item& item) {
  unsigned char* buffer = nullptr;
  size_t capacity = 0;
  const size_t length = cbor_serialize_alloc(item.get(), &buffer, &capacity);
  if (length == 0) std::abort();  // allocation failure
  Bytes bytes(buffer, buffer + length);
  std::free(buffer);
  return bytes;
}

// Walks the item's headers before libcbor sees it: libcbor allocates what a
// header declares (an array of 2^32 items) before reading the items. Every
// length must fit in the bytes left, nesting is at most kMaxDepth, and
// indefinite lengths are refused.
Status CheckShape(std::span<const uint8_t> bytes, std::string_view what) {
  constexpr size_t kMaxDepth = 16;
  auto malformed = [what](size_t at, std::string_view why) {
    return InvalidArgument(std::string(what) + ": not CBOR (" + std::string(why) + " at byte " + std::to_string(at) +
                           ")");
  };
  std::vector<uint64_t> items_left = {1};  // per open container, innermost last
  size_t at = 0;
  while (!items_left.empty()) {
    if (items_left.back() == 0) {
      items_left.pop_back();
      continue;
    }
    --items_left.back();
    if (at >= bytes.size()) return malformed(at, "end of data");
    const uint8_t major = bytes[at] >> 5, info = bytes[at] & 31;
    const size_t header_at = at++;
    uint64_t value = info;
    if (info >= 24 && info <= 27) {
      const size_t width = size_t{1} << (info - 24);
      if (bytes.size() - at < width) return malformed(header_at, "end of data");
      value = 0;
      for (size_t byte_idx = 0; byte_idx < width; ++byte_idx) value = value << 8 | bytes[at++];
    } else if (info > 27) {
      return malformed(header_at, info == 31 ? "indefinite length" : "reserved header");
    }
    const uint64_t left = bytes.size() - at;
    switch (major) {
      case 2:
      case 3:  // byte and text strings
        if (value > left) return malformed(header_at, "string longer than the data");
        at += static_cast<size_t>(value);
        break;
      case 4:  // array
      case 5:  // map
        if (value > left || (major == 5 && 2 * value > left)) return malformed(header_at, "more items than bytes");
        if (items_left.size() > kMaxDepth) return malformed(header_at, "nesting too deep");
        items_left.push_back(major == 5 ? 2 * value : value);
        break;
      case 6:  // tag: one item follows
        if (items_left.size() > kMaxDepth) return malformed(header_at, "nesting too deep");
        items_left.push_back(1);
        break;
      default:  // integers, simple values, floats: the header is all
        break;
    }
  }
  if (at != bytes.size()) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(bytes.size() - at) + " bytes after the CBOR item");
  }
  return Status::Ok();
}

StatusOr<Item> Parse(std::span<const uint8_t> bytes, std::string_view what) {
  RETURN_IF_ERROR(CheckShape(bytes, what));
  cbor_load_result result{};
  Item item = Own(cbor_load(bytes.data(), bytes.size(), &result));
  if (item == nullptr || result.error.code != CBOR_ERR_NONE) {
    return InvalidArgument(std::string(what) + ": not CBOR (error at byte " + std::to_string(result.error.position) +
                           ")");
  }
  if (result.read != bytes.size()) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(bytes.size() - result.read) +
                           " bytes after the CBOR item");
  }
  return item;
}

StatusOr<int64_t> IntOf(const cbor_item_t* item, std::string_view what) {
  const bool negative = cbor_isa_negint(item);
  if (!cbor_isa_uint(item) && !negative) return Wrong(what, "an integer");
  const uint64_t magnitude = cbor_get_int(item);
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument(std::string(what) + ": integer out of range");
  }
  return negative ? -1 - static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
}

StatusOr<uint64_t> UintOf(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_uint(item)) return Wrong(what, "an unsigned integer");
  return cbor_get_int(item);
}

StatusOr<std::string> TextOf(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) return Wrong(what, "a text string");
  return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item));
}

StatusOr<Bytes> BytesOf(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) return Wrong(what, "a byte string");
  const uint8_t* data = cbor_bytestring_handle(item);
  return Bytes(data, data + cbor_bytestring_length(item));
}

StatusOr<std::vector<const cbor_item_t*>> ArrayOf(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_array(item) || !cbor_array_is_definite(item)) return Wrong(what, "an array");
  cbor_item_t** handle = cbor_array_handle(item);
  return std::vector<const cbor_item_t*>(handle, handle + cbor_array_size(item));
}

StatusOr<IntKeyMap> IntKeyMap::Of(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_map(item) || !cbor_map_is_definite(item)) return Wrong(what, "a map");
  IntKeyMap map;
  map.what_ = what;
  const cbor_pair* pairs = cbor_map_handle(item);
  for (size_t pair_idx = 0; pair_idx < cbor_map_size(item); ++pair_idx) {
    ASSIGN_OR_RETURN(int64_t key, IntOf(pairs[pair_idx].key, std::string(what) + " key"));
    if (map.Find(key) != nullptr) {
      return InvalidArgument(std::string(what) + ": key " + std::to_string(key) + " appears twice");
    }
    map.entries_.emplace_back(key, pairs[pair_idx].value);
  }
  return map;
}

const cbor_item_t* IntKeyMap::Find(int64_t key) const {
  auto it = std::find_if(entries_.begin(), entries_.end(), [key](const auto& entry) { return entry.first == key; });
  return it == entries_.end() ? nullptr : it->second;
}

StatusOr<const cbor_item_t*> IntKeyMap::Required(int64_t key, std::string_view name) const {
  const cbor_item_t* item = Find(key);
  if (item == nullptr) {
    return InvalidArgument(what_ + ": " + std::string(name) + " (key " + std::to_string(key) + ") is missing");
  }
  return item;
}

Bytes SignObject(std::string_view kind, const Bytes& body, const crypto::SigningKey& key) {
  const KeyId id = KeyIdOf(key.public_key());
  std::vector<Item> parts;
  parts.push_back(Text(kind));
  parts.push_back(ByteString(body));
  parts.push_back(ByteString(id));
  parts.push_back(ByteString(key.Sign(SignedMessage(kind, body))));
  return Serialize(Array(std::move(parts)));
}

StatusOr<SignedObject> OpenObject(std::span<const uint8_t> encoded, std::string_view kind) {
  const std::string what(kind);
  ASSIGN_OR_RETURN(Item item, Parse(encoded, what));
  ASSIGN_OR_RETURN(auto parts, ArrayOf(item.get(), what));
  if (parts.size() != 4) return InvalidArgument(what + ": an array of 4 items expected, got " + std::to_string(parts.size()));
  ASSIGN_OR_RETURN(std::string found_kind, TextOf(parts[0], what + " kind"));
  if (found_kind != kind) return InvalidArgument(what + ": this is a " + found_kind.substr(0, 40));
  SignedObject object;
  ASSIGN_OR_RETURN(object.body, BytesOf(parts[1], what + " body"));
  ASSIGN_OR_RETURN(object.key_id, BytesOf(parts[2], what + " key id"));
  ASSIGN_OR_RETURN(object.signature, BytesOf(parts[3], what + " signature"));
  if (object.key_id.size() != kKeyIdSize) return InvalidArgument(what + ": the key id is not 8 bytes");
  return object;
}

Status CheckObjectSignature(const SignedObject& object, std::string_view kind, std::span<const Bytes> keys) {
  const Bytes message = SignedMessage(kind, object.body);
  for (const Bytes& key : keys) {
    const KeyId id = KeyIdOf(key);
    if (!std::equal(id.begin(), id.end(), object.key_id.begin(), object.key_id.end())) continue;
    if (crypto::Verify(key, message, object.signature).ok()) return Status::Ok();
  }
  return Unauthenticated(std::string(kind) + ": signature does not verify with any central key (signer " +
                         crypto::HexEncode(object.key_id) + ")");
}

}  // namespace ektp::suket::internal
