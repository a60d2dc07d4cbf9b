// Where a board's HID reports come from: the USB transport on a classroom
// set, or a hid-recorder stream (a file replayed at its own pace, or a pipe
// that a board recorded elsewhere, or a simulator, writes into live). Both
// run on the control loop and report through the same callbacks.
#pragma once

#include "bbt/base/error.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace bbt::drivers::whiteboard {

// What failed on a board's transport, in the driver's terms: the USB
// backend translates libusb's LIBUSB_ERROR_* into these at its boundary, and
// the error's text says what failed, on which board, and what to do.
enum class usb_errc {
    io = 1,         // a transfer failed
    access_denied,  // the device node cannot be opened or claimed (permissions, udev rules)
    disconnected,   // the board was unplugged
    not_found,      // no such device, interface or endpoint
    busy,           // another program holds the interface
    timeout,
    overflow,  // the board sent more than was asked for
    stalled,   // the endpoint halted (LIBUSB_ERROR_PIPE)
    interrupted,
    no_memory,
    not_supported,  // the operation is not available on this system
    not_a_board,    // no HID interface with a report descriptor and an interrupt endpoint
    other,
};
const std::error_category& usb_category() noexcept;
std::error_code make_error_code(usb_errc e) noexcept;
// For people, in both languages: what the code means and what to do.
[[nodiscard]] std::string_view advice(usb_errc e) noexcept;

// Who the board is, for the inventory and for its calibration.
struct board_identity {
    uint16_t bus = 0x03;  // BUS_USB
    uint16_t vendor = 0;
    uint16_t product = 0;
    std::string manufacturer;
    std::string product_name;
    std::string serial;  // empty when the board has none
    std::string where;   // USB port path, or the file replayed

    // The key its calibration is stored under: the serial number, else
    // vendor:product (boards without a serial share one calibration per model).
    [[nodiscard]] std::string calibration_key() const;
};

struct board_events {
    std::function<void(const board_identity&, std::span<const uint8_t> descriptor)> connected;
    std::function<void(std::span<const uint8_t> report)> report;
    // `why` says what happened (unplugged, end of the stream, a read error).
    std::function<void(const error& why)> disconnected;
};

class board_source {
public:
    virtual ~board_source() = default;
    virtual void start(board_events events) = 0;
    virtual void stop() = 0;
};

// A hid-recorder file replayed with its original timing (again and again
// when `loop`), or a FIFO read live: connected once its header has arrived,
// disconnected when its writer closes it, connected again with the next one.
[[nodiscard]] std::unique_ptr<board_source> make_replay_source(boost::asio::any_io_executor executor,
                                                               std::filesystem::path path, bool loop);

struct usb_match;

// A board on USB, through libusb on the control loop: found in sysfs
// (`sysfs_root`, normally /sys/bus/usb/devices) by HID class and the table of
// supported boards or the configured ids, opened from /dev/bus/usb, taken from
// the kernel's driver, put into multitouch mode (Input Mode feature := 2) and
// read with interrupt transfers. Unplugged, it is looked for again every
// `rescan` (and at once on a libusb hotplug event where the system has them).
[[nodiscard]] std::unique_ptr<board_source> make_usb_source(
    boost::asio::any_io_executor executor, const usb_match& match,
    std::filesystem::path sysfs_root = "/sys/bus/usb/devices",
    std::chrono::milliseconds rescan = std::chrono::milliseconds(500));

}  // namespace bbt::drivers::whiteboard

template <>
struct std::is_error_code_enum<bbt::drivers::whiteboard::usb_errc> : std::true_type {};
