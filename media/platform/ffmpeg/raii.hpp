// libav's objects owned by unique_ptr, each freed by its own function; and
// libav's error codes as text. For the FFmpeg module's sources only.
#pragma once

#include "bbt/media/errors.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/buffer.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace bbt::media::ffmpeg {

struct input_closer {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
// An output context: its file closed, then the context freed.
struct output_closer {
    void operator()(AVFormatContext* f) const {
        if (f == nullptr) return;
        if (f->pb != nullptr) avio_closep(&f->pb);
        avformat_free_context(f);
    }
};
struct codec_closer {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct frame_closer {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct packet_closer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct sws_closer {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct swr_closer {
    void operator()(SwrContext* s) const { swr_free(&s); }
};
struct fifo_closer {
    void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};

struct buffer_unref {
    void operator()(AVBufferRef* b) const { av_buffer_unref(&b); }
};
struct graph_closer {
    void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
struct inout_closer {
    void operator()(AVFilterInOut* i) const { avfilter_inout_free(&i); }
};
using input_ptr = std::unique_ptr<AVFormatContext, input_closer>;
using output_ptr = std::unique_ptr<AVFormatContext, output_closer>;
using codec_ptr = std::unique_ptr<AVCodecContext, codec_closer>;
using frame_ptr = std::unique_ptr<AVFrame, frame_closer>;
using packet_ptr = std::unique_ptr<AVPacket, packet_closer>;
using sws_ptr = std::unique_ptr<SwsContext, sws_closer>;
using swr_ptr = std::unique_ptr<SwrContext, swr_closer>;
using fifo_ptr = std::unique_ptr<AVAudioFifo, fifo_closer>;
using buffer_ptr = std::unique_ptr<AVBufferRef, buffer_unref>;
using graph_ptr = std::unique_ptr<AVFilterGraph, graph_closer>;
using inout_ptr = std::unique_ptr<AVFilterInOut, inout_closer>;

// AVERROR codes, translated at this boundary: the agent sees media_errc.
inline media_errc av_code(int err) {
    switch (err) {
        case AVERROR(ENOENT):
        case AVERROR(ENODEV):
        case AVERROR(ENXIO): return media_errc::not_found;
        case AVERROR(EACCES):
        case AVERROR(EPERM): return media_errc::access_denied;
        case AVERROR(EBUSY): return media_errc::busy;
        case AVERROR(ENOSPC): return media_errc::disk_full;
        case AVERROR(ENOMEM): return media_errc::no_memory;
        case AVERROR(EINVAL): return media_errc::invalid_argument;
        case AVERROR_INVALIDDATA: return media_errc::invalid_data;
        case AVERROR_EOF: return media_errc::end_of_stream;
        case AVERROR_DECODER_NOT_FOUND:
        case AVERROR_ENCODER_NOT_FOUND:
        case AVERROR_DEMUXER_NOT_FOUND:
        case AVERROR_MUXER_NOT_FOUND:
        case AVERROR_FILTER_NOT_FOUND:
        case AVERROR_PROTOCOL_NOT_FOUND:
        case AVERROR_STREAM_NOT_FOUND: return media_errc::component_missing;
        case AVERROR(EIO): return media_errc::io;
        default: return media_errc::other;
    }
}

inline std::string av_message(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(err, buf, sizeof buf);
    return buf;
}

}  // namespace bbt::media::ffmpeg
