// The uinput nodes the sink's tests make: an IRTOUCH-sized board with a pen.
#pragma once

#include "bbt/drivers/whiteboard/uinput_sink.hpp"

namespace bbt::test {

inline drivers::hid::uinput_spec test_uinput_spec() {
    drivers::hid::uinput_spec s;
    s.name = "bbt whiteboard test";
    s.vendor = 0x6615;
    s.product = 0x0081;
    s.phys = "bbt/whiteboard/test";
    s.slots = 10;
    s.x = {0, 30719, 12, 3};
    s.y = {0, 17279, 11, 2};
    s.pressure_max = 255;
    return s;
}

}  // namespace bbt::test
