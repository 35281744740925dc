#include "net/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ektp::net {
namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

std::string OpenSslError(std::string_view what) {
  std::string out(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Status AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return InvalidArgument(OpenSslError("bad certificate extension '" + value + "'"));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Internal(OpenSslError("cannot add certificate extension"));
  return Status::Ok();
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  Status status;
  if (fchmod(fd, mode) != 0) status = Unavailable("cannot chmod " + tmp + ": " + std::strerror(errno));
  size_t written = 0;
  while (status.ok() && written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) status = Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
    else written += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) status = Unavailable("cannot sync " + tmp + ": " + std::strerror(errno));
  close(fd);
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = Unavailable("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  if (!status.ok()) unlink(tmp.c_str());
  return status;
}

}  // namespace

StatusOr<CertificateAndKey> GenerateSelfSigned(const SelfSignedOptions& options) {
  if (options.validity_days <= 0) return InvalidArgument("certificate validity must be at least one day");
  PkeyPtr key(options.key_type == TlsKeyType::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Internal(OpenSslError("cannot generate key"));

  X509Ptr cert(X509_new());
  if (!cert) return Internal(OpenSslError("cannot allocate certificate"));
  X509_set_version(cert.get(), 2);  // v3

  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return Internal(OpenSslError("no randomness"));
  serial_bytes[0] &= 0x7f;  // positive
  BnPtr serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Internal(OpenSslError("cannot set serial"));
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), options.validity_days, 0, nullptr);
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1,
                                 0) != 1) {
    return InvalidArgument(OpenSslError("bad common name '" + options.common_name + "'"));
  }
  X509_set_issuer_name(cert.get(), name);

  std::string san = "IP:127.0.0.1,DNS:localhost";
  for (const std::string& alt : options.alt_names) {
    if (alt.empty() || alt.find_first_of(",\n\r") != std::string::npos) {
      return InvalidArgument("bad subjectAltName '" + alt + "'");
    }
    san += (IsIpAddress(alt) ? ",IP:" : ",DNS:") + alt;
  }
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, san));

  const EVP_MD* md = options.key_type == TlsKeyType::kEd25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key.get(), md) <= 0) return Internal(OpenSslError("cannot sign certificate"));

  CertificateAndKey out;
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) return Internal(OpenSslError("cannot encode certificate"));
  out.cert_pem = BioToString(cert_bio.get());
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal(OpenSslError("cannot encode private key"));
  }
  out.key_pem = BioToString(key_bio.get());
  return out;
}

Status WriteCertificateAndKey(const CertificateAndKey& material, const std::string& cert_path,
                              const std::string& key_path) {
  RETURN_IF_ERROR(WriteFileAtomically(key_path, material.key_pem, 0600));
  return WriteFileAtomically(cert_path, material.cert_pem, 0600);  // public, but owner-only like every file ektp writes
}

StatusOr<std::string> CertificateSha256Der(std::string_view der) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(der.data(), der.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return Internal(OpenSslError("SHA-256 failed"));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int byte_idx = 0; byte_idx < len; ++byte_idx) {
    hex += kHex[digest[byte_idx] >> 4];
    hex += kHex[digest[byte_idx] & 0xf];
  }
  return hex;
}

namespace {

StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return InvalidArgument("not a PEM certificate");
  return cert;
}

}  // namespace

StatusOr<std::vector<std::string>> CertificateNames(std::string_view pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificatePem(pem));
  std::vector<std::string> names;
  auto* alt_names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (alt_names == nullptr) return names;
  for (int name_idx = 0; name_idx < sk_GENERAL_NAME_num(alt_names); ++name_idx) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt_names, name_idx);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                         static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      if (ASN1_STRING_length(ip) == 4 || ASN1_STRING_length(ip) == 16) {
        if (inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text)) != nullptr) names.emplace_back(text);
      }
    }
  }
  GENERAL_NAMES_free(alt_names);
  return names;
}

StatusOr<std::string> CertificateSha256(std::string_view pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificatePem(pem));
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return Internal(OpenSslError("cannot encode certificate"));
  std::string der_bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return CertificateSha256Der(der_bytes);
}

}  // namespace ektp::net
