// The board rig's scenarios (tests/board/rig): the agent on Debian's kernel
// under QEMU, a real whiteboard's recording played by a USB gadget through the
// kernel's real USB stack. Each test boots the rig once; it skips with a
// message where QEMU or the kernel package cannot be had.
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include <boost/json.hpp>
#include "doctest_bbt.hpp"
#include "evemu.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace hid = bbt::drivers::hid;
namespace evemu = bbt::test::evemu;
using bbt::test::read_file;
using bbt::test::temp_dir;
using bbt::test::write_file;

namespace {

constexpr int rig_skipped = 77;

struct rig_run {
    int code = -1;
    fs::path out;
    std::string console;
    [[nodiscard]] std::string file(const std::string& name) const {
        return fs::exists(out / name) ? read_file(out / name) : std::string();
    }
};

// Boots the rig with the agent, bbtctl, bbt-sim and the rig's helpers, runs
// `scenario` with `files` under /data; the guest's files come back in `dir`.
// `programs` are more files for the guest's /bin, with the libraries they load.
rig_run run_rig(const temp_dir& dir, const std::string& scenario, const std::vector<fs::path>& files,
                const std::vector<fs::path>& programs = {}, std::map<std::string, std::string> env = {}) {
    fs::create_directories(dir / "bin");
    std::vector<fs::path> all{BBT_AGENT_BINARY, BBT_CTL_BINARY, BBT_SIM_BINARY, BBT_RIG_EVDEV_BINARY};
    all.insert(all.end(), programs.begin(), programs.end());
    for (const auto& p : all) {
        fs::copy_file(p, dir / "bin" / p.filename(), fs::copy_options::overwrite_existing);
    }
    std::vector<std::string> argv{std::string(BBT_SOURCE_DIR) + "/tests/board/rig", "run", scenario,
                                  (dir / "bin").string(), (dir / "out").string()};
    for (const auto& f : files)
        argv.push_back(f.string());
    bbt::test::spawn_options o;
    o.stdout_path = dir / "rig.out";
    o.stderr_path = dir / "rig.err";
    o.env = std::move(env);
    rig_run r;
    r.code = bbt::test::run(argv, o, std::chrono::minutes(10));
    r.out = dir / "out";
    r.console = r.file("console.log");
    if (r.code != 0 && r.code != rig_skipped) {
        MESSAGE("rig stderr:\n" << read_file(dir / "rig.err") << "\nguest console:\n" << r.console);
    }
    return r;
}

bool skipped(const rig_run& r, const temp_dir& dir) {
    if (r.code != rig_skipped) return false;
    BBT_SKIP(read_file(dir / "rig.err"));
    return true;
}

// A real board's recording; empty (with a message) where the data is absent.
fs::path recording_path(const std::string& name) {
    auto path = bbt::test::hid_data_dir() / "recordings" / (name + ".hid");
    if (fs::exists(path)) return path;
    BBT_SKIP("no recording " << path.string());
    return {};
}

fs::path number_file(const temp_dir& dir, const std::string& name, long value) {
    write_file(dir / name, std::to_string(value) + "\n");
    return dir / name;
}

// The agent's touch path on the host, configured as in the rig's guest
// (common.sh): a 1920x1080 screen, tools by size off, contacts lifted after
// 2 s without a report.
std::vector<evemu::state> host_replay(const hid::recording& rec, size_t reports) {
    auto d = hid::parse_descriptor(rec.descriptor).value();
    auto dev = hid::touch_device_for(d, rec.vendor, rec.product).value();
    auto map = hid::screen_map::to_screen(dev, 1920, 1080, {0, 0, 1920, 1080}, nullptr);
    hid::tracker_options options;
    options.sizes.enabled = false;
    options.release_after = std::chrono::seconds(2);
    return evemu::replay(rec, map, options, reports);
}

size_t count_frames_with_contacts(const std::vector<evemu::state>& frames) {
    return static_cast<size_t>(
        std::count_if(frames.begin(), frames.end(), [](const evemu::state& s) { return !s.empty(); }));
}

// The number of contacts down, each change once.
std::vector<size_t> contact_counts(const std::vector<evemu::state>& frames) {
    std::vector<size_t> out;
    for (const auto& s : frames) {
        if (out.empty() || out.back() != s.size()) out.push_back(s.size());
    }
    return out;
}

// Each contact's positions from touch-down to lift, as shares of the axes,
// in order of touch-down.
using stroke = std::vector<std::pair<double, double>>;
std::vector<stroke> strokes(const std::vector<evemu::state>& frames, int max_x, int max_y) {
    std::vector<stroke> out;
    std::map<int, size_t> live;  // tracking id -> index in out
    for (const auto& s : frames) {
        std::map<int, size_t> now;
        for (const auto& [slot, c] : s) {
            auto it = live.find(c.tracking_id);
            size_t i = it != live.end() ? it->second : out.size();
            if (it == live.end()) out.emplace_back();
            out[i].emplace_back(double(c.x) / max_x, double(c.y) / max_y);
            now[c.tracking_id] = i;
        }
        live = std::move(now);
    }
    return out;
}

// The larger of the two one-way distances from each point of a path to the
// nearest point of the other (Hausdorff), per axis.
double path_distance(const stroke& a, const stroke& b) {
    auto one_way = [](const stroke& p, const stroke& q) {
        double worst = 0;
        for (const auto& [x, y] : p) {
            double best = 1e9;
            for (const auto& [u, v] : q)
                best = std::min(best, std::max(std::abs(x - u), std::abs(y - v)));
            worst = std::max(worst, best);
        }
        return worst;
    };
    return std::max(one_way(a, b), one_way(b, a));
}

void touch_matches_replay(const std::string& name) {
    auto path = recording_path(name);
    if (path.empty()) return;
    temp_dir dir;
    auto r = run_rig(dir, "touch", {path});
    if (skipped(r, dir)) return;
    REQUIRE(r.code == 0);
    auto guest = evemu::read(r.file("events.ev"));
    auto rec = hid::parse_recording(read_file(path));
    REQUIRE(rec);
    auto host = host_replay(*rec, 0);
    MESSAGE(name << ": guest " << guest.frames.size() << " states (" << count_frames_with_contacts(guest.frames)
                 << " with contacts), host replay " << host.size());
    CHECK(count_frames_with_contacts(guest.frames) > 100);
    std::string diff = evemu::compare(guest.frames, host);
    CHECK_MESSAGE(diff.empty(), diff);
    // Multitouch mode was asked for (the gadget refuses feature reports).
    CHECK(r.file("agent.log").find("Input Mode") != std::string::npos);
}

}  // namespace

TEST_SUITE("board") {
    TEST_CASE("board rig: IRTOUCH 6615:0081 over the kernel's USB stack gives the host replay's touches") {
        touch_matches_replay("irtouch_6615_0081");
    }

    TEST_CASE("board rig: CVTouch 1ff7:0013 over the kernel's USB stack gives the host replay's touches") {
        touch_matches_replay("cvtouch_1ff7_0013");
    }

    TEST_CASE("board rig: the agent's touches agree with the kernel's own hid-multitouch on the same board") {
        auto path = recording_path("irtouch_6615_0081");
        if (path.empty()) return;
        temp_dir dir;
        const long reports = 300;
        auto r = run_rig(dir, "kernel", {path, number_file(dir, "reports", reports)});
        if (skipped(r, dir)) return;
        REQUIRE(r.code == 0);
        auto kernel = evemu::read(r.file("kernel.ev"));
        auto ours = evemu::read(r.file("agent.ev"));
        REQUIRE(kernel.max_x > 0);
        REQUIRE(ours.max_x > 0);
        CHECK(count_frames_with_contacts(kernel.frames) > 50);
        // The two differ in how finely they filter jitter (each its own fuzz),
        // so they are compared on what a person sees, not state by state: the
        // same sequence of contact counts, the same strokes, and each stroke
        // along the same path, positions taken as shares of each side's axes.
        auto counts = [](const std::vector<size_t>& v) {
            std::string out;
            for (size_t n : v)
                out += std::to_string(n) + " ";
            return out;
        };
        INFO("contact counts, ours: " << counts(contact_counts(ours.frames)));
        INFO("contact counts, the kernel's: " << counts(contact_counts(kernel.frames)));
        // The stream stops with a finger down: the agent lifts it after
        // release_after without a report (a safety the kernel gives only Win8
        // boards), so a last lift on our side alone is not a difference.
        auto ours_counts = contact_counts(ours.frames);
        auto kernel_counts = contact_counts(kernel.frames);
        if (!kernel_counts.empty() && kernel_counts.back() != 0 && ours_counts.size() == kernel_counts.size() + 1 &&
            ours_counts.back() == 0) {
            ours_counts.pop_back();
        }
        CHECK(ours_counts == kernel_counts);
        auto a = strokes(ours.frames, ours.max_x, ours.max_y);
        auto k = strokes(kernel.frames, kernel.max_x, kernel.max_y);
        REQUIRE(a.size() == k.size());
        double worst = 0;
        for (size_t i = 0; i < a.size(); ++i)
            worst = std::max(worst, path_distance(a[i], k[i]));
        MESSAGE("kernel " << kernel.frames.size() << " states, ours " << ours.frames.size() << "; " << a.size()
                          << " strokes; largest distance between the paths " << worst * 100 << " % of the axis");
        CHECK(worst <= 0.002);
    }

    TEST_CASE("board rig: a board unplugged mid-stroke and plugged in again comes back and its touches resume") {
        auto path = recording_path("irtouch_6615_0081");
        if (path.empty()) return;
        temp_dir dir;
        auto r = run_rig(dir, "hotplug", {path, number_file(dir, "reports", 300), number_file(dir, "replug_at", 120)});
        if (skipped(r, dir)) return;
        REQUIRE(r.code == 0);
        auto events = r.file("events.ev");
        auto gone = events.find("# node gone at ");
        auto back = events.find("# node back at ");
        REQUIRE(gone != std::string::npos);
        REQUIRE(back != std::string::npos);
        CHECK(gone < back);
        auto after = evemu::read(events.substr(back));
        CHECK(count_frames_with_contacts(after.frames) > 10);
        auto log = r.file("agent.log");
        CHECK(log.find("the whiteboard was unplugged") != std::string::npos);
        std::regex connected("whiteboard 6615:0081 at usb [0-9.-]+ .* connected");
        auto n = std::distance(std::sregex_iterator(log.begin(), log.end(), connected), std::sregex_iterator());
        CHECK(n == 2);
        // The figure (the guest's clock is emulated: behaviour is checked, the time only shown).
        std::smatch m;
        auto gadget = r.file("gadget.log");
        auto dump = r.file("evdev.log");
        if (std::regex_search(gadget, m, std::regex("plugged in again at ([0-9.]+)"))) {
            double plugged = std::stod(m[1]);
            if (std::regex_search(dump, m, std::regex("node back at ([0-9.]+)"))) {
                MESSAGE("board back " << std::stod(m[1]) - plugged << " s after it was plugged in again");
            }
        }
    }
}

TEST_SUITE("board") {
    TEST_CASE("board rig: the agent feeds the watchdog and a hung control loop lets it reset the set") {
        temp_dir dir;
        auto r = run_rig(dir, "watchdog", {});
        if (skipped(r, dir)) return;
        // The guest resets instead of finishing: no result, but the marks say when.
        auto fed = r.console.find("=== bbt-rig mark fed");
        auto fired = r.console.find("softdog: Initiating system reboot");
        INFO(r.console);
        REQUIRE(fed != std::string::npos);  // ran past the timeout while fed
        REQUIRE(fired != std::string::npos);
        CHECK(fed < fired);
        CHECK(r.console.find("=== bbt-rig mark survived") == std::string::npos);
        CHECK(r.file("agent.log").empty());  // the guest never got to print its files
    }

    TEST_CASE("board rig: through real uinput the events written come out of the touch node") {
        temp_dir dir;
        auto r = run_rig(dir, "uinput", {}, {BBT_RIG_UINPUT_TEST_BINARY});
        if (skipped(r, dir)) return;
        auto out = r.file("uinput.txt");
        INFO(out);
        CHECK(r.code == 0);
        // One test case, run and passed (not skipped).
        CHECK(std::regex_search(out, std::regex(R"(test cases: +1 \| +1 passed \| +0 failed \| +0 skipped)")));
    }

    TEST_CASE("board rig: the camera and the sound card appear in the agent's device inventory") {
        temp_dir dir;
        auto r = run_rig(dir, "devices", {});
        if (skipped(r, dir)) return;
        REQUIRE(r.code == 0);
        auto text = r.file("inventory.txt");
        INFO(text);
        CHECK(text.find("camera") != std::string::npos);
        CHECK(text.find("vivid") != std::string::npos);
        CHECK(text.find("/dev/video0") != std::string::npos);
        CHECK(text.find("microphone") != std::string::npos);
        CHECK(text.find("Loopback") != std::string::npos);
        auto zh = r.file("inventory-zh.txt");
        CHECK(zh.find("摄像头") != std::string::npos);
        CHECK(zh.find("麦克风") != std::string::npos);
        auto json = r.file("inventory.json");
        CHECK(json.find("\"kind\":\"camera\"") != std::string::npos);
        // One name for a sound card everywhere: the protocol's, the dashboard's and bbtctl's.
        CHECK(json.find("\"kind\":\"microphone\"") != std::string::npos);
        CHECK(json.find("\"kind\":\"sound\"") == std::string::npos);
    }

    TEST_CASE("board rig: a lesson recorded from vivid's camera and snd-aloop's sound card plays with its sound") {
        const fs::path ffmpeg = "/usr/bin/ffmpeg", ffprobe = "/usr/bin/ffprobe";
        if (!fs::exists(ffmpeg) || !fs::exists(ffprobe)) {
            BBT_SKIP("no ffmpeg/ffprobe (scripts/setup installs ffmpeg)");
            return;
        }
        temp_dir dir;
        // FFmpeg's libraries make the guest's initramfs about 250 MB larger.
        auto r = run_rig(dir, "record", {}, {BBT_MEDIA_MODULE_FILE, ffmpeg, ffprobe}, {{"BBT_RIG_MEMORY", "2048"}});
        if (skipped(r, dir)) return;
        INFO("agent log:\n" << r.file("agent.log") << "\nbbtctl:\n" << r.file("start.json") << r.file("stop.json"));
        REQUIRE(r.code == 0);
        auto probe = boost::json::parse(r.file("probe.json")).as_object();
        INFO(boost::json::serialize(probe));
        std::map<std::string, boost::json::object> streams;
        for (const auto& s : probe.at("streams").as_array())
            streams[std::string(s.at("codec_type").as_string())] = s.as_object();
        REQUIRE(streams.count("video") == 1);
        REQUIRE(streams.count("audio") == 1);
        CHECK(streams["video"].at("codec_name") == "h264");
        CHECK(streams["video"].at("width").as_int64() == 320);
        CHECK(streams["video"].at("height").as_int64() == 180);
        CHECK(streams["audio"].at("codec_name") == "aac");
        // One clock: vivid stamps its frames on the monotonic clock, ALSA on
        // the wall clock; each track starts where its device began on the
        // recording's clock, so the two starts are close (a clock taken for
        // the other would put a track decades away, or leave it out).
        double picture = std::stod(std::string(streams["video"].at("start_time").as_string()));
        double sound = std::stod(std::string(streams["audio"].at("start_time").as_string()));
        MESSAGE("picture from " << picture << " s, sound from " << sound << " s");
        CHECK(picture >= 0);
        CHECK(picture < 2.0);
        CHECK(std::abs(sound - picture) < 1.0);
        // The guest's clock is slow and jittery: at least a couple of seconds, not an exact length.
        CHECK(std::stod(std::string(probe.at("format").at("duration").as_string())) >= 2.0);
        // The tone played into the loopback is in the recording: louder than silence (-91 dB).
        std::smatch m;
        auto volume = r.file("volume.txt");
        INFO(volume);
        REQUIRE(std::regex_search(volume, m, std::regex("mean_volume: (-?[0-9.]+) dB")));
        CHECK(std::stod(m[1]) > -40.0);
    }
}
