#include "suket/suket.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"
#include "core/testing.h"
#include "suket/cbor_util.h"

#include <qrencode.h>

namespace ektp::suket {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace cbor = internal;

// 2026-12-01 10:00 WIB.
const TimePoint kIssued = std::chrono::sys_days(std::chrono::year(2026) / 12 / 1) + 3h;

crypto::SigningKey KeyFromByte(uint8_t byte) { return crypto::SigningKey::FromSeed(crypto::Bytes(32, byte)); }

SuketData SampleData(std::string serial = "SKT-35.21.01-K01-000001", TimePoint issued_at = kIssued) {
  SuketData data;
  data.serial = std::move(serial);
  data.nik = "3521015708990001";
  data.registration_number = "35.21.01-K01-000042";
  data.name = "Sri Wahyuningsih";
  data.place_of_birth = "Ngawi";
  data.birth_date = std::chrono::year(1999) / 8 / 17;
  data.sex = Sex::kFemale;
  data.address = "Jl. Merdeka 10 RT 002/RW 005, Karangjati, Sine";
  data.regency_code = "35.21";
  data.station_id = "35.21.01-K01";
  data.issued_at = issued_at;
  data.valid_until = DefaultValidUntil(issued_at);
  data.photo_sha256 = crypto::Sha256(crypto::AsBytes("photo"));
  return data;
}

// Builds a token from its parts, as an attacker or a broken issuer could.
// With `certificate`, the station certificate travels in the unprotected
// header (private label -70001), to measure that alternative.
std::string Assemble(const Bytes& protected_header, const Bytes& payload, const Bytes& signature, bool tagged = true,
                     const Bytes& certificate = {}) {
  std::vector<cbor::Item> parts;
  parts.push_back(cbor::ByteString(protected_header));
  std::vector<std::pair<cbor::Item, cbor::Item>> unprotected;
  if (!certificate.empty()) unprotected.emplace_back(cbor::Int(-70001), cbor::ByteString(certificate));
  parts.push_back(cbor::Map(std::move(unprotected)));
  parts.push_back(cbor::ByteString(payload));
  parts.push_back(cbor::ByteString(signature));
  cbor::Item array = cbor::Array(std::move(parts));
  const Bytes cose = cbor::Serialize(tagged ? cbor::Tagged(18, std::move(array)) : std::move(array));
  uLongf size = compressBound(cose.size());
  Bytes compressed(size);
  compress2(compressed.data(), &size, cose.data(), cose.size(), 9);
  compressed.resize(size);
  return std::string(kTokenPrefix) + Base45Encode(compressed);
}

Bytes Header(int64_t alg, const crypto::SigningKey& key) {
  std::vector<std::pair<cbor::Item, cbor::Item>> header;
  header.emplace_back(cbor::Int(1), cbor::Int(alg));
  header.emplace_back(cbor::Int(4), cbor::ByteString(KeyIdOf(key.public_key())));
  return cbor::Serialize(cbor::Map(std::move(header)));
}

// A token over `payload` correctly signed by `key`.
std::string SignPayload(const Bytes& payload, const crypto::SigningKey& key) {
  const Bytes header = Header(-8, key);
  std::vector<cbor::Item> sig_structure;
  sig_structure.push_back(cbor::Text("Signature1"));
  sig_structure.push_back(cbor::ByteString(header));
  sig_structure.push_back(cbor::ByteString({}));
  sig_structure.push_back(cbor::ByteString(payload));
  return Assemble(header, payload, key.Sign(cbor::Serialize(cbor::Array(std::move(sig_structure)))));
}

class SuketTest : public ::testing::Test {
 protected:
  SuketTest() {
    bundle_.sequence = 7;
    bundle_.issued_at = kIssued - 24h;
    bundle_.central_keys.push_back(central_.public_key());
    bundle_.station_certificates.push_back(Certificate(station_, "35.21.01-K01", central_));
  }

  static Bytes Certificate(const crypto::SigningKey& station, const std::string& id, const crypto::SigningKey& signer,
                           TimePoint from = kIssued - 24h * 30, TimePoint until = kIssued + 24h * 365) {
    auto certificate = CertifyStation({id, station.public_key(), "35.21", from, until}, signer);
    EXPECT_OK(certificate);
    return *certificate;
  }

  std::string Issue(const SuketData& data) {
    auto token = IssueToken(data, station_);
    EXPECT_OK(token);
    return token.ok() ? *token : "";
  }

  VerifyResult Check(std::string_view token, TimePoint now = kIssued + 1h) {
    return Verify(token, bundle_, revocations_, now);
  }

  const crypto::SigningKey central_ = KeyFromByte(0xC1);
  const crypto::SigningKey station_ = KeyFromByte(0x51);
  TrustBundle bundle_;
  RevocationList revocations_;
};

MATCHER_P2(Concludes, outcome, reason, "") {
  *result_listener << "outcome " << OutcomeName(arg.outcome) << ", reason " << ReasonName(arg.reason) << ": "
                   << arg.message;
  return arg.outcome == outcome && arg.reason == reason && !arg.message.empty() && !arg.pesan.empty();
}

TEST(Base45Test, Rfc9285Vectors) {
  EXPECT_EQ(Base45Encode(crypto::AsBytes("AB")), "BB8");
  EXPECT_EQ(Base45Encode(crypto::AsBytes("Hello!!")), "%69 VD92EX0");
  EXPECT_EQ(Base45Encode(crypto::AsBytes("base-45")), "UJCLQE7W581");
  auto decoded = Base45Decode("QED8WEX0");
  ASSERT_OK(decoded);
  EXPECT_EQ(std::string(decoded->begin(), decoded->end()), "ietf!");
}

TEST(Base45Test, RefusesWhatIsNotBase45) {
  EXPECT_THAT(Base45Decode("GGW"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));  // 65536+
  EXPECT_THAT(Base45Decode("ABCD"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a Base45 length")));
  EXPECT_THAT(Base45Decode("ab"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("character 0")));
}

TEST(ValidityTest, SixCalendarMonthsInWib) {
  // 2026-12-01 10:00 WIB -> 2027-06-01 10:00 WIB.
  EXPECT_EQ(DefaultValidUntil(kIssued), std::chrono::sys_days(std::chrono::year(2027) / 6 / 1) + 3h);
  // 2026-08-31 23:30 WIB (16:30 UTC) -> 2027-02-28 23:30 WIB: the month's last day.
  const TimePoint august = std::chrono::sys_days(std::chrono::year(2026) / 8 / 31) + 16h + 30min;
  EXPECT_EQ(DefaultValidUntil(august), std::chrono::sys_days(std::chrono::year(2027) / 2 / 28) + 16h + 30min);
}

TEST_F(SuketTest, RoundTripVerifiesWithEveryField) {
  const SuketData data = SampleData();
  const std::string token = Issue(data);
  EXPECT_TRUE(token.starts_with("KTP1:"));
  EXPECT_EQ(token.find_first_not_of("KTP1:0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./"), std::string::npos);
  const VerifyResult result = Check(token);
  ASSERT_THAT(result, Concludes(Outcome::kValid, Reason::kNone));
  EXPECT_THAT(result.message, HasSubstr("SKT-35.21.01-K01-000001 is valid until 2027-06-01T03:00:00Z"));
  EXPECT_EQ(result.pesan, "Suket ASLI dan masih berlaku.");
  ASSERT_TRUE(result.data.has_value());
  const SuketData& got = *result.data;
  EXPECT_EQ(got.serial, data.serial);
  EXPECT_EQ(got.nik, data.nik);
  EXPECT_EQ(got.registration_number, data.registration_number);
  EXPECT_EQ(got.name, data.name);
  EXPECT_EQ(got.place_of_birth, data.place_of_birth);
  EXPECT_EQ(got.birth_date, data.birth_date);
  EXPECT_EQ(got.sex, data.sex);
  EXPECT_EQ(got.address, data.address);
  EXPECT_EQ(got.regency_code, data.regency_code);
  EXPECT_EQ(got.station_id, data.station_id);
  EXPECT_EQ(got.issued_at, data.issued_at);
  EXPECT_EQ(got.valid_until, data.valid_until);
  EXPECT_EQ(got.photo_sha256, data.photo_sha256);
}

TEST_F(SuketTest, SuketWithoutNikYetCarriesTheRegistrationNumber) {
  SuketData data = SampleData();
  data.nik.clear();
  const VerifyResult result = Check(Issue(data));
  ASSERT_THAT(result, Concludes(Outcome::kValid, Reason::kNone));
  EXPECT_EQ(result.data->nik, "");
  EXPECT_EQ(result.data->registration_number, "35.21.01-K01-000042");
}

TEST_F(SuketTest, IssueRefusesIncompleteData) {
  const std::pair<void (*)(SuketData&), const char*> cases[] = {
      {[](SuketData& d) { d.name.clear(); }, "name: is empty"},
      {[](SuketData& d) { d.valid_until = d.issued_at; }, "valid_until: not after issued_at"},
      {[](SuketData& d) { d.address = std::string(201, 'x'); }, "address: longer than 200 bytes"},
  };
  for (const auto& [spoil, error] : cases) {
    SuketData data = SampleData();
    spoil(data);
    EXPECT_THAT(IssueToken(data, station_), StatusIs(StatusCode::kInvalidArgument, HasSubstr(error)));
  }
}

TEST_F(SuketTest, ExpiresExactlyAtValidUntil) {
  const SuketData data = SampleData();
  const std::string token = Issue(data);
  EXPECT_THAT(Check(token, data.valid_until - 1s), Concludes(Outcome::kValid, Reason::kNone));
  const VerifyResult expired = Check(token, data.valid_until);
  EXPECT_THAT(expired, Concludes(Outcome::kExpired, Reason::kExpired));
  EXPECT_THAT(expired.message, HasSubstr("expired at 2027-06-01T03:00:00Z"));
  EXPECT_TRUE(expired.data.has_value());
}

TEST_F(SuketTest, WhatIsNotASuketIsNamed) {
  EXPECT_THAT(Check("https://example.com/"), Concludes(Outcome::kNotGenuine, Reason::kWrongPrefix));
  EXPECT_THAT(Check("HC1:6BFOXN%TS3DH0YOJ58S"), Concludes(Outcome::kNotGenuine, Reason::kWrongPrefix));
  EXPECT_THAT(Check("KTP1:abc"), Concludes(Outcome::kNotGenuine, Reason::kNotBase45));
  EXPECT_THAT(Check("KTP1:" + Base45Encode(crypto::AsBytes("not compressed"))),
              Concludes(Outcome::kNotGenuine, Reason::kNotZlib));

  const SuketData data = SampleData();
  const auto decoded = DecodeToken(Issue(data));
  ASSERT_OK(decoded);
  // The parts in an untagged array, and compressed bytes that are not CBOR.
  const VerifyResult untagged = Check(Assemble(decoded->protected_header, decoded->payload, decoded->signature, false));
  EXPECT_THAT(untagged, Concludes(Outcome::kNotGenuine, Reason::kNotCoseSign1));
  EXPECT_THAT(untagged.message, HasSubstr("not CBOR tag 18"));
  uLongf size = 64;
  Bytes compressed(size);
  compress2(compressed.data(), &size, reinterpret_cast<const Bytef*>("\xff\xff"), 2, 9);
  compressed.resize(size);
  EXPECT_THAT(Check("KTP1:" + Base45Encode(compressed)), Concludes(Outcome::kNotGenuine, Reason::kNotCoseSign1));
}

TEST(CborTest, RefusesDeclaredSizesTheBytesCannotHold) {
  // An array header declaring 2^32 items, in 9 bytes: libcbor would allocate them first.
  const Bytes huge_array = {0x9B, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_THAT(cbor::Parse(huge_array, "claims"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("claims: not CBOR (more items than bytes at byte 0)")));
  const Bytes long_string = {0x82, 0x01, 0x5A, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_THAT(cbor::Parse(long_string, "x"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("string longer than")));
  EXPECT_THAT(cbor::Parse(Bytes(40, 0x81), "x"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("nesting too deep")));
  EXPECT_THAT(cbor::Parse(Bytes{0x9F, 0xFF}, "x"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("indefinite")));
  EXPECT_THAT(cbor::Parse(Bytes{0x01, 0x02}, "x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 bytes after the CBOR item")));
  EXPECT_OK(cbor::Parse(Bytes{0x82, 0x01, 0x41, 0x07}, "x"));
}

TEST_F(SuketTest, DecodeTokenNamesTheStage) {
  EXPECT_THAT(DecodeToken("KTP1:abc"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("token: not Base45")));
  auto decoded = DecodeToken(Issue(SampleData()));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->key_id, KeyIdOf(station_.public_key()));
  EXPECT_EQ(decoded->signature.size(), 64u);
}

TEST_F(SuketTest, OtherAlgorithmOrHeaderIsNotGenuine) {
  const auto decoded = DecodeToken(Issue(SampleData()));
  ASSERT_OK(decoded);
  const VerifyResult es256 = Check(Assemble(Header(-7, station_), decoded->payload, decoded->signature));
  EXPECT_THAT(es256, Concludes(Outcome::kNotGenuine, Reason::kUnsupportedAlgorithm));
  EXPECT_THAT(es256.message, HasSubstr("algorithm -7 is not EdDSA"));
  const Bytes no_kid = cbor::Serialize(cbor::Map([] {
    std::vector<std::pair<cbor::Item, cbor::Item>> header;
    header.emplace_back(cbor::Int(1), cbor::Int(-8));
    return header;
  }()));
  const VerifyResult missing = Check(Assemble(no_kid, decoded->payload, decoded->signature));
  EXPECT_THAT(missing, Concludes(Outcome::kNotGenuine, Reason::kBadProtectedHeader));
  EXPECT_THAT(missing.message, HasSubstr("kid (key 4) is missing"));
}

TEST_F(SuketTest, KeyOfAnUnknownStationIsNotGenuine) {
  auto token = IssueToken(SampleData(), KeyFromByte(0x52));
  ASSERT_OK(token);
  const VerifyResult result = Check(*token);
  EXPECT_THAT(result, Concludes(Outcome::kNotGenuine, Reason::kUnknownKeyId));
  EXPECT_THAT(result.message, HasSubstr("trust bundle (sequence 7)"));
  EXPECT_FALSE(result.data.has_value());
}

TEST_F(SuketTest, CertificateNotSignedByCentralIsNotGenuine) {
  bundle_.station_certificates = {Certificate(station_, "35.21.01-K01", KeyFromByte(0x99))};
  const VerifyResult result = Check(Issue(SampleData()));
  EXPECT_THAT(result, Concludes(Outcome::kNotGenuine, Reason::kCertificateNotFromCentral));
  EXPECT_THAT(result.message, HasSubstr("station certificate of 35.21.01-K01: not signed by central"));
}

TEST_F(SuketTest, EveryOneCharacterChangeOfTheTextIsNotGenuine) {
  const std::string token = Issue(SampleData());
  constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  int not_zlib = 0, not_base45 = 0;
  for (size_t position = kTokenPrefix.size(); position < token.size(); ++position) {
    std::string altered = token;
    altered[position] = kAlphabet[(kAlphabet.find(token[position]) + 1) % kAlphabet.size()];
    const VerifyResult result = Check(altered);
    ASSERT_EQ(result.outcome, Outcome::kNotGenuine) << "position " << position;
    ASSERT_FALSE(result.data.has_value());
    not_zlib += result.reason == Reason::kNotZlib;
    not_base45 += result.reason == Reason::kNotBase45;
  }
  // zlib's Adler-32 catches what Base45's range check lets through.
  EXPECT_EQ(not_zlib + not_base45, static_cast<int>(token.size() - kTokenPrefix.size()));
  EXPECT_GT(not_zlib, 0);
}

TEST_F(SuketTest, OneByteChangedInTheSignedPayloadIsNotGenuine) {
  const auto decoded = DecodeToken(Issue(SampleData()));
  ASSERT_OK(decoded);
  Bytes payload = decoded->payload;
  const std::string name = "Sri Wahyuningsih";
  auto at = std::search(payload.begin(), payload.end(), name.begin(), name.end());
  ASSERT_NE(at, payload.end());
  *at = 'T';  // "Tri Wahyuningsih"
  const VerifyResult result = Check(Assemble(decoded->protected_header, payload, decoded->signature));
  EXPECT_THAT(result, Concludes(Outcome::kNotGenuine, Reason::kBadSignature));
  EXPECT_THAT(result.message, HasSubstr("does not verify with station 35.21.01-K01's key"));
  Bytes signature = decoded->signature;
  signature[10] ^= 1;
  EXPECT_THAT(Check(Assemble(decoded->protected_header, decoded->payload, signature)),
              Concludes(Outcome::kNotGenuine, Reason::kBadSignature));
}

TEST_F(SuketTest, SignedButNotASuketsClaimsIsNotGenuine) {
  std::vector<std::pair<cbor::Item, cbor::Item>> claims;
  claims.emplace_back(cbor::Int(1), cbor::Text("35.21.01-K01"));
  const VerifyResult result = Check(SignPayload(cbor::Serialize(cbor::Map(std::move(claims))), station_));
  EXPECT_THAT(result, Concludes(Outcome::kNotGenuine, Reason::kBadClaims));
  EXPECT_THAT(result.message, HasSubstr("exp (key 4) is missing"));
}

TEST_F(SuketTest, ClaimsNamingAnotherStationAreNotGenuine) {
  SuketData data = SampleData();
  data.station_id = "35.21.02-K01";
  const VerifyResult result = Check(Issue(data));
  EXPECT_THAT(result, Concludes(Outcome::kNotGenuine, Reason::kStationMismatch));
  EXPECT_THAT(result.message, HasSubstr("certified for 35.21.01-K01"));
}

TEST_F(SuketTest, IssuedOutsideTheCertificateOrInTheFutureIsNotGenuine) {
  bundle_.station_certificates = {Certificate(station_, "35.21.01-K01", central_, kIssued + 1h, kIssued + 48h)};
  EXPECT_THAT(Check(Issue(SampleData()), kIssued + 2h),
              Concludes(Outcome::kNotGenuine, Reason::kCertificateNotValidAtIssue));
  EXPECT_THAT(Check(Issue(SampleData("S-2", kIssued + 48h)), kIssued + 50h),
              Concludes(Outcome::kNotGenuine, Reason::kCertificateNotValidAtIssue));
  EXPECT_THAT(Check(Issue(SampleData("S-3", kIssued + 2h)), kIssued + 1h),
              Concludes(Outcome::kNotGenuine, Reason::kIssuedInFuture));
  EXPECT_THAT(Check(Issue(SampleData("S-4", kIssued + 2h)), kIssued + 2h - 5min),
              Concludes(Outcome::kValid, Reason::kNone));
}

TEST_F(SuketTest, RevokedSuketIsRevoked) {
  const std::string token = Issue(SampleData("SKT-A"));
  revocations_.revoked_serials = {"SKT-B", "SKT-A"};
  const VerifyResult result = Check(token);
  EXPECT_THAT(result, Concludes(Outcome::kRevoked, Reason::kSuketRevoked));
  EXPECT_THAT(result.message, HasSubstr("Suket SKT-A is revoked"));
  EXPECT_THAT(Check(Issue(SampleData("SKT-C"))), Concludes(Outcome::kValid, Reason::kNone));
}

TEST_F(SuketTest, RevokedStationsLaterSuketsFailWhileEarlierOnesVerify) {
  const TimePoint revoked_from = kIssued + 24h;
  revocations_.revoked_stations = {{"35.21.01-K01", revoked_from}};
  const TimePoint now = kIssued + 72h;
  EXPECT_THAT(Check(Issue(SampleData("EARLIER", revoked_from - 1s)), now), Concludes(Outcome::kValid, Reason::kNone));
  EXPECT_THAT(Check(Issue(SampleData("AT", revoked_from)), now), Concludes(Outcome::kRevoked, Reason::kStationRevoked));
  const VerifyResult later = Check(Issue(SampleData("LATER", revoked_from + 1h)), now);
  EXPECT_THAT(later, Concludes(Outcome::kRevoked, Reason::kStationRevoked));
  EXPECT_THAT(later.message, HasSubstr("station 35.21.01-K01 is revoked from 2026-12-02T03:00:00Z"));
}

TEST_F(SuketTest, TrustBundleRoundTripAndWrongSignatures) {
  auto encoded = EncodeTrustBundle(bundle_, central_);
  ASSERT_OK(encoded);
  auto decoded = DecodeTrustBundle(*encoded, central_.public_key());
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->sequence, 7u);
  EXPECT_EQ(decoded->issued_at, bundle_.issued_at);
  EXPECT_EQ(decoded->central_keys, bundle_.central_keys);
  EXPECT_EQ(decoded->station_certificates, bundle_.station_certificates);

  Bytes altered = *encoded;
  altered[altered.size() - 5] ^= 1;  // inside the signature
  EXPECT_THAT(DecodeTrustBundle(altered),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("trust bundle: signature does not verify")));
  EXPECT_THAT(DecodeTrustBundle(*encoded, KeyFromByte(0x99).public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("not the pinned central key")));
  EXPECT_THAT(EncodeTrustBundle(bundle_, KeyFromByte(0x99)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not among its central keys")));
  EXPECT_THAT(DecodeTrustBundle(crypto::AsBytes("nonsense")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("trust bundle: not CBOR")));
}

TEST_F(SuketTest, RevocationListRoundTripAndWrongSignature) {
  revocations_ = {3, kIssued, {"SKT-A"}, {{"35.21.01-K01", kIssued + 24h}}};
  auto encoded = EncodeRevocationList(revocations_, central_);
  ASSERT_OK(encoded);
  auto decoded = DecodeRevocationList(*encoded, bundle_);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->sequence, 3u);
  EXPECT_EQ(decoded->issued_at, kIssued);
  EXPECT_EQ(decoded->revoked_serials, std::vector<std::string>{"SKT-A"});
  ASSERT_EQ(decoded->revoked_stations.size(), 1u);
  EXPECT_EQ(decoded->revoked_stations[0].station_id, "35.21.01-K01");
  EXPECT_EQ(decoded->revoked_stations[0].revoked_from, kIssued + 24h);

  auto forged = EncodeRevocationList({4, kIssued, {}, {}}, KeyFromByte(0x99));
  ASSERT_OK(forged);
  EXPECT_THAT(DecodeRevocationList(*forged, bundle_),
              StatusIs(StatusCode::kUnauthenticated,
                       HasSubstr("revocation list: signature does not verify with any central key")));
  // A trust bundle passed off as a revocation list.
  auto bundle = EncodeTrustBundle(bundle_, central_);
  ASSERT_OK(bundle);
  EXPECT_THAT(DecodeRevocationList(*bundle, bundle_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("revocation list: this is a trust bundle")));
}

TEST_F(SuketTest, StationCertificateChecks) {
  const Bytes certificate = Certificate(station_, "35.21.01-K01", central_);
  auto verified = VerifyStationCertificate(certificate, bundle_.central_keys);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->certificate.station_id, "35.21.01-K01");
  EXPECT_EQ(verified->certificate.public_key, station_.public_key());
  EXPECT_EQ(verified->certificate.regency_code, "35.21");
  EXPECT_THAT(VerifyStationCertificate(Certificate(station_, "35.21.01-K01", KeyFromByte(0x99)), bundle_.central_keys),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("not signed by central")));
  EXPECT_THAT(CertifyStation({"x", Bytes(31, 0), "35.21", kIssued, kIssued + 1h}, central_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a 32-byte Ed25519 key")));
  EXPECT_THAT(CertifyStation({"x", station_.public_key(), "35.21", kIssued, kIssued}, central_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("valid_until is not after valid_from")));
}

TEST_F(SuketTest, CentralPublishingBuildsABundleThatVerifiesItsStations) {
  const crypto::SigningKey other = KeyFromByte(0x52);
  const StationToCertify stations[] = {{"35.21.01-K01", station_.public_key(), "35.21"},
                                       {"35.21.02-K01", other.public_key(), "35.21"}};
  auto encoded = BuildTrustBundle(central_, stations, 9, kIssued - 1h, std::chrono::seconds(24h * 365));
  ASSERT_OK(encoded);
  auto bundle = DecodeTrustBundle(*encoded, central_.public_key());
  ASSERT_OK(bundle);
  EXPECT_EQ(bundle->sequence, 9u);
  ASSERT_EQ(bundle->station_certificates.size(), 2u);
  SuketData data = SampleData();
  data.station_id = "35.21.02-K01";
  auto token = IssueToken(data, other);
  ASSERT_OK(token);
  EXPECT_THAT(Verify(*token, *bundle, {}, kIssued + 1h), Concludes(Outcome::kValid, Reason::kNone));
  const StationToCertify bad[] = {{"35.21.03-K01", Bytes(5, 0), "35.21"}};
  EXPECT_THAT(BuildTrustBundle(central_, bad, 10, kIssued, std::chrono::seconds(24h)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("station 35.21.03-K01: station certificate")));
}

int QrVersion(const std::string& token) {
  QRcode* qr = QRcode_encodeString(token.c_str(), 0, QR_ECLEVEL_Q, QR_MODE_8, 1);
  const int version = qr == nullptr ? 0 : qr->version;
  QRcode_free(qr);
  return version;
}

// The figures of docs/suket-format.md ("Size"): the sample Suket's token
// with the station certificate in the trust bundle (the format) and in the
// token's unprotected header (the alternative).
TEST_F(SuketTest, QrSizeWithTheCertificateInTheBundleOrInTheToken) {
  const std::string token = Issue(SampleData());
  const auto decoded = DecodeToken(token);
  ASSERT_OK(decoded);
  const std::string with_certificate = Assemble(decoded->protected_header, decoded->payload, decoded->signature, true,
                                                bundle_.station_certificates[0]);
  ASSERT_THAT(Check(with_certificate), Concludes(Outcome::kValid, Reason::kNone));
  const auto larger = DecodeToken(with_certificate);
  ASSERT_OK(larger);
  std::cout << "certificate in the trust bundle: " << decoded->payload.size() << " bytes of claims, "
            << decoded->compressed.size() << " bytes compressed, " << token.size() << " characters, QR version "
            << QrVersion(token) << " (ECC Q)\n"
            << "certificate in the token:       " << larger->compressed.size() << " bytes compressed, "
            << with_certificate.size() << " characters, QR version " << QrVersion(with_certificate) << " (ECC Q)\n";
  EXPECT_EQ(token.size(), 442u);
  EXPECT_EQ(with_certificate.size(), 688u);
  EXPECT_EQ(QrVersion(token), 16);  // 81 x 81 modules
  EXPECT_EQ(QrVersion(with_certificate), 20);  // 97 x 97 modules
}

// The printed Suket, read back the way a verifier would.
class RenderedSuketTest : public SuketTest {
 protected:
  void SetUp() override {
    face_ = ektp::testing::ReadFileBytes(ektp::testing::SourceDir() / "data/demo/face.jpg");
    ASSERT_FALSE(face_.empty());
    data_ = SampleData();
    data_.photo_sha256 = crypto::Sha256(face_);
    token_ = Issue(data_);
    dir_ = std::filesystem::temp_directory_path() / ("suket_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, std::span<const uint8_t> bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path;
  }

  Bytes face_;
  SuketData data_;
  std::string token_;
  std::filesystem::path dir_;
};

TEST_F(RenderedSuketTest, QrReadFromThePdfVerifiesOffline) {
  auto rendered = RenderSuket(data_, token_, face_, RegionRegistry::Default());
  ASSERT_OK(rendered);
  EXPECT_TRUE(std::string(rendered->pdf.begin(), rendered->pdf.begin() + 5) == "%PDF-");
  auto token = ReadTokenFromFile(Write("suket.pdf", rendered->pdf));  // pdftoppm, then zbarimg
  ASSERT_OK(token);
  EXPECT_EQ(*token, token_);
  EXPECT_THAT(Check(*token), Concludes(Outcome::kValid, Reason::kNone));
}

TEST_F(RenderedSuketTest, PdfSaysTheServiceIsFreeAndWhereToComplain) {
  auto rendered = RenderSuket(data_, token_, face_, RegionRegistry::Default());
  ASSERT_OK(rendered);
  const std::string path = Write("suket.pdf", rendered->pdf);
  const ::ektp::testing::CommandRun pdftotext = ::ektp::testing::RunCommand("pdftotext -raw " + path + " -");
  ASSERT_EQ(pdftotext.exit_code, 0) << "pdftotext (poppler-utils) failed: " << pdftotext.err;
  const std::string& text = pdftotext.out;
  EXPECT_THAT(text, HasSubstr("SURAT KETERANGAN"));
  EXPECT_THAT(text, HasSubstr("PEMERINTAH KABUPATEN NGAWI"));
  EXPECT_THAT(text, HasSubstr("Nomor: SKT-35.21.01-K01-000001"));
  EXPECT_THAT(text, HasSubstr("SRI WAHYUNINGSIH"));
  EXPECT_THAT(text, HasSubstr("Berlaku Hingga : 01-06-2027"));
  EXPECT_THAT(text, HasSubstr("Layanan KTP-el tidak dipungut biaya (GRATIS)."));
  EXPECT_THAT(text, HasSubstr("Pengaduan: LAPOR! www.lapor.go.id atau SMS 1708"));
}

TEST_F(RenderedSuketTest, QrReadFromThePngVerifiesOffline) {
  auto rendered = RenderSuket(data_, token_, face_, RegionRegistry::Default());
  ASSERT_OK(rendered);
  auto token = ReadTokenFromFile(Write("suket.png", rendered->png));
  ASSERT_OK(token);
  EXPECT_EQ(*token, token_);
  EXPECT_THAT(Check(*token), Concludes(Outcome::kValid, Reason::kNone));
  auto from_bytes = ReadToken(rendered->png);
  ASSERT_OK(from_bytes);
  EXPECT_EQ(*from_bytes, token_);
}

TEST_F(RenderedSuketTest, TokenFileAndImagesWithoutAQr) {
  auto token = ReadTokenFromFile(Write("token.txt", crypto::AsBytes(token_ + "\n")));
  ASSERT_OK(token);
  EXPECT_EQ(*token, token_);
  EXPECT_THAT(ReadTokenFromFile(Write("face.jpg", face_)),
              StatusIs(StatusCode::kNotFound, HasSubstr("no QR code found")));
  EXPECT_THAT(ReadTokenFromFile(Write("large.txt", Bytes(65 * 1024, 'A'))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("larger than 64 KiB: not a Suket token")));
  EXPECT_THAT(ReadTokenFromFile((dir_ / "missing.pdf").string()),
              StatusIs(StatusCode::kNotFound, HasSubstr("cannot read")));
}

TEST_F(RenderedSuketTest, RenderRefusesAPhotoThatIsNotTheSuketsOrAnUnknownRegency) {
  Bytes other = face_;
  other.push_back(0);
  EXPECT_THAT(RenderSuket(data_, token_, other, RegionRegistry::Default()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("face photo: its SHA-256 is not the Suket's")));
  data_.regency_code = "35.99";
  EXPECT_THAT(RenderSuket(data_, token_, face_, RegionRegistry::Default()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("regency_code: 35.99 is not a regency")));
}

}  // namespace
}  // namespace ektp::suket
