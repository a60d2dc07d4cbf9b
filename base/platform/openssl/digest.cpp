#include "bbt/base/digest.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <vector>

namespace bbt::digest {
namespace {

const EVP_MD* md_of(algorithm a) {
    switch (a) {
        case algorithm::md5: return EVP_md5();
        case algorithm::sha1: return EVP_sha1();
        case algorithm::sha256: return EVP_sha256();
    }
    return EVP_sha256();
}

}  // namespace

struct hasher::impl {
    const EVP_MD* md;
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
    explicit impl(const EVP_MD* m) : md(m) {
        if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) throw std::bad_alloc();
    }
};

hasher::hasher(algorithm a) : impl_(std::make_unique<impl>(md_of(a))) {}
hasher::~hasher() = default;
hasher::hasher(hasher&&) noexcept = default;
hasher& hasher::operator=(hasher&&) noexcept = default;

void hasher::update(const void* data, size_t size) { EVP_DigestUpdate(impl_->ctx.get(), data, size); }

std::string hasher::finish_bytes() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx.get(), md.data(), &len);
    EVP_DigestInit_ex(impl_->ctx.get(), impl_->md, nullptr);
    return {reinterpret_cast<const char*>(md.data()), len};
}

std::string hasher::finish_hex() { return hex(finish_bytes()); }

std::string of(algorithm a, std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, md_of(a), nullptr);
    return {reinterpret_cast<const char*>(md.data()), len};
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

result<std::string> sha256_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, i18n::text({"opening a file to verify it", "打开文件以校验"}), path.string());
    unique_fd closer(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    hasher h;
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return errno_error(errno, i18n::text({"reading a file to verify it", "读取文件以校验"}), path.string());
        if (n == 0) break;
        h.update(buf.data(), static_cast<size_t>(n));
    }
    return h.finish_hex();
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    if (bytes.empty()) return out;
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> unbase64(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=') {
            // Only at the end, at most two.
            if (i + 2 < text.size()) return std::nullopt;
            ++pad;
        } else if (!alpha || pad > 0) {
            return std::nullopt;
        }
    }
    std::string out(text.size() / 4 * 3, '\0');
    if (text.empty()) return out;
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0 || static_cast<size_t>(n) < pad) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes.
    out.resize(static_cast<size_t>(n) - pad);
    if (base64(out) != text) return std::nullopt;
    return out;
}

}  // namespace bbt::digest
