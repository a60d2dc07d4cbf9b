#include "bbt/drivers/whiteboard/usb_boards.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/whiteboard/board_source.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

using namespace bbt::drivers::whiteboard;

TEST_CASE("whiteboard.device names a USB board as usb or usb:VID:PID, anything else is a file") {
    auto any = parse_usb_device("usb");
    REQUIRE(any);
    REQUIRE(any->has_value());
    CHECK((*any)->vendor == 0);
    auto one = parse_usb_device("usb:6615:0081");
    REQUIRE(one);
    REQUIRE(one->has_value());
    CHECK((*one)->vendor == 0x6615);
    CHECK((*one)->product == 0x0081);
    auto file = parse_usb_device("/var/lib/bbt/board.hid");
    REQUIRE(file);
    CHECK_FALSE(file->has_value());
    for (const char* bad : {"usb:", "usb:6615", "usb:6615:81", "usb:xyzw:0081", "usb:0000:0001", "usb:6615:0081:1"}) {
        CAPTURE(bad);
        auto r = parse_usb_device(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find("usb:VVVV:PPPP") != std::string::npos);
    }
}

TEST_CASE("a board is picked by HID class and the vendor table, or by the configured ids") {
    std::vector<usb_candidate> seen = {
        {"1-1", 0x046d, 0xc077, 1, 2, true},   // a mouse: HID, not a board vendor
        {"1-2", 0x6615, 0x0081, 1, 3, false},  // a board's vendor, but no HID interface
        {"1-3", 0x1ff7, 0x0013, 1, 4, true},   // CVTouch
        {"1-4", 0x6615, 0x0070, 1, 5, true},   // IRTOUCH
    };
    auto any = pick_board(seen, {});
    REQUIRE(any);
    CHECK(any->sysfs_name == "1-3");
    auto exact = pick_board(seen, {0x6615, 0x0070});
    REQUIRE(exact);
    CHECK(exact->sysfs_name == "1-4");
    // Configured ids pick a board the table does not know; without HID, nothing.
    CHECK(pick_board(seen, {0x046d, 0xc077})->sysfs_name == "1-1");
    CHECK_FALSE(pick_board(seen, {0x6615, 0x0081}));
    CHECK_FALSE(pick_board({}, {}));
}

TEST_CASE("the shipped udev rules are the ones made from the table of supported boards") {
    auto shipped = bbt::test::read_file(std::string(BBT_SOURCE_DIR) + "/systemd/70-bbt-whiteboard.rules");
    CHECK(shipped == udev_rules("bbt"));
    for (const auto& b : supported_usb_boards()) {
        char vid[16];
        std::snprintf(vid, sizeof vid, "\"%04x\"", b.vendor);
        CHECK_MESSAGE(shipped.find(vid) != std::string::npos, b.maker);
    }
    CHECK(shipped.find("KERNEL==\"uinput\"") != std::string::npos);
    CHECK(udev_rules("teachers").find("GROUP=\"teachers\"") != std::string::npos);
}

TEST_CASE("USB errors are the driver's: a code each, with what it means and what to do in both languages") {
    namespace wb = bbt::drivers::whiteboard;
    CHECK(std::string(wb::usb_category().name()) == "bbt.usb");
    bbt::error e(wb::usb_errc::access_denied, "opening the board");
    CHECK(e.code() == wb::usb_errc::access_denied);
    CHECK(std::string(wb::advice(wb::usb_errc::access_denied)).find("udev") != std::string::npos);
    bbt::i18n::set(bbt::i18n::language::zh);
    CHECK(std::string(wb::advice(wb::usb_errc::disconnected)) == "白板已拔出");
    bbt::i18n::set(bbt::i18n::language::en);
    CHECK(std::string(wb::advice(wb::usb_errc::disconnected)) == "the whiteboard was unplugged");
}
