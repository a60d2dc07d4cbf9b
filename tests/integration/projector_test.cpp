// PJLink end to end on loopback: `bbt-sim projector` speaking the real wire
// protocol, probed by `bbtctl projector probe` and driven by the agent's
// PJLink session: with and without a password, every known quirk, busy
// answers during warm-up, and the failures a technician meets (a closed
// port, a wrong password, something that is not a projector).
#include "bbt/drivers/projector/pjlink_client.hpp"
#include "bbt/drivers/projector/serial_projector.hpp"
#include "bounded.hpp"

#include "agent_fixture.hpp"
#include "doctest_bbt.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

using namespace bbt;
using namespace std::chrono_literals;
namespace pj = bbt::drivers::pjlink;
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

// A bbt-sim projector on a free loopback port.
struct sim_projector {
    test::temp_dir dir;
    test::child proc;
    uint16_t port = 0;
    std::string pty;  // a projector on a serial line: its device

    explicit sim_projector(std::vector<std::string> args) {
        std::vector<std::string> argv{BBT_SIM_BINARY, "projector", "--port", "0"};
        argv.insert(argv.end(), args.begin(), args.end());
        if (std::find(args.begin(), args.end(), "--serial") != args.end()) {
            pty = (dir / "ttyPROJ").string();
            argv.insert(argv.end(), {"--pty", pty});
        }
        test::spawn_options o;
        o.stdout_path = dir / "out";
        o.stderr_path = dir / "err";
        o.env = {{"LANG", "C"}};
        proc = test::spawn(argv, o);
        std::regex on("on 127\\.0\\.0\\.1:([0-9]+)");
        for (int i = 0; i < 400; ++i) {
            std::smatch m;
            std::string out = test::read_file(dir / "out");
            if (!pty.empty() && std::filesystem::exists(pty)) return;
            if (std::regex_search(out, m, on)) {
                port = static_cast<uint16_t>(std::stoi(m[1]));
                return;
            }
            std::this_thread::sleep_for(25ms);
        }
        FAIL("bbt-sim projector did not start: " << test::read_file(dir / "err"));
    }
    ~sim_projector() {
        proc.signal(SIGTERM);
        (void)proc.wait(5s);
    }
    std::string address() const { return fmt::format("127.0.0.1:{}", port); }
};

struct ctl_result {
    int code = -1;
    std::string out, err;
};

ctl_result probe(const std::vector<std::string>& extra) {
    test::temp_dir d;
    std::vector<std::string> argv{BBT_CTL_BINARY, "projector", "probe"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::spawn_options o;
    o.stdout_path = d / "out";
    o.stderr_path = d / "err";
    o.env = {{"LANG", "C"}};
    ctl_result r;
    r.code = test::run(argv, o, 30s);
    r.out = test::read_file(d / "out");
    r.err = test::read_file(d / "err");
    return r;
}

json::object probe_json(const std::vector<std::string>& extra) {
    auto args = extra;
    args.push_back("--json");
    auto r = probe(args);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    return json::parse(r.out).as_object();
}

result<std::vector<pj::exchange>> run(pj::endpoint e, std::vector<pj::request> reqs) {
    asio::io_context ioc;
    auto fut = asio::co_spawn(ioc, pj::run(ioc.get_executor(), std::move(e), std::move(reqs)), asio::use_future);
    return bbt::test::run_bounded(ioc, fut);
}

pj::endpoint at(const sim_projector& s, std::string password = {}) {
    pj::endpoint e;
    e.host = "127.0.0.1";
    e.port = s.port;
    e.password = std::move(password);
    e.busy_wait = 400ms;
    e.busy_retries = 10;
    return e;
}

}  // namespace

TEST_CASE("probe prints everything Class 1 and 2 tell, with and without a password") {
    sim_projector open({"--lamp-hours", "1234", "--erst", "000010"});
    auto j = probe_json({open.address()});
    CHECK(j.at("class").as_int64() == 2);
    CHECK(j.at("manufacturer").as_string() == "EPSON");
    CHECK(j.at("product").as_string() == "CB-X06");
    CHECK(j.at("serial").as_string() == "X5J1234567");
    CHECK(j.at("power").as_string() == "standby");
    CHECK(j.at("lamps").as_array().at(0).at("hours").as_int64() == 1234);
    CHECK(j.at("errors").at("filter").as_string() == "warning");
    CHECK(j.at("errors").at("fan").as_string() == "ok");
    CHECK(j.at("filter_hours").as_int64() == 300);
    REQUIRE(j.at("inputs").as_array().size() == 7);
    CHECK(j.at("inputs").as_array().at(3).at("name").as_string() == "HDMI1");
    CHECK(j.at("replacement_lamp").as_string() == "ELPLP97");

    auto text = probe({open.address()});
    CHECK(text.code == 0);
    CHECK(text.out.find("PJLink class 2 projector") != std::string::npos);
    CHECK(text.out.find("filter WARNING") != std::string::npos);

    sim_projector locked({"--password", "JBMIAProjectorLink"});
    // The password from a file, never the command line.
    test::temp_dir secrets;
    test::write_file(secrets / "right", "JBMIAProjectorLink\n");
    test::write_file(secrets / "wrong", "guess\n");
    CHECK(probe_json({locked.address(), "--password-file", (secrets / "right").string()}).at("serial").as_string() ==
          "X5J1234567");
    auto on_line = probe({locked.address(), "--password", "JBMIAProjectorLink"});
    CHECK(on_line.code == 2);
    CHECK(on_line.err.find("never on the command line") != std::string::npos);
    auto wrong = probe({locked.address(), "--password-file", (secrets / "wrong").string()});
    CHECK(wrong.code == 1);
    CHECK(wrong.err.find("refused the password") != std::string::npos);
    auto none = probe({locked.address()});
    CHECK(none.code == 1);
    CHECK(none.err.find("asks for a PJLink password") != std::string::npos);
}

TEST_CASE("probe says clearly when nothing listens, or what answers is not a projector") {
    // A port nothing listens on: bind one, then close it.
    uint16_t closed = 0;
    {
        asio::io_context ioc;
        asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        closed = a.local_endpoint().port();
    }
    auto refused = probe({fmt::format("127.0.0.1:{}", closed)});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("connection refused") != std::string::npos);

    // Something else on the port: an SSH server's banner.
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    uint16_t port = a.local_endpoint().port();
    std::thread server([&] {
        auto s = a.accept();
        asio::write(s, asio::buffer(std::string("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")));
        std::this_thread::sleep_for(500ms);
    });
    auto other = probe({fmt::format("127.0.0.1:{}", port)});
    server.join();
    CHECK(other.code == 1);
    CHECK(other.err.find("not a PJLink projector") != std::string::npos);
    CHECK(other.err.find("SSH-2.0") != std::string::npos);

    CHECK(probe({"127.0.0.1:99999"}).code == 2);
    CHECK(probe({}).code == 2);
}

TEST_CASE("the known deviations of real projectors are tolerated") {
    for (const char* quirk : {"lowercase", "nul", "lkup", "clss-text", "laser"}) {
        CAPTURE(quirk);
        sim_projector s({"--quirk", quirk, "--class", std::string(quirk) == "clss-text" ? "1" : "2"});
        auto j = probe_json({s.address()});
        CHECK(j.at("manufacturer").as_string() == "EPSON");
        CHECK(j.at("power").as_string() == "standby");
        if (std::string(quirk) == "clss-text") CHECK(j.at("class").as_int64() == 1);
        if (std::string(quirk) == "laser") {
            CHECK(j.at("no_lamp").as_bool());
            CHECK(j.at("lamps").as_array().empty());
        } else {
            CHECK(j.at("lamps").as_array().size() == 1);
        }
    }
}

TEST_CASE("powering on: ERR3 while warming up is retried, the lamp lights, mute and input are set once on") {
    sim_projector s({"--warmup", "1.2", "--cooldown", "0.8", "--password", "p"});
    auto r = run(at(s, "p"), {{'1', "POWR", "1"},
                              {'1', "INPT", "32"},
                              {'1', "AVMT", "31"},
                              pj::query("POWR"),
                              pj::query("INPT"),
                              pj::query("LAMP")});
    REQUIRE(r);
    REQUIRE(r->size() == 6);
    for (const auto& x : *r) {
        CAPTURE(x.req.command);
        REQUIRE(x.answer);
    }
    CHECK((*r)[3].answer->body == "1");
    CHECK((*r)[4].answer->body == "32");
    CHECK(pj::decode_lamps((*r)[5].answer->body).value().at(0).on);

    // Powering off: cooling, then standby; a power-on during cooling is refused (ERR3).
    pj::endpoint impatient = at(s, "p");
    impatient.busy_retries = 0;
    auto off = run(impatient, {{'1', "POWR", "0"}, pj::query("POWR"), {'1', "POWR", "1"}});
    REQUIRE(off);
    CHECK((*off)[1].answer->body == "2");
    CHECK((*off)[2].answer.error().code() == pj::pjlink_errc::unavailable_time);
    // Standby once cooled: asked until it says so (the bound only stops a hang).
    auto cooled_by = std::chrono::steady_clock::now() + 30s;
    for (;;) {
        auto p = run(impatient, {pj::query("POWR")});
        REQUIRE(p);
        if ((*p)[0].answer && (*p)[0].answer->body == "0") break;
        REQUIRE(std::chrono::steady_clock::now() < cooled_by);
        std::this_thread::sleep_for(50ms);
    }
    auto after = run(impatient, {pj::query("POWR"), {'1', "INPT", "99"}, {'2', "XXXX", "?"}});
    REQUIRE(after);
    CHECK((*after)[0].answer->body == "0");
    CHECK((*after)[1].answer.error().code() == pj::pjlink_errc::out_of_parameter);
    CHECK((*after)[2].answer.error().code() == pj::pjlink_errc::undefined_command);
}

TEST_CASE("a failing projector answers ERR4, and a Class 1 projector ERR1 to Class 2 commands") {
    sim_projector s({"--power-failure", "--class", "1"});
    auto r = run(at(s), {{'1', "POWR", "1"}, pj::query("SNUM", '2')});
    REQUIRE(r);
    CHECK((*r)[0].answer.error().code() == pj::pjlink_errc::projector_failure);
    CHECK((*r)[1].answer.error().code() == pj::pjlink_errc::undefined_command);
}

TEST_CASE("the projector drops an idle connection, and a new one works") {
    sim_projector s({"--idle-timeout", "0.3"});
    asio::io_context ioc;
    asio::ip::tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), s.port});
    std::array<char, 64> buf{};
    size_t n = sock.read_some(asio::buffer(buf));
    CHECK(std::string(buf.data(), n) == "PJLINK 0\r");
    std::this_thread::sleep_for(700ms);
    boost::system::error_code ec;
    asio::write(sock, asio::buffer(std::string("%1POWR ?\r")), ec);
    n = sock.read_some(asio::buffer(buf), ec);
    CHECK(ec == asio::error::eof);
    auto again = run(at(s), {pj::query("POWR")});
    REQUIRE(again);
    CHECK((*again)[0].answer->body == "0");
}

// ---- The one-key class, through the agent ----

namespace {

// The agent, its classroom and a simulated projector; `extra` adds keys to [projector].
struct classroom {
    sim_projector projector;
    std::unique_ptr<test::agent_fixture> agent;
    std::unique_ptr<test::notify_listener> notify;
    test::child proc;

    classroom(std::vector<std::string> sim_args, const std::string& password, uint16_t port_override = 0)
        : projector(std::move(sim_args)) {
        std::string section = fmt::format(
            "[projector]\nprotocol = \"pjlink\"\nhost = \"127.0.0.1\"\nport = {}\npassword = \"{}\"\npoll = 1\n"
            "mains_wait = 3\nwarmup_timeout = 20\ncooldown_timeout = 20\nreply_timeout = 1\n",
            port_override ? port_override : projector.port, password);
        if (!projector.pty.empty()) {
            // On a serial line; `password` names the command set.
            section = fmt::format(
                "[projector]\nprotocol = \"serial\"\ndevice = \"{}\"\ncommand_set = \"{}\"\ninput = \"30\"\n"
                "poll = 1\nmains_wait = 3\nwarmup_timeout = 20\ncooldown_timeout = 3\nreply_timeout = 1\n",
                projector.pty, password);
        }
        agent = std::make_unique<test::agent_fixture>("", "3", section);
        notify = std::make_unique<test::notify_listener>(agent->dir / "notify");
        proc = agent->start(*notify);
        REQUIRE(notify->wait_for("READY=1"));
    }
    json::object until(const std::string& state) {
        return agent->ctl_json_until({"class", "status"}, [&](const json::object& o) {
            return o.at("state").as_string() == state &&
                   o.at("goal").as_string() == (state == "idle" ? "idle" : "in-class");
        });
    }
    // Every time the projector's mains went off, the simulator was in standby
    // (not cooling, not on): checked on the relay's log against the
    // simulator's own history. Returns how many times mains went off.
    int mains_cuts_checked() {
        std::vector<std::pair<int64_t, std::string>> sim;  // (time, state entered)
        std::regex change("projector (\\w+) -> (\\w+) at ([0-9]+)");
        std::string log = test::read_file(projector.dir / "err");
        for (std::sregex_iterator it(log.begin(), log.end(), change), end; it != end; ++it) {
            sim.emplace_back(std::stoll((*it)[3]), (*it)[2]);
        }
        int cuts = 0;
        std::istringstream relays(test::read_file(agent->state / "relays.log"));
        std::string line;
        while (std::getline(relays, line)) {
            std::istringstream l(line);
            int64_t at = 0;
            std::string which, state;
            l >> at >> which >> state;
            if (which != "projector" || state != "off") continue;
            ++cuts;
            std::string then = "standby";
            for (const auto& [t, s] : sim) {
                if (t <= at) then = s;
            }
            CHECK_MESSAGE(then == "standby", "mains cut at " << at << " while the projector was " << then);
        }
        return cuts;
    }
};

}  // namespace

TEST_CASE("one key: a class starts and ends, and the projector's mains are cut only after it has cooled") {
    for (std::string password : {"", "JBMIAProjectorLink"}) {
        CAPTURE(password);
        std::vector<std::string> args{"--warmup", "1", "--cooldown", "1.5"};
        if (!password.empty()) args.insert(args.end(), {"--password", password});
        classroom c(args, password);
        REQUIRE(c.agent->ctl({"class", "start"}) == 0);
        c.until("in-class");
        auto p = c.agent->ctl_json({"projector", "status"});
        CHECK(p.at("power").as_string() == "on");
        CHECK(p.at("input").as_string() == "32");
        CHECK(p.at("blanked").as_bool() == false);
        auto s = c.agent->ctl_json({"class", "status"});
        CHECK(s.at("mains").at("projector").as_bool());
        REQUIRE(c.agent->ctl({"class", "end"}) == 0);
        auto ended = c.until("idle");
        CHECK_FALSE(ended.at("mains").at("projector").as_bool());
        CHECK(c.mains_cuts_checked() == 1);
        CHECK(c.agent->ctl_json({"projector", "status"}).at("power").as_string() == "standby");
    }
}

TEST_CASE("end, start, end pressed quickly in a row: mains are never cut while the projector cools") {
    classroom c({"--warmup", "1", "--cooldown", "2"}, "");
    REQUIRE(c.agent->ctl({"class", "start"}) == 0);
    c.until("in-class");
    REQUIRE(c.agent->ctl({"class", "end"}) == 0);
    c.agent->ctl_json_until({"class", "status"},
                            [](const json::object& o) { return o.at("state").as_string() == "ending"; });
    REQUIRE(c.agent->ctl({"class", "start"}) == 0);  // while cooling: starts again after it
    REQUIRE(c.agent->ctl({"class", "end"}) == 0);
    REQUIRE(c.agent->ctl({"class", "key"}) == 0);  // the front-panel key: start again
    c.until("in-class");
    CHECK(c.agent->ctl_json({"projector", "status"}).at("power").as_string() == "on");
    REQUIRE(c.agent->ctl({"class", "key"}) == 0);  // and end
    c.until("idle");
    CHECK(c.mains_cuts_checked() >= 1);
}

TEST_CASE("an unreachable projector puts the class in fault with a clear message, and the class can still end") {
    uint16_t closed = 0;
    {
        asio::io_context ioc;
        asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        closed = a.local_endpoint().port();
    }
    classroom c({}, "", closed);
    REQUIRE(c.agent->ctl({"class", "start"}) == 0);
    auto f = c.until("fault");
    CHECK(std::string(f.at("fault").as_string()).find("does not answer") != std::string::npos);
    REQUIRE(c.agent->ctl({"class", "status"}) == 0);
    CHECK(c.agent->ctl_out().find("FAULT") != std::string::npos);
    REQUIRE(c.agent->ctl({"class", "end"}) == 0);
    c.until("idle");
}

TEST_CASE("the ledger's projector hours match the lamp hours the projector counted, within 1 %") {
    // 1 s of lamp time is 100 lamp hours in the simulator, so a short class is a long one for the lamp.
    constexpr double hours_per_second = 100;
    classroom c({"--warmup", "1", "--cooldown", "1", "--lamp-hours", "1000", "--hours-per-second",
                 std::to_string(hours_per_second)},
                "");
    REQUIRE(c.agent->ctl({"class", "start"}) == 0);
    c.until("in-class");
    // The class lasts until the ledger holds 6 s of lamp time (the agent's
    // state, however long a busy machine takes to get there).
    auto lit_seconds = [](const json::object& usage) {
        double hours = 0;
        for (const auto& row : usage.at("usage").as_array()) {
            const auto& r = row.as_object();
            if (r.at("device").as_string() == "projector" &&
                (r.at("state").as_string() == "on" || r.at("state").as_string() == "warming")) {
                hours += r.at("hours").to_number<double>();
            }
        }
        return hours * 3600;
    };
    c.agent->ctl_json_until({"usage", "1"}, [&](const json::object& u) { return lit_seconds(u) >= 6; });
    REQUIRE(c.agent->ctl({"class", "end"}) == 0);
    c.until("idle");
    auto lamp = run(at(c.projector), {pj::query("LAMP")});
    REQUIRE(lamp);
    double counted = static_cast<double>(pj::decode_lamps((*lamp)[0].answer->body).value().at(0).hours) - 1000;

    double ledger = lit_seconds(c.agent->ctl_json({"usage", "1"})) * hours_per_second;
    MESSAGE("lamp hours counted by the projector: " << counted << ", by the ledger: " << ledger);
    REQUIRE(counted > 500);
    CHECK(std::abs(ledger - counted) <= 0.01 * counted);
}

// ---- Over a serial line ----

TEST_CASE("a projector on a serial line (a pty): Epson ESC/VP21 and BenQ, warm-up, busy, lamp hours, cool-down") {
    namespace ser = bbt::drivers::serial;
    for (const char* set : {"epson-escvp21", "benq"}) {
        CAPTURE(set);
        test::temp_dir d;
        auto link = (d / "ttyPROJ").string();
        test::spawn_options o;
        o.stdout_path = d / "out";
        o.stderr_path = d / "err";
        auto sim = test::spawn({BBT_SIM_BINARY, "projector", "--serial", set, "--pty", link, "--warmup", "1",
                                "--cooldown", "1", "--lamp-hours", "2000"},
                               o);
        for (int i = 0; i < 200 && !std::filesystem::exists(link); ++i)
            std::this_thread::sleep_for(25ms);
        REQUIRE(std::filesystem::exists(link));

        asio::io_context ioc;
        auto steps = [&]() -> asio::awaitable<std::string> {
            auto p = ser::serial_projector::open(co_await asio::this_coro::executor, link,
                                                 ser::find_command_set(set).value());
            if (!p) co_return p.error().what();
            auto& pr = **p;
            pr.reply_timeout = 2s;
            std::string log;
            auto power = co_await pr.query_power();
            log += fmt::format("power {};", power ? std::string(pj::to_string(*power)) : power.error().message());
            auto on = co_await pr.set_power(true);
            log += fmt::format("on {};", on ? "ok" : "refused");
            auto input = co_await pr.select_input("30");
            log += fmt::format("input while warming {};",
                               !input && input.error().code() == pj::pjlink_errc::unavailable_time ? "busy" : "?");
            asio::steady_timer t(co_await asio::this_coro::executor, 1500ms);
            co_await t.async_wait(asio::use_awaitable);
            power = co_await pr.query_power();
            log += fmt::format("power {};", power ? std::string(pj::to_string(*power)) : "?");
            auto lamp = co_await pr.lamp_hours();
            log += fmt::format("lamp {};", lamp ? (*lamp >= 2000 ? "counted" : "low") : lamp.error().message());
            auto off = co_await pr.set_power(false);
            log += fmt::format("off {};", off ? "ok" : "refused");
            auto again = co_await pr.set_power(true);
            log += fmt::format("on while cooling {};",
                               !again && again.error().code() == pj::pjlink_errc::unavailable_time ? "busy" : "?");
            co_return log;
        };
        auto fut = asio::co_spawn(ioc, steps(), asio::use_future);
        CHECK(bbt::test::run_bounded(ioc, fut) ==
              "power standby;on ok;input while warming busy;power on;lamp counted;off ok;on while "
              "cooling busy;");
        sim.signal(SIGTERM);
        (void)sim.wait(5s);
    }
}

TEST_CASE("one key with the projector on a serial line: Epson ESC/VP21 reports its cool-down, BenQ's is timed") {
    for (const char* set : {"epson-escvp21", "benq"}) {
        CAPTURE(set);
        classroom c({"--serial", set, "--warmup", "1", "--cooldown", "1.5"}, set);
        REQUIRE(c.agent->ctl({"class", "start"}) == 0);
        c.until("in-class");
        auto p = c.agent->ctl_json({"projector", "status"});
        CHECK(p.at("power").as_string() == "on");
        REQUIRE(c.agent->ctl({"class", "end"}) == 0);
        c.until("idle");
        CHECK(c.mains_cuts_checked() == 1);
    }
}

TEST_CASE("the front-panel key starts and ends the class, and its LEDs show it") {
    classroom c({"--warmup", "1", "--cooldown", "1"}, "");
    auto press = [&] {
        REQUIRE(test::run({BBT_SIM_BINARY, "key", "--panel", (c.agent->state / "panel").string()}) == 0);
    };
    press();
    c.until("in-class");
    std::string leds = test::read_file(c.agent->state / "panel.log");
    CHECK(leds.find("led in-class on") != std::string::npos);
    CHECK(leds.find("led fault on") == std::string::npos);
    press();
    c.until("idle");
    leds = test::read_file(c.agent->state / "panel.log");
    CHECK(leds.find("led in-class off") != std::string::npos);
    CHECK(c.mains_cuts_checked() == 1);
}

TEST_CASE("Class 2 over UDP: a search finds the projector, and its status notices make the agent look at once") {
    sim_projector s({"--udp-port", "0"});
    // The simulator prints its UDP port after its TCP one: wait for the line.
    std::smatch m;
    std::string out;
    std::regex udp("search on UDP 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 400 && !std::regex_search(out, m, udp); ++i) {
        if (i > 0) std::this_thread::sleep_for(25ms);
        out = test::read_file(s.dir / "out");
    }
    REQUIRE(std::regex_search(out, m, udp));
    std::string udp_port = m[1];
    test::temp_dir d;
    test::spawn_options o;
    o.stdout_path = d / "out";
    REQUIRE(test::run({BBT_CTL_BINARY, "--json", "projector", "search", "--to", "127.0.0.1", "--port", udp_port,
                       "--local-port", "0", "--wait", "1"},
                      o) == 0);
    auto found = json::parse(test::read_file(d / "out")).at("projectors").as_array();
    REQUIRE(found.size() == 1);
    CHECK(found[0].at("address").as_string() == "127.0.0.1");
    CHECK(found[0].at("mac").as_string() == "00:1b:2c:3d:4e:5f");

    // A UDP port for the agent's notices: bound, then freed for the agent.
    uint16_t notice_port = 0;
    {
        asio::io_context ioc;
        asio::ip::udp::socket probe_sock(ioc, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
        notice_port = probe_sock.local_endpoint().port();
    }
    sim_projector notifying({"--warmup", "30", "--notify", fmt::format("127.0.0.1:{}", notice_port)});
    std::string section = fmt::format(
        "[projector]\nprotocol = \"pjlink\"\nhost = \"127.0.0.1\"\nport = {}\npoll = 600\nnotify_port = {}\n",
        notifying.port, notice_port);
    test::agent_fixture f("", "3", section);
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    f.ctl_json_until({"projector", "status"}, [](const json::object& st) { return st.contains("power"); });
    // Switched on behind the agent's back (from the projector's remote): the
    // notice, not the 10-minute poll, tells the agent.
    auto on = run(at(notifying), {{'1', "POWR", "1"}});
    REQUIRE(on);
    auto st = f.ctl_json_until(
        {"projector", "status"}, [](const json::object& x) { return x.at("power").as_string() == "warming"; },
        std::chrono::seconds(20));
    CHECK(st.at("state").as_string() == "warming");
    CHECK(f.log().find("projector notice: POWR 1") != std::string::npos);
}

TEST_CASE("one key with each known deviation of real projectors: the class still starts and ends") {
    for (const char* quirk : {"lowercase", "nul", "lkup", "clss-text", "laser"}) {
        CAPTURE(quirk);
        bool class1 = std::string(quirk) == "clss-text";
        classroom c({"--quirk", quirk, "--class", class1 ? "1" : "2", "--warmup", "1", "--cooldown", "1"}, "");
        REQUIRE(c.agent->ctl({"class", "start"}) == 0);
        c.until("in-class");
        auto p = c.agent->ctl_json({"projector", "status"});
        CHECK(p.at("power").as_string() == "on");
        CHECK(p.at("input").as_string() == "32");
        REQUIRE(c.agent->ctl({"class", "end"}) == 0);
        c.until("idle");
        CHECK(c.mains_cuts_checked() == 1);
    }
}

TEST_CASE("a reply to another command and a line over 136 bytes are protocol errors that keep the other answers") {
    {
        sim_projector s({"--quirk", "wrong-echo", "--class", "2"});
        auto j = probe_json({s.address()});
        // Everything else the projector said is there ...
        CHECK(j.at("manufacturer").as_string() == "EPSON");
        CHECK(j.at("lamps").as_array().size() == 1);
        CHECK(j.at("serial").as_string() == "X5J1234567");
        // ... and POWR's failure names what came back, not a timeout.
        CHECK(j.at("power").is_null());
        std::string why(j.at("unanswered").at("POWR").as_string());
        CHECK(why.find("ROWP") != std::string::npos);
        CHECK(why.find("did not answer in time") == std::string::npos);
    }
    {
        sim_projector s({"--quirk", "long-line", "--class", "2"});
        auto j = probe_json({s.address()});
        CHECK(j.at("manufacturer").as_string() == "EPSON");
        CHECK(j.at("power").as_string() == "standby");
        CHECK(j.at("serial").as_string() == "X5J1234567");
        std::string why(j.at("unanswered").at("INF2").as_string());
        CHECK(why.find("136") != std::string::npos);
        CHECK(why.find("did not answer in time") == std::string::npos);
    }
}

TEST_CASE("no signal and a resolution the projector does not know are told apart from no answer") {
    sim_projector s({"--quirk", "unknown-resolution", "--class", "2"});
    auto j = probe_json({s.address()});
    CHECK(j.at("input_resolution").as_string() == "no-signal");  // in standby: no signal
    CHECK(j.at("recommended_resolution").as_string() == "unknown");
    auto text = probe({s.address()});
    CHECK(text.out.find("no signal") != std::string::npos);
}
