// Lesson recording as a service of the agent: bbtctl record start|stop|
// status|ls. The recorder (media/, FFmpeg) runs on threads of its own; opening
// the sources and finishing the file (a remux of a long lesson takes seconds)
// are done on a worker thread, never on the control loop. A recording stops by
// itself at `max_duration`, and when its source or the disk fails (an alert).
// Every finished recording is a fact for the ledger's outbox (the county), and
// is uploaded to the county (recording_upload.hpp).
//
// The timetable's lessons marked X-BBT-RECORD are recorded by themselves,
// from their start to their end; the timetable wins over an ad-hoc recording
// (which is finished when such a lesson begins, and cannot be started during
// one), and a scheduled recording is stopped by hand only with force. After a
// restart in the middle of such a lesson it goes on in a new part. The disk
// guard stops a recording cleanly, with an alert, before the disk holds less
// than `recorder.min_free_mb`, and starts none below it. With
// `recorder.with_class`, the class key (or bbtctl class) starting and ending
// a class starts and ends a recording too.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/recording_upload.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/media/recorder.hpp"
#include "bbt/protocol/timetable.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace bbt::agent {

// record.status: the recorder, and the recording running if one is.
struct recorder_status {
    struct by_timetable {
        std::string lesson;
        int64_t until_us = 0;
        int part = 1;
    };
    bool recording = false;
    bool busy = false;  // starting or finishing
    std::filesystem::path dir;
    std::optional<by_timetable> scheduled;
    // Of the recording running:
    std::filesystem::path file;
    int64_t started_us = 0;
    std::optional<media::recording_status> now;
    bool has_sound = false;  // a sound source is configured
    bool microphone_silent = false;
    std::string last_error;
};

// record.ls: a recording on disk, or one the county has and that was deleted here.
struct recording_entry {
    std::filesystem::path file;
    int64_t bytes = 0;
    bool interrupted = false;              // a .part.mp4 left by a failure or a power cut
    std::optional<recording_facts> facts;  // its lesson and upload, when known
};

// record.stop: the file finished.
struct recording_done {
    std::filesystem::path file;
    media::recording_status status;
};

class recording_service final : public service {
public:
    // What the recorder needs of the rest of the set.
    struct links {
        recording_uploader::sender send;                         // reaches the county (uploads)
        std::function<bool()> lesson_on;                         // a lesson is on (uploads slow down)
        std::function<std::vector<protocol::lesson>()> lessons;  // the timetable around now (none: no schedule)
        std::function<bool()> class_on;                          // the class key's class is on (recorder.with_class)
    };
    recording_service(asio::any_io_executor control, agent_config::recorder_config config, ledger_service& ledger,
                      links with);
    ~recording_service() override;

    [[nodiscard]] std::string_view name() const override { return "recorder"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // `lesson` names the file; an error when one is running already.
    asio::awaitable<result<recorder_status>> start_recording(std::string lesson);
    // `force` stops a recording the timetable started.
    asio::awaitable<result<recording_done>> stop_recording(bool force = false);
    [[nodiscard]] recorder_status status() const;
    // Sorted by file name.
    [[nodiscard]] result<std::vector<recording_entry>> list() const;
    // Uploads go on at once (the county can now be reached).
    void wake_uploads() { uploader_.wake(); }

private:
    // A recording that the timetable started: which lesson, until when.
    struct scheduled {
        std::string key;  // uid@start
        std::string summary;
        int64_t end = 0;  // seconds since the epoch
        int part = 1;
    };
    asio::awaitable<result<recorder_status>> begin(std::string lesson, std::optional<scheduled> by_timetable);
    asio::awaitable<void> follow_timetable();
    asio::awaitable<void> follow_class();
    [[nodiscard]] int64_t free_mb() const;
    // Raises (or clears) the county's alert for a silent microphone.
    void silence_alarm(const media::recording_status& s);
    [[nodiscard]] recording_facts facts_of(std::string file) const;
    asio::awaitable<void> watch();
    asio::awaitable<result<media::recording_status>> finish(std::string why);

    asio::any_io_executor control_;
    agent_config::recorder_config config_;
    ledger_service& ledger_;
    asio::thread_pool worker_{1};
    recording_uploader uploader_;
    asio::steady_timer tick_;
    std::unique_ptr<media::recording> current_;
    std::filesystem::path file_;
    std::string lesson_;
    int64_t started_wall_us_ = 0;
    std::chrono::steady_clock::time_point started_;
    bool busy_ = false;  // starting or finishing
    std::string last_error_;
    std::function<std::vector<protocol::lesson>()> lessons_;
    std::function<bool()> class_on_;
    bool class_was_on_ = false;
    bool by_class_ = false;  // the recording running was started by the class key
    bool mic_silent_ = false;
    std::optional<scheduled> scheduled_;                      // of the recording running
    std::set<std::string> stopped_by_hand_;                   // scheduled lessons not started again
    std::chrono::steady_clock::time_point low_disk_since_{};  // a start refused for want of room
};

// The lesson marked for recording that is on at `now` (seconds since the
// epoch): of several, the one that began last.
[[nodiscard]] std::optional<protocol::lesson> lesson_to_record(const std::vector<protocol::lesson>& lessons,
                                                               int64_t now);

}  // namespace bbt::agent
