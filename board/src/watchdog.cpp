#include "bbt/board/watchdog.hpp"

#include "bbt/base/i18n.hpp"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace bbt::board {

result<std::unique_ptr<watchdog>> watchdog::open(const std::filesystem::path& device, std::chrono::seconds timeout) {
    int fd = ::open(device.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno_error(errno,
                           i18n::text({"opening the watchdog (load softdog or the SoC's driver; is another program "
                                       "feeding it?)",
                                       "打开看门狗（请加载 softdog 或芯片的驱动；是否有其他程序在喂狗？）"}),
                           device.string());
    }
    int seconds = static_cast<int>(timeout.count());
    if (::ioctl(fd, WDIOC_SETTIMEOUT, &seconds) != 0) {
        // Not every watchdog can change its timeout: keep the one it has.
        if (::ioctl(fd, WDIOC_GETTIMEOUT, &seconds) != 0) seconds = static_cast<int>(timeout.count());
    }
    return std::unique_ptr<watchdog>(new watchdog(fd, device, std::chrono::seconds(seconds)));
}

watchdog::~watchdog() {
    if (fd_ < 0) return;
    // The magic close: a clean stop does not reset the set.
    (void)!::write(fd_, "V", 1);
    ::close(fd_);
}

result<void> watchdog::feed() {
    if (::ioctl(fd_, WDIOC_KEEPALIVE, 0) != 0 && ::write(fd_, "k", 1) != 1) {
        return errno_error(errno, i18n::text({"feeding the watchdog", "喂看门狗"}), device_.string());
    }
    return {};
}

}  // namespace bbt::board
