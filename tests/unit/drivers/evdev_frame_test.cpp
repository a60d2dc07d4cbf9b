#include "bbt/drivers/whiteboard/evdev_frame.hpp"

#include "doctest_bbt.hpp"

#include <linux/input.h>

using namespace bbt::drivers::hid;

namespace {

mt_frame frame_with(std::vector<slot_state> slots, std::vector<bool> reported) {
    mt_frame f;
    f.slots = std::move(slots);
    f.reported = std::move(reported);
    for (const auto& s : f.slots)
        f.touch = f.touch || s.tracking_id >= 0;
    return f;
}

}  // namespace

TEST_CASE("the writer emits what hid-multitouch emits for a frame") {
    evdev_writer w(2);
    auto ev = w.frame(frame_with({{0, 100, 200, 1}, {}}, {true, false}));
    CHECK(ev == std::vector<evdev_event>{{EV_ABS, ABS_MT_SLOT, 0},
                                         {EV_ABS, ABS_MT_TRACKING_ID, 0},
                                         {EV_ABS, ABS_MT_TOOL_TYPE, MT_TOOL_FINGER},
                                         {EV_ABS, ABS_MT_POSITION_X, 100},
                                         {EV_ABS, ABS_MT_POSITION_Y, 200},
                                         {EV_KEY, BTN_TOUCH, 1},
                                         {EV_ABS, ABS_X, 100},
                                         {EV_ABS, ABS_Y, 200},
                                         {EV_SYN, SYN_REPORT, 0}});
    // A slot dropped without being reported (not seen means up) still says so.
    auto lift = w.frame(frame_with({{-1, 100, 200, 1}, {}}, {false, false}));
    CHECK(lift == std::vector<evdev_event>{{EV_ABS, ABS_MT_SLOT, 0},
                                           {EV_ABS, ABS_MT_TRACKING_ID, -1},
                                           {EV_KEY, BTN_TOUCH, 0},
                                           {EV_SYN, SYN_REPORT, 0}});
    // A palm keeps its slot with the palm tool; the device's scan time is
    // the frame's MSC_TIMESTAMP.
    mt_frame palm = frame_with({{1, 300, 400, 2}, {}}, {true, false});
    palm.slots[0].tool = contact_tool::palm;
    auto p = w.frame(palm, 12300);
    CHECK(p == std::vector<evdev_event>{{EV_ABS, ABS_MT_SLOT, 0},
                                        {EV_ABS, ABS_MT_TRACKING_ID, 1},
                                        {EV_ABS, ABS_MT_TOOL_TYPE, MT_TOOL_PALM},
                                        {EV_ABS, ABS_MT_POSITION_X, 300},
                                        {EV_ABS, ABS_MT_POSITION_Y, 400},
                                        {EV_KEY, BTN_TOUCH, 1},
                                        {EV_ABS, ABS_X, 300},
                                        {EV_ABS, ABS_Y, 400},
                                        {EV_MSC, MSC_TIMESTAMP, 12300},
                                        {EV_SYN, SYN_REPORT, 0}});
}

TEST_CASE("the input core filters as the kernel's: fuzz bands, unchanged values and empty frames") {
    CHECK(input_core::defuzz(104, 100, 15) == 100);  // within fuzz/2: held
    CHECK(input_core::defuzz(110, 100, 15) == 102);  // within fuzz: a quarter of the way
    CHECK(input_core::defuzz(120, 100, 15) == 110);  // within 2 fuzz: half way
    CHECK(input_core::defuzz(140, 100, 15) == 140);  // beyond: as is
    CHECK(input_core::defuzz(104, 100, 0) == 104);

    input_core core(2, 15, 15);
    evdev_writer w(2);
    std::optional<mt_frame> last;
    for (const auto& e : w.frame(frame_with({{0, 1000, 1000, 1}, {}}, {true, false}))) {
        if (auto f = core.feed(e)) last = f;
    }
    REQUIRE(last);
    CHECK(last->touch);
    CHECK(last->slots[0].x == 1000);
    // A jitter of 3 units changes nothing the user sees: no frame at all.
    bool any = false;
    for (const auto& e : w.frame(frame_with({{0, 1003, 998, 1}, {}}, {true, false})))
        any = any || core.feed(e);
    CHECK_FALSE(any);
}
