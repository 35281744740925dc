#include "crypto/crypto.h"

#include <sys/stat.h>

#include <filesystem>

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

}  // namespace
}  // namespace ektp::crypto
