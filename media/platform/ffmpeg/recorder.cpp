// The recorder: libavdevice inputs -> decode -> libswscale / libswresample ->
// libx264 and AAC -> fragmented MP4, synced as each fragment closes; a
// stream-copy remux into a normal MP4 on a clean stop.
#include "bbt/media/recorder.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/media/source_clock.hpp"
#include "ffmpeg.hpp"
#include "raii.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

namespace bbt::media::ffmpeg {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

error av_error(int err, std::string_view what, std::string_view where) {
    return error(av_code(err), fmt::format("{}: {}", what, av_message(err)), where);
}

// "a=1:b=2" -> a dictionary.
AVDictionary* options_of(const std::string& text) {
    AVDictionary* d = nullptr;
    if (!text.empty()) av_dict_parse_string(&d, text.c_str(), "=", ":", 0);
    return d;
}

// One source: its demuxer, the stream used and its decoder; one packet read ahead.
struct input {
    input_ptr fmt;
    int stream = -1;
    codec_ptr dec;
    packet_ptr pkt{av_packet_alloc()};
    frame_ptr frame{av_frame_alloc()};
    bool have_packet = false;
    bool eof = false;
    bool clocked = false;         // its clock known, from its first timestamp
    source_clock clock;           // which clock it stamps on
    int64_t wall_minus_mono = 0;  // the clocks' difference when the packet ahead was read, us
    int64_t start_mono = 0;       // the recording's start on the monotonic clock, us

    [[nodiscard]] AVRational tb() const { return fmt->streams[stream]->time_base; }
    // Seconds since the recording's start, on the common clock.
    [[nodiscard]] double seconds(int64_t ts) const {
        if (ts == AV_NOPTS_VALUE || !clocked) return 0;
        return clock.seconds(av_rescale_q(ts, tb(), AV_TIME_BASE_Q), wall_minus_mono, start_mono);
    }
    // Reads the next packet of the stream used; false at the end.
    bool peek() {
        while (!have_packet && !eof) {
            int r = av_read_frame(fmt.get(), pkt.get());
            if (r == AVERROR(EAGAIN)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
            if (r < 0) {
                eof = true;
                break;
            }
            if (pkt->stream_index != stream) {
                av_packet_unref(pkt.get());
                continue;
            }
            // av_gettime() is the wall clock, av_gettime_relative() the monotonic one.
            int64_t mono = av_gettime_relative();
            wall_minus_mono = av_gettime() - mono;
            int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
            if (!clocked && ts != AV_NOPTS_VALUE) {
                int64_t us = av_rescale_q(ts, tb(), AV_TIME_BASE_Q);
                clock = {classify_clock(us, mono + wall_minus_mono, mono), us};
                clocked = true;
            }
            have_packet = true;
        }
        return have_packet;
    }
    [[nodiscard]] double next_seconds() const { return seconds(pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts); }
};

result<input> open_input(const source& s, AVMediaType type) {
    const AVInputFormat* f = av_find_input_format(s.format.c_str());
    if (f == nullptr) {
        return error(base_errc::not_found,
                     i18n::format({"libavdevice has no input \"{}\"", "libavdevice 没有输入“{}”"}, s.format), s.input);
    }
    input in;
    AVFormatContext* raw = nullptr;
    AVDictionary* opts = options_of(s.options);
    int r = avformat_open_input(&raw, s.input.c_str(), f, &opts);
    av_dict_free(&opts);
    if (r < 0) {
        return av_error(r, i18n::text({"cannot open the recording source", "无法打开录制信号源"}),
                        s.format + ":" + s.input);
    }
    in.fmt.reset(raw);
    if ((r = avformat_find_stream_info(raw, nullptr)) < 0) {
        return av_error(r, i18n::text({"cannot read the recording source", "无法读取录制信号源"}), s.input);
    }
    in.stream = av_find_best_stream(raw, type, -1, -1, nullptr, 0);
    if (in.stream < 0) {
        return error(base_errc::not_found,
                     type == AVMEDIA_TYPE_VIDEO ? i18n::text({"the source gives no picture", "信号源没有图像"})
                                                : i18n::text({"the source gives no sound", "信号源没有声音"}),
                     s.input);
    }
    const AVCodecParameters* par = raw->streams[in.stream]->codecpar;
    const AVCodec* dec = avcodec_find_decoder(par->codec_id);
    in.dec.reset(dec ? avcodec_alloc_context3(dec) : nullptr);
    if (!in.dec || avcodec_parameters_to_context(in.dec.get(), par) < 0 ||
        avcodec_open2(in.dec.get(), dec, nullptr) < 0) {
        return error(
            base_errc::not_found,
            i18n::format({"no decoder for the source's {}", "无法解码信号源的 {}"}, avcodec_get_name(par->codec_id)),
            s.input);
    }
    return in;
}

// A picture source and its own H.264 track.
struct video_track {
    input in;
    codec_ptr enc;
    AVStream* st = nullptr;
    sws_ptr sws;
    frame_ptr scaled;
    int width = 0, height = 0, fps = 25;
    int64_t last_pts = -1;
    bool main = false;     // the camera's: its length is the recording's
    buffer_ptr hw_device;  // VAAPI: frames are uploaded to the GPU before encoding
    frame_ptr hw_frame;
};

// The picture-in-picture track: the screen and the camera through a
// libavfilter graph (screen at the track's rate and size, the camera scaled
// into its lower right corner), then their own encoder.
struct composer {
    graph_ptr graph;
    AVFilterContext* screen = nullptr;  // the graph's sources
    AVFilterContext* camera = nullptr;
    AVFilterContext* sink = nullptr;
    video_track track;
    frame_ptr out{av_frame_alloc()};
    bool broken = false;  // the graph failed: the other tracks go on without it
};

class recorder final : public recording {
public:
    explicit recorder(recorder_options o) : o_(std::move(o)) {}
    ~recorder() override {
        if (thread_.joinable()) {
            stop_.store(true);
            thread_.join();
        }
        if (sync_fd_ >= 0) ::close(sync_fd_);
    }

    result<void> open() {
        avdevice_register_all();
        // libav's own chatter (x264's statistics ...) stays out of the agent's log; errors come back as results.
        av_log_set_level(AV_LOG_ERROR);
        for (const auto* src : {&o_.video, &o_.screen}) {
            if (src->format.empty()) continue;
            auto v = open_input(*src, AVMEDIA_TYPE_VIDEO);
            if (!v) return v.error();
            auto t = std::make_unique<video_track>();
            t->in = std::move(*v);
            t->main = src == &o_.video;
            videos_.push_back(std::move(t));
        }
        if (!o_.audio.format.empty()) {
            auto a = open_input(o_.audio, AVMEDIA_TYPE_AUDIO);
            if (!a) return a.error();
            audio_ = std::move(*a);
            has_audio_ = true;
        }
        part_ = o_.output.string() + ".part.mp4";
        AVFormatContext* raw = nullptr;
        int r = avformat_alloc_output_context2(&raw, nullptr, "mp4", part_.c_str());
        if (r < 0) return av_error(r, "mp4", part_.string());
        out_.reset(raw);
        for (auto& t : videos_) {
            if (auto e = open_video_encoder(*t); !e) return e;
        }
        if (o_.picture_in_picture) {
            if (auto e = open_composer(); !e) return e;
        }
        if (has_audio_) {
            if (auto e = open_audio_encoder(); !e) return e;
        }
        if ((r = avio_open(&out_->pb, part_.c_str(), AVIO_FLAG_WRITE)) < 0) {
            return av_error(r, i18n::text({"cannot write the recording", "无法写入录像文件"}), part_.string());
        }
        sync_fd_ = ::open(part_.c_str(), O_WRONLY | O_CLOEXEC);
        AVDictionary* mux = nullptr;
        av_dict_set(&mux, "movflags", "+frag_keyframe+empty_moov+delay_moov+default_base_moof", 0);
        av_dict_set_int(&mux, "frag_duration", static_cast<int64_t>(o_.fragment.count()) * 1000, 0);
        r = avformat_write_header(out_.get(), &mux);
        av_dict_free(&mux);
        if (r < 0) return av_error(r, i18n::text({"cannot write the recording", "无法写入录像文件"}), part_.string());
        sync();
        written_ = avio_tell(out_->pb);
        start_ = steady::now();
        // The common clock's zero: what a live source took before now is left out.
        int64_t start_mono = av_gettime_relative();
        for (auto& t : videos_)
            t->in.start_mono = start_mono;
        audio_.start_mono = start_mono;
        thread_ = std::thread([this] { run(); });
        return {};
    }

    result<recording_status> stop() override {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
        std::string why = failure();
        if (!why.empty()) return error(base_errc::io, why, part_.string());
        if (auto r = finish(); !r) return r.error();
        return status();
    }

    recording_status status() const override {
        std::lock_guard lock(m_);
        return status_;
    }

    std::string failure() const override {
        std::lock_guard lock(m_);
        return failure_;
    }

private:
    // Opens the encoder `name` for the track, with the cap, one keyframe per
    // fragment and no frame held back.
    result<void> open_encoder(video_track& t, const std::string& name) {
        const AVCodec* enc = avcodec_find_encoder_by_name(name.c_str());
        if (enc == nullptr) return error(base_errc::not_found, i18n::text({"not in this FFmpeg", "此 FFmpeg 中没有"}));
        t.enc.reset(avcodec_alloc_context3(enc));
        auto* c = t.enc.get();
        c->width = t.width;
        c->height = t.height;
        c->pix_fmt = AV_PIX_FMT_YUV420P;
        c->time_base = AVRational{1, t.fps};
        c->framerate = AVRational{t.fps, 1};
        // One keyframe per fragment, so that each fragment starts one and closes on time.
        c->gop_size = std::max(1, static_cast<int>(t.fps * o_.fragment.count() / 1000));
        c->keyint_min = c->gop_size;
        c->max_b_frames = 0;
        c->bit_rate = o_.video_bitrate;
        c->rc_max_rate = o_.video_bitrate;
        c->rc_buffer_size = static_cast<int>(o_.video_bitrate * 2);
        if ((out_->oformat->flags & AVFMT_GLOBALHEADER) != 0) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        AVDictionary* opts = nullptr;
        if (name == "libx264") {
            av_dict_set(&opts, "preset", o_.preset.c_str(), 0);
            // No look-ahead: a frame is in the file's next fragment, not held in the encoder.
            av_dict_set(&opts, "tune", "zerolatency", 0);
            av_dict_set(&opts, "x264-params", "scenecut=0", 0);
        } else if (name == "h264_vaapi") {
            // Frames go to the GPU as NV12 surfaces.
            AVBufferRef* dev = nullptr;
            int r = av_hwdevice_ctx_create(&dev, AV_HWDEVICE_TYPE_VAAPI, o_.vaapi_device.c_str(), nullptr, 0);
            if (r < 0) {
                return av_error(r, i18n::text({"the GPU (VAAPI) cannot be opened", "无法打开 GPU（VAAPI）"}),
                                o_.vaapi_device);
            }
            t.hw_device.reset(dev);
            buffer_ptr frames(av_hwframe_ctx_alloc(dev));
            if (!frames) return error(base_errc::io, "VAAPI frames");
            auto* fc = reinterpret_cast<AVHWFramesContext*>(frames->data);
            fc->format = AV_PIX_FMT_VAAPI;
            fc->sw_format = AV_PIX_FMT_NV12;
            fc->width = t.width;
            fc->height = t.height;
            fc->initial_pool_size = 8;
            if ((r = av_hwframe_ctx_init(frames.get())) < 0) return av_error(r, "VAAPI frames", o_.vaapi_device);
            c->pix_fmt = AV_PIX_FMT_VAAPI;
            c->hw_frames_ctx = av_buffer_ref(frames.get());
        }
        // A missing device makes the hardware encoders complain; the reason comes back as the result.
        int level = av_log_get_level();
        if (name != "libx264") av_log_set_level(AV_LOG_QUIET);
        int r = avcodec_open2(c, enc, &opts);
        av_log_set_level(level);
        av_dict_free(&opts);
        if (r < 0) return av_error(r, i18n::text({"cannot open the H.264 encoder", "无法打开 H.264 编码器"}), name);
        return {};
    }

    // The camera's track takes the size asked for; the screen's keeps its own.
    result<void> open_video_encoder(video_track& t) {
        const AVCodecParameters* par = t.in.fmt->streams[t.in.stream]->codecpar;
        t.width = o_.width > 0 && t.main ? o_.width : par->width;
        t.height = o_.height > 0 && t.main ? o_.height : par->height;
        AVRational rate = av_guess_frame_rate(t.in.fmt.get(), t.in.fmt->streams[t.in.stream], nullptr);
        t.fps = o_.fps > 0 ? o_.fps : (rate.num > 0 && rate.den > 0 ? (rate.num + rate.den / 2) / rate.den : 25);
        return open_track(t, t.main ? "Camera" : "Screen");
    }

    // The track's H.264 encoder and its stream in the output, named `title`.
    result<void> open_track(video_track& t, const char* title) {
        // Hardware first where the machine has it; libx264 always works.
        std::vector<std::string> names;
        if (o_.encoder == "auto") {
            if (fs::exists(o_.vaapi_device)) names.emplace_back("h264_vaapi");
            names.emplace_back("h264_v4l2m2m");
            names.emplace_back("libx264");
        } else {
            names.push_back(o_.encoder);
        }
        std::string why;
        for (const auto& name : names) {
            auto r = open_encoder(t, name);
            if (r) {
                std::lock_guard lock(m_);
                if (t.main) status_.encoder = name;
                break;
            }
            why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", name, r.error().what());
            t.enc.reset();
            t.hw_device.reset();
        }
        if (!t.enc) {
            return error(
                base_errc::not_found,
                i18n::format({"no H.264 encoder could be opened ({})", "无法打开任何 H.264 编码器（{}）"}, why));
        }
        t.st = avformat_new_stream(out_.get(), nullptr);
        t.st->time_base = t.enc->time_base;
        avcodec_parameters_from_context(t.st->codecpar, t.enc.get());
        // Players show the camera; the screen is the second picture.
        t.st->disposition = t.main ? AV_DISPOSITION_DEFAULT : 0;
        av_dict_set(&t.st->metadata, "handler_name", title, 0);
        std::lock_guard lock(m_);
        status_.tracks.emplace_back(title);
        return {};
    }

    result<void> open_composer() {
        if (videos_.size() < 2) {
            return error(base_errc::config_value,
                         i18n::text({"picture-in-picture needs the screen as a source (recorder.screen_format)",
                                     "画中画需要屏幕信号源（recorder.screen_format）"}));
        }
        const video_track& camera = *videos_[0];
        const video_track& screen = *videos_[1];
        auto c = std::make_unique<composer>();
        c->track.width = camera.width;
        c->track.height = camera.height;
        c->track.fps = camera.fps;
        if (auto r = open_track(c->track, "Composed"); !r) return r;
        c->graph.reset(avfilter_graph_alloc());
        auto source_args = [](const AVCodecContext* d) {
            AVPixelFormat f = d->pix_fmt == AV_PIX_FMT_NONE ? AV_PIX_FMT_YUV420P : d->pix_fmt;
            return fmt::format("video_size={}x{}:pix_fmt={}:time_base=1/1000000:pixel_aspect=1/1", d->width, d->height,
                               static_cast<int>(f));
        };
        auto fail_graph = [](int r) {
            return av_error(r, i18n::text({"cannot make the picture-in-picture", "无法生成画中画"}), "libavfilter");
        };
        int r = avfilter_graph_create_filter(&c->screen, avfilter_get_by_name("buffer"), "screen",
                                             source_args(screen.in.dec.get()).c_str(), nullptr, c->graph.get());
        if (r >= 0) {
            r = avfilter_graph_create_filter(&c->camera, avfilter_get_by_name("buffer"), "camera",
                                             source_args(camera.in.dec.get()).c_str(), nullptr, c->graph.get());
        }
        if (r >= 0) {
            r = avfilter_graph_create_filter(&c->sink, avfilter_get_by_name("buffersink"), "out", nullptr, nullptr,
                                             c->graph.get());
        }
        if (r < 0) return fail_graph(r);
        // The camera at a quarter of the width, its own shape kept, inset by a fortieth.
        const int w = c->track.width, h = c->track.height;
        const int cw = std::max(2, camera.in.dec->width), ch = std::max(2, camera.in.dec->height);
        const int pw = std::max(2, (w / 4) & ~1);
        const int ph = std::max(2, static_cast<int>(std::lround(static_cast<double>(pw) * ch / cw)) & ~1);
        const int margin = (w / 40) & ~1;
        std::string graph = fmt::format(
            "[screen]fps={},scale={}:{}[bg];[camera]scale={}:{}[pip];"
            "[bg][pip]overlay=x={}:y={}:eof_action=repeat:repeatlast=1,format=yuv420p[out]",
            c->track.fps, w, h, pw, ph, w - pw - margin, h - ph - margin);
        // The graph's open ends: our two sources feed it, our sink drains it.
        inout_ptr outputs(avfilter_inout_alloc());
        inout_ptr second(avfilter_inout_alloc());
        inout_ptr inputs(avfilter_inout_alloc());
        if (!outputs || !second || !inputs) return fail_graph(AVERROR(ENOMEM));
        outputs->name = av_strdup("screen");
        outputs->filter_ctx = c->screen;
        second->name = av_strdup("camera");
        second->filter_ctx = c->camera;
        inputs->name = av_strdup("out");
        inputs->filter_ctx = c->sink;
        outputs->next = second.release();
        AVFilterInOut* in_raw = inputs.release();
        AVFilterInOut* out_raw = outputs.release();
        r = avfilter_graph_parse_ptr(c->graph.get(), graph.c_str(), &in_raw, &out_raw, nullptr);
        avfilter_inout_free(&in_raw);
        avfilter_inout_free(&out_raw);
        if (r >= 0) r = avfilter_graph_config(c->graph.get(), nullptr);
        if (r < 0) return fail_graph(r);
        composer_ = std::move(c);
        return {};
    }

    // A picture of the camera or the screen (at `at` on the common clock)
    // into the picture-in-picture, and what comes out of it encoded. A
    // failing graph ends only its own track.
    bool compose(AVFrame* frame, bool camera, double at) {
        if (!composer_ || composer_->broken || at < 0) return true;
        auto& c = *composer_;
        frame->pts = std::llround(at * 1e6);
        int r = av_buffersrc_add_frame_flags(camera ? c.camera : c.screen, frame, AV_BUFFERSRC_FLAG_KEEP_REF);
        if (r < 0) {
            c.broken = true;
            return true;
        }
        return drain_composer();
    }

    bool drain_composer() {
        auto& c = *composer_;
        for (;;) {
            int r = av_buffersink_get_frame(c.sink, c.out.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return true;
            if (r < 0) {
                c.broken = true;
                return true;
            }
            double at = static_cast<double>(c.out->pts) * av_q2d(av_buffersink_get_time_base(c.sink));
            bool ok = encode_video(c.track, c.out.get(), at);
            av_frame_unref(c.out.get());
            if (!ok) return false;
        }
    }

    result<void> open_audio_encoder() {
        const AVCodec* enc = avcodec_find_encoder(AV_CODEC_ID_AAC);
        if (enc == nullptr) {
            return error(base_errc::not_found,
                         i18n::text({"libavcodec has no AAC encoder", "libavcodec 没有 AAC 编码器"}));
        }
        aenc_.reset(avcodec_alloc_context3(enc));
        auto* c = aenc_.get();
        const AVCodecParameters* par = audio_.fmt->streams[audio_.stream]->codecpar;
        c->sample_rate = 48000;
        c->sample_fmt = AV_SAMPLE_FMT_FLTP;
        if (par->ch_layout.nb_channels >= 2) {
            av_channel_layout_default(&c->ch_layout, 2);
        } else {
            av_channel_layout_default(&c->ch_layout, 1);
        }
        c->bit_rate = o_.audio_bitrate;
        c->time_base = AVRational{1, c->sample_rate};
        if ((out_->oformat->flags & AVFMT_GLOBALHEADER) != 0) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        int r = avcodec_open2(c, enc, nullptr);
        if (r < 0) return av_error(r, i18n::text({"cannot open the AAC encoder", "无法打开 AAC 编码器"}), "");
        ast_ = avformat_new_stream(out_.get(), nullptr);
        ast_->time_base = c->time_base;
        avcodec_parameters_from_context(ast_->codecpar, c);
        SwrContext* swr = nullptr;
        AVChannelLayout in_layout{};
        av_channel_layout_copy(&in_layout, &par->ch_layout);
        if (in_layout.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&in_layout, in_layout.nb_channels);
        r = swr_alloc_set_opts2(&swr, &c->ch_layout, c->sample_fmt, c->sample_rate, &in_layout,
                                static_cast<AVSampleFormat>(par->format), par->sample_rate, 0, nullptr);
        av_channel_layout_uninit(&in_layout);
        // The sound card's clock is not the system's (a crystal off by 1000 ppm
        // drifts 2.7 s in a 45-minute lesson): the sound is stretched or
        // squeezed, by at most 0.5 %, to follow its timestamps, which are on the
        // same clock as the picture's.
        if (r >= 0) {
            av_opt_set_double(swr, "async", 240, 0);
            av_opt_set_double(swr, "min_hard_comp", 0.5, 0);
        }
        if (r < 0 || swr_init(swr) < 0) {
            swr_free(&swr);
            return error(base_errc::io, i18n::text({"cannot convert the sound", "无法转换声音格式"}), o_.audio.input);
        }
        swr_.reset(swr);
        fifo_.reset(av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, c->frame_size * 4));
        return {};
    }

    // Data on the disk up to here: what a power cut may take is after it.
    void sync() {
        avio_flush(out_->pb);
        if (sync_fd_ >= 0) ::fdatasync(sync_fd_);
    }

    void fail(std::string why) {
        std::lock_guard lock(m_);
        if (failure_.empty()) failure_ = std::move(why);
    }

    bool write(AVPacket* pkt, AVStream* st, AVCodecContext* c) {
        av_packet_rescale_ts(pkt, c->time_base, st->time_base);
        pkt->stream_index = st->index;
        int r = av_interleaved_write_frame(out_.get(), pkt);
        if (r < 0) {
            fail(fmt::format(
                "{}: {}",
                i18n::text({"writing the recording failed (is the disk full?)", "写入录像失败（磁盘是否已满？）"}),
                av_message(r)));
            return false;
        }
        // The muxer keeps a fragment's samples until it closes, then writes it
        // whole: when the output grew, a fragment is complete, and goes to the disk.
        int64_t at = avio_tell(out_->pb);
        if (at != written_) {
            written_ = at;
            sync();
            std::lock_guard lock(m_);
            ++status_.fragments_synced;
            status_.bytes = at;
        }
        return true;
    }

    bool drain(AVCodecContext* c, AVStream* st) {
        packet_ptr pkt(av_packet_alloc());
        for (;;) {
            int r = avcodec_receive_packet(c, pkt.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return true;
            if (r < 0) {
                fail(av_message(r));
                return false;
            }
            if (!write(pkt.get(), st, c)) return false;
            av_packet_unref(pkt.get());
        }
    }

    bool encode_video(video_track& t, AVFrame* in, double at) {
        const bool gpu = t.enc->pix_fmt == AV_PIX_FMT_VAAPI;
        const AVPixelFormat sw_format = gpu ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P;
        if (!t.sws) {
            t.sws.reset(sws_getContext(in->width, in->height, static_cast<AVPixelFormat>(in->format), t.width, t.height,
                                       sw_format, SWS_BILINEAR, nullptr, nullptr, nullptr));
            t.scaled.reset(av_frame_alloc());
            t.scaled->format = sw_format;
            t.scaled->width = t.width;
            t.scaled->height = t.height;
            if (!t.sws || av_frame_get_buffer(t.scaled.get(), 0) < 0) {
                fail(i18n::text({"cannot scale the picture", "无法缩放图像"}).data());
                return false;
            }
        }
        auto pts = static_cast<int64_t>(at * t.fps + 0.5);
        if (pts <= t.last_pts) return true;  // two frames in one slot: the later is dropped
        t.last_pts = pts;
        av_frame_make_writable(t.scaled.get());
        sws_scale(t.sws.get(), in->data, in->linesize, 0, in->height, t.scaled->data, t.scaled->linesize);
        t.scaled->pts = pts;
        AVFrame* send = t.scaled.get();
        if (gpu) {
            if (!t.hw_frame) t.hw_frame.reset(av_frame_alloc());
            av_frame_unref(t.hw_frame.get());
            if (av_hwframe_get_buffer(t.enc->hw_frames_ctx, t.hw_frame.get(), 0) < 0 ||
                av_hwframe_transfer_data(t.hw_frame.get(), t.scaled.get(), 0) < 0) {
                fail(i18n::text({"cannot hand the picture to the GPU encoder", "无法将图像交给 GPU 编码器"}).data());
                return false;
            }
            t.hw_frame->pts = pts;
            send = t.hw_frame.get();
        }
        if (avcodec_send_frame(t.enc.get(), send) < 0) return false;
        if (t.main) {
            std::lock_guard lock(m_);
            ++status_.video_frames;
            status_.duration_s = static_cast<double>(pts + 1) / t.fps;
        }
        return drain(t.enc.get(), t.st);
    }

    // The loudness of what is encoded, each second.
    void measure(const AVFrame* f) {
        if (f->format != AV_SAMPLE_FMT_FLTP && f->format != AV_SAMPLE_FMT_FLT) return;
        int channels = f->ch_layout.nb_channels;
        bool planar = f->format == AV_SAMPLE_FMT_FLTP;
        for (int ch = 0; ch < (planar ? channels : 1); ++ch) {
            const auto* p = reinterpret_cast<const float*>(f->data[ch]);
            int n = planar ? f->nb_samples : f->nb_samples * channels;
            for (int i = 0; i < n; ++i)
                level_sum_ += static_cast<double>(p[i]) * static_cast<double>(p[i]);
        }
        level_values_ += static_cast<int64_t>(f->nb_samples) * channels;
        level_samples_ += f->nb_samples;
        if (level_samples_ < f->sample_rate) return;
        double rms = level_values_ > 0 ? std::sqrt(level_sum_ / static_cast<double>(level_values_)) : 0;
        double db = rms > 1e-6 ? 20 * std::log10(rms) : -120;
        double seconds = static_cast<double>(level_samples_) / f->sample_rate;
        level_sum_ = 0;
        level_values_ = level_samples_ = 0;
        std::lock_guard lock(m_);
        status_.audio_level_db = db;
        status_.silent_s = db < silence_db ? status_.silent_s + seconds : 0;
    }

    bool encode_audio(AVFrame* in, double at) {
        auto* c = aenc_.get();
        const AVCodecParameters* par = audio_.fmt->streams[audio_.stream]->codecpar;
        // The samples of the first frame taken before the recording's start are left out.
        int skip = 0;
        if (in != nullptr && !audio_started_) {
            double length = static_cast<double>(in->nb_samples) / par->sample_rate;
            if (at + length <= 0) return true;
            if (at < 0) {
                skip = std::min(in->nb_samples, static_cast<int>(std::llround(-at * par->sample_rate)));
                at += static_cast<double>(skip) / par->sample_rate;
            }
            // The sound track starts where the sound did on the common clock.
            audio_start_ = std::max(at, 0.0);
            audio_samples_ = std::llround(audio_start_ * c->sample_rate);
            audio_started_ = true;
        }
        if (in != nullptr) {
            // Where this sound belongs on the track, in the units swr_next_pts() takes.
            swr_next_pts(swr_.get(), std::llround((at - audio_start_) * par->sample_rate * c->sample_rate));
        }
        int count = in ? in->nb_samples - skip : 0;
        int max_out = swr_get_out_samples(swr_.get(), count);
        if (max_out > 0) {
            std::vector<const uint8_t*> planes;
            if (in != nullptr) {
                auto format = static_cast<AVSampleFormat>(in->format);
                bool planar = av_sample_fmt_is_planar(format) != 0;
                int channels = in->ch_layout.nb_channels;
                int offset = skip * av_get_bytes_per_sample(format) * (planar ? 1 : channels);
                for (int p = 0; p < (planar ? channels : 1); ++p)
                    planes.push_back(in->extended_data[p] + offset);
            }
            uint8_t** data = nullptr;
            av_samples_alloc_array_and_samples(&data, nullptr, c->ch_layout.nb_channels, max_out, c->sample_fmt, 0);
            int n = swr_convert(swr_.get(), data, max_out, in ? planes.data() : nullptr, count);
            if (n > 0) av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(data), n);
            av_freep(&data[0]);
            av_freep(&data);
        }
        while (av_audio_fifo_size(fifo_.get()) >= c->frame_size || (!in && av_audio_fifo_size(fifo_.get()) > 0)) {
            frame_ptr f(av_frame_alloc());
            f->nb_samples = std::min(c->frame_size, av_audio_fifo_size(fifo_.get()));
            f->format = c->sample_fmt;
            av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
            f->sample_rate = c->sample_rate;
            if (av_frame_get_buffer(f.get(), 0) < 0) return false;
            av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(f->data), f->nb_samples);
            f->pts = audio_samples_;
            audio_samples_ += f->nb_samples;
            measure(f.get());
            if (avcodec_send_frame(c, f.get()) < 0) return false;
            {
                std::lock_guard lock(m_);
                ++status_.audio_frames;
            }
            if (!drain(c, ast_)) return false;
        }
        return true;
    }

    // Decodes one packet of a source and encodes what comes out.
    // `video`: the track the source feeds; none for the sound.
    bool feed(input& in, video_track* video) {
        double at = in.next_seconds();
        if (o_.realtime) {
            auto due = start_ + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(at));
            while (steady::now() < due && !stop_.load())
                std::this_thread::sleep_for(
                    std::min<steady::duration>(due - steady::now(), std::chrono::milliseconds(20)));
        }
        avcodec_send_packet(in.dec.get(), in.pkt.get());
        av_packet_unref(in.pkt.get());
        in.have_packet = false;
        for (;;) {
            int r = avcodec_receive_frame(in.dec.get(), in.frame.get());
            if (r < 0) return true;
            double frame_at = in.seconds(in.frame->best_effort_timestamp);
            bool ok = video ? encode_video(*video, in.frame.get(), frame_at) : encode_audio(in.frame.get(), frame_at);
            if (ok && video) ok = compose(in.frame.get(), video->main, frame_at);
            av_frame_unref(in.frame.get());
            if (!ok) return false;
        }
    }

    void run() {
        while (!stop_.load()) {
            // The earliest of the sources' next packets first, so that the file stays interleaved.
            video_track* next = nullptr;
            double next_at = 0;
            for (auto& t : videos_) {
                if (t->in.peek() && (next == nullptr || t->in.next_seconds() < next_at)) {
                    next = t.get();
                    next_at = t->in.next_seconds();
                }
            }
            bool a = has_audio_ && audio_.peek();
            if (next == nullptr && !a) break;
            bool take_video = next != nullptr && (!a || next_at <= audio_.next_seconds());
            if (!feed(take_video ? next->in : audio_, take_video ? next : nullptr)) break;
            // A picture source that ended stops the recording.
            bool ended = false;
            for (auto& t : videos_)
                ended = ended || t->in.eof;
            if (ended) break;
        }
        if (failure().empty()) {
            for (auto& t : videos_) {
                if (!t->in.eof) continue;
                fail(t->main ? i18n::text({"the camera stopped giving pictures", "摄像头信号中断"}).data()
                             : i18n::text({"the screen stopped giving pictures", "屏幕信号中断"}).data());
                break;
            }
        }
    }

    result<void> finish() {
        if (composer_ && !composer_->broken) {
            // The ends of both sources let the graph give out what it holds.
            if (av_buffersrc_add_frame(composer_->screen, nullptr) >= 0 &&
                av_buffersrc_add_frame(composer_->camera, nullptr) >= 0) {
                drain_composer();
            }
        }
        if (composer_) {
            avcodec_send_frame(composer_->track.enc.get(), nullptr);
            drain(composer_->track.enc.get(), composer_->track.st);
        }
        for (auto& t : videos_) {
            avcodec_send_frame(t->enc.get(), nullptr);
            drain(t->enc.get(), t->st);
        }
        if (has_audio_) {
            encode_audio(nullptr, 0);
            avcodec_send_frame(aenc_.get(), nullptr);
            drain(aenc_.get(), ast_);
        }
        int r = av_write_trailer(out_.get());
        sync();
        if (sync_fd_ >= 0) ::close(sync_fd_);
        sync_fd_ = -1;
        out_.reset();
        if (r < 0) return av_error(r, i18n::text({"cannot finish the recording", "无法完成录像文件"}), part_.string());
        return remux();
    }

    // The fragmented file, copied stream by stream into a normal MP4 with
    // its index first (players and the county's platform want that).
    result<void> remux() {
        AVFormatContext* raw = nullptr;
        int r = avformat_open_input(&raw, part_.c_str(), nullptr, nullptr);
        if (r < 0) return av_error(r, i18n::text({"cannot read the recording", "无法读取录像文件"}), part_.string());
        input_ptr in(raw);
        avformat_find_stream_info(raw, nullptr);
        std::string tmp = o_.output.string() + ".tmp.mp4";
        AVFormatContext* oraw = nullptr;
        avformat_alloc_output_context2(&oraw, nullptr, "mp4", tmp.c_str());
        output_ptr out(oraw);
        for (unsigned i = 0; i < raw->nb_streams; ++i) {
            AVStream* s = avformat_new_stream(oraw, nullptr);
            avcodec_parameters_copy(s->codecpar, raw->streams[i]->codecpar);
            s->codecpar->codec_tag = 0;
            s->time_base = raw->streams[i]->time_base;
            s->disposition = raw->streams[i]->disposition;
            av_dict_copy(&s->metadata, raw->streams[i]->metadata, 0);
        }
        if ((r = avio_open(&oraw->pb, tmp.c_str(), AVIO_FLAG_WRITE)) < 0) {
            return av_error(r, i18n::text({"cannot write the recording", "无法写入录像文件"}), tmp);
        }
        AVDictionary* mux = nullptr;
        av_dict_set(&mux, "movflags", "+faststart", 0);
        r = avformat_write_header(oraw, &mux);
        av_dict_free(&mux);
        if (r < 0) return av_error(r, i18n::text({"cannot write the recording", "无法写入录像文件"}), tmp);
        packet_ptr pkt(av_packet_alloc());
        while (av_read_frame(raw, pkt.get()) >= 0) {
            av_packet_rescale_ts(pkt.get(), raw->streams[pkt->stream_index]->time_base,
                                 oraw->streams[pkt->stream_index]->time_base);
            pkt->pos = -1;
            if ((r = av_interleaved_write_frame(oraw, pkt.get())) < 0) {
                return av_error(
                    r,
                    i18n::text({"writing the recording failed (is the disk full?)", "写入录像失败（磁盘是否已满？）"}),
                    tmp);
            }
        }
        if ((r = av_write_trailer(oraw)) < 0) return av_error(r, "mp4", tmp);
        out.reset();
        int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
        std::error_code ec;
        fs::rename(tmp, o_.output, ec);
        if (ec)
            return errno_error(ec.value(), i18n::text({"storing the recording", "保存录像文件"}), o_.output.string());
        int dir = ::open(o_.output.parent_path().empty() ? "." : o_.output.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            ::fsync(dir);
            ::close(dir);
        }
        fs::remove(part_, ec);
        return {};
    }

    recorder_options o_;
    std::vector<std::unique_ptr<video_track>> videos_;  // the camera's first
    std::unique_ptr<composer> composer_;                // picture-in-picture, when asked for
    input audio_;
    bool has_audio_ = false;
    fs::path part_;
    output_ptr out_;
    codec_ptr aenc_;
    AVStream* ast_ = nullptr;
    swr_ptr swr_;
    fifo_ptr fifo_;
    int64_t audio_samples_ = 0;  // the sound track's next pts
    bool audio_started_ = false;
    double audio_start_ = 0;  // where the sound track starts on the common clock, s
    double level_sum_ = 0;    // of squares, this second
    int64_t level_values_ = 0;
    int64_t level_samples_ = 0;
    int sync_fd_ = -1;
    int64_t written_ = 0;  // output bytes at the last sync
    steady::time_point start_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex m_;
    recording_status status_;
    std::string failure_;
};

}  // namespace

result<std::unique_ptr<recording>> start(const recorder_options& options) {
    auto r = std::make_unique<recorder>(options);
    if (auto o = r->open(); !o) return o.error();
    return std::unique_ptr<recording>(std::move(r));
}

}  // namespace bbt::media::ffmpeg
