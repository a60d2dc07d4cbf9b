// The county's dashboard figures, from reports stored through the real
// ingest path, at a fixed moment: Wednesday 2026-12-02 15:00 in China
// (UTC+8), so that every figure is known exactly.
#include "dashboard.hpp"
#include "store.hpp"

#include "temp_dir.hpp"

#include <boost/json.hpp>
#include "doctest_bbt.hpp"

#include <cstdlib>
#include <ctime>

using namespace bbt;
using namespace bbt::county;
namespace wire = bbt::protocol::county;

namespace {

// Local midnight of 2026-12-02 in UTC+8, in seconds since the epoch.
constexpr int64_t wednesday = 1'796'140'800;

// Microseconds at `hh:mm` local time, `day` days from that Wednesday.
int64_t at(int day, int hh, int mm = 0) { return (wednesday + day * 86400LL + hh * 3600LL + mm * 60LL) * 1'000'000; }

const int64_t now = at(0, 15);

struct china_time {
    china_time() {
        // A POSIX zone needs no tzdata: China has kept UTC+8 without daylight saving.
        ::setenv("TZ", "CST-8", 1);
        ::tzset();
    }
};

struct county_db {
    china_time tz;
    test::temp_dir dir;
    store db = open();

    store open() {
        auto s = store::open(dir / "county.db");
        REQUIRE(s);
        return std::move(*s);
    }
    std::string enrol(const std::string& school, const std::string& classroom) {
        auto code = db.new_code(school, classroom, at(1, 0));
        REQUIRE(code);
        auto e = db.redeem(*code, at(-30, 9));
        REQUIRE(e);
        return e->device_id;
    }
    void ingest(const std::string& device, std::vector<wire::message> messages, int64_t received_us) {
        wire::batch b{device, "0.3.0", std::move(messages)};
        REQUIRE(db.ingest(device, b, received_us));
    }
};

wire::message heartbeat(int64_t seq, int64_t at_us, double uptime_s, std::vector<wire::lamp> lamps = {}) {
    return {seq, at_us, wire::heartbeat{uptime_s, true, 0, {{"whiteboard", "idle"}}, std::move(lamps)}};
}
wire::message used(int64_t seq, std::string device, std::string state, int64_t from, int64_t to) {
    return {seq, to, wire::usage{std::move(device), std::move(state), from, to}};
}
wire::message alert(int64_t seq, int64_t at_us, std::string code, std::string severity, bool open) {
    return {seq, at_us, wire::alert{"projector", std::move(code), std::move(severity), "lamp near its end", open}};
}

// Three classrooms of two schools (one with a name that must be escaped)
// and one set enrolled but never heard from.
struct sample {
    county_db c;
    std::string a = c.enrol("第三小学", "201");
    std::string b = c.enrol("第三小学", "202");
    std::string hill = c.enrol("<b>Hill & Co", "1");
    std::string never = c.enrol("<b>Hill & Co", "2");

    sample() {
        std::vector<wire::message> batch{
            // Yesterday on 08:00-17:00, today since 08:00.
            heartbeat(1, at(-1, 17), 9 * 3600.0),
            heartbeat(2, at(0, 14, 59), 6 * 3600.0 + 59 * 60, {{"projector", 1, 2811, 3000}}),
            // Used yesterday 09:00-12:00 (two devices overlapping), today
            // 08:30-10:00, and on Sunday (outside school hours).
            used(3, "whiteboard", "in-use", at(-1, 9), at(-1, 11)),
            used(4, "projector", "on", at(-1, 10), at(-1, 12)),
            used(5, "whiteboard", "idle", at(-1, 12), at(-1, 13)),
            used(6, "projector", "on", at(0, 8, 30), at(0, 10)),
            used(7, "whiteboard", "in-use", at(-3, 10), at(-3, 11)),
            alert(8, at(0, 9), "projector.lamp-hours", "warning", true),
            alert(9, at(-2, 9), "projector.filter", "warning", true),
            alert(10, at(-2, 10), "projector.filter", "warning", false),
            {11, at(-1, 8),
             wire::inventory{"第三小学",
                             "201",
                             {{wire::device_kind::whiteboard, "IRTOUCH", "6615:0081", "=HYPERLINK(\"x\")", "2.1"},
                              {wire::device_kind::projector, "EPSON", "CB-X06", "X5J1234", "1.03"}}}},
            {12, at(-2, 8),
             wire::inventory{"第三小学", "201", {{wire::device_kind::pc, "Lenovo", "M690E", "old", ""}}}},
            {13, at(-1, 9), wire::event{"whiteboard", "disconnected", "unplugged, then back"}},
        };
        c.ingest(a, batch, now - 60'000'000);
        // The same batch again (a reply lost on the way): nothing counts twice.
        c.ingest(a, batch, now - 60'000'000);
        c.ingest(b, {heartbeat(1, at(0, 14, 40), 3600, {{"projector", 1, 100, 3000}})}, now - 20 * 60'000'000LL);
        c.ingest(hill, {alert(1, at(-5, 10), "pc.disk", "critical", true)}, at(-5, 10));
    }
};

}  // namespace

TEST_CASE("the dashboard's figures: online, not seen, uptime and usage over school hours, hours per day, lamps") {
    sample s;
    auto o = collect(s.c.db.database(), dashboard_options{}, now);
    REQUIRE(o);
    REQUIRE(o->sets.size() == 4);
    CHECK(o->days[0] == "2026-11-26");
    CHECK(o->days[6] == "2026-12-02");
    // Sorted by school, then classroom.
    CHECK(o->sets[0].device_id == s.hill);
    CHECK(o->sets[1].device_id == s.never);
    CHECK(o->sets[2].device_id == s.a);

    const auto& a = o->sets[2];
    CHECK(a.online);
    CHECK_FALSE(a.stale);
    // School hours of the last 7 days: Thu, Fri, Mon, Tue 9 h each and today
    // 7 h so far = 43 h; on 9 + 7 h of them, in use 3 + 1.5 h.
    CHECK(a.uptime_pct == doctest::Approx(37.2));
    CHECK(a.usage_rate_pct == doctest::Approx(10.5));
    CHECK(a.hours_by_day == std::array<double, 7>{0, 0, 0, 1.0, 0, 3.0, 1.5});
    CHECK(a.week_hours == doctest::Approx(5.5));
    CHECK(a.open_alerts == 1);  // the filter alert has cleared
    REQUIRE(a.lamps.size() == 1);
    CHECK(a.lamps[0].due);  // 2811 h of 3000 is past 90 %
    CHECK(a.health.at("whiteboard") == "idle");

    const auto& b = o->sets[3];
    CHECK_FALSE(b.online);  // 20 minutes ago
    CHECK_FALSE(b.stale);
    CHECK_FALSE(b.lamps.at(0).due);
    CHECK(o->sets[0].stale);  // 5 days ago
    CHECK_FALSE(o->sets[1].last_seen_us);
    CHECK(o->sets[1].stale);

    CHECK(o->online == 1);
    CHECK(o->stale == 2);
    CHECK(o->lamps_due == 1);
    REQUIRE(o->schools.size() == 2);
    CHECK(o->schools[1].name == "第三小学");
    CHECK(o->schools[1].classrooms == 2);
    CHECK(o->schools[1].online == 1);
    CHECK(o->schools[1].usage_rate_pct == doctest::Approx(5.3));  // mean of 10.5 and 0
    REQUIRE(o->open_alerts.size() == 2);
    CHECK(o->open_alerts[0].severity == "critical");  // the worst first
    CHECK(o->open_alerts[1].code == "projector.lamp-hours");

    // One school only.
    auto one = collect(s.c.db.database(), dashboard_options{}, now, "第三小学");
    REQUIRE(one);
    CHECK(one->sets.size() == 2);
    CHECK(one->open_alerts.size() == 1);

    // A shorter "not seen" threshold and a wider online window.
    dashboard_options wide;
    wide.online_window = std::chrono::hours(1);
    wide.stale_days = 7;
    auto w = collect(s.c.db.database(), wide, now);
    REQUIRE(w);
    CHECK(w->online == 2);
    CHECK(w->stale == 1);
}

TEST_CASE("only a newer inventory replaces what the county knows of a classroom") {
    sample s;
    auto st = s.c.db.database().prepare("SELECT count(*), min(kind) FROM inventory WHERE device_id = ?");
    REQUIRE(st);
    st->bind(1, s.a);
    REQUIRE(st->step());
    CHECK(st->column_int64(0) == 2);
    CHECK(st->column_text(1) == "projector");
}

TEST_CASE("the page escapes what sets report, and speaks Chinese or English") {
    sample s;
    auto o = collect(s.c.db.database(), dashboard_options{}, now);
    REQUIRE(o);
    auto zh = render_html(*o, dashboard_options{}, i18n::language::zh);
    CHECK(zh.find("<html lang=\"zh-CN\">") != std::string::npos);
    CHECK(zh.find("&lt;b&gt;Hill &amp; Co") != std::string::npos);
    CHECK(zh.find("<b>Hill") == std::string::npos);
    CHECK(zh.find("灯泡待更换") != std::string::npos);
    CHECK(zh.find("超过 3 天未上线") != std::string::npos);
    auto en = render_html(*o, dashboard_options{}, i18n::language::en);
    CHECK(en.find("<html lang=\"en\">") != std::string::npos);
    CHECK(en.find("Lamp replacements due") != std::string::npos);
    CHECK(en.find("灯泡") == std::string::npos);

    auto j = to_json(*o).as_object();
    CHECK(j.at("online").as_int64() == 1);
    CHECK(j.at("sets").as_array()[2].at("usage_rate_pct").as_double() == doctest::Approx(10.5));
}

TEST_CASE("every table exports as CSV that a spreadsheet reads safely") {
    sample s;
    auto o = collect(s.c.db.database(), dashboard_options{}, now);
    REQUIRE(o);
    for (auto name : csv_tables()) {
        auto csv = export_csv(s.c.db.database(), *o, name, i18n::language::en);
        REQUIRE(csv);
        REQUIRE(*csv);
        CHECK((*csv)->starts_with("\xEF\xBB\xBF"));
        CHECK((*csv)->find("\r\n") != std::string::npos);
    }
    auto missing = export_csv(s.c.db.database(), *o, "secrets", i18n::language::en);
    REQUIRE(missing);
    CHECK_FALSE(*missing);

    auto sets = **export_csv(s.c.db.database(), *o, "sets", i18n::language::zh);
    CHECK(sets.find("设备编号,学校,教室,在线") != std::string::npos);
    CHECK(sets.find(s.a + ",第三小学,201,是,") != std::string::npos);
    CHECK(sets.find(",37.2,10.5,0.0,0.0,0.0,1.0,0.0,3.0,1.5,5.5,1,2811,3000,是,") != std::string::npos);

    // A formula is kept as text, and a quote is doubled inside quotes.
    auto inv = **export_csv(s.c.db.database(), *o, "inventory", i18n::language::en);
    CHECK(inv.find(",\"'=HYPERLINK(\"\"x\"\")\",") != std::string::npos);
    CHECK(inv.find(",old,") == std::string::npos);  // the older inventory was not kept
    auto events = **export_csv(s.c.db.database(), *o, "events", i18n::language::en);
    CHECK(events.find(",whiteboard,disconnected,\"unplugged, then back\"") != std::string::npos);
    auto alerts = **export_csv(s.c.db.database(), *o, "alerts", i18n::language::en);
    CHECK(alerts.find("projector.filter,warning,lamp near its end,2026-11-30 09:00,2026-11-30 10:00") !=
          std::string::npos);
    auto usage = **export_csv(s.c.db.database(), *o, "usage", i18n::language::en);
    size_t rows = 0;
    for (size_t p = usage.find("\r\n"); p != std::string::npos; p = usage.find("\r\n", p + 2))
        ++rows;
    CHECK(rows == 1 + 5);  // the header and five intervals, each once
}

TEST_CASE("HTML and CSV escaping") {
    CHECK(html_escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    CHECK(csv_cell("plain") == "plain");
    CHECK(csv_cell("a,b") == "\"a,b\"");
    CHECK(csv_cell("-12.5") == "-12.5");
    CHECK(csv_cell("-cmd") == "'-cmd");
    CHECK(csv_cell("@SUM(A1)") == "'@SUM(A1)");
    CHECK(csv_cell("line\nbreak") == "\"line\nbreak\"");
}

TEST_CASE("tomorrow's courseware readiness: the last report of each set for tomorrow, shown and counted") {
    county_db c;
    auto a = c.enrol("第三小学", "201");
    auto b = c.enrol("第三小学", "202");
    auto quiet = c.enrol("第三小学", "203");
    // a: first 1 of 3 ready, later all 3; b: 2 of 3, one missing; a report for today does not count.
    c.ingest(a,
             {{1, at(0, 9), wire::readiness{"2026-12-03", 2, 3, 1, {"math-7-01", "math-7-02"}}},
              {2, at(0, 14), wire::readiness{"2026-12-03", 2, 3, 3, {}}},
              {3, at(0, 14), wire::readiness{"2026-12-02", 4, 5, 0, {"x"}}}},
             at(0, 14));
    // An older report arriving late does not replace a newer one.
    c.ingest(b, {{2, at(0, 13), wire::readiness{"2026-12-03", 1, 3, 2, {"eng-8-04"}}}}, at(0, 13));
    c.ingest(b, {{1, at(0, 8), wire::readiness{"2026-12-03", 1, 3, 0, {"a", "b", "c"}}}}, at(0, 14));
    auto o = collect(c.db.database(), {}, now);
    REQUIRE(o);
    CHECK(o->tomorrow == "2026-12-03");
    CHECK(o->tomorrow_ready == 1);
    CHECK(o->tomorrow_unready == 1);
    std::map<std::string, const set_view*> sets;
    for (const auto& s : o->sets)
        sets[s.device_id] = &s;
    REQUIRE(sets[a]->tomorrow);
    CHECK(sets[a]->tomorrow->ready == 3);
    CHECK(sets[a]->tomorrow->complete());
    REQUIRE(sets[b]->tomorrow);
    CHECK(sets[b]->tomorrow->ready == 2);
    CHECK(sets[b]->tomorrow->missing == std::vector<std::string>{"eng-8-04"});
    CHECK_FALSE(sets[quiet]->tomorrow);

    auto j = to_json(*o);
    CHECK(j.at("tomorrow_unready").as_int64() == 1);
    const auto& rows = j.at("sets").as_array();
    for (const auto& r : rows) {
        if (r.at("device_id") == b.c_str()) CHECK(r.at("courseware_tomorrow").at("missing").as_array().size() == 1);
        if (r.at("device_id") == quiet.c_str()) CHECK(r.at("courseware_tomorrow").is_null());
    }
    auto zh = render_html(*o, {}, i18n::language::zh);
    CHECK(zh.find("明日课件") != std::string::npos);
    CHECK(zh.find("✗ 2 / 3") != std::string::npos);
    CHECK(zh.find("title=\"eng-8-04\"") != std::string::npos);
    CHECK(zh.find("✓ 3 / 3") != std::string::npos);
    CHECK(zh.find("未上报") != std::string::npos);
    auto en = render_html(*o, {}, i18n::language::en);
    CHECK(en.find("courseware tomorrow") != std::string::npos);
    CHECK(en.find("not reported") != std::string::npos);

    // Every day's last report, exported: the missing resources by id.
    auto csv = **export_csv(c.db.database(), *o, "readiness", i18n::language::en);
    INFO(csv);
    CHECK(csv.find("set,school,classroom,day,lessons,resources,ready,missing,reported") != std::string::npos);
    CHECK(csv.find(a + ",第三小学,201,2026-12-02,4,5,0,x,") != std::string::npos);
    CHECK(csv.find(a + ",第三小学,201,2026-12-03,2,3,3,,") != std::string::npos);
    CHECK(csv.find(b + ",第三小学,202,2026-12-03,1,3,2,eng-8-04,") != std::string::npos);
    CHECK(csv.find(quiet) == std::string::npos);
    auto zh_csv = **export_csv(c.db.database(), *o, "readiness", i18n::language::zh);
    CHECK(zh_csv.find("设备编号,学校,教室,日期,课节数,课件数,已就绪,缺少的课件,上报时间") != std::string::npos);
}

TEST_CASE(
    "recorded lessons: every upload of the chosen school, newest first, counted, shown in both languages and "
    "exported") {
    county_db c;
    auto a = c.enrol("第三小学", "201");
    auto hill = c.enrol("<b>Hill & Co", "1");
    auto add = [&](const std::string& id, const std::string& device, const std::string& lesson, int64_t created,
                   int64_t offset, bool complete, int64_t mismatches) {
        upload u;
        u.id = id;
        u.device_id = device;
        u.filename = id + ".mp4";
        u.lesson = lesson;
        u.sha256 = std::string(64, 'a');
        u.length = 10'000'000;
        u.offset = offset;
        u.started_us = created;
        u.duration_ms = 2'700'000;
        u.created_us = u.updated_us = created;
        REQUIRE(c.db.create_upload(u));
        for (int64_t i = 0; i < mismatches; ++i)
            REQUIRE(c.db.upload_restart(id, created));
        if (offset > 0) REQUIRE(c.db.upload_progress(id, offset, offset, created));
        if (complete) {
            REQUIRE(c.db.upload_checked(id, std::string(64, 'a'), "/srv/" + id, created));
            REQUIRE(c.db.upload_complete(id, created));
        }
    };
    add("old", a, "语文", at(-10, 9), 10'000'000, true, 0);  // received, but not this week
    add("done", a, "数学", at(-1, 9), 10'000'000, true, 1);
    add("half", a, "英语", at(0, 10), 4'000'000, false, 0);
    add("hill", hill, "<i>art</i>", at(0, 11), 0, false, 0);
    // What the sets say they recorded: one is at the county in full, one is not yet.
    c.ingest(a,
             {{1, at(0, 12),
               wire::recording{"done.mp4", "数学", 1, at(-1, 9), 2700, 10'000'000, std::string(64, 'a'), "recorded"}},
              {2, at(0, 12),
               wire::recording{"new.mp4", "物理", 1, at(0, 11), 2700, 9'000'000, std::string(64, 'd'), "recorded"}}},
             at(0, 12));
    auto o = collect(c.db.database(), {}, now);
    REQUIRE(o);
    CHECK(o->recordings_waiting == 1);
    REQUIRE(o->recordings.size() == 4);
    CHECK(o->recordings[0].filename == "hill.mp4");
    CHECK(o->recordings[3].filename == "old.mp4");
    CHECK(o->recordings_week == 1);
    CHECK(o->recordings_uploading == 2);
    auto zh = render_html(*o, {}, i18n::language::zh);
    CHECK(zh.find("课堂录像") != std::string::npos);
    CHECK(zh.find("已接收，校验一致（1 次传输损坏，已重传）") != std::string::npos);
    CHECK(zh.find("上传中 40%") != std::string::npos);
    CHECK(zh.find("0:45:00") != std::string::npos);
    CHECK(zh.find("<i>art</i>") == std::string::npos);
    CHECK(zh.find("&lt;i&gt;art&lt;/i&gt;") != std::string::npos);
    auto en = render_html(*o, {}, i18n::language::en);
    CHECK(en.find("Recorded lessons") != std::string::npos);
    CHECK(en.find("uploading 40 %") != std::string::npos);
    CHECK(en.find("lessons recorded this week") != std::string::npos);
    CHECK(en.find("recordings not yet at the county") != std::string::npos);
    auto j = to_json(*o);
    CHECK(j.at("recordings").as_array().size() == 4);
    CHECK(j.at("recordings").as_array()[1].at("received_bytes").as_int64() == 4'000'000);

    // One school only.
    auto one = collect(c.db.database(), {}, now, "第三小学");
    REQUIRE(one);
    CHECK(one->recordings.size() == 3);
    auto csv = export_csv(c.db.database(), *one, "recordings", i18n::language::en);
    REQUIRE(csv);
    REQUIRE(*csv);
    CHECK((*csv)->find("file,lesson") != std::string::npos);
    CHECK((*csv)->find("done.mp4") != std::string::npos);
    CHECK((*csv)->find("hill.mp4") == std::string::npos);
    CHECK((*csv)->find("2700") != std::string::npos);
}
