// The tus 1.0 resumable upload protocol (https://tus.io/protocols/resumable-upload),
// as far as recordings need it: the core protocol and the creation, checksum
// and termination extensions. These are its header codecs: the upload's
// metadata (comma-separated "key base64(value)" pairs), offsets and lengths,
// and the checksum of a chunk ("sha256 base64(digest)").
//
// Pure (header text in, values or an error saying what is wrong out) and
// fuzzed: the county reads them from any set that connects.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace bbt::protocol::tus {

inline constexpr std::string_view version = "1.0.0";
inline constexpr std::string_view extensions = "creation,checksum,termination";
inline constexpr std::string_view offset_content_type = "application/offset+octet-stream";
// The checksum extension's answer to a chunk whose checksum does not match.
inline constexpr unsigned status_checksum_mismatch = 460;
inline constexpr size_t max_metadata_bytes = 4096;
// Offsets and lengths above this are refused (a JSON number keeps them exact).
inline constexpr int64_t max_length = int64_t{1} << 50;

using metadata = std::map<std::string, std::string, std::less<>>;

// Keys are ASCII without spaces or commas, unique and not empty; values any bytes.
[[nodiscard]] std::string encode_metadata(const metadata& m);
[[nodiscard]] result<metadata> parse_metadata(std::string_view header);

// Upload-Offset, Upload-Length: a non-negative decimal integer, at most max_length.
[[nodiscard]] result<int64_t> parse_offset(std::string_view header);

struct checksum {
    std::string algorithm;  // lower case: "sha256", "sha1" ...
    std::string digest;     // raw bytes
    bool operator==(const checksum&) const = default;
};
[[nodiscard]] std::string encode_checksum(const checksum& c);
[[nodiscard]] result<checksum> parse_checksum(std::string_view header);

// Standard base64 with padding (RFC 4648 §4), as tus uses it.
[[nodiscard]] std::string base64(std::string_view bytes);
[[nodiscard]] result<std::string> unbase64(std::string_view text);

}  // namespace bbt::protocol::tus
