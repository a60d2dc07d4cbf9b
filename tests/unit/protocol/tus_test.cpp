// The tus header codecs: what they accept, what they refuse, and that
// encoding and reading again gives the same values.
#include "bbt/protocol/tus.hpp"

#include "doctest_bbt.hpp"

#include <string>

namespace tus = bbt::protocol::tus;

TEST_CASE("base64 is RFC 4648 with padding, and only its canonical spelling is read") {
    CHECK(tus::base64("") == "");
    CHECK(tus::base64("f") == "Zg==");
    CHECK(tus::base64("fo") == "Zm8=");
    CHECK(tus::base64("foo") == "Zm9v");
    CHECK(tus::base64("foob") == "Zm9vYg==");
    CHECK(*tus::unbase64("Zm9vYg==") == "foob");
    CHECK(*tus::unbase64("Zm8=") == "fo");
    CHECK(*tus::unbase64("") == "");
    std::string all;
    for (int i = 0; i < 256; ++i)
        all += static_cast<char>(i);
    CHECK(*tus::unbase64(tus::base64(all)) == all);
    for (const char* bad : {"Zm9", "Zm=v", "Zg=a", "Z===", "Zm9v\n", "Zh==", "Zm9v YQ==", "Zm_v", "===="}) {
        INFO(bad);
        CHECK_FALSE(tus::unbase64(bad));
    }
}

TEST_CASE("Upload-Metadata: keys with base64 values, keys alone, spaces around, in any order") {
    auto m = tus::parse_metadata("filename cmVjLm1wNA==, draft,lesson  5pWw5a2m");
    REQUIRE(m);
    CHECK(m->size() == 3);
    CHECK(m->at("filename") == "rec.mp4");
    CHECK(m->at("draft").empty());
    CHECK(m->at("lesson") == "数学");
    CHECK(tus::parse_metadata("")->empty());
    tus::metadata in{{"filename", "20261202-0800-数学.mp4"}, {"sha256", std::string(32, '\xfe')}, {"flag", ""}};
    auto text = tus::encode_metadata(in);
    CHECK(text.find(' ') != std::string::npos);
    CHECK(*tus::parse_metadata(text) == in);
}

TEST_CASE("Upload-Metadata that is not well formed is refused, saying what is wrong") {
    auto why = [](std::string_view h) {
        auto r = tus::parse_metadata(h);
        return r ? std::string("accepted") : r.error().message();
    };
    CHECK(why("a YQ==,a Yg==").find("twice") != std::string::npos);
    CHECK(why("a YQ=,b").find("base64") != std::string::npos);
    CHECK(why("a YQ==,,b").find("empty key") != std::string::npos);
    CHECK(why("k\x01y YQ==").find("control") != std::string::npos);
    CHECK(why(std::string(5000, 'a')).find("4096") != std::string::npos);
}

TEST_CASE("Upload-Offset and Upload-Length are whole numbers of bytes") {
    CHECK(*tus::parse_offset("0") == 0);
    CHECK(*tus::parse_offset("1048576") == 1048576);
    CHECK(*tus::parse_offset(std::to_string(tus::max_length)) == tus::max_length);
    for (const char* bad : {"", "-1", "+1", "1.5", "12a", " 1", "99999999999999999999", "0x10", "099", "00"}) {
        INFO(bad);
        CHECK_FALSE(tus::parse_offset(bad));
    }
    CHECK_FALSE(tus::parse_offset(std::to_string(tus::max_length + 1)));
}

TEST_CASE("Upload-Checksum names an algorithm and a base64 digest") {
    auto c = tus::parse_checksum("sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    REQUIRE(c);
    CHECK(c->algorithm == "sha256");
    CHECK(c->digest.size() == 32);
    CHECK(*tus::parse_checksum(tus::encode_checksum(*c)) == *c);
    for (const char* bad : {"sha256", "sha256 ", " abc=", "SHA256 YQ==", "sha256 YQ=", "md5 !!!!"}) {
        INFO(bad);
        CHECK_FALSE(tus::parse_checksum(bad));
    }
}
