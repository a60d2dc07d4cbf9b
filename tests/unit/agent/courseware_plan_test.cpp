// What the courseware service plans from the timetable: which resources,
// needed when, kept until when; lessons on now; the school's local day.
#include "bbt/agent/courseware_service.hpp"

#include "doctest_bbt.hpp"

using namespace bbt::agent;
using bbt::protocol::lesson;

namespace {

constexpr int64_t h = 3600;
// 2026-12-02 00:00 in China (UTC+8).
constexpr int64_t midnight = 1'796'140'800;

lesson at(int64_t start, int64_t minutes, std::vector<std::string> resources) {
    lesson l;
    l.uid = std::to_string(start);
    l.start = start;
    l.end = start + minutes * 60;
    l.resources = std::move(resources);
    return l;
}

}  // namespace

TEST_CASE("the plan holds each resource once, for its first lesson, kept past its last") {
    int64_t now = midnight + 7 * h;
    std::vector<lesson> ls{at(midnight + 6 * h, 45, {"old"}),               // over before now
                           at(midnight + 8 * h, 45, {"a", "b"}),            // coming
                           at(midnight + 6 * h + 40 * 60, 45, {"on-now"}),  // still on
                           at(midnight + 14 * h, 45, {"a"}),                // "a" again, later
                           at(midnight + 40 * h, 45, {"too-far"})};         // beyond the horizon
    auto plan = plan_courseware(ls, now, 24 * h);
    REQUIRE(plan.size() == 3);
    CHECK(plan[0] == courseware_need{"on-now", midnight + 6 * h + 40 * 60, midnight + 6 * h + 85 * 60 + h});
    CHECK(plan[1].id == "a");
    CHECK(plan[1].needed_at == midnight + 8 * h);
    CHECK(plan[1].pin_until == midnight + 14 * h + 45 * 60 + h);  // its last lesson's end, and an hour
    CHECK(plan[2].id == "b");
    CHECK(plan_courseware({}, now, 24 * h).empty());
}

TEST_CASE("a lesson is on from its start to its end") {
    std::vector<lesson> ls{at(midnight + 8 * h, 45, {})};
    CHECK_FALSE(in_lesson(ls, midnight + 8 * h - 1));
    CHECK(in_lesson(ls, midnight + 8 * h));
    CHECK(in_lesson(ls, midnight + 8 * h + 44 * 60));
    CHECK_FALSE(in_lesson(ls, midnight + 8 * h + 45 * 60));
}

TEST_CASE("the school's local day and date, at a fixed offset") {
    CHECK(local_day_start(midnight, 480) == midnight);
    CHECK(local_day_start(midnight + 23 * h + 3599, 480) == midnight);
    CHECK(local_day_start(midnight - 1, 480) == midnight - 24 * h);
    CHECK(local_date(midnight, 480) == "2026-12-02");
    CHECK(local_date(midnight - 1, 480) == "2026-12-01");
    CHECK(local_date(midnight, 0) == "2026-12-01");  // 16:00 UTC the day before
    CHECK(local_date(951'782'400, 0) == "2000-02-29");
    CHECK(local_date(0, -300) == "1969-12-31");
}
