#include "bbt/board/profile.hpp"
#include "bbt/board/gpio.hpp"

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

TEST_CASE("the GPIO control board's profile takes its wiring from the configuration") {
    auto p = bbt::board::find_profile("gpio-control");
    REQUIRE(p);
    CHECK(p->gpio);
    CHECK_FALSE(p->simulated);
    CHECK_FALSE(bbt::board::find_profile("sim")->gpio);
}

TEST_CASE("a GPIO line spec: an offset or a name, '!' for active low, empty for none") {
    using bbt::board::parse_gpio_line;
    auto none = parse_gpio_line("");
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto off = parse_gpio_line("23");
    REQUIRE(off);
    REQUIRE(off->has_value());
    CHECK((*off)->offset == 23u);
    CHECK((*off)->name.empty());
    auto named = parse_gpio_line("!RELAY_PROJ");
    REQUIRE(named);
    CHECK_FALSE((*named)->offset);
    CHECK((*named)->name == "RELAY_PROJ");
    CHECK((*named)->active_low);
    CHECK(bbt::board::to_string(**named) == "!RELAY_PROJ");
    CHECK(bbt::board::to_string(**off) == "23");
    for (const char* bad : {"!", "!!3", "70000", "a b", "LED\n", "x/y", "123456789012345678901234567890123"}) {
        CAPTURE(bad);
        auto r = parse_gpio_line(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find("offset") != std::string::npos);
    }
}
