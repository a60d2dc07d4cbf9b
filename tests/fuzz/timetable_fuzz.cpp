// libFuzzer target: the timetable reader (iCalendar through libical). Any
// text gives lessons or an error; lessons lie in the window, in order, never
// end before they start, and no event yields more than the reader's cap.
#include "bbt/protocol/timetable.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr int64_t from = 1788710400;  // 2026-09-07, China time
    constexpr int64_t to = from + 120 * 86400;
    auto t = bbt::protocol::parse_timetable(text, from, to, 480);
    if (!t) return 0;
    int64_t last = from;
    for (const auto& l : t->lessons) {
        if (l.start < from || l.start >= to || l.end < l.start || l.start < last) std::abort();
        last = l.start;
    }
    return 0;
}
