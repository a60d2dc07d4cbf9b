// FFmpeg's headers are included only under media/platform/ffmpeg, which
// builds the module bbt_media_ffmpeg.so.
#include "bbt/media/versions.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "ffmpeg.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <fmt/format.h>

namespace bbt::media::ffmpeg {
namespace {

std::string dotted(unsigned v) { return fmt::format("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff); }

std::vector<library_version> versions() {
    return {
        {"libavformat", dotted(LIBAVFORMAT_VERSION_INT), dotted(::avformat_version())},
        {"libavcodec", dotted(LIBAVCODEC_VERSION_INT), dotted(::avcodec_version())},
        {"libavutil", dotted(LIBAVUTIL_VERSION_INT), dotted(::avutil_version())},
    };
}

// The program's language and log levels, for this module's copy of bbt_base.
void configure(i18n::language lang, const char* log_spec) {
    i18n::set(lang);
    if (log_spec != nullptr && *log_spec != '\0') (void)log::configure(log_spec);
}

const backend the_backend{&configure, &versions, &probe_file, &start};

}  // namespace
}  // namespace bbt::media::ffmpeg

extern "C" __attribute__((visibility("default"))) const bbt::media::backend* bbt_media_backend_v2() {
    return &bbt::media::ffmpeg::the_backend;
}
