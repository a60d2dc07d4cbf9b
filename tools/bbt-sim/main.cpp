// bbt-sim: simulators that speak the real wire protocols, so the agent runs
// the same code against them as against the hardware.
//
//   bbt-sim whiteboard --out PATH [--rounds N]
//       a simulated IR touch frame: its HID report descriptor and reports,
//       as a hid-recorder stream into PATH (a FIFO the agent reads, or a
//       file), drawing with a finger, a pen and an eraser in turn.
//
//   bbt-sim projector [--port N] [--class 1|2] [--password P] [options]
//       a PJLink projector on TCP (projector.hpp), each known quirk of real
//       ones switchable.
#include "projector.hpp"
#include "usb_gadget.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/sim_board.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace i18n = bbt::i18n;
namespace hid = bbt::drivers::hid;
using namespace std::chrono_literals;

volatile std::sig_atomic_t stopping = 0;

void usage(std::FILE* out) {
    fmt::print(out, "{}",
               i18n::text({"Usage: bbt-sim key --panel PATH [KEY]\n"
                           "  Press a simulated board's front-panel key (default class: start or end the class);\n"
                           "  PATH is `panel` in the agent's state directory.\n"
                           "Usage: bbt-sim whiteboard --out PATH [--rounds N]\n"
                           "  A simulated IR touch frame streamed as hid-recorder lines into PATH (a FIFO the\n"
                           "  agent reads as whiteboard.device, or a file): a finger, a pen and an eraser draw\n"
                           "  in turn, N rounds (default: until stopped).\n"
                           "Usage: bbt-sim usb-gadget --recording FILE [--udc NAME] [--reports N]\n"
                           "         [--replug-at N [--replug-gap S]] [--delay S] [--max-gap S] [--hold S]\n"
                           "         [--host-driver usbfs|usbhid]\n"
                           "  A recorded whiteboard played on the USB bus by the kernel's gadget stack (configfs,\n"
                           "  usb_f_hid; root): its ids, strings and descriptor, its reports into /dev/hidg0 with\n"
                           "  their timing (pauses cut to --max-gap); --replug-at unplugs the board before report N\n"
                           "  and plugs it in again; --host-driver waits until the host binds that driver to it.\n"
                           "Usage: bbt-sim projector [--listen ADDR] [--port N] [--class 1|2] [--password P]\n"
                           "         [--warmup S] [--cooldown S] [--lamp-hours H] [--hours-per-second X] [--lamps N]\n"
                           "         [--filter-hours H] [--erst DIGITS] [--power-failure] [--idle-timeout S]\n"
                           "         [--quirk lowercase|nul|clss-text|laser|lkup|long-line|unknown-resolution|\n"
                           "                  wrong-echo]...\n"
                           "         [--udp-port N] [--notify HOST:PORT] [--serial epson-escvp21|benq --pty PATH]\n"
                           "  A PJLink projector on TCP (default 127.0.0.1:4352; port 0 picks a free one), or with\n"
                           "  --serial a projector on a serial line: a pseudo-terminal linked at PATH.\n",
                           "用法：bbt-sim key --panel 路径 [按键]\n"
                           "  按下模拟板卡的面板按键（默认 class：上课/下课），路径为代理程序状态目录中的 panel。\n"
                           "用法：bbt-sim whiteboard --out 路径 [--rounds 轮数]\n"
                           "  模拟红外触摸框，以 hid-recorder 格式写入路径（代理程序作为 whiteboard.device 读取的\n"
                           "  FIFO，或普通文件）：手指、笔和板擦依次书写，共若干轮（默认直到停止）。\n"
                           "用法：bbt-sim usb-gadget --recording 文件 [--udc 名称] [--reports 数量]\n"
                           "         [--replug-at 序号 [--replug-gap 秒]] [--delay 秒] [--max-gap 秒] [--hold 秒]\n"
                           "         [--host-driver usbfs|usbhid]\n"
                           "  由内核 USB gadget 协议栈（configfs、usb_f_hid；需 root）在 USB 总线上扮演录制的白板：\n"
                           "  使用其 ID、字符串和描述符，按原始时间将报告写入 /dev/hidg0；--replug-at 在第 N 个\n"
                           "  报告前拔出白板并重新插入；--host-driver 等待主机一侧为其绑定该驱动。\n"
                           "用法：bbt-sim projector [--listen 地址] [--port 端口] [--class 1|2] [--password 密码]\n"
                           "         [--warmup 秒] [--cooldown 秒] [--lamp-hours 小时] [--hours-per-second 倍数]\n"
                           "         [--lamps 个数] [--filter-hours 小时] [--erst 六位数字] [--power-failure]\n"
                           "         [--idle-timeout 秒] [--quirk lowercase|nul|clss-text|laser|lkup|long-line|\n"
                           "                  unknown-resolution|wrong-echo]...\n"
                           "         [--udp-port 端口] [--notify 主机:端口] [--serial epson-escvp21|benq --pty 路径]\n"
                           "  模拟 PJLink 投影机（默认 127.0.0.1:4352；端口 0 表示任选空闲端口）；\n"
                           "  使用 --serial 时模拟串口投影机：伪终端链接于指定路径。\n"}));
}

class stream {
public:
    explicit stream(std::string path) : path_(std::move(path)) {}
    ~stream() {
        if (fd_ >= 0) ::close(fd_);
    }
    // Opens (for a FIFO: waits for its reader) and writes the header.
    bool open() {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            fmt::print(stderr, "bbt-sim: {}: {}\n", path_, std::strerror(errno));
            return false;
        }
        start_ = std::chrono::steady_clock::now();
        hid::recording r;
        r.name = hid::sim::name;
        r.bus = 3;
        r.vendor = hid::sim::vendor;
        r.product = hid::sim::product;
        r.descriptor = hid::parse_hex(hid::sim::board_descriptor).value();
        return write(hid::serialize(r));
    }
    bool report(const std::vector<uint8_t>& bytes) {
        hid::recording r;
        double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        r.reports.push_back({t, bytes});
        std::string text = hid::serialize(r);
        return write(text.substr(text.find("\nE:") + 1));
    }

private:
    bool write(std::string_view text) {
        while (!text.empty()) {
            ssize_t n = ::write(fd_, text.data(), text.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;  // the reader went away
            text.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }
    std::string path_;
    int fd_ = -1;
    std::chrono::steady_clock::time_point start_;
};

// One stroke: a contact of `size_mm` drawing a circle around (cx, cy) for
// a second at 100 reports per second, then lifting.
bool stroke(stream& s, int id, double cx, double cy, double size_mm) {
    int w = static_cast<int>(size_mm * 10);
    for (int i = 0; i <= 100 && !stopping; ++i) {
        double a = i * 2 * M_PI / 100;
        int x = static_cast<int>(cx + 400 * std::cos(a)), y = static_cast<int>(cy + 300 * std::sin(a));
        if (!s.report(hid::sim::touch_report(i < 100, id, x, y, w, w, i * 100))) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

int run_whiteboard(const std::string& out, long rounds) {
    std::signal(SIGPIPE, SIG_IGN);
    stream s(out);
    if (!s.open()) return 1;
    fmt::print(
        stderr, "{}\n",
        i18n::format({"bbt-sim: whiteboard {:04x}:{:04x} streaming into {}", "bbt-sim：白板 {:04x}:{:04x} 正在写入 {}"},
                     hid::sim::vendor, hid::sim::product, out));
    for (long round = 0; (rounds <= 0 || round < rounds) && !stopping; ++round) {
        // A finger (12 mm), a pen (3 mm), the board eraser (50 mm).
        if (!stroke(s, 1, 1200, 1500, 12) || !stroke(s, 2, 2000, 2000, 3) || !stroke(s, 3, 2800, 2500, 50)) {
            fmt::print(stderr, "{}\n",
                       i18n::text({"bbt-sim: the reader closed the stream", "bbt-sim：读取方已关闭数据流"}));
            return 0;
        }
        for (int i = 0; i < 20 && !stopping; ++i)
            std::this_thread::sleep_for(100ms);
    }
    return 0;
}

// The projector's options; nullopt (after saying why) when they are wrong.
std::optional<bbt::sim::projector_options> parse_projector(const std::vector<std::string_view>& args) {
    bbt::sim::projector_options o;
    auto number = [](std::string_view text, double min, double max, double& out) {
        std::string t(text);
        char* end = nullptr;
        double v = std::strtod(t.c_str(), &end);
        if (end == t.c_str() || *end != '\0' || !(v >= min && v <= max)) return false;
        out = v;
        return true;
    };
    for (size_t i = 1; i < args.size(); ++i) {
        std::string_view a = args[i];
        bool has_value = i + 1 < args.size();
        std::string_view v = has_value ? args[i + 1] : std::string_view();
        double d = 0;
        bool ok = true;
        if (a == "--power-failure") {
            o.power_failure = true;
            continue;
        }
        if (!has_value) {
            ok = false;
        } else if (a == "--listen") {
            o.listen = std::string(v);
        } else if (a == "--port") {
            ok = number(v, 0, 65535, d);
            o.port = static_cast<uint16_t>(d);
        } else if (a == "--class") {
            ok = number(v, 1, 2, d) && (d == 1 || d == 2);
            o.pjlink_class = static_cast<int>(d);
        } else if (a == "--password") {
            o.password = std::string(v);
        } else if (a == "--warmup") {
            ok = number(v, 0, 3600, o.warmup_s);
        } else if (a == "--cooldown") {
            ok = number(v, 0, 3600, o.cooldown_s);
        } else if (a == "--lamp-hours") {
            ok = number(v, 0, 99999, o.lamp_hours);
        } else if (a == "--hours-per-second") {
            ok = number(v, 0, 1e6, o.hours_per_second);
        } else if (a == "--lamps") {
            ok = number(v, 0, 8, d) && d == std::floor(d);
            o.lamps = static_cast<int>(d);
        } else if (a == "--filter-hours") {
            ok = number(v, 0, 99999, o.filter_hours);
        } else if (a == "--erst") {
            o.error_status = std::string(v);
            ok = o.error_status.size() == 6 && o.error_status.find_first_not_of("012") == std::string::npos;
        } else if (a == "--idle-timeout") {
            ok = number(v, 0.05, 3600, o.idle_timeout_s);
        } else if (a == "--quirk") {
            const auto& known = bbt::sim::projector_quirks();
            ok = std::find(known.begin(), known.end(), v) != known.end();
            o.quirks.insert(std::string(v));
        } else if (a == "--serial") {
            o.serial_set = std::string(v);
            ok = o.serial_set == "epson-escvp21" || o.serial_set == "benq";
        } else if (a == "--udp-port") {
            ok = number(v, 0, 65535, d);
            o.udp_port = static_cast<int>(d);
        } else if (a == "--notify") {
            o.notify = std::string(v);
        } else if (a == "--pty") {
            o.pty_link = std::string(v);
        } else if (a == "--name") {
            o.name = std::string(v);
        } else {
            ok = false;
        }
        if (!ok) {
            fmt::print(
                stderr, "{}",
                i18n::format({"bbt-sim: projector: bad option {} {}\n", "bbt-sim：projector：选项错误 {} {}\n"}, a, v));
            return std::nullopt;
        }
        ++i;
    }
    if (o.serial_set.empty() != o.pty_link.empty()) {
        fmt::print(stderr, "{}",
                   i18n::text({"bbt-sim: projector: --serial SET and --pty PATH go together\n",
                               "bbt-sim：projector：--serial 与 --pty 须同时给出\n"}));
        return std::nullopt;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::set(i18n::from_environment());
    std::signal(SIGINT, [](int) { stopping = 1; });
    std::signal(SIGTERM, [](int) { stopping = 1; });
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        usage(stdout);
        return 0;
    }
    if (args.size() == 1 && args[0] == "--version") {
        fmt::print("bbt-sim {}\n", bbt::bbt_version());
        return 0;
    }
    if (!args.empty() && args[0] == "whiteboard") {
        std::string out;
        long rounds = 0;
        for (size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--out" && i + 1 < args.size()) {
                out = std::string(args[++i]);
            } else if (args[i] == "--rounds" && i + 1 < args.size()) {
                rounds = std::strtol(std::string(args[++i]).c_str(), nullptr, 10);
            } else {
                out.clear();
                break;
            }
        }
        if (!out.empty()) return run_whiteboard(out, rounds);
    }
    if (args.size() >= 3 && args[0] == "key" && args[1] == "--panel") {
        // A press of the front-panel key of a simulated board: a line into its FIFO.
        std::string name = args.size() >= 4 ? std::string(args[3]) : "class";
        int fd = ::open(std::string(args[2]).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        std::string line = name + "\n";
        if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            fmt::print(stderr, "{}",
                       i18n::format({"bbt-sim: key: {}: {} (is the agent running on the simulated board?)\n",
                                     "bbt-sim：按键：{}：{}（代理程序是否在模拟板卡上运行？）\n"},
                                    args[2], std::strerror(errno)));
            if (fd >= 0) ::close(fd);
            return 1;
        }
        ::close(fd);
        return 0;
    }
    if (!args.empty() && args[0] == "projector") {
        if (auto o = parse_projector(args)) return bbt::sim::run_projector(*o);
    }
    if (!args.empty() && args[0] == "usb-gadget") {
        bbt::sim::gadget_options o;
        bool ok = true;
        for (size_t i = 1; i < args.size() && ok; ++i) {
            bool more = i + 1 < args.size();
            std::string v = more ? std::string(args[i + 1]) : std::string();
            if (args[i] == "--recording" && more) {
                o.recording = v;
            } else if (args[i] == "--udc" && more) {
                o.udc = v;
            } else if (args[i] == "--configfs" && more) {
                o.configfs = v;
            } else if (args[i] == "--reports" && more) {
                o.reports = std::strtol(v.c_str(), nullptr, 10);
            } else if (args[i] == "--replug-at" && more) {
                o.replug_at = std::strtol(v.c_str(), nullptr, 10);
            } else if (args[i] == "--replug-gap" && more) {
                o.replug_gap_s = std::strtod(v.c_str(), nullptr);
            } else if (args[i] == "--hold" && more) {
                o.hold_s = std::strtod(v.c_str(), nullptr);
            } else if (args[i] == "--delay" && more) {
                o.delay_s = std::strtod(v.c_str(), nullptr);
            } else if (args[i] == "--host-driver" && more) {
                o.host_driver = v;
            } else if (args[i] == "--max-gap" && more) {
                o.max_gap_s = std::strtod(v.c_str(), nullptr);
            } else {
                ok = false;
            }
            ++i;
        }
        if (ok && !o.recording.empty()) return bbt::sim::run_usb_gadget(o);
    }
    usage(stderr);
    return 2;
}
