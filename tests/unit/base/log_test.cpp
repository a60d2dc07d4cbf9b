#include "bbt/base/log.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;

TEST_CASE("BBT_LOG-style specifications set levels per category") {
    log::category a{"test-a"};
    log::category b{"test-b"};
    REQUIRE(log::configure("warning,test-b=debug"));
    CHECK(a.enabled(log::level::warning));
    CHECK_FALSE(a.enabled(log::level::info));
    CHECK(b.enabled(log::level::debug));

    // A category created later follows the configuration too.
    log::category c{"test-b"};
    CHECK(c.enabled(log::level::debug));
    REQUIRE(log::configure("info"));
    CHECK(a.enabled(log::level::info));
    CHECK_FALSE(b.enabled(log::level::debug));
}

TEST_CASE("a malformed specification is refused and changes nothing") {
    log::category a{"test-c"};
    REQUIRE(log::configure("error"));
    auto r = log::configure("info,test-c=loud");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("test-c=loud") != std::string::npos);
    CHECK_FALSE(a.enabled(log::level::warning));  // still "error"
    CHECK_FALSE(log::validate("=debug"));
    CHECK(log::validate(" debug , ledger = info "));
    REQUIRE(log::configure("info"));
}

TEST_CASE("the specification last applied is kept, for modules with a copy of their own") {
    REQUIRE(bbt::log::configure("warning,ledger=debug"));
    CHECK(bbt::log::current_spec() == "warning,ledger=debug");
    // A bad one changes nothing.
    REQUIRE_FALSE(bbt::log::configure("loud"));
    CHECK(bbt::log::current_spec() == "warning,ledger=debug");
    REQUIRE(bbt::log::configure("info"));
}
