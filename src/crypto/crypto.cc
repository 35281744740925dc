#include "crypto/crypto.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <iterator>

namespace ektp::crypto {
namespace {

void EnsureInitialized() {
  static const bool initialized = [] {
    if (sodium_init() < 0) std::abort();  // no entropy source: nothing here can work
    return true;
  }();
  (void)initialized;
}

// File format: one line "ektp-<kind>-v1 <base64 secret key>\n".
Status WriteSecret(const std::string& path, std::string_view kind, const Bytes& secret) {
  std::string contents = "ektp-" + std::string(kind) + "-v1 " + Base64Encode(secret) + "\n";
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cannot write key file " + temp);
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(contents.data(), contents.size());
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Unavailable("cannot write key file " + path);
  }
  return Status::Ok();
}

// Base64Decode for secrets: libsodium's decoder takes the same time whatever
// the secret's bytes are.
StatusOr<Bytes> DecodeSecretBase64(std::string_view text) {
  Bytes out(text.size() * 3 / 4 + 3);
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgument("not valid base64");
  }
  out.resize(length);
  return out;
}

StatusOr<Bytes> ReadSecret(const std::string& path, std::string_view kind, size_t size) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return NotFound("key file " + path + " does not exist");
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o", info.st_mode & 0777);
    return PermissionDenied("key file " + path + " is readable by others (mode " + mode + "); run chmod 600 " + path);
  }
  std::ifstream in(path);
  std::string header, encoded;
  in >> header >> encoded;
  std::string expected = "ektp-" + std::string(kind) + "-v1";
  if (header != expected) return DataLoss("key file " + path + " is not an " + expected + " key");
  auto secret = DecodeSecretBase64(encoded);
  if (!secret.ok() || secret->size() != size) return DataLoss("key file " + path + " is corrupt");
  return secret;
}

}  // namespace

SigningKey SigningKey::Generate() {
  EnsureInitialized();
  SigningKey key;
  key.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(key.public_key_.data(), key.secret_key_.data());
  return key;
}

SigningKey SigningKey::FromSeed(std::span<const uint8_t> seed) {
  EnsureInitialized();
  std::array<uint8_t, crypto_sign_SEEDBYTES> fixed{};
  std::copy_n(seed.begin(), std::min(seed.size(), fixed.size()), fixed.begin());
  SigningKey key;
  key.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_key_.data(), fixed.data());
  return key;
}

StatusOr<SigningKey> SigningKey::Load(const std::string& path) {
  EnsureInitialized();
  SigningKey key;
  ASSIGN_OR_RETURN(key.secret_key_, ReadSecret(path, "ed25519", crypto_sign_SECRETKEYBYTES));
  key.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_ed25519_sk_to_pk(key.public_key_.data(), key.secret_key_.data());
  return key;
}

Status SigningKey::Save(const std::string& path) const { return WriteSecret(path, "ed25519", secret_key_); }

Bytes SigningKey::Sign(std::span<const uint8_t> message) const {
  Bytes signature(crypto_sign_BYTES);
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_key_.data());
  return signature;
}

Bytes SigningKey::Sign(std::string_view message) const { return Sign(AsBytes(message)); }

Status Verify(std::span<const uint8_t> public_key, std::span<const uint8_t> message,
              std::span<const uint8_t> signature) {
  EnsureInitialized();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return Unauthenticated("public key has the wrong size");
  if (signature.size() != crypto_sign_BYTES) return Unauthenticated("signature has the wrong size");
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key.data()) != 0) {
    return Unauthenticated("signature does not verify");
  }
  return Status::Ok();
}

Status Verify(std::span<const uint8_t> public_key, std::string_view message, std::span<const uint8_t> signature) {
  return Verify(public_key, AsBytes(message), signature);
}

SealingKey SealingKey::Generate() {
  EnsureInitialized();
  SealingKey key;
  key.public_key_.resize(crypto_box_PUBLICKEYBYTES);
  key.secret_key_.resize(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(key.public_key_.data(), key.secret_key_.data());
  return key;
}

StatusOr<SealingKey> SealingKey::Load(const std::string& path) {
  EnsureInitialized();
  SealingKey key;
  ASSIGN_OR_RETURN(key.secret_key_, ReadSecret(path, "x25519", crypto_box_SECRETKEYBYTES));
  key.public_key_.resize(crypto_box_PUBLICKEYBYTES);
  crypto_scalarmult_base(key.public_key_.data(), key.secret_key_.data());
  return key;
}

Status SealingKey::Save(const std::string& path) const { return WriteSecret(path, "x25519", secret_key_); }

StatusOr<Bytes> SealingKey::Open(std::span<const uint8_t> sealed) const {
  if (sealed.size() < crypto_box_SEALBYTES) return Unauthenticated("sealed box is too short");
  Bytes plain(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(plain.data(), sealed.data(), sealed.size(), public_key_.data(), secret_key_.data()) != 0) {
    return Unauthenticated("sealed box does not open with this key (wrong key or altered)");
  }
  return plain;
}

Bytes Seal(std::span<const uint8_t> public_key, std::span<const uint8_t> plaintext) {
  EnsureInitialized();
  Bytes sealed(plaintext.size() + crypto_box_SEALBYTES);
  crypto_box_seal(sealed.data(), plaintext.data(), plaintext.size(), public_key.data());
  return sealed;
}

namespace {

constexpr std::string_view kStreamMagic = "eks1";
constexpr size_t kStreamChunk = 64 * 1024;
static_assert(sizeof(crypto_secretstream_xchacha20poly1305_state) <= 52);

crypto_secretstream_xchacha20poly1305_state* StreamState(std::array<uint8_t, 52>& bytes) {
  return reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(bytes.data());
}

}  // namespace

SealedStreamWriter::SealedStreamWriter(std::span<const uint8_t> public_key, std::ostream& out) : out_(out) {
  EnsureInitialized();
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key;
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header;
  crypto_secretstream_xchacha20poly1305_init_push(StreamState(state_), header.data(), key.data());
  Bytes sealed_key = Seal(public_key, key);
  sodium_memzero(key.data(), key.size());
  out_.write(kStreamMagic.data(), kStreamMagic.size());
  out_.write(reinterpret_cast<const char*>(sealed_key.data()), static_cast<std::streamsize>(sealed_key.size()));
  out_.write(reinterpret_cast<const char*>(header.data()), header.size());
}

Status SealedStreamWriter::Write(std::span<const uint8_t> data) {
  if (finished_) return FailedPrecondition("the sealed stream is finished");
  while (!data.empty()) {
    size_t take = std::min(data.size(), kStreamChunk - buffer_.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    if (buffer_.size() == kStreamChunk) RETURN_IF_ERROR(Flush(false));
  }
  return Status::Ok();
}

Status SealedStreamWriter::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  RETURN_IF_ERROR(Flush(true));
  out_.flush();
  return out_ ? Status::Ok() : Unavailable("cannot write the sealed stream");
}

Status SealedStreamWriter::Flush(bool final) {
  Bytes cipher(buffer_.size() + crypto_secretstream_xchacha20poly1305_ABYTES);
  crypto_secretstream_xchacha20poly1305_push(StreamState(state_), cipher.data(), nullptr, buffer_.data(),
                                             buffer_.size(), nullptr, 0,
                                             final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
  sodium_memzero(buffer_.data(), buffer_.size());
  buffer_.clear();
  const uint32_t size = static_cast<uint32_t>(cipher.size());
  const uint8_t length[4] = {static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8),
                             static_cast<uint8_t>(size >> 16), static_cast<uint8_t>(size >> 24)};
  out_.write(reinterpret_cast<const char*>(length), 4);
  out_.write(reinterpret_cast<const char*>(cipher.data()), static_cast<std::streamsize>(cipher.size()));
  return out_ ? Status::Ok() : Unavailable("cannot write the sealed stream");
}

StatusOr<SealedStreamReader> SealedStreamReader::Open(const SealingKey& key, std::istream& in) {
  EnsureInitialized();
  std::array<char, 4> magic{};
  Bytes sealed_key(crypto_secretstream_xchacha20poly1305_KEYBYTES + crypto_box_SEALBYTES);
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header;
  in.read(magic.data(), magic.size());
  in.read(reinterpret_cast<char*>(sealed_key.data()), static_cast<std::streamsize>(sealed_key.size()));
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  if (!in || std::string_view(magic.data(), magic.size()) != kStreamMagic) {
    return DataLoss("not a sealed stream (no \"eks1\" header)");
  }
  ASSIGN_OR_RETURN(Bytes stream_key, key.Open(sealed_key));
  SealedStreamReader reader(in);
  const int initialised =
      crypto_secretstream_xchacha20poly1305_init_pull(StreamState(reader.state_), header.data(), stream_key.data());
  sodium_memzero(stream_key.data(), stream_key.size());
  if (initialised != 0) return DataLoss("the sealed stream's header is damaged");
  return reader;
}

Status SealedStreamReader::NextChunk() {
  if (final_) return DataLoss("the sealed stream ends here");
  uint8_t length[4];
  in_->read(reinterpret_cast<char*>(length), 4);
  if (!*in_) return DataLoss("the sealed stream is truncated");
  const size_t size = length[0] | (length[1] << 8) | (length[2] << 16) | (static_cast<size_t>(length[3]) << 24);
  if (size < crypto_secretstream_xchacha20poly1305_ABYTES ||
      size > kStreamChunk + crypto_secretstream_xchacha20poly1305_ABYTES) {
    return DataLoss("the sealed stream has a damaged chunk length");
  }
  Bytes cipher(size);
  in_->read(reinterpret_cast<char*>(cipher.data()), static_cast<std::streamsize>(size));
  if (!*in_) return DataLoss("the sealed stream is truncated");
  buffer_.assign(size - crypto_secretstream_xchacha20poly1305_ABYTES, 0);
  position_ = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(StreamState(state_), buffer_.data(), nullptr, &tag, cipher.data(),
                                                 cipher.size(), nullptr, 0) != 0) {
    return DataLoss("the sealed stream was altered");
  }
  final_ = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return Status::Ok();
}

Status SealedStreamReader::Read(std::span<uint8_t> out) {
  while (!out.empty()) {
    if (position_ == buffer_.size()) RETURN_IF_ERROR(NextChunk());
    size_t take = std::min(out.size(), buffer_.size() - position_);
    std::copy_n(buffer_.begin() + static_cast<std::ptrdiff_t>(position_), take, out.begin());
    position_ += take;
    out = out.subspan(take);
  }
  return Status::Ok();
}

Status SealedStreamReader::ExpectEnd() {
  while (!final_ && position_ == buffer_.size()) RETURN_IF_ERROR(NextChunk());
  if (!final_ || position_ != buffer_.size()) return DataLoss("the sealed stream holds more than expected");
  if (in_->peek() != std::char_traits<char>::eof()) return DataLoss("data follows the sealed stream's end");
  return Status::Ok();
}

namespace {

constexpr std::string_view kDataMagic = "ekd1";
constexpr size_t kDataIdSize = 8;
constexpr size_t kDataHeaderSize = 4 + kDataIdSize + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

std::array<uint8_t, kDataIdSize> DataKeyId(const Bytes& key) {
  static constexpr std::string_view kDomain = "ektp data key id";
  std::array<uint8_t, kDataIdSize> id{};
  crypto_generichash(id.data(), id.size(), reinterpret_cast<const uint8_t*>(kDomain.data()), kDomain.size(),
                     key.data(), key.size());
  return id;
}

}  // namespace

DataKey DataKey::Generate() {
  EnsureInitialized();
  DataKey key;
  key.key_.resize(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.key_.data());
  key.id_ = DataKeyId(key.key_);
  return key;
}

StatusOr<DataKey> DataKey::Load(const std::string& path) {
  EnsureInitialized();
  DataKey key;
  ASSIGN_OR_RETURN(key.key_, ReadSecret(path, "xchacha20poly1305", crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  key.id_ = DataKeyId(key.key_);
  return key;
}

Status DataKey::Save(const std::string& path) const {
  if (key_.empty()) return FailedPrecondition("no data key to save");
  return WriteSecret(path, "xchacha20poly1305", key_);
}

std::string DataKey::id() const { return key_.empty() ? "" : HexEncode(id_); }

StatusOr<Bytes> DataKey::Encrypt(std::span<const uint8_t> plaintext, std::string_view associated) const {
  if (key_.empty()) return FailedPrecondition("no data key is loaded");
  Bytes out(kDataHeaderSize + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  std::copy(kDataMagic.begin(), kDataMagic.end(), out.begin());
  std::copy(id_.begin(), id_.end(), out.begin() + kDataMagic.size());
  uint8_t* nonce = out.data() + kDataMagic.size() + kDataIdSize;
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kDataHeaderSize, &written, plaintext.data(),
                                             plaintext.size(), AsBytes(associated).data(), associated.size(), nullptr,
                                             nonce, key_.data());
  out.resize(kDataHeaderSize + written);
  return out;
}

StatusOr<Bytes> DataKey::Decrypt(std::span<const uint8_t> ciphertext, std::string_view associated) const {
  if (key_.empty()) return FailedPrecondition("no data key is loaded");
  if (ciphertext.size() < kDataHeaderSize + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
      !std::equal(kDataMagic.begin(), kDataMagic.end(), ciphertext.begin())) {
    return DataLoss("not data encrypted with an ektp data key");
  }
  auto id = ciphertext.subspan(kDataMagic.size(), kDataIdSize);
  if (!std::equal(id.begin(), id.end(), id_.begin())) {
    return FailedPrecondition("encrypted with data key " + HexEncode(id) + ", but the loaded key is " + this->id());
  }
  const uint8_t* nonce = ciphertext.data() + kDataMagic.size() + kDataIdSize;
  auto sealed = ciphertext.subspan(kDataHeaderSize);
  Bytes plain(sealed.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &written, nullptr, sealed.data(), sealed.size(),
                                                 AsBytes(associated).data(), associated.size(), nonce,
                                                 key_.data()) != 0) {
    return DataLoss("encrypted data does not authenticate: altered, or stored for another row");
  }
  plain.resize(written);
  return plain;
}

StatusOr<std::string> HashPassword(std::string_view password, PasswordStrength strength) {
  EnsureInitialized();
  char hash[crypto_pwhash_STRBYTES];
  unsigned long long ops = strength == PasswordStrength::kFast ? crypto_pwhash_argon2id_OPSLIMIT_MIN
                                                               : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
  size_t mem = strength == PasswordStrength::kFast ? crypto_pwhash_argon2id_MEMLIMIT_MIN
                                                   : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_argon2id_str(hash, password.data(), password.size(), ops, mem) != 0) {
    return ResourceExhausted("not enough memory to hash the password");
  }
  return std::string(hash);
}

Status VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureInitialized();
  std::string terminated(hash);
  if (crypto_pwhash_argon2id_str_verify(terminated.c_str(), password.data(), password.size()) != 0) {
    return Unauthenticated("wrong password");
  }
  return Status::Ok();
}

std::array<uint8_t, 32> Sha256(std::span<const uint8_t> data) {
  std::array<uint8_t, 32> digest;
  ::SHA256(data.data(), data.size(), digest.data());  // OpenSSL's uses the CPU's SHA extensions where present
  return digest;
}

std::string Sha256Hex(std::span<const uint8_t> data) { return HexEncode(Sha256(data)); }
std::string Sha256Hex(std::string_view data) { return Sha256Hex(AsBytes(data)); }

std::string RandomToken(size_t bytes) {
  EnsureInitialized();
  Bytes raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string Base64Encode(std::span<const uint8_t> data) {
  std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

StatusOr<Bytes> Base64Decode(std::string_view text) {
  // 0..63 for the alphabet, kInvalid otherwise.
  static constexpr uint8_t kInvalid = 0xff;
  static constexpr auto kValues = [] {
    std::array<uint8_t, 256> values{};
    values.fill(kInvalid);
    constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < kAlphabet.size(); ++i) values[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
    return values;
  }();
  auto invalid = [] { return InvalidArgument("not valid base64"); };
  if (text.size() % 4 != 0) return invalid();
  size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  Bytes out(text.size() / 4 * 3 - padding);
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  size_t full_quads = (text.size() - (padding > 0 ? 4 : 0)) / 4;
  uint8_t* o = out.data();
  for (size_t q = 0; q < full_quads; ++q, in += 4, o += 3) {
    uint32_t a = kValues[in[0]], b = kValues[in[1]], c = kValues[in[2]], d = kValues[in[3]];
    if (((a | b | c | d) & 0xc0) != 0) return invalid();
    uint32_t bits = a << 18 | b << 12 | c << 6 | d;
    o[0] = static_cast<uint8_t>(bits >> 16);
    o[1] = static_cast<uint8_t>(bits >> 8);
    o[2] = static_cast<uint8_t>(bits);
  }
  if (padding > 0) {  // the last quad: "xx==" (1 byte) or "xxx=" (2 bytes); unused bits must be zero
    uint32_t a = kValues[in[0]], b = kValues[in[1]], c = padding == 1 ? kValues[in[2]] : 0;
    if (((a | b | c) & 0xc0) != 0) return invalid();
    uint32_t bits = a << 18 | b << 12 | c << 6;
    if ((padding == 2 ? bits & 0xffff : bits & 0xff) != 0) return invalid();
    o[0] = static_cast<uint8_t>(bits >> 16);
    if (padding == 1) o[1] = static_cast<uint8_t>(bits >> 8);
  }
  return out;
}

std::string HexEncode(std::span<const uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

}  // namespace ektp::crypto
