#include "bbt/base/clock.hpp"

#include "doctest_bbt.hpp"

#include <cstdlib>
#include <ctime>
#include <string>

using namespace std::chrono;
namespace clk = bbt::clock;

namespace {

// The process's zone for one test, as a POSIX TZ rule (no tzdata needed).
struct zone {
    explicit zone(const char* tz) {
        if (const char* old = std::getenv("TZ")) saved = old, had = true;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~zone() {
        if (had) {
            ::setenv("TZ", saved.c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    std::string saved;
    bool had = false;
};

microseconds utc(year_month_day d, hours h = hours{0}, minutes m = minutes{0}) {
    return duration_cast<microseconds>(sys_days{d}.time_since_epoch() + h + m);
}

}  // namespace

TEST_CASE("a local day at a fixed offset: Beijing's midnight is 16:00 UTC the day before") {
    auto offset = minutes(8 * 60);
    auto d = clk::local_day_of(utc(2026y / December / 6, hours{16}), offset);
    CHECK(d.date == 2026y / December / 7);
    CHECK(d.start == utc(2026y / December / 6, hours{16}));
    CHECK(d.end - d.start == hours{24});
    // One microsecond earlier is the day before; far before the epoch works too.
    CHECK(clk::local_day_of(d.start - microseconds{1}, offset).date == 2026y / December / 6);
    CHECK(clk::local_day_of(utc(1969y / July / 20, hours{20}), offset).date == 1969y / July / 21);
    CHECK(clk::to_string(d.date) == "2026-12-07");
}

TEST_CASE("a local day in the system zone: 23 hours on the day daylight saving starts, 25 when it ends") {
    zone berlin("CET-1CEST,M3.5.0,M10.5.0/3");
    auto spring = clk::local_day_of(utc(2026y / March / 29, hours{12}));
    CHECK(spring.date == 2026y / March / 29);
    CHECK(spring.start == utc(2026y / March / 28, hours{23}));
    CHECK(spring.end - spring.start == hours{23});
    auto autumn = clk::local_day_of(utc(2026y / October / 25, hours{12}));
    CHECK(autumn.end - autumn.start == hours{25});
    CHECK(clk::local_day(autumn.start) == "2026-10-25");
    CHECK(clk::next_local_day_start(autumn.start) == autumn.end);
    // 08:00 local on a summer day is 06:00 UTC.
    CHECK(clk::local_time_on(2026y / July / 1, hours{8}) == utc(2026y / July / 1, hours{6}));
}
