// libsystemd is included only under agent/platform/systemd.
#include "bbt/agent/notify.hpp"

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

namespace bbt::agent::notify {

void ready(std::string_view text) { ::sd_notify(0, fmt::format("READY=1\nSTATUS={}", text).c_str()); }
void stopping() { ::sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }
void status(std::string_view text) { ::sd_notify(0, fmt::format("STATUS={}", text).c_str()); }
void watchdog() { ::sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
    uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        return std::chrono::microseconds(usec);
    }
    return std::nullopt;
}

}  // namespace bbt::agent::notify
