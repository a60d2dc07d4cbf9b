#include "bbt/drivers/whiteboard/output.hpp"

#include <algorithm>
#include <cmath>

namespace bbt::drivers::hid {
namespace {

using whiteboard::homography;

// a after b: first b, then a.
homography compose(const homography& a, const homography& b) {
    homography out;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            double v = 0;
            for (int k = 0; k < 3; ++k)
                v += a.h[static_cast<size_t>(r * 3 + k)] * b.h[static_cast<size_t>(k * 3 + c)];
            out.h[static_cast<size_t>(r * 3 + c)] = v;
        }
    }
    double n = out.h[8];
    if (n != 0 && std::isfinite(n)) {
        for (auto& v : out.h)
            v /= n;
    }
    return out;
}

// The affine map taking [from_min, from_max] onto [to_min, to_max] on each axis.
homography stretch(double fx0, double fx1, double fy0, double fy1, double tx0, double tx1, double ty0, double ty1) {
    double sx = fx1 != fx0 ? (tx1 - tx0) / (fx1 - fx0) : 1.0;
    double sy = fy1 != fy0 ? (ty1 - ty0) / (fy1 - fy0) : 1.0;
    homography m;
    m.h = {sx, 0, tx0 - fx0 * sx, 0, sy, ty0 - fy0 * sy, 0, 0, 1};
    return m;
}

int32_t clamp_round(double v, int32_t lo, int32_t hi) {
    if (!std::isfinite(v)) return lo;
    return static_cast<int32_t>(std::clamp(std::lround(v), static_cast<long>(lo), static_cast<long>(hi)));
}

}  // namespace

homography stretch_to_area(const touch_device& d, screen_rect area) {
    const auto& x = d.touch.x;
    const auto& y = d.touch.y;
    return stretch(x.logical_min, x.logical_max, y.logical_min, y.logical_max, area.x, area.x + area.width, area.y,
                   area.y + area.height);
}

const char* to_string(node n) noexcept { return n == node::pen ? "pen" : "touch"; }

screen_map screen_map::device_units(const touch_device& d) {
    screen_map m;
    const auto& x = d.touch.x;
    const auto& y = d.touch.y;
    m.x_ = {x.logical_min, x.logical_max, x.resolution, d.cls.fuzz(x.logical_min, x.logical_max)};
    m.y_ = {y.logical_min, y.logical_max, y.resolution, d.cls.fuzz(y.logical_min, y.logical_max)};
    return m;
}

screen_map screen_map::to_screen(const touch_device& d, double screen_width, double screen_height, screen_rect area,
                                 const whiteboard::homography* calibration) {
    const auto& x = d.touch.x;
    const auto& y = d.touch.y;
    homography to_pixels = calibration ? *calibration
                                       : stretch(x.logical_min, x.logical_max, y.logical_min, y.logical_max, area.x,
                                                 area.x + area.width, area.y, area.y + area.height);
    homography to_units;
    to_units.h = {subpixels, 0, 0, 0, subpixels, 0, 0, 0, 1};
    screen_map m;
    m.identity_ = false;
    m.to_units_ = compose(to_units, to_pixels);
    // Units per mm on the board: the area's units over the board's millimetres.
    double device_w = x.logical_max - x.logical_min, device_h = y.logical_max - y.logical_min;
    double per_device_x = device_w > 0 ? area.width * subpixels / device_w : 0;
    double per_device_y = device_h > 0 ? area.height * subpixels / device_h : 0;
    m.x_ = {0, static_cast<int32_t>(screen_width * subpixels) - 1,
            static_cast<int32_t>(std::lround(x.resolution * per_device_x)),
            static_cast<int32_t>(std::lround(d.cls.fuzz(x.logical_min, x.logical_max) * per_device_x))};
    m.y_ = {0, static_cast<int32_t>(screen_height * subpixels) - 1,
            static_cast<int32_t>(std::lround(y.resolution * per_device_y)),
            static_cast<int32_t>(std::lround(d.cls.fuzz(y.logical_min, y.logical_max) * per_device_y))};
    return m;
}

screen_map screen_map::for_axes(const touch_device& d, const touch_axis& x, const touch_axis& y) const {
    screen_map m = *this;
    if (identity_) {
        m.x_ = {x.logical_min, x.logical_max, x.resolution, 0};
        m.y_ = {y.logical_min, y.logical_max, y.resolution, 0};
        return m;
    }
    const auto& tx = d.touch.x;
    const auto& ty = d.touch.y;
    m.to_units_ = compose(to_units_, stretch(x.logical_min, x.logical_max, y.logical_min, y.logical_max, tx.logical_min,
                                             tx.logical_max, ty.logical_min, ty.logical_max));
    m.x_.fuzz = m.y_.fuzz = 0;
    return m;
}

void screen_map::apply(int32_t& x, int32_t& y) const noexcept {
    if (identity_) return;
    auto p = to_units_.apply({static_cast<double>(x), static_cast<double>(y)});
    x = clamp_round(p.x, x_.min, x_.max);
    y = clamp_round(p.y, y_.min, y_.max);
}

result<void> recording_sink::write(node n, std::span<const evdev_event> events) {
    for (const auto& e : events)
        events_.push_back({n, e});
    return {};
}

result<void> touch_output::write(const tracked_frame& f) {
    if (f.touch) {
        mt_frame mapped = *f.touch;
        for (auto& s : mapped.slots) {
            if (s.tracking_id >= 0) touch_map_.apply(s.x, s.y);
        }
        auto events = writer_.frame(mapped, f.timestamp_us);
        if (auto r = sink_->write(node::touch, events); !r) return r;
    }
    if (f.pen) {
        pen_state p = *f.pen;
        pen_map_.apply(p.x, p.y);
        auto events = pen_.frame(p);
        if (!events.empty()) {
            if (auto r = sink_->write(node::pen, events); !r) return r;
        }
    }
    return {};
}

}  // namespace bbt::drivers::hid
