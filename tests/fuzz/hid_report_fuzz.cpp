// libFuzzer target: the multitouch report decoder, the contact tracker and
// the pen. The input is a report descriptor followed by reports: [2-byte
// length][descriptor][1-byte length, report]... Any reports give frames or
// errors, frames stay well formed, and the pen node never holds both tools.
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/evdev_frame.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include <linux/input-event-codes.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bbt::drivers::hid;
    if (size < 2) return 0;
    size_t n = data[0] | (size_t{data[1]} << 8);
    if (n > size - 2) return 0;
    auto d = parse_descriptor({data + 2, n});
    if (!d) return 0;
    auto t = find_touch(*d);
    if (!t) return 0;
    auto layout = make_mt_layout(*d, *t);
    // Every quirk combination the data can pick.
    uint32_t quirks = size > 2 + n ? data[2 + n] * 0x01010101u : default_quirks(*d);
    mt_decoder dec(layout, quirks, t->max_contacts);
    size_t pos = 2 + n + 1;
    while (pos < size) {
        size_t len = data[pos++];
        if (len > size - pos) len = size - pos;
        auto got = dec.feed({data + pos, len});
        pos += len;
        if (!got || !*got) continue;
        const mt_frame& f = **got;
        if (f.slots.size() != t->max_contacts) std::abort();
        bool any = false;
        for (const auto& s : f.slots)
            any = any || s.tracking_id >= 0;
        if (any != f.touch) std::abort();
    }
    auto released = dec.release_all();
    if (released.touch) std::abort();

    // The whole path: tracker (tools by size on), touch and pen events.
    auto dev = touch_device_for(*d, 0, 0, quirks);
    if (!dev) return 0;
    contact_tracker tracker(std::move(*dev), find_pen(*d), {});
    evdev_writer touch(tracker.device().decoder.slot_count());
    pen_writer pen;
    bool pen_tool = false, rubber_tool = false;
    std::vector<tracked_frame> frames;
    int64_t now = 0;
    pos = 2 + n + 1;
    while (pos < size) {
        size_t len = data[pos++];
        if (len > size - pos) len = size - pos;
        frames.clear();
        now += 5'000;
        (void)tracker.feed({data + pos, len}, now, frames);
        pos += len;
        if (auto lifted = tracker.tick(now + (len & 1) * 200'000)) frames.push_back(std::move(*lifted));
        for (const auto& f : frames) {
            if (f.touch) {
                auto ev = touch.frame(*f.touch, f.timestamp_us);
                if (ev.empty() || ev.back().type != EV_SYN) std::abort();
            }
            if (!f.pen) continue;
            for (const auto& e : pen.frame(*f.pen)) {
                if (e.type == EV_KEY && e.code == BTN_TOOL_PEN) pen_tool = e.value != 0;
                if (e.type == EV_KEY && e.code == BTN_TOOL_RUBBER) rubber_tool = e.value != 0;
                if (pen_tool && rubber_tool) std::abort();
                // Never in a phase the state machine cannot leave (the rubber with a button).
                if (e.type == EV_SYN && !pen_transition_allowed(pen.phase(), pen.phase())) std::abort();
            }
        }
    }
    return 0;
}
