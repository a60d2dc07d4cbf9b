// Where a multitouch device puts its contacts: the touch report, its mode and
// axes, inferred from the report descriptor as hid-multitouch does.
#pragma once

#include "bbt/drivers/whiteboard/hid_descriptor.hpp"

#include <optional>

namespace bbt::drivers::hid {

struct touch_axis {
    int32_t logical_min = 0;
    int32_t logical_max = 0;
    int32_t physical_min = 0;
    int32_t physical_max = 0;
    uint32_t unit = 0;
    int32_t unit_exponent = 0;
    int32_t resolution = 0;   // units per mm, as the kernel computes it; 0 when unknown
    uint32_t bit_offset = 0;  // of the first contact's field, counting the report id byte
    uint32_t bit_size = 0;
};

// The axis element `element` of field `f` describes.
[[nodiscard]] touch_axis axis_of(const field& f, uint32_t element);

enum class touch_mode {
    parallel,  // every contact of a frame in one report
    hybrid,    // a frame spread over several reports; Contact Count only in the first
};
[[nodiscard]] const char* to_string(touch_mode m) noexcept;

struct touch_layout {
    uint8_t report_id = 0;
    usage_code application = 0;  // Touch Screen, Whiteboard, Pen ...
    touch_mode mode = touch_mode::parallel;
    uint32_t contacts_per_report = 0;  // Contact ID elements in the touch report
    uint32_t max_contacts = 0;         // slots the kernel would allocate
    touch_axis x;
    touch_axis y;
};

// The touch report of a descriptor: the input report with the lowest id that
// has a non-constant Contact ID; nothing for a device without one (a pen).
[[nodiscard]] std::optional<touch_layout> find_touch(const descriptor& d);

}  // namespace bbt::drivers::hid
