// Clocks. Durations and timeouts use the monotonic clocks; records carry wall
// time together with the boot id and the boot-time offset, so that a wrong or
// jumping wall clock is detected and corrected rather than trusted.
#pragma once

#include "bbt/base/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace bbt::clock {

using std::chrono::microseconds;

// CLOCK_MONOTONIC: for timeouts; stops while the machine is suspended.
[[nodiscard]] microseconds monotonic_now() noexcept;
// CLOCK_BOOTTIME: monotonic, but counts suspend too; the ledger measures with it.
[[nodiscard]] microseconds boottime_now() noexcept;
// CLOCK_REALTIME, since the Unix epoch. May be wrong and may jump.
[[nodiscard]] microseconds wall_now() noexcept;

// The kernel's random id of this boot (/proc/sys/kernel/random/boot_id),
// read on the first call.
[[nodiscard]] result<std::string> boot_id();

// True when the kernel reports the wall clock as synchronised (NTP/PTP).
[[nodiscard]] bool wall_clock_synchronized() noexcept;

// One reading of every clock a record needs, taken together.
struct stamp {
    microseconds wall{};
    microseconds boottime{};
    std::string boot;
};

[[nodiscard]] result<stamp> now();

// "2026-11-22 08:15:03" in local time; for people, never for storage.
[[nodiscard]] std::string format_local(microseconds wall);
// "2026-11-22", the local calendar day of a wall time.
[[nodiscard]] std::string local_day(microseconds wall);
// Wall time of local midnight starting the day that contains `wall`.
[[nodiscard]] microseconds local_day_start(microseconds wall);
// Wall time of the next local midnight after `wall` (handles DST days).
[[nodiscard]] microseconds next_local_day_start(microseconds wall);

}  // namespace bbt::clock
