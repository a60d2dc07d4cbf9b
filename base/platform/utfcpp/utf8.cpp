// Validation and repair with utfcpp (Debian's libutfcpp-dev, header-only).
#include "bbt/base/utf8.hpp"

#include <utf8.h>

#include <iterator>

namespace bbt::utf8 {

bool valid(std::string_view s) noexcept { return ::utf8::find_invalid(s.begin(), s.end()) == s.end(); }

std::string_view cut(std::string_view s, std::size_t max_bytes) noexcept {
    if (s.size() <= max_bytes) return s;
    std::size_t end = max_bytes;
    // Back over continuation bytes to the start of the character at `end`.
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        --end;
    return s.substr(0, end);
}

std::string repair(std::string_view s) {
    auto bad = ::utf8::find_invalid(s.begin(), s.end());
    if (bad == s.end()) return std::string(s);
    std::string out(s.begin(), bad);
    out.reserve(s.size() + 8);
    ::utf8::replace_invalid(bad, s.end(), std::back_inserter(out));
    return out;
}

std::string clean(std::string_view s, std::size_t max_bytes) {
    auto r = repair(s);
    if (r.size() > max_bytes) r.resize(cut(r, max_bytes).size());
    return r;
}

std::string from_utf16(std::u16string_view s) {
    std::string out;
    out.reserve(s.size());
    auto append = [&out](char32_t c) { ::utf8::append(static_cast<uint32_t>(c), std::back_inserter(out)); };
    for (std::size_t i = 0; i < s.size(); ++i) {
        char32_t c = s[i];
        if (c == 0) break;
        bool high = c >= 0xD800 && c <= 0xDBFF;
        if (high && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        append(c);
    }
    return out;
}

}  // namespace bbt::utf8
