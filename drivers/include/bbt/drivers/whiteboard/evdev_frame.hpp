// Frames to evdev events, in two steps that mirror the kernel:
//
//  - evdev_writer emits what hid-multitouch emits for a frame: for every slot
//    the device reported (or the frame dropped), ABS_MT_SLOT, the tracking id
//    and, while active, the tool type and position; then BTN_TOUCH, the
//    single-touch pointer emulation (ABS_X/ABS_Y of the oldest contact),
//    MSC_TIMESTAMP when the device has a Scan Time, and SYN_REPORT.
//    This is what the uinput sink writes; the kernel's input core filters it.
//  - input_core does that filtering for everything that is not a kernel
//    (the recording sink, tests): per-slot values, the fuzz filter
//    (input_defuzz_abs_event), unchanged values dropped, and frames that
//    change nothing dropped whole.
//
// Pure and single-threaded.
#pragma once

#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace bbt::drivers::hid {

struct evdev_event {
    uint16_t type;
    uint16_t code;
    int32_t value;
    bool operator==(const evdev_event&) const = default;
};

class evdev_writer {
public:
    explicit evdev_writer(size_t slots) : tracking_(slots, -1) {}
    // `timestamp_us`: MSC_TIMESTAMP, or -1 for none.
    [[nodiscard]] std::vector<evdev_event> frame(const mt_frame& f, int64_t timestamp_us = -1);

private:
    std::vector<int> tracking_;  // per slot, the id last emitted
};

// What user space sees after the input core: the multitouch state after
// each SYN_REPORT that changed something.
class input_core {
public:
    input_core(size_t slots, int32_t fuzz_x, int32_t fuzz_y);

    // Returns the state after a SYN_REPORT that changed something.
    [[nodiscard]] std::optional<mt_frame> feed(const evdev_event& e);

    // The kernel's input_defuzz_abs_event.
    [[nodiscard]] static int32_t defuzz(int32_t value, int32_t old, int32_t fuzz) noexcept;

private:
    std::vector<slot_state> slots_;
    int slot_ = 0;
    int32_t fuzz_x_, fuzz_y_;
    bool touch_ = false;
    bool changed_ = false;
};

}  // namespace bbt::drivers::hid
