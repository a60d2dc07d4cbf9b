// A set's certificate over its life, end to end on loopback with the real
// bbt-county and agent: renewal before it runs out (over the certificate
// itself), retirement and replacement, re-enrolment after it expired keeping
// the set's id and history, and enrolment codes that cannot be guessed at
// speed nor spent by a request that fails.
#include "bbt/base/sqlite.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/pki.hpp"
#include "bounded.hpp"

#include "agent_fixture.hpp"
#include "county_fixture.hpp"
#include "http_get.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <thread>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
using test::county_fixture;

namespace {

std::string county_section(const county_fixture& c) {
    return fmt::format("[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\nretry_max = 1\n", c.url(),
                       (c.pki / "ca.pem").string());
}

int64_t depth(const json::object& s) {
    return s.contains("queue_depth") ? s.at("queue_depth").to_number<int64_t>() : -1;
}

int64_t delivered(const json::object& s) { return s.at("delivered").to_number<int64_t>(); }

// A column of a set's row in the county's devices table.
int64_t device_column(const county_fixture& county, const std::string& device, const std::string& column) {
    auto d = sqlite::database::open(county.db, {.create = false, .read_only = true});
    REQUIRE(d);
    auto st = d->prepare(fmt::format("SELECT coalesce({}, -1) FROM devices WHERE device_id = ?", column));
    REQUIRE(st);
    st->bind(1, device);
    REQUIRE(st->step().value());
    return st->column_int64(0);
}

result<protocol::https_response> post(const protocol::tls_identity& tls, const std::string& url,
                                      const std::string& body) {
    return test::https_post(tls, url, body);
}

// Every report of the set in the county once, in one unbroken run from 1.
void check_every_report_once(county_fixture& county, const std::string& device) {
    auto [count, first, last] = county.reports(device);
    CHECK(first == 1);
    CHECK(count == last);
    MESSAGE(device << ": " << count << " reports, sequence 1.." << last);
}

// A county whose sets' certificates live `seconds`, started.
void start_with_lifetime(county_fixture& county, int seconds) {
    county.pki_keys = fmt::format("certificate_lifetime = {}\n", seconds);
    county.write_config();
    county.start();
}

// An agent running against `county`, enrolled in `classroom`; stopped at the end.
struct running_set {
    test::agent_fixture f;
    test::notify_listener n{f.dir / "notify"};
    test::child agent;
    std::string device;

    running_set(county_fixture& county, const std::string& classroom) : f("", "3", county_section(county)) {
        agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        device = std::string(f.ctl_json({"county", "enrol", county.code(classroom)}).at("device_id").as_string());
    }
    ~running_set() {
        agent.signal(SIGTERM);
        (void)agent.wait(10s);
    }
};

}  // namespace

TEST_SUITE("long") {
    TEST_CASE(
        "a set with a 60-second certificate reports for ten minutes through its own renewals: every report once") {
        county_fixture county;
        start_with_lifetime(county, 60);
        running_set set(county, "201");
        auto& f = set.f;
        const std::string& device = set.device;
        int64_t first_serial = device_column(county, device, "cert_serial");

        // Ten minutes of the wall clock: a heartbeat every 5 s, a renewal
        // about every 40 s. Each pass waits for a delivery newer than the last.
        auto until = std::chrono::steady_clock::now() + 10min;
        int64_t seen = 0;
        while (std::chrono::steady_clock::now() < until) {
            auto s = f.ctl_json_until(
                {"county", "status"}, [&](const json::object& o) { return delivered(o) > seen; }, 60s);
            seen = delivered(s);
            // Never so far behind that the certificate could have run out.
            CHECK_FALSE(s.at("certificate_expired").as_bool());
        }
        auto s = f.ctl_json_until({"county", "status"},
                                  [](const json::object& o) { return depth(o) == 0 && !o.contains("last_error"); });
        int64_t renewals = device_column(county, device, "renewals");
        MESSAGE("renewals in ten minutes: " << renewals << "; delivered " << delivered(s));
        CHECK(renewals >= 10);
        CHECK(device_column(county, device, "cert_serial") != first_serial);
        check_every_report_once(county, device);
        // The set that did this was the same set throughout.
        CHECK(f.log().find("certificate has expired") == std::string::npos);
    }
}

TEST_CASE("a retired set is refused and the set that replaces it enrols in its classroom with the code it gets") {
    county_fixture county;
    county.start();
    test::agent_fixture old_set("", "3", county_section(county));
    test::notify_listener n(old_set.dir / "notify");
    auto agent = old_set.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto e = old_set.ctl_json({"county", "enrol", county.code("201")});
    std::string device(e.at("device_id").as_string());
    old_set.ctl_json_until({"county", "status"}, [](const json::object& o) { return delivered(o) > 0; });
    auto [before, b1, b2] = county.reports(device);

    std::string code = county.code_from({"replace", "--device", device});
    CHECK(code.size() == 10);
    CHECK(test::read_file(county.dir / "code.err").find("retired " + device) != std::string::npos);
    // Its certificate still comes from the county's CA; the county refuses it.
    auto refused = old_set.ctl_json_until({"county", "status"}, [](const json::object& o) {
        return o.contains("last_error") &&
               std::string(o.at("last_error").as_string()).find("retired") != std::string::npos;
    });
    INFO(json::serialize(refused));
    CHECK(std::string(refused.at("last_error").as_string()).find("403") != std::string::npos);
    auto identity = protocol::tls_identity{test::read_file(county.pki / "ca.pem"),
                                           test::read_file(old_set.state / "county" / "cert.pem"),
                                           test::read_file(old_set.state / "county" / "key.pem")};
    auto renewal =
        post(identity, county.url() + "/v1/renew",
             json::serialize(json::object{{"csr", protocol::pki::make_csr(identity.key_pem, device).value()}}));
    REQUIRE(renewal);
    CHECK(renewal->status == 403);
    // Nothing of it arrives any more; what it had sent stays.
    CHECK(std::get<0>(county.reports(device)) == before);

    // The new set takes the classroom: the next device id there.
    test::agent_fixture new_set("", "3", county_section(county));
    test::notify_listener n2(new_set.dir / "notify");
    auto agent2 = new_set.start(n2);
    REQUIRE(n2.wait_for("READY=1"));
    auto e2 = new_set.ctl_json({"county", "enrol", code});
    CHECK(e2.at("device_id").as_string() == "No.3 Primary/201#2");
    new_set.ctl_json_until({"county", "status"}, [](const json::object& o) { return delivered(o) > 0; });
    // The dashboard shows the classroom's set in service, not the retired one.
    auto page =
        test::http_fetch(county.dashboard_port, "/api/v1/overview", "GET", {{"Cookie", county.dashboard_cookie()}});
    REQUIRE(page.status == 200);
    auto sets = json::parse(page.body).at("sets").as_array();
    REQUIRE(sets.size() == 1);
    CHECK(sets[0].at("device_id").as_string() == "No.3 Primary/201#2");
    auto csv = test::http_fetch(county.dashboard_port, "/export/certificates.csv?lang=en", "GET",
                                {{"Cookie", county.dashboard_cookie()}});
    CHECK(csv.body.find(device + ",No.3 Primary,201,") != std::string::npos);
    agent.signal(SIGTERM);
    agent2.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    REQUIRE(agent2.wait(10s));
    county.stop();
}

TEST_CASE("a set whose certificate expired re-enrols with a code and keeps its device id and history") {
    county_fixture county;
    start_with_lifetime(county, 30);
    test::agent_fixture f("", "3", county_section(county));
    std::string device;
    {
        test::notify_listener n(f.dir / "notify");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        auto e = f.ctl_json({"county", "enrol", county.code("201")});
        device = std::string(e.at("device_id").as_string());
        f.ctl_json_until({"county", "status"}, [](const json::object& o) { return delivered(o) > 0 && depth(o) == 0; });
        agent.signal(SIGTERM);
        REQUIRE(agent.wait(10s));
    }
    // Switched off past its certificate's end: nothing renewed it.
    auto facts = protocol::pki::facts_of(test::read_file(f.state / "county" / "cert.pem")).value();
    std::this_thread::sleep_until(facts.not_after + 1s);

    test::notify_listener n(f.dir / "notify2");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto expired = f.ctl_json_until({"county", "status"}, [](const json::object& o) {
        return o.contains("last_error") && o.at("certificate_expired").as_bool();
    });
    INFO(json::serialize(expired));
    REQUIRE(f.ctl({"county", "status"}) == 0);
    CHECK(f.ctl_out().find("re-enrol with a code") != std::string::npos);
    // Reports wait meanwhile; none is lost.
    f.ctl_json_until({"county", "status"}, [](const json::object& o) { return depth(o) >= 1; });

    auto again = f.ctl_json({"county", "enrol", county.code("201")});
    CHECK(again.at("device_id").as_string() == device);
    f.ctl_json_until({"county", "status"}, [](const json::object& o) {
        return depth(o) == 0 && !o.contains("last_error") && !o.at("certificate_expired").as_bool();
    });
    check_every_report_once(county, device);
    CHECK(device_column(county, device, "renewals") == 1);
    CHECK(test::read_file(county.dir / "county.log").find("enrolled again " + device) != std::string::npos);
    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    county.stop();
}

TEST_CASE("an enrolment code is spent only when its certificate is issued and codes cannot be guessed at speed") {
    county_fixture county;
    county.start();
    protocol::tls_identity anonymous{test::read_file(county.pki / "ca.pem"), "", ""};
    std::string code = county.code("201");
    auto bad = post(anonymous, county.url() + "/v1/enrol",
                    json::serialize(json::object{{"code", code}, {"csr", "not a certificate request"}}));
    REQUIRE(bad);
    CHECK(bad->status == 400);
    // The same code still enrols a set.
    auto key = protocol::pki::generate_key().value();
    auto good = post(anonymous, county.url() + "/v1/enrol",
                     json::serialize(json::object{{"code", code}, {"csr", protocol::pki::make_csr(key, "x").value()}}));
    REQUIRE(good);
    CHECK(good->status == 200);
    CHECK(json::parse(good->body).at("device_id").as_string() == "No.3 Primary/201#1");
    // Wrong codes from one address: refused, then throttled.
    int throttled = 0;
    for (int i = 0; i < 12; ++i) {
        auto guess = post(anonymous, county.url() + "/v1/enrol",
                          json::serialize(json::object{{"code", fmt::format("GUESS{:05}", i)}, {"csr", "x"}}));
        REQUIRE(guess);
        if (guess->status == 429) {
            ++throttled;
            CHECK(guess->retry_after_s.value_or(0) > 0);
        } else {
            CHECK(guess->status == 403);
        }
    }
    CHECK(throttled >= 2);
    county.stop();
}

TEST_CASE("a renewal that fails while the county is away is retried and alerts until it succeeds") {
    county_fixture county;
    start_with_lifetime(county, 60);
    running_set set(county, "201");
    auto& f = set.f;
    const std::string& device = set.device;
    std::string first_expiry = std::string(
        f.ctl_json_until({"county", "status"},
                         [](const json::object& o) { return o.contains("certificate_expires") && delivered(o) > 0; })
            .at("certificate_expires")
            .as_string());
    // Away when the renewal falls due (two thirds into 60 s).
    county.stop();
    auto failing = f.ctl_json_until(
        {"county", "status"}, [](const json::object& o) { return o.contains("renewal_error"); }, 60s);
    INFO(json::serialize(failing));
    REQUIRE(f.ctl({"county", "status"}) == 0);
    CHECK(f.ctl_out().find("renewal:") != std::string::npos);
    // Back before the end: renewed, and the alert it raised cleared.
    county.start();
    auto renewed = f.ctl_json_until(
        {"county", "status"},
        [&](const json::object& o) {
            return !o.contains("renewal_error") && o.contains("certificate_expires") &&
                   o.at("certificate_expires").as_string() != first_expiry && depth(o) == 0;
        },
        60s);
    CHECK_FALSE(renewed.at("certificate_expired").as_bool());
    auto d = sqlite::database::open(county.db, {.create = false, .read_only = true});
    REQUIRE(d);
    auto st = d->prepare(
        "SELECT severity, cleared_us IS NOT NULL FROM alerts WHERE device_id = ? AND code = 'county.certificate'");
    REQUIRE(st);
    st->bind(1, device);
    REQUIRE(st->step().value());
    CHECK(st->column_text(0) == "warning");
    CHECK(st->column_int64(1) == 1);
    check_every_report_once(county, device);
}
