// The uinput sink: the two nodes as they are described to the kernel. Made
// and read back through real uinput in the board rig (tests/board/uinput_guest_test.cpp).
#include "bbt/drivers/whiteboard/uinput_sink.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"
#include "uinput_spec.hpp"

#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <unistd.h>

#include <filesystem>

using namespace bbt::drivers::hid;

namespace {

uinput_spec spec() { return bbt::test::test_uinput_spec(); }

}  // namespace

TEST_CASE("the touch node is a direct multitouch device with type B slots, tool types and resolution") {
    auto d = describe_node(spec(), node::touch);
    CHECK(libevdev_has_property(d.get(), INPUT_PROP_DIRECT));
    CHECK(std::string(libevdev_get_name(d.get())) == "bbt whiteboard test");
    CHECK(libevdev_get_id_vendor(d.get()) == 0x6615);
    CHECK(libevdev_get_id_bustype(d.get()) == BUS_USB);
    CHECK(libevdev_has_event_code(d.get(), EV_KEY, BTN_TOUCH));
    CHECK(libevdev_has_event_code(d.get(), EV_MSC, MSC_TIMESTAMP));
    CHECK(libevdev_get_abs_maximum(d.get(), ABS_MT_SLOT) == 9);
    CHECK(libevdev_get_abs_maximum(d.get(), ABS_MT_TOOL_TYPE) == MT_TOOL_MAX);
    CHECK(libevdev_has_event_code(d.get(), EV_ABS, ABS_MT_TRACKING_ID));
    for (unsigned code : {ABS_MT_POSITION_X, ABS_X}) {
        CHECK(libevdev_get_abs_maximum(d.get(), code) == 30719);
        CHECK(libevdev_get_abs_resolution(d.get(), code) == 12);
        CHECK(libevdev_get_abs_fuzz(d.get(), code) == 3);
    }
    CHECK(libevdev_get_abs_resolution(d.get(), ABS_MT_POSITION_Y) == 11);
    CHECK_FALSE(libevdev_has_event_code(d.get(), EV_KEY, BTN_TOOL_PEN));
}

TEST_CASE("the pen node has both ends, the barrel buttons and pressure, and no slots") {
    auto d = describe_node(spec(), node::pen);
    CHECK(std::string(libevdev_get_name(d.get())) == "bbt whiteboard test Pen");
    CHECK(std::string(libevdev_get_phys(d.get())) == "bbt/whiteboard/test");  // paired with the touch node
    CHECK(libevdev_has_property(d.get(), INPUT_PROP_DIRECT));
    for (unsigned key : {BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOUCH, BTN_STYLUS, BTN_STYLUS2})
        CHECK(libevdev_has_event_code(d.get(), EV_KEY, key));
    CHECK(libevdev_get_abs_maximum(d.get(), ABS_PRESSURE) == 255);
    CHECK(libevdev_get_abs_resolution(d.get(), ABS_X) == 12);
    CHECK_FALSE(libevdev_has_event_code(d.get(), EV_ABS, ABS_MT_SLOT));
    auto no_pressure = spec();
    no_pressure.pressure_max = 0;
    CHECK_FALSE(libevdev_has_event_code(describe_node(no_pressure, node::pen).get(), EV_ABS, ABS_PRESSURE));
}

TEST_CASE("without uinput the sink says what is missing and what to do") {
    bbt::test::temp_dir dir;
    auto r = uinput_sink::create(spec(), dir.path() / "uinput");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("modprobe uinput") != std::string::npos);
}
