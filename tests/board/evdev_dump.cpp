// bbt-rig-evdev: in the board rig, writes the events of a touch node (a
// /dev/input/event* device with multitouch axes, not a pen node) whose phys
// starts with --phys (the agent's: "bbt/"; the kernel's hid-multitouch:
// "usb-") in evemu's text form:
//   N: <name>
//   A: <axis code, hex> <min> <max> <fuzz> <flat> <resolution>
//   E: <sec.usec> <type, hex> <code, hex> <value>
// It waits for the node, then records until no event came for --idle seconds.
// With --follow, a node that goes away (the board unplugged) is waited for
// again, and the times it went and came back are noted.
//   bbt-rig-evdev --out FILE [--phys PREFIX] [--wait S] [--idle S] [--follow]
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

namespace {

using clock_type = std::chrono::steady_clock;

libevdev* find_node(const std::string& prefix, int& fd_out, std::string* seen = nullptr) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev/input", ec)) {
        if (e.path().filename().string().rfind("event", 0) != 0) continue;
        int fd = ::open(e.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        libevdev* dev = nullptr;
        if (libevdev_new_from_fd(fd, &dev) != 0) {
            ::close(fd);
            continue;
        }
        std::string name = libevdev_get_name(dev);
        const char* phys = libevdev_get_phys(dev);
        if (seen != nullptr) {
            *seen += fmt::format("  {}: \"{}\" phys \"{}\"{}\n", e.path().string(), name, phys ? phys : "(none)",
                                 libevdev_has_event_code(dev, EV_ABS, ABS_MT_POSITION_X) ? ", multitouch" : "");
        }
        bool pen = name.size() >= 4 && name.compare(name.size() - 4, 4, " Pen") == 0;
        if (!pen && libevdev_has_event_code(dev, EV_ABS, ABS_MT_POSITION_X) && phys != nullptr &&
            std::string(phys).rfind(prefix, 0) == 0) {
            fd_out = fd;
            return dev;
        }
        libevdev_free(dev);
        ::close(fd);
    }
    return nullptr;
}

// The guest's monotonic clock in seconds, as /proc/uptime and the other
// rig programs give it.
double uptime() {
    timespec t{};
    ::clock_gettime(CLOCK_BOOTTIME, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_path, prefix = "bbt/";
    double wait_s = 30, idle_s = 3;
    bool follow = false;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (k == "--follow") {
            follow = true;
            continue;
        }
        if (i + 1 >= argc) break;
        if (k == "--out") out_path = argv[i + 1];
        if (k == "--phys") prefix = argv[i + 1];
        if (k == "--wait") wait_s = std::strtod(argv[i + 1], nullptr);
        if (k == "--idle") idle_s = std::strtod(argv[i + 1], nullptr);
        ++i;
    }
    if (out_path.empty()) {
        fmt::print(stderr, "usage: bbt-rig-evdev --out FILE [--phys PREFIX] [--wait S] [--idle S] [--follow]\n");
        return 2;
    }
    int fd = -1;
    libevdev* dev = nullptr;
    auto give_up = clock_type::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
    while ((dev = find_node(prefix, fd)) == nullptr) {
        if (clock_type::now() > give_up) {
            std::string seen;
            find_node(prefix, fd, &seen);
            fmt::print(stderr, "bbt-rig-evdev: no touch node with phys \"{}...\" appeared in {} s; there are:\n{}",
                       prefix, wait_s, seen);
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::FILE* out = std::fopen(out_path.c_str(), "w");
    if (out == nullptr) {
        fmt::print(stderr, "bbt-rig-evdev: {}: {}\n", out_path, std::strerror(errno));
        return 1;
    }
    fmt::print(out, "N: {}\nP: {}\n", libevdev_get_name(dev), libevdev_get_phys(dev));
    for (unsigned code : {ABS_MT_POSITION_X, ABS_MT_POSITION_Y}) {
        const input_absinfo* a = libevdev_get_abs_info(dev, code);
        fmt::print(out, "A: {:02x} {} {} {} {} {}\n", code, a->minimum, a->maximum, a->fuzz, a->flat, a->resolution);
    }
    fmt::print(stderr, "bbt-rig-evdev: recording \"{}\"\n", libevdev_get_name(dev));
    long events = 0;
    bool seen = false;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int timeout_ms = static_cast<int>((seen ? idle_s : wait_s) * 1000);
        int r = ::poll(&p, 1, timeout_ms);
        if (r <= 0) break;
        input_event ev{};
        int rc = 0;
        while ((rc = libevdev_next_event(dev, LIBEVDEV_READ_FLAG_NORMAL, &ev)) >= 0) {
            if (rc == LIBEVDEV_READ_STATUS_SYNC) {
                fmt::print(out, "# SYN_DROPPED: events were lost\n");
                while (libevdev_next_event(dev, LIBEVDEV_READ_FLAG_SYNC, &ev) == LIBEVDEV_READ_STATUS_SYNC) {
                }
                continue;
            }
            fmt::print(out, "E: {}.{:06} {:04x} {:04x} {}\n", ev.input_event_sec, ev.input_event_usec, ev.type, ev.code,
                       ev.value);
            ++events;
            seen = true;
        }
        if (rc == -EAGAIN) continue;
        if (rc != -ENODEV || !follow) break;
        // Unplugged: the node went away. With --follow, wait for the next one.
        double gone = uptime();
        fmt::print(out, "# node gone at {:.3f}\n", gone);
        fmt::print(stderr, "bbt-rig-evdev: node gone at {:.3f} s\n", gone);
        libevdev_free(dev);
        ::close(fd);
        give_up = clock_type::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
        while ((dev = find_node(prefix, fd)) == nullptr) {
            if (clock_type::now() > give_up) {
                fmt::print(stderr, "bbt-rig-evdev: no node came back in {} s\n", wait_s);
                std::fclose(out);
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        double back = uptime();
        fmt::print(out, "# node back at {:.3f}\n", back);
        fmt::print(stderr, "bbt-rig-evdev: node back at {:.3f} s\n", back);
    }
    std::fclose(out);
    fmt::print(stderr, "bbt-rig-evdev: {} events\n", events);
    libevdev_free(dev);
    ::close(fd);
    return 0;
}
