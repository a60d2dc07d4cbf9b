// The county link's certificates (OpenSSL 3): keys, certificate signing
// requests, the county CA that signs them, and what a certificate says.
// Keys are P-256 (ECDSA), PEM-encoded; certificates are X.509 v3.
#pragma once

#include "bbt/base/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bbt::protocol::pki {

// `bytes` random bytes from OpenSSL's generator, as lower-case hex: nonces,
// upload ids.
[[nodiscard]] std::string random_hex(size_t bytes);

// A new private key (PKCS#8 PEM). Store it 0600; never log it.
[[nodiscard]] result<std::string> generate_key();

// A certificate signing request for `common_name`, signed with the key.
[[nodiscard]] result<std::string> make_csr(const std::string& key_pem, const std::string& common_name);

// The county CA's own certificate.
[[nodiscard]] result<std::string> self_signed_ca(const std::string& key_pem, const std::string& common_name,
                                                 std::chrono::seconds valid_for);

// A positive 63-bit serial number from OpenSSL's generator: certificates
// of one CA never share one, and nobody can guess the next.
[[nodiscard]] int64_t random_serial();

struct issue_options {
    int64_t serial = 0;                     // 0: random_serial()
    std::chrono::seconds not_before{-300};  // from now; a little slack for clocks
    std::chrono::seconds not_after{365 * 24 * 3600};
    bool server = false;                 // serverAuth (with `dns_names`), else clientAuth
    std::vector<std::string> dns_names;  // subjectAltName of a server certificate (names or addresses)
    std::string subject_cn;              // replaces the request's name (the county names devices)
};

// Signs a request with the CA: the certificate, PEM. The request's own
// signature is checked first.
[[nodiscard]] result<std::string> sign_csr(const std::string& csr_pem, const std::string& ca_cert_pem,
                                           const std::string& ca_key_pem, const issue_options& options);

// The subject's common name of a certificate or of a request.
[[nodiscard]] result<std::string> certificate_common_name(const std::string& cert_pem);
[[nodiscard]] result<std::string> request_common_name(const std::string& csr_pem);

// What a certificate says of itself: its serial and when it is valid.
struct certificate_facts {
    int64_t serial = 0;  // 0: not representable in 63 bits
    std::chrono::sys_seconds not_before{};
    std::chrono::sys_seconds not_after{};
};
[[nodiscard]] result<certificate_facts> facts_of(const std::string& cert_pem);

// Ed25519, for the county's command signatures.
[[nodiscard]] result<std::string> generate_signing_key();
[[nodiscard]] result<std::string> public_key_of(const std::string& key_pem);
[[nodiscard]] result<std::string> sign(const std::string& key_pem, std::string_view data);  // base64
[[nodiscard]] bool verify(const std::string& public_pem, std::string_view data, std::string_view signature_b64);

}  // namespace bbt::protocol::pki

#include "bbt/protocol/county.hpp"

#include <optional>

namespace bbt::protocol::county {

// What the county may ask of a set; everything else is refused.
[[nodiscard]] bool verb_allowed(std::string_view verb) noexcept;

// Why a command from the county must be refused ("forged", "not-for-this-set",
// "expired", "not-allowed"), or nothing when it may run. The nonce (replays)
// is checked by the caller, against what it has seen.
[[nodiscard]] std::optional<std::string> refusal_for(const command& c, const std::string& command_key_pem,
                                                     std::string_view device_id, int64_t now_us);

}  // namespace bbt::protocol::county
