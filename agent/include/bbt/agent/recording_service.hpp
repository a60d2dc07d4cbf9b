// Lesson recording as a service of the agent: bbtctl record start|stop|
// status|ls. The recorder (media/, FFmpeg) runs on threads of its own; opening
// the sources and finishing the file (a remux of a long lesson takes seconds)
// are done on a worker thread, never on the control loop. A recording stops by
// itself at `max_duration`, and when its source or the disk fails (an alert).
// Every finished recording is a fact for the ledger's outbox (the county), and
// is uploaded to the county (recording_upload.hpp).
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/recording_upload.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/media/recorder.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

namespace bbt::agent {

class recording_service final : public service {
public:
    // `send` reaches the county (uploads), `lesson_on` says whether a lesson
    // is on (uploads slow down).
    recording_service(asio::any_io_executor control, agent_config::recorder_config config, ledger_service& ledger,
                      recording_uploader::sender send, std::function<bool()> lesson_on);
    ~recording_service() override;

    [[nodiscard]] std::string_view name() const override { return "recorder"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // {"lesson": "..."} names the file; an error when one is running already.
    asio::awaitable<result<boost::json::value>> start_recording(boost::json::object params);
    asio::awaitable<result<boost::json::value>> stop_recording();
    [[nodiscard]] boost::json::value status() const;
    [[nodiscard]] result<boost::json::value> list() const;
    // Uploads go on at once (the county can now be reached).
    void wake_uploads() { uploader_.wake(); }

private:
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
};

}  // namespace bbt::agent
