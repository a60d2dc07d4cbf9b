// The real bbt-agent and bbtctl binaries, as systemd and people run them.
#include "bbt/agent/ledger.hpp"
#include "bbt/base/sqlite.hpp"

#include "agent_fixture.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <fmt/format.h>
#include <csignal>
#include <cstring>
#include <set>

using namespace bbt;
using test::agent_fixture;
using test::notify_listener;
using namespace std::chrono_literals;

namespace {}  // namespace

TEST_CASE("READY=1 and WATCHDOG=1 reach the service manager's NOTIFY_SOCKET") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n, {{"WATCHDOG_USEC", "200000"}});
    INFO(f.log());
    REQUIRE(n.wait_for("READY=1"));
    // At WATCHDOG_USEC=200 ms the loop pings every 100 ms: several arrive.
    CHECK(n.wait_for("WATCHDOG=1", 4));
    agent.signal(SIGTERM);
    auto st = agent.wait(20s);
    REQUIRE(st);
    CHECK(WIFEXITED(*st));
}

TEST_CASE("SIGTERM stops every service within its deadline, closing the ledger") {
    agent_fixture f("", "2");
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    REQUIRE(f.ctl({"status"}) == 0);
    agent.signal(SIGTERM);
    // The agent keeps its own deadline (agent.stop_timeout): exit code 0 says
    // every service stopped within it, 4 that one was abandoned (the
    // deadline mechanism itself is tested in service_test). The cap here only
    // keeps a hung agent from hanging the test.
    auto st = agent.wait(60s);
    INFO(f.log());
    REQUIRE_MESSAGE(st, "bbt-agent did not exit at all");
    REQUIRE(WIFEXITED(*st));
    CHECK(WEXITSTATUS(*st) == 0);
    CHECK(f.log().find("did not stop within the deadline") == std::string::npos);
    CHECK(n.wait_for("STOPPING=1"));
    CHECK_FALSE(std::filesystem::exists(f.socket));

    // Every interval is closed, by the stop rather than by recovery.
    auto db = sqlite::database::open(f.state / "ledger.db");
    REQUIRE(db);
    auto st2 = db->prepare("SELECT count(*), sum(end_boot_us IS NULL), sum(close_reason = 'stop') FROM intervals");
    REQUIRE(st2);
    REQUIRE(st2->step().value());
    CHECK(st2->column_int64(0) >= 1);
    CHECK(st2->column_int64(1) == 0);
    CHECK(st2->column_int64(2) == st2->column_int64(0));
}

TEST_CASE("SIGINT (Ctrl-C) stops the agent cleanly too") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    agent.signal(SIGINT);
    auto st = agent.wait(20s);
    REQUIRE(st);
    CHECK(WIFEXITED(*st));
    CHECK(WEXITSTATUS(*st) == 0);
    CHECK(f.log().find("SIGINT received") != std::string::npos);
}

TEST_CASE("bbtctl status shows the running agent, in text and in JSON") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    REQUIRE(f.ctl({"status"}) == 0);
    std::string out = f.ctl_out();
    INFO(out);
    CHECK(out.find("bbt-agent 0.") != std::string::npos);
    CHECK(out.find("ledger") != std::string::npos);
    CHECK(out.find("local-api") != std::string::npos);
    CHECK(out.find("set") != std::string::npos);

    REQUIRE(f.ctl({"--json", "status"}) == 0);
    auto j = boost::json::parse(f.ctl_out());
    CHECK(j.at("pid").as_int64() == agent.pid());
    // ledger, board, whiteboard, projector, classroom, county, courseware, recorder, local API
    CHECK(j.at("services").as_array().size() == 9);
    std::set<std::string> devices;
    for (const auto& row : j.at("today").at("usage").as_array())
        devices.insert(std::string(row.at("device").as_string()));
    CHECK(devices == std::set<std::string>{"classroom", "set"});
}

TEST_CASE("bbtctl usage reports hours per device, state and day") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    REQUIRE(f.ctl({"--json", "usage", "3"}) == 0);
    auto j = boost::json::parse(f.ctl_out());
    const auto& rows = j.at("usage").as_array();
    REQUIRE(rows.size() == 2);  // the set on, and no class yet
    for (const auto& row : rows) {
        bool set = row.at("device").as_string() == "set";
        CHECK(row.at("state").as_string() == (set ? "on" : "idle"));
        if (!set) CHECK(row.at("device").as_string() == "classroom");
        CHECK(row.at("hours").as_double() >= 0.0);
        CHECK(row.at("hours").as_double() < 1.0);
    }
    REQUIRE(f.ctl({"usage"}) == 0);
    CHECK(f.ctl_out().find("set") != std::string::npos);
    CHECK(f.ctl({"usage", "0"}) == 2);
    CHECK(f.ctl({"usage", "many"}) == 2);
}

// Sends raw bytes to the agent's socket and returns the first line it answers.
std::string raw_exchange(const std::filesystem::path& socket, const std::string& bytes) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the agent may hang up once it has answered
        sent += static_cast<size_t>(n);
    }
    std::string in;
    char buf[4096];
    while (in.find('\n') == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20000) <= 0) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return in.substr(0, in.find('\n'));
}

TEST_CASE("the local API answers malformed and oversized lines with an error, and keeps serving") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto bad = boost::json::parse(raw_exchange(f.socket, "{\"method\": 42}\n"));
    CHECK(bad.at("error").at("code").as_string() == "malformed");
    auto unknown = boost::json::parse(raw_exchange(f.socket, "{\"id\": 9, \"method\": \"reboot\"}\n"));
    CHECK(unknown.at("id").as_int64() == 9);
    CHECK(unknown.at("error").at("code").as_string() == "unknown_method");
    auto big = boost::json::parse(raw_exchange(f.socket, std::string(200 * 1024, 'x')));
    CHECK(big.at("error").at("code").as_string() == "too_large");
    auto bad_days = boost::json::parse(raw_exchange(f.socket, R"({"method":"usage","params":{"days":"all"}})"
                                                              "\n"));
    CHECK(bad_days.at("error").at("code").as_string() == "malformed");
    CHECK(f.ctl({"status"}) == 0);
}

TEST_CASE("a damaged ledger is kept aside and a new one started; the agent still runs") {
    agent_fixture f;
    std::filesystem::create_directories(f.state);
    std::string junk(16384, '\x5a');
    test::write_file(f.state / "ledger.db", junk);
    notify_listener n(f.dir / "notify.sock");
    auto agent = f.start(n);
    INFO(f.log());
    REQUIRE(n.wait_for("READY=1"));
    REQUIRE(f.ctl({"status"}) == 0);
    CHECK(f.ctl_out().find("set") != std::string::npos);
    int kept = 0;
    for (const auto& e : std::filesystem::directory_iterator(f.state)) {
        if (e.path().filename().string().starts_with("ledger.db.corrupt-")) {
            ++kept;
            CHECK(test::read_file(e.path()) == junk);  // kept byte for byte
        }
    }
    CHECK(kept == 1);
    CHECK(f.log().find("damaged") != std::string::npos);
}

TEST_CASE("bbtctl says plainly that the agent is not running") {
    agent_fixture f;
    CHECK(f.ctl({"status"}) == 3);
    CHECK(f.ctl_err().find("not running") != std::string::npos);
    CHECK(f.ctl({"--json", "status"}) == 3);
    CHECK(f.ctl_out().find("\"error\"") != std::string::npos);
    CHECK(f.ctl({"frobnicate"}) == 2);
}

TEST_CASE("the local API refuses a peer that is not allowed, and serves one that is") {
    if (!test::running_as_root()) {
        BBT_SKIP("switching to another user needs root");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    const group* nogroup = ::getgrnam("nogroup");
    if (nobody == nullptr || nogroup == nullptr) {
        BBT_SKIP("no user 'nobody' or group 'nogroup' on this machine");
        return;
    }
    SUBCASE("a user in neither list is refused") {
        agent_fixture f("allow_users = []\nallow_groups = []");
        notify_listener n(f.dir / "notify.sock");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        CHECK(f.ctl({"status"}, nobody->pw_uid, nobody->pw_gid) == 4);
        CHECK(f.ctl_err().find("does not allow your user") != std::string::npos);
        CHECK(f.ctl_out().empty());
        CHECK(f.ctl({"status"}) == 0);  // root, the agent's own user, still is
        agent.signal(SIGTERM);
        REQUIRE(agent.wait(20s));
        CHECK(f.log().find(fmt::format("uid {}", nobody->pw_uid)) != std::string::npos);
    }
    SUBCASE("a member of an allowed group is served") {
        agent_fixture f("allow_users = []\nallow_groups = [\"nogroup\"]");
        notify_listener n(f.dir / "notify.sock");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        CHECK(f.ctl({"status"}, nobody->pw_uid, nogroup->gr_gid) == 0);
    }
    SUBCASE("an allowed user is served") {
        agent_fixture f("allow_users = [\"nobody\"]\nallow_groups = []");
        notify_listener n(f.dir / "notify.sock");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        CHECK(f.ctl({"status"}, nobody->pw_uid, nobody->pw_gid) == 0);
    }
    SUBCASE("a teacher runs the class and reads the state but may not enrol or change settings") {
        agent_fixture f("allow_users = []\nallow_groups = []\nteacher_groups = [\"nogroup\"]");
        notify_listener n(f.dir / "notify.sock");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        CHECK(f.ctl({"status"}, nobody->pw_uid, nogroup->gr_gid) == 0);
        CHECK(f.ctl({"class", "status"}, nobody->pw_uid, nogroup->gr_gid) == 0);
        CHECK(f.ctl({"county", "enrol", "ABCDEFGHJK"}, nobody->pw_uid, nogroup->gr_gid) == 4);
        CHECK(f.ctl_err().find("technicians") != std::string::npos);
        CHECK(f.ctl({"projector", "on"}, nobody->pw_uid, nogroup->gr_gid) == 4);
        // Root, and the agent's own user, are technicians.
        CHECK(f.ctl({"county", "enrol", "ABCDEFGHJK"}) != 4);
    }
}

TEST_CASE("--check-config lists every problem with file, line and key, and exits 3") {
    test::temp_dir dir;
    auto bad = dir / "agent.toml";
    test::write_file(bad, "[agent]\nbord = \"sim\"\n[ledger]\nheartbeat = \"often\"\n");
    test::spawn_options o;
    o.stderr_path = dir / "err";
    o.env = {{"LANG", "C.UTF-8"}};
    CHECK(test::run({BBT_AGENT_BINARY, "--check-config", "--config", bad.string()}, o) == 3);
    std::string err = test::read_file(dir / "err");
    CHECK(err.find(bad.string() + ":2: key 'agent.bord'") != std::string::npos);
    CHECK(err.find(bad.string() + ":4: key 'ledger.heartbeat'") != std::string::npos);

    auto good = dir / "good.toml";
    test::write_file(good, "[agent]\nboard = \"sim\"\n");
    o.stdout_path = dir / "out";
    CHECK(test::run({BBT_AGENT_BINARY, "--check-config", "--config", good.string()}, o) == 0);
    CHECK(test::read_file(dir / "out").find("valid") != std::string::npos);

    auto unknown_board = dir / "board.toml";
    test::write_file(unknown_board, "[agent]\nboard = \"nope\"\n");
    CHECK(test::run({BBT_AGENT_BINARY, "--check-config", "--config", unknown_board.string()}, o) == 3);
    CHECK(test::read_file(dir / "err").find("generic-pc") != std::string::npos);
}

TEST_CASE("a second agent on the same socket refuses to start instead of stealing it") {
    agent_fixture f;
    notify_listener n(f.dir / "notify.sock");
    auto first = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    test::spawn_options o;
    o.stderr_path = f.dir / "second.log";
    test::temp_dir other_state;
    int rc =
        test::run({BBT_AGENT_BINARY, "--config", f.config.string(), "--state-dir", other_state.path().string()}, o);
    CHECK(rc == 1);
    CHECK(test::read_file(f.dir / "second.log").find("already") != std::string::npos);
    CHECK(f.ctl({"status"}) == 0);
}

TEST_CASE("bbtctl hid decode prints every real descriptor's touch layout as JSON") {
    auto dir = test::hid_data_dir();
    if (!std::filesystem::exists(dir / "devices.json")) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    test::temp_dir tmp;
    test::spawn_options o;
    o.stdout_path = tmp / "out";
    o.stderr_path = tmp / "err";
    auto index = boost::json::parse(test::read_file(dir / "devices.json")).as_array();
    for (const auto& item : index) {
        const auto& dev = item.as_object();
        CAPTURE(dev.at("name").as_string());
        auto file = dir / "descriptors" / std::string(dev.at("file").as_string());
        REQUIRE(test::run({BBT_CTL_BINARY, "--json", "hid", "decode", "--descriptor", file.string()}, o) == 0);
        auto out = boost::json::parse(test::read_file(tmp / "out")).as_object();
        const auto& facts = dev.at("derived_by_hid_tools").as_object();
        const auto* want = facts.if_contains("touch_report_id");
        if (want == nullptr || want->is_null()) {
            CHECK(out.at("touch").is_null());
            continue;
        }
        const auto& touch = out.at("touch").as_object();
        CHECK(touch.at("report_id").as_int64() == std::max<int64_t>(0, want->as_int64()));
        CHECK(touch.at("x").at("logical_max").as_int64() == facts.at("x_field").at("logical_max").as_int64());
        CHECK(touch.at("y").at("logical_max").as_int64() == facts.at("y_field").at("logical_max").as_int64());
        int64_t input_bytes = 0;
        for (const auto& r : out.at("reports").as_array()) {
            if (r.at("type").as_string() == "input" && r.at("id").as_int64() == touch.at("report_id").as_int64()) {
                input_bytes = r.at("size_bytes").as_int64();
            }
        }
        std::string key = std::to_string(want->as_int64());
        CHECK(input_bytes == facts.at("input_report_sizes_bytes").at(key).as_int64());
    }
}

TEST_CASE("bbtctl hid decode refuses a bad descriptor with a clear message and exit code 2") {
    test::temp_dir tmp;
    test::write_file(tmp / "bad.hex", "05 0d 09 04 a1 01 zz");
    test::write_file(tmp / "open.hex", "05 0d 09 04 a1 01 75 08 95 01 81 02");
    test::spawn_options o;
    o.stderr_path = tmp / "err";
    o.env = {{"LANG", "C.UTF-8"}};
    CHECK(test::run({BBT_CTL_BINARY, "hid", "decode", "--descriptor", (tmp / "bad.hex").string()}, o) == 2);
    CHECK(test::read_file(tmp / "err").find("not hex bytes at character 19") != std::string::npos);
    CHECK(test::run({BBT_CTL_BINARY, "hid", "decode", "--descriptor", (tmp / "open.hex").string()}, o) == 2);
    CHECK(test::read_file(tmp / "err").find("never closed") != std::string::npos);
    CHECK(test::run({BBT_CTL_BINARY, "hid", "decode", "--descriptor", (tmp / "none").string()}, o) == 2);
    CHECK(test::run({BBT_CTL_BINARY, "hid", "decode"}, o) == 2);
}

TEST_CASE("bbtctl hid decode --recording replays every real recording into frames") {
    auto dir = test::hid_data_dir() / "recordings";
    if (!std::filesystem::exists(dir)) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    test::temp_dir tmp;
    test::spawn_options o;
    o.stdout_path = tmp / "out";
    o.stderr_path = tmp / "err";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        CAPTURE(e.path().string());
        REQUIRE(test::run({BBT_CTL_BINARY, "--json", "hid", "decode", "--recording", e.path().string()}, o) == 0);
        std::string out = test::read_file(tmp / "out");
        size_t frames = 0, touching = 0;
        double last_t = -1;
        for (size_t p = 0; p < out.size();) {
            size_t nl = out.find('\n', p);
            auto frame = boost::json::parse(std::string_view(out).substr(p, nl - p)).as_object();
            double t = frame.at("t").to_number<double>();
            CHECK(t >= last_t);
            last_t = t;
            bool touch = frame.at("touch").as_bool();
            CHECK(touch == !frame.at("contacts").as_array().empty());
            touching += touch;
            ++frames;
            p = nl + 1;
        }
        CHECK(frames > 10);
        CHECK(touching > 0);
    }
    // The first frame of the IRTOUCH frame is where the kernel put the finger.
    REQUIRE(
        test::run({BBT_CTL_BINARY, "--json", "hid", "decode", "--recording", (dir / "irtouch_6615_0081.hid").string()},
                  o) == 0);
    auto first = boost::json::parse(test::read_file(tmp / "out").substr(0, test::read_file(tmp / "out").find('\n')));
    CHECK(first.at("contacts").at(0).at("x").as_int64() == 698);
    CHECK(first.at("contacts").at(0).at("y").as_int64() == 191);
}

TEST_CASE("--version names the libraries, as built and as loaded") {
    test::temp_dir dir;
    test::spawn_options o;
    o.stdout_path = dir / "out";
    REQUIRE(test::run({BBT_AGENT_BINARY, "--version"}, o) == 0);
    std::string out = test::read_file(dir / "out");
    for (const char* lib : {"Boost", "libavcodec", "libavformat", "libusb", "SQLite", "OpenSSL"}) {
        CHECK_MESSAGE(out.find(lib) != std::string::npos, lib);
    }
}
