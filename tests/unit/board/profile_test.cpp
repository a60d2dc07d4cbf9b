#include "bbt/board/profile.hpp"

#include "doctest_bbt.hpp"

TEST_CASE("the sim profile exists and is simulated") {
    auto p = bbt::board::find_profile("sim");
    REQUIRE(p);
    CHECK(p->simulated);
    CHECK_FALSE(p->devices.empty());
    CHECK(p->devices.front().id == "set");
}

TEST_CASE("an unknown profile is an error listing the known ones") {
    auto p = bbt::board::find_profile("rk3568-typo");
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == bbt::board::board_errc::unknown_profile);
    CHECK(p.error().message().find("rk3568-typo") != std::string::npos);
    CHECK(p.error().message().find("sim") != std::string::npos);
    CHECK(p.error().message().find("generic-pc") != std::string::npos);
}
