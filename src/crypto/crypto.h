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
