#include "bbt/base/config.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;

TEST_CASE("the config reader reads typed keys and nested tables") {
    auto doc =
        config::document::parse("name = \"x\"\nn = 5\nf = 1.5\nb = true\nl = [\"a\", \"b\"]\n[sub]\nk = 2\n", "t.toml");
    REQUIRE(doc);
    auto root = doc->root();
    std::string name;
    int64_t n = 0, k = 0;
    double f = 0;
    bool b = false;
    std::vector<std::string> l;
    root.get("name", name).get("n", n, 0, 10).get("f", f, 0, 2).get("b", b).get("l", l);
    root.table("sub").get("k", k, 0, 9).finish();
    root.finish();
    REQUIRE(doc->outcome());
    CHECK(name == "x");
    CHECK(n == 5);
    CHECK(f == 1.5);
    CHECK(b);
    CHECK(l == std::vector<std::string>{"a", "b"});
    CHECK(k == 2);
}

TEST_CASE("absent keys keep their defaults") {
    auto doc = config::document::parse("", "empty.toml");
    REQUIRE(doc);
    auto root = doc->root();
    int64_t n = 7;
    root.get("n", n, 0, 10);
    root.table("sub").get("n", n, 0, 10).finish();
    root.finish();
    CHECK(doc->outcome());
    CHECK(n == 7);
}
