// Recorder figures:
//   recorder.cpu_1080p30  CPU seconds per second of a 1080p30 lesson recorded
//                         from FFmpeg's test sources (H.264 veryfast, 4 Mbit/s
//                         cap, AAC), vs the ffmpeg command line doing the same
//                         encode from the same sources in the same run
#include "bbt/media/recorder.hpp"

#include "process.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <filesystem>
#include <thread>

namespace {

double cpu_seconds(int who) {
    rusage u{};
    ::getrusage(who, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

void bench_recorder(const std::filesystem::path& root) {
    constexpr const char* ffmpeg = "/usr/bin/ffmpeg";
    constexpr int seconds = 20, fps = 30;
    auto dir = root / "recorder";
    std::filesystem::create_directories(dir);
    bbt::media::recorder_options o;
    o.video = {"lavfi", fmt::format("testsrc2=size=1920x1080:rate={}", fps), ""};
    o.audio = {"lavfi", "sine=frequency=440:sample_rate=48000", ""};
    o.output = dir / "ours.mp4";
    o.realtime = false;  // CPU per second of video, not wall time
    double before = cpu_seconds(RUSAGE_SELF);
    auto rec = bbt::media::start_recording(o);
    if (!rec) {
        fmt::print("bench: recorder.cpu_1080p30 failed: {}\n", rec.error().what());
        return;
    }
    while ((*rec)->status().video_frames < seconds * fps && (*rec)->failure().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto done = (*rec)->stop();
    double ours = (cpu_seconds(RUSAGE_SELF) - before) / (done ? done->video_frames / double(fps) : seconds);
    if (!done) {
        fmt::print("bench: recorder.cpu_1080p30 failed: {}\n", done.error().what());
        return;
    }
    if (!std::filesystem::exists(ffmpeg)) {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores (ffmpeg did not run: install ffmpeg)\n", ours);
        return;
    }
    // The same encode by the command line: same sources, encoder, settings and container.
    double child_before = cpu_seconds(RUSAGE_CHILDREN);
    int rc = bbt::test::run({ffmpeg,
                             "-hide_banner",
                             "-loglevel",
                             "error",
                             "-y",
                             "-f",
                             "lavfi",
                             "-i",
                             fmt::format("testsrc2=size=1920x1080:rate={}", fps),
                             "-f",
                             "lavfi",
                             "-i",
                             "sine=frequency=440:sample_rate=48000",
                             "-t",
                             std::to_string(seconds),
                             "-c:v",
                             "libx264",
                             "-preset",
                             "veryfast",
                             "-tune",
                             "zerolatency",
                             "-x264-params",
                             "scenecut=0",
                             "-g",
                             std::to_string(fps),
                             "-bf",
                             "0",
                             "-b:v",
                             "4M",
                             "-maxrate",
                             "4M",
                             "-bufsize",
                             "8M",
                             "-c:a",
                             "aac",
                             "-b:a",
                             "128k",
                             "-ar",
                             "48000",
                             "-movflags",
                             "+frag_keyframe+empty_moov+default_base_moof",
                             "-frag_duration",
                             "1000000",
                             (dir / "theirs.mp4").string()},
                            {}, std::chrono::minutes(10));
    double theirs = (cpu_seconds(RUSAGE_CHILDREN) - child_before) / seconds;
    if (rc == 0 && theirs > 0) {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores vs ffmpeg_cli {:.2f}\n", ours, ours / theirs);
    } else {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores (the ffmpeg command line failed)\n", ours);
    }
    std::filesystem::remove_all(dir);
}
