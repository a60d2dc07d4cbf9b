// Courseware end to end on loopback: the real bbt-county publishes a
// catalogue and a classroom's timetable, nginx serves the files, the real
// agent fetches what the lessons need, verifies, probes (libav) and pins it,
// and reports its readiness; then, with the county and nginx gone and the
// agent restarted, it still serves the cached files and the cached timetable.
#include "bbt/agent/courseware_service.hpp"
#include "bbt/base/clock.hpp"
#include "bbt/base/digest.hpp"
#include "bbt/base/sqlite.hpp"
#include "bbt/media/cache.hpp"

#include "agent_fixture.hpp"
#include "county_fixture.hpp"
#include "nginx.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <random>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

using test::random_bytes;

namespace {

constexpr const char* ffmpeg_binary = "/usr/bin/ffmpeg";

std::string event(const std::string& uid, const std::string& summary, int64_t start, int64_t minutes,
                  const std::string& resources) {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260901T000000Z\r\nDTSTART:" + test::ics_time(start) +
           "\r\nDTEND:" + test::ics_time(start + minutes * 60) + "\r\nSUMMARY:" + summary +
           "\r\nX-BBT-RESOURCE:" + resources + "\r\nEND:VEVENT\r\n";
}

json::object entry(const test::nginx& web, const std::string& id, const std::string& file, const std::string& type,
                   const std::string& title) {
    auto path = web.www() / file;
    return json::object{{"id", id},
                        {"title", title},
                        {"subject", "数学"},
                        {"grade", "七年级"},
                        {"type", type},
                        {"url", web.url(file)},
                        {"sha256", digest::sha256_file(path).value()},
                        {"size", static_cast<int64_t>(fs::file_size(path))}};
}

const json::object* resource_in(const json::object& timetable, const std::string& id) {
    for (const auto& l : timetable.at("lessons").as_array())
        for (const auto& r : l.at("resources").as_array())
            if (r.at("id") == id.c_str()) return &r.as_object();
    return nullptr;
}

// Whether `bbtctl cache ls` lists the resource.
bool holds(const json::object& ls, const std::string& id) {
    for (const auto& v : ls.at("items").as_array())
        if (v.at("id") == id.c_str()) return true;
    return false;
}

std::string state_in(const json::object& timetable, const std::string& id) {
    const auto* r = resource_in(timetable, id);
    return r ? std::string(r->at("state").as_string()) : "absent";
}

}  // namespace

TEST_CASE("courseware of coming lessons is fetched, verified, probed and pinned, and served offline after a restart") {
    if (!fs::exists(test::nginx_binary) || !fs::exists(ffmpeg_binary)) {
        BBT_SKIP("needs " << test::nginx_binary << " and " << ffmpeg_binary << " (scripts/setup installs both)");
        return;
    }
    test::temp_dir web_dir;
    test::nginx web(web_dir.path());
    // A real lesson video (2 s, picture and sound), a document, a "video" libav cannot read, and one no lesson needs.
    REQUIRE(test::run({ffmpeg_binary, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                       "testsrc=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                       "-c:v", "mpeg4", "-c:a", "aac", "-shortest", (web.www() / "lesson.mp4").string()}) == 0);
    test::write_file(web.www() / "notes.pdf", "%PDF-1.4\n" + random_bytes(200'000, 1));
    test::write_file(web.www() / "broken.mp4", random_bytes(300'000, 2));
    test::write_file(web.www() / "extra.mp4", random_bytes(100'000, 3));

    test::county_fixture county;
    county.start();
    json::array entries{entry(web, "math-7-01", "lesson.mp4", "video", "一元一次方程"),
                        entry(web, "math-7-01-notes", "notes.pdf", "document", "讲义"),
                        entry(web, "math-7-02", "broken.mp4", "video", "坏视频"),
                        entry(web, "extra", "extra.mp4", "video", "不需要的")};
    test::write_file(county.dir / "catalogue.json",
                     json::serialize(json::object{{"version", 1}, {"resources", std::move(entries)}}));
    REQUIRE(test::run({BBT_COUNTY_BINARY, "catalogue", "--config", county.config.string(), "--file",
                       (county.dir / "catalogue.json").string()}) == 0);
    int64_t now = clock::wall_now().count() / 1'000'000;
    int64_t first = now + 3600, second = now + 26 * 3600;
    test::write_file(county.dir / "301.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
                                                 event("a@test", "数学", first, 45, "math-7-01,math-7-01-notes,ghost") +
                                                 event("b@test", "数学", second, 45, "math-7-02") +
                                                 "END:VCALENDAR\r\n");
    REQUIRE(test::run({BBT_COUNTY_BINARY, "timetable", "--config", county.config.string(), "--school", "No.3 Primary",
                       "--classroom", "301", "--file", (county.dir / "301.ics").string()}) == 0);

    test::agent_fixture f("", "3",
                          fmt::format("[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\n"
                                      "retry_max = 0.5\n[cache]\nrefresh = 10\nutc_offset_minutes = 480\n",
                                      county.url(), (county.pki / "ca.pem").string()));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    std::string device(f.ctl_json({"county", "enrol", county.code("301")}).at("device_id").as_string());
    REQUIRE(f.ctl({"cache", "refresh"}) == 0);

    int64_t today = agent::local_day_start(now, 480);
    std::string days_first = std::to_string((agent::local_day_start(first, 480) - today) / 86400);
    std::string days_second = std::to_string((agent::local_day_start(second, 480) - today) / 86400);
    auto t1 = f.ctl_json_until(
        {"timetable", days_first},
        [](const json::object& t) {
            return state_in(t, "math-7-01") == "ready" && state_in(t, "math-7-01-notes") == "ready";
        },
        60s);
    INFO(json::serialize(t1));
    CHECK(state_in(t1, "ghost") == "unknown");  // named by the lesson, not in the catalogue
    CHECK_FALSE(t1.at("lessons").as_array().at(0).at("ready").as_bool());
    auto t2 = f.ctl_json_until(
        {"timetable", days_second}, [](const json::object& t) { return state_in(t, "math-7-02") == "unplayable"; },
        60s);

    // Stored: the video probed (2 s, both streams), pinned past its lesson; the document offered as it is.
    auto ls = f.ctl_json({"cache", "ls"});
    std::map<std::string, json::object> items;
    for (const auto& v : ls.at("items").as_array())
        items[std::string(v.at("id").as_string())] = v.as_object();
    REQUIRE(items.count("math-7-01") == 1);
    const auto& video = items["math-7-01"];
    CHECK(video.at("playable").as_int64() == 1);
    CHECK(video.at("probe").at("duration_s").to_number<double>() == doctest::Approx(2.0).epsilon(0.1));
    CHECK(video.at("probe").at("streams").as_array().size() == 2);
    CHECK(video.at("pinned_until_us").to_number<int64_t>() >= (first + 45 * 60) * 1'000'000);
    CHECK(items["math-7-01-notes"].at("playable").as_int64() == 1);
    CHECK(items["math-7-02"].at("playable").as_int64() == 0);
    CHECK(items.count("extra") == 0);  // no lesson needs it: never fetched
    CHECK(web.access_log().find("/extra.mp4") == std::string::npos);

    // The file and its thumbnail; the unreadable one is refused with the reason.
    auto got = f.ctl_json({"cache", "get", "math-7-01"});
    CHECK(test::read_file(std::string(got.at("path").as_string())) == test::read_file(web.www() / "lesson.mp4"));
    CHECK(test::read_file(std::string(got.at("thumbnail").as_string())).substr(0, 2) == "\xff\xd8");
    CHECK(f.ctl({"cache", "get", "math-7-02"}) == 1);
    CHECK(f.ctl_err().find("libav cannot play") != std::string::npos);
    REQUIRE(f.ctl({"timetable", days_first}) == 0);
    CHECK(f.ctl_out().find("math-7-01") != std::string::npos);
    CHECK(f.ctl_out().find("courseware NOT ready") != std::string::npos);  // the ghost

    // The county holds the set's readiness for the first lesson's day: 2 of 3 ready, the ghost missing.
    std::string day = agent::local_date(first, 480);
    bool reported = false;
    for (int i = 0; i < 400 && !reported; ++i) {
        auto db = sqlite::database::open(county.db);
        REQUIRE(db);
        auto st =
            db->prepare("SELECT lessons, resources, ready, missing FROM readiness WHERE device_id = ? AND day = ?");
        REQUIRE(st);
        st->bind_all(device, day);
        auto row = st->step();
        REQUIRE(row);
        if (*row && st->column_int64(2) == 2) {
            reported = true;
            CHECK(st->column_int64(0) == 1);
            CHECK(st->column_int64(1) == 3);
            CHECK(st->column_text(3) == "[\"ghost\"]");
        } else {
            std::this_thread::sleep_for(50ms);
        }
    }
    CHECK(reported);

    // The network goes: county and courseware server down; the agent restarts.
    county.stop();
    web.stop();
    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    test::notify_listener n2(f.dir / "notify2");
    agent = f.start(n2);
    REQUIRE(n2.wait_for("READY=1"));
    auto offline = f.ctl_json({"timetable", days_first});
    INFO(json::serialize(offline));
    CHECK(offline.at("kept").as_bool());
    CHECK(state_in(offline, "math-7-01") == "ready");
    auto again = f.ctl_json({"cache", "get", "math-7-01"});
    CHECK(test::read_file(std::string(again.at("path").as_string())) ==
          test::read_file(web_dir.path() / "www/lesson.mp4"));
    auto status = f.ctl_json_until(
        {"cache", "status"}, [](const json::object& s) { return !s.at("timetable").at("error").as_string().empty(); });
    CHECK(status.at("timetable").at("kept").as_bool());
    REQUIRE(f.ctl({"cache", "status"}) == 0);
    CHECK(f.ctl_out().find("the kept copy is used") != std::string::npos);
    // The same, for people who read Chinese.
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"cache", "status"}) == 0);
    CHECK(f.ctl_out().find("使用本机保存的副本") != std::string::npos);
    REQUIRE(f.ctl({"timetable", days_first}) == 0);
    CHECK(f.ctl_out().find("的课程") != std::string::npos);
    auto line = f.ctl_out().substr(f.ctl_out().find("math-7-01 "));
    line = line.substr(0, line.find('\n'));
    CHECK(line.find("一元一次方程") != std::string::npos);
    CHECK(line.find("已就绪") != std::string::npos);
    CHECK(f.ctl_out().find("不在县级平台目录中") != std::string::npos);
    REQUIRE(f.ctl({"cache", "ls"}) == 0);
    CHECK(f.ctl_out().find("（无法播放）") != std::string::npos);
}

TEST_CASE("while a lesson is on, downloads take the class bandwidth and only what is needed soon is fetched") {
    if (!fs::exists(test::nginx_binary)) {
        BBT_SKIP("needs " << test::nginx_binary << " (scripts/setup installs it)");
        return;
    }
    test::temp_dir web_dir;
    test::nginx web(web_dir.path());
    test::write_file(web.www() / "soon.pdf", random_bytes(600'000, 4));
    test::write_file(web.www() / "later.pdf", random_bytes(200'000, 5));
    test::county_fixture county;
    county.start();
    json::array entries{entry(web, "soon", "soon.pdf", "document", "this lesson"),
                        entry(web, "later", "later.pdf", "document", "this afternoon")};
    test::write_file(county.dir / "catalogue.json",
                     json::serialize(json::object{{"version", 1}, {"resources", std::move(entries)}}));
    REQUIRE(test::run({BBT_COUNTY_BINARY, "catalogue", "--config", county.config.string(), "--file",
                       (county.dir / "catalogue.json").string()}) == 0);
    int64_t now = clock::wall_now().count() / 1'000'000;
    auto publish = [&](int64_t lesson_end) {
        test::write_file(county.dir / "302.ics",
                         "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
                             event("now@test", "英语", now - 1800, (lesson_end - now + 1800) / 60, "soon") +
                             event("pm@test", "物理", now + 5 * 3600, 45, "later") + "END:VCALENDAR\r\n");
        REQUIRE(test::run({BBT_COUNTY_BINARY, "timetable", "--config", county.config.string(), "--school",
                           "No.3 Primary", "--classroom", "302", "--file", (county.dir / "302.ics").string()}) == 0);
    };
    publish(now + 3600);  // on for another hour

    test::agent_fixture f("", "3",
                          fmt::format("[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\n"
                                      "retry_max = 0.5\n[cache]\nrefresh = 10\nbandwidth_mbit = 0\n"
                                      "class_bandwidth_mbit = 4\n",
                                      county.url(), (county.pki / "ca.pem").string()));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    f.ctl_json({"county", "enrol", county.code("302")});
    REQUIRE(f.ctl({"cache", "refresh"}) == 0);

    // In class: 4 Mbit/s for all downloads; this lesson's courseware comes, the afternoon's waits.
    f.ctl_json_until(
        {"cache", "ls"}, [](const json::object& o) { return holds(o, "soon"); }, 60s);
    auto s = f.ctl_json({"cache", "status"});
    INFO(json::serialize(s));
    CHECK(s.at("in_class").as_bool());
    CHECK(s.at("limit_bytes_per_s").as_int64() == 500'000);
    REQUIRE(s.at("downloads").as_array().size() == 1);
    CHECK(s.at("downloads").as_array()[0].at("id") == "later");
    CHECK(s.at("downloads").as_array()[0].at("state") == "queued");
    CHECK(web.access_log().find("/later.pdf") == std::string::npos);
    REQUIRE(f.ctl({"cache", "status"}) == 0);
    CHECK(f.ctl_out().find("(a lesson is on)") != std::string::npos);

    // The lesson is over (the county says it ended a minute ago): the afternoon's courseware comes, at full speed.
    publish(now - 60);
    REQUIRE(f.ctl({"cache", "refresh"}) == 0);
    f.ctl_json_until(
        {"cache", "ls"}, [](const json::object& o) { return holds(o, "later"); }, 60s);
    s = f.ctl_json({"cache", "status"});
    CHECK_FALSE(s.at("in_class").as_bool());
    CHECK(s.at("limit_bytes_per_s").as_int64() == 0);
}
