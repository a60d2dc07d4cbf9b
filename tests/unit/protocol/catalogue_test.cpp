// The courseware catalogue reader: what it accepts, and what it refuses with
// the entry and field named.
#include "bbt/protocol/catalogue.hpp"
#include "bbt/base/i18n.hpp"

#include "doctest_bbt.hpp"

#include <string>

using namespace bbt::protocol;

namespace {

const std::string sha(64, 'a');

std::string one(const std::string& fields) {
    return R"({"version":1,"resources":[{"id":"math-7-01","title":"一元一次方程","type":"video","url":"http://res.example/a.mp4","sha256":")" +
           sha + R"(","size":1000)" + fields + "}]}";
}

std::string refused(const std::string& text) {
    auto r = parse_catalogue(text);
    if (r) return "accepted";
    return r.error().what();
}

}  // namespace

TEST_CASE("a catalogue's entries are read, and survive encoding") {
    auto c = parse_catalogue(one(R"(,"subject":"数学","grade":"七年级","priority":-5)"));
    REQUIRE(c);
    REQUIRE(c->size() == 1);
    const auto& e = c->front();
    CHECK(e.id == "math-7-01");
    CHECK(e.title == "一元一次方程");
    CHECK(e.subject == "数学");
    CHECK(e.size == 1000);
    CHECK(e.priority == -5);
    auto again = parse_catalogue(encode_catalogue(*c));
    REQUIRE(again);
    CHECK(*again == *c);
    CHECK(parse_catalogue(R"({"version":1,"resources":[]})").value().empty());
}

TEST_CASE("a bad catalogue is refused, naming the entry and what is wrong") {
    bbt::i18n::set(bbt::i18n::language::en);
    CHECK(refused("[1,2]").find("not a JSON object") != std::string::npos);
    CHECK(refused(R"({"version":2,"resources":[]})").find("\"version\"") != std::string::npos);
    CHECK(refused(R"({"version":1})").find("\"resources\"") != std::string::npos);
    auto dup = R"({"version":1,"resources":[)" + one("").substr(26, one("").size() - 28) + "," +
               one("").substr(26, one("").size() - 28) + "]}";
    CHECK(refused(dup).find("twice") != std::string::npos);
    CHECK(refused(one(R"(,"priority":500)")).find("\"priority\"") != std::string::npos);
    auto bad_sha = one("");
    bad_sha.replace(bad_sha.find(sha), 64, std::string(64, 'A'));
    CHECK(refused(bad_sha).find("resources[0] (math-7-01)") != std::string::npos);
    CHECK(refused(bad_sha).find("sha256") != std::string::npos);
    auto ftp = one("");
    ftp.replace(ftp.find("http://"), 7, "ftp://");
    CHECK(refused(ftp).find("\"url\"") != std::string::npos);
    auto comma = one("");
    comma.replace(comma.find("math-7-01"), 9, "math,7-01");
    CHECK(refused(comma).find("comma") != std::string::npos);
    auto huge = one("");
    huge.replace(huge.find("1000"), 4, "1099511627777");
    CHECK(refused(huge).find("\"size\"") != std::string::npos);
    CHECK(refused("{\"version\":1,").find("not JSON") != std::string::npos);
}
