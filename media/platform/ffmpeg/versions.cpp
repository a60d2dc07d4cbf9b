// FFmpeg's headers are included only under media/platform/ffmpeg.
#include "bbt/media/versions.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <fmt/format.h>

namespace bbt::media {
namespace {

std::string dotted(unsigned v) { return fmt::format("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff); }

}  // namespace

std::vector<library_version> library_versions() {
    return {
        {"libavformat", dotted(LIBAVFORMAT_VERSION_INT), dotted(::avformat_version())},
        {"libavcodec", dotted(LIBAVCODEC_VERSION_INT), dotted(::avcodec_version())},
        {"libavutil", dotted(LIBAVUTIL_VERSION_INT), dotted(::avutil_version())},
    };
}

}  // namespace bbt::media
