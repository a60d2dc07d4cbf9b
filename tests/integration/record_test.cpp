// Recording through the agent: bbtctl record start, status, stop and ls with
// FFmpeg's test sources; the file is read back with ffprobe.
#include "agent_fixture.hpp"
#include "county_fixture.hpp"
#include "skip.hpp"
#include "small_disk.hpp"

#include "bbt/base/clock.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <ctime>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

TEST_CASE("bbtctl records a lesson through the agent: start, status, stop, and the file in ls") {
    if (!test::have_ffprobe()) return;
    test::agent_fixture f("", "3",
                          "[recorder]\nvideo_format = \"lavfi\"\nvideo_input = \"testsrc2=size=320x240:rate=25\"\n"
                          "audio_format = \"lavfi\"\naudio_input = \"sine=frequency=440:sample_rate=48000\"\n"
                          "video_bitrate_kbit = 500\n");
    // A recording cut before its first fragment reached the disk: empty, and removed at start.
    fs::create_directories(f.state / "recordings");
    auto empty = f.state / "recordings" / "20261203-0800-x.mp4.part.mp4";
    test::write_file(empty, "");
    test::write_file(f.state / "recordings" / "20261203-0800-x.mp4.part.mp4.json", "{}");
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK_FALSE(fs::exists(empty));
    CHECK_FALSE(fs::exists(f.state / "recordings" / "20261203-0800-x.mp4.part.mp4.json"));
    CHECK(f.log().find("nothing to keep, removed") != std::string::npos);
    CHECK_FALSE(f.ctl_json({"record", "status"}).at("recording").as_bool());
    CHECK(f.ctl({"record", "stop"}) == 1);
    CHECK(f.ctl_err().find("nothing is being recorded") != std::string::npos);

    auto started = f.ctl_json({"record", "start", "--lesson", "数学 7/1"});
    std::string file(started.at("file").as_string());
    CHECK(fs::path(file).filename().string().find("-数学 7_1.mp4") != std::string::npos);
    CHECK(f.ctl({"record", "start"}) == 1);  // one at a time
    CHECK(f.ctl_err().find("running already") != std::string::npos);
    // The sine is heard: about -21 dB (a 1/8 amplitude sine), no alarm.
    auto heard = f.ctl_json_until({"record", "status"}, [](const json::object& s) {
        return s.at("recording").as_bool() && s.at("duration_s").to_number<double>() >= 2.0 &&
               s.at("audio_level_db").to_number<double>() > -120;
    });
    CHECK(heard.at("audio_level_db").to_number<double>() > -30);
    CHECK(heard.at("audio_level_db").to_number<double>() < -15);
    CHECK_FALSE(heard.at("microphone_silent").as_bool());
    // The picture tracks and the encoder, for the technician.
    CHECK(heard.at("tracks") == json::array{"Camera"});
    REQUIRE(f.ctl({"record", "status"}) == 0);
    CHECK(f.ctl_out().find("pictures: camera; H.264 by " + std::string(heard.at("encoder").as_string())) !=
          std::string::npos);
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"record", "status"}) == 0);
    CHECK(f.ctl_out().find("画面：摄像头；H.264 编码器") != std::string::npos);
    f.lang = "C.UTF-8";
    auto stopped = f.ctl_json({"record", "stop"});
    CHECK(stopped.at("file") == file.c_str());
    CHECK(stopped.at("duration_s").to_number<double>() >= 2.0);
    REQUIRE(fs::exists(file));
    CHECK_FALSE(fs::exists(file + ".part.mp4"));
    CHECK(test::ffprobe(file, {"-show_entries", "stream=codec_name"}).find("h264") != std::string::npos);
    CHECK(test::ffprobe(file, {"-show_entries", "stream=codec_name"}).find("aac") != std::string::npos);
    auto ls = f.ctl_json({"record", "ls"});
    REQUIRE(ls.at("recordings").as_array().size() == 1);
    CHECK(ls.at("recordings").as_array()[0].at("file") == file.c_str());
    CHECK_FALSE(ls.at("recordings").as_array()[0].at("interrupted").as_bool());
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"record", "status"}) == 0);
    CHECK(f.ctl_out().find("未在录制") != std::string::npos);
}

TEST_CASE("a recording source that cannot be opened is a clear error, and the agent goes on") {
    test::agent_fixture f("", "3", "[recorder]\nvideo_format = \"v4l2\"\nvideo_input = \"/dev/no-such-camera\"\n");
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK(f.ctl({"record", "start"}) == 1);
    CHECK(f.ctl_err().find("cannot open the recording source") != std::string::npos);
    CHECK(f.ctl_err().find("/dev/no-such-camera") != std::string::npos);
    CHECK(f.ctl_json({"record", "status"}).at("last_error").as_string().size() > 0);
    CHECK(f.ctl({"status"}) == 0);
}

namespace {

// A [recorder] of FFmpeg's test sources, `audio` for the sound, nothing uploaded, no disk guard.
std::string test_recorder(const std::string& audio, const std::string& extra) {
    return "[recorder]\nvideo_format = \"lavfi\"\nvideo_input = \"testsrc2=size=320x240:rate=25\"\n"
           "audio_format = \"lavfi\"\naudio_input = \"" +
           audio + "\"\nvideo_bitrate_kbit = 500\nupload = false\nmin_free_mb = 0\n" + extra;
}

const json::value& recording(const json::object& ls, const std::string& ending) {
    for (const auto& r : ls.at("recordings").as_array()) {
        if (std::string_view(r.at("file").as_string()).ends_with(ending)) return r;
    }
    FAIL("no recording ending in " << ending << ": " << json::serialize(ls));
    static const json::value none;
    return none;
}

}  // namespace

TEST_CASE(
    "a lesson marked for recording records itself: it wins over an ad-hoc recording, is stopped by hand only "
    "with --force, goes on in a new part after kill -9, and ends with the lesson") {
    if (!test::have_ffprobe()) return;
    test::county_fixture county;
    county.start();
    test::agent_fixture f("", "3",
                          fmt::format("[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\n"
                                      "retry_max = 0.5\n[cache]\nrefresh = 10\n"
                                      "[recorder]\nvideo_format = \"lavfi\"\n"
                                      "video_input = \"testsrc2=size=320x240:rate=25\"\n"
                                      "audio_format = \"lavfi\"\n"
                                      "audio_input = \"sine=frequency=440:sample_rate=48000\"\n"
                                      "video_bitrate_kbit = 500\nupload = false\nmin_free_mb = 0\n",
                                      county.url(), (county.pki / "ca.pem").string()));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    f.ctl_json({"county", "enrol", county.code("301")});
    // An ad-hoc recording first.
    f.ctl_json({"record", "start", "--lesson", "adhoc"});

    // The timetable: a lesson to record, starting a few seconds from now and ending 15 s later.
    int64_t start = clock::wall_now().count() / 1'000'000 + 4;
    int64_t end = start + 15;
    test::write_file(county.dir / "301.ics",
                     "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                     "BEGIN:VEVENT\r\nUID:rec@test\r\nDTSTAMP:20260901T000000Z\r\nDTSTART:" +
                         test::ics_time(start) + "\r\nDTEND:" + test::ics_time(end) +
                         "\r\nSUMMARY:数学\r\nX-BBT-RECORD:TRUE\r\nEND:VEVENT\r\n"
                         "END:VCALENDAR\r\n");
    REQUIRE(test::run({BBT_COUNTY_BINARY, "timetable", "--config", county.config.string(), "--school", "No.3 Primary",
                       "--classroom", "301", "--file", (county.dir / "301.ics").string()}) == 0);
    REQUIRE(f.ctl({"cache", "refresh"}) == 0);

    // The lesson begins: the ad-hoc recording is finished, the lesson's begins.
    auto s = f.ctl_json_until({"record", "status"}, [](const json::object& o) { return o.contains("scheduled"); });
    CHECK(s.at("scheduled").at("lesson") == "数学");
    CHECK(s.at("scheduled").at("part").as_int64() == 1);
    CHECK(s.at("scheduled").at("until_us").as_int64() == end * 1'000'000);
    auto ls = f.ctl_json({"record", "ls"});
    CHECK_FALSE(recording(ls, "-adhoc.mp4").at("interrupted").as_bool());
    CHECK(f.log().find("the timetable's lesson \"数学\" begins") != std::string::npos);
    // Nothing of one's own meanwhile; stopping it needs --force.
    CHECK(f.ctl({"record", "start"}) == 1);
    CHECK(f.ctl_err().find("the timetable is recording \"数学\"") != std::string::npos);
    CHECK(f.ctl({"record", "stop"}) == 1);
    CHECK(f.ctl_err().find("--force") != std::string::npos);
    // bbtctl's own words in Chinese (the agent's follow its own locale).
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"record", "status"}) == 0);
    CHECK(f.ctl_out().find("按课表录制：数学，第 1 段") != std::string::npos);
    f.lang = "C.UTF-8";

    // A crash in the lesson, once a fragment is on the disk: after the
    // restart, part 2 (the county is not needed: the kept timetable).
    f.ctl_json_until({"record", "status"},
                     [](const json::object& o) { return o.at("fragments_synced").as_int64() >= 1; });
    agent.signal(SIGKILL);
    REQUIRE(agent.wait(10s));
    county.stop();
    test::notify_listener again(f.dir / "notify2");
    agent = f.start(again);
    REQUIRE(again.wait_for("READY=1"));
    s = f.ctl_json_until({"record", "status"}, [](const json::object& o) { return o.contains("scheduled"); });
    CHECK(s.at("scheduled").at("part").as_int64() == 2);
    CHECK(std::string_view(s.at("file").as_string()).ends_with("-数学-part2.mp4"));

    // The lesson ends: so does the recording.
    f.ctl_json_until(
        {"record", "status"},
        [](const json::object& o) { return !o.at("recording").as_bool() && !o.at("busy").as_bool(); }, 60s);
    ls = f.ctl_json({"record", "ls"});
    INFO(json::serialize(ls));
    const auto& part1 = recording(ls, "-数学.mp4.part.mp4");
    CHECK(part1.at("interrupted").as_bool());
    CHECK(part1.at("lesson") == "数学");
    CHECK(
        test::ffprobe(std::string(part1.at("file").as_string()), {"-show_entries", "stream=codec_name"}).find("h264") !=
        std::string::npos);
    const auto& part2 = recording(ls, "-数学-part2.mp4");
    CHECK_FALSE(part2.at("interrupted").as_bool());
    CHECK(
        test::ffprobe(std::string(part2.at("file").as_string()), {"-show_entries", "stream=codec_name"}).find("h264") !=
        std::string::npos);
    auto facts = json::parse(test::read_file(std::string(part2.at("file").as_string()) + ".json")).as_object();
    CHECK(facts.at("lesson_key") == fmt::format("rec@test@{}", start).c_str());
    CHECK(facts.at("part").as_int64() == 2);
    CHECK(f.log().find("the lesson ended") != std::string::npos);
}

TEST_CASE(
    "the disk guard: a recording stops cleanly before the disk is full, with an alert, and none starts below "
    "the limit") {
    if (!test::have_ffprobe()) return;
    test::temp_dir scratch;
    test::small_disk disk(scratch / "disk", "16m");
    if (!disk.mounted()) {
        BBT_SKIP("cannot mount a small tmpfs as a full disk (needs root)");
        return;
    }
    // Noise at 4 Mbit/s: the 16 MiB disk drops below 15 MiB free within a few seconds.
    test::agent_fixture f("", "3",
                          fmt::format("[recorder]\ndir = \"{}\"\nvideo_format = \"lavfi\"\n"
                                      "video_input = \"testsrc2=size=640x480:rate=25,noise=alls=100:allf=t\"\n"
                                      "audio_format = \"lavfi\"\naudio_input = \"sine=frequency=440\"\n"
                                      "video_bitrate_kbit = 4000\nupload = false\nmin_free_mb = 15\n",
                                      (scratch / "disk").string()));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto started = f.ctl_json({"record", "start", "--lesson", "full"});
    std::string file(started.at("file").as_string());
    auto s = f.ctl_json_until(
        {"record", "status"},
        [](const json::object& o) { return !o.at("recording").as_bool() && !o.at("busy").as_bool(); }, 60s);
    CHECK(std::string_view(s.at("last_error").as_string()).find("nearly full") != std::string::npos);
    // Finished and kept: a normal MP4.
    REQUIRE(fs::exists(file));
    CHECK(test::ffprobe(file, {"-show_entries", "stream=codec_name"}).find("h264") != std::string::npos);
    CHECK(f.log().find("recorder.min_free_mb") != std::string::npos);
    // Below the limit, nothing starts.
    CHECK(f.ctl({"record", "start"}) == 1);
    CHECK(f.ctl_err().find("MiB free, below recorder.min_free_mb") != std::string::npos);
}

TEST_CASE("a silent microphone raises an alert while recording, said in bbtctl record status") {
    test::agent_fixture f("", "3", test_recorder("anullsrc=sample_rate=48000", "silence_alarm = 2\n"));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    f.ctl_json({"record", "start"});
    auto s = f.ctl_json_until({"record", "status"},
                              [](const json::object& o) { return o.at("microphone_silent").as_bool(); });
    CHECK(s.at("audio_level_db").to_number<double>() <= -60);
    CHECK(f.log().find("the microphone has been silent") != std::string::npos);
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"record", "status"}) == 0);
    CHECK(f.ctl_out().find("声音：无声") != std::string::npos);
    f.ctl_json({"record", "stop"});
    // The alarm clears with the recording.
    CHECK(f.log().find("the microphone is heard again") != std::string::npos);
}

TEST_CASE("with recorder.with_class, the class key's class start and end start and end a recording") {
    test::agent_fixture f("", "3", test_recorder("sine=frequency=440:sample_rate=48000", "with_class = true\n"));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK_FALSE(f.ctl_json({"record", "status"}).at("recording").as_bool());
    REQUIRE(f.ctl({"class", "start"}) == 0);
    auto s = f.ctl_json_until({"record", "status"}, [](const json::object& o) { return o.at("recording").as_bool(); });
    CHECK(std::string_view(s.at("file").as_string()).ends_with("-class.mp4"));
    REQUIRE(f.ctl({"class", "end"}) == 0);
    f.ctl_json_until({"record", "status"},
                     [](const json::object& o) { return !o.at("recording").as_bool() && !o.at("busy").as_bool(); });
    auto ls = f.ctl_json({"record", "ls"});
    REQUIRE(ls.at("recordings").as_array().size() == 1);
    CHECK_FALSE(ls.at("recordings").as_array()[0].at("interrupted").as_bool());
    CHECK(f.log().find("the class ended") != std::string::npos);
}
