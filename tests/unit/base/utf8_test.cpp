#include "bbt/base/utf8.hpp"

#include "doctest_bbt.hpp"

#include <string>

namespace utf8 = bbt::utf8;
using namespace std::string_literals;

TEST_CASE("valid UTF-8 is told from ill-formed bytes") {
    CHECK(utf8::valid(""));
    CHECK(utf8::valid("plain ASCII"));
    CHECK(utf8::valid("数学：勾股定理"));
    CHECK(utf8::valid("\xF0\x9F\x93\x90"));        // U+1F4D0, four bytes
    CHECK_FALSE(utf8::valid("\xE6\x95"));          // cut inside 数
    CHECK_FALSE(utf8::valid("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(utf8::valid("\xED\xA0\x80"));      // a surrogate
    CHECK_FALSE(utf8::valid("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(utf8::valid("\xFF"));
    CHECK_FALSE(utf8::valid("\xca\xfd\xd1\xa7"));  // 数学 in GBK
}

TEST_CASE("a cut never ends inside a character") {
    std::string name = "八年级（3）班 数学：勾股定理的证明与应用（第二课时）复习";
    for (size_t max = 0; max <= name.size() + 1; ++max) {
        auto c = utf8::cut(name, max);
        CHECK(c.size() <= max);
        CHECK(utf8::valid(c));
        CHECK(name.starts_with(c));
        // As long as it can be: the next character would not fit.
        if (c.size() < name.size()) CHECK(max - c.size() < 3);
    }
    CHECK(utf8::cut("abc", 2) == "ab");
    CHECK(utf8::cut("abc", 10) == "abc");
}

TEST_CASE("repair replaces each ill-formed sequence by one U+FFFD and keeps the rest") {
    CHECK(utf8::repair("数学") == "数学");
    CHECK(utf8::repair("a\xFF"
                       "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(utf8::repair("数\xE5\xAD") == "数\xEF\xBF\xBD");  // a character cut at the end
    CHECK(utf8::repair("\xC0\xAF/") == "\xEF\xBF\xBD/");
    CHECK(utf8::repair("x\xED\xA0\x80y") == "x\xEF\xBF\xBDy");
    CHECK(utf8::repair("\0a"s) == "\0a"s);  // NUL is valid UTF-8; kept
    for (std::string bad : {"\x80"s, "\xE6\x95"s, "\xF0\x9F"s, "\xfe\xfe\xfe"s, "ok\xC3"s}) {
        CHECK(utf8::valid(utf8::repair(bad)));
    }
}

TEST_CASE("clean repairs and then cuts to the bound it was given") {
    auto c = utf8::clean("\xFF\xFF\xFF", 7);  // three U+FFFD would be nine bytes
    CHECK(c == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(utf8::clean("数学课", 7) == "数学");
    CHECK(utf8::clean("数学课") == "数学课");
}

TEST_CASE("UTF-16 from a USB string descriptor becomes UTF-8 and a lone surrogate U+FFFD") {
    CHECK(utf8::from_utf16(u"Touch 触摸框") == "Touch 触摸框");
    CHECK(utf8::from_utf16(u"\xD83D\xDCD0") == "\xF0\x9F\x93\x90");
    CHECK(utf8::from_utf16(std::u16string_view(u"ab\0cd", 5)) == "ab");
    CHECK(utf8::from_utf16(std::u16string{char16_t(0xD800), u'x'}) == "\xEF\xBF\xBDx");
    CHECK(utf8::from_utf16(std::u16string{u'x', char16_t(0xDC00)}) == "x\xEF\xBF\xBD");
}

TEST_CASE("firmware strings: UTF-8 kept and GBK decoded and anything else repaired") {
    CHECK(utf8::from_legacy("LENOVO") == "LENOVO");
    CHECK(utf8::from_legacy("联想") == "联想");
    // 清华同方 and 教学一体机 as a Chinese OEM BIOS writes them (GBK).
    CHECK(utf8::from_legacy("\xc7\xe5\xbb\xaa\xcd\xac\xb7\xbd") == "清华同方");
    CHECK(utf8::from_legacy("\xbd\xcc\xd1\xa7\xd2\xbb\xcc\xe5\xbb\xfa V2") == "教学一体机 V2");
    // Not GBK either (a lone lead byte at the end): repaired, never passed on.
    auto r = utf8::from_legacy("abc\xff");
    CHECK(utf8::valid(r));
    CHECK(r.starts_with("abc"));
}
