// The contact tracker: what the agent adds to hid-multitouch's frames before
// they reach the OS.
//
//  - Stuck contacts: when no report arrives for `release_after` (the kernel's
//    100 ms for Win8 devices; here for every board, since an IR frame that
//    drops a report would otherwise leave a finger down for ever) every
//    contact is lifted.
//  - Tools by size: IR frames cannot tell a pen from a finger, but the
//    contact's width and height can. A contact is a pen up to `pen_max_mm`,
//    an eraser from `eraser_min_mm` and a palm (rejected: MT_TOOL_PALM, as
//    the kernel reports it) from `palm_min_mm`; a finger between. Its tool
//    is decided from the largest size it has had, so a tool only ever grows
//    (pen, finger, eraser, palm) and never flickers back.
//  - The pen node: one pen or eraser contact at a time is handed to the pen
//    node (BTN_TOOL_PEN / BTN_TOOL_RUBBER) and leaves the touch node; a
//    device's own pen report has the pen node to itself.
//  - MSC_TIMESTAMP from the device's Scan Time, as hid-multitouch computes it.
//
// Pure and single-threaded: the caller supplies report times and calls tick()
// from its timer.
#pragma once

#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/pen.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace bbt::drivers::hid {

struct tool_sizes {
    bool enabled = true;  // needs Width/Height and a resolution from the device
    double pen_max_mm = 6;
    double eraser_min_mm = 30;
    double palm_min_mm = 100;  // 0: no palm rejection by size
};

struct tracker_options {
    tool_sizes sizes;
    std::chrono::microseconds release_after{100'000};
};

// One frame for the nodes: the touch node's slots (with the pen node's
// contact, if any, left out) and the pen node's state.
struct tracked_frame {
    std::optional<mt_frame> touch;  // nothing: the touch node is not concerned by this frame
    std::optional<pen_state> pen;   // nothing: the pen node is not concerned by this frame
    // The contact handed to the pen node, as it was in its slot.
    int pen_slot = -1;
    slot_state pen_contact;
    int64_t timestamp_us = -1;  // MSC_TIMESTAMP, -1 when the device has no Scan Time
};

class contact_tracker {
public:
    // Tools by size need the touch axes' resolution (from the descriptor).
    contact_tracker(touch_device device, std::optional<pen_layout> pen, tracker_options options);

    // One input report, received at `now_us` (monotonic). Appends the frames
    // it completed (none, one, or a palm frame and its lift).
    [[nodiscard]] result<void> feed(std::span<const uint8_t> report, int64_t now_us, std::vector<tracked_frame>& out);

    // The timer: lifts every contact when no report came for release_after.
    [[nodiscard]] std::optional<tracked_frame> tick(int64_t now_us);

    // When tick() should run next; nothing while no contact is down.
    [[nodiscard]] std::optional<int64_t> deadline() const noexcept;

    [[nodiscard]] const touch_device& device() const noexcept { return device_; }
    [[nodiscard]] const std::optional<pen_layout>& pen_layout_of() const noexcept { return pen_; }
    [[nodiscard]] bool sizes_in_use() const noexcept { return sizes_in_use_; }

    // The tool a contact of this size (in mm) is.
    [[nodiscard]] static contact_tool tool_for_size(const tool_sizes& t, double size_mm) noexcept;

private:
    tracked_frame track(mt_frame f, int64_t now_us);
    int64_t timestamp(int64_t scan_time, int64_t now_us);

    touch_device device_;
    std::optional<pen_layout> pen_;
    tracker_options options_;
    bool sizes_in_use_ = false;
    std::vector<double> largest_mm_;  // per slot, over the contact's life
    std::vector<int> tracking_;       // per slot, the contact the sizes belong to
    int pen_slot_ = -1;               // the contact on the pen node
    int pen_tracking_ = -1;
    bool pen_in_range_ = false;  // the device's own pen
    int64_t last_report_us_ = 0;
    bool down_ = false;
    // Scan Time to MSC_TIMESTAMP.
    int64_t prev_scan_ = -1;
    int64_t prev_report_us_ = 0;
    int64_t timestamp_us_ = 0;
};

}  // namespace bbt::drivers::hid
