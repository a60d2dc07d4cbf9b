// Digests, hex and base64: the one place the project hashes. OpenSSL's EVP
// underneath (base/platform/openssl), seen by nobody else: courseware and
// recordings are checked by SHA-256, tus chunks by SHA-1 or SHA-256, PJLink
// authenticates with MD5.
//
// A hasher is used by one thread at a time; the free functions are pure.
#pragma once

#include "bbt/base/error.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bbt::digest {

enum class algorithm { md5, sha1, sha256 };

class hasher {
public:
    explicit hasher(algorithm a = algorithm::sha256);
    ~hasher();
    hasher(hasher&&) noexcept;
    hasher& operator=(hasher&&) noexcept;

    void update(const void* data, size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    // The digest of everything fed; the hasher starts again afterwards.
    [[nodiscard]] std::string finish_bytes();
    [[nodiscard]] std::string finish_hex();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

[[nodiscard]] std::string of(algorithm a, std::string_view bytes);  // raw bytes
[[nodiscard]] std::string hex(std::string_view bytes);              // lower case
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) { return hex(of(algorithm::sha256, bytes)); }

// The SHA-256 of a file's content, in hex, read in large blocks.
[[nodiscard]] result<std::string> sha256_file(const std::filesystem::path& path);

// RFC 4648 base64 with padding. Decoding takes the canonical spelling only
// (one value, one spelling: bits beyond the last byte must be zero).
[[nodiscard]] std::string base64(std::string_view bytes);
[[nodiscard]] std::optional<std::string> unbase64(std::string_view text);

}  // namespace bbt::digest
