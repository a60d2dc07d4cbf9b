#include "bbt/drivers/whiteboard/contact_tracker.hpp"

#include <algorithm>

namespace bbt::drivers::hid {
namespace {

// hid-multitouch's MAX_TIMESTAMP_INTERVAL: after a longer silence the
// timestamp starts again from zero.
constexpr int64_t max_timestamp_interval_us = 1'000'000;

bool on_pen_node(contact_tool t) { return t == contact_tool::pen || t == contact_tool::eraser; }

}  // namespace

contact_tracker::contact_tracker(touch_device device, std::optional<pen_layout> pen, tracker_options options)
    : device_(std::move(device)),
      pen_(std::move(pen)),
      options_(options),
      largest_mm_(device_.decoder.slot_count(), 0.0),
      tracking_(device_.decoder.slot_count(), -1) {
    const auto& contacts = device_.decoder.layout().contacts;
    bool has_size = !contacts.empty() && (contacts.front().width.present || contacts.front().height.present);
    sizes_in_use_ = options_.sizes.enabled && has_size && !(device_.cls.quirks & quirk::no_area) &&
                    device_.touch.x.resolution > 0 && device_.touch.y.resolution > 0;
}

contact_tool contact_tracker::tool_for_size(const tool_sizes& t, double size_mm) noexcept {
    if (t.palm_min_mm > 0 && size_mm >= t.palm_min_mm) return contact_tool::palm;
    if (t.eraser_min_mm > 0 && size_mm >= t.eraser_min_mm) return contact_tool::eraser;
    if (size_mm > 0 && size_mm <= t.pen_max_mm) return contact_tool::pen;
    return contact_tool::finger;
}

int64_t contact_tracker::timestamp(int64_t scan_time, int64_t now_us) {
    // mt_compute_timestamp: Scan Time counts in 100 us and wraps at its
    // logical maximum; a long silence restarts the count.
    int64_t delta = prev_scan_ < 0 ? 0 : scan_time - prev_scan_;
    if (delta < 0) delta += device_.decoder.layout().scan_time_max;
    int64_t gap = now_us - prev_report_us_;
    prev_scan_ = scan_time;
    prev_report_us_ = now_us;
    timestamp_us_ = gap > max_timestamp_interval_us ? 0 : timestamp_us_ + delta * 100;
    return timestamp_us_;
}

tracked_frame contact_tracker::track(mt_frame f, int64_t now_us) {
    tracked_frame out;
    if (f.scan_time >= 0) out.timestamp_us = timestamp(f.scan_time, now_us);

    for (size_t s = 0; s < f.slots.size(); ++s) {
        auto& slot = f.slots[s];
        if (slot.tracking_id != tracking_[s]) {
            tracking_[s] = slot.tracking_id;
            largest_mm_[s] = 0;
        }
        if (!sizes_in_use_ || slot.tracking_id < 0 || slot.tool == contact_tool::palm) continue;
        double w = slot.width / static_cast<double>(device_.touch.x.resolution);
        double h = slot.height / static_cast<double>(device_.touch.y.resolution);
        largest_mm_[s] = std::max({largest_mm_[s], w, h});
        slot.tool = tool_for_size(options_.sizes, largest_mm_[s]);
    }

    // The pen node: a device's own pen keeps it; else one pen or eraser contact.
    if (!pen_) {
        bool had = pen_slot_ >= 0;
        if (had) {
            const auto& slot = f.slots[static_cast<size_t>(pen_slot_)];
            if (slot.tracking_id != pen_tracking_ || !on_pen_node(slot.tool)) pen_slot_ = -1;
        }
        if (pen_slot_ < 0) {
            for (size_t s = 0; s < f.slots.size(); ++s) {
                if (f.slots[s].tracking_id >= 0 && on_pen_node(f.slots[s].tool)) {
                    pen_slot_ = static_cast<int>(s);
                    pen_tracking_ = f.slots[s].tracking_id;
                    break;
                }
            }
        }
        if (pen_slot_ >= 0) {
            auto& slot = f.slots[static_cast<size_t>(pen_slot_)];
            pen_state p;
            p.in_range = p.tip = true;
            p.eraser = slot.tool == contact_tool::eraser;
            p.x = slot.x;
            p.y = slot.y;
            p.pressure = slot.pressure;
            out.pen = p;
            out.pen_slot = pen_slot_;
            out.pen_contact = slot;
            // Off the touch node while it is the pen.
            slot.tracking_id = -1;
            if (static_cast<size_t>(pen_slot_) < f.reported.size()) f.reported[static_cast<size_t>(pen_slot_)] = true;
        } else if (had) {
            out.pen = pen_state{};
        }
    }

    f.touch = false;
    for (const auto& s : f.slots)
        f.touch = f.touch || s.tracking_id >= 0;
    down_ = f.touch || pen_slot_ >= 0 || pen_in_range_;
    out.touch = std::move(f);
    return out;
}

result<void> contact_tracker::feed(std::span<const uint8_t> report, int64_t now_us, std::vector<tracked_frame>& out) {
    last_report_us_ = now_us;
    // A pen report has an id of its own (a device without ids has one report).
    if (pen_ && pen_->report_id != 0 && !report.empty() && report[0] == pen_->report_id) {
        auto p = decode_pen(*pen_, report);
        if (!p) return p.error();
        if (*p) {
            pen_in_range_ = (*p)->in_range || (*p)->tip;
            down_ = down_ || pen_in_range_;
            tracked_frame f;
            f.pen = **p;
            out.push_back(std::move(f));
        }
        return {};
    }
    auto f = device_.decoder.feed(report);
    if (!f) return f.error();
    if (*f) {
        out.push_back(track(std::move(**f), now_us));
        if (auto palms = device_.decoder.release_pending_palms()) out.push_back(track(std::move(*palms), now_us));
    }
    return {};
}

std::optional<tracked_frame> contact_tracker::tick(int64_t now_us) {
    if (!down_ || now_us - last_report_us_ < options_.release_after.count()) return std::nullopt;
    auto f = track(device_.decoder.release_all(), now_us);
    if (pen_ && pen_in_range_) {
        pen_in_range_ = false;
        f.pen = pen_state{};
    }
    down_ = false;
    return f;
}

std::optional<int64_t> contact_tracker::deadline() const noexcept {
    if (!down_) return std::nullopt;
    return last_report_us_ + options_.release_after.count();
}

}  // namespace bbt::drivers::hid
