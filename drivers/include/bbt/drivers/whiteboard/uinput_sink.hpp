// The board's two input devices in the OS, made through libevdev's uinput
// helpers: a direct multitouch device (type B slots, tool types, resolution
// in units per mm, which libinput needs) and a pen (BTN_TOOL_PEN and
// BTN_TOOL_RUBBER), with the same phys so that desktops pair them.
#pragma once

#include "bbt/drivers/whiteboard/output.hpp"

#include <filesystem>
#include <memory>
#include <string>

struct libevdev;
struct libevdev_uinput;

namespace bbt::drivers::hid {

struct uinput_spec {
    std::string name;  // the touch node's; the pen node adds " Pen"
    uint16_t vendor = 0;
    uint16_t product = 0;
    uint16_t version = 0;
    std::string phys;
    size_t slots = 10;
    axis_range x, y;           // both nodes' positions
    int32_t pressure_max = 0;  // the pen's; 0: no pressure
};

struct libevdev_deleter {
    void operator()(libevdev* d) const noexcept;
};
using evdev_device = std::unique_ptr<libevdev, libevdev_deleter>;

// The description of one node, as it would be created (no I/O).
[[nodiscard]] evdev_device describe_node(const uinput_spec& spec, node n);

class uinput_sink final : public event_sink {
public:
    // Creates both nodes through `uinput` (normally /dev/uinput).
    [[nodiscard]] static result<std::unique_ptr<uinput_sink>> create(const uinput_spec& spec,
                                                                     const std::filesystem::path& uinput);
    ~uinput_sink() override;

    result<void> write(node n, std::span<const evdev_event> events) override;

    // The nodes' /dev/input/eventN, where udev made them.
    [[nodiscard]] std::string devnode(node n) const;

private:
    uinput_sink() = default;
    libevdev_uinput* touch_ = nullptr;
    libevdev_uinput* pen_ = nullptr;
    // One /dev/uinput descriptor per device: a descriptor creates only one.
    int touch_fd_ = -1;
    int pen_fd_ = -1;
};

}  // namespace bbt::drivers::hid
