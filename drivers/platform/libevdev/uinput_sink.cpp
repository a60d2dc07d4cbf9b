// libevdev is included only here.
#include "bbt/drivers/whiteboard/uinput_sink.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/utf8.hpp"

#include <fcntl.h>
#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bbt::drivers::hid {
namespace {

void enable_abs(libevdev* d, unsigned code, const axis_range& r) {
    input_absinfo info{};
    info.minimum = r.min;
    info.maximum = r.max;
    info.fuzz = r.fuzz;
    info.resolution = r.resolution;
    libevdev_enable_event_code(d, EV_ABS, code, &info);
}

void enable_abs(libevdev* d, unsigned code, int32_t min, int32_t max) {
    enable_abs(d, code, axis_range{min, max, 0, 0});
}

error uinput_error(int err, std::string_view what, const std::filesystem::path& path) {
    std::string_view hint =
        err == EACCES || err == EPERM
            ? i18n::text({"the agent's user needs write access to it (the udev rule in systemd/ gives "
                          "it to the bbt group)",
                          "代理程序的用户需要对其有写权限（systemd/ 中的 udev 规则授予 bbt 组）"})
        : err == ENOENT ? i18n::text({"load the uinput kernel module (modprobe uinput)",
                                      "请加载 uinput 内核模块（modprobe uinput）"})
                        : i18n::text({"check the kernel log", "请查看内核日志"});
    return error(std::error_code(err, std::system_category()),
                 i18n::format({"cannot {} through {}: {}; {}", "无法通过 {} {}：{}；{}"}, what, path.string(),
                              std::strerror(err), hint),
                 path.string());
}

// uinput refuses a name of UINPUT_MAX_NAME_SIZE (80) bytes or more with
// EINVAL; boards' product strings can be longer. Cut at a UTF-8 boundary.
std::string node_name(std::string name, size_t max = UINPUT_MAX_NAME_SIZE - 1) {
    name.resize(utf8::cut(name, max).size());
    return name;
}

}  // namespace

void libevdev_deleter::operator()(libevdev* d) const noexcept { libevdev_free(d); }

evdev_device describe_node(const uinput_spec& spec, node n) {
    evdev_device d(libevdev_new());
    // The pen node's name keeps its " Pen" however long the board's is.
    std::string name = n == node::pen ? node_name(spec.name, UINPUT_MAX_NAME_SIZE - 5) + " Pen" : node_name(spec.name);
    libevdev_set_name(d.get(), name.c_str());
    libevdev_set_id_bustype(d.get(), BUS_USB);
    libevdev_set_id_vendor(d.get(), spec.vendor);
    libevdev_set_id_product(d.get(), spec.product);
    libevdev_set_id_version(d.get(), spec.version);
    if (!spec.phys.empty()) libevdev_set_phys(d.get(), spec.phys.c_str());
    libevdev_enable_property(d.get(), INPUT_PROP_DIRECT);
    libevdev_enable_event_type(d.get(), EV_SYN);
    libevdev_enable_event_code(d.get(), EV_KEY, BTN_TOUCH, nullptr);
    enable_abs(d.get(), ABS_X, spec.x);
    enable_abs(d.get(), ABS_Y, spec.y);
    if (n == node::touch) {
        enable_abs(d.get(), ABS_MT_SLOT, 0, static_cast<int32_t>(spec.slots) - 1);
        enable_abs(d.get(), ABS_MT_TRACKING_ID, 0, 65535);
        enable_abs(d.get(), ABS_MT_POSITION_X, spec.x);
        enable_abs(d.get(), ABS_MT_POSITION_Y, spec.y);
        enable_abs(d.get(), ABS_MT_TOOL_TYPE, 0, MT_TOOL_MAX);
        libevdev_enable_event_code(d.get(), EV_MSC, MSC_TIMESTAMP, nullptr);
    } else {
        for (unsigned key : {BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_STYLUS, BTN_STYLUS2})
            libevdev_enable_event_code(d.get(), EV_KEY, key, nullptr);
        if (spec.pressure_max > 0) enable_abs(d.get(), ABS_PRESSURE, 0, spec.pressure_max);
    }
    return d;
}

result<std::unique_ptr<uinput_sink>> uinput_sink::create(const uinput_spec& spec, const std::filesystem::path& uinput) {
    std::unique_ptr<uinput_sink> sink(new uinput_sink());
    for (node n : {node::touch, node::pen}) {
        int& fd = n == node::touch ? sink->touch_fd_ : sink->pen_fd_;
        fd = ::open(uinput.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return uinput_error(errno, i18n::text({"create input devices", "创建输入设备"}), uinput);
        // libevdev does not pass the phys on to uinput; set on the descriptor
        // first, it stays through the device's creation. Touch and pen
        // nodes share it, which is how user space groups them.
        if (!spec.phys.empty() && ::ioctl(fd, UI_SET_PHYS, spec.phys.c_str()) != 0) {
            return uinput_error(errno, i18n::text({"create input devices", "创建输入设备"}), uinput);
        }
        auto d = describe_node(spec, n);
        libevdev_uinput*& out = n == node::touch ? sink->touch_ : sink->pen_;
        if (int rc = libevdev_uinput_create_from_device(d.get(), fd, &out); rc < 0) {
            return uinput_error(-rc, i18n::text({"create input devices", "创建输入设备"}), uinput);
        }
    }
    return sink;
}

uinput_sink::~uinput_sink() {
    if (touch_) libevdev_uinput_destroy(touch_);
    if (pen_) libevdev_uinput_destroy(pen_);
    if (touch_fd_ >= 0) ::close(touch_fd_);
    if (pen_fd_ >= 0) ::close(pen_fd_);
}

result<void> uinput_sink::write(node n, std::span<const evdev_event> events) {
    libevdev_uinput* u = n == node::touch ? touch_ : pen_;
    for (const auto& e : events) {
        if (int rc = libevdev_uinput_write_event(u, e.type, e.code, e.value); rc < 0) {
            return uinput_error(-rc, i18n::text({"write input events", "写入输入事件"}),
                                libevdev_uinput_get_devnode(u) ? libevdev_uinput_get_devnode(u) : "uinput");
        }
    }
    return {};
}

std::string uinput_sink::devnode(node n) const {
    const char* p = libevdev_uinput_get_devnode(n == node::touch ? touch_ : pen_);
    return p ? p : "";
}

}  // namespace bbt::drivers::hid
