#include "net/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/status_matchers.h"

namespace ektp::net {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TlsTest, GeneratesP256AndEd25519Certificates) {
  for (TlsKeyType type : {TlsKeyType::kP256, TlsKeyType::kEd25519}) {
    SelfSignedOptions options;
    options.key_type = type;
    options.alt_names = {"central.ektp.test", "10.1.2.3"};
    auto material = GenerateSelfSigned(options);
    ASSERT_OK(material);
    EXPECT_THAT(material->cert_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
    EXPECT_THAT(material->key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
    auto fp = CertificateSha256(material->cert_pem);
    ASSERT_OK(fp);
    EXPECT_EQ(fp->size(), 64u);
    EXPECT_EQ(fp->find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

TEST(TlsTest, TwoCertificatesDiffer) {
  auto a = GenerateSelfSigned({});
  auto b = GenerateSelfSigned({});
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*CertificateSha256(a->cert_pem), *CertificateSha256(b->cert_pem));
}

TEST(TlsTest, CertificateNamesAreTheSubjectAltNames) {
  SelfSignedOptions options;
  options.alt_names = {"central.example", "10.1.2.3", "2001:db8::7"};
  auto material = GenerateSelfSigned(options);
  ASSERT_OK(material);
  auto names = CertificateNames(material->cert_pem);
  ASSERT_OK(names);
  EXPECT_THAT(*names, ::testing::UnorderedElementsAre("localhost", "127.0.0.1", "central.example", "10.1.2.3",
                                                      "2001:db8::7"));
  EXPECT_THAT(CertificateNames("no certificate here"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a PEM certificate")));
}

TEST(TlsTest, FingerprintMatchesOpensslCli) {
  auto material = GenerateSelfSigned({});
  ASSERT_OK(material);
  std::string dir = ::testing::TempDir() + "/tls_fp_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  ASSERT_OK(WriteCertificateAndKey(*material, dir + "/cert.pem", dir + "/key.pem"));
  // The openssl CLI is installed by scripts/setup.sh; without it this test fails.
  std::string cmd = "openssl x509 -in " + dir + "/cert.pem -noout -fingerprint -sha256 > " + dir + "/fp.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl x509 failed: " << ReadFile(dir + "/fp.txt");
  std::string cli = ReadFile(dir + "/fp.txt");  // "sha256 Fingerprint=AB:CD:..."
  ASSERT_THAT(cli, HasSubstr("Fingerprint="));
  std::string hex;
  for (char c : cli.substr(cli.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(c));
  }
  EXPECT_EQ(hex, *CertificateSha256(material->cert_pem));
  std::filesystem::remove_all(dir);
}

TEST(TlsTest, KeyFileIsOwnerOnly) {
  auto material = GenerateSelfSigned({});
  ASSERT_OK(material);
  std::string dir = ::testing::TempDir() + "/tls_mode_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string key_path = dir + "/key.pem";
  { std::ofstream(key_path) << "old"; }
  chmod(key_path.c_str(), 0666);
  ASSERT_OK(WriteCertificateAndKey(*material, dir + "/cert.pem", key_path));
  struct stat st{};
  ASSERT_EQ(stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(ReadFile(key_path), material->key_pem);
  EXPECT_EQ(ReadFile(dir + "/cert.pem"), material->cert_pem);
  std::filesystem::remove_all(dir);
}

TEST(TlsTest, RejectsBadInput) {
  EXPECT_THAT(CertificateSha256("not a pem"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("PEM")));
  SelfSignedOptions options;
  options.validity_days = 0;
  EXPECT_THAT(GenerateSelfSigned(options), StatusIs(StatusCode::kInvalidArgument, HasSubstr("validity")));
  options.validity_days = 1;
  options.alt_names = {"a,IP:1.2.3.4"};
  EXPECT_THAT(GenerateSelfSigned(options), StatusIs(StatusCode::kInvalidArgument, HasSubstr("subjectAltName")));
  EXPECT_THAT(WriteCertificateAndKey({"c", "k"}, "/nonexistent/dir/c.pem", "/nonexistent/dir/k.pem"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("/nonexistent/dir/k.pem")));
}

}  // namespace
}  // namespace ektp::net
