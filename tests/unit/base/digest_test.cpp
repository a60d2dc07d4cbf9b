#include "bbt/base/digest.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <string>

namespace digest = bbt::digest;

TEST_CASE("digests are the standard ones (FIPS 180 and RFC 1321 examples)") {
    CHECK(digest::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(digest::hex(digest::of(digest::algorithm::sha1, "abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(digest::hex(digest::of(digest::algorithm::md5, "abc")) == "900150983cd24fb0d6963f7d28e17f72");
    // Fed in pieces, the same; a finished hasher starts again.
    digest::hasher h;
    h.update("a");
    h.update(std::string_view("bc"));
    CHECK(h.finish_hex() == digest::sha256_hex("abc"));
    CHECK(h.finish_hex() == digest::sha256_hex(""));
}

TEST_CASE("SHA-256 of a file is the standard one; a missing file is an error naming it") {
    bbt::test::temp_dir dir;
    bbt::test::write_file(dir / "abc", "abc");
    CHECK(digest::sha256_file(dir / "abc").value() ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bbt::test::write_file(dir / "empty", "");
    CHECK(digest::sha256_file(dir / "empty").value() ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auto missing = digest::sha256_file(dir / "missing");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().what().find("missing") != std::string::npos);
}

TEST_CASE("base64: RFC 4648's examples both ways; only the canonical spelling is read") {
    for (auto [plain, coded] :
         {std::pair{"", ""}, std::pair{"f", "Zg=="}, std::pair{"fo", "Zm8="}, std::pair{"foo", "Zm9v"},
          std::pair{"foob", "Zm9vYg=="}, std::pair{"fooba", "Zm9vYmE="}, std::pair{"foobar", "Zm9vYmFy"}}) {
        CHECK(digest::base64(plain) == coded);
        CHECK(digest::unbase64(coded) == std::string(plain));
    }
    CHECK_FALSE(digest::unbase64("Zg="));     // not a multiple of four
    CHECK_FALSE(digest::unbase64("Zh=="));    // bits beyond the last byte
    CHECK_FALSE(digest::unbase64("Z=g="));    // padding inside
    CHECK_FALSE(digest::unbase64("Zm9v\n"));  // not in the alphabet
}
