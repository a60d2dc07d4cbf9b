// The last steps of the touch path: the calibration's projective map onto the
// configured screen area, and the events of the two nodes a board gives the
// OS (multitouch and pen), written to a sink: uinput on a classroom set, a
// recording in tests.
#pragma once

#include "bbt/drivers/whiteboard/calibration.hpp"
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/evdev_frame.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bbt::drivers::hid {

struct axis_range {
    int32_t min = 0;
    int32_t max = 0;
    int32_t resolution = 0;  // units per mm on the board; 0 when unknown
    int32_t fuzz = 0;
};

struct screen_rect {
    double x = 0;
    double y = 0;
    double width = 0;
    double height = 0;
};

// The map an uncalibrated board has: its whole range stretched over `area`
// (screen pixels).
[[nodiscard]] whiteboard::homography stretch_to_area(const touch_device& d, screen_rect area);

// Device units to the nodes' units.
class screen_map {
public:
    // Subdivisions of a screen pixel in the nodes' units.
    static constexpr int32_t subpixels = 16;

    // Touches in the device's own units, ranges, resolution and fuzz: what
    // the kernel's hid-multitouch would report.
    [[nodiscard]] static screen_map device_units(const touch_device& d);

    // Touches on the screen: the nodes span `screen_width` x `screen_height`
    // pixels; the board covers `area`. `calibration` maps device units to
    // screen pixels; without one the device's range is stretched over the area.
    [[nodiscard]] static screen_map to_screen(const touch_device& d, double screen_width, double screen_height,
                                              screen_rect area, const whiteboard::homography* calibration);

    // The same map for positions given on other axes (a pen report's):
    // they are first stretched onto the touch axes.
    [[nodiscard]] screen_map for_axes(const touch_device& d, const touch_axis& x, const touch_axis& y) const;

    // Maps a position, clamped to the nodes' ranges.
    void apply(int32_t& x, int32_t& y) const noexcept;

    [[nodiscard]] const axis_range& x() const noexcept { return x_; }
    [[nodiscard]] const axis_range& y() const noexcept { return y_; }

private:
    bool identity_ = true;
    whiteboard::homography to_units_;  // device units -> node units
    axis_range x_, y_;
};

enum class node { touch, pen };
[[nodiscard]] const char* to_string(node n) noexcept;

// Where a board's events go. One write is one or more whole frames, each
// ending in SYN_REPORT.
class event_sink {
public:
    virtual ~event_sink() = default;
    [[nodiscard]] virtual result<void> write(node n, std::span<const evdev_event> events) = 0;
};

// Keeps every event, for tests and `bbtctl whiteboard record`.
class recording_sink final : public event_sink {
public:
    struct entry {
        node n;
        evdev_event e;
    };
    result<void> write(node n, std::span<const evdev_event> events) override;
    [[nodiscard]] const std::vector<entry>& events() const noexcept { return events_; }
    void clear() noexcept { events_.clear(); }

private:
    std::vector<entry> events_;
};

// Tracked frames to the sink, through the screen maps of the two nodes (a
// device's own pen may have axes of its own).
class touch_output {
public:
    touch_output(size_t slots, screen_map touch_map, screen_map pen_map, event_sink& sink)
        : writer_(slots), touch_map_(std::move(touch_map)), pen_map_(std::move(pen_map)), sink_(&sink) {}

    [[nodiscard]] result<void> write(const tracked_frame& f);

    // A new calibration takes effect from the next frame.
    void set_maps(screen_map touch_map, screen_map pen_map) {
        touch_map_ = std::move(touch_map);
        pen_map_ = std::move(pen_map);
    }

private:
    evdev_writer writer_;
    pen_writer pen_;
    screen_map touch_map_, pen_map_;
    event_sink* sink_;
};

}  // namespace bbt::drivers::hid
