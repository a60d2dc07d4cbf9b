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
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <cstdlib>
#include <ctime>
#include <regex>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
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

// A request of the county's staff, signed in.
test::http_answer get(test::county_fixture& county, const std::string& target, const std::string& method = "GET") {
    return test::http_fetch(county.dashboard_port, target, method, {{"Cookie", county.dashboard_cookie()}});
}

// The address of a one-time sign-in (bbt-county account link) that goes on
// to `target`: how the test's browser signs in.
std::string signed_in_url(test::county_fixture& county, const std::string& target) {
    county.dashboard_cookie();  // the account
    std::string link = county.code_from({"account", "link", "--name", "office"});
    return fmt::format("http://127.0.0.1:{}{}&next={}", county.dashboard_port, link,
                       boost::urls::encode(target, boost::urls::unreserved_chars));
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
    auto dom = dump_dom(browser, signed_in_url(county, "/?lang=en"), "en-US");
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
        CHECK(test::run(
                  {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                   "--user-data-dir=" + (browser / "profile").string(), "--hide-scrollbars", "--window-size=1500,900",
                   "--screenshot=" + shot.string(), signed_in_url(county, "/?lang=zh-CN")},
                  o, 90s) == 0);
    }
    REQUIRE(std::filesystem::exists(shot));
    CHECK(std::filesystem::file_size(shot) > 20'000);
    // Kept beside the tests' build for people to look at.
    std::error_code ec;
    std::filesystem::copy_file(shot, "dashboard-zh-CN.png", std::filesystem::copy_options::overwrite_existing, ec);

    // Without ?lang=, a Chinese browser gets Chinese.
    auto zh = dump_dom(browser, signed_in_url(county, "/"), "zh-CN");
    CHECK(zh.find("<html lang=\"zh-CN\">") != std::string::npos);
    CHECK(row_of(zh, room201).find("在线") != std::string::npos);
    CHECK(row_of(zh, far).find("超过 3 天未上线") != std::string::npos);
    CHECK(zh.find("待更换灯泡") != std::string::npos);

    // The JSON and CSV the page links to.
    auto api = get(county, "/api/v1/overview");
    REQUIRE(api.status == 200);
    auto j = boost::json::parse(api.body).as_object();
    CHECK(j.at("online").as_int64() == 1);
    CHECK(j.at("not_seen").as_int64() == 2);
    auto csv = get(county, "/export/sets.csv?lang=en");
    REQUIRE(csv.status == 200);
    CHECK(csv.content_type == "text/csv; charset=utf-8");
    CHECK(csv.body.find("set,school,classroom,online,last seen") != std::string::npos);
    CHECK(csv.body.find(room201 + ",城关第三小学,201,yes,") != std::string::npos);
    auto one_school = get(county, "/export/sets.csv?lang=en&school=Hillside%20Middle%20School");
    CHECK(one_school.body.find(far) != std::string::npos);
    CHECK(one_school.body.find(room201) == std::string::npos);
    CHECK(get(county, "/export/keys.csv").status == 404);
    CHECK(get(county, "/", "POST").status == 405);
    county.stop();
}

TEST_CASE(
    "an export of 200000 usage rows comes in chunks as it is read: every row and the county's memory far below it") {
    test::county_fixture county;
    county.start();
    county.stop();
    constexpr int rows = 200'000;
    county.seed_usage("Riverside Primary", 50, rows);
    county.start();
    // The page once, so that what the dashboard needs anyway is counted
    // before the export.
    REQUIRE(get(county, "/").status == 200);
    county.reset_peak_rss();  // signing in hashed a password in 19 MiB
    int64_t before = county.peak_rss_kib();
    auto csv = get(county, "/export/usage.csv?lang=en");
    int64_t after = county.peak_rss_kib();
    REQUIRE(csv.status == 200);
    CHECK(csv.chunked);
    CHECK(
        csv.body.starts_with("\xEF\xBB\xBF"
                             "set,school,classroom,device,state,from,to,minutes\r\n"));
    CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == rows + 1);
    // Each set's spans, and the spans in time order.
    std::string first_set = ",Riverside Primary,100,whiteboard,in-use,";
    size_t of_first = 0;
    for (size_t at = csv.body.find(first_set); at != std::string::npos; at = csv.body.find(first_set, at + 1))
        ++of_first;
    CHECK(of_first == rows / 50);
    int64_t grew_kib = after - before, size_kib = static_cast<int64_t>(csv.body.size() / 1024);
    MESSAGE("the export: " << size_kib << " KiB; bbt-county's peak memory grew by " << grew_kib << " KiB");
    BBT_CHECK_PEAK_KIB(grew_kib, size_kib / 4);
    // One school's export has only its sets: none here.
    auto other = get(county, "/export/usage.csv?lang=en&school=Hillside");
    CHECK(std::count(other.body.begin(), other.body.end(), '\n') == 1);
    // HEAD gives the export's head (the client reads no body after a HEAD,
    // so what is checked is the head itself).
    auto head = get(county, "/export/usage.csv", "HEAD");
    CHECK(head.status == 200);
    CHECK(head.content_type == "text/csv; charset=utf-8");
    CHECK(head.header("Content-Disposition") == "attachment; filename=\"bbt-usage.csv\"");
    county.stop();
}

TEST_CASE("a damaged database makes /healthz say so and no error page shows SQL") {
    test::county_fixture county;
    county.start();
    REQUIRE(get(county, "/healthz").status == 200);
    county.stop();
    county.seed_usage("Riverside Primary", 10, 5000);
    // The usage table's root page overwritten: the rest of the file is sound,
    // so bbt-county still starts (as it would after a bad sector).
    int64_t root = 0, page_size = 0;
    {
        auto d = sqlite::database::open(county.db);
        REQUIRE(d);
        REQUIRE(d->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        auto st = d->prepare(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema "
            "WHERE name = 'usage'");
        REQUIRE(st);
        REQUIRE(*st->step());
        root = st->column_int64(0);
        page_size = st->column_int64(1);
    }
    REQUIRE(root > 1);
    {
        std::fstream f(county.db, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp((root - 1) * page_size);
        std::string junk(static_cast<size_t>(page_size), '\xA5');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    county.start();
    auto health = get(county, "/healthz");
    CHECK(health.status == 503);
    auto page = get(county, "/?lang=en");
    CHECK(page.status == 503);
    auto csv = get(county, "/export/usage.csv?lang=zh-CN");
    CHECK(csv.status == 503);
    CHECK(csv.body.find("县级数据库") != std::string::npos);
    for (const auto* answer : {&health, &page, &csv}) {
        CHECK(answer->body.find("SELECT") == std::string::npos);
        CHECK(answer->body.find("usage") == std::string::npos);
        CHECK(answer->body.find("malformed") == std::string::npos);
    }
    CHECK(health.body.find("the service's log says why") != std::string::npos);
    county.stop();
    CHECK(test::read_file(county.dir / "county.log").find("malformed") != std::string::npos);
}

TEST_CASE("the dashboard refuses an anonymous request and a school's account sees only its school") {
    test::county_fixture county;
    county.start();
    county.stop();
    county.seed_usage("Riverside Primary", 3, 30);
    county.start();
    auto port = county.dashboard_port;
    county.dashboard_account("hill.office", "hillside's own password", "Hillside");
    county.dashboard_account("river.office", "riverside's own password", "Riverside Primary");

    // Anonymous: the page sends the browser to sign in; data is refused.
    auto page = test::http_fetch(port, "/?lang=en");
    CHECK(page.status == 303);
    CHECK(page.header("Location") == "/login?next=%2F%3Flang%3Den");
    CHECK(test::http_fetch(port, "/api/v1/overview").status == 401);
    CHECK(test::http_fetch(port, "/export/sets.csv").status == 401);
    CHECK(test::http_fetch(port, "/export/sets.csv", "GET", {{"Cookie", "bbt_session=00ff00ff"}}).status == 401);
    CHECK(test::http_fetch(port, "/healthz").status == 200);  // for monitoring, and it tells nothing
    // The sign-in page, in both languages, sets its CSRF cookie.
    auto form = test::http_fetch(port, "/login?lang=zh-CN");
    CHECK(form.status == 200);
    CHECK(form.body.find("登录") != std::string::npos);
    CHECK(form.header("Set-Cookie").find("HttpOnly; SameSite=Strict") != std::string::npos);
    CHECK(test::http_fetch(port, "/login?lang=en").body.find("Password") != std::string::npos);

    // A wrong password, or a post without the form's token, signs nobody in.
    CHECK(test::dashboard_sign_in(port, "hill.office", "not the password").empty());
    CHECK(test::dashboard_sign_in(port, "nobody", "not the password").empty());
    auto forged = test::http_fetch(port, "/login", "POST", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                   "name=hill.office&password=hillside%27s+own+password");
    CHECK(forged.status == 403);
    CHECK(forged.header("Set-Cookie").find("bbt_session") == std::string::npos);

    // Riverside's account sees Riverside whatever it asks for.
    std::string river = test::dashboard_sign_in(port, "river.office", "riverside's own password");
    REQUIRE(!river.empty());
    auto own = test::http_fetch(port, "/api/v1/overview?school=Hillside", "GET", {{"Cookie", river}});
    REQUIRE(own.status == 200);
    auto sets = json::parse(own.body).at("sets").as_array();
    CHECK(sets.size() == 3);
    for (const auto& set : sets)
        CHECK(set.at("school").as_string() == "Riverside Primary");
    // Hillside's sees none of them, in the page, the JSON and the exports.
    std::string hill = test::dashboard_sign_in(port, "hill.office", "hillside's own password");
    REQUIRE(!hill.empty());
    CHECK(json::parse(test::http_fetch(port, "/api/v1/overview", "GET", {{"Cookie", hill}}).body)
              .at("sets")
              .as_array()
              .empty());
    auto usage = test::http_fetch(port, "/export/usage.csv?school=Riverside%20Primary", "GET", {{"Cookie", hill}});
    CHECK(usage.status == 200);
    CHECK(usage.body.find("Riverside") == std::string::npos);
    auto html = test::http_fetch(port, "/?lang=en", "GET", {{"Cookie", hill}});
    CHECK(html.body.find("seed-0000") == std::string::npos);
    CHECK(html.body.find("id=\"viewer\">hill.office") != std::string::npos);

    // Another name in Host (a rebinding page) is refused, even signed in.
    CHECK(test::http_fetch(port, "/api/v1/overview", "GET", {{"Host", "evil.example"}, {"Cookie", river}}).status ==
          421);
    // Signing out needs the page's token; then the session is gone.
    CHECK(test::http_fetch(port, "/logout", "POST", {{"Cookie", river}}).status == 403);
    std::smatch csrf;
    std::string river_page = test::http_fetch(port, "/", "GET", {{"Cookie", river}}).body;
    REQUIRE(std::regex_search(river_page, csrf, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")));
    auto out = test::http_fetch(port, "/logout", "POST",
                                {{"Cookie", river}, {"Content-Type", "application/x-www-form-urlencoded"}},
                                "csrf=" + csrf[1].str());
    CHECK(out.status == 303);
    CHECK(test::http_fetch(port, "/api/v1/overview", "GET", {{"Cookie", river}}).status == 401);
    // Passwords are kept as Argon2id hashes only.
    auto d = sqlite::database::open(county.db, {.create = false, .read_only = true});
    REQUIRE(d);
    auto st = d->prepare("SELECT password FROM accounts WHERE name = 'hill.office'");
    REQUIRE(st);
    REQUIRE(st->step().value());
    CHECK(st->column_text(0).starts_with("$argon2id$"));
    CHECK(st->column_text(0).find("hillside") == std::string::npos);
    county.stop();
}
