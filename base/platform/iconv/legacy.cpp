// GB18030 (GBK's superset) decoding with the C library's iconv(3).
#include "bbt/base/utf8.hpp"

#include <iconv.h>

namespace bbt::utf8 {

std::optional<std::string> from_gb18030(std::string_view s) {
    iconv_t cd = ::iconv_open("UTF-8", "GB18030");
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    std::string out(s.size() * 2 + 4, '\0');  // at most 4 bytes out for 2 in; 1 for 1
    char* in = const_cast<char*>(s.data());
    std::size_t in_left = s.size();
    char* to = out.data();
    std::size_t to_left = out.size();
    std::size_t rc = ::iconv(cd, &in, &in_left, &to, &to_left);
    if (rc != static_cast<std::size_t>(-1)) rc = ::iconv(cd, nullptr, nullptr, &to, &to_left);
    ::iconv_close(cd);
    if (rc == static_cast<std::size_t>(-1) || in_left != 0) return std::nullopt;
    out.resize(out.size() - to_left);
    return out;
}

std::string from_legacy(std::string_view s) {
    if (valid(s)) return std::string(s);
    if (auto gb = from_gb18030(s)) return std::move(*gb);
    return repair(s);
}

}  // namespace bbt::utf8
