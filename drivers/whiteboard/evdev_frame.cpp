#include "bbt/drivers/whiteboard/evdev_frame.hpp"

#include <linux/input.h>

namespace bbt::drivers::hid {

std::vector<evdev_event> evdev_writer::frame(const mt_frame& f, int64_t timestamp_us) {
    std::vector<evdev_event> out;
    int oldest = -1;
    for (size_t s = 0; s < f.slots.size() && s < tracking_.size(); ++s) {
        const auto& now = f.slots[s];
        bool reported = s < f.reported.size() && f.reported[s];
        if (reported || now.tracking_id != tracking_[s]) {
            out.push_back({EV_ABS, ABS_MT_SLOT, static_cast<int32_t>(s)});
            out.push_back({EV_ABS, ABS_MT_TRACKING_ID, now.tracking_id});
            tracking_[s] = now.tracking_id;
            if (now.tracking_id >= 0 && reported) {
                // No MT tool for an eraser: on the touch node it is a pen.
                int32_t tool = now.tool == contact_tool::eraser ? MT_TOOL_PEN : static_cast<int32_t>(now.tool);
                out.push_back({EV_ABS, ABS_MT_TOOL_TYPE, tool});
                out.push_back({EV_ABS, ABS_MT_POSITION_X, now.x});
                out.push_back({EV_ABS, ABS_MT_POSITION_Y, now.y});
            }
        }
        if (now.tracking_id >= 0 &&
            (oldest < 0 || now.tracking_id < f.slots[static_cast<size_t>(oldest)].tracking_id)) {
            oldest = static_cast<int>(s);
        }
    }
    out.push_back({EV_KEY, BTN_TOUCH, f.touch ? 1 : 0});
    if (oldest >= 0) {
        out.push_back({EV_ABS, ABS_X, f.slots[static_cast<size_t>(oldest)].x});
        out.push_back({EV_ABS, ABS_Y, f.slots[static_cast<size_t>(oldest)].y});
    }
    if (timestamp_us >= 0)
        out.push_back({EV_MSC, MSC_TIMESTAMP, static_cast<int32_t>(static_cast<uint32_t>(timestamp_us))});
    out.push_back({EV_SYN, SYN_REPORT, 0});
    return out;
}

input_core::input_core(size_t slots, int32_t fuzz_x, int32_t fuzz_y)
    : slots_(slots), fuzz_x_(fuzz_x), fuzz_y_(fuzz_y) {}

int32_t input_core::defuzz(int32_t value, int32_t old, int32_t fuzz) noexcept {
    if (fuzz) {
        if (value > old - fuzz / 2 && value < old + fuzz / 2) return old;
        if (value > old - fuzz && value < old + fuzz) return (old * 3 + value) / 4;
        if (value > old - fuzz * 2 && value < old + fuzz * 2) return (old + value) / 2;
    }
    return value;
}

std::optional<mt_frame> input_core::feed(const evdev_event& e) {
    auto in_range = [&] { return slot_ >= 0 && static_cast<size_t>(slot_) < slots_.size(); };
    if (e.type == EV_ABS) {
        if (e.code == ABS_MT_SLOT) {
            slot_ = e.value;
        } else if (e.code == ABS_MT_TRACKING_ID && in_range()) {
            auto& s = slots_[static_cast<size_t>(slot_)];
            if (s.tracking_id != e.value) s.tracking_id = e.value, changed_ = true;
        } else if (e.code == ABS_MT_TOOL_TYPE && in_range()) {
            auto& s = slots_[static_cast<size_t>(slot_)];
            auto tool = static_cast<contact_tool>(e.value);
            if (s.tool != tool) s.tool = tool, changed_ = true;
        } else if ((e.code == ABS_MT_POSITION_X || e.code == ABS_MT_POSITION_Y) && in_range()) {
            auto& s = slots_[static_cast<size_t>(slot_)];
            int32_t& stored = e.code == ABS_MT_POSITION_X ? s.x : s.y;
            int32_t v = defuzz(e.value, stored, e.code == ABS_MT_POSITION_X ? fuzz_x_ : fuzz_y_);
            if (v != stored) stored = v, changed_ = true;
        }
    } else if (e.type == EV_KEY && e.code == BTN_TOUCH) {
        if (touch_ != (e.value != 0)) touch_ = e.value != 0, changed_ = true;
    } else if (e.type == EV_SYN && e.code == SYN_REPORT && changed_) {
        changed_ = false;
        mt_frame f;
        f.touch = touch_;
        f.slots = slots_;
        return f;
    }
    return std::nullopt;
}

}  // namespace bbt::drivers::hid
