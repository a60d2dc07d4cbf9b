#include "bbt/agent/courseware_service.hpp"

#include "bbt/base/run_on.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/media/cache.hpp"
#include "bbt/media/download.hpp"
#include "bbt/media/probe.hpp"
#include "bbt/protocol/catalogue.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/statvfs.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

namespace bbt::agent {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace cache = media::cache;
using namespace std::chrono_literals;

const log::category lg{"courseware"};

constexpr int64_t pin_grace_s = 3600;   // courseware stays pinned this long after its lesson
constexpr int64_t urgent_s = 2 * 3600;  // needed this soon: fetched even during a lesson
constexpr int64_t retry_first_us = 30'000'000;
constexpr int64_t retry_max_us = 3'600'000'000;

int64_t now_s() { return clock::wall_now().count() / 1'000'000; }

int64_t mbit_to_bytes(double mbit) { return static_cast<int64_t>(mbit * 1'000'000 / 8); }

bool is_media(std::string_view type) { return type == "video" || type == "audio"; }

cache::resource resource_of(const protocol::catalogue_entry& e) {
    return {e.id, e.title, e.subject, e.grade, e.type, e.url, e.sha256, e.size, e.priority};
}

std::string probe_json(const media::probe_info& p) {
    json::array streams;
    for (const auto& s : p.streams) {
        json::object o{{"type", s.type}, {"codec", s.codec}};
        if (s.width > 0) o["width"] = s.width, o["height"] = s.height;
        if (s.sample_rate > 0) o["sample_rate"] = s.sample_rate, o["channels"] = s.channels;
        streams.push_back(std::move(o));
    }
    return json::serialize(json::object{{"format", p.format},
                                        {"duration_s", p.duration_s},
                                        {"streams", std::move(streams)},
                                        {"thumbnail", p.thumbnail}});
}

error bad_param(std::string_view what) { return error(base_errc::config_value, what); }

error no_id() {
    return bad_param(
        i18n::text({"give the resource id (bbtctl cache ls lists them)", "请给出资源编号（bbtctl cache ls 可列出）"}));
}

}  // namespace

std::vector<courseware_need> plan_courseware(const std::vector<protocol::lesson>& lessons, int64_t now,
                                             int64_t horizon) {
    std::map<std::string, courseware_need> by_id;
    for (const auto& l : lessons) {
        if (l.end <= now || l.start >= now + horizon) continue;
        for (const auto& id : l.resources) {
            auto [it, fresh] = by_id.try_emplace(id, courseware_need{id, l.start, l.end + pin_grace_s});
            if (!fresh) {
                it->second.needed_at = std::min(it->second.needed_at, l.start);
                it->second.pin_until = std::max(it->second.pin_until, l.end + pin_grace_s);
            }
        }
    }
    std::vector<courseware_need> out;
    for (auto& [id, n] : by_id)
        out.push_back(std::move(n));
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.needed_at < b.needed_at; });
    return out;
}

bool in_lesson(const std::vector<protocol::lesson>& lessons, int64_t now) {
    return std::any_of(lessons.begin(), lessons.end(), [&](const auto& l) { return l.start <= now && now < l.end; });
}

// In the timetable's epoch seconds, through clock::local_day_of at its offset.
int64_t local_day_start(int64_t t, int utc_offset_minutes) {
    auto day = clock::local_day_of(std::chrono::seconds(t), std::chrono::minutes(utc_offset_minutes));
    return std::chrono::duration_cast<std::chrono::seconds>(day.start).count();
}

std::string local_date(int64_t t, int utc_offset_minutes) {
    return clock::to_string(
        clock::local_day_of(std::chrono::seconds(t), std::chrono::minutes(utc_offset_minutes)).date);
}

// Everything the cache thread owns. Touched on that thread only, but for the
// atomics, which the control thread sets.
struct courseware_service::cache_side {
    struct job {
        cache::resource res;
        int64_t needed_at = 0;  // seconds
        int64_t pin_until = 0;  // seconds; 0: not pinned (asked for by hand)
        bool manual = false;
        bool active = false;
        int attempts = 0;
        int64_t next_try_us = 0;
        std::string last_error;
        cache::download_report progress;
    };

    explicit cache_side(agent_config::cache_config c) : config(std::move(c)), kick(pool.get_executor()) {}

    agent_config::cache_config config;
    asio::thread_pool pool{1};
    std::unique_ptr<cache::store> store;  // opened by start(), before anything else runs here
    std::map<std::string, protocol::catalogue_entry, std::less<>> catalogue;
    std::map<std::string, job, std::less<>> jobs;
    int active = 0;
    bool stopping = false;
    asio::steady_timer kick;
    std::atomic<int64_t> limit{0};  // bytes/s for all downloads together; 0: none
    std::atomic<bool> in_class{false};

    void wake() { kick.cancel(); }

    // Probes a stored file with libav (media types only) and records the result.
    void probe(const cache::item& it) {
        if (!is_media(it.res.type)) {
            (void)store->set_probe(it.res.sha256, cache::playable::yes, "");
            return;
        }
        auto path = store->get(it.res.id, 0);
        if (!path || !*path) return;
        auto p = media::probe(**path, store->thumbnail_path(it.res.sha256),
                              it.res.type == "video" ? media::expect::video : media::expect::audio);
        if (p) {
            (void)store->set_probe(it.res.sha256, cache::playable::yes, probe_json(*p));
        } else if (p.error().code() == base_errc::corrupt) {
            log::warning(lg, "{} ({}): {}", it.res.id, it.res.title, p.error().message());
            (void)store->set_probe(it.res.sha256, cache::playable::no,
                                   json::serialize(json::object{{"error", p.error().message()}}));
        } else {
            // The media module is missing: left unprobed, offered, tried again at the next start.
            log::warning(lg, "probing {}: {}", it.res.id, p.error().what());
        }
    }

    void probe_pending() {
        auto pending = store->unprobed();
        if (!pending) return;
        for (const auto& it : *pending)
            probe(it);
    }

    // Brings the jobs in line with what the lessons need.
    void plan(const std::vector<courseware_need>& needs, int64_t now) {
        std::set<std::string, std::less<>> wanted;
        for (const auto& n : needs) {
            wanted.insert(n.id);
            auto stored = store->find(n.id);
            auto entry = catalogue.find(n.id);
            bool current =
                stored && *stored && (entry == catalogue.end() || (*stored)->res.sha256 == entry->second.sha256);
            if (current) {
                if ((*stored)->pinned_until_us < n.pin_until * 1'000'000) {
                    if (auto r = store->pin(n.id, n.pin_until * 1'000'000); !r) {
                        log::error(lg, "pinning {}: {}", n.id, r.error().what());
                    }
                }
                jobs.erase(n.id);
                continue;
            }
            if (entry == catalogue.end()) continue;  // reported as missing
            auto& j = jobs[n.id];
            if (j.active) continue;
            j.res = resource_of(entry->second);
            j.needed_at = n.needed_at;
            j.pin_until = std::max(j.pin_until, n.pin_until);
        }
        for (auto it = jobs.begin(); it != jobs.end();) {
            if (!it->second.active && !it->second.manual && !wanted.contains(it->first)) {
                it = jobs.erase(it);
            } else {
                ++it;
            }
        }
        (void)now;
        wake();
    }

    // Starts what may start now; returns when the next job may start.
    int64_t schedule() {
        int64_t now_us = clock::wall_now().count();
        int64_t next = now_us + 30'000'000;
        std::vector<job*> ready;
        for (auto& [id, j] : jobs) {
            if (j.active) continue;
            if (j.next_try_us > now_us) {
                next = std::min(next, j.next_try_us);
                continue;
            }
            // During a lesson only what is needed soon; the rest waits for the break.
            if (in_class.load() && !j.manual && j.needed_at > now_us / 1'000'000 + urgent_s) continue;
            ready.push_back(&j);
        }
        std::stable_sort(ready.begin(), ready.end(), [](const job* a, const job* b) {
            if (a->manual != b->manual) return a->manual;
            return a->needed_at < b->needed_at;
        });
        for (job* j : ready) {
            if (active >= config.downloads) break;
            j->active = true;
            ++active;
            asio::co_spawn(pool.get_executor(), run(j->res.id), asio::detached);
        }
        return next;
    }

    asio::awaitable<void> scheduler() {
        while (!stopping) {
            int64_t next = schedule();
            kick.expires_after(std::chrono::microseconds(std::max<int64_t>(next - clock::wall_now().count(), 1000)));
            co_await kick.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    asio::awaitable<void> run(std::string id) {
        auto& j = jobs.at(id);
        cache::download_options o;
        o.timeout = config.download_timeout;
        o.ca_file = config.ca;
        o.rate = [this] { return limit.load() / std::max(1, active); };
        j.progress = {};
        log::info(lg, "fetching {} ({}, {} bytes)", j.res.id, j.res.title, j.res.size);
        auto got = co_await cache::download(pool.get_executor(), *store, j.res, o, &j.progress);
        auto& job_now = jobs.at(id);  // still there: an active job is never erased
        job_now.active = false;
        --active;
        if (got) {
            log::notice(lg, "{} ({}) is ready: {} bytes, {} of them resumed{}", id, job_now.res.title, job_now.res.size,
                        job_now.progress.resumed_from,
                        job_now.progress.restarted ? ", fetched again from the start" : "");
            if (job_now.pin_until > 0) (void)store->pin(id, job_now.pin_until * 1'000'000);
            if (auto it = store->find(id); it && *it) probe(**it);
            jobs.erase(id);
        } else {
            ++job_now.attempts;
            int64_t wait = std::min(retry_max_us, retry_first_us << std::min(job_now.attempts - 1, 7));
            job_now.next_try_us = clock::wall_now().count() + wait;
            job_now.last_error = got.error().what();
            log::warning(lg, "fetching {}: {}; tried again in {} s", id, job_now.last_error, wait / 1'000'000);
        }
        wake();
    }

    // The state of one resource, for bbtctl timetable and readiness.
    resource_state state_of(const std::string& id) {
        using st = resource_state::state;
        resource_state o;
        o.id = id;
        auto stored = store->find(id);
        auto entry = catalogue.find(id);
        if (entry != catalogue.end()) o.title = entry->second.title;
        if (stored && *stored) {
            o.title = (*stored)->res.title;
            o.is = (*stored)->play == cache::playable::no ? st::unplayable : st::ready;
            return o;
        }
        if (auto j = jobs.find(id); j != jobs.end()) {
            o.is = j->second.active ? st::downloading : (j->second.last_error.empty() ? st::queued : st::failed);
            o.fetched = j->second.progress.resumed_from + j->second.progress.fetched;
            o.size = j->second.res.size;
            o.error = j->second.last_error;
            return o;
        }
        o.is = entry == catalogue.end() ? st::unknown : st::waiting;
        return o;
    }
};

courseware_service::courseware_service(asio::any_io_executor control, agent_config::cache_config config,
                                       fs::path state_dir, ledger_service& ledger, fetcher fetch)
    : control_(control),
      config_(std::move(config)),
      dir_(state_dir / "courseware"),
      ledger_(ledger),
      fetch_(std::move(fetch)),
      cache_(std::make_unique<cache_side>(config_)),
      wake_(control),
      tick_(control) {}

courseware_service::~courseware_service() {
    if (cache_) {
        cache_->pool.stop();
        cache_->pool.join();
    }
}

void courseware_service::load_document(document& doc, const std::string& file) {
    auto text = read_file(dir_ / file, protocol::max_catalogue_bytes);
    if (!text) return;  // none yet
    doc.text = std::move(*text);
    auto etag = read_file(dir_ / (file + ".etag"), 1024);
    doc.etag = etag ? std::move(*etag) : std::string{};
}

asio::awaitable<result<void>> courseware_service::start() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        co_return errno_error(ec.value(), i18n::text({"creating the courseware folder", "创建课件目录"}),
                              dir_.string());
    }
    load_document(catalogue_, "catalogue.json");
    load_document(timetable_, "timetable.ics");
    std::vector<protocol::catalogue_entry> entries;
    if (!catalogue_.text.empty()) {
        auto parsed = protocol::parse_catalogue(catalogue_.text);
        if (parsed) {
            entries = std::move(*parsed);
        } else {
            log::error(lg, "the kept catalogue: {}; it is fetched again", parsed.error().what());
            catalogue_.text.clear();
            catalogue_.etag.clear();
        }
    }
    auto task = [this, entries = std::move(entries)]() -> result<void> {
        cache::store_options o;
        o.quota_bytes = config_.quota_mb << 20;
        o.keep_free_bytes = config_.keep_free_mb << 20;
        auto s = cache::store::open(config_.dir, o);
        if (!s) return s.error();
        cache_->store = std::move(*s);
        std::vector<std::string> keep;
        for (const auto& e : entries) {
            keep.push_back(e.sha256);
            cache_->catalogue.emplace(e.id, e);
        }
        // A power cut may have left a commit half done.
        auto swept = cache_->store->sweep(keep);
        if (!swept) return swept.error();
        if (swept->objects_removed + swept->entries_removed + swept->partials_removed > 0) {
            log::notice(lg,
                        "put the cache right: {} stray files, {} entries without their file, {} stale partial "
                        "downloads removed",
                        swept->objects_removed, swept->entries_removed, swept->partials_removed);
        }
        return {};
    };
    auto opened = co_await run_on<result<void>>(cache_->pool, std::move(task));
    if (!opened) co_return opened.error();
    asio::post(cache_->pool, [c = cache_.get()] {
        c->probe_pending();
        asio::co_spawn(c->pool.get_executor(), c->scheduler(), asio::detached);
    });
    asio::co_spawn(control_, refresh_loop(), asio::detached);
    co_return result<void>{};
}

asio::awaitable<void> courseware_service::stop() {
    stopping_ = true;
    wake_.cancel();
    tick_.cancel();
    auto task = [this] {
        cache_->stopping = true;
        cache_->kick.cancel();
        (void)cache_->store->flush_usage();
        return 0;
    };
    co_await run_on<int>(cache_->pool, std::move(task));
    // Downloads in flight are abandoned: their partial files resume at the next start.
    cache_->pool.stop();
    cache_->pool.join();
}

asio::awaitable<void> courseware_service::sync(document& doc, const std::string& path, const std::string& file) {
    auto res = co_await fetch_(path, doc.etag);
    if (!res) {
        if (doc.error != res.error().message()) {
            log::warning(lg, "fetching the {} from the county: {}; the kept copy is used", doc.name,
                         res.error().what());
        }
        doc.error = res.error().message();
        co_return;
    }
    if (res->status == 304) {
        doc.fetched_us = clock::wall_now().count();
        doc.error.clear();
        co_return;
    }
    if (res->status != 200) {
        doc.error = i18n::format({"the county answered {}", "县级平台返回 {}"}, res->status);
        if (res->status != 404) log::warning(lg, "fetching the {}: {}", doc.name, doc.error);
        co_return;
    }
    // Checked before it replaces the kept copy: a bad document never does.
    if (file == "catalogue.json") {
        auto parsed = protocol::parse_catalogue(res->body);
        if (!parsed) {
            doc.error = parsed.error().message();
            log::error(lg, "the county's catalogue: {}", doc.error);
            co_return;
        }
        auto task = [this, entries = std::move(*parsed)] {
            cache_->catalogue.clear();
            for (const auto& e : entries)
                cache_->catalogue.emplace(e.id, e);
            return 0;
        };
        co_await run_on<int>(cache_->pool, std::move(task));
    } else {
        int64_t now = now_s();
        auto t = protocol::parse_timetable(res->body, now - 86400, now + 14 * 86400, config_.utc_offset_minutes);
        if (!t) {
            doc.error = t.error().message();
            log::error(lg, "the county's timetable: {}", doc.error);
            co_return;
        }
    }
    if (auto w = write_file_atomic(dir_ / file, res->body); !w) {
        log::error(lg, "keeping the {}: {}", doc.name, w.error().what());
    }
    if (auto w = write_file_atomic(dir_ / (file + ".etag"), res->etag); !w) {
        log::error(lg, "keeping the {}'s ETag: {}", doc.name, w.error().what());
    }
    if (doc.text != res->body) log::notice(lg, "the county published a new {}", doc.name);
    doc.text = std::move(res->body);
    doc.etag = res->etag;
    doc.fetched_us = clock::wall_now().count();
    doc.error.clear();
}

std::vector<protocol::lesson> courseware_service::lessons(int64_t from, int64_t to) {
    if (timetable_.text.empty()) return {};
    auto t = protocol::parse_timetable(timetable_.text, from, to, config_.utc_offset_minutes);
    if (!t) return {};
    return std::move(t->lessons);
}

asio::awaitable<void> courseware_service::replan() {
    int64_t now = now_s();
    int64_t horizon = config_.prefetch.count() / 1000;
    auto ls = lessons(now - 86400, now + horizon);
    known_lessons_ = ls;
    bool in_class = in_lesson(ls, now);
    if (in_class != in_class_) {
        if (in_class) {
            log::info(lg, "a lesson is on: downloads slow down");
        } else {
            log::info(lg, "no lesson is on: downloads at full speed");
        }
        in_class_ = in_class;
    }
    cache_->in_class.store(in_class);
    cache_->limit.store(mbit_to_bytes(in_class ? config_.class_bandwidth_mbit : config_.bandwidth_mbit));
    auto needs = plan_courseware(ls, now, horizon);
    auto task = [this, needs = std::move(needs), now] {
        cache_->plan(needs, now);
        return 0;
    };
    co_await run_on<int>(cache_->pool, std::move(task));
    co_await report_readiness(now);
}

asio::awaitable<void> courseware_service::report_readiness(int64_t now) {
    // Tomorrow's, which the county's dashboard shows, and today's.
    for (int64_t day : {local_day_start(now, static_cast<int>(config_.utc_offset_minutes)),
                        local_day_start(now, static_cast<int>(config_.utc_offset_minutes)) + 86400}) {
        auto ls = lessons(day, day + 86400);
        std::vector<std::string> ids;
        for (const auto& l : ls)
            for (const auto& id : l.resources)
                if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        auto task = [this, ids] {
            std::vector<resource_state> out;
            for (const auto& id : ids)
                out.push_back(cache_->state_of(id));
            return out;
        };
        auto states = co_await run_on<std::vector<resource_state>>(cache_->pool, std::move(task));
        protocol::county::readiness r;
        r.day = local_date(day, static_cast<int>(config_.utc_offset_minutes));
        r.lessons = static_cast<int64_t>(ls.size());
        r.resources = static_cast<int64_t>(ids.size());
        for (const auto& s : states) {
            if (s.is == resource_state::state::ready) {
                ++r.ready;
            } else if (r.missing.size() < protocol::county::max_missing) {
                r.missing.push_back(s.id);
            }
        }
        std::string key = fmt::format("{}/{}/{}:{}", r.lessons, r.ready, r.resources, fmt::join(r.missing, ","));
        if (sent_readiness_[r.day] == key) continue;
        sent_readiness_[r.day] = key;
        ledger_.outbox_put(clock::wall_now().count(), r);
    }
    // Days gone by are forgotten.
    std::string today = local_date(now, static_cast<int>(config_.utc_offset_minutes));
    std::erase_if(sent_readiness_, [&](const auto& kv) { return kv.first < today; });
}

asio::awaitable<void> courseware_service::refresh_loop() {
    auto last_sync = std::chrono::steady_clock::time_point{};
    // From the kept timetable first: a set started offline knows its lessons at once.
    co_await replan();
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        // After a failure (no network, not enrolled yet) the county is asked again within a minute.
        bool failed = !catalogue_.error.empty() || !timetable_.error.empty();
        auto every = failed ? std::min<std::chrono::milliseconds>(config_.refresh, 60s) : config_.refresh;
        if (refresh_asked_ || last_sync == std::chrono::steady_clock::time_point{} || now - last_sync >= every) {
            refresh_asked_ = false;
            last_sync = now;
            co_await sync(catalogue_, "/v1/catalogue", "catalogue.json");
            if (stopping_) break;
            co_await sync(timetable_, "/v1/timetable", "timetable.ics");
            if (stopping_) break;
        }
        co_await replan();
        // A lesson's start or end is noticed within half a minute.
        wake_.expires_after(std::min<std::chrono::milliseconds>(config_.refresh, 30s));
        if (refresh_asked_) continue;  // asked for while this round ran
        co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void courseware_service::refresh() {
    refresh_asked_ = true;
    wake_.cancel();
}

asio::awaitable<result<cache_status>> courseware_service::status() {
    auto task = [this]() -> result<cache_status> {
        auto items = cache_->store->list();
        if (!items) return items.error();
        auto used = cache_->store->used_bytes();
        if (!used) return used.error();
        cache_status o;
        o.dir = config_.dir;
        o.items = items->size();
        int64_t now_us = clock::wall_now().count();
        for (const auto& it : *items) {
            o.pinned += it.pinned_until_us > now_us;
            o.unplayable += it.play == cache::playable::no;
        }
        struct statvfs fsinfo {};
        if (::statvfs(config_.dir.c_str(), &fsinfo) == 0) {
            o.free_bytes = static_cast<int64_t>(fsinfo.f_bavail) * static_cast<int64_t>(fsinfo.f_frsize);
        }
        o.used_bytes = *used;
        o.quota_bytes = config_.quota_mb << 20;
        for (const auto& [id, j] : cache_->jobs)
            o.downloads.push_back({cache_->state_of(id), j.needed_at, j.attempts});
        o.in_class = cache_->in_class.load();
        o.limit_bytes_per_s = cache_->limit.load();
        o.catalogue_resources = cache_->catalogue.size();
        return o;
    };
    auto o = co_await run_on<result<cache_status>>(cache_->pool, std::move(task));
    if (!o) co_return o.error();
    for (const document* d : {&catalogue_, &timetable_})
        o->documents.push_back({d->name, !d->text.empty(), d->etag, d->fetched_us, d->error});
    co_return o;
}

asio::awaitable<result<std::vector<cache::item>>> courseware_service::list() {
    auto task = [this]() { return cache_->store->list(); };
    co_return co_await run_on<result<std::vector<cache::item>>>(cache_->pool, std::move(task));
}

asio::awaitable<result<resource_state>> courseware_service::get(std::string id) {
    if (id.empty()) co_return no_id();
    auto task = [this, id]() -> result<resource_state> {
        auto found = cache_->store->find(id);
        if (!found) return found.error();
        if (*found && (*found)->play == cache::playable::no) {
            return error(cache::cache_errc::corrupt,
                         i18n::text({"this file is in the cache but libav cannot play it; ask the county for a "
                                     "playable copy",
                                     "该文件已缓存但 libav 无法播放；请向县级平台索取可播放的版本"}),
                         id);
        }
        auto path = cache_->store->get(id, clock::wall_now().count());
        if (!path) return path.error();
        if (*path) {
            auto o = cache_->state_of(id);
            o.path = **path;
            if ((*found)->play == cache::playable::yes) {
                auto thumb = cache_->store->thumbnail_path((*found)->res.sha256);
                std::error_code ec;
                if (fs::exists(thumb, ec)) o.thumbnail = thumb;
            }
            return o;
        }
        auto entry = cache_->catalogue.find(id);
        if (entry == cache_->catalogue.end()) {
            return error(cache::cache_errc::not_found,
                         i18n::text({"no such resource in the cache or in the county's catalogue; check the id, or "
                                     "run bbtctl cache status to see when the catalogue was last fetched",
                                     "缓存和县级平台目录中都没有该资源；请核对编号，或运行 bbtctl cache status "
                                     "查看目录的获取时间"}),
                         id);
        }
        auto& j = cache_->jobs[id];
        if (!j.active) {
            j.res = resource_of(entry->second);
            j.manual = true;
            j.needed_at = clock::wall_now().count() / 1'000'000;
            j.next_try_us = 0;  // asked for by a person: now
            cache_->wake();
        }
        return cache_->state_of(id);
    };
    co_return co_await run_on<result<resource_state>>(cache_->pool, std::move(task));
}

asio::awaitable<result<resource_state>> courseware_service::pin(std::string id, int64_t hours) {
    if (id.empty()) co_return no_id();
    if (hours < 0 || hours > 24 * 366) {
        co_return bad_param(
            i18n::text({"pin for 0 to 8784 hours (0 unpins)", "锁定时长须为 0 到 8784 小时（0 为解锁）"}));
    }
    int64_t until = hours == 0 ? 0 : clock::wall_now().count() + hours * 3'600'000'000;
    auto task = [this, id, until]() -> result<resource_state> {
        auto r = cache_->store->pin(id, until);
        if (r) {
            resource_state o;
            o.id = id;
            o.is = resource_state::state::ready;
            o.pinned_until_us = until;
            return o;
        }
        // Not cached yet: fetched now and pinned when it is.
        auto entry = cache_->catalogue.find(id);
        if (entry == cache_->catalogue.end() || until == 0) return r.error();
        auto& j = cache_->jobs[id];
        j.pin_until = until / 1'000'000;
        if (!j.active) {
            j.res = resource_of(entry->second);
            j.manual = true;
            j.needed_at = clock::wall_now().count() / 1'000'000;
            j.next_try_us = 0;
            cache_->wake();
        }
        auto o = cache_->state_of(id);
        o.pinned_until_us = until;
        return o;
    };
    co_return co_await run_on<result<resource_state>>(cache_->pool, std::move(task));
}

asio::awaitable<result<void>> courseware_service::evict(std::string id, bool force) {
    if (id.empty()) co_return no_id();
    auto task = [this, id, force]() -> result<void> {
        auto found = cache_->store->find(id);
        if (!found) return found.error();
        if (*found && (*found)->pinned_until_us > clock::wall_now().count() && !force) {
            return error(std::make_error_code(std::errc::operation_not_permitted),
                         i18n::text({"this courseware is pinned for a coming lesson; add --force to remove it all the "
                                     "same (it is fetched again before the lesson)",
                                     "该课件已为即将上的课锁定；如仍要删除请加 --force（上课前会重新下载）"}),
                         id);
        }
        return cache_->store->evict(id);
    };
    co_return co_await run_on<result<void>>(cache_->pool, std::move(task));
}

asio::awaitable<result<verify_report>> courseware_service::verify() {
    auto task = [this]() -> result<verify_report> {
        auto items = cache_->store->list();
        if (!items) return items.error();
        auto removed = cache_->store->verify_all();
        if (!removed) return removed.error();
        for (const auto& id : *removed) {
            log::warning(lg, "{} no longer matches its SHA-256 (a disk fault?); removed, fetched again when needed",
                         id);
        }
        cache_->wake();
        return verify_report{items->size(), {removed->begin(), removed->end()}};
    };
    co_return co_await run_on<result<verify_report>>(cache_->pool, std::move(task));
}

asio::awaitable<result<day_plan>> courseware_service::timetable(int64_t days) {
    if (days < -31 || days > 31) {
        co_return bad_param(i18n::text({"give a day within a month of today", "请给出一个月以内的日期"}));
    }
    int64_t now = now_s();
    int offset = static_cast<int>(config_.utc_offset_minutes);
    int64_t day = local_day_start(now, offset) + days * 86400;
    auto ls = lessons(day, day + 86400);
    std::vector<std::string> ids;
    for (const auto& l : ls)
        for (const auto& id : l.resources)
            ids.push_back(id);
    auto task = [this, ids] {
        std::map<std::string, resource_state> out;
        for (const auto& id : ids)
            out[id] = cache_->state_of(id);
        return out;
    };
    auto states = co_await run_on<std::map<std::string, resource_state>>(cache_->pool, std::move(task));
    day_plan plan{local_date(day, offset), offset,           !timetable_.text.empty(),
                  timetable_.fetched_us,   timetable_.error, {}};
    for (const auto& l : ls) {
        day_plan::lesson pl{l, true, {}};
        for (const auto& id : l.resources) {
            pl.resources.push_back(states[id]);
            pl.ready = pl.ready && states[id].is == resource_state::state::ready;
        }
        plan.lessons.push_back(std::move(pl));
    }
    co_return plan;
}

std::string_view to_string(resource_state::state s) noexcept {
    using st = resource_state::state;
    switch (s) {
        case st::ready: return "ready";
        case st::unplayable: return "unplayable";
        case st::downloading: return "downloading";
        case st::queued: return "queued";
        case st::failed: return "failed";
        case st::waiting: return "waiting";
        case st::unknown: return "unknown";
    }
    return "unknown";
}

}  // namespace bbt::agent
