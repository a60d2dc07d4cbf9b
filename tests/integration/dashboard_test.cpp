// The asset office's dashboard, as a browser shows it: the real bbt-county
// serving a database the test fills through the county's own ingest path,
// loaded in headless Chromium (Debian's chromium), in English and Chinese,
// with a screenshot to look at; and the CSV exports and JSON over HTTP.
#include "bbt/base/clock.hpp"

#include "county_fixture.hpp"
#include "http_get.hpp"
#include "store.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>

using namespace bbt;
using namespace std::chrono_literals;
namespace wire = protocol::county;

namespace {

constexpr const char* chromium = "/usr/bin/chromium";

// Microseconds at hh:00 local time, `days_back` days before today.
int64_t local_at(int days_back, int hh) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    tm.tm_mday -= days_back;
    tm.tm_hour = hh;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return static_cast<int64_t>(std::mktime(&tm)) * 1'000'000;
}

test::http_answer get(uint16_t port, const std::string& target, const std::string& method = "GET") {
    return test::http_fetch(port, target, method);
}

// What headless Chromium makes of a page: its DOM after scripts ran.
std::string dump_dom(const test::temp_dir& dir, const std::string& url, const std::string& lang) {
    test::spawn_options o;
    o.stdout_path = dir / "dom.html";
    o.stderr_path = dir / "chromium.log";
    o.env = {{"HOME", (dir / "home").string()}, {"LANGUAGE", lang}};
    int rc =
        test::run({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                   "--user-data-dir=" + (dir / "profile").string(), "--accept-lang=" + lang, "--dump-dom", url},
                  o, 90s);
    REQUIRE_MESSAGE(rc == 0, "chromium failed: " << test::read_file(dir / "chromium.log"));
    return test::read_file(dir / "dom.html");
}

// The table row of a set in the DOM.
std::string row_of(const std::string& dom, const std::string& device_id) {
    auto start = dom.find("<tr id=\"set-" + device_id + "\"");
    if (start == std::string::npos) return {};
    return dom.substr(start, dom.find("</tr>", start) - start);
}

}  // namespace

TEST_CASE("the dashboard in headless Chromium shows what the sets reported, in English and in Chinese") {
    if (!std::filesystem::exists(chromium)) {
        BBT_SKIP(chromium << " is missing; scripts/setup installs Debian's chromium");
        return;
    }
    // China's time (UTC+8, no daylight saving) in this process and the county's.
    ::setenv("TZ", "CST-8", 1);
    ::tzset();
    test::county_fixture county;
    county.env = {{"TZ", "CST-8"}};

    const int64_t now = clock::wall_now().count();
    std::string room201, room202, far, never;
    {
        auto db = county::store::open(county.db);
        REQUIRE(db);
        auto enrol = [&](const std::string& school, const std::string& classroom) {
            auto code = db->new_code(school, classroom, now + 3'600'000'000LL);
            REQUIRE(code);
            auto e = db->redeem(*code, now);
            REQUIRE(e);
            return e->device_id;
        };
        room201 = enrol("城关第三小学", "201");
        room202 = enrol("城关第三小学", "202");
        far = enrol("Hillside Middle School", "7");
        never = enrol("Hillside Middle School", "8");
        auto ingest = [&](const std::string& device, std::vector<wire::message> m, int64_t received) {
            REQUIRE(db->ingest(device, wire::batch{device, "0.3.0", std::move(m)}, received));
        };
        // 201: reporting now; used 09:00-12:00 two days ago; its lamp is worn.
        ingest(room201,
               {{1, now - 60'000'000,
                 wire::heartbeat{7200, true, 0, {{"whiteboard", "in-use"}}, {{"projector", 1, 2900, 3000}}}},
                {2, local_at(2, 12), wire::usage{"whiteboard", "in-use", local_at(2, 9), local_at(2, 12)}},
                {3, now - 30'000'000,
                 wire::alert{"projector", "projector.lamp-hours", "warning", "lamp at 97 % of its rated life", true}}},
               now);
        // 202: last heard an hour ago.
        ingest(room202, {{1, now - 3'600'000'000LL, wire::heartbeat{600, true, 0, {}, {{"projector", 1, 10, 3000}}}}},
               now - 3'600'000'000LL);
        // Hillside 7: not heard for ten days, with its disk failing.
        int64_t ten_days = now - 10 * 86'400'000'000LL;
        ingest(far, {{1, ten_days, wire::alert{"pc", "pc.disk", "critical", "disk failing", true}}}, ten_days);
    }
    county.start();

    test::temp_dir browser;
    auto dom = dump_dom(browser, fmt::format("http://127.0.0.1:{}/?lang=en", county.dashboard_port), "en-US");
    INFO(dom);
    CHECK(dom.find("<html lang=\"en\">") != std::string::npos);
    CHECK(dom.find("id=\"card-sets\"><b>4</b>") != std::string::npos);
    CHECK(dom.find("id=\"card-online\"><b>1</b>") != std::string::npos);
    CHECK(dom.find("id=\"card-offline\"><b>3</b>") != std::string::npos);
    CHECK(dom.find("id=\"card-not-seen\"><b>2</b>") != std::string::npos);
    CHECK(dom.find("id=\"card-alerts\"><b>2</b>") != std::string::npos);
    CHECK(dom.find("id=\"card-lamps\"><b>1</b>") != std::string::npos);

    auto r201 = row_of(dom, room201);
    CHECK(r201.find("online") != std::string::npos);
    CHECK(r201.find("<td class=\"n\">3.0</td>") != std::string::npos);  // hours two days ago
    CHECK(r201.find("class=\"due\">2900 / 3000") != std::string::npos);
    CHECK(row_of(dom, room202).find("offline") != std::string::npos);
    CHECK(row_of(dom, far).find("not seen for 3+ days") != std::string::npos);
    CHECK(row_of(dom, never).find("never") != std::string::npos);
    // The worst alert first.
    auto critical = dom.find("disk failing"), warning = dom.find("lamp at 97 % of its rated life");
    CHECK(critical != std::string::npos);
    CHECK(warning != std::string::npos);
    CHECK(critical < warning);
    auto shot = browser / "dashboard-zh-CN.png";
    {
        test::spawn_options o;
        o.env = {{"HOME", (browser / "home").string()}};
        CHECK(test::run({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--user-data-dir=" + (browser / "profile").string(), "--hide-scrollbars",
                         "--window-size=1500,900", "--screenshot=" + shot.string(),
                         fmt::format("http://127.0.0.1:{}/?lang=zh-CN", county.dashboard_port)},
                        o, 90s) == 0);
    }
    REQUIRE(std::filesystem::exists(shot));
    CHECK(std::filesystem::file_size(shot) > 20'000);
    // Kept beside the tests' build for people to look at.
    std::error_code ec;
    std::filesystem::copy_file(shot, "dashboard-zh-CN.png", std::filesystem::copy_options::overwrite_existing, ec);

    // Without ?lang=, a Chinese browser gets Chinese.
    auto zh = dump_dom(browser, fmt::format("http://127.0.0.1:{}/", county.dashboard_port), "zh-CN");
    CHECK(zh.find("<html lang=\"zh-CN\">") != std::string::npos);
    CHECK(row_of(zh, room201).find("在线") != std::string::npos);
    CHECK(row_of(zh, far).find("超过 3 天未上线") != std::string::npos);
    CHECK(zh.find("待更换灯泡") != std::string::npos);

    // The JSON and CSV the page links to.
    auto api = get(county.dashboard_port, "/api/v1/overview");
    REQUIRE(api.status == 200);
    auto j = boost::json::parse(api.body).as_object();
    CHECK(j.at("online").as_int64() == 1);
    CHECK(j.at("not_seen").as_int64() == 2);
    auto csv = get(county.dashboard_port, "/export/sets.csv?lang=en");
    REQUIRE(csv.status == 200);
    CHECK(csv.content_type == "text/csv; charset=utf-8");
    CHECK(csv.body.find("set,school,classroom,online,last seen") != std::string::npos);
    CHECK(csv.body.find(room201 + ",城关第三小学,201,yes,") != std::string::npos);
    auto one_school = get(county.dashboard_port, "/export/sets.csv?lang=en&school=Hillside%20Middle%20School");
    CHECK(one_school.body.find(far) != std::string::npos);
    CHECK(one_school.body.find(room201) == std::string::npos);
    CHECK(get(county.dashboard_port, "/export/keys.csv").status == 404);
    CHECK(get(county.dashboard_port, "/", "POST").status == 405);
    county.stop();
}
