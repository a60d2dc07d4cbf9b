#include "agent_parts.hpp"

#include "bbt/agent/errors.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/board/local_devices.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace bbt::agent {
namespace {

namespace json = boost::json;
namespace pj = drivers::pjlink;
namespace wire = protocol::county;
using json_result = asio::awaitable<result<json::value>>;

const log::category lg{"agent"};

error malformed(std::string_view why) { return error(protocol::api_errc::malformed, why); }

json::value to_json(const class_status& s) {
    json::object o{{"state", to_string(s.state)}, {"goal", s.goal_class ? "in-class" : "idle"}};
    if (!s.step.empty()) o["step"] = s.step;
    if (!s.fault.empty()) o["fault"] = s.fault;
    if (!s.mains.empty()) {
        json::object m;
        for (const auto& [which, on] : s.mains)
            m[board::to_string(which)] = on;
        o["mains"] = std::move(m);
    }
    return o;
}

json::value to_json(const projector_status& s) {
    json::object o{{"configured", s.configured}};
    if (!s.configured) return o;
    o["address"] = s.address;
    o["reachable"] = s.reachable;
    o["state"] = wire::to_string(s.state);
    if (!s.last_error.empty()) o["last_error"] = s.last_error;
    if (s.power) o["power"] = pj::to_string(*s.power);
    if (s.input) o["input"] = s.input->code();
    if (s.blanked) o["blanked"] = *s.blanked;
    if (s.errors) {
        json::object e;
        static constexpr const char* names[] = {"ok", "warning", "error"};
        for (size_t i = 0; i < 6; ++i)
            e[pj::error_status_parts[i]] = names[s.errors->flags[i]];
        o["errors"] = std::move(e);
    }
    json::array lamps;
    for (const auto& l : s.lamps)
        lamps.push_back(json::object{{"hours", l.hours}, {"on", l.on}});
    o["lamps"] = std::move(lamps);
    o["no_lamp"] = s.no_lamp;
    if (s.lamp_rated_hours > 0) o["lamp_rated_hours"] = s.lamp_rated_hours;
    if (s.filter_hours) o["filter_hours"] = *s.filter_hours;
    if (s.identity) {
        const auto& i = *s.identity;
        o["identity"] =
            json::object{{"manufacturer", i.manufacturer}, {"product", i.product}, {"serial", i.serial},
                         {"software", i.software},         {"name", i.name},       {"class", i.pjlink_class}};
    }
    return o;
}

json::value to_json(const wire::device& d) {
    return json::object{{"kind", wire::to_string(d.kind)},
                        {"vendor", d.vendor},
                        {"model", d.model},
                        {"serial", d.serial},
                        {"firmware", d.firmware}};
}

json::value to_json(const recorder_status& s) {
    json::object o{{"recording", s.recording}, {"busy", s.busy}, {"dir", s.dir.string()}};
    if (s.scheduled) {
        o["scheduled"] = json::object{
            {"lesson", s.scheduled->lesson}, {"until_us", s.scheduled->until_us}, {"part", s.scheduled->part}};
    }
    if (s.now) {
        o["file"] = s.file.string();
        o["started_us"] = s.started_us;
        o["duration_s"] = s.now->duration_s;
        o["bytes"] = s.now->bytes;
        o["fragments_synced"] = s.now->fragments_synced;
        o["encoder"] = s.now->encoder;
        o["tracks"] = json::value_from(s.now->tracks);
        if (s.has_sound) {
            o["audio_level_db"] = std::round(s.now->audio_level_db * 10) / 10;
            o["microphone_silent"] = s.microphone_silent;
        }
    }
    if (!s.last_error.empty()) o["last_error"] = s.last_error;
    return o;
}

json::value to_json(const std::vector<recording_entry>& list) {
    json::array out;
    for (const auto& r : list) {
        json::object o{{"file", r.file.string()}, {"bytes", r.bytes}, {"interrupted", r.interrupted}};
        if (r.facts) {
            const auto& f = *r.facts;
            o["lesson"] = f.lesson;
            o["upload"] = json::object{{"state", upload_state(f)},
                                       {"offset", f.upload_offset},
                                       {"bytes", f.bytes},
                                       {"confirmed_us", f.confirmed_us},
                                       {"deleted_us", f.deleted_us}};
        } else {
            o["upload"] = json::object{{"state", "waiting"}};
        }
        out.push_back(std::move(o));
    }
    return json::object{{"recordings", std::move(out)}};
}

// record.start: {"lesson": "..."} names the file.
json_result record_start(recording_service& r, json::object params) {
    std::string lesson;
    if (const auto* l = params.if_contains("lesson"); l && l->is_string()) lesson = std::string(l->as_string());
    auto s = co_await r.start_recording(std::move(lesson));
    if (!s) co_return s.error();
    co_return to_json(*s);
}

// record.stop: {"force": true} stops a recording the timetable started.
json_result record_stop(recording_service& r, json::object params) {
    const auto* f = params.if_contains("force");
    auto done = co_await r.stop_recording(f != nullptr && f->is_bool() && f->as_bool());
    if (!done) co_return done.error();
    co_return json::value(json::object{{"file", done->file.string()},
                                       {"duration_s", done->status.duration_s},
                                       {"bytes", done->status.bytes},
                                       {"video_frames", done->status.video_frames}});
}

json::value to_json(const drivers::whiteboard::point& p) { return json::object{{"x", p.x}, {"y", p.y}}; }

json::value to_json(const calibration_session& s) {
    if (!s.exists) return json::object{{"active", false}};
    json::array targets, touches;
    for (const auto& p : s.targets)
        targets.push_back(to_json(p));
    for (const auto& p : s.touches)
        touches.push_back(to_json(p));
    json::object o{{"active", s.active}, {"mode", s.check ? "check" : "calibrate"}, {"next", s.next},
                   {"total", s.total},   {"targets", std::move(targets)},           {"touches", std::move(touches)},
                   {"done", s.done}};
    if (!s.error.empty()) o["error"] = s.error;
    if (s.result) {
        const auto& r = *s.result;
        json::object res{{"max_error_mm", r.max_mm},
                         {"mean_error_mm", r.mean_mm},
                         {"errors_mm", json::value_from(r.errors_mm)},
                         {"limit_mm", r.limit_mm},
                         {"within_limit", r.within_limit}};
        if (r.saved) res["saved"] = true;
        o["result"] = std::move(res);
    }
    return o;
}

json::value to_json(const drivers::hid::touch_axis& a) {
    return json::object{{"logical_min", a.logical_min}, {"logical_max", a.logical_max}, {"resolution", a.resolution}};
}

json::value to_json(const whiteboard_status& s) {
    json::object o{{"configured", s.configured}, {"state", s.state}, {"connected", s.connected}};
    if (s.configured) o["source"] = s.source;
    if (s.identity) {
        const auto& i = *s.identity;
        o["identity"] = json::object{{"vendor", fmt::format("{:04x}", i.vendor)},
                                     {"product", fmt::format("{:04x}", i.product)},
                                     {"product_name", i.product_name},
                                     {"manufacturer", i.manufacturer},
                                     {"serial", i.serial},
                                     {"where", i.where}};
    }
    if (s.touch) {
        const auto& t = *s.touch;
        o["touch"] = json::object{{"class", t.device_class},         {"report_id", t.report_id}, {"mode", t.mode},
                                  {"max_contacts", t.max_contacts},  {"x", to_json(t.x)},        {"y", to_json(t.y)},
                                  {"tools_by_size", t.tools_by_size}};
        o["pen"] = t.pen;
        json::object out{{"kind", s.output_kind}};
        if (!s.touch_node.empty() || !s.pen_node.empty()) {
            out["touch_node"] = s.touch_node;
            out["pen_node"] = s.pen_node;
        }
        if (!s.output_error.empty()) out["error"] = s.output_error;
        o["output"] = std::move(out);
        json::object cal{{"key", s.calibration_key}, {"present", s.calibration.has_value()}};
        if (s.calibration) {
            cal["points"] = s.calibration->points;
            cal["max_error_mm"] = s.calibration->max_error_mm;
            cal["mean_error_mm"] = s.calibration->mean_error_mm;
            cal["created_at"] = clock::format_local(clock::microseconds(s.calibration->created_wall_us));
        }
        o["calibration"] = std::move(cal);
    }
    o["counters"] = json::object{{"reports", s.reports}, {"frames", s.frames}, {"dropped", s.dropped}};
    if (!s.last_error.empty()) o["last_error"] = s.last_error;
    if (s.session.exists) o["session"] = to_json(s.session);
    return o;
}

// whiteboard.calibrate: {"action": "start"|"status"|"cancel", "mode": "calibrate"|"check", "points": 4..25}.
json_result whiteboard_calibrate(whiteboard_service& w, json::object params) {
    calibration_request req;
    std::string action = "status";
    if (const auto* a = params.if_contains("action"); a && a->is_string()) action = std::string(a->as_string());
    if (action == "start") {
        req.action = calibration_action::start;
    } else if (action == "cancel") {
        req.action = calibration_action::cancel;
    } else if (action != "status") {
        co_return malformed(i18n::format({"unknown calibration action \"{}\"; use start, status or cancel",
                                          "未知的校准操作“{}”；可用 start、status 或 cancel"},
                                         action));
    }
    if (const auto* m = params.if_contains("mode"); m && m->is_string()) req.check = m->as_string() == "check";
    if (const auto* n = params.if_contains("points")) req.points = n->is_int64() ? static_cast<int>(n->as_int64()) : 0;
    auto s = co_await w.calibrate(req);
    if (!s) co_return s.error();
    co_return to_json(*s);
}

// whiteboard.record: {"seconds": N}; the recording's path when done.
json_result whiteboard_record(whiteboard_service& w, json::object params) {
    int64_t seconds = 10;
    if (const auto* n = params.if_contains("seconds")) seconds = n->is_int64() ? n->as_int64() : 0;
    auto r = co_await w.record(seconds);
    if (!r) co_return r.error();
    co_return json::value(json::object{{"path", r->path.string()}, {"reports", r->reports}, {"seconds", r->seconds}});
}

json::value to_json(const county_status& s) {
    json::object o{{"configured", s.configured},
                   {"url", s.url},
                   {"enrolled", s.enrolled},
                   {"device_id", s.device_id},
                   {"delivered", s.delivered}};
    if (s.queue) {
        o["queue_depth"] = s.queue->messages;
        o["queue_bytes"] = s.queue->bytes;
        o["last_seq"] = s.queue->last_seq;
        if (s.queue->oldest_at_us)
            o["oldest_waiting"] = clock::format_local(clock::microseconds(*s.queue->oldest_at_us));
    }
    if (s.last_success_wall_us) o["last_success"] = clock::format_local(clock::microseconds(s.last_success_wall_us));
    if (s.last_attempt_wall_us) o["last_attempt"] = clock::format_local(clock::microseconds(s.last_attempt_wall_us));
    if (!s.last_error.empty()) {
        o["last_error"] = s.last_error;
        o["next_attempt"] = clock::format_local(clock::microseconds(s.next_attempt_wall_us));
    }
    if (s.certificate_expires_wall_us) {
        o["certificate_expires"] = clock::format_local(clock::microseconds(s.certificate_expires_wall_us));
        o["certificate_expired"] = s.certificate_expires_wall_us <= clock::wall_now().count();
        o["renew_at"] = clock::format_local(clock::microseconds(s.renew_at_wall_us));
    }
    if (!s.renewal_error.empty()) o["renewal_error"] = s.renewal_error;
    return o;
}

// county.enrol: {"code": "..."}.
json_result county_enrol(county_service& c, json::object params) {
    const auto* code = params.if_contains("code");
    std::string text = code && code->is_string() ? std::string(code->as_string()) : std::string();
    auto id = co_await c.enrol(std::move(text));
    if (!id) co_return id.error();
    co_return json::value(json::object{{"device_id", *id}});
}

json_result county_status_json(county_service& c) {
    auto s = co_await c.status();
    co_return to_json(s);
}

json::object to_json(const resource_state& r) {
    json::object o{{"id", r.id}};
    if (!r.title.empty()) o["title"] = r.title;
    o["state"] = to_string(r.is);
    using st = resource_state::state;
    if (r.is == st::downloading || r.is == st::queued || r.is == st::failed) {
        o["fetched"] = r.fetched;
        o["size"] = r.size;
        if (!r.error.empty()) o["error"] = r.error;
    }
    if (!r.path.empty()) o["path"] = r.path.string();
    if (!r.thumbnail.empty()) o["thumbnail"] = r.thumbnail.string();
    if (r.pinned_until_us != 0) o["pinned_until_us"] = r.pinned_until_us;
    return o;
}

json::value to_json(const cache_status& s) {
    json::array jobs;
    for (const auto& d : s.downloads) {
        auto jo = to_json(d.state);
        jo["needed_at"] = d.needed_at;
        jo["attempts"] = d.attempts;
        jobs.push_back(std::move(jo));
    }
    json::object o{{"dir", s.dir.string()},
                   {"items", s.items},
                   {"pinned", s.pinned},
                   {"unplayable", s.unplayable},
                   {"used_bytes", s.used_bytes},
                   {"quota_bytes", s.quota_bytes},
                   {"free_bytes", s.free_bytes},
                   {"downloads", std::move(jobs)},
                   {"in_class", s.in_class},
                   {"limit_bytes_per_s", s.limit_bytes_per_s},
                   {"catalogue_resources", s.catalogue_resources}};
    for (const auto& d : s.documents) {
        o[d.name] = json::object{{"kept", d.kept}, {"etag", d.etag}, {"fetched_us", d.fetched_us}, {"error", d.error}};
    }
    return o;
}

json::value to_json(const std::vector<media::cache::item>& items) {
    json::array out;
    for (const auto& it : items) {
        json::object o{{"id", it.res.id},
                       {"title", it.res.title},
                       {"subject", it.res.subject},
                       {"grade", it.res.grade},
                       {"type", it.res.type},
                       {"size", it.res.size},
                       {"sha256", it.res.sha256},
                       {"last_used_us", it.last_used_us},
                       {"pinned_until_us", it.pinned_until_us},
                       {"playable", static_cast<int>(it.play)}};
        // The probe is kept in the cache's index as a JSON document of its own.
        boost::system::error_code ec;
        if (!it.probe.empty()) {
            auto probe = json::parse(it.probe, ec);
            if (!ec) o["probe"] = std::move(probe);
        }
        out.push_back(std::move(o));
    }
    return json::object{{"items", std::move(out)}};
}

json::value to_json(const day_plan& d) {
    json::array lessons;
    for (const auto& pl : d.lessons) {
        json::array res;
        for (const auto& r : pl.resources)
            res.push_back(to_json(r));
        const auto& l = pl.l;
        lessons.push_back(json::object{{"uid", l.uid},
                                       {"summary", l.summary},
                                       {"location", l.location},
                                       {"start", l.start},
                                       {"end", l.end},
                                       {"record", l.record},
                                       {"ready", pl.ready},
                                       {"resources", std::move(res)}});
    }
    return json::object{{"date", d.date},   {"utc_offset_minutes", d.utc_offset_minutes},
                        {"kept", d.kept},   {"fetched_us", d.fetched_us},
                        {"error", d.error}, {"lessons", std::move(lessons)}};
}

std::string id_of(const json::object& params) {
    const auto* id = params.if_contains("id");
    return id && id->is_string() ? std::string(id->as_string()) : std::string();
}

// cache.get: {"id": "..."}.
json_result cache_get(courseware_service& c, json::object params) {
    auto r = co_await c.get(id_of(params));
    if (!r) co_return r.error();
    co_return json::value(to_json(*r));
}

// cache.pin: {"id": "...", "hours": 24}; also the county's courseware.prefetch.
json_result cache_pin(courseware_service& c, json::object params) {
    int64_t hours = 24;
    if (const auto* h = params.if_contains("hours"); h && h->is_int64()) hours = h->as_int64();
    auto r = co_await c.pin(id_of(params), hours);
    if (!r) co_return r.error();
    if (r->is == resource_state::state::ready && r->path.empty()) {
        co_return json::value(json::object{{"id", r->id}, {"pinned_until_us", r->pinned_until_us}});
    }
    co_return json::value(to_json(*r));
}

// cache.evict: {"id": "...", "force": true}.
json_result cache_evict(courseware_service& c, json::object params) {
    bool force = false;
    if (const auto* f = params.if_contains("force"); f && f->is_bool()) force = f->as_bool();
    auto id = id_of(params);
    auto r = co_await c.evict(id, force);
    if (!r) co_return r.error();
    co_return json::value(json::object{{"id", id}, {"evicted", true}});
}

json_result cache_status_json(courseware_service& c) {
    auto s = co_await c.status();
    if (!s) co_return s.error();
    co_return to_json(*s);
}

json_result cache_list(courseware_service& c) {
    auto l = co_await c.list();
    if (!l) co_return l.error();
    co_return to_json(*l);
}

json_result cache_verify(courseware_service& c) {
    auto v = co_await c.verify();
    if (!v) co_return v.error();
    co_return json::value(json::object{{"checked", v->checked}, {"removed", json::value_from(v->removed)}});
}

// timetable: {"days": N}, from today.
json_result timetable_json(courseware_service& c, json::object params) {
    int64_t days = 0;
    if (const auto* d = params.if_contains("days"); d && d->is_int64()) days = d->as_int64();
    auto plan = co_await c.timetable(days);
    if (!plan) co_return plan.error();
    co_return to_json(*plan);
}

json_result status_json(agent_parts& p) {
    json::object o;
    o["version"] = bbt_version();
    o["pid"] = static_cast<int64_t>(::getpid());
    o["uptime_s"] = static_cast<double>((clock::monotonic_now() - p.started_mono).count()) / 1e6;
    o["started_at"] = clock::format_local(p.started_wall);
    o["state_dir"] = p.cfg.state_dir.string();
    o["board"] = json::object{{"name", p.profile.name},
                              {"description", p.profile.description},
                              {"description_zh", p.profile.description_zh},
                              {"simulated", p.profile.simulated}};
    json::array services;
    for (const auto& s : p.registry.status()) {
        json::object so{{"name", s.name}, {"state", to_string(s.state)}};
        if (!s.error.empty()) so["error"] = s.error;
        services.push_back(std::move(so));
    }
    o["services"] = std::move(services);
    o["whiteboard"] = to_json(p.whiteboard.status());
    auto county = co_await p.county.status();
    o["county"] = to_json(county);
    o["clock"] = json::object{{"synchronized", clock::wall_clock_synchronized()}, {"jumps", p.ledger.clock_jumps()}};
    json::object today;
    auto wall = clock::wall_now();
    today["day"] = clock::local_day(wall);
    json::array usage;
    auto rows = co_await p.ledger.usage(clock::local_day_start(wall), wall);
    if (rows) {
        for (const auto& r : *rows) {
            usage.push_back(json::object{
                {"device", r.device}, {"state", r.state}, {"seconds", static_cast<double>(r.microseconds) / 1e6}});
        }
    } else {
        today["error"] = rows.error().what();
    }
    today["usage"] = std::move(usage);
    o["today"] = std::move(today);
    co_return json::value(std::move(o));
}

// Hours in each state per device per local day, for the last `days` days
// (today included).
json_result usage_json(json::object params, ledger_service& ledger) {
    int64_t days = 7;
    if (const auto* d = params.if_contains("days")) {
        if (!d->is_int64() || d->as_int64() < 1 || d->as_int64() > 366) {
            co_return malformed(
                i18n::text({"\"days\" must be a whole number from 1 to 366", "“days”必须是 1 到 366 的整数"}));
        }
        days = d->as_int64();
    }
    auto wall = clock::wall_now();
    auto from = clock::local_day_start(wall);
    for (int64_t i = 1; i < days; ++i)
        from = clock::local_day_start(from - std::chrono::hours(1));
    auto rows = co_await ledger.usage(from, wall);
    if (!rows) co_return rows.error();
    json::array out;
    for (const auto& r : *rows) {
        out.push_back(json::object{{"day", r.day}, {"device", r.device}, {"state", r.state}, {"hours", r.hours()}});
    }
    co_return json::value(
        json::object{{"from", clock::local_day(from)}, {"to", clock::local_day(wall)}, {"usage", std::move(out)}});
}

// projector.control: {"power": true|false} | {"input": "32"} | {"blank": true|false}.
json_result projector_control(projector_service& p, json::object params) {
    if (!p.configured()) {
        co_return error(protocol::api_errc::unavailable,
                        i18n::text({"no projector is configured ([projector] protocol in agent.toml)",
                                    "未配置投影机（agent.toml 中的 [projector] protocol）"}));
    }
    result<void> r;
    if (const auto* v = params.if_contains("power"); v && v->is_bool()) {
        r = co_await p.set_power(v->as_bool());
    } else if (const auto* in = params.if_contains("input"); in && in->is_string()) {
        std::string code(in->as_string());
        if (!pj::decode_input(code)) {
            co_return malformed(i18n::text({"an input is a PJLink code such as 32 (bbtctl projector probe lists them)",
                                            "输入源须为 PJLink 代码，例如 32（可用 bbtctl projector probe 查看）"}));
        }
        r = co_await p.select_input(code);
    } else if (const auto* b = params.if_contains("blank"); b && b->is_bool()) {
        r = co_await p.blank(b->as_bool());
    } else {
        co_return malformed(i18n::text({"say power, input or blank", "请指定 power、input 或 blank"}));
    }
    if (!r) co_return error(protocol::api_errc::refused, r.error().message());
    co_return to_json(p.status());
}

}  // namespace

protocol::api_errc wire_code(const error& e) {
    using protocol::api_errc;
    const auto& cat = e.code().category();
    int v = e.code().value();
    if (cat == protocol::api_category()) return static_cast<api_errc>(v);
    if (cat == ledger_category()) return api_errc::unavailable;
    if (cat == whiteboard_category()) {
        return static_cast<whiteboard_errc>(v) == whiteboard_errc::bad_request ? api_errc::malformed
                                                                               : api_errc::unavailable;
    }
    if (cat == county_category()) {
        switch (static_cast<county_errc>(v)) {
            case county_errc::not_configured: return api_errc::unavailable;
            case county_errc::bad_request: return api_errc::malformed;
            case county_errc::refused: return api_errc::refused;
            case county_errc::bad_answer: return api_errc::internal;
        }
    }
    return api_errc::internal;
}

std::map<std::string, std::string> set_health(const agent_parts& p) {
    std::map<std::string, std::string> h{{"agent", "ok"}, {"classroom", std::string(to_string(p.classroom.state()))}};
    if (p.whiteboard.configured()) h["whiteboard"] = p.whiteboard.state();
    if (p.projector.configured() && p.projector.state() != wire::projector_state::unknown) {
        h["projector"] = std::string(wire::to_string(p.projector.state()));
    }
    return h;
}

std::vector<wire::device> set_inventory(const agent_parts& p) {
    std::vector<wire::device> devices{p.pc};
    if (auto d = p.projector.identity()) devices.push_back(*d);
    if (auto d = p.whiteboard.identity()) devices.push_back(*d);
    // Cameras and sound cards, for recording lessons: where they are is part of the model.
    auto add = [&devices](const board::local_device& d) {
        auto kind = d.kind == board::capture_kind::camera ? wire::device_kind::camera : wire::device_kind::microphone;
        devices.push_back({kind, d.driver, d.name + " (" + d.node + ")", "", ""});
    };
    for (const auto& d : board::find_cameras())
        add(d);
    for (const auto& d : board::find_sound_cards())
        add(d);
    return devices;
}

void add_api_routes(local_api_server& api, agent_parts& p) {
    api.map_errors(wire_code);
    auto value = [](json::value v) -> json_result { co_return v; };
    // What teachers may do; everything else needs a technician.
    constexpr auto teacher = api_role::teacher;
    api.handle(
        "status", [&p](const json::object&) { return status_json(p); }, teacher);
    if (p.cfg.debug_commands) {
        // Stalls the control loop, as a bug would: the watchdog must then reset the set.
        api.handle("debug.hang", [](const json::object& params) -> json_result {
            double seconds = 30;
            if (const auto* s = params.if_contains("seconds"); s && s->is_number()) seconds = s->to_number<double>();
            log::warning(lg, "debug.hang: the control loop stops for {} s", seconds);
            std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(seconds, 0.0, 600.0)));
            co_return json::value(json::object{{"hung_s", seconds}});
        });
    }
    api.handle(
        "inventory",
        [&p, value](const json::object&) {
            json::array out;
            for (const auto& d : set_inventory(p))
                out.push_back(to_json(d));
            return value(json::object{{"devices", std::move(out)}});
        },
        teacher);
    api.handle(
        "usage", [&p](const json::object& params) { return usage_json(params, p.ledger); }, teacher);

    auto& county = p.county;
    api.handle("county.enrol", [&county](const json::object& params) { return county_enrol(county, params); });
    api.handle(
        "county.status", [&county](const json::object&) { return county_status_json(county); }, teacher);

    auto& board = p.whiteboard;
    api.handle(
        "whiteboard.status", [&board, value](const json::object&) { return value(to_json(board.status())); }, teacher);
    api.handle("whiteboard.calibrate",
               [&board](const json::object& params) { return whiteboard_calibrate(board, params); });
    api.handle("whiteboard.record", [&board](const json::object& params) { return whiteboard_record(board, params); });

    auto& classroom = p.classroom;
    api.handle(
        "class.start",
        [&classroom, value](const json::object&) { return value(to_json(classroom.request(true, "bbtctl"))); },
        teacher);
    api.handle(
        "class.end",
        [&classroom, value](const json::object&) { return value(to_json(classroom.request(false, "bbtctl"))); },
        teacher);
    api.handle(
        "class.key", [&classroom, value](const json::object&) { return value(to_json(classroom.key("key"))); },
        teacher);
    api.handle(
        "class.status", [&classroom, value](const json::object&) { return value(to_json(classroom.status())); },
        teacher);

    auto& projector = p.projector;
    api.handle(
        "projector.status", [&projector, value](const json::object&) { return value(to_json(projector.status())); },
        teacher);
    // A teacher may blank the picture; power and the input are the technician's settings.
    api.handle(
        "projector.control", [&projector](const json::object& params) { return projector_control(projector, params); },
        [](const json::object& params) {
            return params.size() == 1 && params.contains("blank") ? api_role::teacher : api_role::technician;
        });

    if (auto* recorder = p.recorder) {
        api.handle(
            "record.start", [recorder](const json::object& params) { return record_start(*recorder, params); },
            teacher);
        // Stopping a lesson the timetable records (force) is a technician's call.
        api.handle(
            "record.stop", [recorder](const json::object& params) { return record_stop(*recorder, params); },
            [](const json::object& params) {
                const auto* force = params.if_contains("force");
                return force && force->is_bool() && force->as_bool() ? api_role::technician : api_role::teacher;
            });
        api.handle(
            "record.status", [recorder, value](const json::object&) { return value(to_json(recorder->status())); },
            teacher);
        api.handle("record.ls", [recorder](const json::object&) -> json_result {
            auto l = recorder->list();
            if (!l) co_return l.error();
            co_return to_json(*l);
        });
    }
    if (auto* courseware = p.courseware) {
        api.handle(
            "cache.status", [courseware](const json::object&) { return cache_status_json(*courseware); }, teacher);
        api.handle(
            "cache.ls", [courseware](const json::object&) { return cache_list(*courseware); }, teacher);
        api.handle(
            "cache.get", [courseware](const json::object& params) { return cache_get(*courseware, params); }, teacher);
        api.handle("cache.pin", [courseware](const json::object& params) { return cache_pin(*courseware, params); });
        api.handle("cache.evict",
                   [courseware](const json::object& params) { return cache_evict(*courseware, params); });
        api.handle("cache.verify", [courseware](const json::object&) { return cache_verify(*courseware); });
        api.handle("cache.refresh", [courseware, value](const json::object&) {
            courseware->refresh();
            return value(json::object{{"ok", true}});
        });
        api.handle(
            "timetable", [courseware](const json::object& params) { return timetable_json(*courseware, params); },
            teacher);
    }
}

county_service::command_handler county_commands(agent_parts& p) {
    return [&p](wire::command c) -> asio::awaitable<result<std::string>> {
        if (c.verb == "class.start" || c.verb == "class.end") {
            auto s = p.classroom.request(c.verb == "class.start", "the county");
            co_return fmt::format("class goal {}, now {}", s.goal_class ? "in-class" : "idle", to_string(s.state));
        }
        if (c.verb == "projector.power") {
            const auto* on = c.args.if_contains("on");
            if (!on || !on->is_bool()) co_return malformed("projector.power needs {\"on\": true|false}");
            if (!p.projector.configured()) {
                co_return error(protocol::api_errc::unavailable, "no projector is configured on this set");
            }
            auto r = co_await p.projector.set_power(on->as_bool());
            if (!r) co_return r.error();
            co_return std::string(on->as_bool() ? "projector switched on" : "projector switched off");
        }
        if (c.verb == "courseware.prefetch" && p.courseware != nullptr) {
            auto r = co_await cache_pin(*p.courseware, c.args);
            if (!r) co_return r.error();
            co_return fmt::format("courseware {}", json::serialize(*r));
        }
        co_return error(protocol::api_errc::unavailable, fmt::format("{} is not available on this set yet", c.verb));
    };
}

}  // namespace bbt::agent
