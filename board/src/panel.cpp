#include "bbt/board/panel.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

namespace bbt::board {

std::string_view to_string(led l) noexcept { return l == led::in_class ? "in-class" : "fault"; }

result<std::unique_ptr<sim_panel>> sim_panel::open(const std::filesystem::path& keys, std::filesystem::path led_log) {
    if (::mkfifo(keys.c_str(), 0660) != 0 && errno != EEXIST) {
        return errno_error(errno, i18n::text({"making the simulated panel's key FIFO", "创建模拟面板按键 FIFO"}),
                           keys.string());
    }
    int rd = ::open(keys.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rd < 0) {
        return errno_error(errno, i18n::text({"opening the simulated panel's keys", "打开模拟面板按键"}),
                           keys.string());
    }
    int keep = ::open(keys.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    return std::make_unique<sim_panel>(rd, keep, std::move(led_log));
}

sim_panel::~sim_panel() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (keep_fd_ >= 0) ::close(keep_fd_);
}

result<std::vector<std::string>> sim_panel::read_keys() {
    std::vector<std::string> keys;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n > 0) {
            partial_.append(buf, static_cast<size_t>(n));
            if (partial_.size() > 4096) partial_.clear();  // no key name is that long
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) {
            return errno_error(errno, i18n::text({"reading the simulated panel's keys", "读取模拟面板按键"}), "");
        }
        break;
    }
    size_t at = 0;
    for (size_t nl; (nl = partial_.find('\n', at)) != std::string::npos; at = nl + 1) {
        std::string k = partial_.substr(at, nl - at);
        while (!k.empty() && (k.back() == '\r' || k.back() == ' '))
            k.pop_back();
        if (!k.empty()) keys.push_back(std::move(k));
    }
    partial_.erase(0, at);
    return keys;
}

result<void> sim_panel::set_led(led l, bool on) {
    leds_[static_cast<size_t>(l)] = on;
    std::string line = fmt::format("{} led {} {}\n", clock::wall_now().count(), to_string(l), on ? "on" : "off");
    int fd = ::open(led_log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error(errno, i18n::text({"recording an LED", "记录指示灯"}), led_log_.string());
    ssize_t n = ::write(fd, line.data(), line.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size())) {
        return errno_error(err, i18n::text({"recording an LED", "记录指示灯"}), led_log_.string());
    }
    return {};
}

}  // namespace bbt::board
