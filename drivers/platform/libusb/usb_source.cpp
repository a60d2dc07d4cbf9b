// The whiteboard's USB transport. libusb runs on the control loop: its file
// descriptors are watched by Asio and its events handled there, so transfers
// complete on the same thread as everything else. Boards are found by reading
// sysfs and opened through their usbfs node (libusb_wrap_sys_device), which
// works with or without a udev daemon; replug is found by a rescan, and at
// once by libusb's hotplug where the system delivers it.
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/drivers/whiteboard/board_source.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/usb_boards.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <libusb.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

namespace bbt::drivers::whiteboard {
namespace {

namespace asio = boost::asio;
namespace hid = bbt::drivers::hid;
const log::category lg{"whiteboard.usb"};

constexpr unsigned control_timeout_ms = 500;
constexpr int transfers_in_flight = 2;
constexpr int max_consecutive_errors = 5;

std::string read_attr(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

template <class T>
bool number(std::string_view s, T& out, int base) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

// Every USB device sysfs lists, with whether one of its interfaces is HID.
std::vector<usb_candidate> scan_sysfs(const std::filesystem::path& root) {
    std::vector<usb_candidate> out;
    std::map<std::string, bool> hid_of;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
        std::string name = e.path().filename().string();
        auto colon = name.find(':');
        if (colon != std::string::npos) {
            if (read_attr(e.path() / "bInterfaceClass") == "03") hid_of[name.substr(0, colon)] = true;
            continue;
        }
        usb_candidate c;
        c.sysfs_name = name;
        if (!number(read_attr(e.path() / "idVendor"), c.vendor, 16) ||
            !number(read_attr(e.path() / "idProduct"), c.product, 16) ||
            !number(read_attr(e.path() / "busnum"), c.busnum, 10) ||
            !number(read_attr(e.path() / "devnum"), c.devnum, 10)) {
            continue;
        }
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(),
              [](const usb_candidate& a, const usb_candidate& b) { return a.sysfs_name < b.sysfs_name; });
    for (auto& c : out)
        c.has_hid_interface = hid_of[c.sysfs_name];
    return out;
}

// The report descriptor's length, from the HID class descriptor (0x21) in
// the interface's extra bytes; 0 when there is none.
uint16_t report_descriptor_length(const libusb_interface_descriptor& alt) {
    const unsigned char* x = alt.extra;
    int n = alt.extra_length;
    for (int i = 0; i + 1 < n && x[i] >= 2; i += x[i]) {
        if (x[i + 1] != 0x21 || x[i] < 9 || i + x[i] > n) continue;
        int count = x[i + 5];
        for (int k = 0; k < count && i + 8 + 3 * k < i + x[i]; ++k) {
            if (x[i + 6 + 3 * k] == 0x22) return static_cast<uint16_t>(x[i + 7 + 3 * k] | (x[i + 8 + 3 * k] << 8));
        }
    }
    return 0;
}

bool is_digitizer(const hid::descriptor& d) {
    auto apps = d.applications();
    return std::any_of(apps.begin(), apps.end(), [](hid::usage_code u) { return (u >> 16) == 0x0d; });
}

// libusb's codes, translated at this boundary: the rest of the agent sees usb_errc.
usb_errc usb_code(int rc) {
    switch (rc) {
        case LIBUSB_ERROR_IO: return usb_errc::io;
        case LIBUSB_ERROR_ACCESS: return usb_errc::access_denied;
        case LIBUSB_ERROR_NO_DEVICE: return usb_errc::disconnected;
        case LIBUSB_ERROR_NOT_FOUND: return usb_errc::not_found;
        case LIBUSB_ERROR_BUSY: return usb_errc::busy;
        case LIBUSB_ERROR_TIMEOUT: return usb_errc::timeout;
        case LIBUSB_ERROR_OVERFLOW: return usb_errc::overflow;
        case LIBUSB_ERROR_PIPE: return usb_errc::stalled;
        case LIBUSB_ERROR_INTERRUPTED: return usb_errc::interrupted;
        case LIBUSB_ERROR_NO_MEM: return usb_errc::no_memory;
        case LIBUSB_ERROR_NOT_SUPPORTED: return usb_errc::not_supported;
        default: return usb_errc::other;
    }
}

// What a person reads of a libusb code: the driver's words, and libusb's own
// name for it (for a search or a bug report).
std::string usb_error(int rc) { return fmt::format("{} ({})", advice(usb_code(rc)), libusb_error_name(rc)); }

class usb_state : public std::enable_shared_from_this<usb_state> {
public:
    usb_state(asio::any_io_executor ex, usb_match m, std::filesystem::path root, std::chrono::milliseconds rescan)
        : ex_(ex), match_(m), root_(std::move(root)), rescan_period_(rescan), timer_(ex) {}

    void start(board_events events) {
        events_ = std::move(events);
        running_ = true;
        if (int rc = libusb_init(&ctx_); rc != 0) {
            ctx_ = nullptr;
            fail_once(
                error(usb_code(rc), i18n::format({"libusb cannot start: {}", "libusb 无法启动：{}"}, usb_error(rc))));
            return;
        }
        libusb_set_pollfd_notifiers(ctx_, &usb_state::fd_added, &usb_state::fd_removed, this);
        if (const libusb_pollfd** fds = libusb_get_pollfds(ctx_)) {
            for (auto** f = fds; *f != nullptr; ++f)
                watch((*f)->fd, (*f)->events);
            libusb_free_pollfds(fds);
        }
        if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) != 0) {
            libusb_hotplug_register_callback(ctx_, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, LIBUSB_HOTPLUG_NO_FLAGS,
                                             LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                                             LIBUSB_HOTPLUG_MATCH_ANY, &usb_state::arrived, this, &hotplug_);
        }
        scan();
    }

    void stop() {
        running_ = false;
        events_ = {};
        timer_.cancel();
        if (ctx_ == nullptr) return;
        if (handle_ != nullptr) {
            closing_ = true;
            for (auto* t : transfers_)
                libusb_cancel_transfer(t);
            timeval tick{0, 10'000};
            for (int i = 0; i < 100 && in_flight_ > 0; ++i)
                libusb_handle_events_timeout_completed(ctx_, &tick, nullptr);
            close_device();
        }
        if (hotplug_ != 0) libusb_hotplug_deregister_callback(ctx_, hotplug_);
        libusb_set_pollfd_notifiers(ctx_, nullptr, nullptr, nullptr);
        for (auto& [fd, w] : watches_)
            unwatch(*w);
        watches_.clear();
        libusb_exit(ctx_);
        ctx_ = nullptr;
    }

private:
    struct fd_watch {
        explicit fd_watch(asio::any_io_executor ex) : sd(ex) {}
        asio::posix::stream_descriptor sd;
        bool removed = false;
    };

    // --- libusb's descriptors on the control loop
    static void fd_added(int fd, short events, void* self) { static_cast<usb_state*>(self)->watch(fd, events); }
    static void fd_removed(int fd, void* self) {
        auto* s = static_cast<usb_state*>(self);
        if (auto it = s->watches_.find(fd); it != s->watches_.end()) {
            unwatch(*it->second);
            s->watches_.erase(it);
        }
    }
    static void unwatch(fd_watch& w) {
        w.removed = true;
        boost::system::error_code ec;
        w.sd.cancel(ec);
        (void)w.sd.release();
    }
    void watch(int fd, short events) {
        auto w = std::make_shared<fd_watch>(ex_);
        boost::system::error_code ec;
        w->sd.assign(fd, ec);
        if (ec) {
            log::error(lg, "cannot watch libusb's descriptor {}: {}", fd, ec.message());
            return;
        }
        watches_[fd] = w;
        if (events & POLLIN) arm(w, asio::posix::stream_descriptor::wait_read);
        if (events & POLLOUT) arm(w, asio::posix::stream_descriptor::wait_write);
    }
    void arm(const std::shared_ptr<fd_watch>& w, asio::posix::stream_descriptor::wait_type type) {
        w->sd.async_wait(type, [self = shared_from_this(), w, type](boost::system::error_code ec) {
            if (ec || w->removed || self->ctx_ == nullptr) return;
            timeval zero{0, 0};
            libusb_handle_events_timeout_completed(self->ctx_, &zero, nullptr);
            if (!w->removed) self->arm(w, type);
        });
    }
    static int arrived(libusb_context*, libusb_device*, libusb_hotplug_event, void* self) {
        auto* s = static_cast<usb_state*>(self);
        asio::post(s->ex_, [p = s->shared_from_this()] {
            if (p->handle_ == nullptr) p->scan();
        });
        return 0;
    }

    // --- finding and opening the board
    void scan() {
        if (!running_ || ctx_ == nullptr || handle_ != nullptr) return;
        auto found = pick_board(scan_sysfs(root_), match_);
        if (!found) {
            note(i18n::text({"no whiteboard on USB; waiting for one to be plugged in", "USB 上没有白板；等待插入"}),
                 false);
        } else if (auto r = open(*found); !r) {
            note(r.error().what(), true);
            close_device();
        }
        if (handle_ == nullptr) schedule_scan();
    }
    void schedule_scan() {
        if (!running_) return;
        timer_.expires_after(rescan_period_);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->scan();
        });
    }
    // Says a problem once, not at every rescan.
    void note(std::string_view what, bool is_error) {
        if (what == last_note_) return;
        last_note_ = what;
        if (is_error) {
            log::error(lg, "{}", what);
        } else {
            log::info(lg, "{}", what);
        }
    }
    void fail_once(const error& e) {
        log::error(lg, "{}", e.what());
        if (events_.disconnected) events_.disconnected(e);
    }

    result<void> open(const usb_candidate& c) {
        auto node = fmt::format("/dev/bus/usb/{:03}/{:03}", c.busnum, c.devnum);
        fd_ = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
        if (fd_ < 0) {
            return errno_error(errno,
                               i18n::text({"opening the whiteboard (is the agent in the group the udev rules name?)",
                                           "打开白板（代理程序是否在 udev 规则指定的用户组中？）"}),
                               node);
        }
        if (int rc = libusb_wrap_sys_device(ctx_, fd_, &handle_); rc != 0) {
            handle_ = nullptr;
            return fault(node, i18n::text({"libusb cannot use the device", "libusb 无法使用该设备"}), rc);
        }
        libusb_device* dev = libusb_get_device(handle_);
        libusb_device_descriptor dd{};
        libusb_get_device_descriptor(dev, &dd);
        board_identity id;
        id.vendor = dd.idVendor;
        id.product = dd.idProduct;
        id.manufacturer = string_descriptor(dd.iManufacturer);
        id.product_name = string_descriptor(dd.iProduct);
        id.serial = string_descriptor(dd.iSerialNumber);
        id.where = "usb " + c.sysfs_name;
        where_ = fmt::format("{:04x}:{:04x} at usb {}", id.vendor, id.product, c.sysfs_name);

        // The kernel's driver lets go of an interface while we hold it, and
        // takes it back when we release it.
        if (int rc = libusb_set_auto_detach_kernel_driver(handle_, 1); rc != 0 && rc != LIBUSB_ERROR_NOT_SUPPORTED) {
            return fault(where_,
                         i18n::text({"cannot take the board from the kernel's driver", "无法从内核驱动接管白板"}), rc);
        }
        auto chosen = choose_interface(dev);
        if (!chosen) return chosen.error();
        // SET_IDLE 0, as the kernel's usbhid: report only on change. Boards
        // that do not know it stall, which is fine.
        libusb_control_transfer(handle_, 0x21, 0x0a, 0, iface_, nullptr, 0, control_timeout_ms);
        set_input_mode();
        last_note_.clear();
        log::notice(lg, "whiteboard {} \"{}\" connected", where_, id.product_name);
        connected_ = true;
        events_.connected(id, descriptor_bytes_);
        if (!connected_) return {};  // the handler stopped us
        for (int i = 0; i < transfers_in_flight; ++i) {
            auto* t = libusb_alloc_transfer(0);
            buffers_.emplace_back(buffer_size_);
            libusb_fill_interrupt_transfer(t, handle_, endpoint_, buffers_.back().data(),
                                           static_cast<int>(buffer_size_), &usb_state::transfer_done, this, 0);
            transfers_.push_back(t);
        }
        for (auto* t : transfers_) {
            if (int rc = libusb_submit_transfer(t); rc != 0) {
                connected_ = false;
                events_.disconnected(
                    error(usb_code(rc),
                          i18n::format({"cannot read the whiteboard: {}", "无法读取白板：{}"}, usb_error(rc)), where_));
                closing_ = true;
                for (auto* u : transfers_)
                    libusb_cancel_transfer(u);
                if (in_flight_ == 0) post_close();
                return {};
            }
            ++in_flight_;
        }
        return {};
    }

    error fault(const std::string& where, std::string_view what, int rc) {
        return error(usb_code(rc), fmt::format("{}: {}", what, usb_error(rc)), where);
    }

    // A string descriptor in US English, else the first language, as UTF-8
    // (boards made for China often name themselves in Chinese).
    std::string string_descriptor(uint8_t index) {
        if (index == 0) return {};
        unsigned char langs[8];
        uint16_t lang = 0x0409;
        int n = libusb_get_string_descriptor(handle_, 0, 0, langs, sizeof langs);
        if (n >= 4 && !(langs[2] == 0x09 && langs[3] == 0x04)) lang = static_cast<uint16_t>(langs[2] | (langs[3] << 8));
        unsigned char buf[256];
        n = libusb_get_string_descriptor(handle_, index, lang, buf, sizeof buf);
        if (n < 2 || buf[1] != LIBUSB_DT_STRING) return {};
        std::u16string utf16;
        for (int i = 2; i + 1 < std::min<int>(n, buf[0]); i += 2)
            utf16.push_back(static_cast<char16_t>(buf[i] | (buf[i + 1] << 8)));
        return utf8::from_utf16(utf16);
    }

    // The HID interface with a digitizer collection (else the first HID
    // interface), its report descriptor and its interrupt IN endpoint.
    result<void> choose_interface(libusb_device* dev) {
        libusb_config_descriptor* cfg = nullptr;
        if (int rc = libusb_get_active_config_descriptor(dev, &cfg); rc != 0) {
            return fault(where_, i18n::text({"cannot read the board's configuration", "无法读取白板的配置描述符"}), rc);
        }
        std::unique_ptr<libusb_config_descriptor, void (*)(libusb_config_descriptor*)> guard(
            cfg, libusb_free_config_descriptor);
        bool found = false;
        std::string why;  // what each HID interface lacked, for the error
        for (int i = 0; i < cfg->bNumInterfaces; ++i) {
            if (cfg->interface[i].num_altsetting < 1) continue;
            const auto& alt = cfg->interface[i].altsetting[0];
            if (alt.bInterfaceClass != LIBUSB_CLASS_HID) continue;
            uint8_t ep = 0;
            uint16_t packet = 0;
            for (int e = 0; e < alt.bNumEndpoints; ++e) {
                const auto& d = alt.endpoint[e];
                if ((d.bEndpointAddress & LIBUSB_ENDPOINT_IN) &&
                    (d.bmAttributes & 0x03) == LIBUSB_TRANSFER_TYPE_INTERRUPT) {
                    ep = d.bEndpointAddress;
                    packet = d.wMaxPacketSize;
                    break;
                }
            }
            uint16_t len = report_descriptor_length(alt);
            if (ep == 0 || len == 0) {
                why += fmt::format("; interface {}: {}", alt.bInterfaceNumber,
                                   ep == 0 ? "no interrupt IN endpoint" : "no report descriptor in its HID descriptor");
                continue;
            }
            // usbfs passes requests to an interface only from its holder.
            if (int rc = libusb_claim_interface(handle_, alt.bInterfaceNumber); rc != 0) {
                why += fmt::format("; interface {}: cannot claim it (is another program using the board?): {}",
                                   alt.bInterfaceNumber, usb_error(rc));
                continue;
            }
            std::vector<uint8_t> bytes(len);
            int n = libusb_control_transfer(handle_, 0x81, LIBUSB_REQUEST_GET_DESCRIPTOR, 0x2200, alt.bInterfaceNumber,
                                            bytes.data(), len, control_timeout_ms);
            if (n <= 0) {
                libusb_release_interface(handle_, alt.bInterfaceNumber);
                why += fmt::format("; interface {}: reading its report descriptor: {}", alt.bInterfaceNumber,
                                   usb_error(n));
                continue;
            }
            bytes.resize(static_cast<size_t>(n));
            auto parsed = hid::parse_descriptor(bytes);
            bool digitizer = parsed && is_digitizer(*parsed);
            if (found && !digitizer) {
                libusb_release_interface(handle_, alt.bInterfaceNumber);
                continue;
            }
            if (found) libusb_release_interface(handle_, iface_);
            found = true;
            claimed_ = true;
            iface_ = alt.bInterfaceNumber;
            endpoint_ = ep;
            descriptor_bytes_ = std::move(bytes);
            size_t largest = packet;
            if (parsed) {
                for (const auto& r : parsed->reports) {
                    if (r.type == hid::report_type::input) largest = std::max<size_t>(largest, r.size_bytes());
                }
                descriptor_ = std::move(*parsed);
            }
            buffer_size_ = std::max<size_t>(largest, 64);
            if (digitizer) break;
        }
        if (!found) {
            return error(
                usb_errc::not_a_board,
                std::string(i18n::text({"the device has no HID interface with a report descriptor and an "
                                        "interrupt endpoint; it is not a whiteboard this agent can drive",
                                        "该设备没有带报告描述符和中断端点的 HID 接口，不是本程序可驱动的白板"})) +
                    why,
                where_);
        }
        return {};
    }

    // Input Mode := 2 (multi-input device) in the first feature report that
    // declares one, as hid-multitouch does: read the report, change the
    // field, write it back. Without it many boards stay in mouse emulation.
    void set_input_mode() {
        if (!descriptor_) return;
        for (const auto& r : descriptor_->reports) {
            if (r.type != hid::report_type::feature) continue;
            for (const auto& f : r.fields) {
                if (!f.is_variable() || f.usage_of(0) != hid::usages::input_mode || f.bit_size == 0 ||
                    f.bit_size > 32) {
                    continue;
                }
                std::vector<uint8_t> buf(r.size_bytes());
                uint16_t value = static_cast<uint16_t>((0x03 << 8) | r.id);
                int n = libusb_control_transfer(handle_, 0xa1, 0x01, value, iface_, buf.data(),
                                                static_cast<uint16_t>(buf.size()), control_timeout_ms);
                if (n != static_cast<int>(buf.size())) std::fill(buf.begin(), buf.end(), 0);
                if (descriptor_->uses_report_ids) buf[0] = r.id;
                for (uint32_t b = 0; b < f.bit_size; ++b) {
                    uint32_t at = f.bit_offset + b;
                    if (at / 8 >= buf.size()) break;
                    uint8_t mask = static_cast<uint8_t>(1u << (at % 8));
                    buf[at / 8] = static_cast<uint8_t>(((2u >> b) & 1u) ? (buf[at / 8] | mask) : (buf[at / 8] & ~mask));
                }
                int rc = libusb_control_transfer(handle_, 0x21, 0x09, value, iface_, buf.data(),
                                                 static_cast<uint16_t>(buf.size()), control_timeout_ms);
                if (rc < 0) {
                    log::warning(lg,
                                 "{}: the board refused multitouch mode (Input Mode, report {}): {}; it may "
                                 "keep acting as a mouse",
                                 where_, r.id, usb_error(rc));
                } else {
                    log::info(lg, "{}: multitouch mode set (Input Mode := 2, feature report {})", where_, r.id);
                }
                return;
            }
        }
    }

    // --- reading
    static void LIBUSB_CALL transfer_done(libusb_transfer* t) { static_cast<usb_state*>(t->user_data)->done(t); }

    void done(libusb_transfer* t) {
        switch (t->status) {
            case LIBUSB_TRANSFER_COMPLETED:
                errors_ = 0;
                if (connected_ && running_ && !closing_ && events_.report) {
                    events_.report(std::span<const uint8_t>(t->buffer, static_cast<size_t>(t->actual_length)));
                }
                resubmit(t);
                return;
            case LIBUSB_TRANSFER_TIMED_OUT:
            case LIBUSB_TRANSFER_OVERFLOW:  // babble: the packet is lost, the endpoint is fine
                log::debug(lg, "{}: a transfer {}; reading on", where_,
                           t->status == LIBUSB_TRANSFER_OVERFLOW ? "overflowed" : "timed out");
                resubmit(t);
                return;
            case LIBUSB_TRANSFER_STALL:
                log::warning(lg, "{}: the interrupt endpoint stalled; clearing it", where_);
                if (!closing_) libusb_clear_halt(handle_, endpoint_);
                count_error(t);
                return;
            case LIBUSB_TRANSFER_NO_DEVICE:
                --in_flight_;
                lost(i18n::text({"the whiteboard was unplugged", "白板已拔出"}));
                return;
            case LIBUSB_TRANSFER_CANCELLED:
                --in_flight_;
                if (closing_ && in_flight_ == 0) post_close();
                return;
            default: count_error(t); return;
        }
    }

    void count_error(libusb_transfer* t) {
        if (++errors_ > max_consecutive_errors) {
            --in_flight_;
            lost(i18n::text(
                {"reading the whiteboard failed repeatedly; it is opened again", "读取白板多次失败；将重新打开"}));
            return;
        }
        resubmit(t);
    }

    void resubmit(libusb_transfer* t) {
        if (closing_ || !running_) {
            --in_flight_;
            if (closing_ && in_flight_ == 0) post_close();
            return;
        }
        if (int rc = libusb_submit_transfer(t); rc != 0) {
            --in_flight_;
            lost(rc == LIBUSB_ERROR_NO_DEVICE
                     ? std::string(i18n::text({"the whiteboard was unplugged", "白板已拔出"}))
                     : i18n::format({"cannot read the whiteboard: {}", "无法读取白板：{}"}, usb_error(rc)));
        }
    }

    void lost(std::string_view why) {
        if (!closing_) {
            closing_ = true;
            log::warning(lg, "{}: {}", where_, why);
            if (connected_ && events_.disconnected) {
                connected_ = false;
                events_.disconnected(error(usb_errc::disconnected, why, where_));
            }
            connected_ = false;
            for (auto* t : transfers_)
                libusb_cancel_transfer(t);
        }
        if (in_flight_ == 0) post_close();
    }

    // Closing waits until libusb has returned from the callback.
    void post_close() {
        asio::post(ex_, [self = shared_from_this()] {
            if (self->handle_ == nullptr || self->in_flight_ > 0) return;
            self->close_device();
            self->scan();
        });
    }

    void close_device() {
        for (auto* t : transfers_)
            libusb_free_transfer(t);
        transfers_.clear();
        buffers_.clear();
        in_flight_ = 0;
        if (handle_ != nullptr) {
            if (claimed_) libusb_release_interface(handle_, iface_);
            libusb_close(handle_);
            handle_ = nullptr;
        }
        claimed_ = false;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        closing_ = false;
        connected_ = false;
        errors_ = 0;
        descriptor_.reset();
    }

    asio::any_io_executor ex_;
    usb_match match_;
    std::filesystem::path root_;
    std::chrono::milliseconds rescan_period_;
    asio::steady_timer timer_;
    board_events events_;
    bool running_ = false;
    libusb_context* ctx_ = nullptr;
    libusb_hotplug_callback_handle hotplug_ = 0;
    std::map<int, std::shared_ptr<fd_watch>> watches_;

    int fd_ = -1;
    libusb_device_handle* handle_ = nullptr;
    std::string where_;
    int iface_ = 0;
    bool claimed_ = false;
    uint8_t endpoint_ = 0;
    size_t buffer_size_ = 64;
    std::vector<uint8_t> descriptor_bytes_;
    std::optional<hid::descriptor> descriptor_;
    std::vector<libusb_transfer*> transfers_;
    std::vector<std::vector<uint8_t>> buffers_;
    int in_flight_ = 0;
    int errors_ = 0;
    bool connected_ = false;
    bool closing_ = false;
    std::string last_note_;
};

class usb_source final : public board_source {
public:
    explicit usb_source(std::shared_ptr<usb_state> s) : state_(std::move(s)) {}
    ~usb_source() override { state_->stop(); }
    void start(board_events events) override { state_->start(std::move(events)); }
    void stop() override { state_->stop(); }

private:
    std::shared_ptr<usb_state> state_;
};

}  // namespace

std::unique_ptr<board_source> make_usb_source(asio::any_io_executor executor, const usb_match& match,
                                              std::filesystem::path sysfs_root, std::chrono::milliseconds rescan) {
    return std::make_unique<usb_source>(std::make_shared<usb_state>(executor, match, std::move(sysfs_root), rescan));
}

}  // namespace bbt::drivers::whiteboard
