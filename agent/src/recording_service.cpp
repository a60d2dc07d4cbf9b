#include "bbt/agent/recording_service.hpp"
#include "bbt/base/run_on.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/utf8.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/statvfs.h>

#include <ctime>
#include <limits>

namespace bbt::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const log::category lg{"recorder"};

// A name for the file: the local time it started, and the lesson, made safe for a file name.
std::string file_name(int64_t wall_us, std::string lesson) {
    std::time_t t = static_cast<std::time_t>(wall_us / 1'000'000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
    for (auto& c : lesson) {
        if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
    }
    // At most 80 bytes, never cut inside a character.
    lesson.resize(utf8::cut(lesson, 80).size());
    return lesson.empty() ? fmt::format("{}.mp4", when) : fmt::format("{}-{}.mp4", when, lesson);
}

// HH:MM of a time (seconds since the epoch), local.
std::string local_hhmm(int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::localtime_r(&tt, &tm);
    return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

}  // namespace

std::optional<protocol::lesson> lesson_to_record(const std::vector<protocol::lesson>& lessons, int64_t now) {
    const protocol::lesson* best = nullptr;
    for (const auto& l : lessons) {
        if (l.record && l.start <= now && now < l.end && (best == nullptr || l.start > best->start)) best = &l;
    }
    if (best == nullptr) return std::nullopt;
    return *best;
}

recording_service::recording_service(asio::any_io_executor control, agent_config::recorder_config config,
                                     ledger_service& ledger, links with)
    : control_(control),
      config_(std::move(config)),
      ledger_(ledger),
      uploader_(
          control, config_, ledger, std::move(with.send),
          [this](const fs::path& p) {
              // Being written or being finished: not uploaded yet.
              return busy_ || (current_ && p == fs::path(file_.string() + ".part.mp4"));
          },
          std::move(with.lesson_on)),
      tick_(control),
      lessons_(std::move(with.lessons)),
      class_on_(std::move(with.class_on)) {}

recording_service::~recording_service() { worker_.join(); }

asio::awaitable<result<void>> recording_service::start() {
    std::error_code ec;
    fs::create_directories(config_.dir, ec);
    if (ec) {
        co_return errno_error(ec.value(), i18n::text({"creating the recordings folder", "创建录像目录"}),
                              config_.dir.string());
    }
    // What a power cut interrupted stays, readable, as NAME.mp4.part.mp4;
    // one cut before its first fragment was written holds nothing and goes.
    std::vector<fs::path> empty;
    for (const auto& e : fs::directory_iterator(config_.dir, ec)) {
        if (!e.path().string().ends_with(".part.mp4")) continue;
        std::error_code size_ec;
        if (fs::file_size(e.path(), size_ec) == 0 && !size_ec) {
            empty.push_back(e.path());
        } else {
            log::warning(lg, "{} was interrupted (a power cut or a crash); it is kept, readable up to its last second",
                         e.path().filename().string());
        }
    }
    for (const auto& p : empty) {
        log::warning(lg, "{} was interrupted before its first second was on the disk; nothing to keep, removed",
                     p.filename().string());
        fs::remove(p, ec);
        fs::remove(facts_path(p), ec);
    }
    asio::co_spawn(control_, watch(), asio::detached);
    uploader_.start();
    co_return result<void>{};
}

asio::awaitable<void> recording_service::stop() {
    tick_.cancel();
    uploader_.stop();
    if (current_) (void)co_await finish("the agent stops");
}

int64_t recording_service::free_mb() const {
    struct statvfs fsinfo {};
    if (::statvfs(config_.dir.c_str(), &fsinfo) != 0) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(fsinfo.f_bavail) * static_cast<int64_t>(fsinfo.f_frsize) / (1 << 20);
}

asio::awaitable<result<recorder_status>> recording_service::start_recording(std::string lesson) {
    if (scheduled_) {
        co_return error(std::make_error_code(std::errc::device_or_resource_busy),
                        i18n::format({"the timetable is recording \"{}\" until {}; a recording of your own can start "
                                      "after it",
                                      "课表正在录制“{}”，直到 {}；之后才能另行录制"},
                                     scheduled_->summary, local_hhmm(scheduled_->end)));
    }
    if (current_ || busy_) {
        co_return error(std::make_error_code(std::errc::device_or_resource_busy),
                        i18n::format({"a recording is running already ({}); stop it first: bbtctl record stop",
                                      "已在录制（{}）；请先停止：bbtctl record stop"},
                                     file_.filename().string()));
    }
    co_return co_await begin(std::move(lesson), std::nullopt);
}

asio::awaitable<result<recorder_status>> recording_service::begin(std::string lesson,
                                                                  std::optional<scheduled> by_timetable) {
    // The name comes from a person or a timetable file: valid UTF-8, bounded.
    lesson = utf8::clean(lesson, 400);
    // The disk guard: no recording starts that would soon have to stop.
    if (int64_t free = free_mb(); free < config_.min_free_mb) {
        last_error_ =
            i18n::format({"the disk holds only {} MiB free, below recorder.min_free_mb ({} MiB); nothing is "
                          "recorded until recordings are uploaded or space is freed",
                          "磁盘仅剩 {} MiB，低于 recorder.min_free_mb（{} MiB）；在上传录像或释放空间之前不会录制"},
                         free, config_.min_free_mb);
        log::error(lg, "{}", last_error_);
        ledger_.outbox_put(clock::wall_now().count(),
                           protocol::county::alert{"recorder", "recorder.disk-full", "warning", last_error_, true});
        co_return error(std::make_error_code(std::errc::no_space_on_device), last_error_);
    }
    std::string name = lesson;
    if (by_timetable && by_timetable->part > 1) name += fmt::format("-part{}", by_timetable->part);
    media::recorder_options o;
    o.video = {config_.video_format, config_.video_input, config_.video_options};
    o.screen = {config_.screen_format, config_.screen_input, config_.screen_options};
    o.picture_in_picture = config_.picture_in_picture;
    o.audio = {config_.audio_format, config_.audio_input, config_.audio_options};
    int64_t wall = clock::wall_now().count();
    o.output = config_.dir / file_name(wall, name);
    o.width = static_cast<int>(config_.width);
    o.height = static_cast<int>(config_.height);
    o.fps = static_cast<int>(config_.fps);
    o.video_bitrate = config_.video_bitrate_kbit * 1000;
    o.preset = config_.preset;
    o.encoder = config_.encoder;
    o.audio_bitrate = config_.audio_bitrate_kbit * 1000;
    // Test sources are paced as a camera would be.
    o.realtime = true;
    busy_ = true;
    auto open = [o] { return media::start_recording(o); };
    auto rec = co_await run_on<result<std::unique_ptr<media::recording>>>(worker_, std::move(open));
    busy_ = false;
    if (!rec) {
        last_error_ = rec.error().what();
        log::error(lg, "cannot start recording: {}", last_error_);
        co_return rec.error();
    }
    current_ = std::move(*rec);
    file_ = o.output;
    lesson_ = lesson;
    started_wall_us_ = wall;
    started_ = std::chrono::steady_clock::now();
    last_error_.clear();
    scheduled_ = std::move(by_timetable);
    // What a power cut would leave, described already: its lesson and part.
    if (auto r = save_facts(config_.dir, facts_of(file_.filename().string() + ".part.mp4")); !r) {
        log::warning(lg, "{}", r.error().what());
    }
    log::notice(lg, "recording {}", file_.string());
    ledger_.record("recorder", "recording");
    ledger_.outbox_put(wall, protocol::county::event{"recorder", "recording-started", file_.filename().string()});
    co_return status();
}

asio::awaitable<result<media::recording_status>> recording_service::finish(std::string why) {
    busy_ = true;
    std::shared_ptr<media::recording> rec(std::move(current_));
    auto end = [rec] { return rec->stop(); };
    auto done = co_await run_on<result<media::recording_status>>(worker_, std::move(end));
    busy_ = false;
    ledger_.record("recorder", "idle");
    // What is known of it, for its upload; the file finished, or what a
    // failure left readable.
    std::error_code ec;
    bool whole = fs::exists(file_, ec);
    auto facts = facts_of(file_.filename().string() + (whole ? "" : ".part.mp4"));
    if (done) facts.duration_s = done->duration_s;
    facts.bytes = static_cast<int64_t>(fs::file_size(config_.dir / facts.file, ec));
    if (ec) facts.bytes = 0;
    if (auto r = save_facts(config_.dir, facts); !r) log::warning(lg, "{}", r.error().what());
    // The county hears of it now; its hash and upload follow.
    auto said = recording_message(facts, whole ? "recorded" : "interrupted");
    said.sha256.clear();
    ledger_.outbox_put(clock::wall_now().count(), said);
    if (whole) fs::remove(facts_path(fs::path(file_.string() + ".part.mp4")), ec);
    scheduled_.reset();
    by_class_ = false;
    if (mic_silent_) silence_alarm({});  // the recording is over: so is the alarm
    uploader_.wake();
    if (!done) {
        last_error_ = done.error().what();
        log::error(lg, "the recording {} ended badly ({}): {}; what was written stays in {}.part.mp4",
                   file_.filename().string(), why, last_error_, file_.filename().string());
        ledger_.outbox_put(clock::wall_now().count(), protocol::county::alert{"recorder", "recorder.failed", "warning",
                                                                              utf8::clean(last_error_, 400), true});
        co_return done;
    }
    log::notice(lg, "recorded {}: {:.1f} s, {} bytes ({})", file_.filename().string(), done->duration_s, done->bytes,
                why);
    co_return done;
}

asio::awaitable<result<recording_done>> recording_service::stop_recording(bool force) {
    if (!current_) {
        co_return error(std::make_error_code(std::errc::no_such_process),
                        i18n::text({"nothing is being recorded", "当前没有在录制"}));
    }
    if (scheduled_) {
        if (!force) {
            co_return error(std::make_error_code(std::errc::operation_not_permitted),
                            i18n::format({"the timetable records \"{}\" until {}; to stop it anyway: bbtctl record "
                                          "stop --force",
                                          "课表要求录制“{}”直到 {}；如仍要停止：bbtctl record stop --force"},
                                         scheduled_->summary, local_hhmm(scheduled_->end)));
        }
        // Not started again for this lesson.
        stopped_by_hand_.insert(scheduled_->key);
        log::notice(lg, "the timetable's recording of \"{}\" was stopped by hand", scheduled_->summary);
    }
    auto file = file_;
    auto done = co_await finish("stopped by bbtctl");
    if (!done) co_return done.error();
    co_return recording_done{file, *done};
}

recording_facts recording_service::facts_of(std::string file) const {
    recording_facts f;
    f.file = std::move(file);
    f.lesson = lesson_;
    f.started_us = started_wall_us_;
    if (scheduled_) {
        f.lesson_key = scheduled_->key;
        f.part = scheduled_->part;
    }
    return f;
}

asio::awaitable<void> recording_service::follow_timetable() {
    if (!lessons_) co_return;
    int64_t now = clock::wall_now().count() / 1'000'000;
    auto due = lesson_to_record(lessons_(), now);
    std::string key = due ? fmt::format("{}@{}", due->uid, due->start) : std::string();
    if (current_ && scheduled_ && scheduled_->key != key) {
        co_await finish(scheduled_->end <= now ? "the lesson ended" : "the timetable no longer has the lesson now");
    }
    if (!due || stopped_by_hand_.contains(key) || busy_) co_return;
    if (current_ && scheduled_) co_return;  // recording it
    // A refused start (no room, no camera) is tried again once a minute.
    if (std::chrono::steady_clock::now() - low_disk_since_ < 60s) co_return;
    if (current_) {
        // The timetable wins over a recording started by hand.
        co_await finish(fmt::format("the timetable's lesson \"{}\" begins", due->summary));
    }
    scheduled s{key, due->summary, due->end, 1};
    // After a restart within the lesson, the next part.
    for (const auto& f : uploader_.all())
        if (f.lesson_key == key) s.part = std::max<int>(s.part, static_cast<int>(f.part) + 1);
    log::notice(lg, "the timetable's lesson \"{}\" is to be recorded until {}{}", due->summary, local_hhmm(due->end),
                s.part > 1 ? fmt::format(" (part {})", s.part) : "");
    auto r = co_await begin(due->summary, s);
    if (!r) {
        low_disk_since_ = std::chrono::steady_clock::now();
        log::error(lg, "cannot record the timetable's lesson \"{}\": {}", due->summary, r.error().what());
    }
}

void recording_service::silence_alarm(const media::recording_status& s) {
    if (config_.audio_format.empty() || config_.silence_alarm.count() == 0) return;
    bool silent = s.silent_s * 1000 >= static_cast<double>(config_.silence_alarm.count());
    if (silent == mic_silent_) return;
    mic_silent_ = silent;
    auto text = silent ? i18n::format({"the microphone has been silent for {:.0f} s while recording: is it muted, "
                                       "turned down or unplugged?",
                                       "录制中麦克风已静音 {:.0f} 秒：是否被静音、音量过低或未连接？"},
                                      s.silent_s)
                       : std::string(i18n::text({"the microphone is heard again", "麦克风恢复有声"}));
    if (silent) {
        log::warning(lg, "{}", text);
    } else {
        log::notice(lg, "{}", text);
    }
    ledger_.outbox_put(clock::wall_now().count(),
                       protocol::county::alert{"recorder", "recorder.microphone-silent", "warning", text, silent});
}

asio::awaitable<void> recording_service::follow_class() {
    if (!config_.with_class || !class_on_) co_return;
    bool on = class_on_();
    bool began = on && !class_was_on_, ended = !on && class_was_on_;
    class_was_on_ = on;
    if (began && !current_) {
        // Named after the timetable's lesson when one is on.
        std::string lesson = "class";
        int64_t now = clock::wall_now().count() / 1'000'000;
        if (lessons_) {
            for (const auto& l : lessons_())
                if (l.start <= now && now < l.end) lesson = l.summary;
        }
        log::notice(lg, "the class began: recording \"{}\" (recorder.with_class)", lesson);
        if (auto r = co_await begin(lesson, std::nullopt)) {
            by_class_ = true;
        } else {
            log::error(lg, "cannot record the class: {}", r.error().what());
        }
    } else if (ended && current_ && by_class_ && !scheduled_) {
        co_await finish("the class ended");
    }
}

asio::awaitable<void> recording_service::watch() {
    for (;;) {
        tick_.expires_after(1s);
        auto [ec] = co_await tick_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        if (!busy_) co_await follow_timetable();
        if (!busy_) co_await follow_class();
        if (!current_ || busy_) continue;
        silence_alarm(current_->status());
        if (auto why = current_->failure(); !why.empty()) {
            co_await finish(why);
        } else if (std::chrono::steady_clock::now() - started_ >= config_.max_duration) {
            co_await finish("the longest a recording may be (recorder.max_duration)");
        } else if (int64_t free = free_mb(); free < config_.min_free_mb) {
            // The disk guard: a clean stop while the file can still be finished.
            auto full = i18n::format({"the disk is nearly full ({} MiB free, recorder.min_free_mb is {} MiB): the "
                                      "recording was stopped and kept",
                                      "磁盘将满（剩余 {} MiB，recorder.min_free_mb 为 {} MiB）：录制已停止并保存"},
                                     free, config_.min_free_mb);
            log::error(lg, "{}", full);
            ledger_.outbox_put(clock::wall_now().count(),
                               protocol::county::alert{"recorder", "recorder.disk-full", "warning", full, true});
            low_disk_since_ = std::chrono::steady_clock::now();
            co_await finish(full);
            last_error_ = full;
        }
    }
}

recorder_status recording_service::status() const {
    recorder_status o;
    o.recording = current_ != nullptr;
    o.busy = busy_;
    o.dir = config_.dir;
    if (scheduled_)
        o.scheduled = recorder_status::by_timetable{scheduled_->summary, scheduled_->end * 1'000'000, scheduled_->part};
    if (current_) {
        o.file = file_;
        o.started_us = started_wall_us_;
        o.now = current_->status();
        o.has_sound = !config_.audio_format.empty();
        o.microphone_silent = mic_silent_;
    }
    o.last_error = last_error_;
    return o;
}

result<std::vector<recording_entry>> recording_service::list() const {
    std::map<std::string, recording_facts> facts;
    for (auto& f : uploader_.all())
        facts.emplace(f.file, std::move(f));
    std::vector<recording_entry> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(config_.dir, ec)) {
        auto name = e.path().filename().string();
        if (!name.ends_with(".mp4") || name.ends_with(".tmp.mp4")) continue;
        bool interrupted = name.ends_with(".part.mp4");
        if (interrupted && current_ && e.path() == fs::path(file_.string() + ".part.mp4")) continue;  // the running one
        recording_entry r{e.path(), static_cast<int64_t>(e.file_size(ec)), interrupted, std::nullopt};
        if (auto it = facts.find(name); it != facts.end()) {
            r.facts = std::move(it->second);
            facts.erase(it);
        }
        out.push_back(std::move(r));
    }
    if (ec) {
        return errno_error(ec.value(), i18n::text({"listing the recordings", "列出录像"}), config_.dir.string());
    }
    // Recordings the county has and that were deleted here.
    for (auto& [name, f] : facts) {
        if (f.deleted_us == 0) continue;
        out.push_back({config_.dir / name, f.bytes, name.ends_with(".part.mp4"), std::move(f)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file.string() < b.file.string(); });
    return out;
}

}  // namespace bbt::agent
