#include "bbt/agent/daemon.hpp"

#include "bbt/agent/classroom_controller.hpp"
#include "bbt/agent/county_service.hpp"
#include "bbt/agent/courseware_service.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/local_api_server.hpp"
#include "bbt/agent/notify.hpp"
#include "bbt/agent/projector_service.hpp"
#include "bbt/agent/recording_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/agent/whiteboard_service.hpp"
#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/board/gpio.hpp"
#include "bbt/board/local_devices.hpp"
#include "bbt/board/profile.hpp"
#include "bbt/board/relays.hpp"
#include "bbt/board/watchdog.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

namespace bbt::agent {
namespace {

const log::category lg{"agent"};
namespace json = boost::json;

// The board: its profile, and the set's own state in the ledger.
class board_service final : public service {
public:
    board_service(board::profile p, ledger_service& l) : profile_(std::move(p)), ledger_(l) {}
    std::string_view name() const override { return "board"; }
    asio::awaitable<result<void>> start() override {
        // The set is on for as long as its agent runs.
        ledger_.record("set", "on");
        co_return result<void>{};
    }
    asio::awaitable<void> stop() override { co_return; }
    const board::profile& profile() const { return profile_; }

private:
    board::profile profile_;
    ledger_service& ledger_;
};

// The set's computer, as its firmware describes it (DMI; the serial number
// is readable by root only, else left empty).
protocol::county::device pc_identity(const std::string& board) {
    auto dmi = [](const char* name) {
        std::ifstream in(std::string("/sys/class/dmi/id/") + name);
        std::string v;
        std::getline(in, v);
        return v;
    };
    return {"pc", dmi("sys_vendor"), dmi("product_name") + " (board " + board + ")", dmi("product_serial"),
            dmi("bios_version")};
}

result<void> ensure_state_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return errno_error(
            ec.value(),
            i18n::text({"creating the state directory (agent.state_dir)", "创建状态目录（agent.state_dir）"}),
            dir.string());
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        return errno_error(
            errno, i18n::text({"writing to the state directory (agent.state_dir)", "写入状态目录（agent.state_dir）"}),
            dir.string());
    }
    return {};
}

asio::awaitable<result<json::value>> status_json(const agent_config& cfg, const board::profile& profile,
                                                 const service_registry& registry, ledger_service& ledger_svc,
                                                 const whiteboard_service& whiteboard, county_service& county,
                                                 clock::microseconds started_mono, clock::microseconds started_wall) {
    json::object o;
    o["version"] = bbt_version();
    o["pid"] = static_cast<int64_t>(::getpid());
    o["uptime_s"] = static_cast<double>((clock::monotonic_now() - started_mono).count()) / 1e6;
    o["started_at"] = clock::format_local(started_wall);
    o["state_dir"] = cfg.state_dir.string();
    o["board"] = json::object{{"name", profile.name},
                              {"description", profile.description},
                              {"description_zh", profile.description_zh},
                              {"simulated", profile.simulated}};
    json::array services;
    for (const auto& s : registry.status()) {
        json::object so{{"name", s.name}, {"state", to_string(s.state)}};
        if (!s.error.empty()) so["error"] = s.error;
        services.push_back(std::move(so));
    }
    o["services"] = std::move(services);
    o["whiteboard"] = whiteboard.status();
    if (auto c = co_await county.status()) o["county"] = std::move(*c);
    o["clock"] = json::object{{"synchronized", clock::wall_clock_synchronized()}, {"jumps", ledger_svc.clock_jumps()}};
    json::object today;
    auto wall = clock::wall_now();
    today["day"] = clock::local_day(wall);
    json::array usage;
    auto rows = co_await ledger_svc.usage(clock::local_day_start(wall), wall);
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
asio::awaitable<result<json::value>> usage_json(json::object params, ledger_service& ledger_svc) {
    int64_t days = 7;
    if (const auto* d = params.if_contains("days")) {
        if (!d->is_int64() || d->as_int64() < 1 || d->as_int64() > 366) {
            co_return error(protocol::api_errc::malformed, i18n::text({"\"days\" must be a whole number from 1 to 366",
                                                                       "“days”必须是 1 到 366 的整数"}));
        }
        days = d->as_int64();
    }
    auto wall = clock::wall_now();
    auto from = clock::local_day_start(wall);
    for (int64_t i = 1; i < days; ++i)
        from = clock::local_day_start(from - std::chrono::hours(1));
    auto rows = co_await ledger_svc.usage(from, wall);
    if (!rows) co_return rows.error();
    json::array out;
    for (const auto& r : *rows) {
        out.push_back(json::object{{"day", r.day}, {"device", r.device}, {"state", r.state}, {"hours", r.hours()}});
    }
    co_return json::value(
        json::object{{"from", clock::local_day(from)}, {"to", clock::local_day(wall)}, {"usage", std::move(out)}});
}

// The hardware watchdog, fed from the control loop: a loop that hangs stops
// feeding it, and the set resets.
asio::awaitable<void> hardware_watchdog_loop(board::watchdog& dog) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
        if (auto r = dog.feed(); !r) log::error(lg, "{}", r.error().what());
        t.expires_after(dog.timeout() / 4);
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
    }
}

asio::awaitable<void> watchdog_loop(std::chrono::microseconds interval) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
        notify::watchdog();
        t.expires_after(interval / 2);
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
    }
}

// projector.control: {"power": true|false} | {"input": "32"} | {"blank": true|false}.
asio::awaitable<result<json::value>> projector_control(projector_service& p, json::object params) {
    auto refuse = [](std::string_view why) { return error(protocol::api_errc::malformed, why); };
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
        if (!drivers::pjlink::decode_input(code)) {
            co_return refuse(i18n::text({"an input is a PJLink code such as 32 (bbtctl projector probe lists them)",
                                         "输入源须为 PJLink 代码，例如 32（可用 bbtctl projector probe 查看）"}));
        }
        r = co_await p.select_input(code);
    } else if (const auto* b = params.if_contains("blank"); b && b->is_bool()) {
        r = co_await p.blank(b->as_bool());
    } else {
        co_return refuse(i18n::text({"say power, input or blank", "请指定 power、input 或 blank"}));
    }
    if (!r) co_return error(protocol::api_errc::refused, r.error().message());
    p.poll_soon();
    co_return json::value(p.status());
}

}  // namespace

int run_daemon(const agent_config& cfg) {
    auto started_mono = clock::monotonic_now();
    auto started_wall = clock::wall_now();

    auto profile = board::find_profile(cfg.board);
    if (!profile) {
        log::error(lg, "agent.board: {}", profile.error().what());
        return exit_config;
    }
    if (auto r = ensure_state_dir(cfg.state_dir); !r) {
        log::error(lg, "{}", r.error().what());
        return exit_failure;
    }

    // Declared first, destroyed last: every I/O object below must die before
    // the context whose services it uses.
    asio::io_context ioc(1);
    auto ex = ioc.get_executor();
    service_registry registry(ex);

    auto& ledger_svc = registry.add(std::make_unique<ledger_service>(ex, cfg.state_dir / "ledger.db", cfg.heartbeat));
    auto& board_svc = registry.add(std::make_unique<board_service>(*profile, ledger_svc));
    auto& whiteboard_svc =
        registry.add(std::make_unique<whiteboard_service>(ex, cfg.whiteboard, ledger_svc, cfg.state_dir));
    auto& projector_svc = registry.add(std::make_unique<projector_service>(ex, cfg.projector, ledger_svc));
    // The simulated board's mains relays keep their history beside the ledger.
    // Its front panel takes key presses as lines ("class") written into the FIFO `panel`.
    std::unique_ptr<board::relay_bank> relays;
    std::unique_ptr<board::panel> panel;
    if (profile->simulated) {
        relays = std::make_unique<board::sim_relays>(cfg.state_dir / "relays.log");
        if (auto p = board::sim_panel::open(cfg.state_dir / "panel", cfg.state_dir / "panel.log")) {
            panel = std::move(*p);
        } else {
            log::error(lg, "the simulated front panel: {}", p.error().what());
        }
    } else if (profile->gpio) {
        // Without its relays the class still runs; mains are then switched by hand.
        if (auto r = board::open_gpio_relays(cfg.gpio)) {
            relays = std::move(*r);
        } else {
            log::error(lg, "the control board's relays: {}", r.error().what());
        }
        if (auto p = board::open_gpio_panel(cfg.gpio)) {
            panel = std::move(*p);
        } else {
            log::error(lg, "the control board's class key and LEDs: {}", p.error().what());
        }
    }
    auto& classroom =
        registry.add(std::make_unique<classroom_controller>(ex, projector_svc, relays.get(), panel.get(), ledger_svc));
    auto health = [&whiteboard_svc, &projector_svc, &classroom]() {
        std::map<std::string, std::string> h{{"agent", "ok"}, {"classroom", classroom.state()}};
        auto wb = whiteboard_svc.status();
        if (wb.at("configured").as_bool()) h["whiteboard"] = std::string(wb.at("state").as_string());
        if (projector_svc.configured() && !projector_svc.state().empty()) h["projector"] = projector_svc.state();
        return h;
    };
    auto lamps = [&projector_svc]() { return projector_svc.lamps(); };
    auto inventory = [&whiteboard_svc, &projector_svc, pc = pc_identity(profile->name)]() {
        std::vector<protocol::county::device> devices{pc};
        if (auto p = projector_svc.identity()) devices.push_back(*p);
        auto wb = whiteboard_svc.status();
        if (const auto* id = wb.if_contains("identity"); id && id->is_object()) {
            const auto& i = id->as_object();
            auto text = [&](const char* k) { return std::string(i.at(k).as_string()); };
            devices.push_back({"whiteboard", text("manufacturer").empty() ? text("vendor") : text("manufacturer"),
                               text("vendor") + ":" + text("product") + " " + text("product_name"), text("serial"),
                               ""});
        }
        // Cameras and sound cards, for recording lessons: where they are is part of the model.
        for (const auto& d : board::find_cameras())
            devices.push_back({d.kind, d.driver, d.name + " (" + d.node + ")", "", ""});
        for (const auto& d : board::find_sound_cards())
            devices.push_back({d.kind, d.driver, d.name + " (" + d.node + ")", "", ""});
        return devices;
    };
    auto& county_svc = registry.add(
        std::make_unique<county_service>(ex, cfg.county, ledger_svc, cfg.state_dir, health, inventory, lamps));

    courseware_service* courseware = nullptr;
    if (cfg.cache.enabled) {
        courseware = &registry.add(std::make_unique<courseware_service>(
            ex, cfg.cache, cfg.state_dir, ledger_svc,
            [&county_svc](std::string path, std::string etag) { return county_svc.fetch(path, etag); }));
    }

    recording_service* recorder = nullptr;
    if (cfg.recorder.enabled) {
        recording_service::links with;
        with.send = [&county_svc](protocol::https_request r) { return county_svc.send(std::move(r)); };
        with.lesson_on = [&classroom, courseware] {
            return classroom.state() == "in-class" || (courseware != nullptr && courseware->lesson_on());
        };
        if (courseware != nullptr) with.lessons = [courseware] { return courseware->known_lessons(); };
        with.class_on = [&classroom] {
            const auto& s = classroom.state();
            return s == "starting" || s == "in-class" || s == "fault";
        };
        recorder = &registry.add(std::make_unique<recording_service>(ex, cfg.recorder, ledger_svc, std::move(with)));
        county_svc.on_enrolled([recorder] { recorder->wake_uploads(); });
    }

    // What the county may ask of the set (the verbs are checked against the
    // allowlist before this is reached).
    county_svc.on_command([&](protocol::county::command c) -> asio::awaitable<result<std::string>> {
        if (c.verb == "class.start" || c.verb == "class.end") {
            auto s = classroom.request(c.verb == "class.start", "the county");
            co_return fmt::format("class goal {}, now {}", std::string_view(s.at("goal").as_string()),
                                  std::string_view(s.at("state").as_string()));
        }
        if (c.verb == "projector.power") {
            const auto* on = c.args.if_contains("on");
            if (!on || !on->is_bool()) {
                co_return error(protocol::api_errc::malformed, "projector.power needs {\"on\": true|false}");
            }
            if (!projector_svc.configured()) {
                co_return error(protocol::api_errc::unavailable, "no projector is configured on this set");
            }
            auto r = co_await projector_svc.set_power(on->as_bool());
            if (!r) co_return r.error();
            co_return std::string(on->as_bool() ? "projector switched on" : "projector switched off");
        }
        if (c.verb == "courseware.prefetch" && courseware != nullptr) {
            auto r = co_await courseware->pin(c.args);
            if (!r) co_return r.error();
            co_return fmt::format("courseware {}", json::serialize(*r));
        }
        co_return error(protocol::api_errc::unavailable, fmt::format("{} is not available on this set yet", c.verb));
    });

    std::vector<std::string> unknown;
    auto policy = peer_policy::from_names(cfg.allow_users, cfg.allow_groups, unknown);
    for (const auto& name : unknown) {
        log::warning(lg, "api.allow_users/allow_groups: no user or group is named \"{}\"; it is ignored", name);
    }
    auto& api = registry.add(std::make_unique<local_api_server>(ex, cfg.socket, std::move(policy)));
    // The hardware watchdog is armed once the agent is up, and fed from then on.
    std::unique_ptr<board::watchdog> dog;
    if (!cfg.watchdog.empty()) {
        if (auto w = board::watchdog::open(cfg.watchdog,
                                           std::chrono::duration_cast<std::chrono::seconds>(cfg.watchdog_timeout))) {
            dog = std::move(*w);
            log::info(lg, "watchdog {} armed, timeout {} s", cfg.watchdog.string(), dog->timeout().count());
        } else {
            log::error(lg, "{}", w.error().what());
        }
    }
    api.handle("status", [&](const json::object&) {
        return status_json(cfg, board_svc.profile(), registry, ledger_svc, whiteboard_svc, county_svc, started_mono,
                           started_wall);
    });
    if (cfg.debug_commands) {
        // Stalls the control loop, as a bug would: the watchdog must then reset the set.
        api.handle("debug.hang", [&](const json::object& params) -> asio::awaitable<result<json::value>> {
            double seconds = 30;
            if (const auto* s = params.if_contains("seconds"); s && s->is_number()) seconds = s->to_number<double>();
            log::warning(lg, "debug.hang: the control loop stops for {} s", seconds);
            std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(seconds, 0.0, 600.0)));
            co_return json::value(json::object{{"hung_s", seconds}});
        });
    }
    api.handle("inventory", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        json::array out;
        for (const auto& d : inventory()) {
            out.push_back(json::object{{"kind", d.kind},
                                       {"vendor", d.vendor},
                                       {"model", d.model},
                                       {"serial", d.serial},
                                       {"firmware", d.firmware}});
        }
        co_return json::value(json::object{{"devices", std::move(out)}});
    });
    api.handle("county.enrol", [&](const json::object& params) { return county_svc.enrol(params); });
    api.handle("county.status", [&](const json::object&) { return county_svc.status(); });
    api.handle("whiteboard.status", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(whiteboard_svc.status());
    });
    api.handle("whiteboard.calibrate", [&](const json::object& params) { return whiteboard_svc.calibrate(params); });
    api.handle("whiteboard.record", [&](const json::object& params) { return whiteboard_svc.record(params); });
    api.handle("usage", [&](const json::object& params) { return usage_json(params, ledger_svc); });
    api.handle("class.start", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(classroom.request(true, "bbtctl"));
    });
    api.handle("class.end", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(classroom.request(false, "bbtctl"));
    });
    api.handle("class.key", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(classroom.key("key"));
    });
    api.handle("class.status", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(classroom.status());
    });
    api.handle("projector.status", [&](const json::object&) -> asio::awaitable<result<json::value>> {
        co_return json::value(projector_svc.status());
    });
    api.handle("projector.control",
               [&](const json::object& params) { return projector_control(projector_svc, params); });
    if (recorder != nullptr) {
        api.handle("record.start", [&](const json::object& params) { return recorder->start_recording(params); });
        api.handle("record.stop", [&](const json::object& params) { return recorder->stop_recording(params); });
        api.handle("record.status",
                   [&](const json::object&) -> asio::awaitable<result<json::value>> { co_return recorder->status(); });
        api.handle("record.ls",
                   [&](const json::object&) -> asio::awaitable<result<json::value>> { co_return recorder->list(); });
    }
    if (courseware != nullptr) {
        api.handle("cache.status", [&](const json::object&) { return courseware->status(); });
        api.handle("cache.ls", [&](const json::object&) { return courseware->list(); });
        api.handle("cache.get", [&](const json::object& params) { return courseware->get(params); });
        api.handle("cache.pin", [&](const json::object& params) { return courseware->pin(params); });
        api.handle("cache.evict", [&](const json::object& params) { return courseware->evict(params); });
        api.handle("cache.verify", [&](const json::object&) { return courseware->verify(); });
        api.handle("cache.refresh", [&](const json::object&) { return courseware->refresh(); });
        api.handle("timetable", [&](const json::object& params) { return courseware->timetable(params); });
    }

    int code = exit_ok;
    asio::signal_set signals(ex, SIGTERM, SIGINT);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
            if (auto r = co_await registry.start_all(cfg.stop_timeout); !r) {
                log::error(lg, "{}", r.error().what());
                code = exit_failure;
                ioc.stop();
                co_return;
            }
            notify::ready(fmt::format("running on board profile {}", profile->name));
            log::notice(lg, "bbt-agent {} ready (board {}, state in {}, API on {})", bbt_version(), profile->name,
                        cfg.state_dir.string(), cfg.socket.string());
            if (auto interval = notify::watchdog_interval()) {
                asio::co_spawn(ex, watchdog_loop(*interval), asio::detached);
            }
            if (dog) asio::co_spawn(ex, hardware_watchdog_loop(*dog), asio::detached);
            auto [ec, signo] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
            log::notice(lg, "{} received; stopping (deadline {} ms)", signo == SIGINT ? "SIGINT" : "SIGTERM",
                        cfg.stop_timeout.count());
            notify::stopping();
            // A second signal while stopping ends the wait at once.
            signals.async_wait([&](boost::system::error_code e, int) {
                if (!e) {
                    log::warning(lg, "second signal: stopping now");
                    code = exit_stop_timeout;
                    ioc.stop();
                }
            });
            if (auto r = co_await registry.stop_all(cfg.stop_timeout); !r) {
                log::error(lg, "{}", r.error().what());
                code = exit_stop_timeout;
            }
            log::notice(lg, "stopped");
            ioc.stop();
        },
        [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    log::error(lg, "control loop failed: {}", x.what());
                }
                code = exit_failure;
                ioc.stop();
            }
        });
    ioc.run();
    if (code == exit_stop_timeout) {
        // A service was abandoned mid-stop: its coroutine still refers to it,
        // so tearing the objects down could touch freed memory. The ledger
        // is closed by now; leave without destructors.
        ::_exit(code);
    }
    return code;
}

}  // namespace bbt::agent
