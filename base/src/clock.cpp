#include "bbt/base/clock.hpp"

#include "bbt/base/i18n.hpp"

#include <sys/timex.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

namespace bbt::clock {
namespace {

microseconds read(clockid_t id) noexcept {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return microseconds(static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

std::tm local_tm(microseconds wall) {
    time_t t = static_cast<time_t>(std::chrono::floor<std::chrono::seconds>(wall).count());
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return tm;
}

microseconds from_local_tm(std::tm tm) {
    tm.tm_isdst = -1;
    return std::chrono::seconds(::mktime(&tm));
}

}  // namespace

microseconds monotonic_now() noexcept { return read(CLOCK_MONOTONIC); }
microseconds boottime_now() noexcept { return read(CLOCK_BOOTTIME); }
microseconds wall_now() noexcept { return read(CLOCK_REALTIME); }

// Read once: it cannot change while the process lives, and every ledger
// write needs it.
result<std::string> boot_id() {
    static const result<std::string> id = []() -> result<std::string> {
        static const char* path = "/proc/sys/kernel/random/boot_id";
        std::ifstream in(path);
        std::string text;
        if (!(in >> text) || text.size() != 36) {
            return error(
                base_errc::not_found,
                i18n::format({"cannot read the boot id; is /proc mounted?", "无法读取开机标识；/proc 是否已挂载？"}),
                path);
        }
        return text;
    }();
    return id;
}

bool wall_clock_synchronized() noexcept {
    timex tx{};
    int state = ::adjtimex(&tx);
    return state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

result<stamp> now() {
    auto id = boot_id();
    if (!id) {
        return id.error();
    }
    return stamp{wall_now(), boottime_now(), std::move(*id)};
}

std::string format_local(microseconds wall) {
    std::tm tm = local_tm(wall);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

local_day_span local_day_of(microseconds wall) {
    std::tm tm = local_tm(wall);
    std::chrono::year_month_day date{std::chrono::year{tm.tm_year + 1900},
                                     std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                     std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
    auto next = std::chrono::year_month_day{std::chrono::sys_days{date} + std::chrono::days{1}};
    return {date, local_time_on(date, {}), local_time_on(next, {})};
}

local_day_span local_day_of(microseconds wall, std::chrono::minutes utc_offset) {
    auto local = std::chrono::sys_time<microseconds>{wall + utc_offset};
    auto day = std::chrono::floor<std::chrono::days>(local);
    auto start = std::chrono::duration_cast<microseconds>(day.time_since_epoch()) - utc_offset;
    return {std::chrono::year_month_day{day}, start, start + std::chrono::days{1}};
}

microseconds local_time_on(std::chrono::year_month_day date, std::chrono::minutes since_midnight) {
    std::tm tm{};
    tm.tm_year = static_cast<int>(date.year()) - 1900;
    tm.tm_mon = static_cast<int>(static_cast<unsigned>(date.month())) - 1;
    tm.tm_mday = static_cast<int>(static_cast<unsigned>(date.day()));
    tm.tm_min = static_cast<int>(since_midnight.count());  // mktime normalises, DST included
    return from_local_tm(tm);
}

std::string to_string(std::chrono::year_month_day date) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()));
    return buf;
}

}  // namespace bbt::clock
