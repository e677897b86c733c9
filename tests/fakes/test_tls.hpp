#pragma once
// A throw-away public key infrastructure for TLS tests: a self-signed CA and a server
// certificate it signs for 127.0.0.1 and localhost, generated in memory at run time (EC
// P-256, valid from one hour ago for one day), so no key material lives in the repository
// and nothing expires between runs. The CA certificate is also written to a temporary
// PEM file, the form a client's "CA file" setting takes.
#include <string>

namespace npcl::fakes {

class test_tls {
 public:
  /// Generates the CA and the server certificate and writes the CA file.
  /// Throws std::runtime_error naming the OpenSSL step that failed.
  explicit test_tls(const std::string& ca_name = "npcl test CA");
  /// Removes the CA file.
  ~test_tls();
  test_tls(const test_tls&) = delete;
  test_tls& operator=(const test_tls&) = delete;

  /// The CA certificate (PEM) that verifies server_cert_pem().
  const std::string& ca_cert_pem() const { return ca_cert_pem_; }
  /// The server's certificate (PEM), subject alt names IP 127.0.0.1 and DNS localhost.
  const std::string& server_cert_pem() const { return server_cert_pem_; }
  /// The server's private key (PKCS#8 PEM, unencrypted).
  const std::string& server_key_pem() const { return server_key_pem_; }
  /// Path of the temporary file holding ca_cert_pem(); valid while this object lives.
  const std::string& ca_file() const { return ca_file_; }

 private:
  std::string ca_cert_pem_;      ///< CA certificate, PEM
  std::string server_cert_pem_;  ///< server certificate signed by the CA, PEM
  std::string server_key_pem_;   ///< server private key, PEM
  std::string ca_file_;          ///< path of the temporary CA file
};

}  // namespace npcl::fakes
