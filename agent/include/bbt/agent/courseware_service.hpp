// Courseware for the classroom's lessons, ready before they start and
// served from the local cache also with the network down.
//
// The county's catalogue and this classroom's timetable are fetched with
// their ETags and kept on disk, so that a set started offline still knows
// its lessons. The courseware of the lessons within `prefetch` is planned,
// downloaded (resumed, verified, committed), probed with libav and pinned
// until its lesson is over. While a lesson is on, downloads take the class
// bandwidth and only courseware needed within two hours is fetched.
//
// The control thread plans and answers; the cache thread owns the store and
// runs the downloads, hashing and probing, so that none of it holds up the
// control loop.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/media/cache.hpp"
#include "bbt/protocol/county.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/timetable.hpp"

#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bbt::agent {

// A resource some lesson needs: fetched before `needed_at`, kept until `pin_until`
// (seconds since the epoch).
struct courseware_need {
    std::string id;
    int64_t needed_at = 0;
    int64_t pin_until = 0;
    bool operator==(const courseware_need&) const = default;
};

// What the lessons that have not ended by `now` and start before `now +
// horizon` need, each resource once (its earliest start, its latest end plus
// an hour), soonest first. Pure.
[[nodiscard]] std::vector<courseware_need> plan_courseware(const std::vector<protocol::lesson>& lessons, int64_t now,
                                                           int64_t horizon);

// Whether a lesson is on at `now`.
[[nodiscard]] bool in_lesson(const std::vector<protocol::lesson>& lessons, int64_t now);

// The start of the local day holding `t` (seconds), and its date YYYY-MM-DD.
[[nodiscard]] int64_t local_day_start(int64_t t, int utc_offset_minutes);
[[nodiscard]] std::string local_date(int64_t t, int utc_offset_minutes);

// Where one resource stands.
struct resource_state {
    enum class state { ready, unplayable, downloading, queued, failed, waiting, unknown };
    std::string id;
    std::string title;
    state is = state::unknown;
    int64_t fetched = 0, size = 0;          // of a download
    std::string error;                      // of the last attempt
    std::filesystem::path path, thumbnail;  // get(): the cached file (and its thumbnail)
    int64_t pinned_until_us = 0;            // pin()
};
[[nodiscard]] std::string_view to_string(resource_state::state s) noexcept;

struct cache_status {
    std::filesystem::path dir;
    size_t items = 0;
    int64_t pinned = 0, unplayable = 0;
    int64_t used_bytes = 0, quota_bytes = 0, free_bytes = -1;  // -1: not known
    struct download {
        resource_state state;
        int64_t needed_at = 0;  // seconds since the epoch
        int attempts = 0;
    };
    std::vector<download> downloads;
    bool in_class = false;
    int64_t limit_bytes_per_s = 0;
    size_t catalogue_resources = 0;
    struct document {
        std::string name;  // catalogue, timetable
        bool kept = false;
        std::string etag;
        int64_t fetched_us = 0;
        std::string error;
    };
    std::vector<document> documents;
};

struct verify_report {
    size_t checked = 0;
    std::vector<std::string> removed;  // ids whose bytes no longer matched
};

// A day's lessons and whether their courseware is here.
struct day_plan {
    std::string date;
    int utc_offset_minutes = 0;
    bool kept = false;  // a timetable is kept
    int64_t fetched_us = 0;
    std::string error;
    struct lesson {
        protocol::lesson l;
        bool ready = true;
        std::vector<resource_state> resources;
    };
    std::vector<lesson> lessons;
};

class courseware_service final : public service {
public:
    // GETs a document the county publishes ("/v1/catalogue", "/v1/timetable")
    // with the ETag of the copy kept.
    using fetcher =
        std::function<asio::awaitable<result<protocol::https_response>>(std::string path, std::string etag)>;

    courseware_service(asio::any_io_executor control, agent_config::cache_config config,
                       std::filesystem::path state_dir, ledger_service& ledger, fetcher fetch);
    ~courseware_service() override;

    [[nodiscard]] std::string_view name() const override { return "courseware"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // The local API (bbtctl cache ..., bbtctl timetable), and the screen.
    asio::awaitable<result<cache_status>> status();
    asio::awaitable<result<std::vector<media::cache::item>>> list();
    // A resource's file, or where its download stands (fetched now when it is not cached).
    asio::awaitable<result<resource_state>> get(std::string id);
    // Pinned for `hours` (0 unpins); not cached yet: fetched now and pinned when it is.
    asio::awaitable<result<resource_state>> pin(std::string id, int64_t hours);
    // Refused for pinned courseware unless `force`.
    asio::awaitable<result<void>> evict(std::string id, bool force);
    asio::awaitable<result<verify_report>> verify();
    // Fetches the catalogue and timetable again now.
    void refresh();
    // The lessons of the local day `days` from today (-31 to 31) and their courseware.
    asio::awaitable<result<day_plan>> timetable(int64_t days);
    // Whether the timetable says a lesson is on now (as of the last look, every few seconds).
    [[nodiscard]] bool lesson_on() const noexcept { return in_class_; }
    // The timetable's lessons from a day ago to `cache.prefetch` ahead, as of
    // the last look (at most half a minute ago, and at once after a change).
    [[nodiscard]] const std::vector<protocol::lesson>& known_lessons() const noexcept { return known_lessons_; }

private:
    struct cache_side;  // lives on the cache thread
    struct document {
        std::string name;  // catalogue, timetable
        std::string text;
        std::string etag;
        int64_t fetched_us = 0;  // last answer from the county (200 or 304)
        std::string error;       // of the last attempt
    };

    asio::awaitable<void> refresh_loop();
    asio::awaitable<void> sync(document& doc, const std::string& path, const std::string& file);
    asio::awaitable<void> replan();
    void load_document(document& doc, const std::string& file);
    [[nodiscard]] std::vector<protocol::lesson> lessons(int64_t from, int64_t to);
    asio::awaitable<void> report_readiness(int64_t now);

    asio::any_io_executor control_;
    agent_config::cache_config config_;
    std::filesystem::path dir_;  // state_dir/courseware: the documents
    ledger_service& ledger_;
    fetcher fetch_;
    std::unique_ptr<cache_side> cache_;
    asio::steady_timer wake_;
    asio::steady_timer tick_;
    document catalogue_{"catalogue", {}, {}, 0, {}};
    document timetable_{"timetable", {}, {}, 0, {}};
    bool stopping_ = false;
    bool in_class_ = false;
    std::vector<protocol::lesson> known_lessons_;
    bool refresh_asked_ = false;                         // bbtctl cache refresh: the county is asked again at once
    std::map<std::string, std::string> sent_readiness_;  // day -> the readiness last queued for the county
};

}  // namespace bbt::agent
