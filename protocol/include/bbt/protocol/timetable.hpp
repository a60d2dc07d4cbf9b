// The classroom's timetable, as the county publishes it: iCalendar (RFC
// 5545), read with libical. Each lesson is a VEVENT; weekly and daily
// recurrence (RRULE with INTERVAL, COUNT, UNTIL, BYDAY), EXDATE, cancelled and
// moved occurrences (RECURRENCE-ID) are expanded into the lessons of a window.
// Courseware comes with a lesson as X-BBT-RESOURCE (resource ids, comma
// separated) or ATTACH (a URI); X-BBT-RECORD:TRUE asks for the lesson to be
// recorded. Times with a TZID or floating are the school's local time (one
// fixed offset: China keeps no daylight saving); times in UTC end in Z.
// Pure: text in, lessons or an error out.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::protocol {

struct lesson {
    std::string uid;
    std::string summary;
    std::string location;
    int64_t start = 0;  // seconds since the epoch (UTC)
    int64_t end = 0;
    std::vector<std::string> resources;
    bool record = false;
    bool operator==(const lesson&) const = default;
};

struct timetable {
    std::vector<lesson> lessons;        // in the window, by start
    std::vector<std::string> warnings;  // what was left out, and why
};

inline constexpr size_t max_timetable_bytes = 1 << 20;

// The lessons that start in [from, to), seconds since the epoch; local times
// are `utc_offset_minutes` ahead of UTC (480 for China).
[[nodiscard]] result<timetable> parse_timetable(std::string_view ics, int64_t from, int64_t to, int utc_offset_minutes);

}  // namespace bbt::protocol
