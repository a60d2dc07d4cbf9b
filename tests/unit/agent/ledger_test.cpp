#include "bbt/agent/ledger.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

#include <cstdlib>
#include <ctime>

using namespace bbt;
using agent::ledger;
using clock::microseconds;

namespace {

constexpr int64_t s = 1'000'000;
constexpr int64_t h = 3600 * s;
const std::string boot_a = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
const std::string boot_b = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb";

// 2026-11-22 00:00:00 in Asia/Shanghai (UTC+8).
constexpr int64_t day0 = 1795276800LL * s;

// A clock reading on boot `boot`, booted at wall `boot_wall`, at boot time `t`.
clock::stamp at(int64_t boot_wall, int64_t t, const std::string& boot = boot_a) {
    return {microseconds(boot_wall + t), microseconds(t), boot};
}

struct shanghai_tz {
    shanghai_tz() {
        ::setenv("TZ", "Asia/Shanghai", 1);
        ::tzset();
    }
    ~shanghai_tz() {
        ::unsetenv("TZ");
        ::tzset();
    }
};

int64_t usage_of(const std::vector<agent::usage_row>& rows, const std::string& day, const std::string& device,
                 const std::string& state) {
    for (const auto& r : rows) {
        if (r.day == day && r.device == device && r.state == state) return r.microseconds;
    }
    return 0;
}

}  // namespace

TEST_CASE("state changes close one interval and open the next at the same instant") {
    shanghai_tz tz;
    test::temp_dir dir;
    int64_t booted = day0 + 8 * h;  // booted at 08:00
    auto l = ledger::open(dir / "l.db", at(booted, 10 * s));
    REQUIRE(l);
    REQUIRE(l->set_state("projector", "on", at(booted, 60 * s)));
    REQUIRE(l->set_state("projector", "on", at(booted, 90 * s)));  // unchanged: no new interval
    REQUIRE(l->set_state("projector", "cooling", at(booted, 45 * 60 * s)));
    REQUIRE(l->set_state("projector", "standby", at(booted, 45 * 60 * s + 90 * s)));
    auto all = l->intervals();
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].state == "on");
    CHECK((*all)[0].end_boot_us == (*all)[1].start_boot_us);
    CHECK((*all)[0].close_reason == "change");
    CHECK((*all)[1].end_boot_us == (*all)[2].start_boot_us);
    CHECK_FALSE((*all)[2].end_boot_us);
    CHECK((*all)[0].start_wall_us == booted + 60 * s);

    auto rows = l->usage_by_day(microseconds(day0), microseconds(day0 + 24 * h), at(booted, 2 * h));
    REQUIRE(rows);
    CHECK(usage_of(*rows, "2026-11-22", "projector", "on") == 45 * 60 * s - 60 * s);
    CHECK(usage_of(*rows, "2026-11-22", "projector", "cooling") == 90 * s);
    // The open interval counts up to now.
    CHECK(usage_of(*rows, "2026-11-22", "projector", "standby") == 2 * h - (45 * 60 * s + 90 * s));
}

TEST_CASE("usage is split exactly at local midnight") {
    shanghai_tz tz;
    test::temp_dir dir;
    int64_t booted = day0 - 2 * h;  // 22:00 the day before
    auto l = ledger::open(dir / "l.db", at(booted, 0));
    REQUIRE(l);
    REQUIRE(l->set_state("set", "on", at(booted, 30 * 60 * s)));  // 22:30
    REQUIRE(l->end("set", at(booted, 5 * h)));                    // 03:00
    auto rows = l->usage_by_day(microseconds(day0 - 24 * h), microseconds(day0 + 24 * h), at(booted, 6 * h));
    REQUIRE(rows);
    CHECK(usage_of(*rows, "2026-11-21", "set", "on") == 90 * 60 * s);
    CHECK(usage_of(*rows, "2026-11-22", "set", "on") == 3 * h);
    // A window that cuts the interval counts only its part.
    auto part = l->usage_by_day(microseconds(day0 + h), microseconds(day0 + 2 * h), at(booted, 6 * h));
    REQUIRE(part);
    REQUIRE(part->size() == 1);
    CHECK(part->front().microseconds == h);
}

TEST_CASE("an interval left open by a crash is closed at its last heartbeat") {
    shanghai_tz tz;
    test::temp_dir dir;
    int64_t booted = day0 + 7 * h;
    {
        auto l = ledger::open(dir / "l.db", at(booted, 0));
        REQUIRE(l);
        REQUIRE(l->set_state("set", "on", at(booted, 10 * s)));
        REQUIRE(l->heartbeat(at(booted, 15 * s)));
        REQUIRE(l->heartbeat(at(booted, 20 * s)));
        // The process dies here: no end(), no end_all().
    }
    auto l = ledger::open(dir / "l.db", at(booted, 40 * s));
    REQUIRE(l);
    CHECK(l->recovered() == 1);
    auto all = l->intervals();
    REQUIRE(all);
    REQUIRE(all->size() == 1);
    CHECK((*all)[0].end_boot_us == 20 * s);
    CHECK((*all)[0].end_wall_us == booted + 20 * s);
    CHECK((*all)[0].close_reason == "recovered");
}

TEST_CASE("a wall clock that jumps moves the boot's intervals with it; durations stay exact") {
    shanghai_tz tz;
    test::temp_dir dir;
    // The board boots believing it is 1970-01-02, then NTP sets the right time.
    int64_t wrong = 86400 * s;
    int64_t right = day0 + 9 * h;
    auto l = ledger::open(dir / "l.db", at(wrong, 5 * s));
    REQUIRE(l);
    REQUIRE(l->set_state("set", "on", at(wrong, 10 * s)));
    REQUIRE(l->set_state("whiteboard", "in-use", at(wrong, 20 * s)));
    REQUIRE(l->set_state("whiteboard", "idle", at(wrong, 80 * s)));
    REQUIRE(l->heartbeat(at(right, 100 * s)));
    CHECK(l->clock_jumps() == 1);
    auto all = l->intervals();
    REQUIRE(all);
    for (const auto& i : *all) {
        CHECK(i.start_wall_us == right + i.start_boot_us);
        if (i.end_boot_us) CHECK(*i.end_wall_us == right + *i.end_boot_us);
    }
    auto rows = l->usage_by_day(microseconds(day0), microseconds(day0 + 24 * h), at(right, 100 * s));
    REQUIRE(rows);
    CHECK(usage_of(*rows, "2026-11-22", "whiteboard", "in-use") == 60 * s);
    CHECK(usage_of(*rows, "2026-11-22", "set", "on") == 90 * s);
    // Nothing was left in 1970.
    auto old = l->usage_by_day(microseconds(0), microseconds(10 * 86400 * s), at(right, 100 * s));
    REQUIRE(old);
    CHECK(old->empty());
}

TEST_CASE("intervals of an earlier boot keep their own wall times") {
    shanghai_tz tz;
    test::temp_dir dir;
    int64_t first = day0 + 8 * h;
    {
        auto l = ledger::open(dir / "l.db", at(first, 0, boot_a));
        REQUIRE(l);
        REQUIRE(l->set_state("set", "on", at(first, 10 * s, boot_a)));
        REQUIRE(l->end_all(at(first, h, boot_a)));
    }
    int64_t second = day0 + 14 * h;
    auto l = ledger::open(dir / "l.db", at(second, 0, boot_b));
    REQUIRE(l);
    REQUIRE(l->set_state("set", "on", at(second, 20 * s, boot_b)));
    auto rows = l->usage_by_day(microseconds(day0), microseconds(day0 + 24 * h), at(second, 20 * s + 2 * h, boot_b));
    REQUIRE(rows);
    CHECK(usage_of(*rows, "2026-11-22", "set", "on") == (h - 10 * s) + 2 * h);
    auto all = l->intervals();
    REQUIRE(all);
    CHECK((*all)[0].close_reason == "stop");
    CHECK((*all)[0].start_wall_us == first + 10 * s);
}

TEST_CASE("the ledger opens databases of every earlier schema version") {
    auto steps = agent::ledger_migrations();
    for (size_t from = 0; from < steps.size(); ++from) {
        CAPTURE(from);
        test::temp_dir dir;
        {
            auto db = sqlite::database::open(dir / "l.db");
            REQUIRE(db);
            REQUIRE(db->migrate(steps.first(from)));
        }
        auto l = ledger::open(dir / "l.db", at(day0, 0));
        REQUIRE(l);
        auto db = sqlite::database::open(dir / "l.db");
        REQUIRE(db);
        CHECK(db->user_version().value() == steps.back().version);
    }
}

TEST_CASE("a ledger written by a newer bbt is refused with a clear error") {
    test::temp_dir dir;
    {
        auto db = sqlite::database::open(dir / "l.db");
        REQUIRE(db);
        REQUIRE(db->exec("PRAGMA user_version=99"));
    }
    auto l = ledger::open(dir / "l.db", at(day0, 0));
    REQUIRE_FALSE(l);
    CHECK(l.error().code() == base_errc::schema_too_new);
}

TEST_CASE("a board's calibration is stored under its key, replaced by the next, and survives an upgrade") {
    test::temp_dir dir;
    {
        // A ledger of schema 1 with an interval in it.
        auto db = sqlite::database::open(dir / "l.db");
        REQUIRE(db);
        REQUIRE(db->migrate(agent::ledger_migrations().first(1)));
    }
    {
        auto l = ledger::open(dir / "l.db", at(day0, 0));
        REQUIRE(l);
        REQUIRE(l->set_state("set", "on", at(day0, 0)));
        CHECK_FALSE(l->calibration("SN-1").value());
        agent::stored_calibration c;
        c.board_key = "SN-1";
        c.matrix = {0.0585, 0.0012, 3.25, -0.0007, 0.033, 1.5, 1e-7, -2e-7, 1};
        c.screen_width = 1920;
        c.screen_height = 1080;
        c.points = 9;
        c.max_error_mm = 0.8;
        c.mean_error_mm = 0.35;
        c.created_wall_us = day0 + 5;
        REQUIRE(l->save_calibration(c));
        auto back = l->calibration("SN-1").value();
        REQUIRE(back);
        CHECK(back->matrix == c.matrix);  // bit-exact through the text form
        CHECK(back->points == 9);
        CHECK(back->max_error_mm == 0.8);
        c.max_error_mm = 0.5;
        REQUIRE(l->save_calibration(c));
        CHECK(l->calibration("SN-1").value()->max_error_mm == 0.5);
        CHECK_FALSE(l->calibration("0eef:7224").value());
    }
    auto l = ledger::open(dir / "l.db", at(day0, 10));
    REQUIRE(l);
    CHECK(l->calibration("SN-1").value()->max_error_mm == 0.5);
    CHECK(l->intervals().value().size() == 1);
}
