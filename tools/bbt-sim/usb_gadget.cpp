#include "usb_gadget.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace bbt::sim {
namespace {

namespace fs = std::filesystem;
namespace hid = bbt::drivers::hid;
using clock = std::chrono::steady_clock;

struct gadget_error {
    std::string what;
};

void write_file(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw gadget_error{fmt::format("{}: {}", p.string(), std::strerror(errno))};
}

void make_dir(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) throw gadget_error{fmt::format("{}: {}", p.string(), ec.message())};
}

std::string first_udc() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/class/udc", ec))
        return e.path().filename().string();
    return {};
}

// The longest report the board sends: the descriptor's input reports and
// the recorded ones.
size_t report_length(const hid::recording& rec) {
    size_t n = 8;
    if (auto d = hid::parse_descriptor(rec.descriptor)) {
        for (const auto& r : d->reports) {
            if (r.type == hid::report_type::input) n = std::max<size_t>(n, r.size_bytes());
        }
    }
    for (const auto& r : rec.reports)
        n = std::max(n, r.data.size());
    return n;
}

class gadget {
public:
    gadget(const gadget_options& o, const hid::recording& rec)
        : o_(o), dir_(fs::path(o.configfs) / "usb_gadget" / o.name) {
        if (!fs::exists(fs::path(o.configfs) / "usb_gadget")) {
            throw gadget_error{i18n::format({"{} has no usb_gadget: is configfs mounted and libcomposite loaded?",
                                             "{} 下没有 usb_gadget：configfs 是否已挂载、libcomposite 是否已加载？"},
                                            o.configfs)};
        }
        udc_ = o.udc.empty() ? first_udc() : o.udc;
        if (udc_.empty()) {
            throw gadget_error{std::string(i18n::text({"no USB device controller in /sys/class/udc (load dummy_hcd)",
                                                       "/sys/class/udc 中没有 USB 设备控制器（请加载 dummy_hcd）"}))};
        }
        // A gadget left bound by an earlier run is the same board still plugged in.
        std::ifstream bound(dir_ / "UDC");
        std::string bound_to;
        std::getline(bound, bound_to);
        if (!bound_to.empty()) return;
        make_dir(dir_);
        write_file(dir_ / "idVendor", fmt::format("0x{:04x}", rec.vendor));
        write_file(dir_ / "idProduct", fmt::format("0x{:04x}", rec.product));
        write_file(dir_ / "bcdUSB", "0x0200");
        write_file(dir_ / "bcdDevice", "0x0100");
        make_dir(dir_ / "strings/0x409");
        auto name = rec.name.empty() ? fmt::format("HID {:04x}:{:04x}", rec.vendor, rec.product) : rec.name;
        write_file(dir_ / "strings/0x409/manufacturer", "Board Rig");
        write_file(dir_ / "strings/0x409/product", name);
        write_file(dir_ / "strings/0x409/serialnumber", fmt::format("RIG-{:04x}{:04x}", rec.vendor, rec.product));
        auto fn = dir_ / "functions/hid.usb0";
        make_dir(fn);
        write_file(fn / "protocol", "0");
        write_file(fn / "subclass", "0");
        write_file(fn / "report_length", std::to_string(report_length(rec)));
        write_file(fn / "report_desc",
                   std::string_view(reinterpret_cast<const char*>(rec.descriptor.data()), rec.descriptor.size()));
        make_dir(dir_ / "configs/c.1/strings/0x409");
        write_file(dir_ / "configs/c.1/strings/0x409/configuration", "whiteboard");
        write_file(dir_ / "configs/c.1/MaxPower", "100");
        std::error_code ec;
        fs::create_directory_symlink(fn, dir_ / "configs/c.1/hid.usb0", ec);
        if (ec && ec != std::errc::file_exists)
            throw gadget_error{fmt::format("linking the HID function: {}", ec.message())};
        plug();
    }
    ~gadget() {
        // Left bound: the board stays on the bus until the rig powers off,
        // unless it was unplugged.
    }
    void plug() { write_file(dir_ / "UDC", udc_); }
    void unplug() { write_file(dir_ / "UDC", "\n"); }

private:
    gadget_options o_;
    fs::path dir_;
    std::string udc_;
};

// Seconds since boot, as /proc/uptime: the rig's programs note times on it.
double uptime() {
    timespec t{};
    ::clock_gettime(CLOCK_BOOTTIME, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Waits until the host side's interface of the board (vendor:product) is
// bound to `driver`; false when it was not within `wait_s`.
bool wait_host_driver(const hid::recording& rec, const std::string& driver, double wait_s) {
    auto until = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait_s));
    auto vid = fmt::format("{:04x}", rec.vendor), pid = fmt::format("{:04x}", rec.product);
    for (;;) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/sys/bus/usb/devices", ec)) {
            auto name = e.path().filename().string();
            auto colon = name.find(':');
            if (colon == std::string::npos) continue;
            auto dev = e.path().parent_path() / name.substr(0, colon);
            std::ifstream v(dev / "idVendor"), p(dev / "idProduct");
            std::string vs, ps;
            std::getline(v, vs);
            std::getline(p, ps);
            if (vs != vid || ps != pid) continue;
            auto link = fs::read_symlink(e.path() / "driver", ec);
            if (!ec && link.filename() == driver) return true;
        }
        if (clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

int open_hidg(double wait_s) {
    auto until = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait_s));
    for (;;) {
        int fd = ::open("/dev/hidg0", O_WRONLY | O_CLOEXEC);
        if (fd >= 0 || clock::now() > until) return fd;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

int run_usb_gadget(const gadget_options& o) {
    std::ifstream in(o.recording, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "bbt-sim: usb-gadget: {}: {}\n", o.recording, std::strerror(errno));
        return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto rec = hid::parse_recording(text.str());
    if (!rec) {
        fmt::print(stderr, "bbt-sim: usb-gadget: {}: {}\n", o.recording, rec.error().message());
        return 1;
    }
    try {
        gadget g(o, *rec);
        int fd = open_hidg(o.wait_s);
        if (fd < 0) throw gadget_error{fmt::format("/dev/hidg0: {}", std::strerror(errno))};
        size_t n =
            o.reports > 0 ? std::min<size_t>(static_cast<size_t>(o.reports), rec->reports.size()) : rec->reports.size();
        fmt::print(stderr, "bbt-sim: usb-gadget {:04x}:{:04x} \"{}\": {} reports\n", rec->vendor, rec->product,
                   rec->name, n);
        auto wait_driver = [&] {
            if (!o.host_driver.empty() && !wait_host_driver(*rec, o.host_driver, o.wait_s)) {
                throw gadget_error{
                    fmt::format("the host did not bind {} to the board within {} s", o.host_driver, o.wait_s)};
            }
        };
        wait_driver();
        std::this_thread::sleep_for(std::chrono::duration<double>(o.delay_s));
        auto start = clock::now();
        double first = rec->reports.empty() ? 0 : rec->reports.front().time;
        double shift = 0;  // time spent unplugged, less the pauses cut short
        for (size_t i = 0; i < n; ++i) {
            const auto& r = rec->reports[i];
            if (o.max_gap_s > 0 && i > 0 && r.time - rec->reports[i - 1].time > o.max_gap_s) {
                shift -= r.time - rec->reports[i - 1].time - o.max_gap_s;
            }
            if (o.replug_at > 0 && i == static_cast<size_t>(o.replug_at)) {
                ::close(fd);
                g.unplug();
                fmt::print(stderr, "bbt-sim: usb-gadget: unplugged before report {} at {:.3f} s\n", i, uptime());
                std::this_thread::sleep_for(std::chrono::duration<double>(o.replug_gap_s));
                g.plug();
                fmt::print(stderr, "bbt-sim: usb-gadget: plugged in again at {:.3f} s\n", uptime());
                fd = open_hidg(o.wait_s);
                wait_driver();
                auto back = clock::now();
                if (fd < 0) throw gadget_error{fmt::format("/dev/hidg0 after replug: {}", std::strerror(errno))};
                shift = std::chrono::duration<double>(back - start).count() - (r.time - first);
            }
            std::this_thread::sleep_until(start + std::chrono::duration_cast<clock::duration>(
                                                      std::chrono::duration<double>(r.time - first + shift)));
            // Blocks until the host side polls: the host's pace, not ours.
            // Just plugged in, the function answers ESHUTDOWN until the host
            // has configured the device.
            auto give_up =
                clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.wait_s));
            while (::write(fd, r.data.data(), r.data.size()) != static_cast<ssize_t>(r.data.size())) {
                if (errno != ESHUTDOWN || clock::now() > give_up) {
                    throw gadget_error{fmt::format("writing report {} to /dev/hidg0: {}", i, std::strerror(errno))};
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        ::close(fd);
        fmt::print(stderr, "bbt-sim: usb-gadget: {} reports written\n", n);
        std::this_thread::sleep_for(std::chrono::duration<double>(o.hold_s));
    } catch (const gadget_error& e) {
        fmt::print(stderr, "bbt-sim: usb-gadget: {}\n", e.what);
        return 1;
    }
    return 0;
}

}  // namespace bbt::sim
