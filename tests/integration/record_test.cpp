// Recording through the agent: bbtctl record start, status, stop and ls with
// FFmpeg's test sources; the file is read back with ffprobe.
#include "agent_fixture.hpp"

#include <boost/json.hpp>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

TEST_CASE("bbtctl records a lesson through the agent: start, status, stop, and the file in ls") {
    if (!fs::exists(test::ffprobe_binary)) {
        MESSAGE("skipped: no " << test::ffprobe_binary << " (scripts/setup installs ffmpeg)");
        return;
    }
    test::agent_fixture f("", "3",
                          "[recorder]\nvideo_format = \"lavfi\"\nvideo_input = \"testsrc2=size=320x240:rate=25\"\n"
                          "audio_format = \"lavfi\"\naudio_input = \"sine=frequency=440:sample_rate=48000\"\n"
                          "video_bitrate_kbit = 500\n");
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK_FALSE(f.ctl_json({"record", "status"}).at("recording").as_bool());
    CHECK(f.ctl({"record", "stop"}) == 1);
    CHECK(f.ctl_err().find("nothing is being recorded") != std::string::npos);

    auto started = f.ctl_json({"record", "start", "--lesson", "数学 7/1"});
    std::string file(started.at("file").as_string());
    CHECK(fs::path(file).filename().string().find("-数学 7_1.mp4") != std::string::npos);
    CHECK(f.ctl({"record", "start"}) == 1);  // one at a time
    CHECK(f.ctl_err().find("running already") != std::string::npos);
    f.ctl_json_until({"record", "status"}, [](const json::object& s) {
        return s.at("recording").as_bool() && s.at("duration_s").to_number<double>() >= 2.0;
    });
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
