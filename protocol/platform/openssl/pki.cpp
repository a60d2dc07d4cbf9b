// OpenSSL is included only under protocol/platform/openssl.
#include "bbt/protocol/pki.hpp"

#include "bbt/base/i18n.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>

namespace bbt::protocol::pki {
namespace {

template <class T, void (*F)(T*)>
struct deleter {
    void operator()(T* p) const noexcept { F(p); }
};
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using req_ptr = std::unique_ptr<X509_REQ, deleter<X509_REQ, X509_REQ_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

error ssl_error(std::string_view what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return error(std::make_error_code(std::errc::protocol_error), i18n::format({"{}: {}", "{}：{}"}, what, buf));
}

bio_ptr mem(const std::string& s) { return bio_ptr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string drain(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<size_t>(n));
}

result<pkey_ptr> read_key(const std::string& pem) {
    auto b = mem(pem);
    pkey_ptr k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
    if (!k) return ssl_error(i18n::text({"reading a private key", "读取私钥"}));
    return k;
}

result<x509_ptr> read_cert(const std::string& pem) {
    auto b = mem(pem);
    x509_ptr c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!c) return ssl_error(i18n::text({"reading a certificate", "读取证书"}));
    return c;
}

result<req_ptr> read_req(const std::string& pem) {
    auto b = mem(pem);
    req_ptr r(PEM_read_bio_X509_REQ(b.get(), nullptr, nullptr, nullptr));
    if (!r) return ssl_error(i18n::text({"reading a certificate signing request", "读取证书签名请求"}));
    return r;
}

std::string common_name_of(X509_NAME* name) {
    char cn[256] = "";
    int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn);
    return n > 0 ? std::string(cn, static_cast<size_t>(n)) : std::string();
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

std::string to_pem(X509* c) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(b.get(), c);
    return drain(b.get());
}

result<pkey_ptr> new_key(const char* type) {
    pkey_ptr k(std::string_view(type) == "EC" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
    if (!k) return ssl_error(i18n::text({"generating a key", "生成密钥"}));
    return k;
}

result<std::string> key_pem(EVP_PKEY* k) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return ssl_error(i18n::text({"writing a key", "写出密钥"}));
    }
    return drain(b.get());
}

}  // namespace

result<std::string> generate_key() {
    auto k = new_key("EC");
    if (!k) return k.error();
    return key_pem(k->get());
}

result<std::string> make_csr(const std::string& key_pem_text, const std::string& common_name) {
    auto k = read_key(key_pem_text);
    if (!k) return k.error();
    req_ptr r(X509_REQ_new());
    X509_REQ_set_version(r.get(), 0);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r.get()), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_REQ_set_pubkey(r.get(), k->get());
    if (X509_REQ_sign(r.get(), k->get(), EVP_sha256()) <= 0) {
        return ssl_error(i18n::text({"signing the certificate request", "签署证书请求"}));
    }
    bio_ptr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(b.get(), r.get());
    return drain(b.get());
}

result<std::string> self_signed_ca(const std::string& key_pem_text, const std::string& common_name,
                                   std::chrono::seconds valid_for) {
    auto k = read_key(key_pem_text);
    if (!k) return k.error();
    x509_ptr c(X509_new());
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set_int64(X509_get_serialNumber(c.get()), random_serial());
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -300);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), static_cast<long>(valid_for.count()));
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(c.get(), name);
    X509_set_pubkey(c.get(), k->get());
    if (!add_ext(c.get(), c.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(c.get(), c.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(c.get(), c.get(), NID_subject_key_identifier, "hash")) {
        return ssl_error(i18n::text({"making the CA certificate", "生成 CA 证书"}));
    }
    if (X509_sign(c.get(), k->get(), EVP_sha256()) <= 0) {
        return ssl_error(i18n::text({"signing the CA certificate", "签署 CA 证书"}));
    }
    return to_pem(c.get());
}

result<std::string> sign_csr(const std::string& csr_pem, const std::string& ca_cert_pem, const std::string& ca_key_pem,
                             const issue_options& o) {
    auto req = read_req(csr_pem);
    if (!req) return req.error();
    auto ca = read_cert(ca_cert_pem);
    if (!ca) return ca.error();
    auto ca_key = read_key(ca_key_pem);
    if (!ca_key) return ca_key.error();
    pkey_ptr pub(X509_REQ_get_pubkey(req->get()));
    if (!pub || X509_REQ_verify(req->get(), pub.get()) != 1) {
        return ssl_error(i18n::text({"the certificate request's signature does not verify", "证书请求的签名无效"}));
    }
    x509_ptr c(X509_new());
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set_int64(X509_get_serialNumber(c.get()), o.serial > 0 ? o.serial : random_serial());
    X509_gmtime_adj(X509_getm_notBefore(c.get()), static_cast<long>(o.not_before.count()));
    X509_gmtime_adj(X509_getm_notAfter(c.get()), static_cast<long>(o.not_after.count()));
    if (o.subject_cn.empty()) {
        X509_set_subject_name(c.get(), X509_REQ_get_subject_name(req->get()));
    } else {
        X509_NAME* name = X509_get_subject_name(c.get());
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(o.subject_cn.c_str()), -1, -1, 0);
    }
    X509_set_issuer_name(c.get(), X509_get_subject_name(ca->get()));
    X509_set_pubkey(c.get(), pub.get());
    std::string san;
    for (const auto& d : o.dns_names) {
        // An address is an iPAddress name; anything else a DNS name.
        bool ip = !d.empty() && d.find_first_not_of("0123456789.") == std::string::npos;
        bool ip6 = d.find(':') != std::string::npos;
        san += std::string(san.empty() ? "" : ",") + (ip || ip6 ? "IP:" : "DNS:") + d;
    }
    if (!add_ext(c.get(), ca->get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(c.get(), ca->get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
        !add_ext(c.get(), ca->get(), NID_ext_key_usage, o.server ? "serverAuth" : "clientAuth") ||
        !add_ext(c.get(), ca->get(), NID_authority_key_identifier, "keyid:always") ||
        (!san.empty() && !add_ext(c.get(), ca->get(), NID_subject_alt_name, san))) {
        return ssl_error(i18n::text({"making the certificate", "生成证书"}));
    }
    if (X509_sign(c.get(), ca_key->get(), EVP_sha256()) <= 0) {
        return ssl_error(i18n::text({"signing the certificate", "签署证书"}));
    }
    return to_pem(c.get());
}

int64_t random_serial() {
    uint64_t v = 0;
    while (v == 0) {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
            throw std::runtime_error("OpenSSL's random generator failed");
        }
        v &= 0x7fff'ffff'ffff'ffffULL;
    }
    return static_cast<int64_t>(v);
}

result<certificate_facts> facts_of(const std::string& cert_pem) {
    auto c = read_cert(cert_pem);
    if (!c) return c.error();
    certificate_facts f;
    int64_t serial = 0;
    if (ASN1_INTEGER_get_int64(&serial, X509_get0_serialNumber(c->get())) == 1 && serial > 0) f.serial = serial;
    ERR_clear_error();
    auto seconds_of = [](const ASN1_TIME* t) -> std::optional<std::chrono::sys_seconds> {
        std::tm tm{};
        if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
        return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
    };
    auto from = seconds_of(X509_get0_notBefore(c->get())), to = seconds_of(X509_get0_notAfter(c->get()));
    if (!from || !to) return ssl_error(i18n::text({"reading a certificate's validity", "读取证书有效期"}));
    f.not_before = *from;
    f.not_after = *to;
    return f;
}

result<std::string> certificate_common_name(const std::string& cert_pem) {
    auto c = read_cert(cert_pem);
    if (!c) return c.error();
    return common_name_of(X509_get_subject_name(c->get()));
}

result<std::string> request_common_name(const std::string& csr_pem) {
    auto r = read_req(csr_pem);
    if (!r) return r.error();
    return common_name_of(X509_REQ_get_subject_name(r->get()));
}

result<std::string> generate_signing_key() {
    auto k = new_key("ED25519");
    if (!k) return k.error();
    return key_pem(k->get());
}

result<std::string> public_key_of(const std::string& key_pem_text) {
    auto k = read_key(key_pem_text);
    if (!k) return k.error();
    bio_ptr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(b.get(), k->get());
    return drain(b.get());
}

result<std::string> sign(const std::string& key_pem_text, std::string_view data) {
    auto k = read_key(key_pem_text);
    if (!k) return k.error();
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k->get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
            1) {
        return ssl_error(i18n::text({"signing", "签名"}));
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        return ssl_error(i18n::text({"signing", "签名"}));
    }
    std::string b64(4 * ((len + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<unsigned char*>(sig.data()),
                            static_cast<int>(len));
    b64.resize(static_cast<size_t>(n));
    return b64;
}

bool verify(const std::string& public_pem, std::string_view data, std::string_view signature_b64) {
    auto b = mem(public_pem);
    pkey_ptr k(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
    if (!k || signature_b64.empty() || signature_b64.size() % 4 != 0 || signature_b64.size() > 1024) {
        ERR_clear_error();
        return false;
    }
    std::string sig(signature_b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(sig.data()),
                            reinterpret_cast<const unsigned char*>(signature_b64.data()),
                            static_cast<int>(signature_b64.size()));
    if (n < 0) {
        ERR_clear_error();
        return false;
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t len = static_cast<size_t>(n);
    if (signature_b64.ends_with("=="))
        len -= 2;
    else if (signature_b64.ends_with("="))
        len -= 1;
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
              EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), len,
                               reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    ERR_clear_error();
    return ok;
}

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        // OpenSSL's generator failing is a broken invariant of the system.
        throw std::runtime_error("OpenSSL's random generator failed");
    }
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out += "0123456789abcdef"[c >> 4];
        out += "0123456789abcdef"[c & 15];
    }
    return out;
}

}  // namespace bbt::protocol::pki

namespace bbt::protocol::county {

bool verb_allowed(std::string_view verb) noexcept {
    for (std::string_view v : {"class.start", "class.end", "projector.power", "courseware.prefetch", "logs.upload"}) {
        if (v == verb) return true;
    }
    return false;
}

std::optional<std::string> refusal_for(const command& c, const std::string& command_key_pem, std::string_view device_id,
                                       int64_t now_us) {
    if (command_key_pem.empty() || !pki::verify(command_key_pem, signing_input(c), c.signature)) return "forged";
    if (c.device_id != device_id) return "not-for-this-set";
    if (c.expires_us < now_us) return "expired";
    if (!verb_allowed(c.verb)) return "not-allowed";
    return std::nullopt;
}

}  // namespace bbt::protocol::county
