// Finished recordings go to the county over tus 1.0 (protocol/tus.hpp): each
// in chunks that the county syncs to disk before it answers, so an upload
// broken anywhere (the network, the county, this set losing power) goes on
// from the county's offset and never sends a confirmed chunk again. Chunks are
// read and hashed on a thread of the uploader's own; the rate is held to
// recorder.upload_bandwidth_mbit, or class_upload_bandwidth_mbit while a
// lesson is on. A recording here is deleted only after the county has
// answered with the SHA-256 of every byte it holds and that matches this
// set's, and then only after recorder.keep_after_upload.
//
// What is known of each recording lives beside it in NAME.mp4.json (written
// atomically): the lesson, its length and SHA-256, the upload's address and
// progress, when the county confirmed it and when the copy here was deleted.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/protocol/https_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace bbt::agent {

// What NAME.mp4.json says of NAME.mp4.
struct recording_facts {
    std::string file;  // the name, without a folder
    std::string lesson;
    std::string lesson_key;  // uid@start of the timetable's lesson; empty for an ad-hoc recording
    int64_t part = 1;        // a lesson broken by a restart goes on in parts
    int64_t started_us = 0;
    double duration_s = 0;
    int64_t bytes = 0;
    std::string sha256;         // empty until hashed
    std::string upload_url;     // the county's upload, once created
    int64_t upload_offset = 0;  // as the county last said
    std::string county_sha256;  // what the county answered once it had it all
    int64_t confirmed_us = 0;   // when; 0: not yet
    int64_t deleted_us = 0;     // when the copy here was deleted
    bool operator==(const recording_facts&) const = default;
};

[[nodiscard]] std::string encode_facts(const recording_facts& f);
// A damaged file gives an error; the recording is then hashed again.
[[nodiscard]] result<recording_facts> parse_facts(std::string_view json);
// What a recording's own name says of it (YYYYmmdd-HHMMSS-LESSON.mp4, local
// time): the facts of one whose facts file is lost or damaged.
[[nodiscard]] recording_facts facts_from_name(std::string file);
[[nodiscard]] std::filesystem::path facts_path(const std::filesystem::path& recording);
// What the county is told of a recording (state: recorded, interrupted, uploaded, removed).
[[nodiscard]] protocol::county::recording recording_message(const recording_facts& f, std::string state);
[[nodiscard]] result<void> save_facts(const std::filesystem::path& dir, const recording_facts& f);

// "waiting", "uploading", "uploaded" (the county has it all, the copy here
// is kept), "removed" (the county has it, the copy here was deleted).
[[nodiscard]] std::string_view upload_state(const recording_facts& f);

class recording_uploader {
public:
    using sender = std::function<boost::asio::awaitable<result<protocol::https_response>>(protocol::https_request)>;

    // `in_use` tells a file being written (never uploaded), `lesson_on` whether
    // the class limit applies.
    recording_uploader(boost::asio::any_io_executor control, const agent_config::recorder_config& config,
                       ledger_service& ledger, sender send, std::function<bool(const std::filesystem::path&)> in_use,
                       std::function<bool()> lesson_on);
    ~recording_uploader();

    void start();
    void stop();
    // Looks at once (a recording was finished, the county was reached).
    void wake();
    // bbtctl record ls: the facts of every recording here, or once here.
    [[nodiscard]] std::vector<recording_facts> all() const;

private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<result<bool>> upload(recording_facts& f);
    boost::asio::awaitable<result<void>> create(recording_facts& f);
    boost::asio::awaitable<result<protocol::https_response>> call(
        std::string method, std::string url, std::vector<std::pair<std::string, std::string>> headers,
        std::string body = {});
    result<void> confirm(recording_facts& f, std::string_view county_sha256);
    boost::asio::awaitable<void> pace(size_t bytes, std::chrono::steady_clock::time_point since);

    boost::asio::any_io_executor control_;
    const agent_config::recorder_config& config_;
    ledger_service& ledger_;
    sender send_;
    std::function<bool(const std::filesystem::path&)> in_use_;
    std::function<bool()> lesson_on_;
    boost::asio::thread_pool disk_{1};
    boost::asio::steady_timer wake_;
    boost::asio::steady_timer pace_;
    bool stopping_ = false;
    int failures_ = 0;
    std::map<std::string, int> mismatches_;  // by file: the county found the whole file different
    std::set<std::string> refused_;          // files not sent again until the agent restarts
};

}  // namespace bbt::agent
