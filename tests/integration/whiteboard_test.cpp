// The agent's whiteboard, end to end: a board streamed into the real agent
// through a FIFO (as a board recorded in a school, or a simulator, would
// be), calibrated and checked with the real bbtctl, its calibration kept in
// the agent's database across a restart, its use in the ledger, a recording.
#include "bbt/drivers/whiteboard/calibration.hpp"
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include "agent_fixture.hpp"
#include "bbt/drivers/whiteboard/sim_board.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <boost/json.hpp>

#include <csignal>
#include <functional>
#include <map>
#include <random>
#include <thread>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace wb = drivers::whiteboard;

namespace {

// Writes hid-recorder lines into the agent's FIFO, as a board would.
class board_writer {
public:
    explicit board_writer(const std::filesystem::path& fifo) {
        // Blocks until the agent opens its end.
        fd_ = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
        REQUIRE(fd_ >= 0);
        ::signal(SIGPIPE, SIG_IGN);
    }
    ~board_writer() { close(); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void header() {
        drivers::hid::recording r;
        r.name = "bbt synthetic IR frame";
        r.bus = 3;
        r.vendor = 0x1234;
        r.product = 0x5678;
        r.descriptor = drivers::hid::parse_hex(drivers::hid::sim::board_descriptor).value();
        line(drivers::hid::serialize(r));
    }
    void report(const std::vector<uint8_t>& bytes) {
        drivers::hid::recording r;
        r.reports.push_back({time_ += 0.01, bytes});
        std::string text = drivers::hid::serialize(r);
        line(text.substr(text.find("\nE:") + 1));  // the E: line alone
    }
    // A tap at a board position: down, a few reports, up.
    void tap(int id, double x, double y, int size = 120) {
        for (int i = 0; i < 3; ++i) {
            report(drivers::hid::sim::touch_report(true, id, static_cast<int>(std::lround(x)),
                                                   static_cast<int>(std::lround(y)), size, size));
        }
        report(drivers::hid::sim::touch_report(false, id, static_cast<int>(std::lround(x)),
                                               static_cast<int>(std::lround(y)), 0, 0));
    }
    void line(const std::string& text) {
        size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            REQUIRE(n > 0);
            done += static_cast<size_t>(n);
        }
    }

private:
    int fd_ = -1;
    double time_ = 0;
};

json::object wait_status(test::agent_fixture& f, const std::function<bool(const json::object&)>& pred) {
    return f.ctl_json_until({"whiteboard", "status"}, pred);
}

bool session_at(const json::object& s, size_t next) {
    const auto* ses = s.if_contains("session");
    return ses && ses->as_object().at("active").as_bool() && ses->as_object().at("next").to_number<size_t>() == next;
}

// The projector's keystone: a known map from board units to screen pixels.
wb::homography keystone() {
    wb::homography h;
    h.h = {0.47, 0.012, 12.0, -0.006, 0.265, 6.0, 0.00001, -0.000008, 1};
    return h;
}

// Runs `bbtctl whiteboard calibrate ARGS` while tapping each target where
// `truth` puts it, `offset_mm` off to the right; returns bbtctl's exit code
// and its JSON.
std::pair<int, json::object> calibrate(test::agent_fixture& f, board_writer& board, const wb::homography& truth,
                                       const std::vector<std::string>& args, double offset_mm, std::mt19937& rng) {
    std::vector<std::string> argv{BBT_CTL_BINARY, "--socket", f.socket.string(), "--json", "whiteboard", "calibrate"};
    argv.insert(argv.end(), args.begin(), args.end());
    test::spawn_options o;
    o.stdout_path = f.dir / "cal.out";
    o.stderr_path = f.dir / "cal.err";
    auto child = test::spawn(argv, o);
    auto status = wait_status(f, [](const json::object& s) { return session_at(s, 0); });
    const auto& targets = status.at("session").as_object().at("targets").as_array();
    auto back = truth.inverse();
    std::normal_distribution<double> jitter(0, 2.0);  // 0.2 mm on a 10 units/mm board
    int id = 1;
    for (const auto& t : targets) {
        auto p = back.apply({t.at("x").to_number<double>(), t.at("y").to_number<double>()});
        board.tap(id++ % 10, p.x + offset_mm * 10 + jitter(rng), p.y + jitter(rng));
    }
    auto rc = child.wait(30s);
    REQUIRE(rc);
    INFO(test::read_file(f.dir / "cal.err"));
    auto out = test::read_file(f.dir / "cal.out");
    REQUIRE_FALSE(out.empty());
    return {WEXITSTATUS(*rc), json::parse(out).as_object()};
}

}  // namespace

TEST_CASE("a board streamed into the agent is calibrated, checked, kept across a restart, counted and recorded") {
    test::agent_fixture f;
    auto fifo = f.dir / "board.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // No uinput on a build machine: touches are counted, not injected.
    test::write_file(f.config, test::read_file(f.config) +
                                   fmt::format("[whiteboard]\ndevice = \"{}\"\noutput = \"none\"\n"
                                               "screen_width = 1920\nscreen_height = 1080\nactivity_idle = 1\n",
                                               fifo.string()));
    std::mt19937 rng(20261122);
    auto truth = keystone();
    {
        test::notify_listener n(f.dir / "notify");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        auto s = f.ctl_json({"whiteboard", "status"});
        CHECK(s.at("configured").as_bool());
        CHECK_FALSE(s.at("connected").as_bool());

        board_writer board(fifo);
        board.header();
        s = wait_status(f, [](const json::object& o) { return o.at("connected").as_bool(); });
        CHECK(s.at("identity").at("vendor").as_string() == "1234");
        CHECK(s.at("identity").at("product_name").as_string() == "bbt synthetic IR frame");
        CHECK(s.at("touch").at("x").at("resolution").as_int64() == 10);
        CHECK(s.at("touch").at("tools_by_size").as_bool());
        CHECK_FALSE(s.at("calibration").at("present").as_bool());

        // Calibration: the fitted map recovers the keystone.
        auto [rc, cal] = calibrate(f, board, truth, {}, 0, rng);
        INFO(json::serialize(cal));
        MESSAGE("calibration: " << json::serialize(cal.at("result")));
        CHECK(rc == 0);
        const auto& result = cal.at("result").as_object();
        CHECK(result.at("saved").as_bool());
        CHECK(result.at("max_error_mm").to_number<double>() < 0.5);
        s = f.ctl_json({"whiteboard", "status"});
        CHECK(s.at("calibration").at("present").as_bool());
        CHECK(s.at("calibration").at("points").as_int64() == 9);

        // The acceptance's check: true touches pass, touches 5 mm off fail.
        auto [ok_rc, ok] = calibrate(f, board, truth, {"--check"}, 0, rng);
        CHECK(ok_rc == 0);
        CHECK(ok.at("result").at("within_limit").as_bool());
        auto [bad_rc, bad] = calibrate(f, board, truth, {"--check"}, 5, rng);
        CHECK(bad_rc == 1);
        MESSAGE("check, true touches: " << json::serialize(ok.at("result"))
                                        << "; 5 mm off: " << json::serialize(bad.at("result")));
        CHECK(bad.at("result").at("max_error_mm").to_number<double>() > 4);

        // A malformed report is dropped; the board goes on.
        board.report({0x01, 0x01});
        board.tap(1, 2000, 2000);
        s = wait_status(f, [](const json::object& o) { return o.at("counters").at("dropped").as_int64() == 1; });

        // A recording of the board: its descriptor and what it sent meanwhile.
        std::vector<std::string> argv{BBT_CTL_BINARY,    "--socket",
                                      f.socket.string(), "--json",
                                      "whiteboard",      "record",
                                      "--seconds",       "1",
                                      "--out",           (f.dir / "rec.hid").string()};
        test::spawn_options ro;
        ro.stdout_path = f.dir / "rec.out";
        auto recorder = test::spawn(argv, ro);
        // Taps until the recording is over; some of them land in it.
        std::optional<int> rec_rc;
        for (int i = 0; i < 400 && !(rec_rc = recorder.wait(10ms)); ++i)
            board.tap(2, 1000 + i, 1000);
        REQUIRE(rec_rc);
        CHECK(WEXITSTATUS(*rec_rc) == 0);
        auto rec = drivers::hid::parse_recording(test::read_file(f.dir / "rec.hid"));
        REQUIRE(rec);
        CHECK(rec->vendor == 0x1234);
        CHECK(rec->descriptor == drivers::hid::parse_hex(drivers::hid::sim::board_descriptor).value());
        CHECK_FALSE(rec->reports.empty());

        // Unplugged: the writer goes away.
        board.close();
        wait_status(f, [](const json::object& o) { return !o.at("connected").as_bool(); });
        agent.signal(SIGTERM);
        REQUIRE(agent.wait(10s));
    }
    {
        // Restarted: the same board gets its calibration back from the database.
        test::notify_listener n(f.dir / "notify2");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        board_writer board(fifo);
        board.header();
        auto s = wait_status(f, [](const json::object& o) {
            return o.at("connected").as_bool() && o.at("calibration").at("present").as_bool();
        });
        CHECK(s.at("calibration").at("points").as_int64() == 9);
        // Its use today is in the ledger: in use while touched, idle after.
        auto u = f.ctl_json({"usage", "1"});
        bool in_use = false;
        for (const auto& row : u.at("usage").as_array()) {
            const auto& r = row.as_object();
            in_use = in_use || (r.at("device").as_string() == "whiteboard" && r.at("state").as_string() == "in-use");
        }
        CHECK(in_use);
        agent.signal(SIGTERM);
        REQUIRE(agent.wait(10s));
    }
}

TEST_CASE("without a board the whiteboard commands say so, and bad arguments are refused") {
    test::agent_fixture f;
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK(f.ctl({"whiteboard", "status"}) == 0);
    CHECK(f.ctl_out().find("none configured") != std::string::npos);
    CHECK(f.ctl({"whiteboard", "calibrate"}) == 1);
    CHECK(f.ctl_err().find("no whiteboard is connected") != std::string::npos);
    CHECK(f.ctl({"whiteboard", "calibrate", "--points", "7"}) == 2);
    CHECK(f.ctl({"whiteboard", "record", "--seconds", "0"}) == 2);
    CHECK(f.ctl({"whiteboard", "frobnicate"}) == 2);
}

TEST_CASE("bbt-sim's whiteboard streams a valid recording in which a finger, a pen and an eraser draw") {
    test::temp_dir dir;
    auto out = dir / "sim.hid";
    REQUIRE(test::run({BBT_SIM_BINARY, "whiteboard", "--out", out.string(), "--rounds", "1"}) == 0);
    auto rec = drivers::hid::parse_recording(test::read_file(out));
    REQUIRE(rec);
    CHECK(rec->vendor == drivers::hid::sim::vendor);
    CHECK(rec->reports.size() == 3 * 101);
    auto d = drivers::hid::parse_descriptor(rec->descriptor).value();
    drivers::hid::contact_tracker tracker(drivers::hid::touch_device_for(d, rec->vendor, rec->product).value(),
                                          std::nullopt, {});
    std::map<std::string, int> tools;
    std::vector<drivers::hid::tracked_frame> frames;
    for (const auto& r : rec->reports) {
        frames.clear();
        REQUIRE(tracker.feed(r.data, static_cast<int64_t>(r.time * 1e6), frames));
        for (const auto& f : frames) {
            if (f.pen && f.pen->in_range) ++tools[f.pen->eraser ? "eraser" : "pen"];
            if (!f.touch) continue;
            for (const auto& s : f.touch->slots) {
                if (s.tracking_id >= 0) ++tools[drivers::hid::to_string(s.tool)];
            }
        }
    }
    CHECK(tools["finger"] == 100);
    CHECK(tools["pen"] == 100);
    CHECK(tools["eraser"] == 100);
}
