#include "bbt/protocol/tus.hpp"

#include "bbt/base/digest.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/text.hpp"

#include <charconv>

namespace bbt::protocol::tus {
namespace {

error malformed(const i18n::msg& what, std::string_view header) {
    std::string shown(header.substr(0, 80));
    return error(base_errc::config_value, i18n::format(what, shown));
}

bool key_char(char c) { return c > 0x20 && c < 0x7f && c != ','; }

}  // namespace

std::string base64(std::string_view bytes) { return digest::base64(bytes); }

result<std::string> unbase64(std::string_view text) {
    if (auto out = digest::unbase64(text)) return std::move(*out);
    return malformed({"\"{}\" is not base64 (RFC 4648, with padding)", "“{}”不是 base64 编码（RFC 4648，带填充）"},
                     text);
}

std::string encode_metadata(const metadata& m) {
    std::string out;
    for (const auto& [k, v] : m) {
        if (!out.empty()) out += ',';
        out += k;
        if (!v.empty()) {
            out += ' ';
            out += base64(v);
        }
    }
    return out;
}

result<metadata> parse_metadata(std::string_view header) {
    if (header.size() > max_metadata_bytes) {
        return malformed(
            {"Upload-Metadata is longer than 4096 bytes: \"{}...\"", "Upload-Metadata 超过 4096 字节：“{}...”"},
            header);
    }
    metadata m;
    if (trim_blanks(header).empty()) return m;
    size_t start = 0;
    for (;;) {
        size_t comma = header.find(',', start);
        auto pair =
            trim_blanks(header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        size_t space = pair.find(' ');
        auto key = pair.substr(0, space);
        if (key.empty()) {
            return malformed({"Upload-Metadata has an empty key: \"{}\"", "Upload-Metadata 中有空的键：“{}”"}, header);
        }
        for (char c : key) {
            if (!key_char(c)) {
                return malformed({"Upload-Metadata has a key with a space, comma or control character: \"{}\"",
                                  "Upload-Metadata 的键含有空格、逗号或控制字符：“{}”"},
                                 key);
            }
        }
        std::string value;
        if (space != std::string_view::npos) {
            auto v = unbase64(trim_blanks(pair.substr(space + 1)));
            if (!v) {
                return malformed(
                    {"the Upload-Metadata value of \"{}\" is not base64", "Upload-Metadata 中“{}”的值不是 base64"},
                    key);
            }
            value = std::move(*v);
        }
        if (!m.emplace(std::string(key), std::move(value)).second) {
            return malformed({"Upload-Metadata names \"{}\" twice", "Upload-Metadata 重复给出“{}”"}, key);
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return m;
}

result<int64_t> parse_offset(std::string_view header) {
    int64_t v = -1;
    auto [p, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
    // One spelling for one number: no sign, no leading zero.
    bool leading_zero = header.size() > 1 && header.front() == '0';
    if (header.empty() || header.front() == '-' || header.front() == '+' || leading_zero || ec != std::errc() ||
        p != header.data() + header.size() || v < 0 || v > max_length) {
        return malformed({"\"{}\" is not an offset or length in bytes (a whole number, 0 or more)",
                          "“{}”不是以字节计的偏移量或长度（应为非负整数）"},
                         header);
    }
    return v;
}

std::string encode_checksum(const checksum& c) { return c.algorithm + " " + base64(c.digest); }

result<checksum> parse_checksum(std::string_view header) {
    size_t space = header.find(' ');
    if (space == std::string_view::npos || space == 0) {
        return malformed({"Upload-Checksum must be \"ALGORITHM BASE64\", not \"{}\"",
                          "Upload-Checksum 应为“算法 BASE64”，而不是“{}”"},
                         header);
    }
    checksum c;
    for (char ch : header.substr(0, space)) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
            return malformed({"Upload-Checksum names an algorithm that is not lower-case letters and digits: \"{}\"",
                              "Upload-Checksum 的算法名应为小写字母和数字：“{}”"},
                             header);
        }
        c.algorithm += ch;
    }
    auto d = unbase64(header.substr(space + 1));
    if (!d || d->empty()) {
        return malformed(
            {"the digest in Upload-Checksum is not base64: \"{}\"", "Upload-Checksum 中的摘要不是 base64：“{}”"},
            header);
    }
    c.digest = std::move(*d);
    return c;
}

}  // namespace bbt::protocol::tus
