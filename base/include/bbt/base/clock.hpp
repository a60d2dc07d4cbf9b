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
// The local day, defined once. A set's days are the system zone's (TZ,
// daylight saving included); a timetable's are at the fixed UTC offset its
// configuration gives. Either way: the calendar date and the wall times of
// the midnights that start and end it.
struct local_day_span {
    std::chrono::year_month_day date;
    microseconds start{};
    microseconds end{};  // the next day's start (23 or 25 hours on a DST day)
};
[[nodiscard]] local_day_span local_day_of(microseconds wall);
[[nodiscard]] local_day_span local_day_of(microseconds wall, std::chrono::minutes utc_offset);
// Wall time of `since_midnight` into `date` in the system zone.
[[nodiscard]] microseconds local_time_on(std::chrono::year_month_day date, std::chrono::minutes since_midnight);
// "2026-11-22".
[[nodiscard]] std::string to_string(std::chrono::year_month_day date);

// "2026-11-22", the local calendar day of a wall time.
[[nodiscard]] inline std::string local_day(microseconds wall) { return to_string(local_day_of(wall).date); }
// Wall time of local midnight starting the day that contains `wall`.
[[nodiscard]] inline microseconds local_day_start(microseconds wall) { return local_day_of(wall).start; }
// Wall time of the next local midnight after `wall` (handles DST days).
[[nodiscard]] inline microseconds next_local_day_start(microseconds wall) { return local_day_of(wall).end; }

}  // namespace bbt::clock
