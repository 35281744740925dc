// CBOR helpers over libcbor for the Suket's token, certificates, bundle and
// revocation list. Internal to src/suket.
//
// Encoding is deterministic: integers take their shortest form, maps keep
// the order they are built in. Decoding accepts only definite-length items
// and refuses trailing bytes, duplicate map keys and out-of-range integers.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "crypto/crypto.h"

namespace ektp::suket::internal {

using crypto::Bytes;

struct ItemDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
// One reference to a CBOR item.
using Item = std::unique_ptr<cbor_item_t, ItemDeleter>;

Item Int(int64_t value);
Item Uint(uint64_t value);
Item Text(std::string_view text);
Item ByteString(std::span<const uint8_t> bytes);
Item Array(std::vector<Item> items);
Item Map(std::vector<std::pair<Item, Item>> entries);
Item Tagged(uint64_t tag, Item item);
Bytes Serialize(const Item& item);

// The one item `bytes` holds; kInvalidArgument "<what>: ..." otherwise.
StatusOr<Item> Parse(std::span<const uint8_t> bytes, std::string_view what);

// Typed reads; kInvalidArgument naming `what` when the item is of another type.
StatusOr<int64_t> IntOf(const cbor_item_t* item, std::string_view what);
StatusOr<uint64_t> UintOf(const cbor_item_t* item, std::string_view what);
StatusOr<std::string> TextOf(const cbor_item_t* item, std::string_view what);
StatusOr<Bytes> BytesOf(const cbor_item_t* item, std::string_view what);
StatusOr<std::vector<const cbor_item_t*>> ArrayOf(const cbor_item_t* item, std::string_view what);

// A map with integer keys, looked up by key. Borrows the items of the map,
// which must outlive the reader.
class IntKeyMap {
 public:
  // kInvalidArgument when `item` is not a definite map with distinct integer keys.
  static StatusOr<IntKeyMap> Of(const cbor_item_t* item, std::string_view what);

  // nullptr when absent.
  const cbor_item_t* Find(int64_t key) const;
  // kInvalidArgument "<what>: <name> (key K) is missing" when absent.
  StatusOr<const cbor_item_t*> Required(int64_t key, std::string_view name) const;

 private:
  std::string what_;
  std::vector<std::pair<int64_t, const cbor_item_t*>> entries_;
};

// An object central signs (station certificate, trust bundle, revocation
// list): CBOR [kind, body, signer key id, Ed25519 signature], the signature
// over "ektp-suket-v1" 0x00 kind 0x00 body.
Bytes SignObject(std::string_view kind, const Bytes& body, const crypto::SigningKey& key);
struct SignedObject {
  Bytes body;
  Bytes key_id;
  Bytes signature;
};
// Decodes the envelope and checks its kind; does not check the signature.
StatusOr<SignedObject> OpenObject(std::span<const uint8_t> encoded, std::string_view kind);
// OK when one of `keys` whose id matches signed it; kUnauthenticated otherwise.
Status CheckObjectSignature(const SignedObject& object, std::string_view kind, std::span<const Bytes> keys);

}  // namespace ektp::suket::internal
