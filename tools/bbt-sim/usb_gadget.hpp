// bbt-sim usb-gadget: a real whiteboard on the USB bus, played by the Linux
// USB gadget stack (configfs, usb_f_hid): the device's own ids, strings and
// report descriptor from a hid-recorder file, and its reports written into
// /dev/hidgN with their recorded timing. On a machine with a USB device
// controller (in the board rig, dummy_hcd) the host side sees the board.
#pragma once

#include <string>

namespace bbt::sim {

struct gadget_options {
    std::string recording;                        // hid-recorder file
    std::string configfs = "/sys/kernel/config";  // where configfs is mounted
    std::string udc;                              // empty: the first in /sys/class/udc
    std::string name = "bbt-board";               // the gadget's directory
    long reports = 0;                             // 0: all of them
    long replug_at = 0;                           // > 0: unbind before this report, bind again
    double replug_gap_s = 1;                      // seconds unbound
    double wait_s = 10;                           // for the host to take the board
    double hold_s = 0;                            // seconds plugged in after the last report
    double delay_s = 0;                           // seconds between the host taking the board and the first report
    double max_gap_s = 0;                         // > 0: longer pauses between reports are cut to this
    // Not empty: before the first report (and after a replug), wait until the
    // host side has bound this driver to the board's interface ("usbfs": a
    // program holds it through libusb; "usbhid": the kernel's own driver), so
    // that no report goes to a reader other than the one under test.
    std::string host_driver;
};

// Runs the gadget; returns the process's exit status.
int run_usb_gadget(const gadget_options& o);

}  // namespace bbt::sim
