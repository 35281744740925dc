// Cryptography for ektp, over libsodium:
//   - Ed25519 signatures (stations sign packets; central signs print jobs, Suket),
//   - X25519 sealed boxes (biometrics and photos sealed to central at capture),
//   - Argon2id password hashes (operator accounts),
//   - SHA-256, random tokens and base64.
//
// Private keys live in files readable by their owner only (mode 0600);
// loading a key file that group or others can read is refused.
//
// Thread-safety: all functions and const methods are safe to call concurrently.
#pragma once

#include <array>
#include <iosfwd>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::crypto {

using Bytes = std::vector<uint8_t>;

inline constexpr size_t kSignPublicKeySize = 32;
inline constexpr size_t kSignatureSize = 64;
inline constexpr size_t kBoxPublicKeySize = 32;

// An Ed25519 key pair.
class SigningKey {
 public:
  static SigningKey Generate();
  // From a 32-byte seed; the same seed always gives the same key (tests).
  static SigningKey FromSeed(std::span<const uint8_t> seed);
  static StatusOr<SigningKey> Load(const std::string& path);
  // Writes the secret key with mode 0600, replacing the file atomically.
  Status Save(const std::string& path) const;

  const Bytes& public_key() const { return public_key_; }
  Bytes Sign(std::span<const uint8_t> message) const;
  Bytes Sign(std::string_view message) const;

 private:
  Bytes public_key_;
  Bytes secret_key_;
};

// OK if `signature` is `public_key`'s signature of `message`; kUnauthenticated otherwise.
Status Verify(std::span<const uint8_t> public_key, std::span<const uint8_t> message,
              std::span<const uint8_t> signature);
Status Verify(std::span<const uint8_t> public_key, std::string_view message, std::span<const uint8_t> signature);

// An X25519 key pair for sealed boxes.
class SealingKey {
 public:
  static SealingKey Generate();
  static StatusOr<SealingKey> Load(const std::string& path);
  Status Save(const std::string& path) const;

  const Bytes& public_key() const { return public_key_; }
  // Opens a box sealed to this key; kUnauthenticated if it was not, or was altered.
  StatusOr<Bytes> Open(std::span<const uint8_t> sealed) const;

 private:
  Bytes public_key_;
  Bytes secret_key_;
};

// Seals `plaintext` so only the holder of `public_key`'s secret can open it.
// REQUIRES: public_key.size() == kBoxPublicKeySize.
Bytes Seal(std::span<const uint8_t> public_key, std::span<const uint8_t> plaintext);

// Encryption of a stream of any length to an X25519 public key (backups):
// a fresh XChaCha20-Poly1305 secretstream key sealed to the key, then the
// data in authenticated chunks, the last one marked final, so a reordered,
// altered or truncated stream is refused. Layout:
//   "eks1" | sealed stream key (80) | secretstream header (24) |
//   chunks: ciphertext length (4, little-endian) | ciphertext
// Not thread-safe: one writer or reader per stream.
class SealedStreamWriter {
 public:
  // REQUIRES: public_key.size() == kBoxPublicKeySize; `out` outlives the writer.
  SealedStreamWriter(std::span<const uint8_t> public_key, std::ostream& out);
  // kUnavailable if `out` fails.
  Status Write(std::span<const uint8_t> data);
  // Writes the final chunk; nothing may be written after.
  Status Finish();

 private:
  Status Flush(bool final);
  std::ostream& out_;
  std::array<uint8_t, 52> state_{};  // crypto_secretstream_xchacha20poly1305_state
  Bytes buffer_;
  bool finished_ = false;
};

class SealedStreamReader {
 public:
  // kUnauthenticated if the stream was not sealed to `key`; kDataLoss if it
  // is not a sealed stream. `in` outlives the reader.
  static StatusOr<SealedStreamReader> Open(const SealingKey& key, std::istream& in);
  // Fills `out` entirely; kDataLoss if the stream ends first or was altered.
  Status Read(std::span<uint8_t> out);
  // OK if the final chunk was read and nothing follows it; kDataLoss otherwise.
  Status ExpectEnd();

 private:
  explicit SealedStreamReader(std::istream& in) : in_(&in) {}
  Status NextChunk();
  std::istream* in_;
  std::array<uint8_t, 52> state_{};
  Bytes buffer_;
  size_t position_ = 0;
  bool final_ = false;
};

// A secret key for XChaCha20-Poly1305 authenticated encryption of data at
// rest (central's stored biometrics; docs/security.md). Ciphertext layout:
//   "ekd1" (4 bytes) | key id (8) | random nonce (24) | ciphertext | tag (16)
// The key id (8 bytes of BLAKE2b over the key, domain-separated) names the
// key a ciphertext needs; it reveals nothing usable about the key.
// `associated` is authenticated but not stored: decrypting with other
// associated data fails, which binds a ciphertext to the row it belongs to.
// A default-constructed DataKey holds no key; Encrypt and Decrypt refuse
// with kFailedPrecondition.
class DataKey {
 public:
  DataKey() = default;
  static DataKey Generate();
  // The key file format of the other keys ("ektp-xchacha20poly1305-v1 <base64>"),
  // mode 0600; a file group or others can read is refused.
  static StatusOr<DataKey> Load(const std::string& path);
  Status Save(const std::string& path) const;

  // 16 hex digits; "" without a key.
  std::string id() const;
  StatusOr<Bytes> Encrypt(std::span<const uint8_t> plaintext, std::string_view associated) const;
  // kFailedPrecondition when the ciphertext needs another key (it names
  // both ids); kDataLoss when it is not one of ours, or was altered, or
  // `associated` differs from the one it was encrypted with.
  StatusOr<Bytes> Decrypt(std::span<const uint8_t> ciphertext, std::string_view associated) const;

 private:
  Bytes key_;
  std::array<uint8_t, 8> id_{};
};

// Argon2id. `strength` kInteractive for logins; kFast only for tests.
enum class PasswordStrength { kInteractive, kFast };
StatusOr<std::string> HashPassword(std::string_view password, PasswordStrength strength = PasswordStrength::kInteractive);
// OK if `password` matches `hash`; kUnauthenticated otherwise.
Status VerifyPassword(std::string_view hash, std::string_view password);

std::array<uint8_t, 32> Sha256(std::span<const uint8_t> data);
std::string Sha256Hex(std::span<const uint8_t> data);
std::string Sha256Hex(std::string_view data);

// `bytes` random bytes as URL-safe base64 without padding.
std::string RandomToken(size_t bytes = 24);

std::string Base64Encode(std::span<const uint8_t> data);  // standard alphabet, padded
// Strict (padded, canonical) decoding; kInvalidArgument on bad input. Its time
// depends on the data: for public data and ciphertext, not for secret keys.
StatusOr<Bytes> Base64Decode(std::string_view text);
std::string HexEncode(std::span<const uint8_t> data);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ektp::crypto
