// bbt-sim: simulators that speak the real wire protocols, so the agent runs
// the same code against them as against the hardware.
//
//   bbt-sim whiteboard --out PATH [--rounds N]
//       a simulated IR touch frame: its HID report descriptor and reports,
//       as a hid-recorder stream into PATH (a FIFO the agent reads, or a
//       file), drawing with a finger, a pen and an eraser in turn.
#include "bbt/base/i18n.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/sim_board.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace i18n = bbt::i18n;
namespace hid = bbt::drivers::hid;
using namespace std::chrono_literals;

volatile std::sig_atomic_t stopping = 0;

void usage(std::FILE* out) {
    fmt::print(out, "{}",
               i18n::text({"Usage: bbt-sim whiteboard --out PATH [--rounds N]\n"
                           "  A simulated IR touch frame streamed as hid-recorder lines into PATH (a FIFO the\n"
                           "  agent reads as whiteboard.device, or a file): a finger, a pen and an eraser draw\n"
                           "  in turn, N rounds (default: until stopped).\n",
                           "用法：bbt-sim whiteboard --out 路径 [--rounds 轮数]\n"
                           "  模拟红外触摸框，以 hid-recorder 格式写入路径（代理程序作为 whiteboard.device 读取的\n"
                           "  FIFO，或普通文件）：手指、笔和板擦依次书写，共若干轮（默认直到停止）。\n"}));
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
    usage(stderr);
    return 2;
}
