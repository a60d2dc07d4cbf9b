// What libav finds in a courseware file: its container, duration and
// streams, and a thumbnail of its picture. A file libav cannot read, or whose
// picture or sound cannot be decoded, is an error: the cache flags it and
// does not offer it.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bbt::media {

struct stream_info {
    std::string type;   // video, audio, subtitle, data
    std::string codec;  // h264, aac ... (libavcodec's name)
    int width = 0, height = 0;
    int sample_rate = 0, channels = 0;
    bool operator==(const stream_info&) const = default;
};

struct probe_info {
    std::string format;  // the container, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    double duration_s = 0;
    std::vector<stream_info> streams;
    bool thumbnail = false;  // a JPEG was written
    bool operator==(const probe_info&) const = default;
};

// What a file must hold to be offered: a picture that decodes (a video), a
// sound that decodes (audio), or either.
enum class expect : uint8_t { any, video, audio };

// Probes `file` (on the calling thread: a media thread, never the control
// loop) and, when it has a picture, writes a JPEG thumbnail at most 320
// pixels wide to `thumbnail` (an empty path: none).
[[nodiscard]] result<probe_info> probe(const std::filesystem::path& file, const std::filesystem::path& thumbnail,
                                       expect what = expect::any);

}  // namespace bbt::media
