// Probing and thumbnails with libavformat, libavcodec and libswscale.
#include "bbt/media/probe.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "ffmpeg.hpp"
#include "raii.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <memory>

namespace bbt::media::ffmpeg {
namespace {

constexpr int thumbnail_width = 320;
constexpr int max_packets = 2000;  // read to find a first picture or sound

error unreadable(const std::filesystem::path& file, std::string_view why) {
    return error(base_errc::corrupt,
                 i18n::format({"libav cannot read this file ({}); it is not offered for playing; ask the county for a "
                               "playable copy",
                               "libav 无法读取此文件（{}）；不提供播放；请向县级平台索取可播放的版本"},
                              why),
                 file.string());
}

codec_ptr open_decoder(const AVStream* st) {
    const AVCodec* dec = avcodec_find_decoder(st->codecpar->codec_id);
    if (dec == nullptr) return {};
    codec_ptr c(avcodec_alloc_context3(dec));
    if (!c || avcodec_parameters_to_context(c.get(), st->codecpar) < 0) return {};
    c->thread_count = 1;
    if (avcodec_open2(c.get(), dec, nullptr) < 0) return {};
    return c;
}

// Decodes the first frame of stream `index`, after `seek_to` seconds when it
// can seek there. Returns the frame, or null.
frame_ptr first_frame(AVFormatContext* in, int index, AVCodecContext* dec, double seek_to) {
    if (seek_to > 0) {
        auto ts = static_cast<int64_t>(seek_to * AV_TIME_BASE);
        if (av_seek_frame(in, -1, ts, AVSEEK_FLAG_BACKWARD) >= 0) avcodec_flush_buffers(dec);
    }
    packet_ptr pkt(av_packet_alloc());
    frame_ptr frame(av_frame_alloc());
    for (int n = 0; n < max_packets; ++n) {
        int r = av_read_frame(in, pkt.get());
        if (r < 0) {
            avcodec_send_packet(dec, nullptr);  // drain
        } else if (pkt->stream_index != index) {
            av_packet_unref(pkt.get());
            continue;
        } else {
            avcodec_send_packet(dec, pkt.get());
            av_packet_unref(pkt.get());
        }
        int got = avcodec_receive_frame(dec, frame.get());
        if (got == 0) return frame;
        if (r < 0) break;
    }
    return {};
}

result<void> write_thumbnail(const AVFrame* f, const std::filesystem::path& out) {
    int w = std::min(thumbnail_width, f->width);
    int h = std::max(2, static_cast<int>(static_cast<int64_t>(f->height) * w / std::max(1, f->width)) & ~1);
    w &= ~1;
    sws_ptr sws(sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), w, h, AV_PIX_FMT_YUVJ420P,
                               SWS_BICUBIC, nullptr, nullptr, nullptr));
    frame_ptr small(av_frame_alloc());
    small->format = AV_PIX_FMT_YUVJ420P;
    small->width = w;
    small->height = h;
    if (!sws || av_frame_get_buffer(small.get(), 0) < 0) {
        return error(base_errc::io, i18n::text({"cannot scale the thumbnail", "无法缩放缩略图"}), out.string());
    }
    sws_scale(sws.get(), f->data, f->linesize, 0, f->height, small->data, small->linesize);
    const AVCodec* enc = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    codec_ptr c(enc ? avcodec_alloc_context3(enc) : nullptr);
    if (!c)
        return error(base_errc::not_found, i18n::text({"no JPEG encoder in libavcodec", "libavcodec 无 JPEG 编码器"}));
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->time_base = AVRational{1, 25};
    if (avcodec_open2(c.get(), enc, nullptr) < 0 || avcodec_send_frame(c.get(), small.get()) < 0) {
        return error(base_errc::io, i18n::text({"cannot encode the thumbnail", "无法编码缩略图"}), out.string());
    }
    avcodec_send_frame(c.get(), nullptr);
    packet_ptr pkt(av_packet_alloc());
    if (avcodec_receive_packet(c.get(), pkt.get()) < 0) {
        return error(base_errc::io, i18n::text({"cannot encode the thumbnail", "无法编码缩略图"}), out.string());
    }
    return write_file_atomic(
        out, std::string_view(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size)));
}

}  // namespace

result<probe_info> probe_file(const std::filesystem::path& file, const std::filesystem::path& thumbnail, expect what) {
    AVFormatContext* raw = nullptr;
    if (int r = avformat_open_input(&raw, file.c_str(), nullptr, nullptr); r < 0) {
        return unreadable(file, av_message(r));
    }
    input_ptr in(raw);
    if (int r = avformat_find_stream_info(in.get(), nullptr); r < 0) return unreadable(file, av_message(r));
    probe_info info;
    info.format = in->iformat->name;
    if (in->duration != AV_NOPTS_VALUE && in->duration > 0) {
        info.duration_s = static_cast<double>(in->duration) / AV_TIME_BASE;
    }
    int video = -1, audio = -1;
    for (unsigned i = 0; i < in->nb_streams; ++i) {
        const AVCodecParameters* p = in->streams[i]->codecpar;
        stream_info s;
        const char* type = av_get_media_type_string(p->codec_type);
        s.type = type ? type : "unknown";
        s.codec = avcodec_get_name(p->codec_id);
        if (p->codec_type == AVMEDIA_TYPE_VIDEO) {
            s.width = p->width;
            s.height = p->height;
            // A cover picture (attached to an audio file) is a picture, not a video.
            if (video < 0 && (in->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0) {
                video = static_cast<int>(i);
            }
        } else if (p->codec_type == AVMEDIA_TYPE_AUDIO) {
            s.sample_rate = p->sample_rate;
            s.channels = p->ch_layout.nb_channels;
            if (audio < 0) audio = static_cast<int>(i);
        }
        info.streams.push_back(std::move(s));
    }
    if (video < 0 && audio < 0) return unreadable(file, "no picture and no sound");
    if (what == expect::video && video < 0) return unreadable(file, "a video without a picture");
    if (what == expect::audio && audio < 0) return unreadable(file, "audio without a sound stream");
    // The first picture (after a tenth of the way in, past title cards) or sound must decode.
    int index = video >= 0 && what != expect::audio ? video : audio;
    codec_ptr dec = open_decoder(in->streams[index]);
    if (!dec) {
        return unreadable(file,
                          fmt::format("no decoder for {}", avcodec_get_name(in->streams[index]->codecpar->codec_id)));
    }
    bool picture = index == video;
    double seek_to = picture ? std::min(info.duration_s / 10, 10.0) : 0;
    frame_ptr frame = first_frame(in.get(), index, dec.get(), seek_to);
    if (!frame && seek_to > 0) {
        av_seek_frame(in.get(), index, 0, AVSEEK_FLAG_BACKWARD);
        avcodec_flush_buffers(dec.get());
        frame = first_frame(in.get(), index, dec.get(), 0);
    }
    if (!frame) return unreadable(file, picture ? "no picture decodes" : "no sound decodes");
    if (picture && !thumbnail.empty()) {
        if (auto w = write_thumbnail(frame.get(), thumbnail); !w) return w.error();
        info.thumbnail = true;
    }
    return info;
}

}  // namespace bbt::media::ffmpeg
