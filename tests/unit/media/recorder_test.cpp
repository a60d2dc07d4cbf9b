// The recorder with FFmpeg's test sources (lavfi): a clean stop gives a
// normal MP4 (index first) that ffprobe reads; kill -9 mid-recording leaves a
// fragmented MP4 that ffprobe reads and that holds all but at most the last
// second of what was taken in.
#include "bbt/media/recorder.hpp"

#include "bbt/media/errors.hpp"

#include "bbt/base/i18n.hpp"

#include "doctest_bbt.hpp"
#include "process.hpp"
#include "skip.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <thread>

using namespace bbt;
namespace fs = std::filesystem;

namespace {

media::recorder_options test_sources(const fs::path& out) {
    media::recorder_options o;
    o.video = {"lavfi", "testsrc2=size=320x240:rate=25", ""};
    o.audio = {"lavfi", "sine=frequency=440:sample_rate=48000", ""};
    o.output = out;
    o.video_bitrate = 1'000'000;
    return o;
}

// ffprobe's answer for one entry of the first stream of a kind ("v", "a"), or of one stream ("v:1").
std::string probe(const fs::path& file, const std::string& stream, const std::string& entry, bool count = false) {
    std::vector<std::string> args{"-select_streams", stream.find(':') == std::string::npos ? stream + ":0" : stream};
    if (count) args.push_back("-count_frames");
    args.insert(args.end(), {"-show_entries", "stream=" + entry});
    return test::ffprobe(file, args);
}

// Records until `frames` pictures are taken (or the recording fails), then stops cleanly.
media::recording_status record_frames(const media::recorder_options& o, int64_t frames) {
    auto rec = media::start_recording(o);
    REQUIRE_MESSAGE(rec, (rec ? "" : rec.error().what()));
    while ((*rec)->status().video_frames < frames && (*rec)->failure().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto done = (*rec)->stop();
    REQUIRE_MESSAGE(done, (done ? "" : done.error().what()));
    return *done;
}

}  // namespace

TEST_CASE("a clean stop gives a normal MP4 with its index first, H.264 and AAC, as long as the recording") {
    if (!test::have_ffprobe()) return;
    test::temp_dir dir;
    auto o = test_sources(dir / "lesson.mp4");
    o.realtime = false;  // as fast as it encodes
    auto done = record_frames(o, 75);
    CHECK(done.fragments_synced >= 2);
    CHECK_FALSE(fs::exists(dir / "lesson.mp4.part.mp4"));
    auto bytes = test::read_file(dir / "lesson.mp4");
    REQUIRE(bytes.find("moov") != std::string::npos);
    CHECK(bytes.find("moov") < bytes.find("mdat"));
    CHECK(probe(dir / "lesson.mp4", "v", "codec_name") == "h264");
    CHECK(probe(dir / "lesson.mp4", "a", "codec_name") == "aac");
    CHECK(probe(dir / "lesson.mp4", "v", "width,height") == "320,240");
    int64_t frames = std::stoll(probe(dir / "lesson.mp4", "v", "nb_read_frames", true));
    CHECK(frames == done.video_frames);
}

TEST_CASE("the encoder: auto falls back to libx264 where there is no hardware one; one named must open") {
    test::temp_dir dir;
    auto o = test_sources(dir / "auto.mp4");
    o.realtime = false;
    o.vaapi_device = (dir / "no-gpu").string();
    auto rec = media::start_recording(o);
    REQUIRE_MESSAGE(rec, (rec ? "" : rec.error().what()));
    CHECK((*rec)->status().encoder == "libx264");
    CHECK((*rec)->stop());
    o.output = dir / "gpu.mp4";
    o.encoder = "h264_vaapi";
    auto gpu = media::start_recording(o);
    REQUIRE_FALSE(gpu);
    CHECK(std::string(gpu.error().what()).find("h264_vaapi") != std::string::npos);
    CHECK(std::string(gpu.error().what()).find("no-gpu") != std::string::npos);
}

TEST_CASE("the screen goes in a second picture track of its own size; the camera's is the default") {
    if (!test::have_ffprobe()) return;
    test::temp_dir dir;
    auto o = test_sources(dir / "lesson.mp4");
    o.screen = {"lavfi", "testsrc=size=640x360:rate=10", ""};
    o.realtime = false;
    record_frames(o, 50);
    auto file = dir / "lesson.mp4";
    auto streams = test::ffprobe(
        file,
        {"-show_entries", "stream=codec_type,codec_name,width,height:stream_disposition=default:stream_tags=title"});
    INFO(streams);
    CHECK(probe(file, "v:0", "width,height") == "320,240");
    CHECK(probe(file, "v:1", "width,height") == "640,360");
    CHECK(probe(file, "v:1", "codec_name") == "h264");
    CHECK(probe(file, "a", "codec_name") == "aac");
    CHECK(test::ffprobe(file, {"-select_streams", "v:0", "-show_entries", "stream_disposition=default"}) == "1");
    CHECK(test::ffprobe(file, {"-select_streams", "v:1", "-show_entries", "stream_tags=handler_name"}) == "Screen");
    // Both pictures cover the recording: the screen's 10 fps against the camera's 25.
    double camera = std::stod(test::ffprobe(file, {"-select_streams", "v:0", "-show_entries", "stream=duration"}));
    double screen = std::stod(test::ffprobe(file, {"-select_streams", "v:1", "-show_entries", "stream=duration"}));
    CHECK(std::abs(camera - screen) < 0.3);
    int64_t screen_frames = std::stoll(probe(file, "v:1", "nb_read_frames", true));
    CHECK(screen_frames >= 15);
}

TEST_CASE("a camera on the monotonic clock and a sound card on the wall clock are put on one clock") {
    if (!test::have_ffprobe()) return;
    test::temp_dir dir;
    // Test sources stamped as the devices stamp: the picture on the
    // monotonic clock (V4L2), the sound on the wall clock (libavdevice's
    // ALSA), the sound taken half a second after the picture. Both start
    // five seconds from now, so however long the recorder takes to open,
    // neither is cut at the recording's start; read as fast as they come.
    auto us = [](auto now) {
        return std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    };
    int64_t mono = us(std::chrono::steady_clock::now()) + 5'000'000;
    int64_t wall = us(std::chrono::system_clock::now()) + 5'500'000;
    media::recorder_options o;
    o.video = {"lavfi", fmt::format("testsrc2=size=160x120:rate=25,settb=AVTB,setpts=PTS-STARTPTS+{}", mono), ""};
    o.audio = {"lavfi", fmt::format("sine=frequency=440:sample_rate=48000,asettb=AVTB,asetpts=N/SR/TB+{}", wall), ""};
    o.output = dir / "lesson.mp4";
    o.video_bitrate = 200'000;
    o.preset = "ultrafast";
    o.realtime = false;
    record_frames(o, 25);
    double picture = std::stod(probe(dir / "lesson.mp4", "v", "start_time"));
    // The AAC track starts with the encoder's 1024 samples of priming.
    double sound = std::stod(probe(dir / "lesson.mp4", "a", "start_time")) + 1024.0 / 48000;
    MESSAGE("picture from " << picture << " s, sound from " << sound << " s");
    // Each would start at its own zero if each source kept its own clock.
    // The picture's start is on its frames' grid (40 ms apart: +-20 ms).
    CHECK(std::abs(sound - picture - 0.5) <= 0.025);
}

TEST_CASE("picture-in-picture: a third track, the screen with the camera in its lower right corner") {
    if (!test::have_ffprobe()) return;
    test::temp_dir dir;
    media::recorder_options o;
    o.video = {"lavfi", "color=c=red:size=320x180:rate=25", ""};
    o.screen = {"lavfi", "color=c=blue:size=640x360:rate=10", ""};
    o.audio = {"lavfi", "sine=frequency=440:sample_rate=48000", ""};
    o.picture_in_picture = true;
    o.output = dir / "lesson.mp4";
    o.video_bitrate = 500'000;
    o.realtime = false;
    auto done = record_frames(o, 50);
    auto file = dir / "lesson.mp4";
    CHECK(done.tracks == std::vector<std::string>{"Camera", "Screen", "Composed"});
    CHECK(probe(file, "v:2", "width,height") == "320,180");
    CHECK(probe(file, "v:2", "codec_name") == "h264");
    CHECK(test::ffprobe(file, {"-select_streams", "v:2", "-show_entries", "stream_tags=handler_name"}) == "Composed");
    int64_t composed = std::stoll(probe(file, "v:2", "nb_read_frames", true));
    MESSAGE("camera " << done.video_frames << " frames, composed " << composed);
    CHECK(composed >= done.video_frames - 5);  // at the camera's rate, not the screen's 10 fps
    // A picture of the composed track as RGB: blue (the screen) at the top
    // left, red (the camera) inside the lower right corner.
    test::spawn_options so;
    so.stdout_path = dir / "frame.rgb";
    REQUIRE(test::run({"/usr/bin/ffmpeg", "-v", "error", "-i", file.string(), "-map", "0:v:2", "-frames:v", "1", "-f",
                       "rawvideo", "-pix_fmt", "rgb24", "-"},
                      so) == 0);
    auto rgb = test::read_file(dir / "frame.rgb");
    REQUIRE(rgb.size() == 320u * 180 * 3);
    auto pixel = [&](int x, int y) {
        const auto* p = reinterpret_cast<const unsigned char*>(rgb.data()) + (y * 320 + x) * 3;
        return std::array<int, 3>{p[0], p[1], p[2]};
    };
    auto top_left = pixel(20, 20);
    auto corner = pixel(320 - 8 - 40, 180 - 8 - 22);  // the middle of the 80x44 inset
    INFO("top left " << top_left[0] << "," << top_left[1] << "," << top_left[2] << "; corner " << corner[0] << ","
                     << corner[1] << "," << corner[2]);
    CHECK(top_left[2] > 200);
    CHECK(top_left[0] < 60);
    CHECK(corner[0] > 200);
    CHECK(corner[2] < 60);
}

TEST_CASE("picture-in-picture without a screen is refused, saying what is missing") {
    test::temp_dir dir;
    auto o = test_sources(dir / "lesson.mp4");
    o.picture_in_picture = true;
    auto rec = media::start_recording(o);
    REQUIRE_FALSE(rec);
    CHECK(std::string(rec.error().what()).find("screen") != std::string::npos);
}

TEST_CASE("killed with -9 mid-recording, the file is readable and holds all but at most the last second") {
    if (!test::have_ffprobe()) return;
    test::temp_dir dir;
    // What the recorder has taken in, shared with the child that records.
    auto* taken = static_cast<std::atomic<int64_t>*>(
        ::mmap(nullptr, sizeof(std::atomic<int64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    REQUIRE(taken != MAP_FAILED);
    new (taken) std::atomic<int64_t>(0);
    pid_t pid = ::fork();
    if (pid == 0) {
        auto rec = media::start_recording(test_sources(dir / "lesson.mp4"));
        if (!rec) ::_exit(3);
        for (;;) {
            taken->store((*rec)->status().video_frames);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    // About 4 s of a lesson, then the power of the process is cut.
    for (int i = 0; i < 3000 && taken->load() < 4 * 25 + 7; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int64_t in = taken->load();
    ::munmap(taken, sizeof(std::atomic<int64_t>));
    REQUIRE(in >= 4 * 25);
    auto part = dir / "lesson.mp4.part.mp4";
    REQUIRE(fs::exists(part));
    auto kept = probe(part, "v", "nb_read_frames", true);
    REQUIRE(kept != "ffprobe failed");
    int64_t frames = std::stoll(kept);
    MESSAGE("taken in " << in << " frames, readable after kill -9: " << frames);
    // At most one second (25 frames) lost, and one more for the sampling of the count.
    CHECK(frames >= in - 25 - 1);
    CHECK(frames <= in);
    CHECK(probe(part, "a", "codec_name") == "aac");
}

// A whole lesson, encoded as fast as it goes: too slow under the sanitizers
// (the debug preset leaves the label "long" out).
TEST_SUITE("long") {
    TEST_CASE("a 45-minute lesson whose sound card runs 1000 ppm fast ends with sound and picture within 40 ms") {
        if (!test::have_ffprobe()) return;
        test::temp_dir dir;
        media::recorder_options o;
        o.video = {"lavfi", "testsrc2=size=160x120:rate=25", ""};
        // 48 048 samples a second that call themselves 48 000 a second, stamped on the true clock.
        o.audio = {"lavfi", "sine=frequency=440:sample_rate=48048,asetrate=48000,asetpts=N/48048/TB", ""};
        o.output = dir / "lesson.mp4";
        o.video_bitrate = 200'000;
        o.preset = "ultrafast";
        o.realtime = false;
        record_frames(o, 45 * 60 * 25);
        double video = std::stod(probe(dir / "lesson.mp4", "v", "duration"));
        double audio = std::stod(probe(dir / "lesson.mp4", "a", "duration"));
        MESSAGE("picture " << video << " s, sound " << audio << " s");
        CHECK(video >= 2700);
        CHECK(std::abs(audio - video) <= 0.040);
    }
}

TEST_CASE("the recorder speaks the program's language") {
    // The FFmpeg module has its own copy of bbt_base: without being told, it
    // would answer in English whatever the program speaks.
    struct restore {
        ~restore() { i18n::set(i18n::language::en); }
    } restore_after;
    test::temp_dir dir;
    auto o = test_sources(dir / "lesson.mp4");
    o.video = {"v4l2", (dir / "no-camera").string(), ""};
    i18n::set(i18n::language::zh);
    auto rec = media::start_recording(o);
    REQUIRE_FALSE(rec);
    CHECK(std::string(rec.error().what()).find("无法打开录制信号源") != std::string::npos);
    CHECK(std::string(rec.error().what()).find("no-camera") != std::string::npos);
    // libav's ENOENT, translated at the module's boundary and mapped back into our category.
    CHECK(rec.error().code() == media::media_errc::not_found);
    i18n::set(i18n::language::en);
    auto again = media::start_recording(o);
    REQUIRE_FALSE(again);
    CHECK(std::string(again.error().what()).find("cannot open the recording source") != std::string::npos);
}
