// TLS material: self-signed server certificates and their fingerprints.
//
// Central (and a station's local API) serve HTTPS with a self-signed
// certificate; clients pin exactly that certificate (see http_client.h), so
// no certificate authority is involved.
//
// Thread-safety: all functions are safe to call from several threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::net {

enum class TlsKeyType { kP256, kEd25519 };

struct SelfSignedOptions {
  // Subject CN. Default "ektp".
  std::string common_name = "ektp";
  // Extra subjectAltNames besides IP:127.0.0.1 and DNS:localhost. Entries that
  // parse as an IPv4/IPv6 address become IP names, the rest DNS names.
  std::vector<std::string> alt_names;
  int validity_days = 3650;
  // P-256 (ECDSA) works with every TLS client; Ed25519 needs TLS 1.3-era peers.
  TlsKeyType key_type = TlsKeyType::kP256;
};

struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted
};

// Generates a key pair and a self-signed X.509 v3 certificate for it
// (serverAuth, random 128-bit serial, valid from one hour ago).
StatusOr<CertificateAndKey> GenerateSelfSigned(const SelfSignedOptions& options);

// Writes `material` to `cert_path` (mode 0600, like every file ektp writes) and `key_path` (mode 0600,
// owner only, also when the file existed). Each file is written to a
// temporary name and renamed, so a crash leaves the old file or the new one.
Status WriteCertificateAndKey(const CertificateAndKey& material, const std::string& cert_path,
                              const std::string& key_path);

// Lower-case hex SHA-256 of the certificate's DER encoding (64 characters),
// the same value as `openssl x509 -fingerprint -sha256` without colons.
// kInvalidArgument if `pem` holds no certificate.
StatusOr<std::string> CertificateSha256(std::string_view pem);
// The same, from the DER bytes.
StatusOr<std::string> CertificateSha256Der(std::string_view der);

// The certificate's subjectAltNames, DNS names as written and IP addresses in
// their text form ("127.0.0.1", "::1"), in certificate order: the names
// clients reach a server by. kInvalidArgument if `pem` holds no certificate.
StatusOr<std::vector<std::string>> CertificateNames(std::string_view pem);

}  // namespace ektp::net
