// Talking to the service manager (sd_notify): READY=1 once services are up,
// WATCHDOG=1 from the control loop, STOPPING=1 on the way out. Does nothing
// when NOTIFY_SOCKET is not set, i.e. when not run by systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace bbt::agent::notify {

void ready(std::string_view status);
void stopping();
void status(std::string_view text);
void watchdog();

// The watchdog interval systemd asked for (WATCHDOG_USEC), if any; pings
// should go out at half of it.
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace bbt::agent::notify
