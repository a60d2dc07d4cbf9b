// Recorder figures:
//   recorder.cpu_1080p30  CPU seconds per second of a 1080p30 lesson recorded
//                         from FFmpeg's test sources (H.264 veryfast, 4 Mbit/s
//                         cap, AAC), vs the ffmpeg command line doing the same
//                         encode from the same sources in the same run
//                         (medians of three rounds taking turns)
#include "bbt/media/recorder.hpp"

#include "process.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

double cpu_seconds(int who) {
    rusage u{};
    ::getrusage(who, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// CPU seconds per second of video of one recording by the recorder; 0 when it failed.
double ours_once(const std::filesystem::path& dir, int seconds, int fps, std::string& why) {
    bbt::media::recorder_options o;
    o.video = {"lavfi", fmt::format("testsrc2=size=1920x1080:rate={}", fps), ""};
    o.audio = {"lavfi", "sine=frequency=440:sample_rate=48000", ""};
    o.output = dir / "ours.mp4";
    o.realtime = false;  // CPU per second of video, not wall time
    double before = cpu_seconds(RUSAGE_SELF);
    auto rec = bbt::media::start_recording(o);
    if (!rec) {
        why = rec.error().what();
        return 0;
    }
    while ((*rec)->status().video_frames < seconds * fps && (*rec)->failure().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto done = (*rec)->stop();
    if (!done) {
        why = done.error().what();
        return 0;
    }
    return (cpu_seconds(RUSAGE_SELF) - before) / (static_cast<double>(done->video_frames) / fps);
}

// The same encode by the command line: same sources, encoder, settings and container; 0 when it failed.
double theirs_once(const std::filesystem::path& dir, const char* ffmpeg, int seconds, int fps) {
    double before = cpu_seconds(RUSAGE_CHILDREN);
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
                             "+frag_keyframe+empty_moov+delay_moov+default_base_moof",
                             "-frag_duration",
                             "1000000",
                             (dir / "theirs.mp4").string()},
                            {}, std::chrono::minutes(10));
    return rc == 0 ? (cpu_seconds(RUSAGE_CHILDREN) - before) / seconds : 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

void bench_recorder(const std::filesystem::path& root) {
    constexpr const char* ffmpeg = "/usr/bin/ffmpeg";
    constexpr int seconds = 20, fps = 30, rounds = 3;
    auto dir = root / "recorder";
    std::filesystem::create_directories(dir);
    const bool have_ffmpeg = std::filesystem::exists(ffmpeg);
    // Rounds taking turns, so that a busy moment of the machine falls on both; the medians compared.
    std::vector<double> ours, theirs;
    for (int i = 0; i < rounds; ++i) {
        std::string why;
        double o = ours_once(dir, seconds, fps, why);
        if (o <= 0) {
            fmt::print("bench: recorder.cpu_1080p30 failed: {}\n", why);
            return;
        }
        ours.push_back(o);
        if (!have_ffmpeg) continue;
        double t = theirs_once(dir, ffmpeg, seconds, fps);
        if (t > 0) theirs.push_back(t);
    }
    if (!have_ffmpeg) {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores (ffmpeg did not run: install ffmpeg)\n", median(ours));
    } else if (theirs.size() != ours.size()) {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores (the ffmpeg command line failed)\n", median(ours));
    } else {
        fmt::print("bench: recorder.cpu_1080p30 {:.2f} cores vs ffmpeg_cli {:.2f}\n", median(ours),
                   median(ours) / median(theirs));
    }
    std::filesystem::remove_all(dir);
}
