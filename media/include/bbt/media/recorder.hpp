// Lesson recording with libav: a picture source (a V4L2 camera, the screen,
// or FFmpeg's test sources) and a sound source (an ALSA microphone, or a
// test source), encoded as H.264 with a bitrate cap and AAC, written as a
// fragmented MP4 whose fragments are at most `fragment` long and synced to
// disk as each one closes, so that a crash or a power cut loses at most about
// a fragment. A clean stop turns it into a normal MP4 (moov first).
//
// Runs on a thread of its own; start() and stop() may be called from any one
// thread.
#pragma once

#include "bbt/base/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace bbt::media {

struct source {
    std::string format;  // libavdevice's input: "v4l2", "x11grab", "kmsgrab", "alsa", "lavfi"
    std::string input;   // "/dev/video0", ":0.0", "hw:0", "testsrc2=size=1280x720:rate=30" ...
    // Input options (video_size, framerate, sample_rate ...), "key=value:key=value".
    std::string options;
};

struct recorder_options {
    source video;   // the camera: the first, default track
    source screen;  // the screen as a second track of its own size; an empty format: none
    source audio;   // an empty format: no sound
    // A third picture track, "Composed": the screen with the camera in its
    // lower right corner (a quarter of the width), at the camera track's size
    // and rate, for players that show one picture. Needs the screen.
    bool picture_in_picture = false;
    std::filesystem::path output;       // the finished MP4; the fragmented one is output + ".part.mp4"
    int width = 0, height = 0;          // 0: the source's
    int fps = 0;                        // 0: the source's
    int64_t video_bitrate = 4'000'000;  // the cap (VBV maxrate)
    std::string preset = "veryfast";    // libx264's
    // The H.264 encoder: "auto" (a VAAPI or V4L2 memory-to-memory encoder
    // when the machine has one, else libx264), or one by name ("libx264",
    // "h264_vaapi", "h264_v4l2m2m"), which must then open.
    std::string encoder = "auto";
    std::string vaapi_device = "/dev/dri/renderD128";
    int64_t audio_bitrate = 128'000;
    std::chrono::milliseconds fragment{1000};
    // Test sources generate as fast as they can: paced to the wall clock as a device would be.
    bool realtime = true;
};

struct recording_status {
    double duration_s = 0;  // of what is written
    int64_t bytes = 0;
    int64_t video_frames = 0;
    int64_t audio_frames = 0;
    int64_t fragments_synced = 0;
    // The sound's loudness over the last second (RMS, dB below full scale),
    // and for how long it has stayed below silence_db: a muted or unplugged
    // microphone.
    double audio_level_db = -120;
    double silent_s = 0;
    std::string encoder;  // the H.264 encoder in use
    // The file's picture tracks, in order: "Camera", "Screen", "Composed".
    std::vector<std::string> tracks;
};

inline constexpr double silence_db = -60;

class recording {
public:
    virtual ~recording() = default;
    // Ends the recording: the last fragment written and synced, then the
    // normal MP4 made beside it (the fragmented file is then removed).
    [[nodiscard]] virtual result<recording_status> stop() = 0;
    // What is written so far; safe from any thread.
    [[nodiscard]] virtual recording_status status() const = 0;
    // Why the recording stopped by itself (a source gone, a full disk), or empty.
    [[nodiscard]] virtual std::string failure() const = 0;
};

// Opens the sources and the output and starts recording.
[[nodiscard]] result<std::unique_ptr<recording>> start_recording(const recorder_options& options);

}  // namespace bbt::media
