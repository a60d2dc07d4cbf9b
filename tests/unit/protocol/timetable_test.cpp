#include "bbt/protocol/timetable.hpp"

#include "doctest_bbt.hpp"

using bbt::protocol::parse_timetable;

namespace {

// A classroom's autumn term: maths on Mondays and Wednesdays at 08:00 (China
// time), weekly, four weeks; a holiday Wednesday left out (EXDATE); one lesson
// moved to 10:00 and one cancelled (RECURRENCE-ID); an assembly in UTC.
const char* term =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//bbt-county//timetable//ZH\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:math-7-2@school-1\r\n"
    "SUMMARY:数学 七年级二班\r\n"
    "LOCATION:201\r\n"
    "DTSTART;TZID=Asia/Shanghai:20260907T080000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260907T084500\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8\r\n"
    "EXDATE;TZID=Asia/Shanghai:20260909T080000\r\n"
    "X-BBT-RESOURCE:math-7-u1-v1, math-7-u1-slides\r\n"
    "ATTACH:https://county.example/res/math-7-u1-ex.pdf\r\n"
    "X-BBT-RECORD:TRUE\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:math-7-2@school-1\r\n"
    "RECURRENCE-ID;TZID=Asia/Shanghai:20260916T080000\r\n"
    "SUMMARY:数学 七年级二班（调课）\r\n"
    "DTSTART;TZID=Asia/Shanghai:20260916T100000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260916T104500\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:math-7-2@school-1\r\n"
    "RECURRENCE-ID;TZID=Asia/Shanghai:20260921T080000\r\n"
    "STATUS:CANCELLED\r\n"
    "DTSTART;TZID=Asia/Shanghai:20260921T080000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260921T084500\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:assembly@school-1\r\n"
    "SUMMARY:升旗仪式\r\n"
    "DTSTART:20260907T223000Z\r\n"
    "DURATION:PT20M\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

}  // namespace

TEST_CASE("a term's timetable expands into the lessons of a window, with its exceptions") {
    // 2026-09-07 00:00 to 2026-09-24 00:00, China time.
    auto t = parse_timetable(term, 1788710400, 1790179200, 480);
    REQUIRE(t);
    std::vector<int64_t> starts;
    for (const auto& l : t->lessons)
        starts.push_back(l.start);
    // Mon 7th, assembly Tue 8th 06:30, (Wed 9th a holiday), Mon 14th, Wed 16th moved to 10:00,
    // (Mon 21st cancelled), Wed 23rd.
    CHECK(starts == std::vector<int64_t>{1788739200, 1788820200, 1789344000, 1789524000, 1790121600});
    const auto& first = t->lessons[0];
    CHECK(first.uid == "math-7-2@school-1");
    CHECK(first.summary == "数学 七年级二班");
    CHECK(first.location == "201");
    CHECK(first.end - first.start == 45 * 60);
    CHECK(first.record);
    CHECK(first.resources ==
          std::vector<std::string>{"https://county.example/res/math-7-u1-ex.pdf", "math-7-u1-v1", "math-7-u1-slides"});
    CHECK(t->lessons[1].summary == "升旗仪式");
    CHECK(t->lessons[1].end - t->lessons[1].start == 20 * 60);
    CHECK_FALSE(t->lessons[1].record);
    CHECK(t->lessons[3].summary == "数学 七年级二班（调课）");
    CHECK(t->warnings.empty());
}

TEST_CASE("COUNT and UNTIL end a recurrence; a window after the term is empty") {
    // COUNT=8 from Mon 7 Sep: the last is Wed 30 Sep.
    auto late = parse_timetable(term, 1790179200, 1790179200 + 30 * 86400, 480);
    REQUIRE(late);
    REQUIRE(late->lessons.size() == 2);  // Mon 28th, Wed 30th
    std::string until = term;
    until.replace(until.find("COUNT=8"), 7, "UNTIL=20260915T000000Z");
    auto u = parse_timetable(until, 1788710400, 1790179200, 480);
    REQUIRE(u);
    CHECK(u->lessons.size() == 3);  // Mon 7th, assembly, Mon 14th
}

TEST_CASE("what is not a timetable is refused with a reason; what cannot be read is left out with a warning") {
    for (const char* bad : {"", "hello", "BEGIN:VEVENT\r\nEND:VEVENT\r\n"}) {
        CAPTURE(bad);
        auto r = parse_timetable(bad, 0, 1 << 30, 480);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find("iCalendar") != std::string::npos);
    }
    auto odd = parse_timetable(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:no start\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:monthly\r\nDTSTART:20260901T000000Z\r\n"
        "DTEND:20260901T004500Z\r\nRRULE:FREQ=MONTHLY\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        0, int64_t{1} << 40, 480);
    REQUIRE(odd);
    REQUIRE(odd->lessons.size() == 1);  // the monthly one's first occurrence
    REQUIRE(odd->warnings.size() == 2);
    CHECK(odd->warnings[0].find("DTSTART") != std::string::npos);
    CHECK(odd->warnings[1].find("weekly") != std::string::npos);
}
