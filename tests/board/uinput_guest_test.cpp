// Run inside the board rig's guest (scenario uinput), which has real
// /dev/uinput: the sink's nodes made by the kernel and read back through evdev.
// Not a host test: the host's CTest runs it through the rig.
#include "bbt/drivers/whiteboard/uinput_sink.hpp"

#include "doctest_bbt.hpp"
#include "uinput_spec.hpp"

#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace bbt::drivers::hid;

namespace {

uinput_spec spec() { return bbt::test::test_uinput_spec(); }

}  // namespace

TEST_CASE("through real uinput: the events written come out of the touch node") {
    REQUIRE(::access("/dev/uinput", W_OK) == 0);
    auto sink = uinput_sink::create(spec(), "/dev/uinput");
    REQUIRE(sink);
    std::string path = (*sink)->devnode(node::touch);
    REQUIRE_FALSE(path.empty());
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd >= 0);
    libevdev* dev = nullptr;
    REQUIRE(libevdev_new_from_fd(fd, &dev) == 0);
    CHECK(libevdev_get_abs_resolution(dev, ABS_MT_POSITION_X) == 12);
    std::vector<evdev_event> frame{{EV_ABS, ABS_MT_SLOT, 0},         {EV_ABS, ABS_MT_TRACKING_ID, 7},
                                   {EV_ABS, ABS_MT_POSITION_X, 500}, {EV_ABS, ABS_MT_POSITION_Y, 600},
                                   {EV_KEY, BTN_TOUCH, 1},           {EV_SYN, SYN_REPORT, 0}};
    REQUIRE((*sink)->write(node::touch, frame));
    // Read until the frame's SYN_REPORT; poll() waits for the events (the
    // bound only stops a hang in a slow emulated guest).
    input_event ev{};
    int x = -1;
    bool synced = false;
    while (!synced) {
        int rc = libevdev_next_event(dev, LIBEVDEV_READ_FLAG_NORMAL, &ev);
        if (rc == -EAGAIN) {
            pollfd p{fd, POLLIN, 0};
            REQUIRE(::poll(&p, 1, 30'000) == 1);
            continue;
        }
        REQUIRE(rc == LIBEVDEV_READ_STATUS_SUCCESS);
        if (ev.type == EV_ABS && ev.code == ABS_MT_POSITION_X) x = ev.value;
        if (ev.type == EV_SYN) synced = true;
    }
    CHECK(x == 500);
    libevdev_free(dev);
    ::close(fd);
}
