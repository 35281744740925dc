#include "crypto/crypto.h"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "core/status_matchers.h"
#include "store/testing.h"

namespace ektp::crypto {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CryptoTest, SignAndVerify) {
  SigningKey key = SigningKey::Generate();
  Bytes signature = key.Sign("packet 1");
  EXPECT_OK(Verify(key.public_key(), "packet 1", signature));
  EXPECT_THAT(Verify(key.public_key(), "packet 2", signature),
              StatusIs(StatusCode::kUnauthenticated, "signature does not verify"));
  SigningKey other = SigningKey::Generate();
  EXPECT_THAT(Verify(other.public_key(), "packet 1", signature), StatusIs(StatusCode::kUnauthenticated, HasSubstr("verify")));
  EXPECT_THAT(Verify(key.public_key(), "packet 1", Bytes(10)), StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong size")));
}

TEST(CryptoTest, SeededKeysAreDeterministic) {
  Bytes seed(32, 7);
  EXPECT_EQ(SigningKey::FromSeed(seed).public_key(), SigningKey::FromSeed(seed).public_key());
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// RFC 8032 section 7.1, TEST 1 and TEST 2: the secret key is the 32-byte
// seed; the signature is deterministic, so it must match byte for byte.
TEST(CryptoTest, Ed25519MatchesRfc8032Vectors) {
  struct Vector {
    std::string_view secret, public_key, message, signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.public_key);
    SigningKey key = SigningKey::FromSeed(FromHex(v.secret));
    EXPECT_EQ(HexEncode(key.public_key()), v.public_key);
    Bytes message = FromHex(v.message);
    EXPECT_EQ(HexEncode(key.Sign(std::span<const uint8_t>(message))), v.signature);
    EXPECT_OK(Verify(FromHex(v.public_key), std::span<const uint8_t>(message), FromHex(v.signature)));
    message.push_back(0);
    EXPECT_THAT(Verify(FromHex(v.public_key), std::span<const uint8_t>(message), FromHex(v.signature)),
                StatusIs(StatusCode::kUnauthenticated, "signature does not verify"));
  }
}

TEST(CryptoTest, DataKeyEncryptsBoundToItsAssociatedData) {
  DataKey key = DataKey::Generate();
  EXPECT_EQ(key.id().size(), 16u);
  auto sealed = key.Encrypt(AsBytes("sidik jari"), "record 7");
  ASSERT_OK(sealed);
  EXPECT_EQ(std::string(sealed->begin(), sealed->begin() + 4), "ekd1");
  EXPECT_EQ(sealed->size(), 4 + 8 + 24 + 10 + 16u);
  auto opened = key.Decrypt(*sealed, "record 7");
  ASSERT_OK(opened);
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "sidik jari");
  // Two encryptions of the same data differ (random nonce).
  EXPECT_NE(*key.Encrypt(AsBytes("sidik jari"), "record 7"), *sealed);

  EXPECT_THAT(key.Decrypt(*sealed, "record 8"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("altered, or stored for another row")));
  Bytes altered = *sealed;
  altered.back() ^= 1;
  EXPECT_THAT(key.Decrypt(altered, "record 7"), StatusIs(StatusCode::kDataLoss, HasSubstr("does not authenticate")));
  DataKey other = DataKey::Generate();
  EXPECT_THAT(other.Decrypt(*sealed, "record 7"),
              StatusIs(StatusCode::kFailedPrecondition,
                       "encrypted with data key " + key.id() + ", but the loaded key is " + other.id()));
  EXPECT_THAT(key.Decrypt(AsBytes("{\"face\": \"...\"}"), "record 7"),
              StatusIs(StatusCode::kDataLoss, "not data encrypted with an ektp data key"));
  EXPECT_THAT(DataKey().Encrypt(AsBytes("x"), ""), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no data key")));
}

TEST(CryptoTest, SealedBoxOpensOnlyWithTheRightKey) {
  SealingKey central = SealingKey::Generate();
  Bytes sealed = Seal(central.public_key(), AsBytes("sidik jari"));
  auto opened = central.Open(sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "sidik jari");
  EXPECT_THAT(SealingKey::Generate().Open(sealed), StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not open")));
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_THAT(central.Open(sealed), StatusIs(StatusCode::kUnauthenticated, HasSubstr("altered")));
  EXPECT_THAT(central.Open(Bytes(5)), StatusIs(StatusCode::kUnauthenticated, HasSubstr("too short")));
}

TEST(CryptoTest, KeyFilesAreOwnerOnlyAndRoundTrip) {
  std::string dir = store::testing::MakeTempDir("ektp-crypto-");
  SigningKey key = SigningKey::Generate();
  ASSERT_OK(key.Save(dir + "/station.key"));
  struct stat info {};
  ASSERT_EQ(stat((dir + "/station.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = SigningKey::Load(dir + "/station.key");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_key(), key.public_key());

  SealingKey sealing = SealingKey::Generate();
  ASSERT_OK(sealing.Save(dir + "/seal.key"));
  auto sealing_loaded = SealingKey::Load(dir + "/seal.key");
  ASSERT_TRUE(sealing_loaded.ok());
  EXPECT_EQ(sealing_loaded->public_key(), sealing.public_key());
  EXPECT_THAT(SigningKey::Load(dir + "/seal.key"), StatusIs(StatusCode::kDataLoss, HasSubstr("not an ektp-ed25519-v1")));

  DataKey data = DataKey::Generate();
  ASSERT_OK(data.Save(dir + "/data.key"));
  ASSERT_EQ(stat((dir + "/data.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto data_loaded = DataKey::Load(dir + "/data.key");
  ASSERT_OK(data_loaded);
  EXPECT_EQ(data_loaded->id(), data.id());
  EXPECT_OK(data_loaded->Decrypt(*data.Encrypt(AsBytes("x"), "a"), "a"));
  EXPECT_THAT(DataKey::Load(dir + "/seal.key"), StatusIs(StatusCode::kDataLoss, HasSubstr("not an ektp-xchacha20poly1305-v1")));

  chmod((dir + "/station.key").c_str(), 0644);
  EXPECT_THAT(SigningKey::Load(dir + "/station.key"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("readable by others (mode 644)")));
  EXPECT_THAT(SigningKey::Load(dir + "/missing.key"), StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
  std::filesystem::remove_all(dir);
}

TEST(CryptoTest, PasswordHashIsArgon2id) {
  auto hash = HashPassword("rahasia-123", PasswordStrength::kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_OK(VerifyPassword(*hash, "rahasia-123"));
  EXPECT_THAT(VerifyPassword(*hash, "rahasia-124"), StatusIs(StatusCode::kUnauthenticated, "wrong password"));
}

TEST(CryptoTest, EncodingsAndHashes) {
  EXPECT_EQ(Sha256Hex(std::string_view("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Base64Encode(AsBytes("ektp")), "ZWt0cA==");
  EXPECT_EQ(*Base64Decode("ZWt0cA=="), Bytes({'e', 'k', 't', 'p'}));
  EXPECT_THAT(Base64Decode("!!"), StatusIs(StatusCode::kInvalidArgument, "not valid base64"));
  EXPECT_NE(RandomToken(), RandomToken());
  EXPECT_EQ(RandomToken(24).size(), 32u);
}

TEST(CryptoTest, Base64RoundTripsEveryLengthAndRefusesWhatIsNotCanonical) {
  Bytes data;
  for (int length = 0; length < 70; ++length) {
    auto back = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(back.ok()) << length << ": " << back.status().ToString();
    EXPECT_EQ(*back, data) << length;
    data.push_back(static_cast<uint8_t>(length * 37 + 11));
  }
  EXPECT_EQ(*Base64Decode("+/+/"), Bytes({0xfb, 0xff, 0xbf}));
  for (std::string_view bad : {"ZWt0cA=", "ZWt0cA", "ZWt0c===", "ZW=0cA==", "ZWt0cB==", "ZWt0cG1=", "ZWt0 A==", "====",
                               "ZWt0-A==", "ZWt0cA==\n"}) {
    EXPECT_THAT(Base64Decode(bad), StatusIs(StatusCode::kInvalidArgument, "not valid base64")) << bad;
  }
}


TEST(CryptoTest, SealedStreamRoundTripsAndRefusesWrongKeyTruncationAndAlteration) {
  SealingKey admin = SealingKey::Generate();
  Bytes data(200'000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  std::ostringstream out;
  SealedStreamWriter writer(admin.public_key(), out);
  ASSERT_OK(writer.Write(std::span(data).first(1000)));
  ASSERT_OK(writer.Write(std::span(data).subspan(1000)));
  ASSERT_OK(writer.Finish());
  const std::string sealed = out.str();
  EXPECT_EQ(sealed.find(std::string(data.begin(), data.begin() + 64)), std::string::npos);

  std::istringstream in(sealed);
  auto reader = SealedStreamReader::Open(admin, in);
  ASSERT_OK(reader.status());
  Bytes read(data.size());
  ASSERT_OK(reader->Read(read));
  EXPECT_EQ(read, data);
  ASSERT_OK(reader->ExpectEnd());

  std::istringstream other(sealed);
  EXPECT_THAT(SealedStreamReader::Open(SealingKey::Generate(), other).status(),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not open with this key")));

  // Cut after the first chunk: the data read so far is authentic, the end is missing.
  std::istringstream cut(sealed.substr(0, sealed.size() - 5000));
  auto truncated = SealedStreamReader::Open(admin, cut);
  ASSERT_OK(truncated.status());
  EXPECT_THAT(truncated->Read(read), StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));

  std::string altered = sealed;
  altered[altered.size() / 2] ^= 1;
  std::istringstream changed(altered);
  auto tampered = SealedStreamReader::Open(admin, changed);
  ASSERT_OK(tampered.status());
  EXPECT_THAT(tampered->Read(read), StatusIs(StatusCode::kDataLoss, HasSubstr("altered")));

  std::istringstream longer(sealed + "x");
  auto extra = SealedStreamReader::Open(admin, longer);
  ASSERT_OK(extra.status());
  ASSERT_OK(extra->Read(read));
  EXPECT_THAT(extra->ExpectEnd(), StatusIs(StatusCode::kDataLoss, HasSubstr("data follows")));
}

}  // namespace
}  // namespace ektp::crypto
