// Which USB devices are whiteboards: the vendors of interactive boards and
// touch frames found in classrooms (a product of 0 stands for all of the
// vendor's), and how a configured `whiteboard.device = "usb[:VID:PID]"` picks
// one. The same table makes the udev rules that give the agent its boards.
// Pure: no I/O here; the transport reads sysfs and hands the candidates in.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::drivers::whiteboard {

struct usb_board_id {
    uint16_t vendor;
    uint16_t product;  // 0: every product of the vendor
    std::string_view maker;
};

[[nodiscard]] std::span<const usb_board_id> supported_usb_boards() noexcept;

// What whiteboard.device asks for: "usb" (any supported board) or
// "usb:6615:0081" (that vendor and product, supported or not).
struct usb_match {
    uint16_t vendor = 0;  // 0: any in the table
    uint16_t product = 0;
};
// nullopt when `spec` does not start with "usb" (it is a file then).
[[nodiscard]] result<std::optional<usb_match>> parse_usb_device(std::string_view spec);

// A USB device as sysfs shows it.
struct usb_candidate {
    std::string sysfs_name;  // "1-1.2": bus and port path
    uint16_t vendor = 0;
    uint16_t product = 0;
    uint8_t busnum = 0;
    uint8_t devnum = 0;
    bool has_hid_interface = false;
};

// The first candidate that is a HID device and matches; nullopt when none.
[[nodiscard]] std::optional<usb_candidate> pick_board(const std::vector<usb_candidate>& candidates,
                                                      const usb_match& match);

// udev rules giving `group` read and write access to every supported board.
[[nodiscard]] std::string udev_rules(std::string_view group);

}  // namespace bbt::drivers::whiteboard
