// The pen: a digitizer's own pen report (In Range, Tip Switch, barrel
// buttons, Invert, Eraser, X, Y, pressure) decoded into a pen state, and pen
// states turned into the events of a pen node (BTN_TOOL_PEN / BTN_TOOL_RUBBER,
// BTN_TOUCH, BTN_STYLUS, BTN_STYLUS2, ABS_X, ABS_Y, ABS_PRESSURE) that follow
// the kernel's pen state machine: a tool never changes without leaving range
// in between, and a state the machine does not allow next is reached through
// the states it does allow, one frame each.
//
// Pure and single-threaded.
#pragma once

#include "bbt/drivers/whiteboard/evdev_frame.hpp"
#include "bbt/drivers/whiteboard/touch_layout.hpp"

#include <optional>
#include <span>
#include <vector>

namespace bbt::drivers::hid {

struct pen_layout {
    uint8_t report_id = 0;
    uint32_t report_bytes = 0;
    value_location in_range, tip, barrel, barrel2, invert, eraser, x, y, pressure;
    touch_axis x_axis, y_axis;
    int32_t pressure_max = 0;
};

// The device's pen report: an input report of a Pen application (or any
// digitizer report) with In Range and X/Y but no Contact ID; nothing for a
// device without a pen.
[[nodiscard]] std::optional<pen_layout> find_pen(const descriptor& d);

struct pen_state {
    bool in_range = false;
    bool tip = false;      // touching the surface
    bool barrel = false;   // BTN_STYLUS
    bool barrel2 = false;  // BTN_STYLUS2
    bool eraser = false;   // Invert or Eraser: the rubber end
    int32_t x = 0;
    int32_t y = 0;
    int32_t pressure = 0;
    bool operator==(const pen_state&) const = default;
};

// Decodes one pen report; nothing for reports of other ids, an error for one
// of the wrong size.
[[nodiscard]] result<std::optional<pen_state>> decode_pen(const pen_layout& layout, std::span<const uint8_t> report);

// The kernel's pen states (tools/testing/selftests/hid/tests/test_tablet.py).
enum class pen_phase : uint8_t {
    out_of_range,
    in_range,
    in_range_button,
    in_contact,
    in_contact_button,
    hover_erasing,
    hover_erasing_button,
    erasing,
    erasing_button,
};
[[nodiscard]] const char* to_string(pen_phase p) noexcept;

// The phase a pen state puts the node in.
[[nodiscard]] pen_phase phase_of(const pen_state& s) noexcept;

// Whether the pen node may go from `from` to `to` in one frame.
[[nodiscard]] bool pen_transition_allowed(pen_phase from, pen_phase to) noexcept;

class pen_writer {
public:
    // The events that take the node to `s`: one SYN_REPORT-terminated frame,
    // or several when the state machine needs steps in between. Nothing when
    // the pen is and stays out of range.
    [[nodiscard]] std::vector<evdev_event> frame(const pen_state& s);

    [[nodiscard]] pen_phase phase() const noexcept { return phase_; }

private:
    void step(pen_phase to, std::vector<evdev_event>& out);

    pen_phase phase_ = pen_phase::out_of_range;
    bool stylus_ = false;
    bool stylus2_ = false;
};

}  // namespace bbt::drivers::hid
